/**
 * Pretrained word vectors (word2vec and GloVe text formats) read into an embedding table
 * for a given vocabulary.
 *
 * Format: one word per line followed by its `dim` numbers, separated by spaces; word2vec's
 * text format starts with a header line "<count> <dim>", GloVe's has none. A word that
 * occurs twice keeps its first vector (as gensim does).
 */
import type { Tokenizer } from './tokenizer.js';
import { checkKnownKeys, keysOf } from '../validate.js';

/** A decimal number as vectors files write them (no hex, no Infinity or NaN). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
import { LIMITS } from '../backend/abi/limits.js';

/** What {@link wordVectorsFor} found. */
export interface WordVectors {
  /** Width of every vector. */
  dim: number;
  /** [vocab][dim]: the vector of every vocabulary token found, NaN rows for the others. */
  weights: Float32Array;
  /** Ids of the vocabulary tokens that have a vector. */
  found: number[];
  /** Vocabulary tokens without one (their rows keep the model's initialisation when loaded). */
  missing: string[];
}

/** Options of {@link wordVectorsFor}. */
export interface WordVectorOptions {
  /** Also look a token up lower-cased when it is not found as it is (default true). */
  lowercaseFallback?: boolean;
  /** Tokens not to look up at all (e.g. the specials); default: the tokenizer's named specials. */
  skip?: Iterable<string>;
}

/**
 * The vectors in `text` (word2vec or GloVe text format) of every token of `tokenizer`'s
 * vocabulary. Lines of other words are skipped without parsing their numbers, so a large
 * file costs little more than reading it. Throws a RangeError naming the line when a line
 * of a needed word is malformed or the widths disagree.
 */
export function wordVectorsFor(text: string, tokenizer: Pick<Tokenizer, 'tokens' | 'specials'>, options: WordVectorOptions = {}): WordVectors {
  if (typeof text !== 'string') throw new TypeError(`text must be the contents of a vectors file (a string); got ${typeof text}`);
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object { lowercaseFallback?, skip? }; got ${options === null ? 'null' : typeof options}`);
  checkKnownKeys('options', options, keysOf<WordVectorOptions>({ lowercaseFallback: true, skip: true }));
  const fallback = options.lowercaseFallback ?? true;
  const specials = tokenizer.specials as Record<string, number | undefined> | undefined;
  const skip = new Set(options.skip ?? Object.values(specials ?? {}).filter((id): id is number => id !== undefined).map((id) => tokenizer.tokens[id]));
  // The vocabulary ids each word of the file fills: its own token (an exact match), and
  // with the fallback every token that lower-cases to it and has no exact match of its own.
  const exact = new Map<string, number>();
  const lowered = new Map<string, number[]>();
  tokenizer.tokens.forEach((t, id) => {
    if (skip.has(t)) return;
    exact.set(t, id);
    if (fallback && t.toLowerCase() !== t) lowered.set(t.toLowerCase(), [...(lowered.get(t.toLowerCase()) ?? []), id]);
  });
  const exactly = new Set<number>();
  // Weights are [vocab][dim]: a width no embedding can have is refused before allocating (a
  // line of a million numbers asked 8.8 GB for a 2,200-word vocabulary).
  const checkDim = (d: number, line: number): number => {
    const most = Math.min(LIMITS.RK_MAX_WIDTH, Math.floor(LIMITS.RK_MAX_PARAMS / Math.max(1, tokenizer.tokens.length)));
    if (d > most) throw new RangeError(`line ${line}: vectors of dim ${d} for ${tokenizer.tokens.length} tokens exceed what an embedding can hold (dim ≤ ${most})`);
    return d;
  };

  let dim = 0;
  const filled = new Map<number, Float32Array>();
  let start = 0;
  let line = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const row = text.slice(start, end).trim();
    start = end + 1;
    if (row === '') continue;
    // Any whitespace separates (files of tab-separated values too).
    const space = row.search(/\s/);
    if (line === 1 && /^\d+\s+\d+$/.test(row)) {
      dim = checkDim(Number(row.slice(space + 1).trim()), line); // word2vec header "<count> <dim>"
      continue;
    }
    const word = space < 0 ? row : row.slice(0, space);
    const own = exact.get(word);
    const ids = [...(own !== undefined && !exactly.has(own) ? [own] : []), ...(lowered.get(word) ?? []).filter((id) => !filled.has(id))];
    if (ids.length === 0) continue;
    const fields = space < 0 ? [] : row.slice(space + 1).trim().split(/\s+/);
    if (dim === 0) dim = checkDim(fields.length, line);
    if (fields.length !== dim) throw new RangeError(`line ${line} (${JSON.stringify(word)}) must hold ${dim} numbers after the word; got ${fields.length}`);
    const values = fields.map(Number);
    // Decimal, and finite as float32 too: 1e300 would load as Infinity, 0x10 as 16.
    const bad = fields.findIndex((f, k) => !DECIMAL.test(f) || !Number.isFinite(Math.fround(values[k])));
    if (bad >= 0) throw new RangeError(`line ${line} (${JSON.stringify(word)}): value ${bad + 1}, ${JSON.stringify(fields[bad].slice(0, 40))}, is not a finite float32 decimal number`);
    for (const id of ids) filled.set(id, Float32Array.from(values));
    if (own !== undefined) exactly.add(own);
  }
  if (dim === 0) throw new RangeError('the vectors file holds no vector of any vocabulary token');
  const weights = new Float32Array(tokenizer.tokens.length * dim).fill(NaN);
  for (const [id, v] of filled) weights.set(v, id * dim);
  const found = [...filled.keys()].sort((a, b) => a - b);
  const missing = tokenizer.tokens.filter((_, id) => !filled.has(id));
  return { dim, weights, found, missing };
}
