/**
 * A row whose logits are not finite makes the loss NaN and, through that row, every
 * column sum it takes part in: the head's bias gradient is NaN on every backend (the
 * native softmax sums the bias gradient's columns in per-task partials while it writes
 * dz, so a row that skips that code path must still poison its partial), and the norm is
 * NaN, so trainStep makes no update.
 */
import { describe, expect, it } from 'vitest';
import type { ModelSpec, TrainBatch } from '../../src/backend/contract.js';
import { modelLayout } from '../../src/backend/layout.js';
import { Random } from '../../src/init/random.js';
import { loadTraining, trainingBackendNames } from './backends.js';

const spec: ModelSpec = {
  input: { kind: 'embedding', vocab: 7, dim: 3 },
  conditionSize: 0,
  stack: { cell: 'lstm', inputSize: 3, hiddenSize: 4, outputSize: 4, layers: 1, bidirectional: false },
  outputs: 40, // more columns than one vector of any ISA, and a tail
  loss: { kind: 'cross_entropy', ignoreIndex: -100 },
};

// T 4, B 3 (time-major rows n = t·B + b): token 5 (its embedding row NaN) only in column 1
// at t = 2, so rows 7 and 10 are NaN and the other ten rows are finite.
const batch: TrainBatch = {
  steps: 4, batch: 3, dropoutSeed: 1,
  tokens: Int32Array.from([1, 2, 3, 4, 1, 2, 3, 5, 4, 1, 2, 3]),
  targets: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
};

for (const name of trainingBackendNames()) {
  describe(`${name}: non-finite logits in some rows`, () => {
    it('the loss, the norm and every head bias gradient are NaN; trainStep leaves the parameters as they were', async () => {
      const t = await loadTraining(name);
      const layout = modelLayout(spec);
      const rng = new Random(3);
      const params = Float32Array.from({ length: layout.total }, () => Math.fround(rng.uniformIn(-0.5, 0.5)));
      const emb = layout.entries.find((e) => e.name === 'embedding.weight')!;
      params.fill(Number.NaN, emb.offset + 5 * 3, emb.offset + 6 * 3);
      const m = t.createModel(spec);
      try {
        t.setParams(m, params);
        const g = t.lossAndGradsSync(m, batch);
        expect(g.loss).toBeNaN();
        const bias = layout.entries.find((e) => e.name === 'head.bias')!;
        const grads = g.grads.subarray(bias.offset, bias.offset + bias.size);
        expect(Array.from(grads).filter((v) => !Number.isNaN(v))).toEqual([]);
        t.setOptimizer(m, { name: 'adam', lr: 0.01 }, { maxNorm: 1 });
        const r = await t.trainStep(m, batch);
        expect(r.totalNorm).toBeNaN();
        expect(t.getParams(m)).toEqual(params);
      } finally {
        t.disposeModel(m);
      }
    });
  });
}
