/**
 * Array comparison with a failure message that says which tensor, where and by how much.
 */
import { expect } from 'vitest';

export interface Difference {
  max: number;
  index: number;
  actual: number;
  expected: number;
}

/** Largest |actual − expected|; NaN or ±Infinity anywhere counts as an infinite difference. */
export function maxDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): Difference {
  let worst: Difference = { max: 0, index: -1, actual: 0, expected: 0 };
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    const diff = Number.isFinite(d) ? d : Infinity;
    if (diff > worst.max || (worst.index < 0 && diff === Infinity)) {
      worst = { max: diff, index: i, actual: actual[i], expected: expected[i] };
    }
  }
  return worst;
}

/** Asserts equal length and max |actual − expected| ≤ bound, naming the tensor on failure. */
export function expectClose(name: string, actual: ArrayLike<number> | undefined, expected: ArrayLike<number>, bound: number): void {
  expect(actual, `${name} is missing`).toBeDefined();
  const a = actual as ArrayLike<number>;
  expect(a.length, `${name}: length`).toBe(expected.length);
  const d = maxDifference(a, expected);
  const where = d.index < 0 ? '' : ` at [${d.index}] (got ${d.actual}, expected ${d.expected})`;
  expect(d.max, `${name}: max |diff| = ${d.max}${where}, bound ${bound}`).toBeLessThanOrEqual(bound);
}
