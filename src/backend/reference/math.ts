/**
 * The few float64 vector helpers the reference cells are written with.
 *
 * Matrices are row-major Float64Arrays: row r of a [rows][cols] matrix starts at r·cols.
 * A gate block is a range of rows, so every helper takes a first row and a row count;
 * that keeps the cell code close to the formulas (W_ir x is "rows [0, H) of weight_ih").
 * Everything here is written for clarity, not speed: this code is the specification.
 */

export function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** out[r] += Σ_k W[row0 + r][k] · v[k] for r in [0, rows). */
export function addMatVec(out: Float64Array, W: Float64Array, row0: number, rows: number, cols: number, v: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const base = (row0 + r) * cols;
    for (let k = 0; k < cols; k++) s += W[base + k] * v[k];
    out[r] += s;
  }
}

/** out[k] += Σ_r W[row0 + r][k] · v[r] for k in [0, cols): the transposed product, for backward. */
export function addMatTVec(out: Float64Array, W: Float64Array, row0: number, rows: number, cols: number, v: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    const base = (row0 + r) * cols;
    const vr = v[r];
    for (let k = 0; k < cols; k++) out[k] += W[base + k] * vr;
  }
}

/** dW[row0 + r][k] += u[r] · v[k]: the outer product that gives a weight gradient. */
export function addOuter(dW: Float64Array, row0: number, rows: number, cols: number, u: Float64Array, v: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    const base = (row0 + r) * cols;
    const ur = u[r];
    for (let k = 0; k < cols; k++) dW[base + k] += ur * v[k];
  }
}

/** out[i] += v[i], starting at out[offset]. */
export function addInto(out: Float64Array, v: Float64Array, offset = 0): void {
  for (let i = 0; i < v.length; i++) out[offset + i] += v[i];
}

/** The slice [start, start + n) of `v` as a new array (a copy, so later writes cannot alias). */
export function slice(v: Float64Array, start: number, n: number): Float64Array {
  return v.slice(start, start + n);
}
