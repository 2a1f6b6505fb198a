import { describe, expect, it } from 'vitest';
import { Random } from '../../src/init/random.js';
import { argmax, checkSamplingOptions, pickToken } from '../../src/text/sampling.js';

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

describe('pickToken: top-p, banned tokens, repetition penalty, ties', () => {
  // Probabilities 0.5, 0.3, 0.15, 0.05 at temperature 1.
  const probs = [0.5, 0.3, 0.15, 0.05];
  const z = probs.map(Math.log);
  const seen = (options: Parameters<typeof pickToken>[1], n = 3000, history?: number[]) => {
    const rng = new Random(9);
    const s = new Set<number>();
    for (let i = 0; i < n; i++) s.add(pickToken(z, options, rng, history));
    return [...s].sort();
  };

  it('top-p keeps the fewest most likely tokens whose probabilities reach p', () => {
    expect(seen({ temperature: 1, topP: 0.5 })).toEqual([0]);
    expect(seen({ temperature: 1, topP: 0.7 })).toEqual([0, 1]);
    expect(seen({ temperature: 1, topP: 0.81 })).toEqual([0, 1, 2]);
    expect(seen({ temperature: 1, topP: 1 })).toEqual([0, 1, 2, 3]);
  });

  it('top-p follows the renormalised probabilities of the nucleus', () => {
    const rng = new Random(10);
    const n = 30000;
    let zeros = 0;
    for (let i = 0; i < n; i++) if (pickToken(z, { temperature: 1, topP: 0.7 }, rng) === 0) zeros++;
    const p = 0.5 / 0.8;
    expect(Math.abs(zeros / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
  });

  it('top-p and top-k combine (top-k first)', () => {
    expect(seen({ temperature: 1, topK: 3, topP: 0.9 })).toEqual([0, 1, 2]);
    expect(seen({ temperature: 1, topK: 2, topP: 0.99 })).toEqual([0, 1]);
  });

  it('banned tokens are never picked, greedy or sampled', () => {
    expect(pickToken(z, { bannedTokens: [0] }, new Random(1))).toBe(1);
    expect(seen({ temperature: 1, bannedTokens: [0, 2] })).toEqual([1, 3]);
    expect(seen({ temperature: 1, bannedTokens: [0], topK: 1 })).toEqual([1]);
    expect(() => pickToken(z, { bannedTokens: [0, 1, 2, 3] }, new Random(1))).toThrow(/banned/);
  });

  it('repetition penalty divides positive logits and multiplies negative ones (CTRL)', () => {
    expect(pickToken([2, 1.9, -1], { repetitionPenalty: 2 }, new Random(1), [0])).toBe(1); // 2/2 = 1 < 1.9
    expect(pickToken([2, 1.9, -1], { repetitionPenalty: 1.01 }, new Random(1), [0])).toBe(0); // 1.98 > 1.9
    expect(pickToken([-1, -1.5], { repetitionPenalty: 2 }, new Random(1), [0])).toBe(1); // -2 < -1.5
    expect(pickToken([-1, -1.5], { repetitionPenalty: 2 }, new Random(1), [])).toBe(0);
    // Repeats in the history count once.
    expect(pickToken([4, 1.9], { repetitionPenalty: 2 }, new Random(1), [0, 0, 0])).toBe(0);
  });

  it('a NaN or infinite logit is refused, naming it (an overflowed state gave token 0, the first of equal infinities)', () => {
    for (const o of [{}, { temperature: 1 }, { temperature: 0.7, topK: 2, topP: 0.9 }]) {
      expect(() => pickToken([0.5, Number.NaN, 1], o, new Random(1))).toThrow(/logit 1 is NaN/);
      expect(() => pickToken([0, Infinity, 3, Infinity], o, new Random(4))).toThrow(/logit 1 is Infinity; the model's outputs are not finite numbers/);
      expect(() => pickToken([Infinity, Infinity], o, new Random(4))).toThrow(/logit 0 is Infinity/);
      expect(() => pickToken([1, -Infinity], o, new Random(4))).toThrow(/logit 1 is -Infinity/);
    }
    // A banned NaN is no candidate: sampling goes on over the rest.
    expect(pickToken([0.5, Number.NaN, 1], { bannedTokens: [1] }, new Random(1))).toBe(2);
  });

  it('ties go to the lower id', () => {
    expect(pickToken([1, 3, 3, 0], {}, new Random(1))).toBe(1);
    expect(seen({ temperature: 1, topK: 1 }, 50, undefined)).toEqual([0]);
    const tie = [0, 2, 2, 2];
    const rng = new Random(3);
    for (let i = 0; i < 100; i++) expect(pickToken(tie, { temperature: 1, topK: 2 }, rng)).not.toBe(3);
  });

  it('without the new options it draws exactly as before (one uniform per token, candidates in id order)', () => {
    const a = new Random(12);
    const b = new Random(12);
    for (let i = 0; i < 50; i++) {
      const got = pickToken(logits, { temperature: 0.8 }, a);
      const w = logits.map((v) => Math.exp((v - 2) / 0.8));
      let u = b.uniform() * w.reduce((s, x) => s + x, 0);
      let want = w.length - 1;
      for (let j = 0; j < w.length; j++) {
        u -= w[j];
        if (u < 0) {
          want = j;
          break;
        }
      }
      expect(got).toBe(want);
    }
  });

  it('checkSamplingOptions refuses bad values, naming them', () => {
    expect(() => checkSamplingOptions({ topP: 0 }, 4)).toThrow(/topP/);
    expect(() => checkSamplingOptions({ topP: 1.5 }, 4)).toThrow(/topP/);
    expect(() => checkSamplingOptions({ repetitionPenalty: 0.5 }, 4)).toThrow(/repetitionPenalty/);
    expect(() => checkSamplingOptions({ bannedTokens: [4] }, 4)).toThrow(/bannedTokens/);
    expect(() => checkSamplingOptions({ bannedTokens: [0, 1, 2, 3] }, 4)).toThrow(/every/);
    expect(() => checkSamplingOptions({ temperature: -1 }, 4)).toThrow(/temperature/);
    expect(checkSamplingOptions({}, 4)).toEqual({ temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, bannedTokens: [] });
  });
});
