/**
 * Whole-sequence forward and backpropagation-through-time of a recurrent stack, in float64.
 *
 * Semantics (shared/golden/README.md):
 * - Arrays are time-major: x [T][B][I], y [T][B][D·S], states [L·D][B][S] (c: [L·D][B][H]);
 *   state entry l·D + d belongs to layer l, direction d (0 forward, 1 reverse).
 * - Layer l > 0 reads the concatenation [forward output, reverse output] of layer l − 1.
 * - The reverse direction reads t = T−1 down to 0; its output at step t is stored at y[t].
 * - `lengths` (optional, per sequence) gives pack_padded_sequence semantics, computed by
 *   masking: at a step t ≥ lengths[b] the state is held (h ← h, c ← c) and the output is 0,
 *   in every layer and direction. A length of 0 is allowed here (the whole sequence is
 *   padding: state held throughout, output 0); truncated BPTT produces such windows.
 *
 * `referenceForward` keeps a tape of every step's record; `referenceBackward` walks it
 * backwards and returns dx, dh0, dc0 and the parameter gradients (flat, paramLayout order).
 * Both are pure functions of their arguments: the finite-difference tests call them directly.
 */
import type { StackSpec } from '../contract.js';
import { directions, hasCellState, layerInputSize, paramLayout, stateSize } from '../layout.js';
import { cellFor, type CellDims, type CellWeights } from './cells.js';

export interface ReferenceForwardInput {
  /** [T][B][inputSize]. */
  x: Float64Array;
  steps: number;
  batch: number;
  /** [L·D][B][S]; zeros when absent. */
  h0?: Float64Array;
  /** [L·D][B][H] (LSTM cells); zeros when absent. */
  c0?: Float64Array;
  /** [B] valid steps per sequence, 0..T; absent: all T. */
  lengths?: ArrayLike<number>;
}

/** What one layer-direction recorded at every (t, b): the cell's record, or null at padding. */
interface DirectionTape {
  records: (unknown | null)[][]; // [t][b]
}

export interface ReferenceTape {
  spec: StackSpec;
  steps: number;
  batch: number;
  valid: boolean[][]; // [t][b]
  /** Per layer: its input sequence [T][B][in] and one tape per direction. */
  layers: { input: Float64Array; dirs: DirectionTape[] }[];
}

export interface ReferenceForwardResult {
  y: Float64Array;
  hn: Float64Array;
  cn?: Float64Array;
  tape: ReferenceTape;
}

export interface ReferenceBackwardInput {
  /** [T][B][D·S]. */
  dy: Float64Array;
  /** [L·D][B][S]; zeros when absent. */
  dhn?: Float64Array;
  /** [L·D][B][H]; zeros when absent. */
  dcn?: Float64Array;
}

export interface ReferenceBackwardResult {
  dx: Float64Array;
  dh0: Float64Array;
  dc0?: Float64Array;
  /** dL/dparams, flat in paramLayout(spec) order. */
  grads: Float64Array;
}

/** Views of one layer-direction's parameters in `flat`, by base name (`weight_ih`, …). */
export function weightsOf(spec: StackSpec, flat: Float64Array, layer: number, direction: number): CellWeights {
  const w: CellWeights = {};
  for (const e of paramLayout(spec).entries) {
    if (e.layer !== layer || e.direction !== direction) continue;
    const suffix = `_l${layer}${direction === 1 ? '_reverse' : ''}`;
    w[e.name.slice(0, e.name.length - suffix.length)] = flat.subarray(e.offset, e.offset + e.size);
  }
  return w;
}

function dimsOf(spec: StackSpec, layer: number): CellDims {
  return { input: layerInputSize(spec, layer), hidden: spec.hiddenSize, state: stateSize(spec) };
}

/** The time steps of one direction in the order it processes them. */
function stepOrder(steps: number, direction: number): number[] {
  const ts = Array.from({ length: steps }, (_, t) => t);
  return direction === 0 ? ts : ts.reverse();
}

export function referenceForward(spec: StackSpec, params: Float64Array, input: ReferenceForwardInput): ReferenceForwardResult {
  const { steps: T, batch: B } = input;
  const D = directions(spec);
  const S = stateSize(spec);
  const H = spec.hiddenSize;
  const withC = hasCellState(spec.cell);
  const cell = cellFor(spec.cell);
  const valid = Array.from({ length: T }, (_, t) =>
    Array.from({ length: B }, (_, b) => (input.lengths ? t < input.lengths[b] : true)),
  );
  const hn = new Float64Array(spec.layers * D * B * S);
  const cn = withC ? new Float64Array(spec.layers * D * B * H) : undefined;
  const tape: ReferenceTape = { spec, steps: T, batch: B, valid, layers: [] };

  let layerInput = input.x;
  for (let l = 0; l < spec.layers; l++) {
    const dims = dimsOf(spec, l);
    const out = new Float64Array(T * B * D * S); // [T][B][D·S]
    const dirs: DirectionTape[] = [];
    for (let d = 0; d < D; d++) {
      const w = weightsOf(spec, params, l, d);
      const idx = l * D + d;
      const records: (unknown | null)[][] = Array.from({ length: T }, () => new Array<unknown | null>(B).fill(null));
      for (let b = 0; b < B; b++) {
        let h: Float64Array = input.h0 ? input.h0.slice((idx * B + b) * S, (idx * B + b + 1) * S) : new Float64Array(S);
        let c: Float64Array | null = withC ? (input.c0 ? input.c0.slice((idx * B + b) * H, (idx * B + b + 1) * H) : new Float64Array(H)) : null;
        for (const t of stepOrder(T, d)) {
          if (!valid[t][b]) continue; // padding: state held, output stays 0
          const x = layerInput.slice((t * B + b) * dims.input, (t * B + b + 1) * dims.input);
          const step = cell.forward(w, dims, x, h, c);
          records[t][b] = step.record;
          h = step.h;
          c = step.c;
          out.set(h, (t * B + b) * D * S + d * S);
        }
        hn.set(h, (idx * B + b) * S);
        if (cn && c) cn.set(c, (idx * B + b) * H);
      }
      dirs.push({ records });
    }
    tape.layers.push({ input: layerInput, dirs });
    layerInput = out;
  }
  return { y: layerInput, hn, cn, tape };
}

export function referenceBackward(
  spec: StackSpec,
  params: Float64Array,
  tape: ReferenceTape,
  grad: ReferenceBackwardInput,
): ReferenceBackwardResult {
  const { steps: T, batch: B, valid } = tape;
  const D = directions(spec);
  const S = stateSize(spec);
  const H = spec.hiddenSize;
  const withC = hasCellState(spec.cell);
  const cell = cellFor(spec.cell);
  const grads = new Float64Array(paramLayout(spec).total);
  const dh0 = new Float64Array(spec.layers * D * B * S);
  const dc0 = withC ? new Float64Array(spec.layers * D * B * H) : undefined;

  let dOut = grad.dy; // gradient of the current layer's output [T][B][D·S]
  for (let l = spec.layers - 1; l >= 0; l--) {
    const dims = dimsOf(spec, l);
    const dInput = new Float64Array(T * B * dims.input);
    for (let d = 0; d < D; d++) {
      const w = weightsOf(spec, params, l, d);
      const g = weightsOf(spec, grads, l, d);
      const idx = l * D + d;
      const records = tape.layers[l].dirs[d].records;
      for (let b = 0; b < B; b++) {
        let dh: Float64Array = grad.dhn ? grad.dhn.slice((idx * B + b) * S, (idx * B + b + 1) * S) : new Float64Array(S);
        let dc: Float64Array | null = withC ? (grad.dcn ? grad.dcn.slice((idx * B + b) * H, (idx * B + b + 1) * H) : new Float64Array(H)) : null;
        // Walk the steps in the opposite order to the forward pass of this direction.
        for (const t of stepOrder(T, d).reverse()) {
          if (!valid[t][b]) continue; // padding: the held state passes dh, dc through unchanged
          const dNew = dh.slice();
          const o = (t * B + b) * D * S + d * S;
          for (let k = 0; k < S; k++) dNew[k] += dOut[o + k]; // the output is the new state
          const back = cell.backward(w, g, dims, records[t][b], dNew, dc);
          const xo = (t * B + b) * dims.input;
          for (let k = 0; k < dims.input; k++) dInput[xo + k] += back.dx[k];
          dh = back.dh;
          dc = back.dc;
        }
        dh0.set(dh, (idx * B + b) * S);
        if (dc0 && dc) dc0.set(dc, (idx * B + b) * H);
      }
    }
    dOut = dInput;
  }
  return { dx: dOut, dh0, dc0, grads };
}
