/**
 * The wasm engine off the calling thread (src/backend/wasm/worker-host.ts): asynchronous
 * calls compute in a worker_threads worker, so the event loop keeps turning; results are
 * bit for bit those of the in-thread engine (RNNKIT_WASM_WORKER=0); the synchronous calls
 * still answer synchronously from the calling thread's mirror; errors come back with their
 * class and message; a worker that cannot start falls back to the calling thread with the
 * reason in info(); and a process that used the worker exits by itself.
 *
 * The worker script is dist/src/backend/wasm/worker.js: build it first
 * (`npx tsc -p tsconfig.build.json`). Nothing here skips.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelSpec, StackSpec, TrainBatch, TrainingBackend } from '../../src/backend/contract.js';
import { createWasmBackend, type WasmBackend } from '../../src/backend/wasm/backend.js';
import { setWasmWorker } from '../../src/backend/wasm/worker-host.js';
import { createModel, createStack } from '../../src/index.js';

const root = path.resolve(import.meta.dirname, '../..');
const wasmBytes = () => readFileSync(path.join(root, 'wasm/dist/rnnkit.wasm'));

function ramp(n: number, seed = 1, scale = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * scale;
  }
  return a;
}

/** A backend with the worker (the default) or without it (RNNKIT_WASM_WORKER=0). */
async function backendWith(worker: boolean): Promise<WasmBackend> {
  const saved = process.env.RNNKIT_WASM_WORKER;
  if (!worker) process.env.RNNKIT_WASM_WORKER = '0';
  try {
    return await createWasmBackend(wasmBytes());
  } finally {
    if (saved === undefined) delete process.env.RNNKIT_WASM_WORKER;
    else process.env.RNNKIT_WASM_WORKER = saved;
  }
}

afterEach(() => setWasmWorker(undefined));

const MODEL: ModelSpec = {
  input: { kind: 'embedding', vocab: 11, dim: 5 },
  conditionSize: 0,
  stack: { cell: 'lstm', inputSize: 5, hiddenSize: 9, outputSize: 9, layers: 2, bidirectional: false },
  outputs: 11,
  loss: { kind: 'cross_entropy', ignoreIndex: -100 },
};
const T = 7;
const B = 3;
function batch(seed: number): TrainBatch {
  const tok = (k: number) => Int32Array.from({ length: T * B }, (_, i) => (i * 7 + seed * 3 + k) % 11);
  return { steps: T, batch: B, tokens: tok(0), targets: tok(1) };
}

/** Every call of the training contract, asynchronous and synchronous mixed, with what each returned. */
async function trainingScript(t: TrainingBackend): Promise<unknown[]> {
  const out: unknown[] = [];
  const m = t.createModel(MODEL);
  const n = t.getParams(m).length;
  t.setParams(m, ramp(n, 3, 0.4));
  t.setOptimizer(m, { name: 'adam', lr: 0.01 }, { maxNorm: 1 });
  for (let k = 0; k < 4; k++) {
    const r = await t.trainStep(m, batch(k));
    out.push(r.loss, r.totalNorm, r.hn);
    t.setLearningRate(m, 0.01 / (k + 2));
  }
  out.push(t.getParams(m), t.getGrads(m), t.getOptimizerState(m));
  out.push(t.trainStepSync(m, batch(9))); // on the calling thread: the worker's copy is pushed before the next async call
  out.push(await t.evaluate(m, batch(5)));
  out.push(await t.trainStep(m, batch(6)), t.getGrads(m));
  out.push(t.lossAndGradsSync(m, batch(7)));
  const snap = t.getOptimizerState(m)!;
  t.setOptimizer(m, { name: 'adam', lr: 0.005 });
  t.setOptimizerState(m, snap);
  out.push(await t.trainStep(m, batch(8)), t.getParams(m), t.getOptimizerState(m));
  const s = t.createSession(m, B);
  out.push(await t.sessionStep(s, { steps: 2, batch: B, tokens: Int32Array.from({ length: 2 * B }, (_, i) => i % 11) }), t.sessionGetState(s));
  t.disposeSession(s);
  out.push(await t.evaluate(m, batch(1)));
  t.disposeModel(m);
  return out;
}

const STACK: StackSpec = { cell: 'gru', inputSize: 4, hiddenSize: 6, outputSize: 6, layers: 2, bidirectional: true };

async function stackScript(b: WasmBackend): Promise<unknown[]> {
  const out: unknown[] = [];
  const s = b.createStack(STACK);
  b.setParams(s, ramp(b.getParams(s).length, 5, 0.5));
  const x = ramp(T * B * 4, 6);
  const dy = ramp(T * B * 12, 7);
  out.push(await b.forward(s, { x, steps: T, batch: B }));
  out.push(await b.forward(s, { x, steps: T, batch: B, training: true }));
  out.push(await b.backward(s, { dy }), b.getGrads(s));
  out.push(b.backwardSync(s, { dy }), b.getGrads(s)); // the tape is the worker's: made again here
  out.push(await b.backward(s, { dy }), b.getGrads(s)); // the gradients accumulated here are pushed first
  b.zeroGrads(s);
  out.push(b.forwardSync(s, { x, steps: T, batch: B, training: true }), await b.backward(s, { dy }), b.getGrads(s));
  b.dispose(s);
  return out;
}

describe('the wasm engine in a worker', () => {
  it('reports where it runs: in the worker by default, on the calling thread with RNNKIT_WASM_WORKER=0', async () => {
    const w = await backendWith(true);
    expect(w.info()).toMatchObject({ backend: 'wasm', runsOn: 'worker' });
    const inThread = await backendWith(false);
    expect(inThread.info()).toMatchObject({ runsOn: 'calling thread', workerReason: 'RNNKIT_WASM_WORKER=0' });
  });

  it('gives bit-identical results with and without the worker (training, evaluate, sessions, optimizer state)', async () => {
    const [a, b] = [await backendWith(true), await backendWith(false)];
    const got = await trainingScript(a.training);
    const want = await trainingScript(b.training);
    expect(a.info().runsOn).toBe('worker');
    expect(got).toEqual(want);
  });

  it('gives bit-identical results with and without the worker (stacks: forward, backward, tapes and gradients on either side)', async () => {
    const [a, b] = [await backendWith(true), await backendWith(false)];
    expect(await stackScript(a)).toEqual(await stackScript(b));
    expect(a.info().runsOn).toBe('worker');
  });

  it('errors thrown in the worker come back with their class and message; a pending call makes the handle busy', async () => {
    const [a, b] = [await backendWith(true), await backendWith(false)];
    const messages: string[][] = [];
    for (const be of [a, b]) {
      const t = be.training;
      const m = t.createModel(MODEL);
      t.setOptimizer(m, { name: 'sgd', lr: 0.1 });
      const bad = { ...batch(1), tokens: new Int32Array(3) };
      const e1 = await t.trainStep(m, bad).catch((e: unknown) => e);
      const e2 = await t.evaluate(m, { ...batch(1), targets: new Int32Array(2) }).catch((e: unknown) => e);
      const s = be.createStack(STACK);
      const e3 = await be.forward(s, { x: new Float32Array(5), steps: T, batch: B }).catch((e: unknown) => e);
      expect(e1).toBeInstanceOf(RangeError);
      expect(e2).toBeInstanceOf(RangeError);
      expect(e3).toBeInstanceOf(RangeError);
      messages.push([e1, e2, e3].map((e) => (e as Error).message));
      t.disposeModel(m);
      be.dispose(s);
    }
    expect(messages[0]).toEqual(messages[1]);

    const t = a.training;
    const m = t.createModel(MODEL);
    t.setOptimizer(m, { name: 'sgd', lr: 0.1 });
    const pending = t.trainStep(m, batch(2));
    expect(() => t.getParams(m)).toThrow(expect.objectContaining({ code: 'ERR_RNNKIT_BUSY' }));
    await expect(t.evaluate(m, batch(2))).rejects.toMatchObject({ code: 'ERR_RNNKIT_BUSY' });
    await pending;
    expect(t.getParams(m).length).toBeGreaterThan(0);
    t.disposeModel(m);
  });

  it('a worker that cannot start falls back to the calling thread, says why, and computes the same', async () => {
    setWasmWorker(new URL('file:///nonexistent/rnnkit-worker.js'));
    const broken = await backendWith(true);
    setWasmWorker(undefined); // the backend keeps the option it was made with
    const got = await trainingScript(broken.training);
    const info = broken.info();
    expect(info.runsOn).toBe('calling thread');
    expect(info.workerReason).toMatch(/worker/);
    expect(got).toEqual(await trainingScript((await backendWith(false)).training));
  });
});

/**
 * Event-loop delay during long calls. What the bound means: with the engine in the worker the
 * calling thread only posts a batch and receives the results per training step, so its
 * largest delay is set by garbage collection and by the other processes sharing this
 * machine's two cores, not by the model; in-thread, the same work holds it for the whole call
 * (a 2,000-step forward: ~1 s; one step of the fit below: ~450 ms). 50 ms is the target and
 * what a quiet machine shows; the bound is 150 ms because this machine's two cores are
 * shared (load average 5-7 while these tests were written: the main thread then waits to be
 * scheduled, whatever it runs), still several times below what the in-thread engine shows.
 */
describe('the event loop keeps turning during long wasm calls', () => {
  const BOUND_MS = 150;

  async function measure(work: () => Promise<unknown>): Promise<{ maxMs: number; ticks: number; ms: number }> {
    const h = monitorEventLoopDelay({ resolution: 5 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    h.enable();
    await new Promise((resolve) => setTimeout(resolve, 30)); // the monitor's timer is running
    const t0 = performance.now();
    await work();
    await new Promise((resolve) => setTimeout(resolve, 30)); // the monitor records a block when its timer next fires
    h.disable();
    clearInterval(timer);
    return { maxMs: h.max / 1e6, ticks, ms: performance.now() - t0 };
  }

  it('a long forward (2,000 steps) and a long fit in the worker never delay it by more than the bound', async () => {
    const stack = await createStack({ cell: 'lstm', inputSize: 64, hiddenSize: 256, layers: 2, backend: 'wasm' });
    stack.setFlatParameters(ramp(stack.getFlatParameters().length, 2, 0.1));
    const steps = 2000;
    const x = ramp(steps * 4 * 64, 3);
    const fwd = await measure(() => stack.forward(x, { steps, batch: 4 }));
    stack.dispose();

    const model = await createModel({ input: { kind: 'embedding', vocab: 64, dim: 32 }, cell: 'lstm', hiddenSize: 256, layers: 2, outputs: 64, init: { seed: 1 }, backend: 'wasm' });
    const seqs = Array.from({ length: 32 }, (_, k) => Int32Array.from({ length: 200 }, (_, t) => (t * 5 + k) % 64));
    const fit = await measure(() => model.fit({ inputs: seqs, targets: seqs.map((s) => s.map((v) => (v + 1) % 64)) }, { epochs: 2, batchSize: 8, optimizer: { name: 'adam', lr: 0.003 }, seed: 1 }));
    model.dispose();

    console.log(`worker: forward ${fwd.ms.toFixed(0)} ms, max event-loop delay ${fwd.maxMs.toFixed(1)} ms, ${fwd.ticks} ticks; fit ${fit.ms.toFixed(0)} ms, max delay ${fit.maxMs.toFixed(1)} ms, ${fit.ticks} ticks`);
    for (const r of [fwd, fit]) {
      expect(r.maxMs).toBeLessThan(BOUND_MS);
      // A 10 ms timer fired through the call (at least a third of the possible ticks).
      expect(r.ticks).toBeGreaterThan(r.ms / 10 / 3);
    }
  });

  it('the same forward in-thread (RNNKIT_WASM_WORKER=0) blocks it for the whole call: the measure sees what it should', async () => {
    const b = await backendWith(false);
    const s = b.createStack({ cell: 'lstm', inputSize: 64, hiddenSize: 256, outputSize: 256, layers: 2, bidirectional: false });
    b.setParams(s, ramp(b.getParams(s).length, 2, 0.1));
    const steps = 1000;
    const r = await measure(() => b.forward(s, { x: ramp(steps * 4 * 64, 3), steps, batch: 4 }));
    console.log(`in-thread: forward ${r.ms.toFixed(0)} ms, max event-loop delay ${r.maxMs.toFixed(1)} ms, ${r.ticks} ticks`);
    expect(r.maxMs).toBeGreaterThan(Math.min(BOUND_MS, r.ms * 0.8));
    expect(r.ticks).toBeLessThan(r.ms / 10 / 3);
    b.dispose(s);
  });
});

describe('process lifetime', () => {
  it('a process that used the wasm worker exits by itself: with and without dispose, and with the worker still starting', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rnnkit-worker-exit-'));
    const script = path.join(dir, 'use.mjs');
    writeFileSync(
      script,
      `import { createModel, createStack, defaultBackend } from ${JSON.stringify(path.join(root, 'dist/src/index.js'))};
const dispose = process.argv[2] === 'dispose';
if (process.argv[2] === 'idle') {
  // A stack made, no call: the worker is still starting when the script ends.
  await createStack({ cell: 'gru', inputSize: 2, hiddenSize: 3 });
  console.log(JSON.stringify((await defaultBackend()).info()));
  process.exitCode = 0;
} else {
const model = await createModel({ input: { kind: 'onehot', vocab: 5 }, cell: 'gru', hiddenSize: 8, outputs: 5, init: { seed: 1 } });
const seqs = [Int32Array.of(0, 1, 2, 3), Int32Array.of(1, 2, 3, 4)];
await model.fit({ inputs: seqs, targets: seqs }, { epochs: 2, batchSize: 2 });
const s = await createStack({ cell: 'lstm', inputSize: 3, hiddenSize: 4 });
await s.forward(new Float32Array(6), { steps: 2, batch: 1 });
const info = (await defaultBackend()).info();
if (dispose) { model.dispose(); s.dispose(); }
console.log(JSON.stringify(info));
}
`,
    );
    for (const mode of ['dispose', 'keep', 'idle']) {
      const r = spawnSync(process.execPath, [script, mode], { env: { ...process.env, RNNKIT_BACKEND: 'wasm' }, encoding: 'utf8', timeout: 60_000 });
      expect(r.signal, `${mode}: killed after 60 s — the process did not exit by itself`).toBeNull();
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim())).toMatchObject({ backend: 'wasm', runsOn: 'worker' });
    }
  });
});
