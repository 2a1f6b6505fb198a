/**
 * Vocabularies: frequency order and deterministic ties, cuts (maxSize, minCount),
 * lower-casing, named special tokens, unknown mapping, readable word decoding, the JSON
 * form (current and earlier), sentence splitting, and the lectures' recipe (the N most
 * frequent words, UNKNOWN_TOKEN for the rest, SENTENCE_START … SENTENCE_END around each
 * sentence).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/init/random.js';
import { CharTokenizer, tokenizerFromJSON, WordTokenizer, type TokenizerJSON } from '../../src/text/tokenizer.js';
import { encodeSentences, splitSentences } from '../../src/text/sentences.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const small = readFileSync(path.join(root, 'test/data/lectures-small.txt'), 'utf8');
const moby = readFileSync(path.join(root, 'data/moby-dick-ch1-3.txt'), 'utf8');
const LECTURES = { unknown: 'UNKNOWN_TOKEN', start: 'SENTENCE_START', end: 'SENTENCE_END' };

/** JSON text and back, as a model's config.json does. */
const viaJSON = (t: CharTokenizer | WordTokenizer) => tokenizerFromJSON(JSON.parse(JSON.stringify(t.toJSON())));

describe('frequency order and ties', () => {
  it('ids go by count, most frequent first; ties by first occurrence in the corpus', () => {
    expect(CharTokenizer.fromText('cabcab a', { order: 'frequency' }).tokens).toEqual(['a', 'c', 'b', ' ']);
    expect(WordTokenizer.fromText('b a b c a d', { order: 'frequency' }).tokens).toEqual(['b', 'a', 'c', 'd']);
    // Across the texts of an iterable, in iteration order.
    expect(WordTokenizer.fromText(['z y', 'x z y w'], { order: 'frequency' }).tokens).toEqual(['z', 'y', 'x', 'w']);
    // The same corpus always gives the same ids.
    const a = WordTokenizer.fromText(moby, { minCount: 1 });
    const b = WordTokenizer.fromText(moby, { minCount: 1 });
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens.slice(0, 4)).toEqual([',', 'the', '.', 'a']);
  });

  it("order: 'sorted' keeps the most frequent but sorts their ids; specials stay first", () => {
    const t = WordTokenizer.fromText('d d d c c b a', { maxSize: 4, order: 'sorted', specials: { unknown: '<unk>' } });
    expect(t.tokens).toEqual(['<unk>', 'b', 'c', 'd']);
  });

  it('a call with only the options of earlier versions builds what they built (code-unit order, unknown last)', () => {
    expect(CharTokenizer.fromText('banana').tokens).toEqual(['a', 'b', 'n']);
    const t = WordTokenizer.fromText('b b a', { unknown: true, special: ['<pad>'] });
    expect(t.tokens).toEqual(['<pad>', 'a', 'b', '<unk>']);
    expect(t.unknown).toBe(3);
    expect(t.specials).toEqual({ unknown: 3 });
    expect(t.toJSON()).toEqual({ kind: 'word', tokens: ['<pad>', 'a', 'b', '<unk>'], unknown: 3 });
  });
});

describe('cuts', () => {
  it('maxSize keeps the most frequent; specials count toward it', () => {
    expect(WordTokenizer.fromText('a a a b b c d', { maxSize: 2 }).tokens).toEqual(['a', 'b']);
    const t = WordTokenizer.fromText('a a a b b c d', { maxSize: 3, specials: { unknown: '<unk>' } });
    expect(t.tokens).toEqual(['<unk>', 'a', 'b']);
    expect(t.vocabSize).toBe(3);
    // A tie at the cut goes to the first occurrence.
    expect(WordTokenizer.fromText('c b a', { maxSize: 2 }).tokens).toEqual(['c', 'b']);
    // maxSize larger than the corpus: everything.
    expect(WordTokenizer.fromText('a b', { maxSize: 100 }).vocabSize).toBe(2);
    // maxSize equal to the number of specials: only specials.
    expect(WordTokenizer.fromText('a b', { maxSize: 2, specials: { pad: '<pad>', unknown: '<unk>' } }).tokens).toEqual(['<pad>', '<unk>']);
  });

  it('minCount drops rare symbols; with maxSize both apply', () => {
    expect(WordTokenizer.fromText('a a a b b c d', { minCount: 2 }).tokens).toEqual(['a', 'b']);
    expect(CharTokenizer.fromText('aaabbcd', { minCount: 3 }).tokens).toEqual(['a']);
    expect(WordTokenizer.fromText('a a a b b b c c d', { minCount: 2, maxSize: 2 }).tokens).toEqual(['a', 'b']);
    expect(WordTokenizer.fromText('a b', { minCount: 5 }).tokens).toEqual([]);
  });

  it('cut symbols map to the unknown id; without one, encode names the symbol and its position', () => {
    const t = WordTokenizer.fromText('the cat and the dog and the bird', { maxSize: 4, specials: { unknown: '<unk>' } });
    expect(t.tokens).toEqual(['<unk>', 'the', 'and', 'cat']);
    expect(t.encode('the dog and the bird')).toEqual([1, 0, 2, 1, 0]);
    expect(t.decode(t.encode('the dog and the bird'))).toBe('the <unk> and the <unk>');

    const strict = WordTokenizer.fromText('the cat and the dog', { maxSize: 3 });
    expect(() => strict.encode('the dog')).toThrow(RangeError);
    expect(() => strict.encode('the dog')).toThrow(/"dog" \(word 1\) at position 4, which is not in the vocabulary/);
    // Positions count code points.
    expect(() => strict.encode('🐳 the dog')).toThrow(/"🐳" \(word 0\) at position 0/);
    expect(() => WordTokenizer.fromText('𝒜𝒜 the', { minCount: 1 }).encode('𝒜𝒜 the dog')).toThrow(/"dog" \(word 2\) at position 7/);
    const chars = CharTokenizer.fromText('aab', { maxSize: 1 });
    expect(() => chars.encode('🐳ab')).toThrow(/"🐳" at position 0/);
    expect(() => chars.encode('🐳ab')).not.toThrow(/"a"/);
    expect(() => chars.encode('a🐳b')).toThrow(/"🐳" at position 1/);
    expect(() => chars.encode('aab')).toThrow(/"b" at position 2, which is not in the vocabulary/);
  });
});

describe('lower-casing', () => {
  it('words: counted and encoded lower-cased; the specials are matched as written and never lower-cased', () => {
    const t = WordTokenizer.fromText('The the THE Cat cat SENTENCE_END', { lowercase: true, specials: { end: 'SENTENCE_END' } });
    expect(t.tokens).toEqual(['SENTENCE_END', 'the', 'cat']);
    expect(t.lowercase).toBe(true);
    expect(t.encode('tHe CAT SENTENCE_END')).toEqual([1, 2, 0]);
    expect(t.tokenize('tHe CAT SENTENCE_END')).toEqual(['the', 'cat', 'SENTENCE_END']);
    expect(() => t.encode('sentence_end')).toThrow(/"sentence"/);
    // Final sigma: a word is lower-cased as a whole.
    expect(WordTokenizer.fromText('ΟΔΟΣ', { lowercase: true }).tokens).toEqual(['οδος']);
  });

  it('characters: each code point lower-cased on its own', () => {
    const t = CharTokenizer.fromText('AaBb', { lowercase: true });
    expect(t.tokens).toEqual(['a', 'b']);
    expect(t.encode('BA')).toEqual([1, 0]);
    expect(t.decode(t.encode('AbBa'))).toBe('abba');
  });

  it('without lowercase, case matters', () => {
    expect(WordTokenizer.fromText('The the', { minCount: 1 }).tokens).toEqual(['The', 'the']);
  });
});

describe('special tokens', () => {
  it('are placed first in the order pad, unknown, start, end, and exposed by name', () => {
    const t = WordTokenizer.fromText('x y x', { specials: { end: '</s>', start: '<s>', pad: '<pad>', unknown: '<unk>' } });
    expect(t.tokens).toEqual(['<pad>', '<unk>', '<s>', '</s>', 'x', 'y']);
    expect(t.specials).toEqual({ pad: 0, unknown: 1, start: 2, end: 3 });
    expect(t.unknown).toBe(1);
    const some = WordTokenizer.fromText('x y x', { specials: { end: 'E', start: 'S' } });
    expect(some.tokens).toEqual(['S', 'E', 'x', 'y']);
    expect(some.specials).toEqual({ start: 0, end: 1 });
    expect(some.unknown).toBeUndefined();
    // The `special` list follows the named specials; a token in both is one token.
    const both = WordTokenizer.fromText('x', { specials: { pad: '<pad>' }, special: ['<pad>', '<mask>'] });
    expect(both.tokens).toEqual(['<pad>', '<mask>', 'x']);
  });

  it('stable ids: the specials keep their ids whatever the corpus', () => {
    const ids = [moby, small, 'one', ''].map((text) => WordTokenizer.fromText(text, { specials: LECTURES }).specials);
    for (const s of ids) expect(s).toEqual({ unknown: 0, start: 1, end: 2 });
  });

  it('named specials in the text are matched whole, and not counted as words', () => {
    const t = WordTokenizer.fromText('SENTENCE_START hi there SENTENCE_END SENTENCE_START hi SENTENCE_END', { specials: LECTURES });
    expect(t.tokens).toEqual(['UNKNOWN_TOKEN', 'SENTENCE_START', 'SENTENCE_END', 'hi', 'there']);
    expect(t.encode('SENTENCE_START hi, you SENTENCE_END')).toEqual([1, 3, 0, 0, 2]);
    expect(t.encode('(SENTENCE_START)')).toEqual([0, 1, 0]);
  });

  it('unknown: true (the earlier option) with new options becomes the unknown special', () => {
    const t = WordTokenizer.fromText('a b a', { unknown: true, maxSize: 2 });
    expect(t.tokens).toEqual(['<unk>', 'a']);
    expect(t.specials).toEqual({ unknown: 0 });
    expect(t.encode('b')).toEqual([0]);
    const c = CharTokenizer.fromText('aab', { unknown: true, order: 'frequency' });
    expect(c.tokens).toEqual(['\uFFFD', 'a', 'b']);
  });

  it('decode can leave out pad, start and end (not unknown)', () => {
    const t = WordTokenizer.fromText('hello world', { specials: { pad: '<pad>', ...LECTURES } });
    const ids = [t.specials.start!, t.id('hello'), t.specials.unknown!, t.specials.end!, t.specials.pad!];
    expect(t.decode(ids)).toBe('SENTENCE_START hello UNKNOWN_TOKEN SENTENCE_END <pad>');
    expect(t.decode(ids, { skipSpecials: true })).toBe('hello UNKNOWN_TOKEN');
  });
});

describe('word splitting and readable decoding', () => {
  it('words (apostrophes inside) and each punctuation mark are tokens', () => {
    expect(WordTokenizer.split("'Hello,' she said; don't—people's water-gazers... café 3.14")).toEqual([
      "'", 'Hello', ',', "'", 'she', 'said', ';', "don't", '—', "people's", 'water', '-', 'gazers', '.', '.', '.', 'café', '3', '.', '14',
    ]);
    // Combining marks stay in their word (decomposed é; Devanagari vowel signs).
    expect(WordTokenizer.split('cafe\u0301 नमस्ते')).toEqual(['cafe\u0301', 'नमस्ते']);
    expect(WordTokenizer.split('don’t')).toEqual(['don’t']);
    // The earlier rule, kept for tokenizers saved by earlier versions.
    expect(WordTokenizer.split("'Hello,' don't", WordTokenizer.LEGACY_PATTERN)).toEqual(["'Hello", ',', "'", "don't"]);
  });

  it('decode puts spaces between words, none before punctuation, none inside brackets and quotes', () => {
    const t = WordTokenizer.fromText(moby, { specials: { unknown: '<unk>' } });
    const texts = [
      'Call me Ishmael.',
      'Some years ago—never mind how long precisely—having little or no money in my purse, and nothing particular to interest me on shore.',
      'Look at the crowds of water-gazers there.',
      'What do you see?—Posted like silent sentinels; all around the town: stand thousands!',
      '"Landlord," I whispered, "that aint the harpooneer is it?"',
      'This man (though but a sleeping-partner one) interested me at once.',
      "He never eats dumplings, he don't.",
    ];
    for (const text of texts) expect(t.decode(t.encode(text))).toBe(text);
    expect(WordTokenizer.detokenize(['a', '(', 'b', ')', '[', 'c', ']', '“', 'd', '”', '50', '%', 'e', '...', 'f', '/', 'g'])).toBe('a (b) [c] “d” 50% e... f/g');
    expect(WordTokenizer.detokenize(["'", 'hi', "'", 'she', 'said', '"', 'yes', '"', '.'])).toBe(`'hi' she said "yes".`);
    expect(WordTokenizer.detokenize([])).toBe('');
  });

  it('encode(decode(ids)) gives the ids back (random sequences over a real vocabulary)', () => {
    const t = WordTokenizer.fromText(moby, { maxSize: 300, specials: { pad: '<pad>', ...LECTURES } });
    const rng = new Random(7);
    for (let k = 0; k < 200; k++) {
      const ids = Array.from({ length: 1 + Math.floor(rng.uniform() * 30) }, () => Math.floor(rng.uniform() * t.vocabSize));
      expect(t.encode(t.decode(ids))).toEqual(ids);
    }
  });

  it('a custom pattern decides what a token is', () => {
    const t = WordTokenizer.fromText('a1 b22 a1', { pattern: /[a-z]+|\d+/ });
    expect(t.tokens).toEqual(['a', '1', 'b', '22']);
    expect(t.pattern.source).toBe('[a-z]+|\\d+');
    expect(t.encode('b1')).toEqual([2, 1]);
  });

  it('characters: decode(encode(text)) is the text', () => {
    const t = CharTokenizer.fromText(moby, { specials: { pad: '\u0000' } });
    expect(t.specials).toEqual({ pad: 0 });
    expect(t.decode(t.encode(moby))).toBe(moby);
  });
});

describe('JSON', () => {
  it('round trip of the current form: same settings, encode and decode', () => {
    const cases: (CharTokenizer | WordTokenizer)[] = [
      WordTokenizer.fromText(moby, { lowercase: true, maxSize: 500, specials: { pad: '<pad>', ...LECTURES } }),
      WordTokenizer.fromText(moby, { minCount: 3, order: 'sorted', specials: { unknown: '<unk>' } }),
      WordTokenizer.fromText('x1 y22', { pattern: /[a-z]+|\d+/i, specials: { unknown: '?' } }),
      CharTokenizer.fromText(moby, { lowercase: true, maxSize: 30, specials: { unknown: '\uFFFD', start: '\u0002', end: '\u0003' } }),
      CharTokenizer.fromText('abc', { unknown: true, special: ['<pad>'], order: 'frequency' }),
    ];
    const probe = 'Call me Ishmael. SENTENCE_START Some YEARS ago—X1 y22 Z3!';
    for (const t of cases) {
      const json = t.toJSON();
      expect(json.version).toBe(2);
      const back = viaJSON(t);
      expect(back).toBeInstanceOf(t.constructor);
      expect(back.toJSON()).toEqual(json);
      expect(back.tokens).toEqual(t.tokens);
      expect(back.specials).toEqual(t.specials);
      expect(back.lowercase).toBe(t.lowercase);
      expect(back.encode(probe)).toEqual(t.encode(probe));
      const ids = t.encode(probe);
      expect(back.decode(ids)).toBe(t.decode(ids));
    }
    expect(cases[0].toJSON()).toMatchObject({ kind: 'word', version: 2, unknown: 1, lowercase: true, specials: { pad: 0, unknown: 1, start: 2, end: 3 } });
    expect((cases[2].toJSON() as TokenizerJSON).pattern).toEqual({ source: '[a-z]+|\\d+', flags: 'i' });
  });

  it('reads the form of earlier versions ({ kind, tokens, unknown }) and writes it back unchanged', () => {
    const oldWord: TokenizerJSON = { kind: 'word', tokens: [',', '.', 'hat', 'the', "cat's", '<unk>'], unknown: 5 };
    const w = tokenizerFromJSON(oldWord);
    expect(w).toBeInstanceOf(WordTokenizer);
    expect(w.toJSON()).toEqual(oldWord);
    expect(w.specials).toEqual({ unknown: 5 });
    expect(w.lowercase).toBe(false);
    // The earlier split ("'hat" is one token) and decode (joined by spaces).
    expect(w.encode("the cat's 'hat, The")).toEqual([3, 4, 5, 0, 5]);
    expect(w.decode([3, 2, 1])).toBe('the hat .');
    const oldChar: TokenizerJSON = { kind: 'char', tokens: [' ', 'a', 'b', 'n'] };
    const c = tokenizerFromJSON(oldChar);
    expect(c).toBeInstanceOf(CharTokenizer);
    expect(c.toJSON()).toEqual(oldChar);
    expect(c.encode('ban an')).toEqual([2, 1, 3, 0, 1, 3]);
    expect(() => c.encode('x')).toThrow(/"x" at position 0/);
    // What earlier versions' fromText built is what they saved, and reads back the same.
    const legacy = WordTokenizer.fromText("the cat's hat, the mat.", { unknown: true });
    expect(legacy.toJSON()).toEqual({ kind: 'word', tokens: [',', '.', "cat's", 'hat', 'mat', 'the', '<unk>'], unknown: 6 });
    expect(viaJSON(legacy).decode(legacy.encode('the hat.'))).toBe('the hat .');
  });

  it('rejects malformed JSON with a message naming the field', () => {
    expect(() => tokenizerFromJSON({ kind: 'word', tokens: ['a'], version: 3 } as unknown as TokenizerJSON)).toThrow(/json.version must be 2/);
    expect(() => tokenizerFromJSON({ kind: 'char', tokens: ['a'], unknown: 1 })).toThrow(/json.unknown must be a token id in \[0, 1\); got 1/);
    expect(() => tokenizerFromJSON({ kind: 'word', tokens: ['a', 'b'], version: 2, specials: { start: 0, end: 0 } })).toThrow(/json.specials.start and json.specials.end are both id 0/);
    // The legacy `unknown` field shares the rule (a file with unknown, start and end all 0 loaded).
    expect(() => tokenizerFromJSON({ kind: 'word', tokens: ['a', 'b'], version: 2, unknown: 0, specials: { start: 0, end: 1 } })).toThrow(/json.unknown and json.specials.start are both id 0/);
    expect(() => tokenizerFromJSON({ kind: 'word', tokens: ['a'], version: 2, specials: { bos: 0 } as never })).toThrow(/json.specials.bos is not a special token name/);
    expect(() => tokenizerFromJSON({ kind: 'word', tokens: ['a'], version: 2, pattern: { source: '(', flags: 'u' } })).toThrow(/json.pattern is not a valid regular expression/);
    expect(() => tokenizerFromJSON({ kind: 'word', tokens: [1] as never })).toThrow(/json.tokens\[0\] must be a string/);
    expect(() => CharTokenizer.fromJSON({ kind: 'word', tokens: [] })).toThrow(TypeError);
  });
});

describe('option checks', () => {
  it('bad options raise a TypeError or RangeError naming the option', () => {
    const specials = { unknown: '<unk>', start: '<s>', end: '</s>' };
    expect(() => WordTokenizer.fromText('a', { maxSize: 2, specials })).toThrow(/options.maxSize \(2\) must be at least the number of special tokens \(3\)/);
    expect(() => WordTokenizer.fromText('a', { maxSize: 2, special: ['<pad>'], specials })).toThrow(RangeError);
    expect(() => WordTokenizer.fromText('a', { maxSize: 0 })).toThrow(/options.maxSize must be an integer ≥ 1; got 0/);
    expect(() => WordTokenizer.fromText('a', { maxSize: 2.5 })).toThrow(RangeError);
    expect(() => CharTokenizer.fromText('a', { minCount: 0 })).toThrow(/options.minCount must be an integer ≥ 1; got 0/);
    expect(() => CharTokenizer.fromText('a', { minCount: '2' as never })).toThrow(/options.minCount/);
    expect(() => CharTokenizer.fromText('a', { lowercase: 'yes' as never })).toThrow(/options.lowercase must be a boolean; got "yes"/);
    expect(() => CharTokenizer.fromText('a', { order: 'count' as never })).toThrow(/options.order must be 'frequency' or 'sorted'; got "count"/);
    expect(() => CharTokenizer.fromText('a', { maxsize: 3 } as never)).toThrow(/options.maxsize is not an option of CharTokenizer.fromText/);
    expect(() => CharTokenizer.fromText('a', { pattern: /./ } as never)).toThrow(/options.pattern is not an option of CharTokenizer/);
    expect(() => WordTokenizer.fromText('a', { pattern: '\\w+' as never })).toThrow(/options.pattern must be a RegExp/);
    expect(() => WordTokenizer.fromText('a', { specials: { bos: '<s>' } as never })).toThrow(/options.specials.bos is not a special token name \(expected pad, unknown, start, end\)/);
    expect(() => WordTokenizer.fromText('a', { specials: { start: '' } })).toThrow(/options.specials.start must be a non-empty string/);
    expect(() => WordTokenizer.fromText('a', { specials: { start: 'S', end: 'S' } })).toThrow(/options.specials.start and options.specials.end are both "S"/);
    expect(() => WordTokenizer.fromText('a', { special: ['x', 'x'] })).toThrow(/options.special\[1\] repeats "x"/);
    expect(() => WordTokenizer.fromText('a', { special: [1] as never })).toThrow(/options.special\[0\] must be a string/);
    expect(() => WordTokenizer.fromText('a', null as never)).toThrow(/options must be an object/);
  });

  it('text must be a string or an iterable of strings', () => {
    expect(() => WordTokenizer.fromText(42 as never)).toThrow(/text must be a string or an iterable of strings; got 42/);
    expect(() => CharTokenizer.fromText(undefined as never, { minCount: 1 })).toThrow(TypeError);
    expect(() => WordTokenizer.fromText(['a', 3] as never, { minCount: 1 })).toThrow(/text\[1\] must be a string; got 3/);
    expect(() => CharTokenizer.fromText('a').encode(7 as never)).toThrow(/text must be a string; got 7/);
    expect(() => WordTokenizer.fromText('a', { minCount: 1 }).decode([0, 1])).toThrow(/ids\[1\] must be a token id in \[0, 1\); got 1/);
  });
});

describe('splitSentences', () => {
  const cases: [string, string[]][] = [
    ['One. Two! Three? Four', ['One.', 'Two!', 'Three?', 'Four']],
    ['Mr. Smith met Dr. Jones. They talked.', ['Mr. Smith met Dr. Jones.', 'They talked.']],
    ['Bring fruit, e.g. Apples. Or i.e. Pears.', ['Bring fruit, e.g. Apples.', 'Or i.e. Pears.']],
    ['He lives in the U.S. Army base. Yes.', ['He lives in the U.S. Army base.', 'Yes.']],
    ['J. R. R. Tolkien wrote it. So did I. Then we left.', ['J. R. R. Tolkien wrote it.', 'So did I.', 'Then we left.']],
    ['See No. 5 and p. 12. No. Never.', ['See No. 5 and p. 12.', 'No.', 'Never.']],
    ['Pi is 3.14 exactly. Right.', ['Pi is 3.14 exactly.', 'Right.']],
    ['He said "Go." Then he left.', ['He said "Go."', 'Then he left.']],
    ['"Stop!" he cried. "Why?" She asked.', ['"Stop!" he cried.', '"Why?"', 'She asked.']],
    ['It was late (very late.) We slept.', ['It was late (very late.)', 'We slept.']],
    ['Wait... what? Fine... Go on!!', ['Wait... what?', 'Fine...', 'Go on!!']],
    ['apples, pears, etc. and more. Etc. Done.', ['apples, pears, etc. and more.', 'Etc.', 'Done.']],
    ['What do you see?—Posted like sentinels. Yes.', ['What do you see?—Posted like sentinels.', 'Yes.']],
    ['CHAPTER 1\n\nLoomings\n\nCall me Ishmael. Some years ago.', ['CHAPTER 1', 'Loomings', 'Call me Ishmael.', 'Some years ago.']],
    ['A line\nwrapped here. Next.', ['A line\nwrapped here.', 'Next.']],
    ['  \n ', []],
    ['', []],
    ['No terminator at all', ['No terminator at all']],
    ['Unicode… Ellipsis. «Quoted.» Done.', ['Unicode…', 'Ellipsis.', '«Quoted.»', 'Done.']],
  ];
  for (const [text, expected] of cases) {
    it(JSON.stringify(text), () => expect(splitSentences(text)).toEqual(expected));
  }

  it('abbreviations can be replaced; checks its arguments', () => {
    expect(splitSentences('Ask Prof. X. Now.', { abbreviations: ['prof.'] })).toEqual(['Ask Prof. X. Now.']);
    expect(splitSentences('Ask Mr. Smith.', { abbreviations: [] })).toEqual(['Ask Mr.', 'Smith.']);
    expect(() => splitSentences(5 as never)).toThrow(/text must be a string; got number/);
    expect(() => splitSentences('a', { abbreviations: 'mr' as never })).toThrow(/options.abbreviations must be an iterable of strings/);
  });

  it('splits Moby-Dick ch. 1–3 into sentences that are slices of the text', () => {
    const s = splitSentences(moby);
    expect(s.length).toBeGreaterThan(300);
    expect(s[0]).toBe('Call me Ishmael.');
    expect(s).toContain('No.');
    let from = 0;
    for (const x of s) {
      const at = moby.indexOf(x, from);
      expect(at).toBeGreaterThanOrEqual(from);
      from = at + x.length;
    }
  });
});

describe('encodeSentences', () => {
  it('wraps each sentence in the start and end ids', () => {
    const t = WordTokenizer.fromText('the cat sat. the dog sat.', { specials: LECTURES });
    expect(t.tokens).toEqual(['UNKNOWN_TOKEN', 'SENTENCE_START', 'SENTENCE_END', 'the', 'sat', '.', 'cat', 'dog']);
    expect(encodeSentences(t, 'The cat sat. The bird sat!')).toEqual([
      [1, 0, 6, 4, 5, 2],
      [1, 0, 0, 4, 0, 2],
    ]);
    // An iterable is taken as sentences already split.
    expect(encodeSentences(t, ['the cat. the dog', ''])).toEqual([[1, 3, 6, 5, 3, 7, 2]]);
  });

  it('uses whichever of start and end the tokenizer has; needs one of them', () => {
    const endOnly = CharTokenizer.fromText('Ab. Ba.', { specials: { end: '\n' } });
    expect(encodeSentences(endOnly, 'Ab. Ba.').map((s) => endOnly.decode(s))).toEqual(['Ab.\n', 'Ba.\n']);
    expect(() => encodeSentences(WordTokenizer.fromText('a', { minCount: 1 }), 'a')).toThrow(/tokenizer has no start or end token/);
    const t = WordTokenizer.fromText('a', { specials: LECTURES });
    expect(() => encodeSentences(t, 5 as never)).toThrow(TypeError);
    expect(() => encodeSentences(t, ['a', 5] as never)).toThrow(/text\[1\] must be a string/);
  });
});

describe("the lectures' recipe", () => {
  /**
   * The recipe written out plainly (as in the lectures' Python): lower-case each sentence,
   * wrap it in SENTENCE_START … SENTENCE_END, count, keep the vocabularySize − 1 most
   * frequent (Counter.most_common: ties by first occurrence), UNKNOWN_TOKEN for the rest.
   */
  function recipe(sentences: string[], vocabularySize: number): { vocabulary: Set<string>; tokenized: string[][] } {
    const tokenized = sentences.map((s) => ['SENTENCE_START', ...WordTokenizer.split(s.toLowerCase()), 'SENTENCE_END']);
    const freq = new Map<string, number>();
    for (const sent of tokenized) for (const w of sent) freq.set(w, (freq.get(w) ?? 0) + 1);
    const vocab = [...freq].sort((a, b) => b[1] - a[1]).slice(0, vocabularySize - 1).map(([w]) => w);
    const vocabulary = new Set([...vocab, 'UNKNOWN_TOKEN']);
    return { vocabulary, tokenized: tokenized.map((sent) => sent.map((w) => (vocabulary.has(w) ? w : 'UNKNOWN_TOKEN'))) };
  }

  it('on a small fixture: the N most frequent words, UNKNOWN_TOKEN for the rest, SENTENCE_START/END around each sentence', () => {
    const sentences = splitSentences(small);
    expect(sentences).toEqual([
      'The cat sat on the mat.',
      'The dog sat on the log!',
      'Did the cat see the dog?',
      'Mr. Smith said the cat did not.',
      '"Where is the dog?" asked the cat.',
      'The dog, e.g. Rex, was on the log near the mat.',
      'A bird flew over the house (a small one).',
      'The bird sat on the house.',
      'No dog saw the bird',
    ]);
    const N = 12;
    const tok = WordTokenizer.fromText(sentences, { lowercase: true, maxSize: N, specials: LECTURES });
    expect(tok.vocabSize).toBe(N);
    // Counts: the 16, . 9 ("e.g." is e . g .), dog 5, cat 4 and on 4 (cat first), sat 3, bird 3,
    // then seven words seen twice, of which the first two to occur are kept (mat, log).
    expect(tok.tokens).toEqual(['UNKNOWN_TOKEN', 'SENTENCE_START', 'SENTENCE_END', 'the', '.', 'dog', 'cat', 'on', 'sat', 'bird', 'mat', 'log']);
    const seqs = encodeSentences(tok, sentences);
    expect(seqs).toHaveLength(9);
    expect(seqs[0]).toEqual([1, 3, 6, 8, 7, 3, 10, 4, 2]);
    expect(tok.decode(seqs[8])).toBe('SENTENCE_START UNKNOWN_TOKEN dog UNKNOWN_TOKEN the bird SENTENCE_END');
    expect(tok.decode(seqs[8], { skipSpecials: true })).toBe('UNKNOWN_TOKEN dog UNKNOWN_TOKEN the bird');
    // The same vocabulary and the same sentences as the recipe written out.
    const ref = recipe(sentences, N);
    expect(new Set(tok.tokens)).toEqual(ref.vocabulary);
    expect(seqs.map((s) => s.map((id) => tok.tokens[id]))).toEqual(ref.tokenized);
    // Training pairs: each input predicts the next word.
    const data = { inputs: seqs.map((s) => s.slice(0, -1)), targets: seqs.map((s) => s.slice(1)) };
    expect(data.inputs[0][0]).toBe(tok.specials.start);
    expect(data.targets[0].at(-1)).toBe(tok.specials.end);
  });

  it('on Moby-Dick ch. 1–3 it matches the recipe written out', () => {
    const sentences = splitSentences(moby);
    const tok = WordTokenizer.fromText(sentences, { lowercase: true, maxSize: 800, specials: LECTURES });
    const ref = recipe(sentences, 800);
    expect(new Set(tok.tokens)).toEqual(ref.vocabulary);
    expect(encodeSentences(tok, sentences).map((s) => s.map((id) => tok.tokens[id]))).toEqual(ref.tokenized);
  });
});

describe('corpus size', () => {
  it('a 1.2 MB corpus (ch. 1–3 × 24) builds the vocabulary of one copy, counts × 24', () => {
    const big = moby.repeat(24);
    expect(big.length).toBeGreaterThan(1_200_000);
    const one = WordTokenizer.fromText(moby, { lowercase: true, specials: { unknown: '<unk>' } });
    const all = WordTokenizer.fromText(big, { lowercase: true, specials: { unknown: '<unk>' } });
    expect(all.tokens).toEqual(one.tokens);
    expect(all.encode(big).length).toBe(24 * one.encode(moby).length);
    // minCount 24 on the repeated text keeps exactly what minCount 1 keeps on one copy.
    expect(WordTokenizer.fromText(big, { lowercase: true, minCount: 24 }).vocabSize).toBe(one.vocabSize - 1);
    expect(WordTokenizer.fromText(big, { lowercase: true, minCount: 25 }).vocabSize).toBeLessThan(one.vocabSize - 1);
    expect(CharTokenizer.fromText(big, { order: 'frequency' }).tokens).toEqual(CharTokenizer.fromText(moby, { order: 'frequency' }).tokens);
    expect(splitSentences(big).length).toBe(24 * splitSentences(moby).length);
  });
});
