/**
 * `getGrads` reads back the gradient of the last `trainStep` or `lossAndGradsSync` on every
 * backend (the reference kept only trainStep's until the twelfth session).
 */
import { describe, expect, it } from 'vitest';
import type { ModelSpec, TrainBatch } from '../../src/backend/contract.js';
import { modelLayout } from '../../src/backend/layout.js';
import { Random } from '../../src/init/random.js';
import { loadTraining, trainingBackendNames } from './backends.js';

const spec: ModelSpec = {
  input: { kind: 'embedding', vocab: 6, dim: 3 },
  conditionSize: 0,
  stack: { cell: 'gru', inputSize: 3, hiddenSize: 5, outputSize: 5, layers: 1, bidirectional: false },
  outputs: 6,
  loss: { kind: 'cross_entropy', ignoreIndex: -100 },
};

const batchOf = (seed: number): TrainBatch => {
  const rng = new Random(seed);
  const ids = () => Int32Array.from({ length: 6 }, () => Math.floor(rng.uniformIn(0, 6)));
  return { steps: 3, batch: 2, dropoutSeed: 1, tokens: ids(), targets: ids() };
};

for (const name of trainingBackendNames()) {
  describe(`${name}: getGrads after lossAndGradsSync`, () => {
    it('returns the gradient that call computed, and a later call replaces it', async () => {
      const t = await loadTraining(name);
      const rng = new Random(11);
      const params = Float32Array.from({ length: modelLayout(spec).total }, () => Math.fround(rng.uniformIn(-0.5, 0.5)));
      const m = t.createModel(spec);
      try {
        t.setParams(m, params);
        const first = t.lossAndGradsSync(m, batchOf(1));
        expect(first.grads.some((v) => v !== 0)).toBe(true);
        expect(t.getGrads(m)).toEqual(first.grads);
        const second = t.lossAndGradsSync(m, batchOf(2));
        expect(second.grads).not.toEqual(first.grads);
        expect(t.getGrads(m)).toEqual(second.grads);
        expect(t.getParams(m)).toEqual(params); // no update
      } finally {
        t.disposeModel(m);
      }
    });
  });
}
