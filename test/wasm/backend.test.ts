/**
 * What is particular to the wasm backend (the numbers are the conformance suite's job):
 * the module loads from the package and instantiates with our host imports only, its C ABI
 * agrees with the TypeScript parameter layout, linear memory is given back on dispose,
 * views survive memory growth, and C-side failures arrive as Errors carrying rk_last_error.
 *
 * The module must have been built (`npm run build:wasm`); if it is missing these tests
 * fail with the loader's message — they never skip.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StackSpec } from '../../src/backend/contract.js';
import { CELL_TYPES } from '../../src/backend/contract.js';
import { paramLayout, sequenceShapes } from '../../src/backend/layout.js';
import { loadBackend } from '../../src/backend/load.js';
import { loadWasmBackend, type WasmBackend } from '../../src/backend/wasm/backend.js';
import { instantiateRnnkit } from '../../src/backend/wasm/module.js';
import { autoVariant, RELAXED_SIMD_PROBE, relaxedSimdSupported } from '../../src/backend/wasm/variant.js';
import { hardwareThreads } from '../../src/backend/wasm/threads.js';
// @ts-expect-error — plain .mjs build helper without type declarations
import { PROVIDED_IMPORTS, RELAXED_SIMD_PROBE as BUILD_PROBE, checkModule } from '../../wasm/check.mjs';
// @ts-expect-error — plain .mjs build helper without type declarations
import { abiFunctions } from '../../wasm/build.mjs';

const root = path.resolve(import.meta.dirname, '../..');
const wasmFile = path.join(root, 'wasm/dist/rnnkit.wasm');
const relaxedFile = path.join(root, 'wasm/dist/rnnkit-relaxed.wasm');
/** The SIMD table of the module the loader picks here (RNNKIT_WASM_VARIANT, else what this Node validates). */
const variantHere = process.env.RNNKIT_WASM_VARIANT && process.env.RNNKIT_WASM_VARIANT !== 'auto'
  ? process.env.RNNKIT_WASM_VARIANT
  : autoVariant();
/** The threads it runs: RNNKIT_THREADS (0 = every core) in the threaded build, else 1. */
const threadsHere = !variantHere.startsWith('threads') ? 1 : Number(process.env.RNNKIT_THREADS || 0) || hardwareThreads();
const simdIsa = variantHere === 'relaxed' || variantHere === 'threads-relaxed' ? 'wasm-relaxed-simd' : 'wasm-simd128';

function spec(over: Partial<StackSpec> = {}): StackSpec {
  return { cell: 'lstm', inputSize: 3, hiddenSize: 5, outputSize: 5, layers: 1, bidirectional: false, ...over };
}

/** Deterministic, non-trivial values in [-0.5, 0.5). */
function ramp(n: number, seed = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

let backend: WasmBackend;
beforeAll(async () => {
  backend = await loadWasmBackend();
});

describe('the four modules (simd128, relaxed, threads, threads-relaxed) and which one loads', () => {
  it('the loader probes relaxed SIMD with the bytes the build checks with', () => {
    expect(Array.from(RELAXED_SIMD_PROBE)).toEqual(Array.from(BUILD_PROBE as Uint8Array));
    // The probe with v128.bitselect (also three v128 in, one out; 0x52 as the padded LEB
    // d2 00, the same length) in place of relaxed_madd validates on every SIMD engine: only
    // the relaxed instruction can make the probe fail.
    const bitselect = RELAXED_SIMD_PROBE.slice();
    expect(Array.from(bitselect.subarray(33, 36))).toEqual([0xfd, 0x85, 0x02]);
    bitselect.set([0xfd, 0xd2, 0x00], 33);
    expect(WebAssembly.validate(bitselect)).toBe(true);
    expect(WebAssembly.validate(RELAXED_SIMD_PROBE)).toBe(relaxedSimdSupported());
  });

  it('rnnkit-relaxed.wasm is built and validates exactly where relaxed SIMD does', () => {
    if (!existsSync(relaxedFile)) throw new Error(`${relaxedFile} is missing: npm run build:wasm with clang-16 installed (apt-get install clang-16 lld-16)`);
    expect(WebAssembly.validate(readFileSync(relaxedFile))).toBe(relaxedSimdSupported());
    expect(WebAssembly.validate(readFileSync(wasmFile))).toBe(true);
  });

  // Node 20 validates relaxed SIMD only with --experimental-wasm-relaxed-simd: a child process
  // (the compiled dist/, as the worker needs: npx tsc -p tsconfig.build.json) per case.
  const child = (flags: string[], variant: string | undefined) => {
    const script = `
      const { loadWasmBackend } = await import(${JSON.stringify(path.join(root, 'dist/src/backend/wasm/backend.js'))});
      const { relaxedSimdSupported } = await import(${JSON.stringify(path.join(root, 'dist/src/backend/wasm/variant.js'))});
      const supported = relaxedSimdSupported();
      try { const b = await loadWasmBackend(); console.log(JSON.stringify({ supported, isa: b.info().isa, threaded: b.module.threaded, threads: b.info().threads })); }
      catch (e) { console.log(JSON.stringify({ supported, error: e.message })); }
      process.exit(0);`;
    const env: Record<string, string | undefined> = { ...process.env, RNNKIT_WASM_VARIANT: variant, RNNKIT_WASM_ISA: undefined };
    const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', script], { env: env as NodeJS.ProcessEnv, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { supported: boolean; isa?: string; threaded?: boolean; threads?: number; error?: string };
  };
  const FLAG = '--experimental-wasm-relaxed-simd';

  it('auto: threaded where there are several cores (Node has shared memory), with relaxed SIMD where the engine validates it', () => {
    const several = hardwareThreads() > 1;
    for (const flags of [[], [FLAG]]) {
      const got = child(flags, undefined);
      const want = {
        isa: got.supported ? 'wasm-relaxed-simd' : 'wasm-simd128',
        threaded: several,
        threads: several ? hardwareThreads() : 1,
      };
      expect(got, JSON.stringify({ flags, got })).toMatchObject(want);
    }
    expect(child([FLAG], 'auto')).toMatchObject({ supported: true, threaded: several });
  });

  it('RNNKIT_WASM_VARIANT forces one; a forced relaxed module the engine refuses is an error, not a fallback', () => {
    expect(child([FLAG], 'simd128')).toMatchObject({ isa: 'wasm-simd128', threaded: false, threads: 1 });
    expect(child([FLAG], 'relaxed')).toMatchObject({ isa: 'wasm-relaxed-simd', threaded: false, threads: 1 });
    expect(child([], 'threads')).toMatchObject({ isa: 'wasm-simd128', threaded: true, threads: hardwareThreads() });
    expect(child([FLAG], 'threads-relaxed')).toMatchObject({ isa: 'wasm-relaxed-simd', threaded: true, threads: hardwareThreads() });
    // Named by what the engine lacks and how to get it (V8's own text names another flag).
    const lacking = /^rnnkit(-threads)?-relaxed\.wasm cannot run here: this engine has no relaxed SIMD \(Node 20: node --experimental-wasm-relaxed-simd; Chromium 114\+\)$/;
    const relaxedWithout = child([], 'threads-relaxed');
    if (!relaxedWithout.supported) expect(relaxedWithout.error).toMatch(lacking);
    const without = child([], 'relaxed');
    if (without.supported) expect(without.isa).toBe('wasm-relaxed-simd');
    else expect(without.error).toMatch(lacking);
    expect(child([], 'fast').error).toMatch(/RNNKIT_WASM_VARIANT must be one of "simd128", "relaxed", "threads", "threads-relaxed", "auto"; got "fast"/);
  });
});

describe('wasm module', () => {
  it('exports every rk_* function of rnnkit.h and imports only what wasm-module.ts provides', async () => {
    const bytes = readFileSync(wasmFile);
    const { imports } = checkModule(bytes, abiFunctions());
    // Every listed host import must be one the loader really implements: instantiating
    // with exactly the loader's imports object is the proof.
    expect(imports.every((i: string) => PROVIDED_IMPORTS.includes(i))).toBe(true);
    const m = await instantiateRnnkit(bytes);
    expect(m.readString(m.exports.rk_isa())).toBe('wasm-simd128');
  });

  it('is what loadBackend("wasm") returns, reporting its ISA, its threads and where its async calls run', async () => {
    const b = await loadBackend('wasm');
    expect(b.name).toBe('wasm');
    const isa = process.env.RNNKIT_WASM_ISA || simdIsa;
    const where = process.env.RNNKIT_WASM_WORKER === '0' ? { runsOn: 'calling thread', workerReason: 'RNNKIT_WASM_WORKER=0' } : { runsOn: 'worker' };
    expect(b.info()).toEqual({ backend: 'wasm', isa, threads: threadsHere, ...where });
  });

  it('switches between its two ISA paths and names them when asked for another', async () => {
    const fresh = await loadWasmBackend();
    fresh.forceIsa('scalar');
    expect(fresh.info().isa).toBe('scalar');
    fresh.forceIsa(simdIsa);
    expect(fresh.info().isa).toBe(simdIsa);
    expect(() => fresh.forceIsa('avx2')).toThrow(new RegExp(`RK_EINVAL.*${simdIsa}.*scalar`));
  });

  it('cannot instantiate something that is not rnnkit.wasm', async () => {
    // A valid, empty module: no exports at all.
    const empty = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    await expect(instantiateRnnkit(empty)).rejects.toThrow(/not an rnnkit.wasm module/);
  });
});

describe('WasmBackend', () => {
  it('agrees with the TypeScript parameter layout for every cell, layers and directions', () => {
    for (const cell of CELL_TYPES) {
      for (const layers of [1, 2]) {
        for (const bidirectional of [false, true]) {
          const s = spec({ cell, layers, bidirectional, inputSize: 7, hiddenSize: 3, outputSize: cell === 'jordan' ? 2 : 3 });
          const h = backend.createStack(s);
          const flat = ramp(paramLayout(s).total, 7);
          backend.setParams(h, flat);
          expect(backend.getParams(h)).toEqual(flat);
          expect(backend.getGrads(h)).toEqual(new Float32Array(flat.length));
          backend.dispose(h);
        }
      }
    }
  });

  it('turns a C-side failure into an Error carrying rk_last_error', () => {
    // The public API validates specs first; the backend is called directly to reach C.
    expect(() => backend.createStack(spec({ inputSize: 0 }))).toThrow(/rk_stack_create failed \(RK_EINVAL\): \S+/);
  });

  it('refuses a stack over RK_MAX_PARAMS before allocating (RK_EINVAL naming the limit) and stays usable', () => {
    // 3.2e9 parameters: over the limit, so refused before anything is allocated. (A
    // std::bad_alloc thrown deeper, e.g. by a workspace, is caught at the C ABI too thanks
    // to -fwasm-exceptions; that path needs gigabytes of real memory to exercise.)
    const huge = spec({ inputSize: 20000, hiddenSize: 20000 });
    const before = backend.module.memoryBytes();
    expect(() => backend.createStack(huge)).toThrow(/RK_EINVAL.*RK_MAX_PARAMS/);
    expect(backend.module.memoryBytes()).toBe(before);
    const h = backend.createStack(spec());
    expect(backend.getParams(h).length).toBe(paramLayout(spec()).total);
    backend.dispose(h);
  });

  it('refuses backward before a training forward, and disposed or foreign handles', () => {
    const h = backend.createStack(spec());
    const shapes = sequenceShapes(spec(), 2, 1);
    expect(() => backend.backwardSync(h, { dy: new Float32Array(shapes.y) })).toThrow(/training: true/);
    backend.forwardSync(h, { x: ramp(shapes.x), steps: 2, batch: 1 });
    expect(() => backend.backwardSync(h, { dy: new Float32Array(shapes.y) })).toThrow(/training: true/);
    expect(() => backend.forwardSync(h, { x: new Float32Array(shapes.x + 1), steps: 2, batch: 1 })).toThrow(RangeError);
    backend.dispose(h);
    expect(() => backend.getParams(h)).toThrow(/disposed/);
    expect(() => backend.dispose(h)).toThrow(/disposed/);
    expect(() => backend.getParams({ backend: 'reference' })).toThrow(TypeError);
  });

  it('gives linear memory back: 1000 stacks created and disposed, 1000 forwards', () => {
    const s = spec({ cell: 'gru', inputSize: 17, hiddenSize: 33, layers: 2, bidirectional: true });
    const shapes = sequenceShapes(s, 7, 3);
    const x = ramp(shapes.x);
    const cycle = () => {
      const h = backend.createStack(s);
      backend.setParams(h, ramp(paramLayout(s).total));
      backend.forwardSync(h, { x, steps: 7, batch: 3, training: true });
      backend.backwardSync(h, { dy: ramp(shapes.y) });
      backend.dispose(h);
    };
    for (let i = 0; i < 20; i++) cycle(); // reach the allocator's steady state
    const before = backend.module.memoryBytes();
    for (let i = 0; i < 1000; i++) cycle();
    expect(backend.module.memoryBytes()).toBe(before);
    const h = backend.createStack(s);
    for (let i = 0; i < 1000; i++) backend.forwardSync(h, { x, steps: 7, batch: 3 });
    backend.dispose(h);
    expect(backend.module.memoryBytes()).toBe(before);
  });

  it('keeps results right across memory growth (views are re-created)', async () => {
    // A fresh instance, so that growth certainly happens during this test.
    const fresh = await loadWasmBackend();
    const s = spec({ cell: 'gru', inputSize: 5, hiddenSize: 9 });
    const shapes = sequenceShapes(s, 4, 2);
    const h = fresh.createStack(s);
    const params = ramp(paramLayout(s).total, 3);
    fresh.setParams(h, params);
    const x = ramp(shapes.x, 5);
    const before = fresh.forwardSync(h, { x, steps: 4, batch: 2 });
    const bytes0 = fresh.module.memoryBytes();
    // ~64 MB of parameters and gradients: forces memory.grow.
    const big = spec({ cell: 'lstm', inputSize: 1024, hiddenSize: 1024 });
    const hb = fresh.createStack(big);
    expect(fresh.module.memoryBytes()).toBeGreaterThan(bytes0);
    const after = fresh.forwardSync(h, { x, steps: 4, batch: 2 });
    expect(after.y).toEqual(before.y);
    // A handle points into one instance's memory: another instance refuses it.
    expect(() => backend.getParams(h)).toThrow(/another wasm backend instance/);
    expect(after.hn).toEqual(before.hn);
    expect(fresh.getParams(h)).toEqual(params);
    fresh.dispose(hb);
    fresh.dispose(h);
  });

  it('async forms resolve to the sync results and reject on error', async () => {
    const s = spec({ cell: 'rnn_tanh' });
    const shapes = sequenceShapes(s, 3, 2);
    const h = backend.createStack(s);
    backend.setParams(h, ramp(paramLayout(s).total, 9));
    const x = ramp(shapes.x, 4);
    const sync = backend.forwardSync(h, { x, steps: 3, batch: 2 });
    const async_ = await backend.forward(h, { x, steps: 3, batch: 2, training: true });
    expect(async_.y).toEqual(sync.y);
    const dy = ramp(shapes.y, 2);
    const b = await backend.backward(h, { dy });
    expect(b.dx.length).toBe(shapes.x);
    await expect(backend.backward(h, { dy: new Float32Array(1) })).rejects.toThrow(RangeError);
    backend.dispose(h);
  });
});
