/**
 * Every backend of RNNKIT_BACKENDS against the float64 reference on a table of models
 * that the golden files do not cover: one-hot and real-valued inputs, conditioning vectors,
 * MSE, final-state readout, seq2seq, dropout (masks are specified, so they must match),
 * Jordan cells, clipping by value, every optimizer over three steps. Per step: loss,
 * gradient, total norm; at the end: parameters and final states — at the golden README's
 * float32 tolerances. On the reference itself this checks its float32 interface against
 * its own float64 core (conversions at the edges).
 */
import { describe, expect, it } from 'vitest';
import type { CellType } from '../../src/backend/contract.js';
import { ReferenceTraining } from '../../src/backend/reference/training/index.js';
import { batchShapes, inputWidth, modelLayout } from '../../src/backend/layout.js';
import type { ClipSpec, OptimizerSpec } from '../../src/optim/optimizers.js';
import type { InputSpec, ModelSpec, TrainBatch } from '../../src/backend/contract.js';
import { Random } from '../../src/init/random.js';
import { loadTraining, trainingBackendNames } from './backends.js';
import { STATE_TOLERANCE, afterTolerance, gradTolerance, lossTolerance, normTolerance } from '../helpers/tolerances.js';

interface Row {
  name: string;
  spec: ModelSpec;
  optimizer: OptimizerSpec;
  clip: ClipSpec;
}

function model(cell: CellType, input: InputSpec, extra: Partial<ModelSpec> & { layers?: number; bidirectional?: boolean } = {}): ModelSpec {
  const K = extra.conditionSize ?? 0;
  const H = 5;
  return {
    input, conditionSize: K,
    stack: { cell, inputSize: inputWidth(input) + K, hiddenSize: H, outputSize: cell === 'jordan' ? 3 : H, layers: extra.layers ?? 2, bidirectional: extra.bidirectional ?? true },
    outputs: extra.outputs ?? 4,
    loss: extra.loss ?? { kind: 'cross_entropy', ignoreIndex: -100 },
    ...(extra.readout ? { readout: extra.readout } : {}),
    ...(extra.dropout ? { dropout: extra.dropout } : {}),
    ...(extra.encoder ? { encoder: extra.encoder } : {}),
  };
}

const emb: InputSpec = { kind: 'embedding', vocab: 7, dim: 3 };
const rows: Row[] = [
  { name: 'one-hot lstm, sgd momentum', spec: model('lstm', { kind: 'onehot', vocab: 6 }), optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.01 }, clip: { maxNorm: 0.5 } },
  { name: 'dense gru + condition, MSE, adam', spec: model('gru', { kind: 'dense', size: 3 }, { conditionSize: 2, loss: { kind: 'mse' }, outputs: 2 }), optimizer: { name: 'adam', lr: 0.01 }, clip: { clipValue: 0.1 } },
  { name: 'jordan, adamw', spec: model('jordan', emb), optimizer: { name: 'adamw', lr: 0.01, weightDecay: 0.1 }, clip: {} },
  { name: 'final-state readout rnn_relu, rmsprop', spec: model('rnn_relu', emb, { readout: 'final_state' }), optimizer: { name: 'rmsprop', lr: 0.01, eps: 1e-3 }, clip: { maxNorm: 1 } },
  { name: 'dropout lstm_peephole 3 layers, nesterov', spec: model('lstm_peephole', emb, { layers: 3, dropout: { input: 0.2, between: 0.3 } }), optimizer: { name: 'sgd', lr: 0.05, momentum: 0.8, nesterov: true }, clip: {} },
  {
    name: 'seq2seq gru_cho, adam + L2', optimizer: { name: 'adam', lr: 0.01, weightDecay: 0.05, eps: 1e-4 }, clip: { maxNorm: 2 },
    spec: model('gru_cho', emb, { encoder: { input: { kind: 'embedding', vocab: 5, dim: 2 }, stack: { cell: 'gru', inputSize: 2, hiddenSize: 5, outputSize: 5, layers: 2, bidirectional: true } } }),
  },
];

function batchFor(spec: ModelSpec, rng: Random, step: number): TrainBatch {
  const T = 5;
  const B = 3;
  const sh = batchShapes(spec, T, B);
  const vocab = spec.input.kind === 'dense' ? 0 : spec.input.vocab;
  const normal = (n: number) => Float32Array.from({ length: n }, () => Math.fround(rng.normal() * 0.7));
  return {
    steps: T, batch: B, lengths: Int32Array.from([5, 3, 2]), dropoutSeed: 1000 + step,
    tokens: sh.tokens ? Int32Array.from({ length: sh.tokens }, () => rng.int(vocab)) : undefined,
    x: sh.x ? normal(sh.x) : undefined,
    condition: sh.condition ? normal(sh.condition) : undefined,
    targets: spec.loss.kind === 'cross_entropy' ? Int32Array.from({ length: sh.targets }, (_, n) => (n === 2 ? -100 : rng.int(spec.outputs))) : undefined,
    targetValues: spec.loss.kind === 'mse' ? normal(sh.targetValues) : undefined,
    h0: normal(sh.h),
    c0: sh.c ? normal(sh.c) : undefined,
    source: spec.encoder ? { steps: 4, lengths: Int32Array.from([4, 1, 3]), tokens: Int32Array.from({ length: 12 }, () => rng.int(5)) } : undefined,
  };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const name of trainingBackendNames()) {
  describe(`${name} vs the float64 reference (three training steps)`, () => {
    for (const row of rows) {
      it(row.name, async () => {
        const training = await loadTraining(name);
        const reference = new ReferenceTraining();
        const rng = new Random(42);
        const init = Float32Array.from({ length: modelLayout(row.spec).total }, () => Math.fround(rng.uniformIn(-0.5, 0.5)));
        const ours = training.createModel(row.spec);
        const ref = reference.createModel(row.spec);
        try {
          training.setParams(ours, init);
          reference.setParams(ref, init);
          training.setOptimizer(ours, row.optimizer, row.clip);
          reference.setOptimizer(ref, row.optimizer, row.clip);
          for (let step = 0; step < 3; step++) {
            const batch = batchFor(row.spec, rng, step);
            const a = await training.trainStep(ours, batch);
            const b = reference.trainStepSync(ref, batch);
            expect(Math.abs(a.loss - b.loss), `step ${step} loss`).toBeLessThanOrEqual(lossTolerance(b.loss));
            expect(Math.abs(a.totalNorm - b.totalNorm), `step ${step} norm`).toBeLessThanOrEqual(normTolerance(b.totalNorm));
            const gb = reference.getGrads64(ref);
            for (const e of modelLayout(row.spec).entries) {
              const g = gb.subarray(e.offset, e.offset + e.size);
              expect(maxDiff(training.getGrads(ours).subarray(e.offset, e.offset + e.size), g), `step ${step} grad ${e.name}`).toBeLessThanOrEqual(gradTolerance(g));
            }
            expect(maxDiff(a.hn, b.hn), `step ${step} hn`).toBeLessThanOrEqual(STATE_TOLERANCE);
          }
          const pa = training.getParams(ours);
          const pb = reference.getParams64(ref);
          for (let i = 0; i < pa.length; i++) {
            if (!(Math.abs(pa[i] - pb[i]) <= afterTolerance(pb[i]))) expect(Math.abs(pa[i] - pb[i]), `after[${i}]`).toBeLessThanOrEqual(afterTolerance(pb[i]));
          }
          const evalBatch = batchFor(row.spec, rng, 9);
          const ea = await training.evaluate(ours, evalBatch);
          const eb = reference.evaluateSync(ref, evalBatch);
          expect(maxDiff(ea.outputs, eb.outputs)).toBeLessThanOrEqual(STATE_TOLERANCE * 10);
          expect(Math.abs(ea.loss - eb.loss)).toBeLessThanOrEqual(lossTolerance(eb.loss));
        } finally {
          training.disposeModel(ours);
          reference.disposeModel(ref);
        }
      });
    }
  });
}
