/**
 * Handle memory: a stack or model handle dropped without dispose is freed by its
 * finalizer, and a disposed one is not freed again when collected (the sanitizer run would
 * report a double free; here a leak shows as resident memory that keeps growing).
 */
import { describe, expect, it } from 'vitest';
import type { ModelSpec, StackSpec } from '../../src/backend/contract.js';
import { modelLayout, paramLayout } from '../../src/backend/layout.js';
import { addon, collectGarbage, createModel, createStack } from './native-helpers.js';

// ~2.6 M parameters: 10.5 MB of parameters + as much of gradients per stack.
const SPEC: StackSpec = { cell: 'lstm', inputSize: 256, hiddenSize: 256, outputSize: 256, layers: 2, bidirectional: true };
const COUNT = 40; // ≈ 840 MB per batch, 560 MB of it left to the finalizer

// ~4.2 M parameters (a 65536 × 64 embedding): 17 MB of parameters + as much of gradients per model.
const MODEL: ModelSpec = {
  input: { kind: 'embedding', vocab: 65536, dim: 64 },
  conditionSize: 0,
  stack: { cell: 'gru', inputSize: 64, hiddenSize: 32, outputSize: 32, layers: 1, bidirectional: false },
  outputs: 8,
  loss: { kind: 'cross_entropy', ignoreIndex: -100 },
};
const MODEL_COUNT = 20; // ≈ 680 MB per batch, 450 MB of it left to the finalizer

function stacks(disposeEvery: number): void {
  const a = addon();
  const fill = new Float32Array(paramLayout(SPEC).total).fill(0.5); // touch the pages
  for (let i = 0; i < COUNT; i++) {
    const h = createStack(SPEC);
    a.stackSetParams(h, fill);
    if (i % disposeEvery === 0) a.stackDispose(h); // the rest is left to the finalizer
  }
}

function models(disposeEvery: number): void {
  const a = addon();
  const fill = new Float32Array(modelLayout(MODEL).total).fill(0.5);
  for (let i = 0; i < MODEL_COUNT; i++) {
    const h = createModel(MODEL);
    a.modelSetParams(h, fill);
    if (i % disposeEvery === 0) a.modelDispose(h);
  }
}

/** Collect, then let node run the finalizers it defers to the event loop. */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    await new Promise((r) => setImmediate(r));
  }
}

async function growthOver(batch: () => void): Promise<number> {
  batch();
  await collect();
  const settled = process.memoryUsage().rss;
  for (let round = 0; round < 3; round++) {
    batch();
    await collect();
  }
  return (process.memoryUsage().rss - settled) / 2 ** 20;
}

describe('native handle lifecycle', () => {
  it('collected stack handles give their memory back; disposed ones are not freed twice', async () => {
    const growth = await growthOver(() => stacks(3));
    // Without the finalizer three more batches would keep ~1.7 GB (measured: 1.57 GB).
    expect(growth, `resident memory grew by ${growth.toFixed(0)} MB`).toBeLessThan(150);
  });

  it('collected model handles give their memory back; disposed ones are not freed twice', async () => {
    const growth = await growthOver(() => models(3));
    // Without the finalizer three more batches would keep ~1.3 GB.
    expect(growth, `resident memory grew by ${growth.toFixed(0)} MB`).toBeLessThan(150);
  });
});
