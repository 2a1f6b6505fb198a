/**
 * Saving and loading model directories (Node): `config.json` and `model.safetensors`, as
 * model-bytes.ts encodes and decodes them, made current together by one atomic rename
 * (atomic-dir.ts: `dir/.rnnkit/<save>/` holds each save, `dir/config.json` and
 * `dir/model.safetensors` are links into the current one). A reader sees one save, never
 * the config of one and the weights of another, however a save was interrupted. Plain
 * directories — older rnnkit, PyTorch users, by hand — load as they are, and can be saved
 * over.
 */
import { open } from 'node:fs/promises';
import { readRegularFile, requireRegularFile } from './regular-file.js';
import path from 'node:path';
import type { ModelSpec } from '../backend/contract.js';
import { readUnit, UnitReadError, writeUnit, type WriteUnitOptions } from './atomic-dir.js';
import { CONFIG_FILE, decodeModel, encodeModel, isModelConfigText, PRODUCER, WEIGHTS_FILE, type LoadedModel, type ModelBytes } from './model-bytes.js';
import { MAX_HEADER_BYTES } from './safetensors.js';

export { CONFIG_FILE, WEIGHTS_FILE } from './model-bytes.js';
export type { LoadedModel, ModelConfig } from './model-bytes.js';

/**
 * Write `dir/config.json` and `dir/model.safetensors`, both current by one atomic rename.
 * Refuses (see {@link checkModelSaveTarget}) a directory holding someone else's files of
 * those names. The bytes are encoded before the first await: what is saved is the model
 * as it was when this was called.
 */
export async function saveModelFiles(
  dir: string, spec: ModelSpec, params: Float32Array, extra: Record<string, unknown> = {}, options: WriteUnitOptions = {},
): Promise<void> {
  await saveModelBytes(dir, encodeModel(spec, params, extra), options);
}

/** {@link saveModelFiles} of a model already encoded (by `encodeModel`). */
export async function saveModelBytes(dir: string, { config, weights }: ModelBytes, options: WriteUnitOptions = {}): Promise<void> {
  // The check joins the directory's queue with the save: awaited before it, saves called in
  // one order could commit in another.
  await writeUnit(dir, { [CONFIG_FILE]: config, [WEIGHTS_FILE]: weights }, { ...options, before: () => checkModelSaveTarget(dir) });
}

/**
 * Refuses (an Error naming the file) to save a model into `dir` when `dir` holds a
 * `config.json` that is not an rnnkit model config (a project's, a Hugging Face model's),
 * or — with no config beside it — a `model.safetensors` that rnnkit did not write: a save
 * replaces the files it finds and the save after it deletes them, so saving there would
 * destroy them. A directory that does not exist, is empty or holds an rnnkit model (of
 * any version) passes. Callers that train before saving (`rnnkit train`) check first.
 */
export async function checkModelSaveTarget(dir: string): Promise<void> {
  const refuse = (name: string, what: string): never => {
    throw new Error(`${path.join(dir, name)} ${what}: refusing to save a model over it (save to another directory, or move the file away)`);
  };
  const config = await readIfPresent(path.join(dir, CONFIG_FILE));
  if (config !== undefined) {
    if (!isModelConfigText(config.toString('utf8'))) refuse(CONFIG_FILE, 'is not an rnnkit model config');
    return;
  }
  const weights = path.join(dir, WEIGHTS_FILE);
  const producer = await safetensorsProducer(weights);
  if (producer !== undefined && producer !== PRODUCER) refuse(WEIGHTS_FILE, `was not written by rnnkit (${producer === null ? 'no producer in its metadata' : `producer ${JSON.stringify(producer)}`}) and has no rnnkit config beside it`);
}

/** The file's bytes, or undefined where there is no such file (or `dir` is not a directory: the save reports that). */
async function readIfPresent(file: string): Promise<Buffer | undefined> {
  try {
    return await readRegularFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'EISDIR') throw new Error(`${file} is a directory: refusing to save a model over it`);
    throw e;
  }
}

/** A safetensors file's `__metadata__.producer`, null when it has none (or is not a safetensors file), undefined when there is no file. */
export async function safetensorsProducer(file: string): Promise<string | null | undefined> {
  let h;
  try {
    await requireRegularFile(file);  // open() of a FIFO waits for a writer
    h = await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await h.read(head, 0, 8, 0);
    if (bytesRead < 8) return null;
    const n = head.readBigUInt64LE(0);
    if (n < 2n || n > BigInt(MAX_HEADER_BYTES)) return null;
    const header = Buffer.alloc(Number(n));
    if ((await h.read(header, 0, header.length, 8)).bytesRead < header.length) return null;
    const producer = (JSON.parse(header.toString('utf8')) as { __metadata__?: { producer?: unknown } }).__metadata__?.producer;
    return typeof producer === 'string' ? producer : null;
  } catch {
    return null;
  } finally {
    await h.close();
  }
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
