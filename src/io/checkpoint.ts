/**
 * Training checkpoints on disk (Node): everything `fit` needs to carry on exactly where it
 * was — the model (weights, spec, `extra` with its tokenizer), the optimizer's state, and
 * the loop's position (epoch, next batch, the epoch's order, the random stream, counters).
 *
 * Layout: `<dir>/step-<n>/` holds model.safetensors + config.json (a model directory that
 * `RnnModel.load` reads), optimizer.safetensors and fit.json; `<dir>/latest` names the
 * newest. A checkpoint is written completely before `latest` is switched to it (atomically),
 * and older ones are removed only after that: a crash at any point leaves the previous
 * checkpoint whole and named.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ModelSpec, OptimizerStateSnapshot } from '../backend/contract.js';
import type { RandomState } from '../init/random.js';
import type { EpochResult } from '../models/fit-types.js';
import { loadModelFiles, saveModelFiles } from './model-file.js';
import { loadSafetensors, saveSafetensors, writeFileAtomic } from './safetensors-file.js';

/** Where a fit was when the checkpoint was taken (between two batches). */
export interface FitPosition {
  /** The epoch in progress (1-based) and the index of its next batch. */
  epoch: number;
  nextBatch: number;
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
}

const LATEST = 'latest';
const FIT_FILE = 'fit.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';

/** fit.json read and checked field by field (a damaged or edited file is refused, naming it). */
function checkPosition(text: string, file: string): FitPosition {
  let p: FitPosition;
  try {
    p = JSON.parse(text) as FitPosition;
  } catch (e) {
    throw new Error(`resume: ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const bad = (field: string): never => {
    throw new Error(`resume: ${file}: ${field} is missing or out of range`);
  };
  if (typeof p !== 'object' || p === null) bad('the position');
  for (const k of ['epoch', 'nextBatch', 'step', 'tokens', 'counted', 'correct', 'batchSize', 'window'] as const) {
    if (!Number.isSafeInteger(p[k]) || p[k] < 0) bad(k);
  }
  if (p.epoch < 1) bad('epoch');
  if (typeof p.lossSum !== 'number' || !Number.isFinite(p.lossSum)) bad('lossSum');
  if (!Array.isArray(p.order) || !p.order.every((i) => Number.isSafeInteger(i) && i >= 0 && i < p.order.length) || new Set(p.order).size !== p.order.length) bad('order');
  if (!Array.isArray(p.epochs)) bad('epochs');
  if (typeof p.optimizerKey !== 'string') bad('optimizerKey');
  return p;
}

/** Write `checkpoint` under `dir` as step-<n>, point `latest` at it, remove older ones. */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint): Promise<string> {
  const name = `step-${checkpoint.position.step}`;
  const at = path.join(dir, name);
  await mkdir(dir, { recursive: true });
  await rm(at, { recursive: true, force: true }); // a leftover of an interrupted write
  await saveModelFiles(at, checkpoint.spec, checkpoint.params, checkpoint.extra);
  const o = checkpoint.optimizer;
  await saveSafetensors(
    path.join(at, OPTIMIZER_FILE),
    (o?.buffers ?? []).map((b, k) => ({ name: `buffer_${k}`, shape: [b.length], data: Float32Array.from(b) })),
    o ? { optimizer: o.optimizer, step: String(o.step), buffers: String(o.buffers.length) } : { optimizer: 'none' },
  );
  await writeFileAtomic(path.join(at, FIT_FILE), JSON.stringify(checkpoint.position) + '\n');
  await writeFileAtomic(path.join(dir, LATEST), name + '\n');
  for (const entry of await readdir(dir)) {
    if (/^step-\d+$/.test(entry) && entry !== name) await rm(path.join(dir, entry), { recursive: true, force: true });
  }
  return at;
}

/** Read the checkpoint `dir/latest` names; every file is checked as a model directory's is. */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  let name: string;
  try {
    name = (await readFile(path.join(dir, LATEST), 'utf8')).trim();
  } catch (e) {
    throw new Error(`resume: ${dir} holds no checkpoint (no ${LATEST} file): ${(e as Error).message}`);
  }
  if (!/^step-\d+$/.test(name)) throw new Error(`resume: ${path.join(dir, LATEST)} must name a step-<n> checkpoint; got ${JSON.stringify(name)}`);
  const at = path.join(dir, name);
  const model = await loadModelFiles(at);
  const position = checkPosition(await readFile(path.join(at, FIT_FILE), 'utf8'), path.join(at, FIT_FILE));
  const file = await loadSafetensors(path.join(at, OPTIMIZER_FILE));
  const meta = file.metadata ?? {};
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
  return { spec: model.spec, params: model.params, extra: model.extra, optimizer, position };
}
