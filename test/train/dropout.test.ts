/**
 * Dropout: on in training steps only, inverted scaling, reproducible from the step's seed.
 */
import { describe, expect, it } from 'vitest';
import { ReferenceTraining } from '../../src/backend/reference/training/index.js';
import { DropoutMasks } from '../../src/backend/reference/training/dropout.js';
import { modelLayout } from '../../src/backend/layout.js';
import type { ModelSpec, TrainBatch } from '../../src/backend/contract.js';
import { Random } from '../../src/init/random.js';

const spec: ModelSpec = {
  input: { kind: 'embedding', vocab: 7, dim: 4 }, conditionSize: 0,
  stack: { cell: 'gru', inputSize: 4, hiddenSize: 5, outputSize: 5, layers: 2, bidirectional: false },
  outputs: 3, loss: { kind: 'cross_entropy', ignoreIndex: -100 },
  dropout: { input: 0.2, between: 0.5 },
};

function setup() {
  const rng = new Random(1);
  const training = new ReferenceTraining();
  const model = training.createModel(spec);
  const plain = training.createModel({ ...spec, dropout: undefined });
  const params = Float64Array.from({ length: modelLayout(spec).total }, () => rng.uniformIn(-0.5, 0.5));
  training.setParams64(model, params);
  training.setParams64(plain, params);
  const batch: TrainBatch = {
    steps: 5, batch: 3,
    tokens: Int32Array.from({ length: 15 }, () => rng.int(7)),
    targets: Int32Array.from({ length: 15 }, () => rng.int(3)),
  };
  return { training, model, plain, batch };
}

describe('dropout', () => {
  it('masks keep about 1 − p of the elements and scale them by 1/(1 − p)', () => {
    const m = new DropoutMasks({ input: 0.3, between: 0 }, 5);
    const mask = m.input(2000, 5, 2)!;
    let kept = 0;
    for (let n = 0; n < 2000; n++) {
      for (let k = 0; k < 5; k++) {
        const v = mask[n * 7 + k];
        expect(v === 0 || Math.abs(v - 1 / 0.7) < 1e-15).toBe(true);
        if (v !== 0) kept++;
      }
      expect(mask[n * 7 + 5]).toBe(1); // conditioning columns are never dropped
      expect(mask[n * 7 + 6]).toBe(1);
    }
    expect(Math.abs(kept / 10000 - 0.7)).toBeLessThan(0.02);
    expect(new DropoutMasks({ input: 0, between: 0 }, 5).input(3, 5, 0)).toBeUndefined();
  });

  it('changes the training loss, reproducibly for a seed, differently for another seed', () => {
    const { training, model, plain, batch } = setup();
    const base = training.loss64(plain, batch, true);
    const a = training.lossAndGrads64(model, { ...batch, dropoutSeed: 1 });
    const again = training.lossAndGrads64(model, { ...batch, dropoutSeed: 1 });
    const other = training.lossAndGrads64(model, { ...batch, dropoutSeed: 2 });
    expect(a.loss).not.toBe(base);
    expect(again.loss).toBe(a.loss);
    expect(again.grads).toEqual(a.grads);
    expect(other.loss).not.toBe(a.loss);
  });

  it('is off in evaluate: outputs equal those of the same model without dropout', () => {
    const { training, model, plain, batch } = setup();
    const a = training.evaluateSync(model, { ...batch, dropoutSeed: 9 });
    const b = training.evaluateSync(plain, batch);
    expect(a.outputs).toEqual(b.outputs);
    expect(a.loss).toBe(b.loss);
  });

  it('averages out: the mean training loss over many masks is near the loss without dropout', () => {
    const { training, model, plain, batch } = setup();
    // With small weights the network is nearly linear, so E[loss with dropout] ≈ loss without.
    const base = training.loss64(plain, batch);
    let sum = 0;
    for (let s = 0; s < 400; s++) sum += training.loss64(model, { ...batch, dropoutSeed: s }, true);
    expect(Math.abs(sum / 400 - base) / base).toBeLessThan(0.05);
  });
});
