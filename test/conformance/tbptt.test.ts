/**
 * Truncated BPTT (src/tbptt.ts) on every backend named in RNNKIT_BACKENDS:
 * - one window (window ≥ T) is exactly full BPTT — the same calls, so bit for bit;
 * - windowed runs match the float64 reference core run through the same windows;
 * - sync and async runs agree; its argument checks name the parameter.
 * (That the TBPTT gradients are the gradients of the surrogate loss is test/grad/tbptt.)
 */
import { describe, expect, it } from 'vitest';
import type { Backend, CellType, StackSpec } from '../../src/backend/contract.js';
import { paramLayout } from '../../src/backend/layout.js';
import { ReferenceBackend } from '../../src/backend/reference/index.js';
import { truncatedBptt, truncatedBpttSync, truncatedBpttWith, type TbpttRequest } from '../../src/tbptt.js';
import { describeBackend, requestedBackends } from '../helpers/backends.js';
import { caseName, randomCase } from '../helpers/cases.js';
import { expectClose } from '../helpers/compare.js';
import { reference64Runner } from '../helpers/reference64.js';
import type { CaseInputs } from '../helpers/run.js';
import { BACKEND_F32_VS_REFERENCE, scaledBound } from '../helpers/tolerances.js';

const f32 = (a: Float64Array | undefined) => (a ? Float32Array.from(a) : undefined);

function request(c: CaseInputs, window: number): TbpttRequest {
  return {
    x: Float32Array.from(c.x),
    steps: c.steps,
    batch: c.batch,
    window,
    h0: f32(c.h0),
    c0: f32(c.c0),
    lengths: c.lengths,
    dy: Float32Array.from(c.dy),
    dhn: f32(c.dhn),
    dcn: f32(c.dcn),
  };
}

function spec(cell: CellType, layers: number, I: number, H: number, O = H): StackSpec {
  return { cell, inputSize: I, hiddenSize: H, outputSize: cell === 'jordan' ? O : H, layers, bidirectional: false };
}

const CASES: { spec: StackSpec; steps: number; batch: number; window: number; lengths?: number[] }[] = [
  { spec: spec('lstm', 2, 3, 7), steps: 17, batch: 3, window: 5, lengths: [17, 4, 11] },
  { spec: spec('gru', 1, 7, 17), steps: 33, batch: 2, window: 8 },
  { spec: spec('gru_cho', 2, 1, 3), steps: 9, batch: 1, window: 1 },
  { spec: spec('rnn_tanh', 1, 17, 33), steps: 7, batch: 7, window: 3, lengths: [1, 7, 2, 3, 4, 5, 6] },
  { spec: spec('rnn_relu', 2, 3, 5), steps: 12, batch: 2, window: 4 },
  { spec: spec('lstm_peephole', 1, 5, 3), steps: 10, batch: 3, window: 7, lengths: [10, 8, 9] },
  { spec: spec('jordan', 2, 4, 6, 3), steps: 11, batch: 2, window: 4, lengths: [5, 11] },
];

function makeCase(k: (typeof CASES)[number], seed: number): CaseInputs {
  const c = randomCase(k.spec, { seed, steps: k.steps, batch: k.batch, withState: true, withFinalGrad: true });
  if (k.lengths) c.lengths = Int32Array.from(k.lengths);
  return c;
}

async function fullBpttOn(b: Backend, c: CaseInputs) {
  const stack = b.createStack(c.spec);
  b.setParams(stack, Float32Array.from(c.params));
  const r = request(c, c.steps);
  const fwd = await b.forward(stack, { x: r.x, steps: r.steps, batch: r.batch, h0: r.h0, c0: r.c0, lengths: r.lengths, training: true });
  const bwd = await b.backward(stack, { dy: r.dy, dhn: r.dhn, dcn: r.dcn });
  const grads = b.getGrads(stack);
  b.dispose(stack);
  return { ...fwd, ...bwd, grads };
}

async function tbpttOn(b: Backend, c: CaseInputs, window: number, sync = false) {
  const stack = b.createStack(c.spec);
  b.setParams(stack, Float32Array.from(c.params));
  const out = sync ? truncatedBpttSync(b, stack, c.spec, request(c, window)) : await truncatedBptt(b, stack, c.spec, request(c, window));
  const grads = b.getGrads(stack);
  b.dispose(stack);
  return { ...out, grads };
}

for (const name of requestedBackends()) {
  describeBackend(name, (backend) => {
    CASES.forEach((k, n) => {
      const c = makeCase(k, 1500 + n);
      describe(`tbptt ${caseName(c)} window ${k.window} [${name}]`, () => {
        it('a window ≥ T is full BPTT, bit for bit', async () => {
          const full = await fullBpttOn(backend(), c);
          for (const window of [c.steps, c.steps + 3]) {
            const t = await tbpttOn(backend(), c, window);
            for (const key of ['y', 'hn', 'cn', 'dx', 'dh0', 'dc0', 'grads'] as const) {
              expect(t[key], `window ${window}: ${key}`).toEqual(full[key]);
            }
          }
        });

        it('windowed TBPTT matches the float64 reference core through the same windows', async () => {
          const runner = reference64Runner(c.spec, c.params);
          const want = truncatedBpttWith(c.spec, { ...c, window: k.window }, runner);
          const got = await tbpttOn(backend(), c, k.window);
          const { forwardRel, gradRel } = BACKEND_F32_VS_REFERENCE;
          for (const key of ['y', 'hn', 'cn'] as const) {
            if (want[key]) expectClose(key, got[key], want[key] as Float64Array, scaledBound(forwardRel, want[key] as Float64Array));
          }
          for (const key of ['dx', 'dh0', 'dc0'] as const) {
            if (want[key]) expectClose(key, got[key], want[key] as Float64Array, scaledBound(gradRel, want[key] as Float64Array));
          }
          for (const e of paramLayout(c.spec).entries) {
            const w = runner.grads.subarray(e.offset, e.offset + e.size);
            expectClose(`grad ${e.name}`, got.grads.subarray(e.offset, e.offset + e.size), w, scaledBound(gradRel, w));
          }
        });

        it('sync and async runs agree exactly', async () => {
          const a = await tbpttOn(backend(), c, k.window);
          const s = await tbpttOn(backend(), c, k.window, true);
          expect(s).toEqual(a);
        });
      });
    });
  });
}

describe('truncated BPTT argument checks', () => {
  const b = new ReferenceBackend();
  const c = makeCase(CASES[0], 1);
  const stack = b.createStack(c.spec);
  const good = request(c, 5);
  const bad = (patch: Record<string, unknown>) => ({ ...good, ...patch }) as TbpttRequest;

  it('window must be a positive integer', () => {
    for (const w of [0, -1, 2.5, Number.NaN, Infinity]) {
      expect(() => truncatedBpttSync(b, stack, c.spec, bad({ window: w })), `window ${w}`).toThrow(RangeError);
      expect(() => truncatedBpttSync(b, stack, c.spec, bad({ window: w }))).toThrow(/window/);
    }
    expect(() => truncatedBpttSync(b, stack, c.spec, bad({ window: '5' }))).toThrow(TypeError);
    expect(() => truncatedBpttSync(b, stack, c.spec, bad({ window: undefined }))).toThrow(/window/);
  });

  it('steps and batch must be positive integers', () => {
    expect(() => truncatedBpttSync(b, stack, c.spec, bad({ steps: 0 }))).toThrow(/steps/);
    expect(() => truncatedBpttSync(b, stack, c.spec, bad({ batch: 1.5 }))).toThrow(/batch/);
  });

  it('arrays must have the right type and size', () => {
    expect(() => truncatedBpttSync(b, stack, c.spec, bad({ x: good.x.subarray(1) }))).toThrow(/x must have/);
    expect(() => truncatedBpttSync(b, stack, c.spec, bad({ x: Array.from(good.x) }))).toThrow(TypeError);
    expect(() => truncatedBpttSync(b, stack, c.spec, bad({ dy: good.dy.subarray(1) }))).toThrow(/dy must have/);
    expect(() => truncatedBpttSync(b, stack, c.spec, bad({ h0: new Float32Array(1) }))).toThrow(/h0 must have/);
    expect(() => truncatedBpttSync(b, stack, c.spec, bad({ dhn: new Float32Array(1) }))).toThrow(/dhn must have/);
    expect(() => truncatedBpttSync(b, stack, c.spec, bad({ c0: new Float32Array(1) }))).toThrow(/c0 must have/);
    expect(() => truncatedBpttSync(b, stack, c.spec, bad({ dcn: new Float64Array(good.dcn as Float32Array) }))).toThrow(/dcn must be a Float32Array/);
  });

  it('lengths must be an Int32Array of batch values in 1..steps', () => {
    expect(() => truncatedBpttSync(b, stack, c.spec, bad({ lengths: Int32Array.from([17, 0, 3]) }))).toThrow(/lengths\[1\]/);
    expect(() => truncatedBpttSync(b, stack, c.spec, bad({ lengths: Int32Array.from([18, 1, 3]) }))).toThrow(/lengths\[0\]/);
    expect(() => truncatedBpttSync(b, stack, c.spec, bad({ lengths: Int32Array.from([1, 2]) }))).toThrow(/lengths must have/);
    expect(() => truncatedBpttSync(b, stack, c.spec, bad({ lengths: [1, 2, 3] }))).toThrow(TypeError);
  });

  it('c0/dcn only for LSTM cells, and no bidirectional stacks', () => {
    const g = makeCase(CASES[1], 2);
    const gs = b.createStack(g.spec);
    const req = { ...request(g, 4), c0: new Float32Array(1) };
    expect(() => truncatedBpttSync(b, gs, g.spec, req)).toThrow(/c0 is only for LSTM/);
    const bi = { ...g.spec, bidirectional: true };
    expect(() => truncatedBpttSync(b, b.createStack(bi), bi, request(g, 4))).toThrow(/bidirectional/);
  });

  it('the async form rejects rather than throws', async () => {
    await expect(truncatedBptt(b, stack, c.spec, bad({ window: 0 }))).rejects.toThrow(/window/);
    await expect(truncatedBptt(b, {} as never, c.spec, good)).rejects.toThrow(/stack/);
  });
});
