// examples/sentiment.mjs on tiny settings: the LSTM reads negations and "but" clauses that
// a bag of words cannot, so its held-out accuracy is far above chance and above the
// order-free baseline the example prints next to it.
import { describe, expect, it } from 'vitest';
import { numbersOf, requestedBackends, runExample } from './run-example.js';

describe('examples/sentiment.mjs', () => {
  for (const backend of requestedBackends()) {
    it(`classifies held-out reviews (${backend})`, async () => {
      const out = await runExample('sentiment', ['--train', '600', '--test', '200', '--epochs', '6', '--hidden', '16', '--backend', backend]);
      const [accuracy, majority, bag] = numbersOf(out, /^held-out accuracy: ([\d.]+) \(majority class ([\d.]+), bag of words ([\d.]+)\) on (\w+)$/m);
      expect(out).toContain(`on ${backend}\n`);
      expect(majority).toBeLessThan(0.6);
      expect(accuracy).toBeGreaterThanOrEqual(0.9);
      expect(accuracy).toBeGreaterThan(bag + 0.2);
      // The sample predictions: a probability and the true label per review.
      expect(out.match(/^ {2}[01]\.\d\d [+-] \w/gm)?.length).toBe(6);
    });
  }
});
