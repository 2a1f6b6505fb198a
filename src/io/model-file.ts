/**
 * Saving and loading model directories (Node): `config.json` and `model.safetensors`, as
 * model-bytes.ts encodes and decodes them, made current together by one atomic rename
 * (atomic-dir.ts: `dir/.rnnkit/<save>/` holds each save, `dir/config.json` and
 * `dir/model.safetensors` are links into the current one). A reader sees one save, never
 * the config of one and the weights of another, however a save was interrupted. Plain
 * directories — older rnnkit, PyTorch users, by hand — load as they are, and can be saved
 * over.
 */
import type { ModelSpec } from '../backend/contract.js';
import { readUnit, UnitReadError, writeUnit, type WriteUnitOptions } from './atomic-dir.js';
import { CONFIG_FILE, decodeModel, encodeModel, WEIGHTS_FILE, type LoadedModel } from './model-bytes.js';

export { CONFIG_FILE, WEIGHTS_FILE } from './model-bytes.js';
export type { LoadedModel, ModelConfig } from './model-bytes.js';

/** Write `dir/config.json` and `dir/model.safetensors`, both current by one atomic rename. */
export async function saveModelFiles(
  dir: string, spec: ModelSpec, params: Float32Array, extra: Record<string, unknown> = {}, options: WriteUnitOptions = {},
): Promise<void> {
  const { config, weights } = encodeModel(spec, params, extra);
  await writeUnit(dir, { [CONFIG_FILE]: config, [WEIGHTS_FILE]: weights }, options);
}

/** Read and validate a model directory written by {@link saveModelFiles} (or by hand, or older rnnkit). */
export async function loadModelFiles(dir: string): Promise<LoadedModel> {
  let files;
  try {
    files = await readUnit(dir, [CONFIG_FILE, WEIGHTS_FILE]);
  } catch (e) {
    if (!(e instanceof UnitReadError)) throw e;
    const what = e.file.endsWith(CONFIG_FILE) ? 'the model config' : 'the model weights';
    throw new Error(`${e.file}: cannot read ${what} (${(e.cause as Error).message})`, { cause: e.cause });
  }
  const weights = files.get(WEIGHTS_FILE)!;
  return decodeModel(files.get(CONFIG_FILE)!.toString('utf8'), new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength), dir);
}
