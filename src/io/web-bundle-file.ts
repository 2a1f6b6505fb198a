/**
 * Model bundles in Node: the one-file form of a model that pages save with `modelToBlob`
 * and load with `loadModel` (a model directory's model.safetensors with config.json in its
 * `__metadata__.rnnkit_config`; see src/web/model-io.ts). Node-only (a file system);
 * pages use the byte functions of src/web/model-io.ts.
 *
 *   await saveModelBundle(model, 'moby.rnnkit.safetensors');   // written atomically
 *   const model = await loadModelBundle('moby.rnnkit.safetensors');
 *   await bundleToDirectory('moby.rnnkit.safetensors', 'moby/'); // what `model.save(dir)` writes
 */
import { readRegularFile } from './regular-file.js';
import type { BackendName } from '../backend/contract.js';
import { defaultTraining } from '../backend/load.js';
import { RnnModel } from '../models/model.js';
import { decodeModelBundle, encodeModelBundle } from '../web/model-io.js';
import type { LoadedModel } from './model-bytes.js';
import { safetensorsProducer, saveModelFiles } from './model-file.js';
import { PRODUCER } from './model-bytes.js';
import { stat } from 'node:fs/promises';
import { writeFileAtomic } from './safetensors-file.js';

/** Write `model` as a bundle file (atomically: the old file or the new one, never half of one). */
export async function saveModelBundle(model: RnnModel, file: string): Promise<void> {
  if (!(model instanceof RnnModel)) throw new TypeError('model must be an RnnModel');
  if (typeof file !== 'string' || file === '') throw new TypeError('file must be a non-empty path');
  const bytes = encodeModelBundle(model.spec, model.getParams(), model.extra);
  // Replacing another program's file would lose it (model.save refuses the same way).
  const producer = await safetensorsProducer(file);
  if (producer !== undefined && producer !== PRODUCER && (await stat(file)).size > 0) {
    throw new Error(`${file} exists and was not written by rnnkit: refusing to replace it with a model bundle (save to another file, or move it away)`);
  }
  await writeFileAtomic(file, bytes);
}

/** Read and validate a bundle file: spec, parameters and extra settings. */
export async function readModelBundle(file: string): Promise<LoadedModel> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file);
  } catch (e) {
    throw new Error(`${file}: cannot read the model bundle (${(e as Error).message})`, { cause: e });
  }
  return decodeModelBundle(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}

/** Load a bundle file as a model (on `backend`, default the fastest that loads). */
export async function loadModelBundle(file: string, options: { backend?: BackendName } = {}): Promise<RnnModel> {
  const { spec, params, extra } = await readModelBundle(file);
  const model = new RnnModel(await defaultTraining(options.backend), spec, params);
  model.extra = extra;
  return model;
}

/** Unpack a bundle file into a model directory (config.json + model.safetensors), as `model.save(dir)` writes it. */
export async function bundleToDirectory(file: string, dir: string): Promise<void> {
  const { spec, params, extra } = await readModelBundle(file);
  await saveModelFiles(dir, spec, params, extra);
}
