/**
 * Every training golden case (../shared/golden/train/) on every backend named in
 * RNNKIT_BACKENDS: loss, gradients, total norms, y/hn/cn of the variable-length cases,
 * loss at step 2 and the parameters after two optimizer steps, at the README's tolerances.
 * On the reference, the float64 values are also held to 1e-9 (PyTorch computed in float64).
 */
import { describe, expect, it } from 'vitest';
import { modelLayout } from '../../src/backend/layout.js';
import type { ModelSpec } from '../../src/backend/contract.js';
import { ReferenceTraining } from '../../src/backend/reference/training/index.js';
import { loadTraining, trainingBackendNames } from './backends.js';
import { batchOf, clipOf, flat, flatParams, loadTrainCases, modelSpecOf, optimizerOf } from './golden-cases.js';
import type { TrainCase } from './golden-cases.js';
import { FLOAT64_REL, STATE_TOLERANCE, afterTolerance, gradTolerance, lossTolerance, normTolerance } from '../helpers/tolerances.js';

const cases = loadTrainCases();

/** Largest |a − b| over a tensor, with the index where it happens (for the message). */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; at: number } {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= diff)) {
      diff = d;
      at = i;
    }
  }
  return { diff, at };
}

function expectTensorsClose(what: string, spec: ModelSpec, ours: ArrayLike<number>, golden: TrainCase['grads'], tol: (g: number[]) => number): void {
  for (const e of modelLayout(spec).entries) {
    const g = flat(golden[e.name]);
    const o = Array.from(ours).slice(e.offset, e.offset + e.size);
    const { diff, at } = maxDiff(o, g);
    expect(diff, `${what} ${e.name}[${at}]: ours ${o[at]} vs golden ${g[at]}`).toBeLessThanOrEqual(tol(g));
  }
}

function expectAfterClose(spec: ModelSpec, ours: ArrayLike<number>, golden: TrainCase['after'], scale = 1): void {
  for (const e of modelLayout(spec).entries) {
    const g = flat(golden[e.name]);
    for (let i = 0; i < e.size; i++) {
      const o = ours[e.offset + i];
      const d = Math.abs(o - g[i]);
      if (!(d <= scale * afterTolerance(g[i]))) {
        expect(d, `after ${e.name}[${i}]: ours ${o} vs golden ${g[i]}`).toBeLessThanOrEqual(scale * afterTolerance(g[i]));
      }
    }
  }
}

for (const backendName of trainingBackendNames()) {
  describe(`training golden cases on ${backendName}`, () => {
    it('has cases to run', () => {
      expect(cases.length).toBe(12);
    });
    for (const c of cases) {
      it(c.id, async () => {
        const training = await loadTraining(backendName);
        const spec = modelSpecOf(c);
        const model = training.createModel(spec);
        try {
          training.setParams(model, Float32Array.from(flatParams(spec, c.weights)));
          training.setOptimizer(model, optimizerOf(c), clipOf(c));
          const batch = batchOf(c);

          if (c.y) {
            const ev = await training.evaluate(model, batch);
            expect(Math.abs(ev.loss - c.loss)).toBeLessThanOrEqual(lossTolerance(c.loss));
            for (const [name, ours, golden] of [['y', ev.y, c.y], ['hn', ev.hn, c.hn], ['cn', ev.cn, c.cn]] as const) {
              if (golden === undefined) continue;
              expect(ours, `${name} missing`).toBeDefined();
              const { diff, at } = maxDiff(ours!, flat(golden));
              expect(diff, `${name}[${at}]`).toBeLessThanOrEqual(STATE_TOLERANCE);
            }
          }

          const s1 = await training.trainStep(model, batch);
          expect(Math.abs(s1.loss - c.loss), `loss ${s1.loss} vs ${c.loss}`).toBeLessThanOrEqual(lossTolerance(c.loss));
          expectTensorsClose('grad', spec, training.getGrads(model), c.grads, gradTolerance);
          if (c.total_norm !== undefined) {
            expect(Math.abs(s1.totalNorm - c.total_norm), `total_norm ${s1.totalNorm} vs ${c.total_norm}`).toBeLessThanOrEqual(normTolerance(c.total_norm));
          }

          const s2 = await training.trainStep(model, batch);
          expect(Math.abs(s2.loss - c.loss_step2), `loss_step2 ${s2.loss} vs ${c.loss_step2}`).toBeLessThanOrEqual(lossTolerance(c.loss_step2));
          if (c.total_norm_step2 !== undefined) {
            expect(Math.abs(s2.totalNorm - c.total_norm_step2)).toBeLessThanOrEqual(normTolerance(c.total_norm_step2));
          }
          expectAfterClose(spec, training.getParams(model), c.after);
        } finally {
          training.disposeModel(model);
        }
      });
    }
  });
}

describe('training golden cases, float64 reference at 1e-9', () => {
  for (const c of cases) {
    it(c.id, () => {
      const training = new ReferenceTraining();
      const spec = modelSpecOf(c);
      const model = training.createModel(spec);
      training.setParams64(model, flatParams(spec, c.weights));
      training.setOptimizer(model, optimizerOf(c), clipOf(c));
      const batch = batchOf(c);
      const rel = (x: number) => FLOAT64_REL * Math.max(1, Math.abs(x));
      if (c.y) {
        const f = training.forward64(model, batch);
        for (const [name, ours, golden] of [['y', f.y, c.y], ['hn', f.hn, c.hn], ['cn', f.cn, c.cn]] as const) {
          if (golden === undefined) continue;
          expect(maxDiff(ours!, flat(golden)).diff, name).toBeLessThanOrEqual(FLOAT64_REL);
        }
      }
      const s1 = training.trainStepSync(model, batch);
      expect(Math.abs(s1.loss - c.loss)).toBeLessThanOrEqual(rel(c.loss));
      expectTensorsClose('grad', spec, training.getGrads64(model), c.grads, (g) => FLOAT64_REL * Math.max(1, ...g.map(Math.abs)));
      if (c.total_norm !== undefined) expect(Math.abs(s1.totalNorm - c.total_norm)).toBeLessThanOrEqual(rel(c.total_norm));
      const s2 = training.trainStepSync(model, batch);
      expect(Math.abs(s2.loss - c.loss_step2)).toBeLessThanOrEqual(rel(c.loss_step2));
      if (c.total_norm_step2 !== undefined) expect(Math.abs(s2.totalNorm - c.total_norm_step2)).toBeLessThanOrEqual(rel(c.total_norm_step2));
      // after: 1e-5 + 1e-4·|g| scaled down by 1e4 → 1e-9 + 1e-8·|g|.
      expectAfterClose(spec, training.getParams64(model), c.after, 1e-4);
    });
  }
});
