/**
 * Choosing the next token from a step's logits: greedy (arg-max), temperature sampling
 * and top-k sampling. Used by `RnnModel.generate` and the CLI's `sample` command.
 */
import type { Random } from '../init/random.js';

/** How to pick a token from logits. */
export interface SamplingOptions {
  /** 0 (default): greedy arg-max; > 0: sample from softmax(logits / temperature). */
  temperature?: number;
  /** With temperature > 0: sample among the k largest logits only (0 or absent: all). */
  topK?: number;
}

/** Index of the largest logit (the first one on ties). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * Pick a token id. `temperature` and `topK` must already be validated (temperature ≥ 0,
 * topK a non-negative integer).
 */
export function pickToken(logits: ArrayLike<number>, options: SamplingOptions, rng: Random): number {
  const temperature = options.temperature ?? 0;
  if (temperature === 0) return argmax(logits);
  // Candidates: every id, or the k with the largest logits (ties broken by lower id).
  let ids = Array.from({ length: logits.length }, (_, i) => i);
  const k = options.topK ?? 0;
  if (k > 0 && k < ids.length) ids = ids.sort((a, b) => logits[b] - logits[a] || a - b).slice(0, k);
  let max = -Infinity;
  for (const i of ids) max = Math.max(max, logits[i]);
  // Subtracting the max keeps exp() in range for any temperature.
  const weights = ids.map((i) => Math.exp((logits[i] - max) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.uniform() * total;
  for (let j = 0; j < ids.length; j++) {
    u -= weights[j];
    if (u < 0) return ids[j];
  }
  return ids[ids.length - 1];
}
