/**
 * Losses on the head's outputs, float64. Each returns the mean loss over the counted
 * positions and dz = ∂loss/∂z; a position counts when `counted[n]` is 1.
 */

export interface LossResult {
  /** Mean loss (NaN when nothing counted). */
  loss: number;
  /** The mean's denominator: counted positions (×C for MSE). */
  count: number;
  /** Cross-entropy: counted positions whose arg-max logit equals the target (first max wins). */
  correct: number;
  /** ∂loss/∂z [N][C]; zero at positions that do not count. */
  dz: Float64Array;
}

/**
 * Softmax cross-entropy: loss = (1/N') Σ_counted (log Σ_k exp z_k − z_target), with the
 * log-sum-exp shifted by max_k z_k so that no exp overflows. Positions whose target equals
 * `ignoreIndex` or whose `valid` flag is 0 do not count (F.cross_entropy, reduction='mean').
 */
export function softmaxCrossEntropy(z: Float64Array, N: number, C: number, targets: Int32Array, ignoreIndex: number, valid: Uint8Array | undefined): LossResult {
  const dz = new Float64Array(N * C);
  let count = 0;
  for (let n = 0; n < N; n++) if (counts(targets[n], ignoreIndex, valid, n)) count++;
  let sum = 0;
  let correct = 0;
  for (let n = 0; n < N; n++) {
    const t = targets[n];
    if (!counts(t, ignoreIndex, valid, n)) continue;
    const row = n * C;
    let max = -Infinity;
    let arg = 0;
    for (let c = 0; c < C; c++) {
      if (z[row + c] > max) {
        max = z[row + c];
        arg = c;
      }
    }
    let se = 0;
    for (let c = 0; c < C; c++) se += Math.exp(z[row + c] - max);
    const lse = max + Math.log(se);
    sum += lse - z[row + t];
    if (arg === t) correct++;
    for (let c = 0; c < C; c++) dz[row + c] = Math.exp(z[row + c] - lse) / count;
    dz[row + t] -= 1 / count;
  }
  return { loss: count > 0 ? sum / count : NaN, count, correct, dz };
}

function counts(t: number, ignoreIndex: number, valid: Uint8Array | undefined, n: number): boolean {
  return t !== ignoreIndex && (!valid || valid[n] === 1);
}

/**
 * Mean squared error: loss = (1/(N'·C)) Σ_counted Σ_c (z − target)², N' the counted
 * positions (torch.nn.MSELoss's mean over the elements that take part).
 */
export function meanSquaredError(z: Float64Array, N: number, C: number, target: Float64Array, counted: Uint8Array | undefined): LossResult {
  const dz = new Float64Array(N * C);
  let positions = 0;
  for (let n = 0; n < N; n++) if (!counted || counted[n] === 1) positions++;
  const count = positions * C;
  let sum = 0;
  for (let n = 0; n < N; n++) {
    if (counted && counted[n] !== 1) continue;
    for (let c = 0; c < C; c++) {
      const d = z[n * C + c] - target[n * C + c];
      sum += d * d;
      dz[n * C + c] = (2 * d) / count;
    }
  }
  return { loss: count > 0 ? sum / count : NaN, count, correct: 0, dz };
}
