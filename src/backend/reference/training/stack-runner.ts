/**
 * Running a model's recurrent stack in training, with optional dropout, over the
 * reference stack (../sequence.ts).
 *
 * Without dropout between layers the whole stack is one `referenceForward` call. With it,
 * the stack runs one layer at a time (each layer a 1-layer stack over its slice of the
 * parameters and of h0/c0) and the output of every layer but the last is multiplied by
 * a dropout mask before the next layer reads it (PyTorch's `dropout` argument of nn.LSTM).
 */
import type { StackSpec } from '../../contract.js';
import { directions, hasCellState, layerInputSize, paramLayout, stateSize } from '../../layout.js';
import { referenceBackward, referenceForward } from '../sequence.js';
import type { ReferenceTape } from '../sequence.js';

/** What a stack forward leaves for its backward. */
export interface StackRun {
  y: Float64Array;
  hn: Float64Array;
  cn?: Float64Array;
  /** One tape per layer when run layer by layer, else one for the whole stack. */
  tapes: ReferenceTape[];
  /** Masks applied to the outputs of layers 0..L−2 (already scaled by 1/(1−p)), if any. */
  masks?: Float64Array[];
}

/** Gradients of a stack backward. */
export interface StackGrads {
  dx: Float64Array;
  dh0: Float64Array;
  dc0?: Float64Array;
  grads: Float64Array;
}

/** The 1-layer spec of layer `l` and where its parameters sit in the stack's flat array. */
function layerSlice(spec: StackSpec, l: number): { spec: StackSpec; offset: number; size: number } {
  const entries = paramLayout(spec).entries.filter((e) => e.layer === l);
  const offset = entries[0].offset;
  const last = entries[entries.length - 1];
  return {
    spec: { ...spec, layers: 1, inputSize: layerInputSize(spec, l) },
    offset,
    size: last.offset + last.size - offset,
  };
}

/**
 * Forward of the stack. `between(l, n)` returns the scaled mask (0 or 1/(1−p)) of length
 * n for the output of layer l, or undefined for no dropout between layers.
 */
export function runStack(
  spec: StackSpec, params: Float64Array, x: Float64Array, steps: number, batch: number,
  h0: Float64Array | undefined, c0: Float64Array | undefined, lengths: ArrayLike<number> | undefined,
  between: ((layer: number, n: number) => Float64Array) | undefined,
): StackRun {
  if (!between || spec.layers === 1) {
    const f = referenceForward(spec, params, { x, steps, batch, h0, c0, lengths });
    return { y: f.y, hn: f.hn, cn: f.cn, tapes: [f.tape] };
  }
  const D = directions(spec);
  const S = stateSize(spec);
  const H = spec.hiddenSize;
  const withC = hasCellState(spec.cell);
  const hPer = D * batch * S;
  const cPer = D * batch * H;
  const hn = new Float64Array(spec.layers * hPer);
  const cn = withC ? new Float64Array(spec.layers * cPer) : undefined;
  const tapes: ReferenceTape[] = [];
  const masks: Float64Array[] = [];
  let input = x;
  for (let l = 0; l < spec.layers; l++) {
    const s = layerSlice(spec, l);
    const f = referenceForward(s.spec, params.subarray(s.offset, s.offset + s.size), {
      x: input, steps, batch,
      h0: h0?.subarray(l * hPer, (l + 1) * hPer),
      c0: withC ? c0?.subarray(l * cPer, (l + 1) * cPer) : undefined,
      lengths,
    });
    tapes.push(f.tape);
    hn.set(f.hn, l * hPer);
    if (cn && f.cn) cn.set(f.cn, l * cPer);
    input = f.y;
    if (l < spec.layers - 1) {
      const mask = between(l, f.y.length);
      masks.push(mask);
      input = f.y.map((v, i) => v * mask[i]);
    }
  }
  return { y: input, hn, cn, tapes, masks };
}

/** Backward of {@link runStack}: gradients for x, h0, c0 and the stack's parameters. */
export function runStackBackward(
  spec: StackSpec, params: Float64Array, run: StackRun, dy: Float64Array,
  dhn?: Float64Array, dcn?: Float64Array,
): StackGrads {
  if (run.tapes.length === 1) {
    const b = referenceBackward(spec, params, run.tapes[0], { dy, dhn, dcn });
    return { dx: b.dx, dh0: b.dh0, dc0: b.dc0, grads: b.grads };
  }
  const D = directions(spec);
  const batch = run.tapes[0].batch;
  const hPer = D * batch * stateSize(spec);
  const cPer = D * batch * spec.hiddenSize;
  const withC = hasCellState(spec.cell);
  const grads = new Float64Array(paramLayout(spec).total);
  const dh0 = new Float64Array(spec.layers * hPer);
  const dc0 = withC ? new Float64Array(spec.layers * cPer) : undefined;
  let dOut = dy;
  for (let l = spec.layers - 1; l >= 0; l--) {
    const s = layerSlice(spec, l);
    const b = referenceBackward(s.spec, params.subarray(s.offset, s.offset + s.size), run.tapes[l], {
      dy: dOut,
      dhn: dhn?.subarray(l * hPer, (l + 1) * hPer),
      dcn: withC ? dcn?.subarray(l * cPer, (l + 1) * cPer) : undefined,
    });
    grads.set(b.grads, s.offset);
    dh0.set(b.dh0, l * hPer);
    if (dc0 && b.dc0) dc0.set(b.dc0, l * cPer);
    dOut = l > 0 ? b.dx.map((v, i) => v * run.masks![l - 1][i]) : b.dx;
  }
  return { dx: dOut, dh0, dc0, grads };
}
