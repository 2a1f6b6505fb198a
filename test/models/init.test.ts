/**
 * Seeded generator and initialisers: determinism, ranges and the statistics each
 * initialiser promises (bounds, variances, orthogonality).
 */
import { describe, expect, it } from 'vitest';
import type { StackSpec } from '../../src/backend/contract.js';
import { paramLayout } from '../../src/backend/layout.js';
import { modelLayout } from '../../src/backend/layout.js';
import type { ModelSpec } from '../../src/backend/contract.js';
import {
  identityMatrix, initModelParams, initStackParams, orthogonalMatrix, xavierNormal, xavierUniform,
} from '../../src/init/initializers.js';
import { Random } from '../../src/init/random.js';

function stats(a: ArrayLike<number>) {
  let s = 0;
  let s2 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < a.length; i++) {
    s += a[i];
    s2 += a[i] * a[i];
    min = Math.min(min, a[i]);
    max = Math.max(max, a[i]);
  }
  const mean = s / a.length;
  return { mean, std: Math.sqrt(s2 / a.length - mean * mean), min, max };
}

/** Max |(MᵀM or MMᵀ) − gain²·I| over the small side. */
function orthoError(M: Float64Array, rows: number, cols: number, gain: number): number {
  const tall = rows >= cols;
  const k = tall ? cols : rows;
  let worst = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      let dot = 0;
      const n = tall ? rows : cols;
      for (let r = 0; r < n; r++) dot += tall ? M[r * cols + i] * M[r * cols + j] : M[i * cols + r] * M[j * cols + r];
      worst = Math.max(worst, Math.abs(dot - (i === j ? gain * gain : 0)));
    }
  }
  return worst;
}

describe('Random', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = new Random(42);
    const b = new Random(42);
    const c = new Random(43);
    const sa = Array.from({ length: 100 }, () => a.uniform());
    expect(Array.from({ length: 100 }, () => b.uniform())).toEqual(sa);
    expect(Array.from({ length: 100 }, () => c.uniform())).not.toEqual(sa);
  });
  it('keeps the stream of earlier versions (a seed names the same model across releases)', () => {
    const r = new Random(0);
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([3809008728, 1133695204, 53579671, 2891528803]);
    const q = new Random(-7);
    for (let i = 0; i < 1000; i++) q.normal();
    expect(q.getState()).toEqual({ s: [741592229, 1911160629, 1062825522, 2802801663], spare: null });
    expect(q.uniform()).toBe(0.06613406200571648);
  });
  it('draws uniform numbers in [0, 1) with mean 1/2 and variance 1/12', () => {
    const r = new Random(1);
    const u = Array.from({ length: 40000 }, () => r.uniform());
    const s = stats(u);
    expect(s.min).toBeGreaterThanOrEqual(0);
    expect(s.max).toBeLessThan(1);
    expect(Math.abs(s.mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(s.std - Math.sqrt(1 / 12))).toBeLessThan(0.01);
  });
  it('draws standard normal numbers', () => {
    const r = new Random(2);
    const s = stats(Array.from({ length: 40000 }, () => r.normal()));
    expect(Math.abs(s.mean)).toBeLessThan(0.02);
    expect(Math.abs(s.std - 1)).toBeLessThan(0.02);
  });
  it('draws every integer of [0, n) and nothing else', () => {
    const r = new Random(3);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(r.int(7));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
  it('shuffles into a permutation', () => {
    const a = new Random(4).shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
  it('rejects a non-integer seed', () => {
    expect(() => new Random(1.5)).toThrow(TypeError);
  });
});

describe('initialisers', () => {
  it('xavier uniform stays within ±√(6/(fan_in+fan_out)) with variance 2/(fan_in+fan_out)', () => {
    const rows = 120;
    const cols = 80;
    const s = stats(xavierUniform(rows, cols, new Random(5)));
    const bound = Math.sqrt(6 / (rows + cols));
    expect(s.max).toBeLessThanOrEqual(bound);
    expect(s.min).toBeGreaterThanOrEqual(-bound);
    expect(s.max).toBeGreaterThan(0.95 * bound);
    expect(Math.abs(s.std - Math.sqrt(2 / (rows + cols))) / Math.sqrt(2 / (rows + cols))).toBeLessThan(0.03);
  });
  it('xavier normal has std gain·√(2/(fan_in+fan_out))', () => {
    const s = stats(xavierNormal(100, 60, new Random(6), 2));
    const want = 2 * Math.sqrt(2 / 160);
    expect(Math.abs(s.std - want) / want).toBeLessThan(0.03);
    expect(Math.abs(s.mean)).toBeLessThan(0.02);
  });
  it('orthogonal gives orthonormal columns (tall), rows (wide) and square, times gain', () => {
    expect(orthoError(orthogonalMatrix(9, 9, new Random(7)), 9, 9, 1)).toBeLessThan(1e-12);
    expect(orthoError(orthogonalMatrix(12, 5, new Random(8), 1.5), 12, 5, 1.5)).toBeLessThan(1e-12);
    expect(orthoError(orthogonalMatrix(4, 10, new Random(9)), 4, 10, 1)).toBeLessThan(1e-12);
    // Not the identity (it is random) and seeded.
    const q = orthogonalMatrix(6, 6, new Random(10));
    expect(Math.abs(q[0] - 1)).toBeGreaterThan(1e-3);
    expect(orthogonalMatrix(6, 6, new Random(10))).toEqual(q);
  });
  it('identity puts gain on the diagonal', () => {
    expect(Array.from(identityMatrix(2, 3, 0.5))).toEqual([0.5, 0, 0, 0, 0.5, 0]);
  });
});

describe('initStackParams / initModelParams', () => {
  const lstm: StackSpec = { cell: 'lstm', inputSize: 5, hiddenSize: 6, outputSize: 6, layers: 2, bidirectional: true };

  it("defaults to PyTorch's uniform ±1/√H for every parameter, seeded", () => {
    const p = initStackParams(lstm, new Random(1));
    expect(p.length).toBe(paramLayout(lstm).total);
    const s = stats(p);
    const bound = 1 / Math.sqrt(6);
    expect(s.max).toBeLessThanOrEqual(bound);
    expect(s.min).toBeGreaterThanOrEqual(-bound);
    expect(s.max).toBeGreaterThan(0.9 * bound);
    expect(initStackParams(lstm, new Random(1))).toEqual(p);
    expect(initStackParams(lstm, new Random(2))).not.toEqual(p);
  });

  it('IRNN: identity recurrent matrix and zero biases for rnn_relu', () => {
    const spec: StackSpec = { cell: 'rnn_relu', inputSize: 3, hiddenSize: 4, outputSize: 4, layers: 1, bidirectional: false };
    const p = initStackParams(spec, new Random(3), { recurrentWeights: 'identity', bias: 'zeros', inputWeights: 'xavier_uniform' });
    const byName = Object.fromEntries(paramLayout(spec).entries.map((e) => [e.name, Array.from(p.subarray(e.offset, e.offset + e.size))]));
    expect(byName.weight_hh_l0).toEqual(Array.from(identityMatrix(4, 4)));
    expect(byName.bias_ih_l0).toEqual([0, 0, 0, 0]);
    expect(byName.bias_hh_l0).toEqual([0, 0, 0, 0]);
    expect(byName.weight_ih_l0.some((v) => v !== 0)).toBe(true);
  });

  it('orthogonal recurrent init is orthogonal per gate block', () => {
    const p = initStackParams(lstm, new Random(4), { recurrentWeights: 'orthogonal' });
    const e = paramLayout(lstm).entries.find((x) => x.name === 'weight_hh_l1_reverse')!;
    for (let g = 0; g < 4; g++) {
      const block = Float64Array.from(p.subarray(e.offset + g * 36, e.offset + (g + 1) * 36));
      expect(orthoError(block, 6, 6, 1)).toBeLessThan(1e-6); // float32 storage
    }
  });

  it('forgetBias sets the LSTM forget block of bias_ih and zeroes it in bias_hh', () => {
    const p = initStackParams(lstm, new Random(5), { forgetBias: 1 });
    const es = paramLayout(lstm).entries;
    const ih = es.find((x) => x.name === 'bias_ih_l0')!;
    const hh = es.find((x) => x.name === 'bias_hh_l0')!;
    expect(Array.from(p.subarray(ih.offset + 6, ih.offset + 12))).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Array.from(p.subarray(hh.offset + 6, hh.offset + 12))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('initModelParams covers embedding, stack and head, and the seed decides everything', () => {
    const spec: ModelSpec = {
      input: { kind: 'embedding', vocab: 7, dim: 5 }, conditionSize: 0, stack: lstm, outputs: 4,
      loss: { kind: 'cross_entropy', ignoreIndex: -100 },
    };
    const a = initModelParams(spec, { seed: 9 });
    expect(a.length).toBe(modelLayout(spec).total);
    expect(initModelParams(spec, { seed: 9 })).toEqual(a);
    expect(initModelParams(spec, { seed: 10 })).not.toEqual(a);
    const layout = modelLayout(spec);
    const emb = layout.entries[0];
    expect(stats(a.subarray(emb.offset, emb.offset + emb.size)).max).toBeGreaterThan(1 / Math.sqrt(6)); // normal, not ±1/√H
    const hw = layout.entries[layout.entries.length - 2];
    const hs = stats(a.subarray(hw.offset, hw.offset + hw.size));
    expect(hs.max).toBeLessThanOrEqual(1 / Math.sqrt(12));
  });
});
