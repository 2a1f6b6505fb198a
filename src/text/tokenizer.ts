/**
 * Tokenizers: text ⇄ token ids for embedding and one-hot models. Vocabularies are built
 * from a corpus, sorted (so the same corpus always gives the same ids), and saved as JSON
 * (e.g. in a model's `extra` settings).
 */

/** The JSON form of a tokenizer. */
export interface TokenizerJSON {
  kind: 'char' | 'word';
  tokens: string[];
  /** Id used for symbols outside the vocabulary; absent: such symbols are an error. */
  unknown?: number;
}

/** Options of `fromText`. */
export interface TokenizerOptions {
  /** Reserve a token (`<unk>` for words, U+FFFD for characters) for symbols not seen when building. Default false. */
  unknown?: boolean;
  /** Extra tokens placed first (ids 0, 1, …), e.g. ['<pad>', '<bos>', '<eos>']. */
  special?: string[];
}

abstract class Tokenizer {
  protected readonly ids: Map<string, number>;
  protected constructor(
    /** Token of each id. */
    readonly tokens: string[],
    /** Id of the unknown token, if any. */
    readonly unknown: number | undefined,
  ) {
    this.ids = new Map(tokens.map((t, i) => [t, i]));
    if (this.ids.size !== tokens.length) throw new RangeError('tokens must be distinct');
  }

  /** Number of distinct ids (the model's `vocab`). */
  get vocabSize(): number {
    return this.tokens.length;
  }

  /** Id of one token; throws a RangeError if it is not in the vocabulary. */
  id(token: string): number {
    const id = this.ids.get(token);
    if (id === undefined) throw new RangeError(`token ${JSON.stringify(token)} is not in the vocabulary`);
    return id;
  }

  protected lookup(symbol: string, position: number): number {
    const id = this.ids.get(symbol);
    if (id !== undefined) return id;
    if (this.unknown !== undefined) return this.unknown;
    throw new RangeError(`text contains ${JSON.stringify(symbol)} at position ${position}, which is not in the vocabulary (build the tokenizer with { unknown: true } to map such symbols to one id)`);
  }

  protected checkIds(ids: ArrayLike<number>): void {
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i];
      if (!Number.isInteger(v) || v < 0 || v >= this.tokens.length) throw new RangeError(`ids[${i}] must be a token id in [0, ${this.tokens.length}); got ${v}`);
    }
  }

  abstract encode(text: string): number[];
  abstract decode(ids: ArrayLike<number>): string;
  abstract toJSON(): TokenizerJSON;
}

function buildTokens(symbols: Iterable<string>, options: TokenizerOptions, unknownSymbol: string): { tokens: string[]; unknown?: number } {
  const special = options.special ?? [];
  const seen = new Set(special);
  const found = [...new Set(symbols)].filter((s) => !seen.has(s)).sort();
  const tokens = [...special, ...found];
  let unknown: number | undefined;
  if (options.unknown) {
    unknown = tokens.indexOf(unknownSymbol);
    if (unknown < 0) {
      tokens.push(unknownSymbol);
      unknown = tokens.length - 1;
    }
  }
  return { tokens, unknown };
}

/** One token per Unicode code point (surrogate pairs stay whole). */
export class CharTokenizer extends Tokenizer {
  /** Vocabulary of the characters of `text`, sorted by code point. */
  static fromText(text: string, options: TokenizerOptions = {}): CharTokenizer {
    if (typeof text !== 'string') throw new TypeError(`text must be a string; got ${typeof text}`);
    const { tokens, unknown } = buildTokens(Array.from(text), options, '\uFFFD');
    return new CharTokenizer(tokens, unknown);
  }

  static fromJSON(json: TokenizerJSON): CharTokenizer {
    if (json?.kind !== 'char' || !Array.isArray(json.tokens)) throw new TypeError('json must be a char tokenizer ({ kind: "char", tokens: [...] })');
    return new CharTokenizer(json.tokens, json.unknown);
  }

  encode(text: string): number[] {
    return Array.from(text, (ch, i) => this.lookup(ch, i));
  }

  decode(ids: ArrayLike<number>): string {
    this.checkIds(ids);
    return Array.from(ids, (id) => this.tokens[id]).join('');
  }

  toJSON(): TokenizerJSON {
    return { kind: 'char', tokens: this.tokens.slice(), ...(this.unknown !== undefined ? { unknown: this.unknown } : {}) };
  }
}

/** Words and single punctuation marks; `decode` joins with spaces. */
export class WordTokenizer extends Tokenizer {
  /** Splits into runs of letters/digits/apostrophes and single other non-space symbols. */
  static split(text: string): string[] {
    return text.match(/[\p{L}\p{N}']+|[^\s\p{L}\p{N}']/gu) ?? [];
  }

  static fromText(text: string, options: TokenizerOptions = {}): WordTokenizer {
    if (typeof text !== 'string') throw new TypeError(`text must be a string; got ${typeof text}`);
    const { tokens, unknown } = buildTokens(WordTokenizer.split(text), options, '<unk>');
    return new WordTokenizer(tokens, unknown);
  }

  static fromJSON(json: TokenizerJSON): WordTokenizer {
    if (json?.kind !== 'word' || !Array.isArray(json.tokens)) throw new TypeError('json must be a word tokenizer ({ kind: "word", tokens: [...] })');
    return new WordTokenizer(json.tokens, json.unknown);
  }

  encode(text: string): number[] {
    return WordTokenizer.split(text).map((w, i) => this.lookup(w, i));
  }

  decode(ids: ArrayLike<number>): string {
    this.checkIds(ids);
    return Array.from(ids, (id) => this.tokens[id]).join(' ');
  }

  toJSON(): TokenizerJSON {
    return { kind: 'word', tokens: this.tokens.slice(), ...(this.unknown !== undefined ? { unknown: this.unknown } : {}) };
  }
}

/** Rebuild a tokenizer from its JSON form. */
export function tokenizerFromJSON(json: TokenizerJSON): CharTokenizer | WordTokenizer {
  return json?.kind === 'word' ? WordTokenizer.fromJSON(json) : CharTokenizer.fromJSON(json);
}
