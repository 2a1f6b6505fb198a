/**
 * Bad arguments straight into the addon (no TypeScript validation in front of it): every
 * one must be a JS TypeError / RangeError / Error naming the argument — never a crash, and
 * never a computation on a wrong-sized buffer.
 */
import { describe, expect, it } from 'vitest';
import { sequenceShapes } from '../../src/backend/layout.js';
import { addon, GRU, LSTM, randomF32 } from './native-helpers.js';

const fwd = (steps = 4, batch = 3) => {
  const n = sequenceShapes(LSTM, steps, batch);
  return { x: randomF32(n.x, 1), steps, batch, h0: randomF32(n.h, 2), c0: randomF32(n.c, 3) };
};

describe('native addon: create', () => {
  it('accepts a valid spec and reports the layout size', () => {
    const h = addon().create(LSTM);
    expect(addon().paramCount(h)).toBeGreaterThan(0);
    addon().dispose(h);
  });

  it.each([
    ['no spec', undefined, TypeError, /spec must be an object/],
    ['an array', [1, 2], TypeError, /spec must be an object/],
    ['unknown cell', { ...LSTM, cell: 'transformer' }, RangeError, /spec\.cell must be one of .*got "transformer"/],
    ['cell as a number', { ...LSTM, cell: 2 }, TypeError, /spec\.cell/],
    ['inputSize 0', { ...LSTM, inputSize: 0 }, RangeError, /spec\.inputSize must be an integer in 1\.\..*got 0/],
    ['hiddenSize NaN', { ...LSTM, hiddenSize: NaN }, RangeError, /spec\.hiddenSize.*got NaN/],
    ['hiddenSize 2.5', { ...LSTM, hiddenSize: 2.5 }, RangeError, /spec\.hiddenSize.*got 2\.5/],
    ['hiddenSize as a string', { ...LSTM, hiddenSize: '5' }, TypeError, /spec\.hiddenSize.*got "5"/],
    ['layers Infinity', { ...LSTM, layers: Infinity }, RangeError, /spec\.layers/],
    ['layers beyond int32', { ...LSTM, layers: 2 ** 31 }, RangeError, /spec\.layers/],
    ['bidirectional 1', { ...LSTM, bidirectional: 1 }, TypeError, /spec\.bidirectional must be a boolean; got 1/],
    ['outputSize -1', { ...LSTM, cell: 'jordan', outputSize: -1 }, RangeError, /spec\.outputSize/],
  ])('refuses %s', (_what, spec, kind, message) => {
    expect(() => addon().create(spec as never)).toThrow(kind);
    expect(() => addon().create(spec as never)).toThrow(message);
  });

  it('turns a C-level refusal (a parameter count that cannot be allocated) into an Error with a status code', () => {
    let err: unknown;
    try {
      addon().create({ ...LSTM, inputSize: 2 ** 30, hiddenSize: 2 ** 30 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^rnnkit create failed \(RK_E[A-Z]+\)/);
    expect((err as { code?: string }).code).toMatch(/^RK_E(INVAL|NOMEM)$/);
  });
});

describe('native addon: handles', () => {
  const notHandles: [string, unknown][] = [
    ['undefined', undefined],
    ['a number', 1],
    ['a plain object', {}],
    ['an object that claims to be a native stack', { backend: 'native' }],
    ['a Float32Array', new Float32Array(4)],
  ];
  it.each(notHandles)('every call refuses %s with a TypeError', (_what, h) => {
    const a = addon();
    const calls: (() => unknown)[] = [
      () => a.paramCount(h as never),
      () => a.getParams(h as never),
      () => a.getGrads(h as never),
      () => a.setParams(h as never, new Float32Array(1)),
      () => a.zeroGrads(h as never),
      () => a.forwardSync(h as never, fwd()),
      () => a.forward(h as never, fwd()),
      () => a.backwardSync(h as never, { dy: new Float32Array(1) }),
      () => a.backward(h as never, { dy: new Float32Array(1) }),
      () => a.dispose(h as never),
    ];
    for (const call of calls) expect(call).toThrow(/stack must be a stack handle made by this addon's create\(\)/);
    for (const call of calls) expect(call).toThrow(TypeError);
  });

  it("refuses an object made from a handle's constructor (no stack behind it)", () => {
    const h = addon().create(LSTM);
    const Ctor = (h as { constructor: new () => object }).constructor;
    const forged = new Ctor();
    expect(() => addon().getParams(forged as never)).toThrow(TypeError);
    addon().dispose(h);
  });

  it('refuses every use of a disposed handle, including a second dispose', async () => {
    const a = addon();
    const h = a.create(LSTM);
    a.dispose(h);
    const message = /disposed stack handle/;
    expect(() => a.paramCount(h)).toThrow(message);
    expect(() => a.getParams(h)).toThrow(message);
    expect(() => a.getGrads(h)).toThrow(message);
    expect(() => a.setParams(h, new Float32Array(1))).toThrow(message);
    expect(() => a.zeroGrads(h)).toThrow(message);
    expect(() => a.forwardSync(h, fwd())).toThrow(message);
    expect(() => a.forward(h, fwd())).toThrow(message);
    expect(() => a.backwardSync(h, { dy: new Float32Array(1) })).toThrow(message);
    expect(() => a.dispose(h)).toThrow(TypeError);
  });
});

describe('native addon: parameters', () => {
  it('setParams checks type and exact length and leaves the parameters unchanged on refusal', () => {
    const a = addon();
    const h = a.create(LSTM);
    const n = a.paramCount(h);
    const good = randomF32(n, 7);
    a.setParams(h, good);
    expect(() => a.setParams(h, new Float32Array(n - 1))).toThrow(RangeError);
    expect(() => a.setParams(h, new Float32Array(n + 1))).toThrow(/params must have shape \[\d+\] = \d+ values; got \d+/);
    expect(() => a.setParams(h, new Float64Array(n) as never)).toThrow(TypeError);
    expect(() => a.setParams(h, Array.from(good) as never)).toThrow(/params must be a Float32Array.*got Array/);
    expect(() => a.setParams(h, undefined as never)).toThrow(TypeError);
    expect(a.getParams(h)).toEqual(good);
    a.dispose(h);
  });

  it('setParams reads a subarray view at its own offset; getParams/getGrads return copies', () => {
    const a = addon();
    const h = a.create(GRU);
    const n = a.paramCount(h);
    const big = randomF32(n + 10, 8);
    a.setParams(h, big.subarray(5, 5 + n));
    expect(a.getParams(h)).toEqual(big.slice(5, 5 + n));
    const copy = a.getParams(h);
    copy.fill(3);
    expect(a.getParams(h)).toEqual(big.slice(5, 5 + n));
    expect(a.getGrads(h)).toEqual(new Float32Array(n));
    a.dispose(h);
  });
});

describe('native addon: forward arguments', () => {
  const a = () => addon();

  it.each([
    ['request not an object', 5, TypeError, /forward request must be an object; got 5/],
    ['steps NaN', { steps: NaN }, RangeError, /steps must be an integer in 1\.\..*got NaN/],
    ['steps 0', { steps: 0 }, RangeError, /steps.*got 0/],
    ['steps 1.5', { steps: 1.5 }, RangeError, /steps.*got 1\.5/],
    ['steps as a string', { steps: '4' }, TypeError, /steps.*got "4"/],
    ['steps missing', { steps: undefined }, TypeError, /steps.*got undefined/],
    ['batch -1', { batch: -1 }, RangeError, /batch/],
    ['batch Infinity', { batch: Infinity }, RangeError, /batch/],
    ['x a Float64Array', { x: new Float64Array(36) }, TypeError, /x must be a Float32Array of shape \[T=4\]\[B=3\]\[I=3\] \(36 values\); got Float64Array\(36\)/],
    ['x an Array', { x: new Array(36).fill(0) }, TypeError, /x must be a Float32Array.*got Array\(36\)/],
    ['x missing', { x: undefined }, TypeError, /x must be a Float32Array/],
    ['x one short', { x: new Float32Array(35) }, RangeError, /x must have shape \[T=4\]\[B=3\]\[I=3\] = 36 values; got 35/],
    ['x one long', { x: new Float32Array(37) }, RangeError, /got 37/],
    ['h0 short', { h0: new Float32Array(3) }, RangeError, /h0 must have shape \[L·D=4\]\[B=3\]\[S=5\] = 60 values; got 3/],
    ['h0 wrong type', { h0: new Int32Array(60) }, TypeError, /h0 must be a Float32Array/],
    ['c0 short', { c0: new Float32Array(59) }, RangeError, /c0 must have shape/],
    ['lengths a Float32Array', { lengths: new Float32Array(3) }, TypeError, /lengths must be a Int32Array/],
    ['lengths of the wrong size', { lengths: new Int32Array(2).fill(1) }, RangeError, /lengths must have shape \[B=3\] = 3 values; got 2/],
    ['a length beyond steps', { lengths: Int32Array.from([1, 5, 2]) }, RangeError, /lengths\[1\] must be in 0\.\.4 \(steps\); got 5/],
    ['a negative length', { lengths: Int32Array.from([1, 2, -1]) }, RangeError, /lengths\[2\] must be in 0\.\.4/],
    ['training not a boolean', { training: 1 }, TypeError, /training must be a boolean; got 1/],
    ['sizes whose product overflows', { steps: 2 ** 31 - 1, batch: 2 ** 31 - 1 }, RangeError, /x would need more elements than this machine can address/],
    ['sizes whose product is merely huge', { steps: 2 ** 31 - 1, batch: 2 ** 20 }, RangeError, /x must have shape \[T=2147483647\]\[B=1048576\]\[I=3\]/],
  ])('refuses %s (sync and async)', (_what, patch, kind, message) => {
    const h = a().create(LSTM);
    const req = (typeof patch === 'object' ? { ...fwd(), ...patch } : patch) as never;
    expect(() => a().forwardSync(h, req)).toThrow(kind);
    expect(() => a().forwardSync(h, req)).toThrow(message);
    expect(() => a().forward(h, req)).toThrow(message);
    // A refused call leaves the stack usable (not busy, not disposed).
    expect(a().forwardSync(h, fwd()).y.length).toBe(sequenceShapes(LSTM, 4, 3).y);
    a().dispose(h);
  });

  it('refuses c0 for a cell without a cell state', () => {
    const h = a().create(GRU);
    const n = sequenceShapes(GRU, 2, 1);
    expect(() => a().forwardSync(h, { x: new Float32Array(n.x), steps: 2, batch: 1, c0: new Float32Array(n.h) })).toThrow(
      /c0 applies only to LSTM cells/,
    );
    expect(a().forwardSync(h, { x: new Float32Array(n.x), steps: 2, batch: 1 }).cn).toBeUndefined();
    a().dispose(h);
  });

  it('takes null for absent optional inputs, like undefined', () => {
    const h = a().create(LSTM);
    const r1 = a().forwardSync(h, { ...fwd(), h0: null, c0: null, lengths: null } as never);
    const r2 = a().forwardSync(h, { x: fwd().x, steps: 4, batch: 3 });
    expect(r1).toEqual(r2);
    a().dispose(h);
  });
});

describe('native addon: backward arguments', () => {
  it('refuses backward before any training forward, with code RK_ESTATE', async () => {
    const h = addon().create(LSTM);
    expect(() => addon().backwardSync(h, { dy: new Float32Array(4 * 3 * 10) })).toThrow(/preceding successful forward with training: true/);
    addon().forwardSync(h, { ...fwd(), training: false });
    let err: { code?: string } | undefined;
    try {
      addon().backwardSync(h, { dy: new Float32Array(4 * 3 * 10) });
    } catch (e) {
      err = e as { code?: string };
    }
    expect(err?.code).toBe('RK_ESTATE');
    addon().dispose(h);
  });

  it('checks dy, dhn and dcn against the shape of the last training forward', () => {
    const h = addon().create(LSTM);
    addon().forwardSync(h, { ...fwd(4, 3), training: true });
    const n = sequenceShapes(LSTM, 4, 3);
    expect(() => addon().backwardSync(h, { dy: new Float32Array(n.y - 1) })).toThrow(/dy must have shape \[T=4\]\[B=3\]\[D·S=10\] = 120 values; got 119/);
    expect(() => addon().backwardSync(h, { dy: new Float32Array(n.y), dhn: new Float32Array(1) })).toThrow(RangeError);
    expect(() => addon().backwardSync(h, { dy: new Float32Array(n.y), dcn: new Float64Array(n.c) } as never)).toThrow(TypeError);
    expect(() => addon().backwardSync(h, 'dy' as never)).toThrow(/backward request must be an object/);
    const g = addon().backwardSync(h, { dy: randomF32(n.y, 4) });
    expect(g.dx.length).toBe(n.x);
    expect(g.dh0.length).toBe(n.h);
    expect(g.dc0?.length).toBe(n.c);
    addon().dispose(h);
  });

  it('refuses dcn for a cell without a cell state', () => {
    const h = addon().create(GRU);
    const n = sequenceShapes(GRU, 2, 1);
    addon().forwardSync(h, { x: new Float32Array(n.x), steps: 2, batch: 1, training: true });
    expect(() => addon().backwardSync(h, { dy: new Float32Array(n.y), dcn: new Float32Array(n.h) })).toThrow(/dcn applies only to LSTM cells/);
    addon().dispose(h);
  });
});

describe('native addon: runtime settings', () => {
  it('refuses bad thread counts and ISA names', () => {
    expect(() => addon().setThreads(-1)).toThrow(RangeError);
    expect(() => addon().setThreads(NaN)).toThrow(/threads must be an integer in 0\.\..*got NaN/);
    expect(() => addon().setThreads('2' as never)).toThrow(TypeError);
    expect(() => addon().forceIsa('quantum')).toThrow(RangeError);
    expect(() => addon().forceIsa('quantum')).toThrow(/isa "quantum" cannot be forced/);
    expect(() => addon().forceIsa(3 as never)).toThrow(TypeError);
  });
});
