/**
 * Bad arguments straight into the addon (no TypeScript validation in front of it). The
 * addon checks only what protects memory — handle type tags, disposed and busy handles,
 * typed-array element types and exact lengths (sizes from rk_stack_shapes /
 * rk_model_shapes), the byte length of packed structs — each a TypeError / RangeError
 * naming the argument. What a valid spec or value is (a cell, a range, a token id) is
 * decided by TypeScript's validation and, for anything that reaches the addon, by C: an
 * Error with code RK_* and C's message naming the field. Never a crash, and never a
 * computation on a wrong-sized buffer.
 */
import { describe, expect, it } from 'vitest';
import { stackSpecValues } from '../../src/backend/abi/structs.js';
import { batchShapes, modelLayout, paramLayout, sequenceShapes } from '../../src/backend/layout.js';
import type { AddonHandle, NativeAddon } from '../../src/backend/native/addon.js';
import {
  abi,
  addon,
  arrayIndex,
  caught,
  createModel,
  createStack,
  forwardSync,
  GRU,
  LSTM,
  packBatch,
  packModel,
  packOptimizer,
  packStack,
  randomF32,
  readStep,
  TOKEN_MODEL,
  tokenBatch,
} from './native-helpers.js';

const fwd = (steps = 4, batch = 3) => {
  const n = sequenceShapes(LSTM, steps, batch);
  return { x: randomF32(n.x, 1), steps, batch, h0: randomF32(n.h, 2), c0: randomF32(n.c, 3) };
};

/**
 * The TypeError message of a typed array of the wrong element type: it names the argument,
 * the element type and the exact count, then what was given (`got`, when given).
 */
function wrongType(name: string, type: 'Float32Array' | 'Int32Array' | 'Uint8Array', n: number, got?: RegExp): RegExp {
  return new RegExp(`^${name.replace('.', '\\.')} must be an? ${type} of ${n} elements; got ${got ? got.source : ''}`);
}

/** The error of `fn`, which must be a C refusal: code RK_*, message "rnnkit <op> failed (RK_…): <C's message>". */
function cError(fn: () => unknown, op: string, code: string, message: RegExp): void {
  const e = caught(fn);
  expect(e).toBeInstanceOf(Error);
  expect(e).not.toBeInstanceOf(TypeError);
  expect(e).not.toBeInstanceOf(RangeError);
  expect(e.code).toBe(code);
  expect(e.message.startsWith(`rnnkit ${op} failed (${code}): `), e.message).toBe(true);
  expect(e.message).toMatch(message);
}

describe('native addon: stackCreate', () => {
  it('creates a stack from a packed rk_stack_spec; count and layout are those of paramLayout', () => {
    const h = createStack(LSTM);
    expect(addon().stackParamCount(h)).toBe(paramLayout(LSTM).total);
    const layout = addon().stackLayout(h).trim().split('\n');
    expect(layout.map((l) => l.split(' ')[0])).toEqual(paramLayout(LSTM).entries.map((e) => e.name));
    addon().stackDispose(h);
  });

  const size = () => abi().sizeOf('rk_stack_spec');
  it.each([
    ['nothing', () => undefined],
    ['a byte short', () => packStack(LSTM).subarray(0, size() - 1)],
    ['a byte long', () => new Uint8Array(size() + 1)],
    ['an Int8Array of the right byte length', () => new Int8Array(size())],
    ['an Int32Array of the right byte length', () => new Int32Array(size() / 4)],
    ['an ArrayBuffer', () => packStack(LSTM).buffer],
    ['a plain array of bytes', () => Array.from(packStack(LSTM))],
    ['an object with the fields', () => stackSpecValues(abi(), LSTM)],
  ])('refuses %s as the spec with a TypeError naming the packed size', (_what, spec) => {
    const e = caught(() => addon().stackCreate(spec() as never));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(new RegExp(`^spec must be a Uint8Array of ${size()} packed bytes`));
  });

  it('reads a packed spec at its own byte offset', () => {
    const bytes = new Uint8Array(size() + 8);
    bytes.set(packStack(GRU), 8);
    const h = addon().stackCreate(bytes.subarray(8));
    expect(addon().stackParamCount(h)).toBe(paramLayout(GRU).total);
    addon().stackDispose(h);
  });

  // Values are C's to refuse now (the addon packs nothing and checks no range).
  const bad = (patch: Partial<Record<keyof ReturnType<typeof stackSpecValues>, number>>) => () =>
    abi().pack('rk_stack_spec', { ...stackSpecValues(abi(), LSTM), ...patch });
  it.each([
    ['layers 1e9', bad({ layers: 1e9 }), /spec->layers must be in 1\.\.1024; got 1000000000/],
    ['layers 0', bad({ layers: 0 }), /layers/],
    ['an unknown cell', bad({ cell: 99 }), /spec->cell must be an rk_cell .*got 99/],
    ['a negative cell', bad({ cell: -1 }), /cell/],
    ['input_size 0', bad({ input_size: 0 }), /spec->input_size must be in 1\.\./],
    ['hidden_size beyond RK_MAX_WIDTH', bad({ hidden_size: 2 ** 30 }), /hidden_size/],
    ['bidirectional 2', bad({ bidirectional: 2 }), /bidirectional/],
    ['jordan output_size 0', bad({ cell: abi().value('rk_cell', 'jordan'), output_size: 0 }), /output_size/],
    [
      'a parameter count beyond RK_MAX_PARAMS',
      () => packStack({ ...LSTM, inputSize: 2 ** 24, hiddenSize: 2 ** 24, outputSize: 2 ** 24 }),
      /RK_MAX_PARAMS/,
    ],
  ])('C refuses %s: Error with code RK_EINVAL naming the field', (_what, spec, message) => {
    cError(() => addon().stackCreate(spec()), 'create', 'RK_EINVAL', message);
  });
});

/** Every call that takes a stack handle, with otherwise valid arguments. */
function stackCalls(a: NativeAddon, h: AddonHandle): [string, () => unknown][] {
  const f = fwd();
  return [
    ['stackLayout', () => a.stackLayout(h)],
    ['stackParamCount', () => a.stackParamCount(h)],
    ['stackGetParams', () => a.stackGetParams(h)],
    ['stackGetGrads', () => a.stackGetGrads(h)],
    ['stackSetParams', () => a.stackSetParams(h, new Float32Array(paramLayout(LSTM).total))],
    ['stackZeroGrads', () => a.stackZeroGrads(h)],
    ['stackForwardSync', () => a.stackForwardSync(h, f.steps, f.batch, false, f.x)],
    ['stackForward', () => a.stackForward(h, f.steps, f.batch, false, f.x)],
    ['stackBackwardSync', () => a.stackBackwardSync(h, new Float32Array(sequenceShapes(LSTM, 4, 3).y))],
    ['stackBackward', () => a.stackBackward(h, new Float32Array(sequenceShapes(LSTM, 4, 3).y))],
    ['stackDispose', () => a.stackDispose(h)],
  ];
}

/** Every call that takes a model handle, with otherwise valid arguments. */
function modelCalls(a: NativeAddon, h: AddonHandle): [string, () => unknown][] {
  const b = packBatch(tokenBatch(3, 2, 1));
  return [
    ['modelLayout', () => a.modelLayout(h)],
    ['modelParamCount', () => a.modelParamCount(h)],
    ['modelGetParams', () => a.modelGetParams(h)],
    ['modelGetGrads', () => a.modelGetGrads(h)],
    ['modelSetParams', () => a.modelSetParams(h, new Float32Array(modelLayout(TOKEN_MODEL).total))],
    ['modelSetOptimizer', () => a.modelSetOptimizer(h, packOptimizer({ name: 'sgd', lr: 0.1 }))],
    ['modelSetLr', () => a.modelSetLr(h, 0.1)],
    ['modelRunSync', () => a.modelRunSync(h, 2, ...b)],
    ['modelRun', () => a.modelRun(h, 2, ...b)],
    ['modelDispose', () => a.modelDispose(h)],
  ];
}

describe('native addon: handles', () => {
  const notHandles: [string, () => unknown][] = [
    ['undefined', () => undefined],
    ['a number', () => 1],
    ['a plain object', () => ({})],
    ['an object that claims to be a native stack', () => ({ backend: 'native', addonStack: {} })],
    ['a Float32Array', () => new Float32Array(4)],
    ['a packed spec', () => packStack(LSTM)],
  ];

  it.each(notHandles)('every stack call refuses %s with a TypeError', (_what, value) => {
    for (const [name, call] of stackCalls(addon(), value() as never)) {
      const e = caught(call);
      expect(e, name).toBeInstanceOf(TypeError);
      expect(e.message, name).toMatch(/^stack must be a stack handle made by this addon; got /);
    }
  });

  it.each(notHandles)('every model call refuses %s with a TypeError', (_what, value) => {
    for (const [name, call] of modelCalls(addon(), value() as never)) {
      const e = caught(call);
      expect(e, name).toBeInstanceOf(TypeError);
      expect(e.message, name).toMatch(/^model must be a model handle made by this addon; got /);
    }
  });

  it('the type tag tells stacks and models apart: neither is accepted where the other is expected (TypeError)', () => {
    const s = createStack(LSTM);
    const m = createModel(TOKEN_MODEL);
    for (const [name, call] of [...modelCalls(addon(), s), ...stackCalls(addon(), m)]) expect(call, name).toThrow(TypeError);
    // Both still work (nothing was disposed or left busy by the refusals).
    expect(addon().stackParamCount(s)).toBe(paramLayout(LSTM).total);
    expect(addon().modelParamCount(m)).toBe(modelLayout(TOKEN_MODEL).total);
    addon().stackDispose(s);
    addon().modelDispose(m);
  });

  it('… and the TypeError names the expected handle kind', () => {
    const s = createStack(LSTM);
    const m = createModel(TOKEN_MODEL);
    for (const [name, call] of modelCalls(addon(), s)) expect(call, name).toThrow(/^model must be a model handle made by this addon; got external$/);
    for (const [name, call] of stackCalls(addon(), m)) expect(call, name).toThrow(/^stack must be a stack handle made by this addon; got external$/);
  });

  it('refuses every use of a disposed stack, including a second dispose', () => {
    const h = createStack(LSTM);
    addon().stackDispose(h);
    for (const [name, call] of stackCalls(addon(), h)) {
      const e = caught(call);
      expect(e, name).toBeInstanceOf(TypeError);
      expect(e.message, name).toBe('stack handle is disposed; it cannot be used any more');
    }
  });

  it('refuses every use of a disposed model, including a second dispose', () => {
    const h = createModel(TOKEN_MODEL);
    addon().modelDispose(h);
    for (const [name, call] of modelCalls(addon(), h)) {
      const e = caught(call);
      expect(e, name).toBeInstanceOf(TypeError);
      expect(e.message, name).toBe('model handle is disposed; it cannot be used any more');
    }
  });
});

describe('native addon: parameters', () => {
  it('stackSetParams checks element type and exact length and leaves the parameters unchanged on refusal', () => {
    const a = addon();
    const h = createStack(LSTM);
    const n = a.stackParamCount(h);
    const good = randomF32(n, 7);
    a.stackSetParams(h, good);
    expect(() => a.stackSetParams(h, new Float32Array(n - 1))).toThrow(RangeError);
    expect(() => a.stackSetParams(h, new Float32Array(n + 1))).toThrow(`params must have ${n} elements; got ${n + 1}`);
    expect(() => a.stackSetParams(h, new Float64Array(n) as never)).toThrow(TypeError);
    expect(() => a.stackSetParams(h, new Float64Array(n) as never)).toThrow(wrongType('params', 'Float32Array', n));
    expect(() => a.stackSetParams(h, Array.from(good) as never)).toThrow(wrongType('params', 'Float32Array', n, /Array\(\d+\)$/));
    expect(() => a.stackSetParams(h, undefined as never)).toThrow(/params must be a Float32Array; got undefined/);
    expect(a.stackGetParams(h)).toEqual(good);
    a.stackDispose(h);
  });

  it('stackSetParams reads a subarray view at its own offset; getParams/getGrads return copies', () => {
    const a = addon();
    const h = createStack(GRU);
    const n = a.stackParamCount(h);
    const big = randomF32(n + 10, 8);
    a.stackSetParams(h, big.subarray(5, 5 + n));
    expect(a.stackGetParams(h)).toEqual(big.slice(5, 5 + n));
    const copy = a.stackGetParams(h);
    copy.fill(3);
    expect(a.stackGetParams(h)).toEqual(big.slice(5, 5 + n));
    expect(a.stackGetGrads(h)).toEqual(new Float32Array(n));
    a.stackDispose(h);
  });

  it('modelSetParams checks element type and exact length; getParams returns a copy', () => {
    const a = addon();
    const h = createModel(TOKEN_MODEL);
    const n = a.modelParamCount(h);
    expect(n).toBe(modelLayout(TOKEN_MODEL).total);
    const good = randomF32(n, 9);
    a.modelSetParams(h, good);
    expect(() => a.modelSetParams(h, new Float32Array(n - 1))).toThrow(`params must have ${n} elements; got ${n - 1}`);
    expect(() => a.modelSetParams(h, new Int32Array(n) as never)).toThrow(TypeError);
    expect(() => a.modelSetParams(h, null as never)).toThrow(/params must be a Float32Array; got null/);
    const copy = a.modelGetParams(h);
    expect(copy).toEqual(good);
    copy.fill(1);
    expect(a.modelGetParams(h)).toEqual(good);
    a.modelDispose(h);
  });
});

describe('native addon: forward arguments', () => {
  const a = () => addon();
  type Args = [number, number, boolean, unknown, unknown?, unknown?, unknown?];
  const args = (patch: Partial<{ steps: unknown; batch: unknown; x: unknown; h0: unknown; c0: unknown; lengths: unknown }>): Args => {
    const r = { ...fwd(), lengths: undefined as unknown, ...patch };
    return [r.steps as number, r.batch as number, false, r.x, r.h0, r.c0, r.lengths];
  };

  it.each([
    ['steps NaN', { steps: NaN }, RangeError, /^steps must be an integer in 1\.\.2147483647; got NaN$/],
    ['steps 0', { steps: 0 }, RangeError, /^steps.*got 0$/],
    ['steps 1.5', { steps: 1.5 }, RangeError, /^steps.*got 1\.5$/],
    ['steps as a string', { steps: '4' }, RangeError, /^steps.*got "4"$/],
    ['steps missing', { steps: undefined }, RangeError, /^steps.*got undefined$/],
    ['steps beyond int32', { steps: 2 ** 31 }, RangeError, /^steps/],
    ['batch -1', { batch: -1 }, RangeError, /^batch/],
    ['batch Infinity', { batch: Infinity }, RangeError, /^batch/],
    ['x a Float64Array', { x: new Float64Array(36) }, TypeError, wrongType('x', 'Float32Array', 36)],
    ['x an Array', { x: new Array(36).fill(0) }, TypeError, wrongType('x', 'Float32Array', 36, /Array\(36\)$/)],
    ['x missing', { x: undefined }, TypeError, /^x must be a Float32Array; got undefined$/],
    ['x one short', { x: new Float32Array(35) }, RangeError, /^x must have 36 elements; got 35$/],
    ['x one long', { x: new Float32Array(37) }, RangeError, /^x must have 36 elements; got 37$/],
    ['x an ArrayBuffer', { x: new ArrayBuffer(144) }, TypeError, wrongType('x', 'Float32Array', 36)],
    ['a DataView as x', { x: new DataView(new ArrayBuffer(144)) }, TypeError, wrongType('x', 'Float32Array', 36)],
    ['h0 short', { h0: new Float32Array(3) }, RangeError, /^h0 must have 60 elements; got 3$/],
    ['h0 wrong type', { h0: new Int32Array(60) }, TypeError, wrongType('h0', 'Float32Array', 60, /Int32Array\(60\)$/)],
    ['c0 short', { c0: new Float32Array(59) }, RangeError, /^c0 must have 60 elements; got 59$/],
    ['lengths a Float32Array', { lengths: new Float32Array(3) }, TypeError, wrongType('lengths', 'Int32Array', 3, /Float32Array\(3\)$/)],
    ['lengths a Uint32Array', { lengths: new Uint32Array(3) }, TypeError, wrongType('lengths', 'Int32Array', 3)],
    ['lengths of the wrong size', { lengths: new Int32Array(2).fill(1) }, RangeError, /^lengths must have 3 elements; got 2$/],
  ])('refuses %s (sync and async) with an error naming it', (_what, patch, kind, message) => {
    const h = createStack(LSTM);
    const call = args(patch as never);
    expect(() => a().stackForwardSync(h, ...(call as Args as [number, number, boolean, Float32Array]))).toThrow(kind);
    expect(() => a().stackForwardSync(h, ...(call as Args as [number, number, boolean, Float32Array]))).toThrow(message);
    expect(() => a().stackForward(h, ...(call as Args as [number, number, boolean, Float32Array]))).toThrow(message);
    // A refused call leaves the stack usable (not busy, not disposed).
    expect(forwardSync(h, fwd()).y!.length).toBe(sequenceShapes(LSTM, 4, 3).y);
    a().stackDispose(h);
  });

  it.each([
    ['a length beyond steps', Int32Array.from([1, 5, 2]), /rk_stack_forward: lengths\[1\] must be in 0\.\.4 \(T\); got 5$/],
    ['a negative length', Int32Array.from([1, 2, -1]), /lengths\[2\] must be in 0\.\.4 \(T\); got -1$/],
  ])('C refuses %s: Error with code RK_EINVAL naming the element', async (_what, lengths, message) => {
    const h = createStack(LSTM);
    const f = fwd();
    cError(() => a().stackForwardSync(h, f.steps, f.batch, false, f.x, f.h0, f.c0, lengths), 'forward', 'RK_EINVAL', message);
    const e = await a().stackForward(h, f.steps, f.batch, false, f.x, f.h0, f.c0, lengths).then(
      () => undefined,
      (err: Error & { code?: string }) => err,
    );
    expect(e?.code).toBe('RK_EINVAL');
    expect(e?.message).toMatch(message);
    a().stackDispose(h);
  });

  it.each([
    ['sizes whose product overflows', 2 ** 31 - 1, 2 ** 31 - 1],
    ['sizes whose product is merely huge', 2 ** 31 - 1, 2 ** 20],
  ])('C refuses %s before anything is allocated (rk_stack_shapes: RK_EINVAL naming RK_MAX_ELEMENTS)', (_what, steps, batch) => {
    const h = createStack(LSTM);
    cError(() => a().stackForwardSync(h, steps, batch, false, new Float32Array(36)), 'forward', 'RK_EINVAL', /rk_stack_shapes: .*RK_MAX_ELEMENTS = 2147483647/);
    cError(() => a().stackForward(h, steps, batch, true, new Float32Array(36)), 'forward', 'RK_EINVAL', /RK_MAX_ELEMENTS/);
    expect(forwardSync(h, fwd()).y!.length).toBe(sequenceShapes(LSTM, 4, 3).y);
    a().stackDispose(h);
  });

  it('lengths of 0 and T are accepted (padding, truncated-BPTT windows)', () => {
    const h = createStack(LSTM);
    const f = fwd();
    const r = a().stackForwardSync(h, f.steps, f.batch, false, f.x, f.h0, f.c0, Int32Array.from([0, 4, 2]));
    expect(r.y!.length).toBe(sequenceShapes(LSTM, 4, 3).y);
    a().stackDispose(h);
  });

  it('the outputs have the sizes C reports: y, hn and cn (LSTM), no cn without a cell state', () => {
    const h = createStack(LSTM);
    const n = sequenceShapes(LSTM, 4, 3);
    const r = forwardSync(h, fwd());
    expect([r.y!.length, r.hn!.length, r.cn!.length]).toEqual([n.y, n.h, n.c]);
    a().stackDispose(h);
    const g = createStack(GRU);
    const m = sequenceShapes(GRU, 2, 1);
    const rg = forwardSync(g, { x: new Float32Array(m.x), steps: 2, batch: 1 });
    expect(rg.y!.length).toBe(m.y);
    expect(rg.hn!.length).toBe(m.h);
    expect(rg.cn).toBeUndefined();
    a().stackDispose(g);
  });

  it('c0 is not read for a cell without a cell state (refusing it is TypeScript policy)', () => {
    const h = createStack(GRU);
    const n = sequenceShapes(GRU, 2, 1);
    const x = randomF32(n.x, 4);
    const without = a().stackForwardSync(h, 2, 1, false, x);
    expect(a().stackForwardSync(h, 2, 1, false, x, undefined, new Float32Array(1))).toEqual(without);
    a().stackDispose(h);
  });

  it('refuses inputs backed by a SharedArrayBuffer (another thread could rewrite them while C reads them)', () => {
    const h = createStack(LSTM);
    const f = fwd();
    const shared = <T extends Float32Array | Int32Array>(a: T): T => {
      const c = new (a.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
      c.set(a);
      return c;
    };
    const lengths = Int32Array.from([4, 4, 4]);
    for (const args of [
      [shared(f.x), f.h0, f.c0, lengths],
      [f.x, shared(f.h0), f.c0, lengths],
      [f.x, f.h0, f.c0, shared(lengths)],
    ] as const) {
      expect(() => addon().stackForwardSync(h, 4, 3, false, ...args)).toThrow(/^(x|h0|lengths) must be backed by an ArrayBuffer, not a SharedArrayBuffer$/);
      expect(() => addon().stackForward(h, 4, 3, false, ...args)).toThrow(TypeError);
    }
    expect(forwardSync(h, fwd()).y!.length).toBe(sequenceShapes(LSTM, 4, 3).y);
    const m = createModel(TOKEN_MODEL);
    const [bytes, arrays] = packBatch(tokenBatch(3, 2, 26));
    arrays[arrayIndex('tokens')] = shared(arrays[arrayIndex('tokens')] as Int32Array);
    expect(() => addon().modelRunSync(m, 2, bytes, arrays)).toThrow();
    addon().stackDispose(h);
    addon().modelDispose(m);
  });

  it('takes null for absent optional inputs, like undefined', () => {
    const h = createStack(LSTM);
    const f = fwd();
    const r1 = a().stackForwardSync(h, 4, 3, false, f.x, null as never, null as never, null as never);
    const r2 = a().stackForwardSync(h, 4, 3, false, f.x);
    expect(r1).toEqual(r2);
    a().stackDispose(h);
  });
});

describe('native addon: backward arguments', () => {
  it('refuses backward before any training forward, and after an inference forward only, with code RK_ESTATE', () => {
    const h = createStack(LSTM);
    const dy = new Float32Array(sequenceShapes(LSTM, 4, 3).y);
    cError(() => addon().stackBackwardSync(h, dy), 'backward', 'RK_ESTATE', /preceding successful forward with training: true/);
    forwardSync(h, { ...fwd(), training: false });
    cError(() => addon().stackBackwardSync(h, dy), 'backward', 'RK_ESTATE', /preceding successful forward/);
    expect(() => addon().stackBackward(h, dy)).toThrow(/preceding successful forward/);
    addon().stackDispose(h);
  });

  it('checks dy, dhn and dcn against the shape of the last training forward (not of a later inference one)', () => {
    const a = addon();
    const h = createStack(LSTM);
    forwardSync(h, { ...fwd(4, 3), training: true });
    forwardSync(h, { ...fwd(2, 1), training: false }); // does not replace the tape
    const n = sequenceShapes(LSTM, 4, 3);
    expect(() => a.stackBackwardSync(h, new Float32Array(n.y - 1))).toThrow(`dy must have ${n.y} elements; got ${n.y - 1}`);
    expect(() => a.stackBackwardSync(h, new Float32Array(n.y), new Float32Array(1))).toThrow(RangeError);
    expect(() => a.stackBackwardSync(h, new Float32Array(n.y), new Float32Array(1))).toThrow(/^dhn must have 60 elements/);
    expect(() => a.stackBackwardSync(h, new Float32Array(n.y), undefined, new Float64Array(n.c) as never)).toThrow(TypeError);
    expect(() => a.stackBackwardSync(h, new Float32Array(n.y), undefined, new Float64Array(n.c) as never)).toThrow(wrongType('dcn', 'Float32Array', 60));
    expect(() => a.stackBackwardSync(h, 'dy' as never)).toThrow(TypeError);
    expect(() => a.stackBackwardSync(h, undefined as never)).toThrow(/^dy must be a Float32Array; got undefined$/);
    const g = a.stackBackwardSync(h, randomF32(n.y, 4));
    expect(g.dx!.length).toBe(n.x);
    expect(g.dh0!.length).toBe(n.h);
    expect(g.dc0!.length).toBe(n.c);
    a.stackDispose(h);
  });

  it('a refused training forward keeps the previous tape; backward has no dc0 without a cell state', () => {
    const a = addon();
    const h = createStack(GRU);
    const n = sequenceShapes(GRU, 2, 1);
    forwardSync(h, { x: new Float32Array(n.x), steps: 2, batch: 1, training: true });
    expect(() => a.stackForwardSync(h, 2, 1, true, new Float32Array(n.x - 1))).toThrow(RangeError);
    const g = a.stackBackwardSync(h, new Float32Array(n.y), undefined, new Float32Array(1) /* not read: no cell state */);
    expect(g.dx!.length).toBe(n.x);
    expect(g.dc0).toBeUndefined();
    a.stackDispose(h);
  });
});

describe('native addon: models', () => {
  it('modelCreate takes a packed rk_model_spec; the layout is modelLayout', () => {
    const h = createModel(TOKEN_MODEL);
    const names = addon().modelLayout(h).trim().split('\n').map((l) => l.split(' ')[0]);
    expect(names).toEqual(modelLayout(TOKEN_MODEL).entries.map((e) => e.name));
    addon().modelDispose(h);
  });

  it('modelCreate refuses a spec of the wrong byte length or type with a TypeError', () => {
    const size = abi().sizeOf('rk_model_spec');
    for (const spec of [undefined, new Uint8Array(size - 1), new Uint8Array(size + 1), new Float64Array(size / 8), packStack(LSTM)]) {
      expect(() => addon().modelCreate(spec as never)).toThrow(TypeError);
      expect(() => addon().modelCreate(spec as never)).toThrow(new RegExp(`^spec must be a Uint8Array of ${size} packed bytes`));
    }
  });

  it.each([
    ['vocab 0', { ...TOKEN_MODEL, input: { kind: 'embedding', vocab: 0, dim: 3 } }, /vocab/],
    ['stack.layers 1e9', { ...TOKEN_MODEL, stack: { ...TOKEN_MODEL.stack, layers: 1e9 } }, /layers/],
    ['stack.input_size not the input width', { ...TOKEN_MODEL, stack: { ...TOKEN_MODEL.stack, inputSize: 4 } }, /input_size/],
    ['outputs 0', { ...TOKEN_MODEL, outputs: 0 }, /outputs/],
  ] as const)('C refuses %s: Error with code RK_EINVAL naming the field', (_what, spec, message) => {
    cError(() => addon().modelCreate(packModel(spec as never)), 'modelCreate', 'RK_EINVAL', message);
  });

  it('modelRun runs op 0 (train step), 1 (loss and grads) and 2 (evaluate), sync and async', async () => {
    const a = addon();
    const h = createModel(TOKEN_MODEL);
    a.modelSetParams(h, randomF32(a.modelParamCount(h), 20, 0.3));
    a.modelSetOptimizer(h, packOptimizer({ name: 'sgd', lr: 0.1 }));
    const batch = tokenBatch(3, 2, 21);
    const shapes = batchShapes(TOKEN_MODEL, 3, 2);
    const before = a.modelGetParams(h);

    const evaluated = a.modelRunSync(h, 2, ...packBatch(batch));
    expect(Object.keys(evaluated).sort()).toEqual(['cn', 'hn', 'outputs', 'step', 'y']);
    expect(evaluated.outputs!.length).toBe(shapes.outputs);
    expect(evaluated.y!.length).toBe(3 * 2 * 4);
    expect(evaluated.hn!.length).toBe(shapes.h);
    expect(evaluated.cn!.length).toBe(shapes.c);
    const e = readStep(evaluated);
    expect(e.count).toBe(6);
    expect(Number.isFinite(e.loss)).toBe(true);
    expect(e.total_norm).toBe(0);

    const lg = a.modelRunSync(h, 1, ...packBatch(batch));
    expect(Object.keys(lg).sort()).toEqual(['cn', 'hn', 'step']);
    expect(readStep(lg).loss).toBe(e.loss);
    expect(readStep(lg).total_norm).toBeGreaterThan(0);
    expect(a.modelGetParams(h)).toEqual(before); // no update
    expect(a.modelGetGrads(h).some((g) => g !== 0)).toBe(true);

    const trained = await a.modelRun(h, 0, ...packBatch(batch));
    expect(readStep(trained).loss).toBe(e.loss); // the loss before the update
    expect(a.modelGetParams(h)).not.toEqual(before);
    const after = readStep(await a.modelRun(h, 2, ...packBatch(batch)));
    expect(after.loss).toBeLessThan(e.loss);
    a.modelDispose(h);
  });

  it('modelRun checks op, the batch bytes and the arrays list', () => {
    const a = addon();
    const h = createModel(TOKEN_MODEL);
    const [bytes, arrays] = packBatch(tokenBatch(3, 2, 22));
    for (const op of [3, -1, 1.5, '0', undefined]) expect(() => a.modelRunSync(h, op as never, bytes, arrays), String(op)).toThrow(RangeError);
    expect(() => a.modelRunSync(h, 3, bytes, arrays)).toThrow(/^op must be 0 \(train\), 1 \(loss and grads\) or 2 \(evaluate\)$/);
    const size = abi().sizeOf('rk_batch');
    expect(() => a.modelRunSync(h, 2, bytes.subarray(1), arrays)).toThrow(new RegExp(`^batch must be a Uint8Array of ${size} packed bytes`));
    expect(() => a.modelRun(h, 2, new Uint32Array(size / 4) as never, arrays)).toThrow(TypeError);
    expect(() => a.modelRunSync(h, 2, bytes, {} as never)).toThrow(/^arrays must be an Array; got object$/);
    expect(() => a.modelRunSync(h, 2, bytes, new Int32Array(14) as never)).toThrow(TypeError);
    expect(readStep(a.modelRunSync(h, 2, bytes, arrays)).count).toBe(6); // still usable
    a.modelDispose(h);
  });

  it.each([
    ['tokens', 'tokens', new Int32Array(5), RangeError, /^tokens must have 6 elements; got 5$/],
    ['tokens', 'tokens', new Int32Array(7), RangeError, /^tokens must have 6 elements; got 7$/],
    ['tokens', 'tokens', new Float32Array(6), TypeError, wrongType('tokens', 'Int32Array', 6, /Float32Array\(6\)$/)],
    ['tokens', 'tokens', Array.from({ length: 6 }, () => 0), TypeError, wrongType('tokens', 'Int32Array', 6, /Array\(6\)$/)],
    ['targets', 'targets', new Uint8Array(6), TypeError, wrongType('targets', 'Int32Array', 6, /Uint8Array\(6\)$/)],
    ['targets', 'targets', new Int32Array(12), RangeError, /^targets must have 6 elements/],
    ['lengths', 'lengths', new Int32Array(3), RangeError, /^lengths must have 2 elements; got 3$/],
    ['h0', 'h', new Float32Array(7), RangeError, /^h0 must have 8 elements; got 7$/],
    ['c0', 'c', new Int32Array(8), TypeError, wrongType('c0', 'Float32Array', 8)],
  ] as const)('refuses a wrong %s array (index rk_model_array %s) naming it, sync and async', (_name, array, value, kind, message) => {
    const a = addon();
    const h = createModel(TOKEN_MODEL);
    const [bytes, arrays] = packBatch(tokenBatch(3, 2, 23));
    arrays[arrayIndex(array)] = value;
    for (const op of [0, 1, 2]) {
      expect(() => a.modelRunSync(h, op, bytes, arrays)).toThrow(kind);
      expect(() => a.modelRunSync(h, op, bytes, arrays)).toThrow(message);
      expect(() => a.modelRun(h, op, bytes, arrays)).toThrow(message);
    }
    a.modelDispose(h);
  });

  it('target_mask is uint8 (mse models); a wrong element type is a TypeError naming it', () => {
    const spec = { ...TOKEN_MODEL, loss: { kind: 'mse' } } as const;
    const h = createModel(spec);
    const b = { steps: 3, batch: 2, tokens: new Int32Array(6), targetValues: new Float32Array(30), targetMask: new Uint8Array(6).fill(1) };
    const [bytes, arrays] = packBatch(b);
    expect(readStep(addon().modelRunSync(h, 2, bytes, arrays)).count).toBe(30);
    arrays[arrayIndex('target_mask')] = new Int8Array(6);
    expect(() => addon().modelRunSync(h, 2, bytes, arrays)).toThrow(TypeError);
    expect(() => addon().modelRunSync(h, 2, bytes, arrays)).toThrow(wrongType('targetMask', 'Uint8Array', 6));
    arrays[arrayIndex('target_mask')] = undefined;
    arrays[arrayIndex('target_values')] = new Float32Array(29);
    expect(() => addon().modelRunSync(h, 2, bytes, arrays)).toThrow(/^targetValues must have 30 elements; got 29$/);
    addon().modelDispose(h);
  });

  it('arrays the model does not read are not checked (rk_model_shapes says 0)', () => {
    const h = createModel(TOKEN_MODEL);
    const [bytes, arrays] = packBatch(tokenBatch(3, 2, 24));
    const want = addon().modelRunSync(h, 2, bytes, arrays);
    arrays[arrayIndex('x')] = 'not read';
    arrays[arrayIndex('condition')] = new Float64Array(3);
    arrays[arrayIndex('source_tokens')] = 5;
    expect(addon().modelRunSync(h, 2, bytes, arrays)).toEqual(want);
    addon().modelDispose(h);
  });

  it('values are C\'s to refuse: a token beyond vocab, a missing tokens array, a window beyond RK_MAX_ELEMENTS', async () => {
    const a = addon();
    const h = createModel(TOKEN_MODEL);
    const b = tokenBatch(3, 2, 25);
    const badToken = packBatch({ ...b, tokens: Int32Array.from([1, 2, 3, 4, 5, 9]) });
    cError(() => a.modelRunSync(h, 2, ...badToken), 'evaluate', 'RK_EINVAL', /tokens\[5\] must be in 0\.\.6 \(vocab - 1\); got 9/);
    const e = await a.modelRun(h, 0, ...badToken).then(() => undefined, (err: Error & { code?: string }) => err);
    expect(e?.code).toBe('RK_EINVAL');
    expect(e?.message).toMatch(/^rnnkit trainStep failed \(RK_EINVAL\): .*tokens\[5\]/);
    cError(() => a.modelRunSync(h, 1, ...packBatch({ ...b, tokens: undefined })), 'lossAndGrads', 'RK_EINVAL', /tokens must not be NULL/);
    cError(() => a.modelRunSync(h, 2, ...packBatch({ ...b, steps: 2 ** 31 - 1, batch: 2 ** 20 })), 'modelShapes', 'RK_EINVAL', /RK_MAX_ELEMENTS/);
    cError(() => a.modelRunSync(h, 2, ...packBatch({ ...b, steps: 0 })), 'modelShapes', 'RK_EINVAL', /T/);
    expect(readStep(a.modelRunSync(h, 2, ...packBatch(b))).count).toBe(6); // still usable
    a.modelDispose(h);
  });

  it('modelSetOptimizer checks the packed struct; modelSetLr a number; C refuses setLr without an optimizer', () => {
    const a = addon();
    const h = createModel(TOKEN_MODEL);
    cError(() => a.modelSetLr(h, 0.1), 'modelSetLr', 'RK_ESTATE', /optimizer/);
    const size = abi().sizeOf('rk_optimizer');
    expect(() => a.modelSetOptimizer(h, new Uint8Array(size - 8))).toThrow(new RegExp(`^optimizer must be a Uint8Array of ${size} packed bytes`));
    expect(() => a.modelSetOptimizer(h, { name: 'sgd', lr: 0.1 } as never)).toThrow(TypeError);
    a.modelSetOptimizer(h, packOptimizer({ name: 'adam', lr: 0.01 }));
    expect(() => a.modelSetLr(h, '0.1' as never)).toThrow(/^lr must be a number; got "0\.1"$/);
    a.modelSetLr(h, 0.5);
    a.modelDispose(h);
  });
});

describe('native addon: runtime settings', () => {
  it('refuses bad thread counts and ISA names', () => {
    expect(() => addon().setThreads(-1)).toThrow(RangeError);
    expect(() => addon().setThreads(NaN)).toThrow(/^threads must be an integer in 0\.\.2147483647; got NaN$/);
    expect(() => addon().setThreads('2' as never)).toThrow(RangeError);
    expect(() => addon().forceIsa('quantum')).toThrow(RangeError);
    expect(() => addon().forceIsa('quantum')).toThrow(/'quantum' is unknown/);
    expect(() => addon().forceIsa(3 as never)).toThrow(/^isa must be a string; got 3$/);
    expect(() => addon().forceIsa(3 as never)).toThrow(TypeError);
  });

  it('abiDescribe lists every struct, enum and limit', () => {
    const text = addon().abiDescribe();
    for (const name of ['rk_stack_spec', 'rk_model_spec', 'rk_optimizer', 'rk_batch', 'rk_step_result']) expect(text).toMatch(new RegExp(`^struct ${name} \\d+ `, 'm'));
    expect(text).toMatch(/^limit RK_MAX_LAYERS 1024$/m);
  });
});

