/**
 * End to end through the public model API: every training golden case whose initial
 * state is zero (the API starts sequences from zero) is written as a PyTorch-named
 * safetensors file, loaded into an RnnModel with `loadWeights`, evaluated (loss = PyTorch's),
 * and trained for two epochs of one batch with the case's optimizer and clipping — the
 * parameters must then be PyTorch's after two steps.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelLayout } from '../../src/backend/layout.js';
import { saveSafetensors } from '../../src/io/safetensors-file.js';
import { createModel } from '../../src/models/model.js';
import { clipOf, flat, loadTrainCases, optimizerOf } from '../train/golden-cases.js';
import type { TrainCase } from '../train/golden-cases.js';
import { afterTolerance, lossTolerance } from '../helpers/tolerances.js';

const zeroState = (c: TrainCase) => flat(c.h0).every((v) => v === 0) && (!c.c0 || flat(c.c0).every((v) => v === 0));
const cases = loadTrainCases().filter(zeroState);

/** The case's [T][B] arrays as B unpadded sequences. */
function sequences(c: TrainCase) {
  const inputs: number[][] = [];
  const targets: number[][] = [];
  for (let b = 0; b < c.batch; b++) {
    const len = c.lengths ? c.lengths[b] : c.steps;
    inputs.push(Array.from({ length: len }, (_, t) => c.tokens[t][b]));
    targets.push(Array.from({ length: len }, (_, t) => c.targets[t][b]));
  }
  return { inputs, targets };
}

describe('PyTorch equivalence through RnnModel (loadWeights, evaluate, fit)', () => {
  it('covers at least 6 cases, variable lengths included', () => {
    expect(cases.length).toBeGreaterThanOrEqual(6);
    expect(cases.some((c) => c.lengths)).toBe(true);
  });
  for (const c of cases) {
    it(c.id, async () => {
      const model = await createModel({
        input: { kind: 'embedding', vocab: c.vocab, dim: c.embed }, cell: c.cell, hiddenSize: c.hidden,
        layers: c.layers, bidirectional: c.bidirectional, outputs: c.classes, ignoreIndex: c.ignore_index, backend: 'reference',
      });
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'rnnkit-pt-')), 'model.safetensors');
      await saveSafetensors(file, Object.entries(c.weights).map(([name, v]) => {
        const entry = modelLayout(model.spec).entries.find((e) => e.name === name)!;
        return { name, shape: entry.shape, data: Float32Array.from(flat(v)) };
      }));
      await model.loadWeights(file);
      const data = sequences(c);
      const ev = await model.evaluate(data, { batchSize: c.batch });
      expect(Math.abs(ev.loss - c.loss)).toBeLessThanOrEqual(lossTolerance(c.loss));
      const fit = await model.fit(data, { epochs: 2, batchSize: c.batch, shuffle: false, optimizer: optimizerOf(c), clip: clipOf(c) });
      expect(fit.steps).toBe(2);
      expect(Math.abs(fit.epochs[0].loss - c.loss)).toBeLessThanOrEqual(lossTolerance(c.loss));
      expect(Math.abs(fit.epochs[1].loss - c.loss_step2)).toBeLessThanOrEqual(lossTolerance(c.loss_step2));
      const after = model.stateDict();
      for (const t of after) {
        const g = flat(c.after[t.name]);
        for (let i = 0; i < g.length; i++) {
          const d = Math.abs(t.data[i] - g[i]);
          if (!(d <= afterTolerance(g[i]))) expect(d, `${t.name}[${i}]: ours ${t.data[i]} vs ${g[i]}`).toBeLessThanOrEqual(afterTolerance(g[i]));
        }
      }
    });
  }
});
