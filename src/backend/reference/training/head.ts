/**
 * Dense head, float64: z[n] = W · y[n] + b for every position n, W [C][F], b [C].
 */

/** z [N][C] from y [N][F]; W and b are read from `params` at the given offsets. */
export function denseForward(params: Float64Array, wOff: number, bOff: number, y: Float64Array, N: number, F: number, C: number): Float64Array {
  const z = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      let s = params[bOff + c];
      const w = wOff + c * F;
      for (let f = 0; f < F; f++) s += params[w + f] * y[n * F + f];
      z[n * C + c] = s;
    }
  }
  return z;
}

/** Accumulates dW += dzᵀ·y and db += Σ dz into `grads`; returns dy = dz · W [N][F]. */
export function denseBackward(
  params: Float64Array, grads: Float64Array, wOff: number, bOff: number,
  y: Float64Array, dz: Float64Array, N: number, F: number, C: number,
): Float64Array {
  const dy = new Float64Array(N * F);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const g = dz[n * C + c];
      if (g === 0) continue;
      grads[bOff + c] += g;
      const w = wOff + c * F;
      for (let f = 0; f < F; f++) {
        grads[w + f] += g * y[n * F + f];
        dy[n * F + f] += g * params[w + f];
      }
    }
  }
  return dy;
}
