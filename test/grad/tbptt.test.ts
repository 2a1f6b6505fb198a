/**
 * Finite-difference check of truncated BPTT (src/tbptt.ts) in float64 on the reference core.
 *
 * TBPTT's gradient is the exact gradient of a SURROGATE loss, defined here independently of
 * tbptt.ts: split [0, T) into windows of k steps; window 0 starts from the real h0/c0, and
 * every later window w starts from the state s_w that the UNPERTURBED run reached at its
 * boundary, held fixed (a constant, not a function of the parameters). Then
 *   L_surrogate(θ, x, h0, c0) = Σ_w sum(y_w · dy_w) + sum(hn · dhn) + sum(cn · dcn)
 * with hn, cn the final state of the last window. Its central differences must match the
 * gradients TBPTT produces (parameter grads summed over windows, dx, and the first
 * window's dh0/dc0).
 */
import { describe, expect, it } from 'vitest';
import type { CellType, StackSpec } from '../../src/backend/contract.js';
import { paramLayout } from '../../src/backend/layout.js';
import { referenceBackward, referenceForward } from '../../src/backend/reference/sequence.js';
import { truncatedBpttWith } from '../../src/tbptt.js';
import { caseName, randomCase } from '../helpers/cases.js';
import { maxDifference } from '../helpers/compare.js';
import { dot, expectGradientMatches, sampleIndices } from '../helpers/fd.js';
import { Rng } from '../helpers/random.js';
import { reference64Runner } from '../helpers/reference64.js';
import type { CaseInputs } from '../helpers/run.js';

/** The states each window starts from in the unperturbed run (index 0: the caller's h0/c0). */
function boundaryStates(c: CaseInputs, window: number) {
  const states: { h?: Float64Array; c?: Float64Array }[] = [];
  let h = c.h0;
  let cs = c.c0;
  const rowX = c.batch * c.spec.inputSize;
  for (let t0 = 0; t0 < c.steps; t0 += window) {
    const t1 = Math.min(t0 + window, c.steps);
    states.push({ h: h?.slice(), c: cs?.slice() });
    const out = referenceForward(c.spec, c.params, {
      x: c.x.subarray(t0 * rowX, t1 * rowX),
      steps: t1 - t0,
      batch: c.batch,
      h0: h,
      c0: cs,
      lengths: c.lengths?.map((len) => Math.max(0, Math.min(len - t0, t1 - t0))),
    });
    h = out.hn;
    cs = out.cn;
  }
  return states;
}

function surrogateLoss(c: CaseInputs, window: number, fixed: { h?: Float64Array; c?: Float64Array }[]): number {
  const rowX = c.batch * c.spec.inputSize;
  const rowY = c.dy.length / c.steps;
  let loss = 0;
  for (let w = 0, t0 = 0; t0 < c.steps; w++, t0 += window) {
    const t1 = Math.min(t0 + window, c.steps);
    const out = referenceForward(c.spec, c.params, {
      x: c.x.subarray(t0 * rowX, t1 * rowX),
      steps: t1 - t0,
      batch: c.batch,
      h0: w === 0 ? c.h0 : fixed[w].h, // reads the (perturbed) h0 only in window 0
      c0: w === 0 ? c.c0 : fixed[w].c,
      lengths: c.lengths?.map((len) => Math.max(0, Math.min(len - t0, t1 - t0))),
    });
    loss += dot(out.y, c.dy.subarray(t0 * rowY, t1 * rowY));
    if (t1 === c.steps) loss += dot(out.hn, c.dhn) + (out.cn ? dot(out.cn, c.dcn) : 0);
  }
  return loss;
}

function runTbptt64(c: CaseInputs, window: number) {
  const runner = reference64Runner(c.spec, c.params);
  const out = truncatedBpttWith(c.spec, { ...c, window }, runner);
  return { ...out, grads: runner.grads };
}

function fullBptt64(c: CaseInputs) {
  const fwd = referenceForward(c.spec, c.params, c);
  return referenceBackward(c.spec, c.params, fwd.tape, c);
}

/** TBPTT needs a unidirectional stack (tbptt.ts refuses bidirectional ones). */
function spec(cell: CellType, layers: number): StackSpec {
  return { cell, inputSize: 3, hiddenSize: 4, outputSize: cell === 'jordan' ? 3 : 4, layers, bidirectional: false };
}

const CASES: { cell: CellType; layers: number; steps: number; window: number; lengths?: number[] }[] = [
  { cell: 'rnn_tanh', layers: 1, steps: 7, window: 3 },
  { cell: 'lstm', layers: 2, steps: 8, window: 3, lengths: [8, 2, 5] },
  { cell: 'lstm_peephole', layers: 1, steps: 6, window: 2 },
  { cell: 'gru', layers: 2, steps: 7, window: 4, lengths: [3, 7, 1] },
  { cell: 'gru_cho', layers: 1, steps: 5, window: 1 },
  { cell: 'rnn_relu', layers: 2, steps: 6, window: 4 },
  { cell: 'jordan', layers: 2, steps: 7, window: 3, lengths: [4, 7, 6] },
  { cell: 'jordan', layers: 1, steps: 5, window: 2 },
];

describe('finite differences: truncated BPTT surrogate loss (float64 reference core)', () => {
  CASES.forEach((k, n) => {
    const c = randomCase(spec(k.cell, k.layers), {
      seed: 700 + n,
      steps: k.steps,
      batch: 3,
      withState: true,
      withFinalGrad: true,
    });
    if (k.lengths) c.lengths = Int32Array.from(k.lengths);
    it(`${caseName(c)} window ${k.window}`, () => {
      const fixed = boundaryStates(c, k.window);
      const loss = () => surrogateLoss(c, k.window, fixed);
      const g = runTbptt64(c, k.window);
      const rng = new Rng(800 + n);
      for (const e of paramLayout(c.spec).entries) {
        const idx = sampleIndices(e.size, 4, rng).map((i) => e.offset + i);
        expectGradientMatches(`${e.name}`, c.params, g.grads, loss, idx);
      }
      expectGradientMatches('x', c.x, g.dx, loss, sampleIndices(c.x.length, 10, rng));
      expectGradientMatches('h0', c.h0 as Float64Array, g.dh0, loss, sampleIndices(g.dh0.length, 6, rng));
      if (c.c0) expectGradientMatches('c0', c.c0, g.dc0 as Float64Array, loss, sampleIndices(c.c0.length, 6, rng));

      // The truncation must actually change something, or this test proves nothing about it.
      const full = fullBptt64(c);
      expect(maxDifference(g.grads, full.grads).max, 'TBPTT grads differ from full BPTT').toBeGreaterThan(1e-6);
      // ...while the forward pass is not truncated: states are carried exactly.
      const fwd = referenceForward(c.spec, c.params, c);
      expect(maxDifference(g.y, fwd.y).max, 'windowed y equals full y').toBeLessThan(1e-14);
      expect(maxDifference(g.hn, fwd.hn).max, 'windowed hn equals full hn').toBeLessThan(1e-14);
    });
  });

  it('a window ≥ T is full BPTT, bit for bit', () => {
    for (const cell of ['lstm', 'gru', 'jordan'] as CellType[]) {
      const c = randomCase(spec(cell, 2), { seed: 900, steps: 5, batch: 2, withState: true, withFinalGrad: true });
      c.lengths = Int32Array.from([2, 5]);
      const full = fullBptt64(c);
      for (const window of [5, 6, 1000]) {
        const t = runTbptt64(c, window);
        expect(Array.from(t.grads), `${cell} window ${window}: grads`).toEqual(Array.from(full.grads));
        expect(Array.from(t.dx), `${cell} window ${window}: dx`).toEqual(Array.from(full.dx));
        expect(Array.from(t.dh0), `${cell} window ${window}: dh0`).toEqual(Array.from(full.dh0));
        if (full.dc0) expect(Array.from(t.dc0 as Float64Array)).toEqual(Array.from(full.dc0));
      }
    }
  });
});
