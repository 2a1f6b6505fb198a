// examples/tagging.mjs on tiny settings: tags that need the right-hand neighbour are
// learned by the bidirectional model and not by the left-to-right one.
import { describe, expect, it } from 'vitest';
import { numbersOf, requestedBackends, runExample } from './run-example.js';

describe('examples/tagging.mjs', () => {
  for (const backend of requestedBackends()) {
    it(`tags held-out sequences with context from both sides (${backend})`, async () => {
      const out = await runExample('tagging', ['--train', '500', '--test', '200', '--epochs', '10', '--hidden', '16', '--backend', backend]);
      expect(out).toMatch(new RegExp(`^500 training sequences, 200 held out \\(\\d+ tags\\) on ${backend}$`, 'm'));
      const [bi, uni, majority] = numbersOf(out, /^held-out per-token accuracy: bidirectional ([\d.]+), unidirectional ([\d.]+), majority tag ([\d.]+)$/m);
      expect(majority).toBeLessThan(0.45);
      expect(bi).toBeGreaterThanOrEqual(0.9);
      expect(bi).toBeGreaterThan(uni + 0.1);
      expect(bi).toBeGreaterThan(majority + 0.4);
      // The example sequence: as many tags as digits, each one of S, P, V.
      const [digits, predicted, truth] = ['digits', 'predicted', 'true'].map((k) => new RegExp(`^ {2}${k} +(.*)$`, 'm').exec(out)![1].split(' '));
      expect(predicted.length).toBe(digits.length);
      expect(truth.length).toBe(digits.length);
      expect(predicted.every((t) => 'SPV'.includes(t))).toBe(true);
    });
  }
});
