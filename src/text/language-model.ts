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
