/**
 * The threaded WebAssembly build (wasm/dist/rnnkit-threads.wasm; src/backend/wasm/threads.ts):
 * what it imports and exports, that its workers really start and take tasks, that its
 * results are rnnkit.wasm's at every thread count, that it never keeps Node alive, and what
 * happens where shared memory is missing. The numbers of every cell are the conformance
 * suite's job (CI runs it on this build: it is what "auto" loads under Node).
 *
 * The module must have been built (`npm run build:wasm`); these tests fail, never skip, without it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StackSpec } from '../../src/backend/contract.js';
import { paramLayout, sequenceShapes } from '../../src/backend/layout.js';
import { WasmBackend } from '../../src/backend/wasm/backend.js';
import { instantiateRnnkit } from '../../src/backend/wasm/module.js';
import { hardwareThreads, threadWorkersRunning } from '../../src/backend/wasm/threads.js';
// @ts-expect-error — plain .mjs build helper without type declarations
import { PROVIDED_IMPORTS, THREADS_IMPORTS, checkModule } from '../../wasm/check.mjs';
// @ts-expect-error — plain .mjs build helper without type declarations
import { abiFunctions } from '../../wasm/build.mjs';

const root = path.resolve(import.meta.dirname, '../..');
const threadsFile = path.join(root, 'wasm/dist/rnnkit-threads.wasm');
const simdFile = path.join(root, 'wasm/dist/rnnkit.wasm');

/** A backend on one module file, on the calling thread (the comparison needs no worker). */
async function backendOf(file: string): Promise<WasmBackend> {
  return new WasmBackend(await instantiateRnnkit(readFileSync(file)), { worker: false });
}

function ramp(n: number, seed = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * 0.4;
  }
  return a;
}

/** Forward then backward of one stack: everything the step computes. */
function step(b: WasmBackend, spec: StackSpec, steps: number, batch: number) {
  const shapes = sequenceShapes(spec, steps, batch);
  const h = b.createStack(spec);
  try {
    b.setParams(h, ramp(paramLayout(spec).total, 3));
    const fwd = b.forwardSync(h, { x: ramp(shapes.x, 5), steps, batch, training: true });
    const bwd = b.backwardSync(h, { dy: ramp(shapes.y, 7) });
    return { y: fwd.y, hn: fwd.hn, dx: bwd.dx, grads: b.getGrads(h) };
  } finally {
    b.dispose(h);
  }
}

const maxAbsDiff = (a: Float32Array, b: Float32Array): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** A module of dist/src as a string literal for a child's script. */
const distModule = (file: string): string => JSON.stringify(path.join(root, 'dist/src', file));

/**
 * Runs node with `args` (a script) and `env`; the child must exit by itself within a minute
 * (`timedOut` says what a timeout means) with status 0. Its last stdout line, parsed as JSON.
 */
function runChild(args: string[], env: NodeJS.ProcessEnv, timedOut: string): { got: any; stderr: string } {
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 60_000 });
  expect(r.signal, `timed out: ${timedOut}\n${r.stderr}`).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  return { got: JSON.parse(r.stdout.trim().split('\n').pop()!), stderr: r.stderr };
}

const backends: WasmBackend[] = [];
afterAll(() => backends.length = 0);

describe('rnnkit-threads.wasm', () => {
  it('imports its shared memory and only what the loader provides, and exports the workers\' entry', () => {
    const { imports } = checkModule(readFileSync(threadsFile), abiFunctions(), { threads: true });
    expect(imports).toContain('env.memory');
    expect(imports.every((i: string) => PROVIDED_IMPORTS.includes(i) || THREADS_IMPORTS.includes(i))).toBe(true);
    // The single-threaded module is not mistaken for it.
    expect(() => checkModule(readFileSync(simdFile), abiFunctions(), { threads: true })).toThrow(/does not import its memory/);
  });

  it('runs over shared memory with every core by default, and takes 1, 2, 3 or 0 (every core) threads', async () => {
    const b = await backendOf(threadsFile);
    backends.push(b);
    expect(b.module.threaded).toBe(true);
    expect(b.module.exports.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(b.info().threads).toBe(hardwareThreads());
    for (const n of [1, 3, 2]) {
      b.setThreads(n);
      expect(b.info().threads).toBe(n);
    }
    b.setThreads(0);
    expect(b.info().threads).toBe(hardwareThreads());
    expect(() => b.setThreads(-1)).toThrow(/threads must be an integer in 0\.\.256/);
    expect(() => b.setThreads(257)).toThrow(/threads must be an integer in 0\.\.256 \(0 = every core\); got 257/);
    expect(() => b.setThreads(1.5)).toThrow(RangeError);
  });

  it('gives the bits of rnnkit.wasm at 1, 2 and 3 threads (batches 16 and 64; batch 1 within 1e-5), and its workers start', async () => {
    const single = await backendOf(simdFile);
    const threaded = await backendOf(threadsFile);
    backends.push(single, threaded);
    expect(single.info().threads).toBe(1);
    const before = threadWorkersRunning();
    const cases: [StackSpec, number, number][] = [
      [{ cell: 'lstm', inputSize: 48, hiddenSize: 96, outputSize: 96, layers: 2, bidirectional: false }, 6, 16],
      [{ cell: 'gru', inputSize: 40, hiddenSize: 80, outputSize: 80, layers: 1, bidirectional: true }, 5, 64],
      [{ cell: 'lstm', inputSize: 64, hiddenSize: 256, outputSize: 256, layers: 1, bidirectional: false }, 8, 1],
    ];
    // 3 then fewer: a worker beyond the new count must sit out (it would index past per-thread scratch).
    for (const threads of [3, 1, 2]) {
      threaded.setThreads(threads);
      for (const [spec, steps, batch] of cases) {
        const want = step(single, spec, steps, batch);
        const got = step(threaded, spec, steps, batch);
        const tol = batch === 1 ? 1e-5 : 0;
        for (const k of ['y', 'hn', 'dx', 'grads'] as const) {
          expect(maxAbsDiff(got[k], want[k]), `${spec.cell} batch ${batch}, ${threads} threads: ${k}`).toBeLessThanOrEqual(tol);
        }
      }
    }
    // Workers report once they have entered the pool's loop (the pool never waits for them).
    for (let i = 0; i < 200 && threadWorkersRunning() === before; i++) await new Promise((r) => setTimeout(r, 25));
    expect(threadWorkersRunning()).toBeGreaterThan(before);
  });

  // A script file, and the same as `node --input-type=module -e` (whose flag workers refuse to inherit).
  for (const how of ['file', 'eval'] as const) {
  it(`never keeps Node alive: a process that loaded it, computed with 2 threads and trained a model exits by itself (${how})`, () => {
    const script = `
      const { loadWasmBackend } = await import(${distModule('backend/wasm/backend.js')});
      const b = await loadWasmBackend();
      const spec = { cell: 'lstm', inputSize: 32, hiddenSize: 128, outputSize: 128, layers: 1, bidirectional: false };
      const h = b.createStack(spec);
      await b.forward(h, { x: new Float32Array(20 * 64 * 32).fill(0.1), steps: 20, batch: 64 });
      b.forwardSync(h, { x: new Float32Array(20 * 64 * 32).fill(0.1), steps: 20, batch: 64 });
      // A model trained and disposed: its worker is terminated, the page's instance keeps its helpers.
      const { createModel } = await import(${distModule('index.js')});
      const m = await createModel({ backend: 'wasm', input: { kind: 'embedding', vocab: 10, dim: 4 }, cell: 'lstm', hiddenSize: 64, outputs: 10, init: { seed: 1 } });
      await m.fit({ inputs: [[1, 2, 3, 4, 5, 6, 7, 8]], targets: [[2, 3, 4, 5, 6, 7, 8, 9]] }, { epochs: 2, batchSize: 1 });
      m.generate({ start: [1], steps: 5 });
      m.dispose();
      // The calling thread's helpers have started (each says so once it is in the pool's loop).
      const { threadWorkersRunning } = await import(${distModule('backend/wasm/threads.js')});
      for (let i = 0; i < 200 && threadWorkersRunning() === 0; i++) await new Promise((r) => setTimeout(r, 25));
      console.log(JSON.stringify({ threaded: b.module.threaded, threads: b.info().threads, running: threadWorkersRunning() }));`;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'rnnkit-exit-')), 'exit.mjs');
    writeFileSync(file, script);
    const args = how === 'file' ? [file] : ['--input-type=module', '-e', script];
    const { got, stderr } = runChild(args, { ...process.env, RNNKIT_WASM_VARIANT: 'threads', RNNKIT_THREADS: '2' }, 'the process did not exit');
    expect(stderr).not.toMatch(/did not start/);
    expect(got).toMatchObject({ threaded: true, threads: 2 });
    // One helper per instance on this thread (the backend's, and the model's backend's).
    expect(got.running).toBeGreaterThanOrEqual(1);
  });
  }

  // The first product a helper runs sets up its thread-local packing buffers; when that met
  // the caller doing the same, the helper could spin forever in libc++abi's unlocked guard
  // (gemm.cc, Scratch) and the caller waited for its task. Optimised code from the start
  // (--no-liftoff) makes the race likely: the module before the fix hung in 3 of 4 runs.
  it('does not hang when its helper, started and idle, meets its first product together with the caller', () => {
    const script = `
      const { readFileSync } = await import('node:fs');
      const { WasmBackend } = await import(${distModule('backend/wasm/backend.js')});
      const { instantiateRnnkit } = await import(${distModule('backend/wasm/module.js')});
      const { threadWorkersRunning } = await import(${distModule('backend/wasm/threads.js')});
      const bytes = readFileSync(process.env.MODULE_FILE);
      const spec = { cell: 'lstm', inputSize: 128, hiddenSize: 256, outputSize: 256, layers: 1, bidirectional: false };
      const sums = [];
      for (let k = 0; k < 3; k++) {
        const b = new WasmBackend(await instantiateRnnkit(bytes), { worker: false });
        b.setThreads(2);
        const before = threadWorkersRunning();
        for (let i = 0; i < 200 && threadWorkersRunning() === before; i++) await new Promise((r) => setTimeout(r, 25));
        await new Promise((r) => setTimeout(r, 200));  // long enough for the helper to go to sleep
        const h = b.createStack(spec);
        b.setParams(h, new Float32Array(b.getParams(h).length).fill(0.01));
        for (const [steps, batch] of [[256, 1], [16, 64]]) sums.push(b.forwardSync(h, { x: new Float32Array(steps * batch * 128).fill(0.1), steps, batch }).y.reduce((s, v) => s + v, 0));
      }
      console.log(JSON.stringify({ running: threadWorkersRunning(), sums }));
      process.exit(0);`;
    const { got } = runChild(['--no-liftoff', '--input-type=module', '-e', script], { ...process.env, MODULE_FILE: threadsFile }, 'a forward hung');
    expect(got.running).toBeGreaterThanOrEqual(3);
    expect(got.sums).toHaveLength(6);
    for (const s of got.sums) expect(Number.isFinite(s) && s !== 0).toBe(true);
  });

  it('where there is no SharedArrayBuffer: forced, a clear error; auto, the single-threaded build', () => {
    const run = (variant: string) => {
      const script = `
        const { loadWasmBackend } = await import(${distModule('backend/wasm/backend.js')});
        try { const b = await loadWasmBackend(); console.log(JSON.stringify({ threaded: b.module.threaded, threads: b.info().threads })); }
        catch (e) { console.log(JSON.stringify({ error: e.message })); }`;
      const env = { ...process.env, RNNKIT_WASM_VARIANT: variant, RNNKIT_THREADS: undefined } as NodeJS.ProcessEnv;
      return runChild(['--no-harmony-sharedarraybuffer', '--input-type=module', '-e', script], env, 'loading hung').got;
    };
    expect(run('threads').error).toMatch(/rnnkit-threads.wasm cannot run here: this engine has no SharedArrayBuffer/);
    expect(run('auto')).toEqual({ threaded: false, threads: 1 });
  });
});
