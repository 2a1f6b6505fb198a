/**
 * Loading the training golden cases (../shared/golden/train/) into rnnkit's model types.
 * The directory comes from RNNKIT_GOLDEN_TRAIN_DIR, else ../shared/golden/train beside
 * the repository.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CellType } from '../../src/backend/contract.js';
import type { ClipSpec, OptimizerSpec } from '../../src/optim/optimizers.js';
import type { ModelSpec, TrainBatch } from '../../src/backend/contract.js';
import { modelLayout } from '../../src/backend/layout.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const GOLDEN_TRAIN_DIR = process.env.RNNKIT_GOLDEN_TRAIN_DIR ?? path.resolve(repoRoot, '../shared/golden/train');

type Nested = number | Nested[];

export interface TrainCase {
  id: string;
  cell: CellType;
  layers: number;
  bidirectional: boolean;
  vocab: number;
  embed: number;
  hidden: number;
  classes: number;
  batch: number;
  steps: number;
  ignore_index: number;
  weights: Record<string, Nested>;
  tokens: number[][];
  targets: number[][];
  lengths?: number[];
  h0: Nested;
  c0?: Nested;
  loss: number;
  y?: Nested;
  hn?: Nested;
  cn?: Nested;
  grads: Record<string, Nested>;
  optimizer: Record<string, number | boolean | string | number[]>;
  clip: { max_norm: number; norm_type: number } | null;
  total_norm?: number;
  total_norm_step2?: number;
  loss_step2: number;
  after: Record<string, Nested>;
}

/** Every case listed in index.json, in its order. */
export function loadTrainCases(): TrainCase[] {
  const index = JSON.parse(readFileSync(path.join(GOLDEN_TRAIN_DIR, 'index.json'), 'utf8')) as { cases: string[] };
  return index.cases.map((f) => JSON.parse(readFileSync(path.join(GOLDEN_TRAIN_DIR, f), 'utf8')) as TrainCase);
}

export function flat(v: Nested): number[] {
  return Array.isArray(v) ? v.flatMap(flat) : [v];
}

export function modelSpecOf(c: TrainCase): ModelSpec {
  return {
    input: { kind: 'embedding', vocab: c.vocab, dim: c.embed },
    conditionSize: 0,
    stack: { cell: c.cell, inputSize: c.embed, hiddenSize: c.hidden, outputSize: c.hidden, layers: c.layers, bidirectional: c.bidirectional },
    outputs: c.classes,
    loss: { kind: 'cross_entropy', ignoreIndex: c.ignore_index },
  };
}

/**
 * A name → tensor object in `modelLayout` order as one flat array; throws if the names
 * or sizes differ from the layout (the case and our layout must agree exactly).
 */
export function flatParams(spec: ModelSpec, tensors: Record<string, Nested>): Float64Array {
  const layout = modelLayout(spec);
  const names = Object.keys(tensors);
  const ours = layout.entries.map((e) => e.name);
  if (names.join(',') !== ours.join(',')) throw new Error(`parameter names differ: golden ${names.join(',')} vs layout ${ours.join(',')}`);
  const out = new Float64Array(layout.total);
  for (const e of layout.entries) {
    const v = flat(tensors[e.name]);
    if (v.length !== e.size) throw new Error(`${e.name}: golden has ${v.length} values, layout ${e.size}`);
    out.set(v, e.offset);
  }
  return out;
}

export function optimizerOf(c: TrainCase): OptimizerSpec {
  const o = c.optimizer;
  const num = (k: string) => o[k] as number;
  switch (o.name) {
    case 'sgd':
      return { name: 'sgd', lr: num('lr'), momentum: num('momentum'), dampening: num('dampening'), weightDecay: num('weight_decay'), nesterov: o.nesterov as boolean };
    case 'rmsprop':
      if (num('momentum') !== 0 || o.centered) throw new Error(`${c.id}: rmsprop with momentum/centered is not covered`);
      return { name: 'rmsprop', lr: num('lr'), alpha: num('alpha'), eps: num('eps'), weightDecay: num('weight_decay') };
    case 'adam':
    case 'adamw': {
      if (o.amsgrad) throw new Error(`${c.id}: amsgrad is not covered`);
      const [b1, b2] = o.betas as number[];
      return { name: o.name, lr: num('lr'), betas: [b1, b2], eps: num('eps'), weightDecay: num('weight_decay') };
    }
    default:
      throw new Error(`${c.id}: unknown optimizer ${String(o.name)}`);
  }
}

export function clipOf(c: TrainCase): ClipSpec {
  if (!c.clip) return {};
  if (c.clip.norm_type !== 2) throw new Error(`${c.id}: only norm_type 2 is covered`);
  return { maxNorm: c.clip.max_norm };
}

export function batchOf(c: TrainCase): TrainBatch {
  return {
    steps: c.steps,
    batch: c.batch,
    tokens: Int32Array.from(c.tokens.flat()),
    targets: Int32Array.from(c.targets.flat()),
    lengths: c.lengths ? Int32Array.from(c.lengths) : undefined,
    h0: Float32Array.from(flat(c.h0)),
    c0: c.c0 ? Float32Array.from(flat(c.c0)) : undefined,
  };
}
