/**
 * Gradient clipping over the whole flat gradient buffer, float64.
 */

/** √(Σ g²) over every parameter together (the L2 norm of the per-tensor norms). */
export function globalNorm(g: Float64Array): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/**
 * torch.nn.utils.clip_grad_norm_ (norm_type 2): coef = maxNorm / (totalNorm + 1e-6), and
 * the gradient is scaled by coef only when coef < 1. Returns totalNorm (before scaling).
 */
export function clipByGlobalNorm(g: Float64Array, maxNorm: number): number {
  const total = globalNorm(g);
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return total;
}

/** Every element clamped to [−limit, limit] (torch.nn.utils.clip_grad_value_). */
export function clipByValue(g: Float64Array, limit: number): void {
  for (let i = 0; i < g.length; i++) {
    if (g[i] > limit) g[i] = limit;
    else if (g[i] < -limit) g[i] = -limit;
  }
}
