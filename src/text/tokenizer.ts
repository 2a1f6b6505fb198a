/**
 * Tokenizers: text ⇄ token ids for embedding and one-hot models, with the vocabulary
 * controls practitioners expect.
 *
 * **Building a vocabulary** (`CharTokenizer.fromText` / `WordTokenizer.fromText`, from one
 * text or an iterable of texts, e.g. sentences):
 *
 * 1. Special tokens come first, with fixed ids: the named `specials` in the order pad,
 *    unknown, start, end (those given), then the `special` list.
 * 2. Every other symbol of the corpus is counted (after `lowercase`, if asked); symbols seen
 *    fewer than `minCount` times are dropped.
 * 3. The rest are ranked by count, most frequent first; **ties go to the symbol that occurs
 *    first in the corpus** (the order of Python's `Counter.most_common`, which the classic
 *    RNN lectures use). The first `maxSize − (number of specials)` are kept.
 * 4. Ids follow that rank (`order: 'frequency'`) or the kept symbols' code-unit order
 *    (`order: 'sorted'`).
 *
 * Counting is one pass over the corpus with a hash map (linear in its size); ranking sorts
 * the distinct symbols only.
 *
 * Symbols not in the vocabulary (never seen, or cut by `maxSize` / `minCount`) encode as
 * the unknown id when the vocabulary has one, else `encode` throws a RangeError naming the
 * symbol and its position.
 *
 * **Compatibility.** A `fromText` call whose options use nothing but `unknown` and
 * `special` (the options of earlier versions), or none, builds exactly the tokenizer
 * earlier versions built: ids in code-unit order of the symbols, the unknown token (if
 * any) last, words split by {@link WordTokenizer.LEGACY_PATTERN} and decoded joined by
 * single spaces, and `toJSON` writing the earlier JSON (`{ kind, tokens, unknown }`). Any
 * other option (`specials`, `lowercase`, `maxSize`, `minCount`, `order`, `pattern`)
 * builds a vocabulary as described above, with readable decoding for words, and `toJSON`
 * writes `version: 2` with every setting. `tokenizerFromJSON` reads both forms.
 */
import { checkKnownKeys } from '../validate.js';

/** The names of the special tokens, in the order their ids are given. */
const SPECIAL_NAMES = ['pad', 'unknown', 'start', 'end'] as const;

/** Which special tokens to reserve, by name, and their text (option `specials`). */
export interface SpecialTokens {
  /** Padding, e.g. `'<pad>'`. */
  pad?: string;
  /** Stands for every symbol outside the vocabulary, e.g. `'<unk>'` or `'UNKNOWN_TOKEN'`. */
  unknown?: string;
  /** Starts a sequence (sentence), e.g. `'<s>'` or `'SENTENCE_START'`. */
  start?: string;
  /** Ends a sequence (sentence), e.g. `'</s>'` or `'SENTENCE_END'`. */
  end?: string;
}

/** The ids of a tokenizer's special tokens (`tokenizer.specials`); absent: no such token. */
export interface SpecialIds {
  /** Id of the padding token. */
  pad?: number;
  /** Id of the unknown token (equal to `tokenizer.unknown`). */
  unknown?: number;
  /** Id of the start-of-sequence token. */
  start?: number;
  /** Id of the end-of-sequence token. */
  end?: number;
}

/** The JSON form of a tokenizer (`toJSON`; read back by {@link tokenizerFromJSON}). */
export interface TokenizerJSON {
  /** Character or word tokenizer. */
  kind: 'char' | 'word';
  /** Token of each id. */
  tokens: string[];
  /** Id used for symbols outside the vocabulary; absent: such symbols are an error. */
  unknown?: number;
  /**
   * Absent: the form of earlier versions (no other field below; words split by
   * `WordTokenizer.LEGACY_PATTERN` and decoded joined by spaces). 2: the fields below apply.
   */
  version?: 2;
  /** Text is lower-cased before lookup. */
  lowercase?: boolean;
  /** Ids of the named special tokens. */
  specials?: SpecialIds;
  /** Word tokenizers: the word pattern (default: `WordTokenizer.DEFAULT_PATTERN`). */
  pattern?: { source: string; flags: string };
}

/** Options of `CharTokenizer.fromText` (and, with `pattern`, `WordTokenizer.fromText`). */
export interface TokenizerOptions {
  /**
   * Reserve a token for symbols outside the vocabulary: `'<unk>'` for words, U+FFFD for
   * characters (the option of earlier versions; `specials.unknown` names the token). In a
   * call with only `unknown`/`special` the token is added last, as before; otherwise it is
   * the unknown special. Default false.
   */
  unknown?: boolean;
  /** Extra tokens reserved first (after the named `specials`), e.g. `['<pad>', '<bos>']`. */
  special?: string[];
  /** Named special tokens, placed first (pad, unknown, start, end) with stable ids. */
  specials?: SpecialTokens;
  /** Lower-case the text (when building and when encoding). Default false. */
  lowercase?: boolean;
  /**
   * At most this many entries in the vocabulary, specials included: the most frequent
   * symbols are kept. Must be at least the number of special tokens. Default: no limit.
   */
  maxSize?: number;
  /** Drop symbols seen fewer than `minCount` times (an integer ≥ 1). Default 1. */
  minCount?: number;
  /**
   * Order of the ids after the specials: `'frequency'` (most frequent first, ties by first
   * occurrence; the default) or `'sorted'` (code-unit order). A call with only the options
   * of earlier versions sorts, as they did.
   */
  order?: 'frequency' | 'sorted';
}

/** Options of `WordTokenizer.fromText`. */
export interface WordTokenizerOptions extends TokenizerOptions {
  /**
   * What a token is: every non-empty match of this regular expression is one token (its
   * `g` and `y` flags are ignored). Default {@link WordTokenizer.DEFAULT_PATTERN}.
   */
  pattern?: RegExp;
}

/** Options of `decode`. */
export interface DecodeOptions {
  /** Leave out the pad, start and end tokens (the unknown token stays). Default false. */
  skipSpecials?: boolean;
}

const OPTION_KEYS = ['unknown', 'special', 'specials', 'lowercase', 'maxSize', 'minCount', 'order'];
const LEGACY_KEYS = new Set(['unknown', 'special']);

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
}

/** Settings a tokenizer keeps besides its tokens. */
interface Settings {
  specials: SpecialIds;
  lowercase: boolean;
  /** Built as earlier versions built it (and saved in their JSON form). */
  legacy: boolean;
}

/** Checked options of a vocabulary build. */
interface Plan {
  legacy: boolean;
  lowercase: boolean;
  maxSize: number;
  minCount: number;
  order: 'frequency' | 'sorted';
  /** Special tokens in id order and the names of the named ones. */
  specialTokens: string[];
  named: Partial<Record<(typeof SPECIAL_NAMES)[number], string>>;
  pattern?: RegExp;
}

function plan(options: unknown, kind: 'char' | 'word', unknownSymbol: string): Plan {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`options must be an object; got ${show(options)}`);
  const o = options as Record<string, unknown>;
  const keys = kind === 'word' ? [...OPTION_KEYS, 'pattern'] : OPTION_KEYS;
  checkKnownKeys('options', o, keys, `an option of ${kind === 'word' ? 'WordTokenizer' : 'CharTokenizer'}.fromText`);
  if (o.unknown !== undefined && typeof o.unknown !== 'boolean') throw new TypeError(`options.unknown must be a boolean; got ${show(o.unknown)}`);
  if (o.lowercase !== undefined && typeof o.lowercase !== 'boolean') throw new TypeError(`options.lowercase must be a boolean; got ${show(o.lowercase)}`);
  if (o.order !== undefined && o.order !== 'frequency' && o.order !== 'sorted') throw new TypeError(`options.order must be 'frequency' or 'sorted'; got ${show(o.order)}`);
  if (o.maxSize !== undefined && (typeof o.maxSize !== 'number' || !Number.isInteger(o.maxSize) || o.maxSize < 1)) {
    throw new RangeError(`options.maxSize must be an integer ≥ 1; got ${show(o.maxSize)}`);
  }
  if (o.minCount !== undefined && (typeof o.minCount !== 'number' || !Number.isInteger(o.minCount) || o.minCount < 1)) {
    throw new RangeError(`options.minCount must be an integer ≥ 1; got ${show(o.minCount)}`);
  }
  if (o.pattern !== undefined && !(o.pattern instanceof RegExp)) throw new TypeError(`options.pattern must be a RegExp; got ${show(o.pattern)}`);
  let special: string[] = [];
  if (o.special !== undefined) {
    if (!Array.isArray(o.special)) throw new TypeError(`options.special must be an array of strings; got ${show(o.special)}`);
    o.special.forEach((s, i) => {
      if (typeof s !== 'string') throw new TypeError(`options.special[${i}] must be a string; got ${show(s)}`);
    });
    special = o.special as string[];
  }
  const named: Plan['named'] = {};
  if (o.specials !== undefined) {
    if (o.specials === null || typeof o.specials !== 'object' || Array.isArray(o.specials)) throw new TypeError(`options.specials must be an object such as { unknown: '<unk>' }; got ${show(o.specials)}`);
    const s = o.specials as Record<string, unknown>;
    for (const k of Object.keys(s)) {
      if (!(SPECIAL_NAMES as readonly string[]).includes(k)) throw new TypeError(`options.specials.${k} is not a special token name (expected ${SPECIAL_NAMES.join(', ')})`);
      const v = s[k];
      if (v === undefined) continue;
      if (typeof v !== 'string' || v === '') throw new TypeError(`options.specials.${k} must be a non-empty string; got ${show(v)}`);
      named[k as (typeof SPECIAL_NAMES)[number]] = v;
    }
  }
  const legacy = Object.keys(o).every((k) => LEGACY_KEYS.has(k) || o[k] === undefined);
  if (!legacy && o.unknown === true && named.unknown === undefined) named.unknown = unknownSymbol;
  const specialTokens: string[] = [];
  const owner = new Map<string, string>();
  for (const name of SPECIAL_NAMES) {
    const t = named[name];
    if (t === undefined) continue;
    if (owner.has(t)) throw new RangeError(`options.specials.${owner.get(t)} and options.specials.${name} are both ${JSON.stringify(t)}; special tokens must differ`);
    owner.set(t, name);
    specialTokens.push(t);
  }
  const seen = new Set(specialTokens);
  special.forEach((t, i) => {
    if (seen.has(t)) {
      if (owner.has(t)) return; // also a named special: one token
      throw new RangeError(`options.special[${i}] repeats ${JSON.stringify(t)}; special tokens must be distinct`);
    }
    seen.add(t);
    specialTokens.push(t);
  });
  // Earlier versions appended the unknown token after the sorted symbols (unless present).
  const reserved = specialTokens.length + (legacy && o.unknown === true && !seen.has(unknownSymbol) ? 1 : 0);
  const maxSize = (o.maxSize as number | undefined) ?? Infinity;
  if (maxSize < reserved) throw new RangeError(`options.maxSize (${maxSize}) must be at least the number of special tokens (${reserved})`);
  return {
    legacy,
    lowercase: o.lowercase === true,
    maxSize,
    minCount: (o.minCount as number | undefined) ?? 1,
    order: (o.order as Plan['order'] | undefined) ?? (legacy ? 'sorted' : 'frequency'),
    specialTokens,
    named,
    pattern: o.pattern as RegExp | undefined,
  };
}

/** The texts of a corpus: one string, or each string of an iterable (checked as read). */
function* texts(corpus: unknown): Generator<string> {
  if (typeof corpus === 'string') {
    yield corpus;
    return;
  }
  if (corpus === null || typeof corpus !== 'object' || typeof (corpus as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`text must be a string or an iterable of strings; got ${show(corpus)}`);
  }
  let i = 0;
  for (const t of corpus as Iterable<unknown>) {
    if (typeof t !== 'string') throw new TypeError(`text[${i}] must be a string; got ${show(t)}`);
    yield t;
    i++;
  }
}

/**
 * Tokens of a vocabulary from symbol counts (a Map in first-occurrence order): specials,
 * then the symbols kept by minCount / maxSize in the plan's order.
 */
function rank(counts: Map<string, number>, p: Plan): string[] {
  const entries = [...counts].filter(([, n]) => n >= p.minCount);
  entries.sort((a, b) => b[1] - a[1]); // stable: ties keep first-occurrence order
  const kept = entries.slice(0, Math.max(0, p.maxSize - p.specialTokens.length)).map(([t]) => t);
  if (p.order === 'sorted') kept.sort();
  return [...p.specialTokens, ...kept];
}

/** The vocabulary of earlier versions: specials, the sorted distinct symbols, the unknown token last. */
function legacyTokens(symbols: Iterable<string>, p: Plan, unknown: boolean, unknownSymbol: string): { tokens: string[]; unknown?: number } {
  const seen = new Set(p.specialTokens);
  const found = [...new Set(symbols)].filter((s) => !seen.has(s)).sort();
  const tokens = [...p.specialTokens, ...found];
  if (!unknown) return { tokens };
  let id = tokens.indexOf(unknownSymbol);
  if (id < 0) {
    tokens.push(unknownSymbol);
    id = tokens.length - 1;
  }
  return { tokens, unknown: id };
}

function namedIds(tokens: string[], p: Plan): SpecialIds {
  const ids: SpecialIds = {};
  for (const name of SPECIAL_NAMES) {
    const t = p.named[name];
    if (t !== undefined) ids[name] = tokens.indexOf(t);
  }
  return ids;
}

function checkJSON(json: unknown, kind: 'char' | 'word'): { tokens: string[]; settings: Settings; pattern?: RegExp } {
  const j = json as TokenizerJSON;
  const what = kind === 'char' ? 'a char tokenizer ({ kind: "char", tokens: [...] })' : 'a word tokenizer ({ kind: "word", tokens: [...] })';
  if (j === null || typeof j !== 'object' || j.kind !== kind || !Array.isArray(j.tokens)) throw new TypeError(`json must be ${what}`);
  j.tokens.forEach((t, i) => {
    if (typeof t !== 'string') throw new TypeError(`json.tokens[${i}] must be a string; got ${show(t)}`);
  });
  const n = j.tokens.length;
  const checkId = (v: unknown, name: string): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= n) throw new RangeError(`${name} must be a token id in [0, ${n}); got ${show(v)}`);
    return v;
  };
  const unknown = checkId(j.unknown, 'json.unknown');
  if (j.version === undefined) return { tokens: j.tokens, settings: { specials: unknown === undefined ? {} : { unknown }, lowercase: false, legacy: true } };
  if (j.version !== 2) throw new RangeError(`json.version must be 2 (or absent); got ${show(j.version)} — saved by a newer rnnkit?`);
  if (j.lowercase !== undefined && typeof j.lowercase !== 'boolean') throw new TypeError(`json.lowercase must be a boolean; got ${show(j.lowercase)}`);
  const specials: SpecialIds = {};
  if (j.specials !== undefined) {
    if (j.specials === null || typeof j.specials !== 'object') throw new TypeError(`json.specials must be an object of token ids; got ${show(j.specials)}`);
    const used = new Map<number, string>();
    for (const k of Object.keys(j.specials)) {
      if (!(SPECIAL_NAMES as readonly string[]).includes(k)) throw new TypeError(`json.specials.${k} is not a special token name (expected ${SPECIAL_NAMES.join(', ')})`);
      const id = checkId((j.specials as Record<string, unknown>)[k], `json.specials.${k}`);
      if (id === undefined) continue;
      if (used.has(id)) throw new RangeError(`json.specials.${used.get(id)} and json.specials.${k} are both id ${id}`);
      used.set(id, k);
      specials[k as (typeof SPECIAL_NAMES)[number]] = id;
    }
  }
  if (unknown !== undefined && specials.unknown !== undefined && unknown !== specials.unknown) {
    throw new RangeError(`json.unknown (${unknown}) and json.specials.unknown (${specials.unknown}) must agree`);
  }
  if (unknown !== undefined) {
    const other = SPECIAL_NAMES.find((k) => k !== 'unknown' && specials[k] === unknown);
    if (other) throw new RangeError(`json.unknown and json.specials.${other} are both id ${unknown}`);
    specials.unknown = unknown;
  }
  let pattern: RegExp | undefined;
  if (j.pattern !== undefined) {
    if (kind !== 'word') throw new TypeError('json.pattern belongs to word tokenizers only');
    const pj = j.pattern as { source?: unknown; flags?: unknown } | null;
    if (pj === null || typeof pj !== 'object' || typeof pj.source !== 'string' || typeof pj.flags !== 'string') throw new TypeError('json.pattern must be { source: string, flags: string }');
    try {
      pattern = new RegExp(pj.source, pj.flags);
    } catch (e) {
      throw new TypeError(`json.pattern is not a valid regular expression: ${(e as Error).message}`);
    }
  }
  return { tokens: j.tokens, settings: { specials, lowercase: j.lowercase === true, legacy: false }, pattern };
}

/** Position of `index` (a UTF-16 offset) counted in code points. */
function codePointIndex(text: string, index: number): number {
  let n = 0;
  for (let i = 0; i < index; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < index) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) i++;
    }
    n++;
  }
  return n;
}

/** What character and word tokenizers share: the vocabulary, lookup, checks. */
export abstract class Tokenizer {
  /** Id of each token. */
  protected readonly ids: Map<string, number>;
  /** Token of each id (ids 0 … vocabSize − 1). */
  readonly tokens: string[];
  /** Id of the unknown token (symbols outside the vocabulary map to it); absent: they are an error. */
  readonly unknown: number | undefined;
  /** Ids of the named special tokens (`specials.unknown` equals `unknown`). */
  readonly specials: Readonly<SpecialIds>;
  /** Whether text is lower-cased before lookup. */
  readonly lowercase: boolean;
  /** Built as earlier versions built it (see the module notes). */
  protected readonly legacy: boolean;

  protected constructor(tokens: string[], settings: Settings) {
    this.tokens = tokens;
    this.ids = new Map(tokens.map((t, i) => [t, i]));
    if (this.ids.size !== tokens.length) throw new RangeError('tokens must be distinct');
    this.specials = Object.freeze({ ...settings.specials });
    this.unknown = settings.specials.unknown;
    this.lowercase = settings.lowercase;
    this.legacy = settings.legacy;
  }

  /** Number of distinct ids (the model's `vocab`). */
  get vocabSize(): number {
    return this.tokens.length;
  }

  /** Id of one token (exactly as in `tokens`); throws a RangeError if it is not in the vocabulary. */
  id(token: string): number {
    const id = this.ids.get(token);
    if (id === undefined) throw new RangeError(`token ${JSON.stringify(token)} is not in the vocabulary`);
    return id;
  }

  /** Whether `token` (exactly as written) is in the vocabulary. */
  has(token: string): boolean {
    return this.ids.has(token);
  }

  /** Id of a symbol, else the unknown id, else a RangeError naming it and where it is. */
  protected lookup(key: string, shown: string, position: number, word?: number): number {
    const id = this.ids.get(key);
    if (id !== undefined) return id;
    if (this.unknown !== undefined) return this.unknown;
    const where = word === undefined ? `at position ${position}` : `(word ${word}) at position ${position}`;
    throw new RangeError(
      `text contains ${JSON.stringify(shown)} ${where}, which is not in the vocabulary (give the tokenizer an unknown token, e.g. { specials: { unknown: '<unk>' } }, to map such symbols to one id)`,
    );
  }

  /** TypeError unless `text` is a string. */
  protected checkText(text: unknown): asserts text is string {
    if (typeof text !== 'string') throw new TypeError(`text must be a string; got ${show(text)}`);
  }

  /** RangeError naming the first entry of `ids` that is not a token id. */
  protected checkIds(ids: ArrayLike<number>): void {
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') throw new TypeError(`ids must be an array of token ids; got ${show(ids)}`);
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i];
      if (!Number.isInteger(v) || v < 0 || v >= this.tokens.length) throw new RangeError(`ids[${i}] must be a token id in [0, ${this.tokens.length}); got ${v}`);
    }
  }

  /** Tokens of `ids`, without pad/start/end when asked. */
  protected tokensOf(ids: ArrayLike<number>, options: DecodeOptions | undefined): string[] {
    this.checkIds(ids);
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object { skipSpecials? }; got ${options === null ? 'null' : typeof options}`);
      checkKnownKeys('options', options, ['skipSpecials']);
    }
    const skip = new Set<number>();
    if (options?.skipSpecials) {
      for (const name of ['pad', 'start', 'end'] as const) if (this.specials[name] !== undefined) skip.add(this.specials[name]!);
    }
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) if (!skip.has(ids[i])) out.push(this.tokens[ids[i]]);
    return out;
  }

  /** Token ids of `text`. */
  abstract encode(text: string): number[];
  /** Text of token ids (each id must be in [0, vocabSize)). */
  abstract decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  /** The JSON form, read back by {@link tokenizerFromJSON}. */
  abstract toJSON(): TokenizerJSON;

  /** The JSON fields both kinds share, in the form this tokenizer was built in. */
  protected jsonCommon(kind: 'char' | 'word'): TokenizerJSON {
    const unknown = this.unknown !== undefined ? { unknown: this.unknown } : {};
    if (this.legacy) return { kind, tokens: this.tokens.slice(), ...unknown };
    return { kind, version: 2, tokens: this.tokens.slice(), ...unknown, lowercase: this.lowercase, specials: { ...this.specials } };
  }
}

/**
 * One token per Unicode code point (surrogate pairs stay whole). With `lowercase`, each
 * code point is lower-cased on its own (so positions in errors are those of the text).
 * Special tokens are never matched in the text: they enter sequences by id (e.g.
 * `encodeSentences`), except that a one-character special equal to a text character is
 * that character's id.
 */
export class CharTokenizer extends Tokenizer {
  /**
   * Build the vocabulary of `text` (a string, or an iterable of strings such as
   * sentences). See the module notes for the order of ids, cuts and compatibility.
   *
   * @throws TypeError for text that is not a string / iterable of strings, or a bad option;
   *   RangeError for `maxSize` below the number of specials, `minCount` < 1, repeated specials.
   */
  static fromText(text: string | Iterable<string>, options: TokenizerOptions = {}): CharTokenizer {
    const p = plan(options, 'char', '\uFFFD');
    if (p.legacy) {
      const symbols = (function* () {
        for (const t of texts(text)) yield* t;
      })();
      const { tokens, unknown } = legacyTokens(symbols, p, options.unknown === true, '\uFFFD');
      return new CharTokenizer(tokens, { specials: unknown === undefined ? {} : { unknown }, lowercase: false, legacy: true });
    }
    const specialSet = new Set(p.specialTokens);
    const counts = new Map<string, number>();
    for (const t of texts(text)) {
      for (const ch of t) {
        const key = p.lowercase ? ch.toLowerCase() : ch;
        if (specialSet.has(key)) continue;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    const tokens = rank(counts, p);
    return new CharTokenizer(tokens, { specials: namedIds(tokens, p), lowercase: p.lowercase, legacy: false });
  }

  /** Rebuild from the JSON form (either version). */
  static fromJSON(json: TokenizerJSON): CharTokenizer {
    const { tokens, settings } = checkJSON(json, 'char');
    return new CharTokenizer(tokens, settings);
  }

  private constructor(tokens: string[], settings: Settings) {
    super(tokens, settings);
  }

  /** One id per code point; characters outside the vocabulary → the unknown id, or a RangeError naming the character and its position (code points from 0). */
  encode(text: string): number[] {
    this.checkText(text);
    const out: number[] = [];
    let i = 0;
    for (const ch of text) {
      out.push(this.lookup(this.lowercase ? ch.toLowerCase() : ch, ch, i));
      i++;
    }
    return out;
  }

  /** The tokens of `ids` concatenated. */
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string {
    return this.tokensOf(ids, options).join('');
  }

  /** The JSON form: `{ kind: 'char', tokens, unknown? }`, plus `version: 2`, `lowercase`, `specials` unless built the earlier way. */
  toJSON(): TokenizerJSON {
    return this.jsonCommon('char');
  }
}

/** Characters after which `detokenize` puts no space (opening brackets and quotes). */
const OPENING = new Set(['(', '[', '{', '“', '‘', '«', '¿', '¡']);
/** Characters before which `detokenize` puts no space (closing punctuation). */
const CLOSING = new Set(['.', ',', ';', ':', '!', '?', ')', ']', '}', '”', '’', '»', '%', '…']);
/** Characters with no space on either side (hyphens, dashes, slash). */
const JOINING = new Set(['-', '‐', '–', '—', '/']);

function all(token: string, set: Set<string>): boolean {
  if (token === '') return false;
  for (const ch of token) if (!set.has(ch)) return false;
  return true;
}

/** Regular-expression text matching `s` literally (valid with or without the u flag). */
function literal(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/**
 * Words and punctuation marks as separate tokens.
 *
 * **Splitting** (the default {@link WordTokenizer.DEFAULT_PATTERN}): a word is a run of
 * letters, combining marks and digits, with apostrophes (' or ’) allowed *inside* it
 * ("don't", "people's"); every other non-space character is a token of its own (so
 * "water-gazers" is `water`, `-`, `gazers`, and "'Hello,'" is `'`, `Hello`, `,`, `'`).
 * Whitespace separates tokens and is dropped. The named special tokens are matched whole
 * wherever they occur in the text (so `'SENTENCE_START the cat'` starts with the start
 * id), before any lower-casing; `lowercase` lower-cases every other token.
 *
 * **Decoding** joins tokens with single spaces, except: no space before closing
 * punctuation (`. , ; : ! ? ) ] } ” ’ » % …`), none after opening brackets and quotes
 * (`( [ { “ ‘ « ¿ ¡`), none on either side of hyphens, dashes and `/`, and straight quotes
 * (`"`, `'`) alternate opening / closing. A token made only of closing (or joining)
 * characters, such as `...`, counts as one. Tokenizers built the earlier way (see the module
 * notes) join every token with a space, as before.
 */
export class WordTokenizer extends Tokenizer {
  /** The default rule: words with inner apostrophes, or any single other non-space character. */
  static readonly DEFAULT_PATTERN: RegExp = /[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*|[^\s\p{L}\p{M}\p{N}]/gu;
  /** The rule of earlier versions: runs of letters, digits and apostrophes, or any single other non-space character. */
  static readonly LEGACY_PATTERN: RegExp = /[\p{L}\p{N}']+|[^\s\p{L}\p{N}']/gu;

  /** The rule splitting text into tokens (the special tokens are matched before it). */
  readonly pattern: RegExp;
  /** `pattern` with the special tokens as first alternatives, global. */
  private readonly splitter: RegExp;
  private readonly specialSet: Set<string>;

  /** Split `text` into tokens by `pattern` (default {@link WordTokenizer.DEFAULT_PATTERN}); no lower-casing, no specials. */
  static split(text: string, pattern: RegExp = WordTokenizer.DEFAULT_PATTERN): string[] {
    if (typeof text !== 'string') throw new TypeError(`text must be a string; got ${show(text)}`);
    const out: string[] = [];
    for (const m of text.matchAll(new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '') + 'g'))) if (m[0] !== '') out.push(m[0]);
    return out;
  }

  /**
   * Join word tokens into readable text: spaces between words, none before closing
   * punctuation, none after opening brackets and quotes, none around hyphens and dashes
   * (the rule `decode` applies; see the class notes).
   */
  static detokenize(tokens: Iterable<string>): string {
    let out = '';
    let glue = true; // no space before the next token
    let doubleOpen = false;
    let singleOpen = false;
    for (const t of tokens) {
      let space: boolean;
      let glueNext = false;
      if (t === '"' || t === "'") {
        const open = t === '"' ? doubleOpen : singleOpen;
        space = !open; // an opening quote takes a space before, a closing one does not
        glueNext = !open;
        if (t === '"') doubleOpen = !doubleOpen;
        else singleOpen = !singleOpen;
      } else if (all(t, JOINING)) {
        space = false;
        glueNext = true;
      } else if (all(t, CLOSING)) {
        space = false;
      } else {
        space = true;
        glueNext = all(t, OPENING);
      }
      out += (space && !glue ? ' ' : '') + t;
      glue = glueNext;
    }
    return out;
  }

  /**
   * Build the vocabulary of `text` (a string, or an iterable of strings such as
   * sentences). See the module notes for the order of ids, cuts and compatibility.
   *
   * @throws TypeError for text that is not a string / iterable of strings, or a bad option;
   *   RangeError for `maxSize` below the number of specials, `minCount` < 1, repeated specials.
   */
  static fromText(text: string | Iterable<string>, options: WordTokenizerOptions = {}): WordTokenizer {
    const p = plan(options, 'word', '<unk>');
    if (p.legacy) {
      const symbols = (function* () {
        for (const t of texts(text)) yield* WordTokenizer.split(t, WordTokenizer.LEGACY_PATTERN);
      })();
      const { tokens, unknown } = legacyTokens(symbols, p, options.unknown === true, '<unk>');
      return new WordTokenizer(tokens, { specials: unknown === undefined ? {} : { unknown }, lowercase: false, legacy: true }, WordTokenizer.LEGACY_PATTERN);
    }
    const pattern = p.pattern ?? WordTokenizer.DEFAULT_PATTERN;
    const named = SPECIAL_NAMES.flatMap((n) => (p.named[n] === undefined ? [] : [p.named[n]!]));
    const splitter = WordTokenizer.splitterOf(pattern, named);
    const specialSet = new Set(p.specialTokens);
    const namedSet = new Set(named);
    const counts = new Map<string, number>();
    for (const t of texts(text)) {
      for (const m of t.matchAll(splitter)) {
        const w = m[0];
        if (w === '' || namedSet.has(w)) continue;
        const key = p.lowercase ? w.toLowerCase() : w;
        if (specialSet.has(key)) continue;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    const tokens = rank(counts, p);
    return new WordTokenizer(tokens, { specials: namedIds(tokens, p), lowercase: p.lowercase, legacy: false }, pattern);
  }

  /** Rebuild from the JSON form (either version). */
  static fromJSON(json: TokenizerJSON): WordTokenizer {
    const { tokens, settings, pattern } = checkJSON(json, 'word');
    return new WordTokenizer(tokens, settings, pattern ?? (settings.legacy ? WordTokenizer.LEGACY_PATTERN : WordTokenizer.DEFAULT_PATTERN));
  }

  private static splitterOf(pattern: RegExp, specials: string[]): RegExp {
    const flags = pattern.flags.replace(/[gy]/g, '') + 'g';
    const lits = specials.filter((s) => s !== '').sort((a, b) => b.length - a.length).map(literal);
    // A non-capturing group keeps the numbering of the pattern's own groups (backreferences).
    return new RegExp(lits.length ? `${lits.join('|')}|(?:${pattern.source})` : pattern.source, flags);
  }

  private constructor(tokens: string[], settings: Settings, pattern: RegExp) {
    super(tokens, settings);
    this.pattern = new RegExp(pattern.source, pattern.flags);
    const named = settings.legacy ? [] : SPECIAL_NAMES.flatMap((n) => (settings.specials[n] === undefined ? [] : [tokens[settings.specials[n]!]]));
    this.specialSet = new Set(named);
    this.splitter = WordTokenizer.splitterOf(pattern, named);
  }

  /** The tokens of `text` as this tokenizer sees them: specials whole, the rest split by `pattern` and lower-cased if asked. */
  tokenize(text: string): string[] {
    this.checkText(text);
    const out: string[] = [];
    for (const m of text.matchAll(this.splitter)) {
      const w = m[0];
      if (w === '') continue;
      out.push(this.lowercase && !this.specialSet.has(w) ? w.toLowerCase() : w);
    }
    return out;
  }

  /** One id per token (see `tokenize`); tokens outside the vocabulary → the unknown id, or a RangeError naming the word, its number (from 0) and its position (code points from 0). */
  encode(text: string): number[] {
    this.checkText(text);
    const out: number[] = [];
    for (const m of text.matchAll(this.splitter)) {
      const w = m[0];
      if (w === '') continue;
      const key = this.lowercase && !this.specialSet.has(w) ? w.toLowerCase() : w;
      const id = this.ids.get(key);
      out.push(id !== undefined ? id : this.lookup(key, w, codePointIndex(text, m.index), out.length));
    }
    return out;
  }

  /** Readable text of `ids` (see {@link WordTokenizer.detokenize}); tokenizers built the earlier way join with spaces. */
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string {
    const tokens = this.tokensOf(ids, options);
    return this.legacy ? tokens.join(' ') : WordTokenizer.detokenize(tokens);
  }

  /** The JSON form: `{ kind: 'word', tokens, unknown? }`, plus `version: 2`, `lowercase`, `specials`, `pattern` unless built the earlier way. */
  toJSON(): TokenizerJSON {
    const json = this.jsonCommon('word');
    if (!this.legacy) json.pattern = { source: this.pattern.source, flags: this.pattern.flags };
    return json;
  }
}

/** Rebuild a tokenizer from its JSON form (`toJSON`), either the current form or that of earlier versions. */
export function tokenizerFromJSON(json: TokenizerJSON): CharTokenizer | WordTokenizer {
  return json?.kind === 'word' ? WordTokenizer.fromJSON(json) : CharTokenizer.fromJSON(json);
}

/**
 * The tokenizer saved with a model (`model.extra.tokenizer`, as `rnnkit train` saves it),
 * rebuilt; undefined when the model has none. A RangeError when its size is not the model's
 * input vocabulary (an edited or mismatched config.json): its ids would be out of range or
 * mean other tokens.
 */
export function tokenizerOf(model: { extra?: Record<string, unknown>; spec?: { input?: { kind?: string; vocab?: number } } }): CharTokenizer | WordTokenizer | undefined {
  const json = model?.extra?.tokenizer;
  if (json === undefined) return undefined;
  const tokenizer = tokenizerFromJSON(json as TokenizerJSON);
  const vocab = model.spec?.input?.vocab;
  if (vocab !== undefined && tokenizer.vocabSize !== vocab) {
    throw new RangeError(`the model's tokenizer (extra.tokenizer) has ${tokenizer.vocabSize} tokens but its input vocabulary is ${vocab}: the tokenizer does not belong to this model`);
  }
  return tokenizer;
}
