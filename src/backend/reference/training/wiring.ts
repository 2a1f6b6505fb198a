/**
 * The data movement around the reference stack in a training step: building step inputs,
 * the final-state readout and its adjoint, and the model's loss on a head output.
 */
import type { StackSpec } from '../../contract.js';
import { directions, stateSize } from '../../layout.js';
import type { InputSpec, ModelSpec, TrainBatch } from '../../contract.js';
import type { ModelLayout } from '../../layout.js';
import { denseInputForward, embedForward, oneHotForward } from './embedding.js';
import { meanSquaredError, softmaxCrossEntropy } from './loss.js';
import type { LossResult } from './loss.js';

/** The step inputs [N][width (+K)] an input layer produces (conditioning vector appended). */
export function stepInputs(
  input: InputSpec, params: Float64Array, embeddingOffset: number | undefined,
  tokens: Int32Array | undefined, x: Float32Array | undefined, N: number,
  cond: Float64Array | undefined, K: number, B: number,
): Float64Array {
  switch (input.kind) {
    case 'embedding':
      return embedForward(params, embeddingOffset!, input.dim, need(tokens, 'tokens'), N, cond, K, B);
    case 'onehot':
      return oneHotForward(need(tokens, 'tokens'), N, input.vocab, cond, K, B);
    case 'dense':
      return denseInputForward(Float64Array.from(need(x, 'x')), N, input.size, cond, K, B);
  }
}

/**
 * The top layer's final states as head input [B][D·S]: forward direction first, then the
 * reverse one (its state after t = 0), like the halves of y.
 */
export function topFinalStates(stack: StackSpec, hn: Float64Array, B: number): Float64Array {
  const D = directions(stack);
  const S = stateSize(stack);
  const out = new Float64Array(B * D * S);
  for (let d = 0; d < D; d++) {
    const idx = (stack.layers - 1) * D + d;
    for (let b = 0; b < B; b++) out.set(hn.subarray((idx * B + b) * S, (idx * B + b + 1) * S), (b * D + d) * S);
  }
  return out;
}

/** The adjoint of {@link topFinalStates}: adds d [B][D·S] into dhn [L·D][B][S]. */
export function scatterTopFinalStates(stack: StackSpec, d: Float64Array, B: number, dhn: Float64Array): void {
  const D = directions(stack);
  const S = stateSize(stack);
  for (let dir = 0; dir < D; dir++) {
    const idx = (stack.layers - 1) * D + dir;
    for (let b = 0; b < B; b++) for (let k = 0; k < S; k++) dhn[(idx * B + b) * S + k] += d[(b * D + dir) * S + k];
  }
}

/**
 * The model's loss on head outputs z [rows][C]: cross-entropy with the ignore index, or
 * MSE over the positions that are valid (`valid`, from lengths) and masked in (`targetMask`).
 */
export function modelLoss(spec: ModelSpec, batch: TrainBatch, z: Float64Array, rows: number, valid: Uint8Array | undefined): LossResult {
  const C = spec.outputs;
  if (spec.loss.kind === 'cross_entropy') {
    return softmaxCrossEntropy(z, rows, C, need(batch.targets, 'targets'), spec.loss.ignoreIndex, valid);
  }
  let counted = valid;
  if (batch.targetMask) {
    counted = new Uint8Array(rows);
    for (let n = 0; n < rows; n++) counted[n] = batch.targetMask[n] === 1 && (!valid || valid[n] === 1) ? 1 : 0;
  }
  return meanSquaredError(z, rows, C, Float64Array.from(need(batch.targetValues, 'targetValues')), counted);
}

/** Offsets of head.weight and head.bias (the last two entries of every layout). */
export function headOffsets(layout: ModelLayout): [number, number] {
  const e = layout.entries;
  return [e[e.length - 2].offset, e[e.length - 1].offset];
}

/** [T·B] 1 where t < lengths[b] (absent lengths: undefined, every position valid). */
export function validMask(T: number, B: number, lengths: Int32Array | undefined): Uint8Array | undefined {
  if (!lengths) return undefined;
  const valid = new Uint8Array(T * B);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) valid[t * B + b] = t < lengths[b] ? 1 : 0;
  return valid;
}

/** `v`, or a TypeError naming the missing batch field. */
export function need<T>(v: T | undefined, name: string): T {
  if (v === undefined) throw new TypeError(`batch.${name} is required by this model`);
  return v;
}
