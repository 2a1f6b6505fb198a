/**
 * Tokenizers and a character-level language model (many-to-many next-token prediction).
 */
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/models/model.js';
import { nextTokenDataset } from '../../src/text/language-model.js';
import { CharTokenizer, tokenizerFromJSON, WordTokenizer } from '../../src/text/tokenizer.js';

describe('tokenizers', () => {
  it('char: sorted vocabulary, round trip, surrogate pairs whole, JSON', () => {
    const t = CharTokenizer.fromText('banana 🍌');
    expect(t.tokens).toEqual([' ', 'a', 'b', 'n', '🍌']);
    expect(t.encode('nab🍌')).toEqual([3, 1, 2, 4]);
    expect(t.decode(t.encode('banana 🍌'))).toBe('banana 🍌');
    expect(tokenizerFromJSON(JSON.parse(JSON.stringify(t))).encode('ban')).toEqual(t.encode('ban'));
  });
  it('char: unknown symbols are an error naming them, or one id when asked', () => {
    expect(() => CharTokenizer.fromText('abc').encode('abz')).toThrow(/"z" at position 2, which is not in the vocabulary/);
    const t = CharTokenizer.fromText('abc', { unknown: true, special: ['<pad>'] });
    expect(t.tokens[0]).toBe('<pad>');
    expect(t.encode('az')).toEqual([1, t.unknown]);
    expect(() => t.decode([0, 99])).toThrow(/ids\[1\] must be a token id in \[0, 5\); got 99/);
  });
  it('word: words and punctuation, <unk>', () => {
    const t = WordTokenizer.fromText("the cat's hat, the mat.", { unknown: true });
    expect(WordTokenizer.split("the cat's hat, the mat.")).toEqual(['the', "cat's", 'hat', ',', 'the', 'mat', '.']);
    expect(t.decode(t.encode('the hat.'))).toBe('the hat .');
    expect(t.encode('the dog')).toEqual([t.id('the'), t.unknown]);
  });
  it('nextTokenDataset shifts targets by one and keeps the tail', () => {
    expect(nextTokenDataset([1, 2, 3, 4, 5, 6], 2)).toEqual({ inputs: [[1, 2], [3, 4], [5]], targets: [[2, 3], [4, 5], [6]] });
    expect(nextTokenDataset([1, 2, 3, 4], 3, 1).inputs).toEqual([[1, 2, 3], [2, 3], [3]]);
    expect(() => nextTokenDataset([1], 2)).toThrow(/at least 2 tokens/);
  });
});

describe('character language model (reference backend)', () => {
  it('an LSTM learns a short text and regenerates it greedily', async () => {
    const text = 'the quick brown fox jumps over the lazy dog. ';
    const tok = CharTokenizer.fromText(text);
    const ids = tok.encode(text.repeat(8));
    const data = nextTokenDataset(ids, 24, 6);
    const model = await createModel({
      input: { kind: 'embedding', vocab: tok.vocabSize, dim: 8 }, cell: 'lstm', hiddenSize: 48,
      outputs: tok.vocabSize, init: { seed: 11 }, backend: 'reference',
    });
    model.extra = { tokenizer: tok.toJSON() };
    const fit = await model.fit(data, { epochs: 25, batchSize: 16, optimizer: { name: 'adam', lr: 0.01 }, clip: { maxNorm: 1 } });
    const m = await model.evaluate(data);
    console.log(`char LM: loss ${fit.epochs[0].loss.toFixed(3)} → ${m.loss.toFixed(3)}, perplexity ${m.perplexity!.toFixed(3)}, accuracy ${m.accuracy}`);
    expect(m.perplexity!).toBeLessThan(1.3);
    const prompt = 'the quick';
    const out = model.generate({ start: tok.encode(prompt), steps: text.length - prompt.length });
    expect(prompt + tok.decode(out)).toBe(text.slice(0, text.length));
  });
});
