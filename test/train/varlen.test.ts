/**
 * Variable-length batches: padding changes neither the loss nor the gradient of the real
 * steps. A padded batch of sequences of different lengths must give the count-weighted
 * mean of the losses and gradients of the same sequences run one by one, whatever tokens
 * sit in the padding. Runs on every backend of RNNKIT_BACKENDS.
 */
import { describe, expect, it } from 'vitest';
import type { CellType } from '../../src/backend/contract.js';
import { batchShapes, modelLayout } from '../../src/backend/layout.js';
import type { ModelSpec, TrainBatch, TrainingBackend } from '../../src/backend/contract.js';
import { Random } from '../../src/init/random.js';
import { loadTraining, trainingBackendNames } from './backends.js';

const T = 6;
const LENGTHS = [6, 2, 4, 1];

function spec(cell: CellType): ModelSpec {
  return {
    input: { kind: 'embedding', vocab: 6, dim: 3 }, conditionSize: 0,
    stack: { cell, inputSize: 3, hiddenSize: 4, outputSize: cell === 'jordan' ? 3 : 4, layers: 2, bidirectional: true },
    outputs: 3, loss: { kind: 'cross_entropy', ignoreIndex: -100 },
  };
}

/** The batch with padding filled by `pad` tokens, and the single sequences. */
function batches(s: ModelSpec, rng: Random, padToken: (t: number, b: number) => number) {
  const B = LENGTHS.length;
  const tokens: number[][] = LENGTHS.map((len) => Array.from({ length: len }, () => rng.int(6)));
  const targets: number[][] = LENGTHS.map((len, b) => Array.from({ length: len }, (_, t) => (t === 0 && b === 2 ? -100 : rng.int(3))));
  const sh = batchShapes(s, T, B);
  const h0 = Float32Array.from({ length: sh.h }, () => rng.normal() * 0.5);
  const c0 = sh.c ? Float32Array.from({ length: sh.c }, () => rng.normal() * 0.5) : undefined;
  const full: TrainBatch = {
    steps: T, batch: B, lengths: Int32Array.from(LENGTHS), h0, c0,
    tokens: Int32Array.from({ length: T * B }, (_, n) => {
      const t = Math.floor(n / B), b = n % B;
      return t < LENGTHS[b] ? tokens[b][t] : padToken(t, b);
    }),
    // Padded targets are real class ids here: padding must exclude them by itself.
    targets: Int32Array.from({ length: T * B }, (_, n) => {
      const t = Math.floor(n / B), b = n % B;
      return t < LENGTHS[b] ? targets[b][t] : 1;
    }),
  };
  const S = sh.h / (s.stack.layers * 2 * B); // state width; [L·D][B][S] is strided per sequence
  const pick = (a: Float32Array | undefined, per: number, b: number) =>
    a ? Float32Array.from({ length: a.length / B }, (_, k) => a[Math.floor(k / per) * B * per + b * per + (k % per)]) : undefined;
  const single = LENGTHS.map((len, b): TrainBatch => ({
    steps: len, batch: 1, tokens: Int32Array.from(tokens[b]), targets: Int32Array.from(targets[b]),
    h0: pick(h0, S, b),
    c0: pick(c0, s.stack.hiddenSize, b),
  }));
  const counts = targets.map((ts) => ts.filter((t) => t !== -100).length);
  return { full, single, counts };
}

function check(training: TrainingBackend, cell: CellType, tol: number): void {
  const s = spec(cell);
  const model = training.createModel(s);
  const rng = new Random(5);
  training.setParams(model, Float32Array.from({ length: modelLayout(s).total }, () => rng.uniformIn(-0.5, 0.5)));
  const a = batches(s, new Random(6), () => 0);
  const b = batches(s, new Random(6), (t, bb) => (t * 7 + bb * 3) % 6);
  const ga = training.lossAndGradsSync(model, a.full);
  const gb = training.lossAndGradsSync(model, b.full);
  expect(gb.loss).toBe(ga.loss);
  expect(gb.grads).toEqual(ga.grads);
  const total = a.counts.reduce((x, y) => x + y, 0);
  expect(ga.count).toBe(total);
  let loss = 0;
  const grads = new Float64Array(ga.grads.length);
  a.single.forEach((one, i) => {
    const g = training.lossAndGradsSync(model, one);
    expect(g.count).toBe(a.counts[i]);
    loss += (g.loss * g.count) / total;
    for (let k = 0; k < grads.length; k++) grads[k] += (g.grads[k] * g.count) / total;
  });
  expect(Math.abs(ga.loss - loss)).toBeLessThan(tol);
  let worst = 0;
  for (let k = 0; k < grads.length; k++) worst = Math.max(worst, Math.abs(ga.grads[k] - grads[k]));
  expect(worst).toBeLessThan(tol);
  training.disposeModel(model);
}

for (const name of trainingBackendNames()) {
  describe(`variable-length batches on ${name}`, () => {
    for (const cell of ['lstm', 'gru', 'rnn_tanh', 'jordan'] as CellType[]) {
      it(`${cell}, 2-layer bidirectional: padded batch = sequences one by one`, async () => {
        // float32 backends: sums in another order; 1e-5 is far above their rounding here.
        check(await loadTraining(name), cell, 1e-5);
      });
    }
  });
}
