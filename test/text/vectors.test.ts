/**
 * Pretrained word vectors: GloVe / word2vec text read for a vocabulary (found and missing
 * words reported, a lower-cased fallback, the first of a repeated word kept), and loaded
 * into a model's embedding on every backend, the rows of missing words untouched.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createModel, WordTokenizer, wordVectorsFor } from '../../src/index.js';
import { requestedBackends } from '../helpers/backends.js';

const glove = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../data/glove-tiny.txt'), 'utf8');
const tok = WordTokenizer.fromText('The whale and the sea . Ishmael saw the whale .', { specials: { unknown: '<unk>' } });

describe('wordVectorsFor', () => {
  it('finds the vocabulary words (exact first, then lower-cased), reports the missing ones', () => {
    const v = wordVectorsFor(glove, tok);
    expect(v.dim).toBe(4);
    const row = (w: string) => Array.from(v.weights.subarray(tok.id(w) * 4, tok.id(w) * 4 + 4));
    expect(row('the')).toEqual([0.1, 0.2, 0.3, 0.4].map(Math.fround)); // the first "the" line wins
    expect(row('The')).toEqual(row('the')); // lower-cased fallback
    expect(row('Ishmael')).toEqual([2, 2, 2, 2]);
    expect(row('whale')).toEqual([1, 0, -1, 0.5]);
    expect(v.missing.sort()).toEqual(['.', '<unk>', 'and', 'saw'].sort());
    expect(v.found.map((id) => tok.tokens[id]).sort()).toEqual(['Ishmael', 'The', 'sea', 'the', 'whale'].sort());
    expect(Number.isNaN(v.weights[tok.id('and') * 4])).toBe(true);
  });

  it('reads the word2vec text header, and names a malformed line of a needed word', () => {
    const v = wordVectorsFor('3 2\nthe 1 2\nsea 3 4\nfoo 5 6\n', tok);
    expect(v.dim).toBe(2);
    expect(() => wordVectorsFor('the 1 2 3\nsea 1 2\n', tok)).toThrow(/^line 2 \("sea"\) must hold 3 numbers after the word; got 2$/);
    expect(() => wordVectorsFor('the 1 1e300\n', tok)).toThrow(/^line 1 \("the"\): value 2, "1e300", is not a finite float32 decimal number$/);
    // The value at fault is named (it said "must hold 2 numbers; got 2 values"); hex is not a decimal.
    expect(() => wordVectorsFor('the 1 x\n', tok)).toThrow(/^line 1 \("the"\): value 2, "x", is not a finite float32 decimal number$/);
    expect(() => wordVectorsFor('the 0x10 1\n', tok)).toThrow(/value 1, "0x10", is not/);
    // Tabs separate as spaces do (the words of a tab-separated file were never found).
    expect(wordVectorsFor('the\t1\t2\nsea\t3 4\n', tok).found.map((id) => tok.tokens[id]).sort()).toEqual(['The', 'sea', 'the'].sort());
    // A width no embedding of this vocabulary can have is refused before the [vocab][dim] weights are allocated.
    const big = WordTokenizer.fromText(Array.from({ length: 70_000 }, (_, i) => `w${i}`).join(' '), { specials: { unknown: '<unk>' } });
    const most = Math.floor(2 ** 28 / big.vocabSize);
    expect(wordVectorsFor(`w1${' 1'.repeat(most)}\n`, big).dim).toBe(most);
    expect(() => wordVectorsFor(`w1${' 1'.repeat(most + 1)}\n`, big)).toThrow(new RegExp(`^line 1: vectors of dim ${most + 1} for ${big.vocabSize} tokens exceed what an embedding can hold \\(dim ≤ ${most}\\)$`));
    expect(() => wordVectorsFor('3 99999999999\nthe 1 2\n', tok)).toThrow(/^line 1: vectors of dim 99999999999/);
    expect(() => wordVectorsFor('the 1 x 3\n', tok)).toThrow(/line 1 \("the"\)/);
    // A malformed line of a word nobody needs is skipped, not parsed.
    expect(wordVectorsFor('zzz 1 x\nthe 1 2\n', tok).dim).toBe(2);
    expect(() => wordVectorsFor('foo 1 2\n', tok)).toThrow(/no vector of any vocabulary token/);
  });
});

for (const backend of requestedBackends() as ('native' | 'wasm' | 'reference')[]) {
  describe(`loadWordVectors on ${backend}`, () => {
    it('sets the rows of the found words and leaves the others as initialised', async () => {
      const model = await createModel({ input: { kind: 'embedding', vocab: tok.vocabSize, dim: 4 }, cell: 'gru', hiddenSize: 5, outputs: tok.vocabSize, backend });
      const before = model.stateDict().find((t) => t.name === 'embedding.weight')!.data;
      const v = wordVectorsFor(glove, tok);
      expect(model.loadWordVectors(v)).toBe(5);
      const after = model.stateDict().find((t) => t.name === 'embedding.weight')!.data;
      for (let id = 0; id < tok.vocabSize; id++) {
        const row = Array.from(after.subarray(id * 4, id * 4 + 4));
        const want = v.found.includes(id) ? Array.from(v.weights.subarray(id * 4, id * 4 + 4)) : Array.from(before.subarray(id * 4, id * 4 + 4));
        expect(row, tok.tokens[id]).toEqual(want);
      }
      expect(() => model.loadWordVectors({ ...v, dim: 3 })).toThrow(/dim 3; embedding has dim 4/);
      // Vectors made by hand are checked as any input: ids wrote rows out of place, a
      // Float64Array of 1e300 became Infinity parameters, a lying subclass read past its data.
      const stateBefore = model.stateDict().find((t) => t.name === 'embedding.weight')!.data;
      const refusals: [string, unknown, RegExp][] = [
        ['a fractional id', { ...v, found: [0.5] }, /^vectors\.found\[0\] must be a token id in \[0, \d+\); got 0\.5$/],
        ['a string id', { ...v, found: ['1'] }, /^vectors\.found\[0\] must be a token id in \[0, \d+\); got "1"$/],
        ['an id past the vocabulary', { ...v, found: [99] }, /^vectors\.found\[0\] must be a token id/],
        ['found not an array', { ...v, found: 'all' }, /^vectors\.found must be an array of token ids$/],
        ['Float64 weights', { ...v, weights: new Float64Array(v.weights.length).fill(1e300) }, /^vectors\.weights must be a Float32Array/],
        ['plain-array weights', { ...v, weights: Array.from(v.weights) }, /^vectors\.weights must be a Float32Array/],
        ['short weights', { ...v, weights: new Float32Array(4) }, /^vectors\.weights must have shape \[vocab \d+\]\[dim 4\]/],
        ['not an object', null, /^vectors must be what wordVectorsFor returns/],
      ];
      for (const [what, bad, message] of refusals) expect(() => model.loadWordVectors(bad as never), what).toThrow(message);
      expect(model.stateDict().find((t) => t.name === 'embedding.weight')!.data).toEqual(stateBefore);
      model.dispose();
    });
  });
}
