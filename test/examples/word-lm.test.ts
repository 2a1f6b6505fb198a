// examples/word-lm.mjs on tiny settings (300 words, hidden 16, 2 epochs). It has no
// --backend option: RNNKIT_BACKEND picks the backend. The held-out perplexity falls and
// ends far below a uniform guess over the vocabulary; the sampled sentences never hold
// the unknown token.
import { describe, expect, it } from 'vitest';
import { numbersOf, requestedBackends, runExample } from './run-example.js';

describe('examples/word-lm.mjs', () => {
  for (const backend of requestedBackends()) {
    it(`models held-out sentences and samples new ones (${backend})`, async () => {
      const out = await runExample('word-lm', ['--vocab', '300', '--epochs', '2', '--hidden', '16'], 120_000, { RNNKIT_BACKEND: backend });
      const [sentences, vocab] = numbersOf(out, /^(\d+) sentences, vocabulary (\d+) words \([\d.]+% of tokens UNKNOWN\)$/m);
      expect(sentences).toBeGreaterThan(300);
      expect(vocab).toBe(300);
      const perEpoch = [...out.matchAll(/^epoch \d+: train loss [\d.]+, held-out perplexity ([\d.]+)$/gm)].map((m) => Number(m[1]));
      expect(perEpoch.length).toBe(2);
      expect(perEpoch[1]).toBeLessThan(perEpoch[0]);
      const [perplexity, bits] = numbersOf(out, new RegExp(`^held-out perplexity \\(stream, state carried\\): ([\\d.]+) \\(([\\d.]+) bits per word\\), \\d+ s on ${backend}$`, 'm'));
      expect(bits).toBeCloseTo(Math.log2(perplexity), 1);
      expect(perplexity).toBeLessThan(vocab / 2);
      const samples = out.split('\n').filter((l) => l.startsWith('  '));
      expect(samples.length).toBe(3);
      for (const s of samples) expect(s).not.toMatch(/UNKNOWN_TOKEN|SENTENCE_(START|END)/i);
    });
  }
});
