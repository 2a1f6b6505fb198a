/**
 * What is particular to the wasm backend (the numbers are the conformance suite's job):
 * the module loads from the package and instantiates with our host imports only, its C ABI
 * agrees with the TypeScript parameter layout, linear memory is given back on dispose,
 * views survive memory growth, and C-side failures arrive as Errors carrying rk_last_error.
 *
 * The module must have been built (`npm run build:wasm`); if it is missing these tests
 * fail with the loader's message — they never skip.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StackSpec } from '../../src/backend/contract.js';
import { CELL_TYPES } from '../../src/backend/contract.js';
import { paramLayout, sequenceShapes } from '../../src/backend/layout.js';
import { loadBackend } from '../../src/backend/load.js';
import { loadWasmBackend, type WasmBackend } from '../../src/backend/wasm/backend.js';
import { instantiateRnnkit } from '../../src/backend/wasm/module.js';
// @ts-expect-error — plain .mjs build helper without type declarations
import { PROVIDED_IMPORTS, checkModule } from '../../wasm/check.mjs';
// @ts-expect-error — plain .mjs build helper without type declarations
import { abiFunctions } from '../../wasm/build.mjs';

const root = path.resolve(import.meta.dirname, '../..');
const wasmFile = path.join(root, 'wasm/dist/rnnkit.wasm');

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

  it('is what loadBackend("wasm") returns, reporting its ISA, one thread and where its async calls run', async () => {
    const b = await loadBackend('wasm');
    expect(b.name).toBe('wasm');
    const isa = process.env.RNNKIT_WASM_ISA || 'wasm-simd128';
    const where = process.env.RNNKIT_WASM_WORKER === '0' ? { runsOn: 'calling thread', workerReason: 'RNNKIT_WASM_WORKER=0' } : { runsOn: 'worker' };
    expect(b.info()).toEqual({ backend: 'wasm', isa, threads: 1, ...where });
  });

  it('switches between its two ISA paths and names them when asked for another', async () => {
    const fresh = await loadWasmBackend();
    fresh.forceIsa('scalar');
    expect(fresh.info().isa).toBe('scalar');
    fresh.forceIsa('wasm-simd128');
    expect(fresh.info().isa).toBe('wasm-simd128');
    expect(() => fresh.forceIsa('avx2')).toThrow(/RK_EINVAL.*wasm-simd128.*scalar/);
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
