/**
 * Clipping, learning-rate changes, optimizer defaults and the non-finite guard, checked
 * against the update written out by hand from the gradient the backend reports.
 */
import { describe, expect, it } from 'vitest';
import { ReferenceTraining } from '../../src/backend/reference/training/index.js';
import { clipByGlobalNorm, clipByValue } from '../../src/backend/reference/training/clip.js';
import { resolveOptimizer } from '../../src/optim/optimizers.js';
import { modelLayout } from '../../src/backend/layout.js';
import type { ModelSpec, TrainBatch } from '../../src/backend/contract.js';
import { Random } from '../../src/init/random.js';

const spec: ModelSpec = {
  input: { kind: 'dense', size: 3 }, conditionSize: 0,
  stack: { cell: 'lstm', inputSize: 3, hiddenSize: 4, outputSize: 4, layers: 1, bidirectional: false },
  outputs: 2, loss: { kind: 'mse' },
};

function setup() {
  const rng = new Random(3);
  const training = new ReferenceTraining();
  const model = training.createModel(spec);
  const theta = Float64Array.from({ length: modelLayout(spec).total }, () => rng.uniformIn(-0.5, 0.5));
  training.setParams64(model, theta);
  const batch: TrainBatch = {
    steps: 4, batch: 2,
    x: Float32Array.from({ length: 24 }, () => rng.normal()),
    targetValues: Float32Array.from({ length: 16 }, () => rng.normal() * 3),
  };
  return { training, model, theta, batch };
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-13): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol);
}

describe('clipping', () => {
  it('clipByValue clamps every element', () => {
    const g = Float64Array.from([-3, -0.5, 0, 0.5, 3]);
    clipByValue(g, 1);
    expect(Array.from(g)).toEqual([-1, -0.5, 0, 0.5, 1]);
  });
  it('clipByGlobalNorm returns the norm before scaling and scales only when coef < 1', () => {
    const g = Float64Array.from([3, 4]);
    expect(clipByGlobalNorm(g, 1)).toBe(5);
    expectClose(g, [3 / (5 + 1e-6), 4 / (5 + 1e-6)]);
    const h = Float64Array.from([3, 4]);
    expect(clipByGlobalNorm(h, 10)).toBe(5);
    expect(Array.from(h)).toEqual([3, 4]);
  });
  it('a training step with clipValue then maxNorm applies both before SGD', () => {
    const { training, model, theta, batch } = setup();
    const g = training.lossAndGrads64(model, batch).grads;
    const limit = 0.05;
    const clipped = g.map((v) => Math.max(-limit, Math.min(limit, v)));
    let norm = 0;
    for (const v of clipped) norm += v * v;
    norm = Math.sqrt(norm);
    const maxNorm = norm / 2; // active
    training.setOptimizer(model, { name: 'sgd', lr: 0.1 }, { clipValue: limit, maxNorm });
    const r = training.trainStepSync(model, batch);
    expect(r.totalNorm).toBeCloseTo(norm, 12);
    const coef = maxNorm / (norm + 1e-6);
    expectClose(training.getParams64(model), theta.map((t, i) => t - 0.1 * clipped[i] * coef));
    expectClose(training.getGrads64(model), g); // getGrads reports the gradient before clipping
  });
});

describe('learning rate and state', () => {
  it('setLearningRate changes the step size and keeps the momentum buffer', () => {
    const { training, model, theta, batch } = setup();
    const mu = 0.9;
    training.setOptimizer(model, { name: 'sgd', lr: 0.05, momentum: mu });
    const g1 = training.lossAndGrads64(model, batch).grads;
    training.trainStepSync(model, batch);
    const theta1 = theta.map((t, i) => t - 0.05 * g1[i]);
    expectClose(training.getParams64(model), theta1);
    const g2 = training.lossAndGrads64(model, batch).grads;
    training.setLearningRate(model, 0.01);
    training.trainStepSync(model, batch);
    expectClose(training.getParams64(model), theta1.map((t, i) => t - 0.01 * (mu * g1[i] + g2[i])));
  });
  it('setOptimizer resets the state', () => {
    const { training, model, batch } = setup();
    training.setOptimizer(model, { name: 'adam', lr: 0.01 });
    training.trainStepSync(model, batch);
    const theta1 = training.getParams64(model);
    training.setOptimizer(model, { name: 'sgd', lr: 0.5, momentum: 0.9 });
    const g = training.lossAndGrads64(model, batch).grads;
    training.trainStepSync(model, batch);
    // A fresh momentum buffer starts as the gradient itself.
    expectClose(training.getParams64(model), theta1.map((t, i) => t - 0.5 * g[i]));
  });
  it("fills in PyTorch's defaults", () => {
    expect(resolveOptimizer({ name: 'adamw', lr: 1e-3 })).toMatchObject({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
    expect(resolveOptimizer({ name: 'adam', lr: 1e-3 })).toMatchObject({ weightDecay: 0 });
    expect(resolveOptimizer({ name: 'rmsprop', lr: 1e-2 })).toMatchObject({ alpha: 0.99, eps: 1e-8, weightDecay: 0 });
    expect(resolveOptimizer({ name: 'sgd', lr: 1e-2 })).toMatchObject({ momentum: 0, dampening: 0, nesterov: false });
  });
  it('trainStep without an optimizer is an error', () => {
    const { training, model, batch } = setup();
    expect(() => training.trainStepSync(model, batch)).toThrow(/no optimizer/);
  });
});

describe('non-finite guard', () => {
  it('a NaN loss leaves the parameters and the optimizer state untouched', () => {
    const { training, model, theta, batch } = setup();
    training.setOptimizer(model, { name: 'sgd', lr: 0.1, momentum: 0.9 });
    const bad = { ...batch, x: batch.x!.map((v, i) => (i === 5 ? NaN : v)) };
    const r = training.trainStepSync(model, bad);
    expect(r.loss).toBeNaN();
    expect(training.getParams64(model)).toEqual(theta);
    // The next good step behaves as a first step (buffer = gradient).
    const g = training.lossAndGrads64(model, batch).grads;
    training.trainStepSync(model, batch);
    expectClose(training.getParams64(model), theta.map((t, i) => t - 0.1 * g[i]));
  });
});
