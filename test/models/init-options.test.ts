/**
 * `init` options are checked where models and stacks are made: a misspelt key or value is
 * refused (it used to fall back to the default silently), and a gain or forget bias that is
 * not finite (or overflows float32) is refused (it made every parameter NaN, found only when
 * fit reported a divergence and advised a lower learning rate).
 */
import { describe, expect, it } from 'vitest';
import { createModel, createStack, initModelParams, initStackParams, Random, resolveModelSpec } from '../../src/index.js';

const base = { input: { kind: 'onehot' as const, vocab: 3 }, cell: 'lstm' as const, hiddenSize: 2, outputs: 3, backend: 'reference' as const };

describe('init options', () => {
  const refused: [unknown, RegExp][] = [
    [{ forgetBias: Number.NaN }, /^init\.forgetBias must be a finite number; got NaN$/],
    [{ gain: Number.POSITIVE_INFINITY }, /^init\.gain must be a finite number; got Infinity$/],
    [{ recurrentWeights: 'orthogonal', recurrentGain: Number.NEGATIVE_INFINITY }, /^init\.recurrentGain must be a finite number/],
    [{ gain: '2' }, /^init\.gain must be a number; got string$/],
    [{ bias: 'zeroes' }, /^init\.bias must be one of "pytorch", "zeros"; got "zeroes"$/],
    [{ inputWeights: 'bogus' }, /^init\.inputWeights must be one of "pytorch", "xavier_uniform"/],
    [{ recurrentWeights: 3 }, /^init\.recurrentWeights must be one of/],
    [{ forgetbias: 1 }, /^init\.forgetbias is not an option \(did you mean forgetBias\?\); expected one of seed, inputWeights/],
    [{ seed: 1.5 }, /^init\.seed must be an integer; got 1\.5$/],
    [{ seed: '3' }, /^init\.seed must be an integer; got string "3"$/],
    [{ forgetBias: 1e39 }, /^init: parameter \d+ is Infinity in float32; init\.gain, init\.recurrentGain or init\.forgetBias is too large$/],
    [7, /^init must be an object/],
  ];
  it.each(refused)('createModel refuses init %j', async (init, message) => {
    await expect(createModel({ ...base, init } as never)).rejects.toThrow(message);
  });

  it('createStack, initStackParams and initModelParams check them too', async () => {
    await expect(createStack({ cell: 'gru', inputSize: 3, hiddenSize: 2, init: { gain: Number.NaN }, backend: 'reference' })).rejects.toThrow(/^init\.gain must be a finite number/);
    const stack = { cell: 'gru' as const, inputSize: 3, hiddenSize: 2, outputSize: 2, layers: 1, bidirectional: false };
    expect(() => initStackParams(stack, new Random(1), { bias: 'none' as never })).toThrow(/^init\.bias must be one of/);
    expect(() => initModelParams(resolveModelSpec(base), { recurrentGain: Number.NaN })).toThrow(/^init\.recurrentGain/);
  });

  it('valid options still make the same model as before', async () => {
    const init = { seed: 3, inputWeights: 'xavier_uniform' as const, recurrentWeights: 'orthogonal' as const, bias: 'zeros' as const, forgetBias: 1, gain: 2, recurrentGain: 0.5 };
    const a = await createModel({ ...base, init });
    const b = await createModel({ ...base, init: { ...init } });
    expect(a.getParams()).toEqual(b.getParams());
    expect(a.getParams().every(Number.isFinite)).toBe(true);
    a.dispose();
    b.dispose();
  });
});
