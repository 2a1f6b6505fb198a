/**
 * Thread counts and ISA paths: 1 and 2 threads agree, every ISA path this CPU supports can
 * be forced (through the addon and through RNNKIT_ISA) and is reported by info(), and all
 * paths agree with the scalar one. Agreement uses the conformance bound for a float32
 * backend against the float64 reference (tolerances.ts): two float32 paths that each meet
 * it differ from each other by about as much, since their rounding errors are independent
 * (other summation orders, FMA, approximate exp/tanh) and far below the bound.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { BackwardResult, ForwardResult, StackSpec } from '../../src/backend/contract.js';
import { paramLayout, sequenceShapes } from '../../src/backend/layout.js';
import { createNativeBackend } from '../../src/backend/native/backend.js';
import { expectClose } from '../helpers/compare.js';
import { BACKEND_F32_VS_REFERENCE, scaledBound } from '../helpers/tolerances.js';
import { addon, createStack, randomF32, supportedIsas } from './native-helpers.js';

// Sizes past one SIMD register and one GEMM tile with odd tails, and long enough that
// the thread pool splits the work.
const SPECS: StackSpec[] = [
  { cell: 'lstm', inputSize: 33, hiddenSize: 65, outputSize: 65, layers: 2, bidirectional: true },
  { cell: 'gru', inputSize: 17, hiddenSize: 31, outputSize: 31, layers: 1, bidirectional: false },
  { cell: 'jordan', inputSize: 7, hiddenSize: 19, outputSize: 5, layers: 1, bidirectional: true },
];
const STEPS = 23;
const BATCH = 9;

interface Run {
  f: ForwardResult;
  b: BackwardResult;
  grads: Float32Array;
}

function run(spec: StackSpec, seed: number): Run {
  const a = addon();
  const n = sequenceShapes(spec, STEPS, BATCH);
  const h = createStack(spec);
  a.stackSetParams(h, randomF32(paramLayout(spec).total, seed, 1 / Math.sqrt(spec.hiddenSize)));
  const fr = a.stackForwardSync(h, STEPS, BATCH, true, randomF32(n.x, seed + 1), randomF32(n.h, seed + 2, 0.5));
  const br = a.stackBackwardSync(h, randomF32(n.y, seed + 3));
  const grads = a.stackGetGrads(h);
  a.stackDispose(h);
  return { f: { y: fr.y!, hn: fr.hn!, ...(fr.cn ? { cn: fr.cn } : {}) }, b: { dx: br.dx!, dh0: br.dh0!, ...(br.dc0 ? { dc0: br.dc0 } : {}) }, grads };
}

function expectAgree(what: string, got: Run, want: Run): void {
  const fwd = (x: ArrayLike<number>) => scaledBound(BACKEND_F32_VS_REFERENCE.forwardRel, x);
  const grad = (x: ArrayLike<number>) => scaledBound(BACKEND_F32_VS_REFERENCE.gradRel, x);
  expectClose(`${what} y`, got.f.y, want.f.y, fwd(want.f.y));
  expectClose(`${what} hn`, got.f.hn, want.f.hn, fwd(want.f.hn));
  expectClose(`${what} dx`, got.b.dx, want.b.dx, grad(want.b.dx));
  expectClose(`${what} dh0`, got.b.dh0, want.b.dh0, grad(want.b.dh0));
  expectClose(`${what} grads`, got.grads, want.grads, grad(want.grads));
}

const initialIsa = addon().isa();
afterAll(() => {
  addon().forceIsa(initialIsa);
  addon().setThreads(0);
});

describe('native threads', () => {
  it('setThreads / getThreads round-trip; 0 means every core', () => {
    addon().setThreads(1);
    expect(addon().getThreads()).toBe(1);
    addon().setThreads(2);
    expect(addon().getThreads()).toBe(2);
    addon().setThreads(0);
    expect(addon().getThreads()).toBeGreaterThanOrEqual(1);
  });

  it.each(SPECS.map((s) => [s.cell, s] as const))('1 and 2 threads give the same results [%s]', (_cell, spec) => {
    addon().setThreads(1);
    const one = run(spec, 31);
    addon().setThreads(2);
    const two = run(spec, 31);
    expectAgree('2 threads vs 1', two, one);
  });
});

describe('native ISA paths', () => {
  const isas = supportedIsas();

  it(`this CPU's paths (${isas.join(', ')}) include the one chosen at start-up`, () => {
    expect(isas).toContain(initialIsa);
  });

  it.each(isas)('%s can be forced through the addon and is reported by info()', (isa) => {
    addon().forceIsa(isa);
    expect(addon().isa()).toBe(isa);
    const backend = createNativeBackend();
    expect(backend.info()).toMatchObject({ backend: 'native', isa });
  });

  it.each(isas)('%s can be forced with RNNKIT_ISA', (isa) => {
    addon().forceIsa('scalar');
    const saved = process.env.RNNKIT_ISA;
    process.env.RNNKIT_ISA = isa;
    try {
      expect(createNativeBackend().info().isa).toBe(isa);
    } finally {
      if (saved === undefined) delete process.env.RNNKIT_ISA;
      else process.env.RNNKIT_ISA = saved;
    }
  });

  it('a path this CPU or build lacks is refused, and the path in use is unchanged', () => {
    addon().forceIsa('scalar');
    const foreign = process.arch === 'arm64' ? 'avx2' : 'neon';
    expect(() => addon().forceIsa(foreign)).toThrow(RangeError);
    expect(addon().isa()).toBe('scalar');
    const saved = process.env.RNNKIT_ISA;
    process.env.RNNKIT_ISA = foreign;
    try {
      expect(() => createNativeBackend()).toThrow(/RNNKIT_ISA "(neon|avx2)"/);
    } finally {
      if (saved === undefined) delete process.env.RNNKIT_ISA;
      else process.env.RNNKIT_ISA = saved;
    }
  });

  it.each(SPECS.map((s) => [s.cell, s] as const))('every supported path agrees with scalar [%s]', (_cell, spec) => {
    addon().setThreads(2);
    addon().forceIsa('scalar');
    const scalar = run(spec, 41);
    for (const isa of isas.filter((i) => i !== 'scalar')) {
      addon().forceIsa(isa);
      expectAgree(`${isa} vs scalar`, run(spec, 41), scalar);
    }
  });
});

describe('native per-step split', () => {
  // lstm_forward cuts W_hh by hidden units, one slice per thread, when a step's product is
  // large enough, and measures whether that pays (16 calls alternate split and serial), so
  // 20 calls run both. With several rows every element is computed by the same tile over
  // the same sums either way: bit for bit the same forward at any thread count, on odd
  // widths (slices of 69 or 53 units: vector tails). One row (batch 1) streams the weights
  // in groups of panels whose boundaries move with the cut: the same within rounding.
  const spec: StackSpec = { cell: 'lstm_peephole', inputSize: 13, hiddenSize: 133, outputSize: 133, layers: 2, bidirectional: false };
  function forwards(threads: number, batch: number): Float32Array[] {
    addon().setThreads(threads);
    const a = addon();
    const n = sequenceShapes(spec, 7, batch);
    const h = createStack(spec);
    a.stackSetParams(h, randomF32(paramLayout(spec).total, 5, 1 / Math.sqrt(spec.hiddenSize)));
    const out: Float32Array[] = [];
    for (let call = 0; call < 20; call++) {
      const r = a.stackForwardSync(h, 7, batch, false, randomF32(n.x, 100 + call), randomF32(n.h, 200 + call, 0.5), randomF32(n.c!, 300 + call, 0.5));
      out.push(r.y!, r.hn!, r.cn!);
    }
    a.stackDispose(h);
    return out;
  }
  const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  it.each([3, 16])('threads 2 and 3 equal 1 thread bit for bit (batch %i)', (batch) => {
    const one = forwards(1, batch);
    for (const t of [2, 3]) {
      forwards(t, batch).forEach((x, i) => expect(bytes(x).equals(bytes(one[i])), `threads ${t}, array ${i}`).toBe(true));
    }
  });
  it('threads 2 and 3 agree with 1 thread (batch 1)', () => {
    const one = forwards(1, 1);
    for (const t of [2, 3]) {
      forwards(t, 1).forEach((x, i) => expectClose(`threads ${t}, array ${i}`, x, one[i], scaledBound(BACKEND_F32_VS_REFERENCE.forwardRel, one[i])));
    }
  });
});
