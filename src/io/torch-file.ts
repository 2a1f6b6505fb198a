/**
 * PyTorch nn.RNN / nn.LSTM / nn.GRU weights as safetensors files (Node).
 */
import type { StackSpec } from '../backend/contract.js';
import { loadSafetensors, saveSafetensors } from './safetensors-file.js';
import { stackFromTensors, stackToTensors, torchMetadata, withRecordedCell } from './torch.js';
import type { ImportedStack, TorchImportOptions } from './torch.js';

/** Read a PyTorch nn.RNN/LSTM/GRU state_dict saved as safetensors. */
export async function importTorchRnn(file: string, options: TorchImportOptions = {}): Promise<ImportedStack> {
  const { tensors, metadata } = await loadSafetensors(file);
  return stackFromTensors(tensors, withRecordedCell(options, metadata, file), file);
}

/** Write a stack as a safetensors file that `nn.RNN/LSTM/GRU.load_state_dict` accepts (atomically). */
export async function exportTorchRnn(file: string, spec: StackSpec, params: Float32Array, prefix = ''): Promise<void> {
  await saveSafetensors(file, stackToTensors(spec, params, prefix), torchMetadata(spec));
}
