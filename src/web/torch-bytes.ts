/**
 * PyTorch `nn.RNN` / `nn.LSTM` / `nn.GRU` weights from and to safetensors bytes — what
 * Node's `importTorchRnn(file)` / `exportTorchRnn(file, …)` do, without the file system:
 * the bytes come from a fetch, a file input or a drop, and go to a Blob for download.
 * Pure and synchronous, so Node can use them too.
 */
import type { StackSpec } from '../backend/contract.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { stackFromTensors, stackToTensors, torchMetadata, withRecordedCell, type ImportedStack, type TorchImportOptions } from '../io/torch.js';

/**
 * A stack from a PyTorch RNN module's `state_dict` saved with
 * `safetensors.torch.save_file` (every check of `importTorchRnn`); `source` names the bytes
 * in errors.
 */
export function decodeTorchRnn(bytes: Uint8Array, options: TorchImportOptions = {}, source = 'safetensors'): ImportedStack {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array (new Uint8Array(await blob.arrayBuffer()))');
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  return stackFromTensors(tensors, withRecordedCell(options, metadata, source), source);
}

/** A stack's weights as safetensors bytes that `nn.RNN/LSTM/GRU.load_state_dict` accepts (names with `prefix`). */
export function encodeTorchRnn(spec: StackSpec, params: Float32Array, prefix = ''): Uint8Array {
  return encodeSafetensors(stackToTensors(spec, params, prefix), torchMetadata(spec));
}
