import { describe, expect, it } from 'vitest';
import { Random } from '../../src/init/random.js';
import { argmax, pickToken } from '../../src/text/sampling.js';

const logits = [0.5, 2.0, -1.0, 1.5, 0.0];

describe('pickToken', () => {
  it('temperature 0 is greedy', () => {
    expect(argmax(logits)).toBe(1);
    expect(pickToken(logits, {}, new Random(1))).toBe(1);
    expect(pickToken(logits, { temperature: 0, topK: 3 }, new Random(1))).toBe(1);
  });

  it('top-k 1 with any temperature is greedy', () => {
    const rng = new Random(2);
    for (let i = 0; i < 200; i++) expect(pickToken(logits, { temperature: 5, topK: 1 }, rng)).toBe(1);
  });

  it('top-k 2 only ever picks the two most likely tokens, both of them', () => {
    const rng = new Random(3);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(pickToken(logits, { temperature: 1, topK: 2 }, rng));
    expect([...seen].sort()).toEqual([1, 3]);
  });

  it('temperature sampling follows softmax(logits / T)', () => {
    const T = 0.7;
    const rng = new Random(4);
    const n = 40000;
    const counts = new Array(logits.length).fill(0);
    for (let i = 0; i < n; i++) counts[pickToken(logits, { temperature: T }, rng)]++;
    const w = logits.map((z) => Math.exp(z / T));
    const total = w.reduce((a, b) => a + b, 0);
    logits.forEach((_, k) => {
      const p = w[k] / total;
      // 5 standard deviations of a binomial proportion.
      expect(Math.abs(counts[k] / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n) + 1e-9);
    });
  });
});
