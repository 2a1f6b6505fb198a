/**
 * Tolerances of the training golden cases, stated once (../shared/golden/README.md,
 * "Tolerances for a float32 implementation"). They leave a wide margin over float32
 * rounding in any summation order; the float64 reference is also held to FLOAT64_REL.
 */

/** |ours − golden| ≤ 1e-4 · max(1, |golden|). */
export function lossTolerance(golden: number): number {
  return 1e-4 * Math.max(1, Math.abs(golden));
}

/** Per tensor: max |ours − golden| ≤ 1e-4 · max(1, max |golden|). */
export function gradTolerance(golden: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < golden.length; i++) m = Math.max(m, Math.abs(golden[i]));
  return 1e-4 * Math.max(1, m);
}

/** |ours − golden| ≤ 1e-4 · max(1, golden). */
export function normTolerance(golden: number): number {
  return 1e-4 * Math.max(1, golden);
}

/** y, hn, cn of the variable-length cases. */
export const STATE_TOLERANCE = 1e-5;

/** Elementwise for `after`: 1e-5 + 1e-4 · |golden|. */
export function afterTolerance(golden: number): number {
  return 1e-5 + 1e-4 * Math.abs(golden);
}

/**
 * The float64 reference against float64 PyTorch: the README expects about 1e-12; we allow
 * 1e-9 relative to max(1, |value|) to stay clear of summation-order noise.
 */
export const FLOAT64_REL = 1e-9;
