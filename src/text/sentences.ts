/**
 * Sentences for word-level language models: a rule-based sentence splitter and the
 * encoding of a corpus as one id sequence per sentence, wrapped in start/end ids — the
 * recipe of the classic RNN lectures (SENTENCE_START … SENTENCE_END).
 */
import type { Tokenizer } from './tokenizer.js';
import { checkKnownKeys, keysOf } from '../validate.js';

/**
 * Words after which a period does not end a sentence (compared without the period, ignoring
 * case): titles that precede a name and Latin abbreviations that precede more text.
 * "etc." is not among them, since it often ends a sentence; before a lower-case word it
 * never splits anyway.
 */
export const DEFAULT_ABBREVIATIONS: readonly string[] = Object.freeze([
  'mr', 'mrs', 'ms', 'messrs', 'mme', 'mlle', 'dr', 'prof', 'rev', 'fr', 'st', 'mt', 'capt', 'col', 'gen', 'lt', 'sgt',
  'cmdr', 'adm', 'gov', 'sen', 'rep', 'hon', 'pres', 'supt', 'e.g', 'i.e', 'cf', 'vs', 'viz', 'approx', 'ca', 'al',
]);

/** Words after which a period does not end a sentence when a number follows ("No. 5", "p. 12"). */
const NUMBER_ABBREVIATIONS = new Set(['no', 'nos', 'fig', 'figs', 'vol', 'vols', 'p', 'pp', 'ch', 'chap', 'sec', 'art', 'eq', 'op']);

/** Options of {@link splitSentences}. */
export interface SentenceOptions {
  /**
   * Words after which a period never ends a sentence, without the period, any case (e.g.
   * `['mr', 'dr', 'e.g']`). Replaces {@link DEFAULT_ABBREVIATIONS}.
   */
  abbreviations?: Iterable<string>;
}

// A candidate end: terminators, then closing quotes/brackets, then whitespace or the end;
// or a blank line (a paragraph break).
const CANDIDATE = /([.!?…]+)["'”’»)\]}]*(?=\s|$)|\n[^\S\n]*\n/gu;
const LOWER = /\p{Ll}/u;
const DIGIT = /\p{Nd}/u;
const WORD_CHAR = /[\p{L}\p{M}\p{N}.]/u;
const SPACE = /\s/u;

/**
 * Split `text` into sentences. The rule:
 *
 * - A sentence ends after a run of `.`, `!`, `?` or `…`, together with any closing quotes
 *   and brackets right after it (`"`, `'`, `”`, `’`, `»`, `)`, `]`, `}`), when whitespace
 *   or the end of the text follows — so `3.14`, `e.g.,` and `?—` do not split, and
 *   `He said "Go." Then …` splits after the closing quote.
 * - …unless the next word starts with a lower-case letter (`"Stop!" he cried.` and
 *   `apples etc. and pears` stay one sentence);
 * - …or the terminator is a single period after an abbreviation: a word of
 *   `abbreviations` ({@link DEFAULT_ABBREVIATIONS}: Mr., Dr., e.g., …), a dotted
 *   abbreviation of single letters (`U.S.`, `a.m.`), a single capital initial other than
 *   "I" (`J. Smith`), or No./p./pp./Fig./Vol./… before a number. An abbreviation thus never
 *   ends a sentence, even where it should ("… in the U.S. Then …").
 * - A blank line (a paragraph break) always ends a sentence, terminator or not (titles,
 *   headings, list items).
 *
 * Opening quotes and brackets go with the sentence they open. Each sentence is a slice of
 * the text with the surrounding whitespace trimmed (inner line breaks are kept); empty
 * ones are left out.
 *
 * @throws TypeError if `text` is not a string or `abbreviations` not an iterable of strings.
 */
export function splitSentences(text: string, options: SentenceOptions = {}): string[] {
  if (typeof text !== 'string') throw new TypeError(`text must be a string; got ${text === null ? 'null' : typeof text}`);
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object; got ${options === null ? 'null' : typeof options}`);
  checkKnownKeys('options', options, keysOf<SentenceOptions>({ abbreviations: true }));
  let abbreviations: Set<string>;
  if (options.abbreviations === undefined) abbreviations = new Set(DEFAULT_ABBREVIATIONS);
  else {
    const list = options.abbreviations as unknown;
    if (list === null || typeof list !== 'object' || typeof (list as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new TypeError('options.abbreviations must be an iterable of strings');
    }
    abbreviations = new Set();
    for (const a of list as Iterable<unknown>) {
      if (typeof a !== 'string') throw new TypeError(`options.abbreviations must hold strings; got ${typeof a}`);
      abbreviations.add(a.replace(/\.$/, '').toLowerCase());
    }
  }

  const out: string[] = [];
  const push = (s: string): void => {
    const t = s.trim();
    if (t !== '') out.push(t);
  };
  let start = 0;
  for (const m of text.matchAll(CANDIDATE)) {
    const at = m.index;
    const end = at + m[0].length;
    if (m[1] === undefined) {
      // A paragraph break.
      push(text.slice(start, at));
      start = end;
      continue;
    }
    // The first character after the whitespace.
    let j = end;
    while (j < text.length && SPACE.test(text[j])) j++;
    const next = j < text.length ? String.fromCodePoint(text.codePointAt(j)!) : '';
    if (next !== '' && LOWER.test(next)) continue;
    if (m[1] === '.' && isAbbreviation(text, at, next, abbreviations)) continue;
    push(text.slice(start, end));
    start = end;
  }
  push(text.slice(start));
  return out;
}

/** Whether the period at `at` closes an abbreviation (see `splitSentences`). */
function isAbbreviation(text: string, at: number, next: string, abbreviations: Set<string>): boolean {
  let i = at;
  while (i > 0 && WORD_CHAR.test(text[i - 1])) i--;
  // Letters in surrogate pairs are not word characters here; such words are never abbreviations.
  const word = text.slice(i, at);
  if (word === '') return false;
  const lower = word.toLowerCase();
  if (abbreviations.has(lower)) return true;
  if (/^\p{L}(?:\.\p{L})+$/u.test(word)) return true; // U.S, e.g, a.m
  if (/^\p{Lu}$/u.test(word) && word !== 'I') return true; // an initial
  if (NUMBER_ABBREVIATIONS.has(lower) && next !== '' && DIGIT.test(next)) return true;
  return false;
}

/**
 * Encode a corpus as one id sequence per sentence, each wrapped in the tokenizer's start
 * and end ids: `[start, …sentence, end]` (the lectures' `SENTENCE_START … SENTENCE_END`).
 * `text` is a string, split with {@link splitSentences}, or an iterable of sentences
 * already split (each encoded as one). Sentences that encode to no token are left out.
 *
 * For next-token training: `{ inputs: seqs.map((s) => s.slice(0, -1)), targets: seqs.map((s) => s.slice(1)) }`.
 *
 * ```js
 * const sentences = splitSentences(text);
 * const tok = WordTokenizer.fromText(sentences, { lowercase: true, maxSize: 8000,
 *   specials: { unknown: 'UNKNOWN_TOKEN', start: 'SENTENCE_START', end: 'SENTENCE_END' } });
 * const seqs = encodeSentences(tok, sentences);
 * ```
 *
 * @throws RangeError if the tokenizer has neither a start nor an end token (a missing one
 *   is left out); TypeError if `text` is neither a string nor an iterable of strings.
 */
export function encodeSentences(tokenizer: Tokenizer, text: string | Iterable<string>): number[][] {
  const { start, end } = tokenizer.specials;
  if (start === undefined && end === undefined) {
    throw new RangeError("tokenizer has no start or end token: build it with e.g. { specials: { start: 'SENTENCE_START', end: 'SENTENCE_END' } }");
  }
  let sentences: Iterable<unknown>;
  if (typeof text === 'string') sentences = splitSentences(text);
  else if (text !== null && typeof text === 'object' && typeof (text as Iterable<unknown>)[Symbol.iterator] === 'function') sentences = text;
  else throw new TypeError(`text must be a string or an iterable of sentences; got ${text === null ? 'null' : typeof text}`);
  const out: number[][] = [];
  let i = 0;
  for (const s of sentences) {
    if (typeof s !== 'string') throw new TypeError(`text[${i}] must be a string; got ${s === null ? 'null' : typeof s}`);
    i++;
    const ids = tokenizer.encode(s);
    if (ids.length === 0) continue;
    if (start !== undefined) ids.unshift(start);
    if (end !== undefined) ids.push(end);
    out.push(ids);
  }
  return out;
}
