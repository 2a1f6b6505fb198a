/**
 * Every numeric tolerance of the conformance and gradient suites, in one place.
 *
 * Each bound is a maximum absolute difference, optionally scaled by the size of the
 * expected tensor: `scaledBound(rel, expected) = rel · max(1, max |expected|)`, computed
 * per tensor (per output array, per parameter tensor), so a tensor of large values gets a
 * proportionally larger bound while tensors of values below 1 are held to the absolute one.
 */

/**
 * A float32 backend against the golden (PyTorch float64) vectors — the bounds stated in
 * shared/golden/README.md. PyTorch's own float32 recomputation of the cases stays within
 * 1.2e-7 (forward) and 3e-7 relative (gradients); the bounds leave ~100× room for other
 * summation orders, FMA contraction and approximate exp/tanh in fused kernels.
 */
export const GOLDEN_F32 = {
  /** y, hn, cn: max |ours − golden| ≤ 1e-5 (absolute). */
  forwardAbs: 1e-5,
  /** dx, dh0, dc0 and every weight gradient: ≤ 1e-4 · max(1, max |golden|) per tensor. */
  gradRel: 1e-4,
};

/**
 * The float64 reference core against the golden vectors. The golden README reports an
 * independent NumPy float64 implementation agreeing to 5e-16 and says a float64
 * implementation "should agree to about 1e-12"; ours agrees to 2.2e-16 (forward) and
 * 1.8e-15 (gradients). 1e-12 leaves room for other summation orders of the short dot
 * products here, while every deliberate formula error we tried moves some value by > 1e-3.
 */
export const REFERENCE_F64_VS_GOLDEN = {
  forwardAbs: 1e-12,
  gradRel: 1e-12,
};

/**
 * A float32 backend (through the Backend interface) against the float64 reference core on
 * the random case table (test/conformance/case-table.test.ts). These cases are larger than
 * the golden ones — widths up to 65 (dot products of up to 130 terms: input + recurrent)
 * and up to 65 steps — so float32 rounding accumulates over ~10× more terms and steps. A
 * dot product of n terms in float32 has a typical error of √n·6e-8·Σ|terms| (~1e-6 here),
 * and errors carried through the recurrence are damped by the saturating gates, so we allow
 * 2× the golden bounds: still ~10–100× above the expected float32 error, and far below what
 * a wrong formula, gate order, mask or index produces (≥ 1e-2 in every break we tried).
 * Because these random values can exceed 1 (relu, long sums), the forward bound is also
 * scaled per tensor. Measured conditioning: perturbing every input of every table case
 * (parameters, x, h0, c0, dy, dhn, dcn) by relative noise of ±1.2e-7 (float32 rounding)
 * moves y by at most 3.3e-7 and the gradients by at most 2.8e-7, both relative to
 * max(1, max |·|) — so the table has no ill-conditioned case that would need a wider bound.
 */
export const BACKEND_F32_VS_REFERENCE = {
  forwardRel: 2e-5,
  gradRel: 2e-4,
};

/**
 * Finite differences on the float64 reference core (test/grad). Central differences with
 * step h have truncation error O(h²·f''') and rounding error O(ε·|L|/h); h = 1e-5 balances
 * them for |L| ~ 1–100 at ~1e-9 absolute. We compare each sampled entry with
 *   |analytic − numeric| ≤ FD.abs + FD.rel · max(|analytic|, |numeric|),
 * which a correct backward meets by ~100× and a wrong one (a missing term, a sign) misses
 * by orders of magnitude.
 */
export const FD = {
  step: 1e-5,
  abs: 1e-7,
  rel: 1e-6,
};

/** rel · max(1, max |expected|): the per-tensor bound used by the `…Rel` tolerances. */
export function scaledBound(rel: number, expected: ArrayLike<number>): number {
  let m = 1;
  for (let i = 0; i < expected.length; i++) m = Math.max(m, Math.abs(expected[i]));
  return rel * m;
}

// ---------------------------------------------------------------------------------------
// Training-step golden cases (../shared/golden/README.md, "Tolerances for a float32
// implementation" of train/). They leave a wide margin over float32 rounding in any
// summation order; the float64 reference is also held to FLOAT64_REL.

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
