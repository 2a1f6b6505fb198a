/**
 * Input layers of a training model, float64: embedding lookup and one-hot encoding.
 *
 * Both turn token ids [N] (N = T·B positions, time-major) into step inputs [N][width].
 * When the model has a conditioning vector v [B][K], it is appended to every step's
 * input, so the stack's layer 0 sees [x_t; v] (row width = width + K).
 */

/** x[n] = [table[tokens[n]]; condition[n mod B]]; `table` is [V][E]. */
export function embedForward(
  table: Float64Array, tableOffset: number, E: number,
  tokens: Int32Array, N: number,
  condition: Float64Array | undefined, K: number, B: number,
): Float64Array {
  const W = E + K;
  const x = new Float64Array(N * W);
  for (let n = 0; n < N; n++) {
    const row = tableOffset + tokens[n] * E;
    for (let e = 0; e < E; e++) x[n * W + e] = table[row + e];
    if (condition) copyCondition(x, n * W + E, condition, (n % B) * K, K);
  }
  return x;
}

/**
 * dTable[tokens[n]] += dx[n][0..E) for every position: a row's gradient is the sum over the
 * positions holding that token (dense, PyTorch's sparse=False); rows of absent tokens get 0.
 * Padded positions have dx = 0 (the stack masks them), so they add nothing.
 */
export function embedBackward(
  dx: Float64Array, W: number, tokens: Int32Array, N: number,
  dTable: Float64Array, tableOffset: number, E: number,
): void {
  for (let n = 0; n < N; n++) {
    const row = tableOffset + tokens[n] * E;
    for (let e = 0; e < E; e++) dTable[row + e] += dx[n * W + e];
  }
}

/** x[n] = [onehot(tokens[n], V); condition[n mod B]]. */
export function oneHotForward(tokens: Int32Array, N: number, V: number, condition: Float64Array | undefined, K: number, B: number): Float64Array {
  const W = V + K;
  const x = new Float64Array(N * W);
  for (let n = 0; n < N; n++) {
    x[n * W + tokens[n]] = 1;
    if (condition) copyCondition(x, n * W + V, condition, (n % B) * K, K);
  }
  return x;
}

/** x[n] = [input[n]; condition[n mod B]] for real-valued input rows of width I. */
export function denseInputForward(input: Float64Array, N: number, I: number, condition: Float64Array | undefined, K: number, B: number): Float64Array {
  if (!condition || K === 0) return input;
  const W = I + K;
  const x = new Float64Array(N * W);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < I; i++) x[n * W + i] = input[n * I + i];
    copyCondition(x, n * W + I, condition, (n % B) * K, K);
  }
  return x;
}

function copyCondition(x: Float64Array, at: number, condition: Float64Array, from: number, K: number): void {
  for (let k = 0; k < K; k++) x[at + k] = condition[from + k];
}
