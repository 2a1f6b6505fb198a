// Bad input at the API edge: each case must throw a TypeError/RangeError whose message
// names the parameter and shows the expected and the actual value.
import { describe, expect, it } from 'vitest';
import { createStack, resolveSpec, type StackOptions } from '../../src/index.js';

const base: StackOptions = { cell: 'lstm', inputSize: 3, hiddenSize: 4, backend: 'reference' };

describe('stack options', () => {
  it.each([
    [{ hiddenSize: 0 }, RangeError, /hiddenSize must be an integer in 1\.\.16777216; got 0/],
    [{ hiddenSize: -3 }, RangeError, /hiddenSize must be an integer in 1\.\.16777216; got -3/],
    [{ hiddenSize: 2.5 }, RangeError, /hiddenSize must be an integer in 1\.\.16777216; got 2.5/],
    [{ hiddenSize: '4' }, TypeError, /hiddenSize must be an integer in 1\.\.16777216; got "4"/],
    [{ inputSize: 0 }, RangeError, /inputSize must be an integer in 1\.\.16777216; got 0/],
    [{ inputSize: Number.NaN }, RangeError, /inputSize must be an integer in 1\.\.16777216; got NaN/],
    [{ layers: 0 }, RangeError, /layers must be an integer in 1\.\.1024; got 0/],
    [{ bidirectional: 1 }, TypeError, /bidirectional must be a boolean; got 1/],
    [{ cell: 'lstmm' }, RangeError, /cell must be one of .*"lstm".*; got "lstmm"/],
    [{ cell: undefined }, TypeError, /cell must be one of .*; got undefined/],
    [{ outputSize: 3 }, RangeError, /outputSize applies only to cell "jordan"/],
    [{ cell: 'jordan', outputSize: 0 }, RangeError, /outputSize must be an integer in 1\.\.16777216; got 0/],
  ] as const)('%o is rejected', (patch, kind, message) => {
    const options = { ...base, ...patch } as unknown as StackOptions;
    expect(() => resolveSpec(options)).toThrow(kind);
    expect(() => resolveSpec(options)).toThrow(message);
  });

  it('an unknown backend name is rejected', async () => {
    await expect(createStack({ ...base, backend: 'gpu' as never })).rejects.toThrow(/backend must be one of .*; got "gpu"/);
  });
});

describe('forward and backward arguments', () => {
  const steps = 2;
  const batch = 3;
  const x = () => new Float32Array(steps * batch * 3);

  it('wrong input width names x and both sizes', async () => {
    const s = await createStack(base);
    await expect(s.forward(new Float32Array(steps * batch * 4), { steps, batch })).rejects.toThrow(
      /x must have shape \[T=2\]\[B=3\]\[I=3\] = 18 values; got 24/,
    );
  });

  it('x of the wrong type is a TypeError', async () => {
    const s = await createStack(base);
    await expect(s.forward([1, 2, 3] as unknown as Float32Array, { steps, batch })).rejects.toThrow(TypeError);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('%s in x is rejected with its index', async (bad) => {
    const s = await createStack(base);
    const input = x();
    input[7] = bad;
    await expect(s.forward(input, { steps, batch })).rejects.toThrow(new RegExp(`x\\[7\\] is ${bad}`));
  });

  it('non-integer steps and zero batch are rejected', async () => {
    const s = await createStack(base);
    await expect(s.forward(x(), { steps: 1.5, batch })).rejects.toThrow(/steps must be an integer in 1\.\.2147483647; got 1.5/);
    await expect(s.forward(x(), { steps, batch: 0 })).rejects.toThrow(/batch must be an integer in 1\.\.2147483647; got 0/);
  });

  it('a state of the wrong shape names h0 / c0 and the expected shape', async () => {
    const s = await createStack(base);
    await expect(s.forward(x(), { steps, batch, h0: new Float32Array(5) })).rejects.toThrow(
      /h0 must have shape \[L·D=1\]\[B=3\]\[4\] = 12 values; got 5/,
    );
    await expect(s.forward(x(), { steps, batch, c0: new Float32Array(13) })).rejects.toThrow(/c0 must have shape .* = 12 values; got 13/);
  });

  it('NaN in the initial state is rejected', async () => {
    const s = await createStack(base);
    const h0 = new Float32Array(12);
    h0[11] = Number.NaN;
    await expect(s.forward(x(), { steps, batch, h0 })).rejects.toThrow(/h0\[11\] is NaN/);
  });

  it('c0 on a cell without cell state is rejected', async () => {
    const s = await createStack({ ...base, cell: 'gru' });
    await expect(s.forward(x(), { steps, batch, c0: new Float32Array(12) })).rejects.toThrow(/c0 applies only to LSTM cells/);
  });

  it('lengths out of 1..T are rejected with their index', async () => {
    const s = await createStack(base);
    await expect(s.forward(x(), { steps, batch, lengths: [1, 3, 2] })).rejects.toThrow(/lengths\[1\] must be an integer in 1..2/);
    await expect(s.forward(x(), { steps, batch, lengths: [1, 0, 2] })).rejects.toThrow(/lengths\[1\]/);
    await expect(s.forward(x(), { steps, batch, lengths: [1, 2] })).rejects.toThrow(/lengths must have batch=3 entries; got 2/);
    // A Proxy of an Int32Array passed instanceof, then failed with an engine message naming nothing.
    await expect(s.forward(x(), { steps, batch, lengths: new Proxy(new Int32Array([1, 2, 2]), {}) })).rejects.toThrow(/^lengths must be an Int32Array or array of 3 integers; got object$/);
    class Liar extends Int32Array {
      override get length(): number {
        return 3;
      }
    }
    await expect(s.forward(x(), { steps, batch, lengths: new Liar(1) })).rejects.toThrow(/^lengths must have batch=3 entries; got 1$/);
  });

  it('backward before a training forward is an error; dy must match the forward', async () => {
    const s = await createStack(base);
    await expect(s.backward({ dy: new Float32Array(24) })).rejects.toThrow(/preceding forward with training: true/);
    await s.forward(x(), { steps, batch, training: true });
    await expect(s.backward({ dy: new Float32Array(23) })).rejects.toThrow(/dy must have shape \[T=2\]\[B=3\]\[D·S=4\] = 24 values; got 23/);
  });

  it('a disposed stack refuses further use', async () => {
    const s = await createStack(base);
    s.dispose();
    await expect(s.forward(x(), { steps, batch })).rejects.toThrow(/disposed/);
  });
});

describe('parameters by name', () => {
  it('an unknown parameter name is rejected and the known names listed', async () => {
    const s = await createStack(base);
    expect(() => s.setParameter('weight_hh_l1', new Float32Array(64))).toThrow(RangeError);
    expect(() => s.getParameter('weight_hh_l1')).toThrow(/"weight_hh_l1" is not a parameter .* known: weight_ih_l0, weight_hh_l0/);
  });

  it('a parameter array of the wrong length names the parameter and its shape', async () => {
    const s = await createStack(base);
    expect(() => s.setParameter('weight_hh_l0', new Float32Array(15))).toThrow(/weight_hh_l0 must have shape \[16\]\[4\] = 64 values; got 15/);
    expect(() => s.setParameter('bias_ih_l0', new Float64Array(16) as unknown as Float32Array)).toThrow(TypeError);
  });

  it('a parameter set by name reads back unchanged and leaves the others alone', async () => {
    const s = await createStack({ ...base, bidirectional: true });
    const before = s.getParameter('weight_ih_l0');
    const w = Float32Array.from({ length: 48 }, (_, i) => i / 7);
    s.setParameter('weight_ih_l0_reverse', w);
    expect(s.getParameter('weight_ih_l0_reverse')).toEqual(w);
    expect(s.getParameter('weight_ih_l0')).toEqual(before);
  });
});
