/**
 * Full-model gradients (input layer + 2-layer bidirectional stack + dense head + loss)
 * against central finite differences, float64, on the reference — every parameter,
 * every cell, with variable lengths and ignored targets, plus the other input kinds
 * (one-hot, real-valued with a conditioning vector) and the MSE loss.
 */
import { describe, expect, it } from 'vitest';
import { CELL_TYPES } from '../../src/backend/contract.js';
import type { CellType } from '../../src/backend/contract.js';
import { ReferenceTraining } from '../../src/backend/reference/training/index.js';
import { batchShapes, inputWidth, modelLayout } from '../../src/backend/layout.js';
import type { InputSpec, LossSpec, ModelSpec, TrainBatch } from '../../src/backend/contract.js';
import { Random } from '../../src/init/random.js';

const STEP = 1e-6;
/** Central differences in float64 with h = 1e-6 are good to ~1e-8 relative on these sizes. */
const REL = 1e-6;

function specOf(cell: CellType, input: InputSpec, loss: LossSpec, conditionSize = 0): ModelSpec {
  const hidden = 3;
  return {
    input,
    conditionSize,
    stack: {
      cell, inputSize: inputWidth(input) + conditionSize, hiddenSize: hidden,
      outputSize: cell === 'jordan' ? 2 : hidden, layers: 2, bidirectional: true,
    },
    outputs: 3,
    loss,
  };
}

function randomBatch(spec: ModelSpec, rng: Random): TrainBatch {
  const T = 4;
  const B = 3;
  const sh = batchShapes(spec, T, B);
  const vocab = spec.input.kind === 'dense' ? 0 : spec.input.vocab;
  const lengths = Int32Array.from([4, 2, 1]);
  const tokens = Int32Array.from({ length: sh.tokens }, () => rng.int(vocab));
  const targets = Int32Array.from({ length: sh.targets }, (_, n) => (n === 1 ? -100 : rng.int(spec.outputs)));
  const normal = (n: number) => Float32Array.from({ length: n }, () => rng.normal() * 0.7);
  return {
    steps: T, batch: B, lengths,
    tokens: sh.tokens ? tokens : undefined,
    x: sh.x ? normal(sh.x) : undefined,
    condition: sh.condition ? normal(sh.condition) : undefined,
    targets: spec.loss.kind === 'cross_entropy' ? targets : undefined,
    targetValues: spec.loss.kind === 'mse' ? normal(sh.targetValues) : undefined,
    h0: normal(sh.h),
    c0: sh.c ? normal(sh.c) : undefined,
    dropoutSeed: 123,
    source: spec.encoder
      ? {
          steps: 3,
          lengths: Int32Array.from([3, 1, 2]),
          tokens: spec.encoder.input.kind === 'dense' ? undefined : Int32Array.from({ length: 3 * B }, () => rng.int(4)),
          x: spec.encoder.input.kind === 'dense' ? normal(3 * B * spec.encoder.input.size) : undefined,
        }
      : undefined,
  };
}

function check(spec: ModelSpec, seed: number): void {
  const rng = new Random(seed);
  const training = new ReferenceTraining();
  const model = training.createModel(spec);
  const layout = modelLayout(spec);
  const theta = Float64Array.from({ length: layout.total }, () => rng.uniformIn(-0.6, 0.6));
  const batch = randomBatch(spec, rng);
  training.setParams64(model, theta);
  const { grads } = training.lossAndGrads64(model, batch);
  let worst = 0;
  let worstName = '';
  let nonzero = 0;
  for (const e of layout.entries) {
    for (let i = e.offset; i < e.offset + e.size; i++) {
      const p = theta.slice();
      p[i] = theta[i] + STEP;
      training.setParams64(model, p);
      const up = training.loss64(model, batch, true);
      p[i] = theta[i] - STEP;
      training.setParams64(model, p);
      const down = training.loss64(model, batch, true);
      const fd = (up - down) / (2 * STEP);
      const err = Math.abs(fd - grads[i]) / Math.max(1e-3, Math.abs(fd), Math.abs(grads[i]));
      if (grads[i] !== 0) nonzero++;
      if (err > worst) {
        worst = err;
        worstName = `${e.name}[${i - e.offset}] analytic ${grads[i]} fd ${fd}`;
      }
    }
  }
  expect(worst, worstName).toBeLessThan(REL);
  // A gradient that is all zeros would pass trivially; most entries must move the loss.
  expect(nonzero).toBeGreaterThan(layout.total / 2);
}

describe('full-model gradient vs finite differences (reference, float64)', () => {
  for (const cell of CELL_TYPES) {
    it(`embedding → 2-layer bidirectional ${cell} → head → cross-entropy (lengths, ignored target)`, () => {
      check(specOf(cell, { kind: 'embedding', vocab: 5, dim: 3 }, { kind: 'cross_entropy', ignoreIndex: -100 }), 11);
    });
  }
  it('one-hot input → 2-layer bidirectional lstm → cross-entropy', () => {
    check(specOf('lstm', { kind: 'onehot', vocab: 4 }, { kind: 'cross_entropy', ignoreIndex: -100 }), 12);
  });
  it('real-valued input with a conditioning vector → 2-layer bidirectional gru → MSE', () => {
    check(specOf('gru', { kind: 'dense', size: 2 }, { kind: 'mse' }, 2), 13);
  });
  for (const cell of ['lstm', 'gru'] as CellType[]) {
    it(`seq2seq: embedding encoder (2-layer bidirectional ${cell}) → its final state starts the decoder → head → cross-entropy`, () => {
      const spec = specOf(cell, { kind: 'embedding', vocab: 5, dim: 3 }, { kind: 'cross_entropy', ignoreIndex: -100 });
      spec.encoder = { input: { kind: 'embedding', vocab: 4, dim: 2 }, stack: { ...spec.stack, inputSize: 2 } };
      check(spec, 15);
    });
  }
  it('with dropout on the embedding and between 3 bidirectional lstm layers (fixed masks)', () => {
    const spec = specOf('lstm', { kind: 'embedding', vocab: 5, dim: 3 }, { kind: 'cross_entropy', ignoreIndex: -100 });
    spec.stack.layers = 3;
    spec.dropout = { input: 0.3, between: 0.4 };
    check(spec, 17);
  });
  it('seq2seq with dropout in encoder and decoder', () => {
    const spec = specOf('gru', { kind: 'embedding', vocab: 5, dim: 3 }, { kind: 'cross_entropy', ignoreIndex: -100 });
    spec.encoder = { input: { kind: 'embedding', vocab: 4, dim: 2 }, stack: { ...spec.stack, inputSize: 2 } };
    spec.dropout = { input: 0.25, between: 0.5 };
    check(spec, 18);
  });
  for (const cell of ['lstm', 'gru_cho', 'jordan'] as CellType[]) {
    it(`final-state readout: 2-layer bidirectional ${cell}, head on [hn forward; hn reverse] → cross-entropy`, () => {
      const spec = specOf(cell, { kind: 'embedding', vocab: 5, dim: 3 }, { kind: 'cross_entropy', ignoreIndex: -100 });
      spec.readout = 'final_state';
      check(spec, 19);
    });
  }
  it('final-state readout with MSE and a conditioning vector', () => {
    const spec = specOf('rnn_tanh', { kind: 'dense', size: 2 }, { kind: 'mse' }, 2);
    spec.readout = 'final_state';
    check(spec, 20);
  });
  it('seq2seq with a real-valued encoder input → rnn_tanh decoder → MSE', () => {
    const spec = specOf('rnn_tanh', { kind: 'dense', size: 2 }, { kind: 'mse' });
    spec.encoder = { input: { kind: 'dense', size: 3 }, stack: { ...spec.stack, inputSize: 3 } };
    check(spec, 16);
  });
  it('embedding with a conditioning vector → rnn_tanh → MSE', () => {
    check(specOf('rnn_tanh', { kind: 'embedding', vocab: 4, dim: 2 }, { kind: 'mse' }, 3), 14);
  });
});
