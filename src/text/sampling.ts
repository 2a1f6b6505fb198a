/**
 * Choosing the next token from a step's logits: greedy (arg-max), temperature sampling,
 * top-k, top-p (nucleus), banned tokens and a repetition penalty. The one implementation
 * behind `RnnModel.generate`, `GenerationSession.sample` and the CLI's `sample` command.
 *
 * It runs in TypeScript on the logits a backend returns, with the seeded {@link Random},
 * so the same seed gives the same tokens on every backend; every ordering breaks ties by
 * the lower token id, so nothing depends on a sort's stability or on the engine.
 *
 * The order of the rules (that of Hugging Face's `generate` logits processors):
 *   1. repetition penalty (CTRL, Keskar et al. 2019): the logit z of a token already in
 *      `history` becomes z / penalty when z > 0 and z · penalty otherwise;
 *   2. banned tokens are removed;
 *   3. temperature 0: the arg-max of what is left (lowest id on ties) — done;
 *   4. top-k: the k largest logits;
 *   5. top-p: of p = softmax(z / temperature) over what is left, the fewest most likely
 *      tokens whose probabilities sum to ≥ topP (at least one);
 *   6. one draw u = rng.uniform() from softmax(z / temperature) over the candidates.
 * Exactly one uniform is drawn per sampled token (none when greedy).
 */
import type { Random } from '../init/random.js';
import { keysOf } from '../validate.js';

/** How to pick a token from logits. */
export interface SamplingOptions {
  /** 0 (default): greedy arg-max; > 0: sample from softmax(logits / temperature). */
  temperature?: number;
  /** With temperature > 0: sample among the k largest logits only (0 or absent: all). */
  topK?: number;
  /**
   * With temperature > 0: nucleus sampling, among the fewest most likely tokens whose
   * probabilities sum to at least topP, in (0, 1] (1 or absent: all).
   */
  topP?: number;
  /** Token ids never picked (absent: none). At least one id must remain. */
  bannedTokens?: readonly number[];
  /**
   * ≥ 1 (1 or absent: none): CTRL's repetition penalty on the tokens of `history`
   * (a positive logit is divided by it, a negative one multiplied).
   */
  repetitionPenalty?: number;
}

/** Index of the largest logit (the first one on ties). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * Check sampling options (the public API calls this once, not per token): temperature ≥ 0,
 * topK a non-negative integer, topP in (0, 1], repetitionPenalty ≥ 1 (finite), banned ids
 * integers in [0, vocab) that leave at least one token. Returns the options resolved.
 */
/** The keys of {@link SamplingOptions}, for the checks of the calls that take them. */
export const SAMPLING_OPTION_KEYS = keysOf<SamplingOptions>({ temperature: true, topK: true, topP: true, bannedTokens: true, repetitionPenalty: true });

export function checkSamplingOptions(options: SamplingOptions, vocab: number): Required<SamplingOptions> {
  const temperature = options.temperature ?? 0;
  if (typeof temperature !== 'number' || !(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`temperature must be a finite number ≥ 0; got ${String(temperature)}`);
  }
  const topK = options.topK ?? 0;
  if (!Number.isSafeInteger(topK) || topK < 0) throw new RangeError(`topK must be an integer ≥ 0; got ${String(topK)}`);
  const topP = options.topP ?? 1;
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) throw new RangeError(`topP must be a number in (0, 1]; got ${String(topP)}`);
  const repetitionPenalty = options.repetitionPenalty ?? 1;
  if (typeof repetitionPenalty !== 'number' || !(repetitionPenalty >= 1) || !Number.isFinite(repetitionPenalty)) {
    throw new RangeError(`repetitionPenalty must be a finite number ≥ 1; got ${String(repetitionPenalty)}`);
  }
  const banned = options.bannedTokens ?? [];
  if (!Array.isArray(banned)) throw new TypeError('bannedTokens must be an array of token ids');
  for (const id of banned) {
    if (!Number.isSafeInteger(id) || id < 0 || id >= vocab) throw new RangeError(`bannedTokens: ${String(id)} is not a token id in [0, ${vocab})`);
  }
  if (new Set(banned).size >= vocab) throw new RangeError(`bannedTokens bans every one of the ${vocab} tokens`);
  return { temperature, topK, topP, repetitionPenalty, bannedTokens: banned };
}

/**
 * Pick a token id from `logits`. The options must already be checked
 * ({@link checkSamplingOptions}); `history` holds the tokens the repetition penalty applies
 * to (those already generated in this sample; a Set of them is cheapest).
 */
export function pickToken(logits: ArrayLike<number>, options: SamplingOptions, rng: Random, history?: Iterable<number>): number {
  const temperature = options.temperature ?? 0;
  const penalty = options.repetitionPenalty ?? 1;
  const banned = options.bannedTokens ?? [];
  let z: ArrayLike<number> = logits;
  if (penalty !== 1 && history) {
    const adjusted = Array.from(logits);
    // A Set is taken as it is: callers that sample long sequences keep one (a new Set of the
    // whole history for every token made generation quadratic in its length).
    for (const id of history instanceof Set ? history : new Set(history)) {
      if (id >= 0 && id < adjusted.length) adjusted[id] = adjusted[id] > 0 ? adjusted[id] / penalty : adjusted[id] * penalty;
    }
    z = adjusted;
  }
  // Candidates in id order: every id but the banned ones.
  const bannedSet = new Set(banned);
  let ids: number[] = [];
  for (let i = 0; i < z.length; i++) if (!bannedSet.has(i)) ids.push(i);
  if (ids.length === 0) throw new RangeError('pickToken: every token is banned');
  // A NaN or infinite logit (a model whose parameters are no longer numbers, or whose state
  // overflowed: an rnn_relu with large weights) gives no distribution to draw from: refuse,
  // rather than return whichever token the comparisons happen to leave (it was token 0).
  for (const i of ids) {
    if (!Number.isFinite(z[i])) {
      throw new RangeError(`pickToken: logit ${i} is ${z[i]}; the model's outputs are not finite numbers (are its parameters finite? has its state overflowed?)`);
    }
  }
  if (temperature === 0) {
    let best = ids[0];
    for (const i of ids) if (z[i] > z[best]) best = i;
    return best;
  }
  // Largest logit first, ties by the lower id.
  const byLogit = (a: number, b: number) => z[b] - z[a] || a - b;
  const k = options.topK ?? 0;
  if (k > 0 && k < ids.length) ids = ids.sort(byLogit).slice(0, k);
  let max = -Infinity;
  for (const i of ids) max = Math.max(max, z[i]);
  // +Infinity outweighs every finite logit at any temperature: the first such id, as greedy.
  if (max === Infinity) return ids.find((i) => z[i] === Infinity)!;
  // Subtracting the max keeps exp() in range for any temperature.
  let weights = ids.map((i) => Math.exp((z[i] - max) / temperature));
  let total = weights.reduce((a, b) => a + b, 0);
  const topP = options.topP ?? 1;
  if (topP < 1) {
    const order = ids.map((_, j) => j).sort((a, b) => weights[b] - weights[a] || ids[a] - ids[b]);
    const keep: number[] = [];
    let sum = 0;
    for (const j of order) {
      keep.push(j);
      sum += weights[j];
      if (sum >= topP * total) break;
    }
    ids = keep.map((j) => ids[j]);
    weights = keep.map((j) => weights[j]);
    total = sum;
  }
  let u = rng.uniform() * total;
  for (let j = 0; j < ids.length; j++) {
    u -= weights[j];
    if (u < 0) return ids[j];
  }
  return ids[ids.length - 1];
}
