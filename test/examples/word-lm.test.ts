// examples/word-lm.mjs on tiny settings (300 words, hidden 16, 2 epochs without vectors, 3
// with them: the 32-wide pretrained input starts more slowly). It has no --backend option:
// RNNKIT_BACKEND picks the backend. Every run: the held-out perplexity falls every epoch and
// ends below half the vocabulary size; the sampled sentences never hold the special tokens.
// With the bundled vectors: the example reports as many found words as the file and the
// vocabulary imply (counted here from the file's words and the tokenizer, not through
// wordVectorsFor); training moves their rows, and with --freeze they end exactly at the
// file's values.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WordTokenizer } from '../../src/text/tokenizer.js';
import { numbersOf, repoRoot, requestedBackends, runExample } from './run-example.js';

const tiny = ['--vocab', '300', '--hidden', '16'];

/** Words of the vocabulary (specials aside) that have a line in the bundled vectors file. */
function expectedFound(): { found: number; words: number; dim: number } {
  const lines = readFileSync(resolve(repoRoot, 'examples/data/moby-vectors-32d.txt'), 'utf8').trim().split('\n');
  const fileWords = new Set(lines.map((l) => l.split(' ')[0]));
  const tok = WordTokenizer.fromText(readFileSync(resolve(repoRoot, 'data/moby-dick-ch1-3.txt'), 'utf8'), {
    maxSize: 300, lowercase: true, specials: { unknown: 'UNKNOWN_TOKEN', start: 'SENTENCE_START', end: 'SENTENCE_END' },
  });
  const words = tok.tokens.filter((t) => !['UNKNOWN_TOKEN', 'SENTENCE_START', 'SENTENCE_END'].includes(t));
  return { found: words.filter((w) => fileWords.has(w)).length, words: words.length, dim: lines[0].split(' ').length - 1 };
}

function checkRun(out: string, backend: string, epochs: number, vectors: 'none' | 'trained' | 'frozen') {
  const [sentences, vocab] = numbersOf(out, /^(\d+) sentences, vocabulary (\d+) words \([\d.]+% of tokens UNKNOWN\)$/m);
  expect(sentences).toBeGreaterThan(300);
  expect(vocab).toBe(300);
  const perEpoch = [...out.matchAll(/^epoch \d+: train loss [\d.]+, held-out perplexity ([\d.]+)$/gm)].map((m) => Number(m[1]));
  expect(perEpoch.length).toBe(epochs);
  for (let e = 1; e < epochs; e++) expect(perEpoch[e]).toBeLessThan(perEpoch[e - 1]);
  const [perplexity, bits] = numbersOf(out, new RegExp(`^held-out perplexity \\(stream, state carried\\): ([\\d.]+) \\(([\\d.]+) bits per word\\), \\d+ s on ${backend}$`, 'm'));
  expect(bits).toBeCloseTo(Math.log2(perplexity), 1);
  expect(perplexity).toBeLessThan(vocab / 2);
  if (vectors === 'none') {
    expect(out).toMatch(/^vectors: none \(embedding dim 64, random init\)$/m);
    expect(out).not.toMatch(/^embedding rows of/m);
  } else {
    const expected = expectedFound();
    expect(expected.found).toBeGreaterThan(0);
    const [found, words, dim] = numbersOf(out, new RegExp(`^vectors: (\\d+) of the vocabulary's (\\d+) words found in .*moby-vectors-32d\\.txt \\(dim (\\d+)\\)${vectors === 'frozen' ? ', frozen' : ''}$`, 'm'));
    expect([found, words, dim]).toEqual([expected.found, expected.words, expected.dim]);
    const [rows, moved] = numbersOf(out, /^embedding rows of the (\d+) found words: max \|trained - file\| = ([\d.e+-]+)$/m);
    expect(rows).toBe(expected.found);
    if (vectors === 'frozen') expect(moved).toBe(0);
    else expect(moved).toBeGreaterThan(1e-3);
  }
  const samples = out.split('\n').filter((l) => l.startsWith('  '));
  expect(samples.length).toBe(3);
  for (const s of samples) expect(s).not.toMatch(/UNKNOWN_TOKEN|SENTENCE_(START|END)/i);
}

describe('examples/word-lm.mjs', () => {
  for (const backend of requestedBackends()) {
    it(`--vectors none: models held-out sentences and samples new ones (${backend})`, async () => {
      checkRun(await runExample('word-lm', [...tiny, '--epochs', '2', '--vectors', 'none'], 120_000, { RNNKIT_BACKEND: backend }), backend, 2, 'none');
    });
    it(`loads the bundled vectors and trains them (${backend})`, async () => {
      checkRun(await runExample('word-lm', [...tiny, '--epochs', '3'], 120_000, { RNNKIT_BACKEND: backend }), backend, 3, 'trained');
    });
    it(`--freeze keeps the found words' rows exactly at the file's values (${backend})`, async () => {
      checkRun(await runExample('word-lm', [...tiny, '--epochs', '3', '--freeze'], 120_000, { RNNKIT_BACKEND: backend }), backend, 3, 'frozen');
    });
  }
});
