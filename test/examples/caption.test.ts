// examples/caption.mjs on tiny settings: from new noisy feature vectors the model
// generates the exact caption (count, size, colour, noun with its plural) almost always.
import { describe, expect, it } from 'vitest';
import { numbersOf, requestedBackends, runExample } from './run-example.js';

describe('examples/caption.mjs', () => {
  for (const backend of requestedBackends()) {
    it(`captions held-out feature vectors (${backend})`, async () => {
      const out = await runExample('caption', ['--train', '400', '--test', '100', '--epochs', '12', '--hidden', '24', '--backend', backend]);
      const [exact, total, rate] = numbersOf(out, new RegExp(`^held-out captions exactly right: (\\d+)/(\\d+) \\(([\\d.]+)\\) on ${backend}$`, 'm'));
      expect(total).toBe(100);
      expect(rate).toBeCloseTo(exact / total, 3);
      expect(exact).toBeGreaterThanOrEqual(90);
      // The captions shown are sentences of the scene grammar ("a" with a singular noun, "two" with a plural).
      const shown = out.match(/^ {2}[✓✗] .*$/gm) ?? [];
      expect(shown.length).toBeGreaterThanOrEqual(4);
      for (const line of shown.filter((l) => l.startsWith('  ✓'))) {
        expect(line).toMatch(/^ {2}✓ (a (small|big) (red|green|blue) (circle|square|triangle)|two (small|big) (red|green|blue) (circles|squares|triangles))$/);
      }
    });
  }
});
