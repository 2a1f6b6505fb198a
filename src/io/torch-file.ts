/**
 * PyTorch nn.RNN / nn.LSTM / nn.GRU weights as files (Node), safetensors or torch.save's
 * format (tensor-file.ts).
 */
import type { StackSpec } from '../backend/contract.js';
import { loadTensorFile, saveTensorFile } from './tensor-file.js';
import { stackFromTensors, stackToTensors, torchMetadata, withRecordedCell } from './torch.js';
import type { ImportedStack, TorchImportOptions } from './torch.js';

/** Read a PyTorch nn.RNN/LSTM/GRU state_dict saved as safetensors or with torch.save. */
export async function importTorchRnn(file: string, options: TorchImportOptions = {}): Promise<ImportedStack> {
  const { tensors, metadata } = await loadTensorFile(file);
  return stackFromTensors(tensors, withRecordedCell(options, metadata, file), file);
}

/**
 * Write a stack's weights as a file that `nn.RNN/LSTM/GRU.load_state_dict` accepts
 * (atomically): torch.save's format for a `.pt` / `.pth` name, else safetensors. Only
 * safetensors records the cell; a `.pt` of an `rnn_relu` or `gru_cho` stack needs
 * `importTorchRnn(file, { cell })` to come back as it was.
 */
export async function exportTorchRnn(file: string, spec: StackSpec, params: Float32Array, prefix = ''): Promise<void> {
  await saveTensorFile(file, stackToTensors(spec, params, prefix), torchMetadata(spec));
}
