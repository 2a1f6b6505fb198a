/**
 * The embedding gradient of a call holds exactly the rows of that call's tokens: compiled
 * backends clear only the rows an earlier call wrote (not the whole table), so a row used
 * by step 1 and absent from step 2 must read 0 after step 2 — through trainStep and
 * lossAndGrads alike, and after a lossAndGrads that followed a trainStep.
 */
import { describe, expect, it } from 'vitest';
import type { ModelSpec, TrainBatch } from '../../src/backend/contract.js';
import { modelLayout } from '../../src/backend/layout.js';
import { loadTraining, trainingBackendNames } from './backends.js';

const V = 40;
const E = 3;
const spec: ModelSpec = {
  input: { kind: 'embedding', vocab: V, dim: E }, conditionSize: 0,
  stack: { cell: 'gru', inputSize: E, hiddenSize: 4, outputSize: 4, layers: 1, bidirectional: false },
  outputs: 5, loss: { kind: 'cross_entropy', ignoreIndex: -100 },
};

function batch(tokens: number[]): TrainBatch {
  return { steps: tokens.length, batch: 1, tokens: Int32Array.from(tokens), targets: Int32Array.from(tokens, (t) => t % 5) };
}

/** Indices of the embedding rows whose gradient is not all zero. */
function nonZeroRows(grads: Float32Array): number[] {
  const emb = modelLayout(spec).entries.find((e) => e.name.includes('embedding'));
  if (!emb) throw new Error('no embedding entry in the layout');
  const rows: number[] = [];
  for (let v = 0; v < V; v++) {
    const row = grads.subarray(emb.offset + v * E, emb.offset + (v + 1) * E);
    if (row.some((x) => x !== 0)) rows.push(v);
  }
  return rows;
}

for (const name of trainingBackendNames()) {
  describe(`${name}: embedding gradient rows`, () => {
    it('hold only the rows of the latest call', async () => {
      const t = await loadTraining(name);
      const m = t.createModel(spec);
      try {
        t.setParams(m, Float32Array.from({ length: modelLayout(spec).total }, (_, i) => Math.sin(i) * 0.5));
        t.setOptimizer(m, { name: 'adam', lr: 0.01 });
        await t.trainStep(m, batch([1, 2, 3, 1]));
        expect(nonZeroRows(t.getGrads(m))).toEqual([1, 2, 3]);
        await t.trainStep(m, batch([7, 9]));
        expect(nonZeroRows(t.getGrads(m))).toEqual([7, 9]);
        expect(nonZeroRows(t.lossAndGradsSync(m, batch([30, 39, 30])).grads)).toEqual([30, 39]);
        await t.trainStep(m, batch([2]));
        expect(nonZeroRows(t.getGrads(m))).toEqual([2]);
      } finally {
        t.disposeModel(m);
      }
    });
  });
}
