/**
 * Frozen embedding tables (InputSpec `frozen`, PyTorch's requires_grad = False), on every
 * backend of RNNKIT_BACKENDS: through steps of SGD (momentum, weight decay), RMSprop, Adam
 * and AdamW, clipped by norm or by value, the frozen table stays bit for bit what it was,
 * its gradient reads as zeros, its optimizer buffers stay zero and the total norm leaves
 * it out, while every other parameter moves as the float64 reference moves it. Also: a
 * seq2seq encoder's table, save/load of the flag, and its validation.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InputSpec, ModelSpec, TrainBatch, TrainingBackend } from '../../src/backend/contract.js';
import { batchShapes, inputWidth, modelLayout } from '../../src/backend/layout.js';
import { ReferenceTraining } from '../../src/backend/reference/training/index.js';
import type { ClipSpec, OptimizerSpec } from '../../src/optim/optimizers.js';
import { Random } from '../../src/init/random.js';
import { createModel, RnnModel } from '../../src/models/model.js';
import { checkModelSpec } from '../../src/models/spec.js';
import type { BackendName } from '../../src/backend/contract.js';
import { loadTraining, trainingBackendNames } from './backends.js';
import { afterTolerance, gradTolerance, lossTolerance, normTolerance } from '../helpers/tolerances.js';

const OPTIMIZERS: OptimizerSpec[] = [
  { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.01 },
  { name: 'rmsprop', lr: 0.01, weightDecay: 0.01 },
  { name: 'adam', lr: 0.01, weightDecay: 0.01 },
  { name: 'adamw', lr: 0.01, weightDecay: 0.1 },
];
const CLIPS: { name: string; clip: ClipSpec }[] = [
  { name: 'clipped by norm', clip: { maxNorm: 0.5 } },
  { name: 'clipped by value', clip: { clipValue: 0.02 } },
];

function spec(input: InputSpec, encoderInput?: InputSpec): ModelSpec {
  const H = 5;
  const stack = (inputSize: number) => ({ cell: 'lstm' as const, inputSize, hiddenSize: H, outputSize: H, layers: 1, bidirectional: true });
  return {
    input, conditionSize: 0, stack: stack(inputWidth(input)), outputs: 4, loss: { kind: 'cross_entropy', ignoreIndex: -100 },
    ...(encoderInput ? { encoder: { input: encoderInput, stack: stack(inputWidth(encoderInput)) } } : {}),
  };
}

/** The same spec with every `frozen` flag removed. */
function unfrozen(s: ModelSpec): ModelSpec {
  const thaw = (i: InputSpec): InputSpec => (i.kind === 'embedding' ? { kind: 'embedding', vocab: i.vocab, dim: i.dim } : i);
  return { ...s, input: thaw(s.input), ...(s.encoder ? { encoder: { ...s.encoder, input: thaw(s.encoder.input) } } : {}) };
}

function batchFor(s: ModelSpec, rng: Random): TrainBatch {
  const T = 5;
  const B = 3;
  const sh = batchShapes(s, T, B);
  const vocab = s.input.kind === 'dense' ? 0 : s.input.vocab;
  const encVocab = s.encoder?.input.kind === 'embedding' ? s.encoder.input.vocab : 0;
  return {
    steps: T, batch: B, lengths: Int32Array.from([5, 3, 4]),
    tokens: Int32Array.from({ length: sh.tokens }, () => rng.int(vocab)),
    targets: Int32Array.from({ length: sh.targets }, (_, n) => (n === 2 ? -100 : rng.int(s.outputs))),
    h0: Float32Array.from({ length: sh.h }, () => Math.fround(rng.normal() * 0.5)),
    c0: Float32Array.from({ length: sh.c }, () => Math.fround(rng.normal() * 0.5)),
    source: s.encoder ? { steps: 4, lengths: Int32Array.from([4, 2, 3]), tokens: Int32Array.from({ length: 12 }, () => rng.int(encVocab)) } : undefined,
  };
}

/** The [offset, end) ranges of the frozen tables of `s`. */
function frozenRanges(s: ModelSpec): [number, number][] {
  const isFrozen = (i: InputSpec | undefined) => i?.kind === 'embedding' && i.frozen === true;
  return modelLayout(s).entries
    .filter((e) => (e.part === 'embedding' && isFrozen(s.input)) || (e.part === 'encoder.embedding' && isFrozen(s.encoder?.input)))
    .map((e) => [e.offset, e.offset + e.size]);
}

const inRanges = (ranges: [number, number][], i: number) => ranges.some(([a, b]) => i >= a && i < b);

/** √Σ g'² over the parameters outside `ranges`, g' = g clamped to ±clipValue when given. */
function normWithout(g: ArrayLike<number>, ranges: [number, number][], clip: ClipSpec): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) {
    if (inRanges(ranges, i)) continue;
    const v = clip.clipValue !== undefined ? Math.min(clip.clipValue, Math.max(-clip.clipValue, g[i])) : g[i];
    s += v * v;
  }
  return Math.sqrt(s);
}

/**
 * Three steps of `s` (some table frozen) on `training` and on the float64 reference; every
 * check of the file's header. `thawed` (an unfrozen model of the same parameters, given the
 * frozen model's parameters before each step) gives the gradient whose norm without the
 * frozen part the frozen model must report.
 */
async function checkFrozenTraining(training: TrainingBackend, s: ModelSpec, optimizer: OptimizerSpec, clip: ClipSpec): Promise<void> {
  const reference = new ReferenceTraining();
  const ranges = frozenRanges(s);
  expect(ranges.length).toBeGreaterThan(0);
  const rng = new Random(7);
  const layout = modelLayout(s);
  const init = Float32Array.from({ length: layout.total }, () => Math.fround(rng.uniformIn(-0.5, 0.5)));
  const ours = training.createModel(s);
  const ref = reference.createModel(s);
  const thawed = training.createModel(unfrozen(s));
  try {
    training.setParams(ours, init);
    reference.setParams(ref, init);
    training.setOptimizer(ours, optimizer, clip);
    reference.setOptimizer(ref, optimizer, clip);
    for (let step = 0; step < 3; step++) {
      const batch = batchFor(s, rng);
      training.setParams(thawed, training.getParams(ours));
      const full = training.lossAndGradsSync(thawed, batch).grads;
      const a = await training.trainStep(ours, batch);
      const b = reference.trainStepSync(ref, batch);
      expect(Math.abs(a.loss - b.loss), `step ${step} loss`).toBeLessThanOrEqual(lossTolerance(b.loss));
      expect(Math.abs(a.totalNorm - b.totalNorm), `step ${step} norm vs reference`).toBeLessThanOrEqual(normTolerance(b.totalNorm));
      // The norm is the unfrozen model's without the frozen block — whose part is large
      // enough here that a norm counting it would fail this check.
      const without = normWithout(full, ranges, clip);
      expect(Math.abs(a.totalNorm - without), `step ${step} norm = the unfrozen norm without the table`).toBeLessThanOrEqual(normTolerance(without));
      expect(Math.abs(normWithout(full, [], clip) - without), `step ${step}: the table's part of the norm is visible`).toBeGreaterThan(normTolerance(without));
      const g = training.getGrads(ours);
      const gr = reference.getGrads64(ref);
      for (const [lo, hi] of ranges) {
        expect(g.subarray(lo, hi).every((v) => v === 0), `step ${step}: the frozen table's gradient reads 0`).toBe(true);
        expect(gr.subarray(lo, hi).every((v) => v === 0), `step ${step}: reference gradient 0`).toBe(true);
      }
      for (const e of layout.entries) {
        const want = gr.subarray(e.offset, e.offset + e.size);
        const got = g.subarray(e.offset, e.offset + e.size);
        let d = 0;
        for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(got[i] - want[i]));
        expect(d, `step ${step} grad ${e.name}`).toBeLessThanOrEqual(gradTolerance(want));
      }
    }
    const p = training.getParams(ours);
    const pr = reference.getParams64(ref);
    for (let i = 0; i < p.length; i++) {
      if (inRanges(ranges, i)) {
        if (p[i] !== init[i] || pr[i] !== init[i]) expect({ i, ours: p[i], reference: pr[i] }, 'frozen parameter unchanged').toEqual({ i, ours: init[i], reference: init[i] });
      } else {
        if (p[i] === init[i]) expect(p[i], `parameter ${i} (not frozen) moved`).not.toBe(init[i]);
        if (!(Math.abs(p[i] - pr[i]) <= afterTolerance(pr[i]))) expect(Math.abs(p[i] - pr[i]), `after[${i}] vs reference`).toBeLessThanOrEqual(afterTolerance(pr[i]));
      }
    }
    // The optimizer's buffers for the frozen table stay zero (every other entry is live).
    const state = training.getOptimizerState(ours);
    expect(state?.step).toBe(3);
    for (const buf of state!.buffers) {
      for (const [lo, hi] of ranges) expect(Array.from(buf.subarray(lo, hi)).every((v) => v === 0), 'frozen buffers stay 0').toBe(true);
      expect(Array.from(buf).some((v, i) => !inRanges(ranges, i) && v !== 0)).toBe(true);
    }
  } finally {
    training.disposeModel(ours);
    training.disposeModel(thawed);
    reference.disposeModel(ref);
  }
}

// Few tokens and one layer, so that the table's gradient is a visible part of the norm.
const frozenEmb: InputSpec = { kind: 'embedding', vocab: 3, dim: 4, frozen: true };
const liveEmb: InputSpec = { kind: 'embedding', vocab: 3, dim: 4 };

for (const name of trainingBackendNames()) {
  describe(`${name}: a frozen embedding table`, () => {
    for (const optimizer of OPTIMIZERS) {
      for (const { name: clipName, clip } of CLIPS) {
        it(`${optimizer.name}, ${clipName}: unchanged, zero gradient and buffers, out of the norm; the rest as the reference`, async () => {
          await checkFrozenTraining(await loadTraining(name), spec(frozenEmb), optimizer, clip);
        });
      }
    }

    it('seq2seq: a frozen encoder table, the decoder table trained', async () => {
      await checkFrozenTraining(await loadTraining(name), spec(liveEmb, { kind: 'embedding', vocab: 3, dim: 3, frozen: true }), OPTIMIZERS[2], CLIPS[0].clip);
    });

    it('seq2seq: both tables frozen (AdamW, clipped by value)', async () => {
      await checkFrozenTraining(await loadTraining(name), spec(frozenEmb, { kind: 'embedding', vocab: 3, dim: 3, frozen: true }), OPTIMIZERS[3], CLIPS[1].clip);
    });

    it('fit keeps a frozen table; save and load keep `frozen`', async () => {
      const model = await createModel({
        input: { kind: 'embedding', vocab: 5, dim: 3, frozen: true }, cell: 'gru', hiddenSize: 4, outputs: 5,
        encoder: { input: { kind: 'embedding', vocab: 6, dim: 2, frozen: true } },
        init: { seed: 3 }, backend: name as BackendName,
      });
      expect(model.spec.input).toEqual({ kind: 'embedding', vocab: 5, dim: 3, frozen: true });
      expect(model.spec.encoder?.input).toEqual({ kind: 'embedding', vocab: 6, dim: 2, frozen: true });
      const before = model.getParams();
      const ranges = frozenRanges(model.spec);
      expect(ranges.length).toBe(2);
      const data = { inputs: [[1, 2, 3], [4, 0], [2, 2, 1, 0]], targets: [[2, 3, 4], [0, 1], [1, 1, 0, 2]], sources: [[1, 5], [2, 3, 4], [0]] };
      await model.fit(data, { epochs: 2, batchSize: 2, optimizer: { name: 'sgd', lr: 0.5, momentum: 0.9, weightDecay: 0.1 } });
      const after = model.getParams();
      for (const [lo, hi] of ranges) expect(after.subarray(lo, hi)).toEqual(before.subarray(lo, hi));
      expect(after).not.toEqual(before);
      const dir = mkdtempSync(path.join(tmpdir(), 'rnnkit-frozen-'));
      await model.save(dir);
      const loaded = await RnnModel.load(dir, { backend: name as BackendName });
      try {
        expect(loaded.spec).toEqual(model.spec);
        expect(loaded.getParams()).toEqual(after);
        await loaded.fit(data, { epochs: 1, batchSize: 3 });
        for (const [lo, hi] of ranges) expect(loaded.getParams().subarray(lo, hi)).toEqual(before.subarray(lo, hi));
      } finally {
        loaded.dispose();
        model.dispose();
      }
    });
  });
}

describe('InputSpec frozen: validation', () => {
  const base = { cell: 'lstm' as const, hiddenSize: 4, outputs: 3, backend: 'reference' as const };

  it('is refused on one-hot and dense inputs, naming input.frozen', async () => {
    await expect(createModel({ ...base, input: { kind: 'onehot', vocab: 3, frozen: true } as unknown as InputSpec })).rejects.toThrow(/input\.frozen/);
    await expect(createModel({ ...base, input: { kind: 'dense', size: 3, frozen: false } as unknown as InputSpec })).rejects.toThrow(RangeError);
    await expect(createModel({ ...base, input: { kind: 'embedding', vocab: 3, dim: 2 }, encoder: { input: { kind: 'dense', size: 2, frozen: true } as unknown as InputSpec } })).rejects.toThrow(/encoder\.input\.frozen/);
  });

  it('must be a boolean', async () => {
    const err = await createModel({ ...base, input: { kind: 'embedding', vocab: 3, dim: 2, frozen: 1 } as unknown as InputSpec }).catch((e) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toMatch(/input\.frozen must be a boolean/);
  });

  it('absent or false means a trainable table (older config files load unchanged)', () => {
    const old = { input: { kind: 'embedding', vocab: 3, dim: 2 }, stack: { cell: 'gru', inputSize: 2, hiddenSize: 4 }, outputs: 3, loss: { kind: 'cross_entropy' } };
    expect(checkModelSpec('config.spec', old).input).toEqual({ kind: 'embedding', vocab: 3, dim: 2 });
    expect(checkModelSpec('config.spec', { ...old, input: { ...old.input, frozen: false } }).input).toEqual({ kind: 'embedding', vocab: 3, dim: 2 });
    expect(checkModelSpec('config.spec', { ...old, input: { ...old.input, frozen: true } }).input).toEqual({ kind: 'embedding', vocab: 3, dim: 2, frozen: true });
  });
});
