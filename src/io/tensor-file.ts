/**
 * Named float32 tensors in files (Node), in either of the two formats PyTorch users have:
 * safetensors, or what `torch.save(module.state_dict(), path)` writes (a zip archive,
 * torch-save.ts). Reading tells the format by the file's first bytes; writing by the file's
 * name: `.pt` and `.pth` are torch.save's (which PyTorch's own docs use for state dicts and
 * `torch.load` reads without the safetensors package), anything else safetensors.
 */
import path from 'node:path';
import { readWeightsBytes, saveSafetensors, writeFileAtomic } from './safetensors-file.js';
import { decodeSafetensors, isZipArchive, type SafetensorsContent, type Tensor } from './safetensors.js';
import { decodeTorchSave, encodeTorchSave } from './torch-save.js';

/** Whether `file` is written in torch.save's format (its extension). */
export function isTorchSaveName(file: string): boolean {
  return ['.pt', '.pth'].includes(path.extname(file).toLowerCase());
}

/** Write `tensors` atomically, as torch.save would for a `.pt` / `.pth` name (without `metadata`: that format has none), else as safetensors. */
export async function saveTensorFile(file: string, tensors: Tensor[], metadata: Record<string, string> = {}): Promise<void> {
  if (isTorchSaveName(file)) await writeFileAtomic(file, encodeTorchSave(tensors));
  else await saveSafetensors(file, tensors, metadata);
}

export async function loadTensorFile(file: string): Promise<SafetensorsContent> {
  const bytes = await readWeightsBytes(file);
  return isZipArchive(bytes) ? decodeTorchSave(bytes, file) : decodeSafetensors(bytes, file);
}
