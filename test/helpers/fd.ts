/**
 * Central finite differences for checking analytic gradients in float64.
 */
import { expect } from 'vitest';
import { Rng } from './random.js';
import { FD } from './tolerances.js';

/** Which entries of an array of length n to check: the first, the last and `extra` random ones. */
export function sampleIndices(n: number, extra: number, rng: Rng): number[] {
  const picks = new Set<number>([0, n - 1]);
  for (let i = 0; i < extra; i++) picks.add(rng.int(0, n - 1));
  return [...picks].filter((i) => i >= 0 && i < n).sort((a, b) => a - b);
}

/** (L(v + h) − L(v − h)) / 2h for entry i of `values`, restoring the entry afterwards. */
export function centralDifference(values: Float64Array, i: number, loss: () => number, step = FD.step): number {
  const saved = values[i];
  values[i] = saved + step;
  const plus = loss();
  values[i] = saved - step;
  const minus = loss();
  values[i] = saved;
  return (plus - minus) / (2 * step);
}

/**
 * Checks analytic[i] against the central difference of `loss` in `values[i]` for each
 * sampled i. `loss` must read `values` (it is perturbed in place).
 */
export function expectGradientMatches(
  name: string,
  values: Float64Array,
  analytic: ArrayLike<number>,
  loss: () => number,
  indices: number[],
): void {
  expect(analytic.length, `${name}: gradient length`).toBe(values.length);
  for (const i of indices) {
    const numeric = centralDifference(values, i, loss);
    const a = analytic[i];
    const bound = FD.abs + FD.rel * Math.max(Math.abs(a), Math.abs(numeric));
    expect(Math.abs(a - numeric), `${name}[${i}]: analytic ${a}, finite difference ${numeric}, bound ${bound}`).toBeLessThanOrEqual(bound);
  }
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number> | undefined): number {
  if (!b) return 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
