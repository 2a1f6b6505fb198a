/**
 * The addon is context-aware: it loads in worker_threads (several at once, and again in a
 * new worker after one exits), computes the same numbers there as on the main thread, and
 * a worker terminated while its computation runs does not take the process down.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { StackSpec } from '../../src/backend/contract.js';
import { paramLayout, sequenceShapes } from '../../src/backend/layout.js';
import type { AddonResult } from '../../src/backend/native/addon.js';
import { addon, addonPath, caught, createStack, forwardSync, packStack, randomF32 } from './native-helpers.js';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker-script.mjs');
const SPEC: StackSpec = { cell: 'gru', inputSize: 6, hiddenSize: 9, outputSize: 9, layers: 2, bidirectional: true };

function job(steps: number, batch: number, seed: number) {
  const n = sequenceShapes(SPEC, steps, batch);
  return {
    stack: SPEC,
    spec: packStack(SPEC),
    params: randomF32(paramLayout(SPEC).total, seed, 0.3),
    req: { x: randomF32(n.x, seed + 1), steps, batch, h0: randomF32(n.h, seed + 2) },
  };
}

function inWorker(data: object): Promise<{ isa: string; sync: AddonResult; async: AddonResult }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(script, { workerData: { addonPath: addonPath(), ...data } });
    w.once('message', (m) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
}

function onMainThread(j: ReturnType<typeof job>): AddonResult {
  const h = createStack(j.stack);
  addon().stackSetParams(h, j.params);
  const out = forwardSync(h, j.req);
  addon().stackDispose(h);
  return out;
}

describe('native addon in worker_threads', () => {
  it('loads in two workers at once and computes what the main thread computes', async () => {
    const j1 = job(7, 3, 100);
    const j2 = job(5, 2, 200);
    const [w1, w2] = await Promise.all([inWorker(j1), inWorker(j2)]);
    const m1 = onMainThread(j1);
    const m2 = onMainThread(j2);
    expect(w1.isa).toBe(addon().isa());
    // Same binary, same ISA, same thread count: the same float operations, bit for bit.
    expect(w1.sync).toEqual(m1);
    expect(w1.async).toEqual(m1);
    expect(w2.sync).toEqual(m2);
    expect(w2.async).toEqual(m2);
  });

  it('loads again in a new worker after the first has exited', async () => {
    const j = job(3, 1, 300);
    const first = await inWorker(j);
    const second = await inWorker(j);
    expect(second.sync).toEqual(first.sync);
  });

  it('a worker terminated during an asynchronous forward leaves the main thread working; its computation held off thread changes', async () => {
    const spec = { ...SPEC, inputSize: 64, hiddenSize: 96, outputSize: 96 };
    const steps = 2000; // long: still computing when the main thread tries to change the thread count
    const n = sequenceShapes(spec, steps, 8);
    const data = {
      spec: packStack(spec),
      params: randomF32(paramLayout(spec).total, 400, 0.1),
      req: { x: randomF32(n.x, 401), steps, batch: 8 },
      hang: true,
    };
    const threads = addon().getThreads();
    const w = new Worker(script, { workerData: { addonPath: addonPath(), ...data } });
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    // The gate is process-wide: a computation in a worker_thread holds off the main thread's change.
    expect(caught(() => addon().setThreads(threads === 1 ? 2 : 1)).code).toBe('ERR_RNNKIT_BUSY');
    const code = await w.terminate();
    expect(code).toBe(1); // terminated, not crashed
    const j = job(4, 2, 500);
    expect(onMainThread(j).y!.length).toBe(sequenceShapes(SPEC, 4, 2).y);
    // The terminated worker's computation left the gate: settings change again.
    await expect.poll(() => outcome(() => addon().setThreads(threads)), { timeout: 30_000 }).toBe('ok');
  });
});

function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}
