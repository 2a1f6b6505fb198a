/**
 * Training checkpoints on disk (Node): everything `fit` needs to carry on exactly where it
 * was — the model (weights, spec, `extra` with its tokenizer), the optimizer's state, and
 * the loop's position (epoch, next batch, the epoch's order, the random stream, counters).
 *
 * Layout: `<dir>/step-<n>/` holds model.safetensors + config.json (a model directory that
 * `RnnModel.load` reads), optimizer.safetensors, fit.json and, between the windows of a
 * batch, carried-state.safetensors, and under early stopping with restore-best,
 * best-epoch.safetensors (the best epoch's parameters); `<dir>/latest` names the newest. Each step-<n> is one
 * unit as a model directory is (atomic-dir.ts): all its files become current by one rename,
 * so a checkpoint written twice at the same step is never seen half old, half new. A
 * checkpoint is written completely before `latest` is switched to it (atomically, then the
 * directory fsync'd), and older ones are removed only after that: a crash at any point
 * leaves the previous checkpoint whole and named. A reader that finds the checkpoint
 * `latest` named removed by a newer one meanwhile reads `latest` again.
 */
import { lstat, open, readdir, rm } from 'node:fs/promises';
import { readRegularFile } from './regular-file.js';
import path from 'node:path';
import type { ModelSpec, OptimizerStateSnapshot } from '../backend/contract.js';
import type { RandomState } from '../init/random.js';
import type { EpochResult } from '../models/fit-types.js';
import { readUnit, UnitReadError, writeUnit } from './atomic-dir.js';
import { makeDirectory } from './make-dir.js';
import { CONFIG_FILE, decodeModel, encodeModel, WEIGHTS_FILE } from './model-bytes.js';
import { CHECKSUM_KEY, decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { crc32Hex } from './checksum.js';
import { writeFileAtomic } from './safetensors-file.js';

/** Where a fit was when the checkpoint was taken (between two training steps). */
export interface FitPosition {
  /** The epoch in progress (1-based) and the index of its next batch. */
  epoch: number;
  nextBatch: number;
  /**
   * Truncated BPTT inside a batch: the first step of the next window of batch `nextBatch`,
   * whose state before it is the checkpoint's `carried` state (0 or absent: the batch starts).
   */
  nextWindow?: number;
  /** The epoch's order of sequences. */
  order: number[];
  /** The random stream (shuffles, dropout seeds) as it is now. */
  random: RandomState;
  /** Optimizer steps so far and tokens trained on. */
  step: number;
  tokens: number;
  /** The epoch's running sums so far. */
  lossSum: number;
  counted: number;
  correct: number;
  /** Completed epochs. */
  epochs: EpochResult[];
  /** The optimizer settings in force, the batch size and the window (fit compares them on resume). */
  optimizerKey: string;
  batchSize: number;
  window: number;
}

/** A checkpoint in memory. */
export interface Checkpoint {
  spec: ModelSpec;
  params: Float32Array;
  extra: Record<string, unknown>;
  optimizer: OptimizerStateSnapshot | undefined;
  position: FitPosition;
  /** The recurrent state carried into the next window (with `position.nextWindow` > 0). */
  carried?: { h0?: Float32Array; c0?: Float32Array };
  /** Early stopping with restore-best: the parameters of the best epoch so far. */
  best?: { epoch: number; params: Float32Array };
}

const LATEST = 'latest';
/** A checkpoint's directory name, as `latest` names it. */
const STEP_NAME = /^step-\d+$/;
const FIT_FILE = 'fit.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';
const CARRIED_FILE = 'carried-state.safetensors';
const BEST_FILE = 'best-epoch.safetensors';

/**
 * The CRC-32 of what the tensor checksums do not cover: the position (fit.json) and the
 * metadata of optimizer.safetensors and best-epoch.safetensors. The safetensors files' own
 * CRC covers their tensor data only, and a digit changed in fit.json (its order, a counter,
 * nextBatch) or a step count in the metadata resumed silently into another fit.
 */
function positionChecksum(position: FitPosition, optimizerMeta: Record<string, string>, bestMeta: Record<string, string> | undefined): string {
  const sorted = (m: Record<string, string> | undefined) => (m ? Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1))) : null);
  const text = `${JSON.stringify(position)}\n${JSON.stringify(sorted(optimizerMeta))}\n${JSON.stringify(sorted(bestMeta))}`;
  return crc32Hex(new TextEncoder().encode(text));
}

/** fit.json read and checked field by field (a damaged or edited file is refused, naming it). */
function checkPosition(text: string, file: string, optimizerMeta: Record<string, string>, bestMeta: Record<string, string> | undefined): FitPosition {
  let p: FitPosition;
  let checksum: unknown;
  try {
    ({ checksum, ...p } = JSON.parse(text) as FitPosition & { checksum?: unknown });
  } catch (e) {
    throw new Error(`resume: ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const bad = (field: string): never => {
    throw new Error(`resume: ${file}: ${field} is missing or out of range`);
  };
  if (typeof p !== 'object' || p === null) bad('the position');
  if (p.nextWindow !== undefined && (!Number.isSafeInteger(p.nextWindow) || p.nextWindow < 0)) bad('nextWindow');
  for (const k of ['epoch', 'nextBatch', 'step', 'tokens', 'counted', 'correct', 'batchSize', 'window'] as const) {
    if (!Number.isSafeInteger(p[k]) || p[k] < 0) bad(k);
  }
  if (p.epoch < 1) bad('epoch');
  if (typeof p.lossSum !== 'number' || !Number.isFinite(p.lossSum)) bad('lossSum');
  if (!Array.isArray(p.order) || !p.order.every((i) => Number.isSafeInteger(i) && i >= 0 && i < p.order.length) || new Set(p.order).size !== p.order.length) bad('order');
  // The completed epochs, one record each, before the one in progress.
  if (!Array.isArray(p.epochs) || p.epochs.length !== p.epoch - 1) bad('epochs');
  p.epochs.forEach((e, i) => {
    if (typeof e !== 'object' || e === null || e.epoch !== i + 1 || typeof e.loss !== 'number' || !Number.isFinite(e.loss) || e.loss < 0) bad(`epochs[${i}]`);
  });
  if (p.correct > p.counted || p.lossSum < 0) bad('correct, counted or lossSum');
  if (typeof p.optimizerKey !== 'string') bad('optimizerKey');
  // Every field is plausible; the checksum tells whether they are the ones written (checkpoints
  // of earlier versions have none: checked field by field only).
  if (checksum !== undefined && checksum !== positionChecksum(p, optimizerMeta, bestMeta)) {
    throw new Error(`resume: ${file} (or the metadata of the checkpoint's safetensors files) was changed after it was written: its checksum does not match; restore the checkpoint or start afresh`);
  }
  return p;
}

/**
 * Makes the checkpoint directory, or checks the one there: every checkpoint replaces its
 * `latest` and removes its other `step-<n>` entries, so a directory holding a `latest` or a
 * `step-<n>` that rnnkit did not write (a project directory, say) is refused, naming the
 * entry, before any training.
 */
export async function prepareCheckpointDir(dir: string): Promise<void> {
  await makeDirectory(dir);
  for (const entry of await readdir(dir)) {
    const at = path.join(dir, entry);
    if (entry === LATEST) {
      const ours = (await lstat(at)).isFile() && STEP_NAME.test((await readRegularFile(at, 'utf8').catch(() => '')).replace(/\n$/, ''));
      if (!ours) throw new Error(`${at} is not the pointer to a checkpoint that rnnkit writes, and each checkpoint replaces it: choose a new or empty directory`);
    } else if (STEP_NAME.test(entry)) {
      const ours = (await lstat(at)).isDirectory() && (await lstat(path.join(at, FIT_FILE)).then(() => true, () => false));
      if (!ours) throw new Error(`${at} is not a checkpoint rnnkit wrote, and checkpoints remove the step-<n> entries of their directory: choose a new or empty directory`);
    }
  }
}

/** Write `checkpoint` under `dir` as step-<n>, point `latest` at it, remove older ones. */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint): Promise<string> {
  const name = `step-${checkpoint.position.step}`;
  const at = path.join(dir, name);
  await makeDirectory(dir);
  const model = encodeModel(checkpoint.spec, checkpoint.params, checkpoint.extra);
  const o = checkpoint.optimizer;
  const optimizerMeta: Record<string, string> = o ? { optimizer: o.optimizer, step: String(o.step), buffers: String(o.buffers.length) } : { optimizer: 'none' };
  const best = checkpoint.best;
  const bestMeta = best ? { epoch: String(best.epoch) } : undefined;
  const files: Record<string, Uint8Array | string> = {
    [CONFIG_FILE]: model.config,
    [WEIGHTS_FILE]: model.weights,
    [OPTIMIZER_FILE]: encodeSafetensors(
      (o?.buffers ?? []).map((b, k) => ({ name: `buffer_${k}`, shape: [b.length], data: Float32Array.from(b) })),
      optimizerMeta,
    ),
    [FIT_FILE]: JSON.stringify({ ...checkpoint.position, checksum: positionChecksum(checkpoint.position, optimizerMeta, bestMeta) }) + '\n',
  };
  const carried = Object.entries(checkpoint.carried ?? {}).filter((e): e is [string, Float32Array] => e[1] !== undefined);
  if (carried.length > 0) files[CARRIED_FILE] = encodeSafetensors(carried.map(([n, data]) => ({ name: n, shape: [data.length], data })));
  if (best) files[BEST_FILE] = encodeSafetensors([{ name: 'params', shape: [best.params.length], data: best.params }], bestMeta);
  // A step-<n> that `latest` does not name is a leftover of an interrupted write: start afresh.
  if ((await readLatest(dir)) !== name) await rm(at, { recursive: true, force: true });
  await writeUnit(at, files);
  await writeFileAtomic(path.join(dir, LATEST), name + '\n');
  await syncDir(dir);
  for (const entry of await readdir(dir)) {
    if (STEP_NAME.test(entry) && entry !== name) await rm(path.join(dir, entry), { recursive: true, force: true });
  }
  return at;
}

/** fsync a directory (its renames durable); a no-op where directories cannot be opened (Windows). */
async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r').catch(() => undefined);
  await h?.sync().catch(() => undefined);
  await h?.close().catch(() => undefined);
}

/** The checkpoint `dir/latest` names, or undefined when there is none. */
async function readLatest(dir: string): Promise<string | undefined> {
  return readRegularFile(path.join(dir, LATEST), 'utf8').then((t) => t.trim(), () => undefined);
}

/** Read the checkpoint `dir/latest` names, all its files from one save; every file is checked as a model directory's is. */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  for (let attempt = 0; ; attempt++) {
    let name: string;
    try {
      name = (await readRegularFile(path.join(dir, LATEST), 'utf8')).trim();
    } catch (e) {
      throw new Error(`resume: ${dir} holds no checkpoint (no ${LATEST} file): ${(e as Error).message}`);
    }
    if (!STEP_NAME.test(name)) throw new Error(`resume: ${path.join(dir, LATEST)} must name a step-<n> checkpoint; got ${JSON.stringify(name)}`);
    const at = path.join(dir, name);
    let files: Map<string, Buffer>;
    try {
      files = await readUnit(at, [CONFIG_FILE, WEIGHTS_FILE, FIT_FILE, OPTIMIZER_FILE], [CARRIED_FILE, BEST_FILE]);
    } catch (e) {
      // Removed by a newer checkpoint while we read: read the one `latest` names now.
      if (e instanceof UnitReadError && attempt < 20 && (await readLatest(dir)) !== name) continue;
      if (e instanceof UnitReadError) throw new Error(`resume: cannot read ${e.message}`, { cause: e.cause });
      throw e;
    }
    return decodeCheckpoint(at, files);
  }
}

function decodeCheckpoint(at: string, files: Map<string, Buffer>): Checkpoint {
  const bytes = (n: string) => {
    const b = files.get(n)!;
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  };
  const model = decodeModel(files.get(CONFIG_FILE)!.toString('utf8'), bytes(WEIGHTS_FILE), at);
  const file = decodeSafetensors(bytes(OPTIMIZER_FILE), path.join(at, OPTIMIZER_FILE));
  const bestFile = files.has(BEST_FILE) ? decodeSafetensors(bytes(BEST_FILE), path.join(at, BEST_FILE)) : undefined;
  // The metadata as written: encodeSafetensors adds the data's CRC-32, which the position's checksum does not cover.
  const written = ({ [CHECKSUM_KEY]: _crc, ...m }: Record<string, string>) => m;
  const meta = written(file.metadata ?? {});
  const bestMeta = bestFile ? written(bestFile.metadata) : undefined;
  const position = checkPosition(files.get(FIT_FILE)!.toString('utf8'), path.join(at, FIT_FILE), meta, bestMeta);
  const optimizer: OptimizerStateSnapshot | undefined =
    meta.optimizer === undefined || meta.optimizer === 'none'
      ? undefined
      : {
          optimizer: meta.optimizer as OptimizerStateSnapshot['optimizer'],
          step: Number(meta.step),
          buffers: Array.from({ length: Number(meta.buffers) }, (_, k) => {
            const t = file.tensors.find((x) => x.name === `buffer_${k}`);
            if (!t) throw new Error(`resume: ${path.join(at, OPTIMIZER_FILE)} lacks buffer_${k}`);
            return t.data;
          }),
        };
  let carried: Checkpoint['carried'];
  if ((position.nextWindow ?? 0) > 0) {
    const where = path.join(at, CARRIED_FILE);
    if (!files.has(CARRIED_FILE)) throw new Error(`resume: ${where} is missing (the state carried into the next window)`);
    const state = decodeSafetensors(bytes(CARRIED_FILE), where);
    const get = (name: string) => state.tensors.find((t) => t.name === name)?.data;
    carried = { h0: get('h0'), c0: get('c0') };
    if (!carried.h0) throw new Error(`resume: ${where} lacks h0 (the state carried into the next window)`);
  }
  let best: Checkpoint['best'];
  if (bestFile) {
    const where = path.join(at, BEST_FILE);
    const epoch = Number(bestFile.metadata?.epoch);
    const params = bestFile.tensors.find((t) => t.name === 'params')?.data;
    if (!Number.isSafeInteger(epoch) || epoch < 1) throw new Error(`resume: ${where}: its metadata's epoch is missing or out of range`);
    if (!(params instanceof Float32Array) || params.length !== model.params.length || !params.every(Number.isFinite)) {
      throw new Error(`resume: ${where}: params must be ${model.params.length} finite float32 values, as many as the model's`);
    }
    best = { epoch, params };
  }
  return { spec: model.spec, params: model.params, extra: model.extra, optimizer, position, ...(carried ? { carried } : {}), ...(best ? { best } : {}) };
}
