/**
 * Small synthetic tasks for the topology tests, drawn from a seeded generator.
 */
import { Random } from '../../src/init/random.js';

/** Many-to-one: the label is the first token; the rest is noise. */
export function firstTokenTask(n: number, length: [number, number], vocab: number, seed: number) {
  const rng = new Random(seed);
  const inputs: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const len = length[0] + rng.int(length[1] - length[0] + 1);
    const s = Array.from({ length: len }, () => rng.int(vocab));
    inputs.push(s);
    labels.push(s[0]);
  }
  return { inputs, labels };
}

/** Many-to-many: tag each step with the token `delay` steps earlier (ignore index before that). */
export function delayedEchoTask(n: number, length: [number, number], vocab: number, delay: number, seed: number) {
  const rng = new Random(seed);
  const inputs: number[][] = [];
  const targets: number[][] = [];
  for (let i = 0; i < n; i++) {
    const len = length[0] + rng.int(length[1] - length[0] + 1);
    const s = Array.from({ length: len }, () => rng.int(vocab));
    inputs.push(s);
    targets.push(s.map((_, t) => (t >= delay ? s[t - delay] : -100)));
  }
  return { inputs, targets };
}

/** Seq2seq: the target is the source reversed. */
export function reverseTask(n: number, length: [number, number], vocab: number, seed: number) {
  const rng = new Random(seed);
  const sources: number[][] = [];
  const targets: number[][] = [];
  for (let i = 0; i < n; i++) {
    const len = length[0] + rng.int(length[1] - length[0] + 1);
    const s = Array.from({ length: len }, () => rng.int(vocab));
    sources.push(s);
    targets.push(s.slice().reverse());
  }
  return { sources, targets };
}

/** Forecasting: noisy-free sums of two sines with random phase, next value as target. */
export function sineTask(n: number, length: number, seed: number) {
  const rng = new Random(seed);
  const series: number[][] = [];
  for (let i = 0; i < n; i++) {
    const phase = rng.uniformIn(0, 2 * Math.PI);
    series.push(Array.from({ length: length + 1 }, (_, t) => wave(t, phase)));
  }
  return series;
}

export function wave(t: number, phase: number): number {
  return 0.6 * Math.sin(0.3 * t + phase) + 0.3 * Math.sin(0.7 * t + 2 * phase);
}

/**
 * Long-range recall: the label (0 or 1) is the first token; then `gap` − 1 noise tokens
 * (2..vocab−1) follow, so the answer must be carried across `gap` steps.
 */
export function recallTask(n: number, gap: number, vocab: number, seed: number) {
  const rng = new Random(seed);
  const inputs: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = rng.int(2);
    inputs.push([label, ...Array.from({ length: gap - 1 }, () => 2 + rng.int(vocab - 2))]);
    labels.push(label);
  }
  return { inputs, labels };
}
