/** Learning-rate schedules. */
import { describe, expect, it } from 'vitest';
import { exponentialDecay, stepDecay, warmupCosine } from '../../src/optim/schedules.js';

describe('learning-rate schedules', () => {
  it('stepDecay multiplies by gamma every `every` steps', () => {
    const s = stepDecay(0.1, 3, 0.5);
    expect([1, 2, 3, 4, 6, 7].map((t) => s(t, 1))).toEqual([0.1, 0.1, 0.1, 0.05, 0.05, 0.025]);
  });
  it('exponentialDecay', () => {
    const s = exponentialDecay(1, 0.9);
    expect(s(1, 1)).toBe(1);
    expect(s(3, 1)).toBeCloseTo(0.81, 15);
  });
  it('warmupCosine rises linearly, peaks at lr, decays to minLr', () => {
    const s = warmupCosine(1, 4, 14, 0.1);
    expect([1, 2, 4].map((t) => s(t, 1))).toEqual([0.25, 0.5, 1]);
    expect(s(9, 1)).toBeCloseTo(0.55, 12); // half-way through the cosine
    expect(s(14, 1)).toBe(0.1);
    expect(s(100, 1)).toBe(0.1);
  });
  it('rejects bad arguments by name', () => {
    expect(() => stepDecay(0, 3)).toThrow(/lr must be a finite number > 0; got 0/);
    expect(() => stepDecay(0.1, 0)).toThrow(/every must be an integer ≥ 1; got 0/);
    expect(() => warmupCosine(1, 5, 5)).toThrow(/total must be an integer ≥ 6; got 5/);
  });
});
