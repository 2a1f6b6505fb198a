/**
 * Language-model datasets: a token stream cut into (input, next-token target) sequences.
 */
import type { Dataset } from '../models/data.js';

/**
 * Sequences of `length` tokens starting every `stride` tokens (default: `length`, no
 * overlap); each target is the input shifted by one (the next token at every step).
 * The last partial sequence is kept if it has at least one step.
 */
export function nextTokenDataset(ids: ArrayLike<number>, length: number, stride = length): Dataset {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`length must be an integer ≥ 1; got ${length}`);
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`stride must be an integer ≥ 1; got ${stride}`);
  if (ids.length < 2) throw new RangeError(`ids must hold at least 2 tokens (an input and its next token); got ${ids.length}`);
  const inputs: number[][] = [];
  const targets: number[][] = [];
  for (let start = 0; start + 1 < ids.length; start += stride) {
    const end = Math.min(start + length, ids.length - 1);
    inputs.push(Array.from({ length: end - start }, (_, k) => ids[start + k]));
    targets.push(Array.from({ length: end - start }, (_, k) => ids[start + k + 1]));
  }
  return { inputs, targets };
}

/**
 * A token stream cut into `streams` contiguous rows of equal length (the tail that does
 * not divide evenly is dropped), each with its next-token targets: the layout of
 * truncated-BPTT language-model training, where row k of every batch continues row k of
 * the previous window. Train on it with `batchSize: streams`, `shuffle: false` and a
 * `window`: each epoch walks the rows from their beginnings with the state carried.
 */
export function streamDataset(ids: ArrayLike<number>, streams: number): Dataset {
  if (!Number.isInteger(streams) || streams < 1) throw new RangeError(`streams must be an integer ≥ 1; got ${streams}`);
  const length = Math.floor((ids.length - 1) / streams);
  if (length < 1) throw new RangeError(`ids must hold at least ${streams + 1} tokens for ${streams} streams; got ${ids.length}`);
  const inputs: number[][] = [];
  const targets: number[][] = [];
  for (let k = 0; k < streams; k++) {
    inputs.push(Array.from({ length }, (_, t) => ids[k * length + t]));
    targets.push(Array.from({ length }, (_, t) => ids[k * length + t + 1]));
  }
  return { inputs, targets };
}

/** How a text is split for training and held-out evaluation (the shared char-LM protocol's split). */
export const HELD_OUT_SPLIT = { trainFraction: 0.9, heldOutTokens: 100_000 } as const;

/**
 * The protocol's split of a token stream: the first 90% trains; the held-out figure is
 * taken on the first 100,000 tokens of the rest (fewer when the rest is shorter), read as
 * one stream from a zero state.
 */
export function splitHeldOut(ids: number[]): { train: number[]; heldOut: number[] } {
  const cut = Math.floor(ids.length * HELD_OUT_SPLIT.trainFraction);
  return { train: ids.slice(0, cut), heldOut: ids.slice(cut, cut + HELD_OUT_SPLIT.heldOutTokens) };
}
