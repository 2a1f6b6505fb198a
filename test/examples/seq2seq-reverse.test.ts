// examples/seq2seq-reverse.mjs on tiny settings (2–4 digits): the encoder–decoder reverses
// digit strings it never saw in training, greedily, digit for digit and then END.
import { describe, expect, it } from 'vitest';
import { numbersOf, requestedBackends, runExample } from './run-example.js';

describe('examples/seq2seq-reverse.mjs', () => {
  for (const backend of requestedBackends()) {
    it(`reverses held-out digit strings (${backend})`, async () => {
      const out = await runExample('seq2seq-reverse', ['--min', '2', '--max', '4', '--train', '600', '--test', '100', '--epochs', '15', '--hidden', '32', '--lr', '0.01', '--backend', backend]);
      expect(out).toContain('600 training strings of 2–4 digits; 100 held out (none of them seen in training)');
      const [exact, total, rate] = numbersOf(out, new RegExp(`^held-out exact match: (\\d+)/(\\d+) \\(([\\d.]+)\\) on ${backend}$`, 'm'));
      expect(total).toBe(100);
      expect(rate).toBeCloseTo(exact / total, 3);
      expect(exact).toBeGreaterThanOrEqual(90);
      // The examples printed: a ✓ means the output is the input reversed.
      const shown = [...out.matchAll(/^ {2}(\d+) → (\d*) ([✓✗])$/gm)];
      expect(shown.length).toBe(4);
      for (const [, input, output, mark] of shown) expect(mark === '✓').toBe(output === [...input].reverse().join(''));
    });
  }
});
