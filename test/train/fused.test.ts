/**
 * The fused training path of the compiled backends (native/src/model.cc behind
 * rk_model_train_step; src/backend/fused-training.ts): that `trainingOf` really gives the
 * fused trainer and that supported models live on it (so the golden and vs-reference
 * suites exercise it), and the
 * fused features no other suite covers — MSE with a target mask, one-hot input, clipping
 * by value and norm together, evaluate's outputs / y / states, loss-and-grads, learning-rate
 * changes, the skipped update on a non-finite loss, and the errors. Against the float64
 * reference at the golden README's float32 tolerances.
 */
import { describe, expect, it } from 'vitest';
import type { CellType } from '../../src/backend/contract.js';
import { loadBackend } from '../../src/backend/load.js';
import { FusedModel, FusedTraining } from '../../src/backend/fused-training.js';
import { ReferenceTraining } from '../../src/backend/reference/training/index.js';
import { batchShapes, inputWidth, modelLayout } from '../../src/backend/layout.js';
import { trainingOf } from '../../src/backend/load.js';
import type { ClipSpec, OptimizerSpec } from '../../src/optim/optimizers.js';
import type { InputSpec, ModelSpec, TrainBatch, TrainingBackend } from '../../src/backend/contract.js';
import { Random } from '../../src/init/random.js';
import { trainingBackendNames } from './backends.js';
import { STATE_TOLERANCE, afterTolerance, gradTolerance, lossTolerance, normTolerance } from '../helpers/tolerances.js';

const compiled = trainingBackendNames().filter((n) => n === 'native' || n === 'wasm');

function spec(cell: CellType, input: InputSpec, extra: Partial<ModelSpec> & { layers?: number; bidirectional?: boolean } = {}): ModelSpec {
  const K = extra.conditionSize ?? 0;
  return {
    input, conditionSize: K,
    stack: { cell, inputSize: inputWidth(input) + K, hiddenSize: 5, outputSize: 5, layers: extra.layers ?? 1, bidirectional: extra.bidirectional ?? false },
    outputs: extra.outputs ?? 4,
    loss: extra.loss ?? { kind: 'cross_entropy', ignoreIndex: -100 },
    ...(extra.dropout ? { dropout: extra.dropout } : {}),
    ...(extra.readout ? { readout: extra.readout } : {}),
  };
}

function batchFor(s: ModelSpec, rng: Random, withMask: boolean, withSource = true): TrainBatch {
  const T = 6;
  const B = 3;
  const sh = batchShapes(s, T, B);
  const vocab = s.input.kind === 'dense' ? 0 : s.input.vocab;
  const normal = (n: number) => Float32Array.from({ length: n }, () => Math.fround(rng.normal() * 0.7));
  return {
    steps: T, batch: B, lengths: Int32Array.from([6, 2, 4]),
    tokens: sh.tokens ? Int32Array.from({ length: sh.tokens }, () => rng.int(vocab)) : undefined,
    x: sh.x ? normal(sh.x) : undefined,
    condition: sh.condition ? normal(sh.condition) : undefined,
    targets: s.loss.kind === 'cross_entropy' ? Int32Array.from({ length: sh.targets }, (_, n) => (n % 5 === 1 ? -100 : rng.int(s.outputs))) : undefined,
    targetValues: s.loss.kind === 'mse' ? normal(sh.targetValues) : undefined,
    targetMask: withMask ? Uint8Array.from({ length: sh.targets }, (_, n) => (n % 3 === 1 ? 0 : 1)) : undefined,
    h0: normal(sh.h),
    c0: sh.c ? normal(sh.c) : undefined,
    dropoutSeed: rng.int(1 << 30),
    source: s.encoder && withSource
      ? s.encoder.input.kind === 'dense'
        ? { steps: 4, lengths: Int32Array.from([4, 1, 3]), x: normal(4 * B * s.encoder.input.size) }
        : { steps: 4, lengths: Int32Array.from([4, 1, 3]), tokens: Int32Array.from({ length: 4 * B }, () => rng.int((s.encoder!.input as { vocab: number }).vocab)) }
      : undefined,
  };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

interface Row { name: string; spec: ModelSpec; optimizer: OptimizerSpec; clip: ClipSpec; mask?: boolean; noSource?: boolean }
const encoderOf = (cell: CellType, input: InputSpec, layers: number, bidirectional: boolean) => ({
  input, stack: { cell, inputSize: inputWidth(input), hiddenSize: 5, outputSize: 5, layers, bidirectional },
});
const rows: Row[] = [
  { name: 'dense lstm, MSE with a target mask, adam, value + norm clipping', spec: spec('lstm', { kind: 'dense', size: 3 }, { loss: { kind: 'mse' }, outputs: 2 }), optimizer: { name: 'adam', lr: 0.01 }, clip: { clipValue: 0.05, maxNorm: 0.1 }, mask: true },
  { name: 'one-hot 2-layer bidirectional gru, ignored targets, rmsprop + L2', spec: spec('gru', { kind: 'onehot', vocab: 6 }, { layers: 2, bidirectional: true }), optimizer: { name: 'rmsprop', lr: 0.01, weightDecay: 0.01 }, clip: {} },
  { name: 'embedding + condition, 2-layer bidirectional lstm_peephole, final-state readout, ignored target, adamw', spec: spec('lstm_peephole', { kind: 'embedding', vocab: 8, dim: 3 }, { conditionSize: 2, layers: 2, bidirectional: true, readout: 'final_state' }), optimizer: { name: 'adamw', lr: 0.01, weightDecay: 0.1 }, clip: { maxNorm: 0.5 } },
  { name: 'dense + condition gru_cho, final-state readout, MSE with a mask, sgd momentum', spec: spec('gru_cho', { kind: 'dense', size: 2 }, { conditionSize: 3, readout: 'final_state', loss: { kind: 'mse' }, outputs: 3 }), optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9 }, clip: { clipValue: 0.2 }, mask: true },
  { name: 'embedding + condition jordan, steps readout, rmsprop', spec: spec('jordan', { kind: 'embedding', vocab: 6, dim: 2 }, { conditionSize: 2 }), optimizer: { name: 'rmsprop', lr: 0.01 }, clip: {} },
  { name: 'embedding 3-layer bidirectional lstm, dropout on the input and between layers, adam', spec: spec('lstm', { kind: 'embedding', vocab: 7, dim: 3 }, { layers: 3, bidirectional: true, dropout: { input: 0.25, between: 0.4 } }), optimizer: { name: 'adam', lr: 0.01 }, clip: { maxNorm: 1 } },
  { name: 'dense + condition 2-layer gru, dropout between layers only, final-state readout, sgd', spec: spec('gru', { kind: 'dense', size: 3 }, { layers: 2, conditionSize: 2, readout: 'final_state', dropout: { input: 0, between: 0.3 } }), optimizer: { name: 'sgd', lr: 0.1 }, clip: {} },
  { name: 'one-hot 1-layer rnn_relu, input dropout, rmsprop', spec: spec('rnn_relu', { kind: 'onehot', vocab: 5 }, { dropout: { input: 0.5, between: 0.5 } }), optimizer: { name: 'rmsprop', lr: 0.01 }, clip: {} },
  { name: 'seq2seq: embedding encoder and decoder, 2-layer bidirectional lstm, dropout, adam + clipping', spec: { ...spec('lstm', { kind: 'embedding', vocab: 7, dim: 3 }, { layers: 2, bidirectional: true, dropout: { input: 0.2, between: 0.3 } }), encoder: encoderOf('lstm', { kind: 'embedding', vocab: 5, dim: 4 }, 2, true) }, optimizer: { name: 'adam', lr: 0.01, weightDecay: 0.01 }, clip: { maxNorm: 1 } },
  { name: 'seq2seq: dense gru encoder, one-hot gru_cho decoder, sgd momentum', spec: { ...spec('gru_cho', { kind: 'onehot', vocab: 6 }), encoder: encoderOf('gru', { kind: 'dense', size: 2 }, 1, false) }, optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.01 }, clip: {} },
  { name: 'seq2seq model stepped without source (the decoder alone; the encoder only decays), adamw', spec: { ...spec('lstm', { kind: 'embedding', vocab: 6, dim: 2 }), encoder: encoderOf('lstm', { kind: 'embedding', vocab: 4, dim: 3 }, 1, false) }, optimizer: { name: 'adamw', lr: 0.01, weightDecay: 0.1 }, clip: {}, noSource: true },
  { name: 'embedding rnn_tanh, sgd nesterov', spec: spec('rnn_tanh', { kind: 'embedding', vocab: 9, dim: 3 }), optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.001 }, clip: { maxNorm: 100 } },
];

async function fusedOf(name: string): Promise<TrainingBackend> {
  return trainingOf(await loadBackend(name as 'native' | 'wasm'));
}

for (const name of compiled) {
  describe(`fused training on ${name}`, () => {
    it('trainingOf gives the fused trainer, and supported models live on the fused path', async () => {
      const t = await fusedOf(name);
      expect(t).toBeInstanceOf(FusedTraining);
      const m = t.createModel(spec('lstm', { kind: 'embedding', vocab: 5, dim: 2 }));
      expect(m).toBeInstanceOf(FusedModel);
      t.disposeModel(m);
    });

    it('seq2seq models are fused', async () => {
      const t = (await fusedOf(name)) as FusedTraining<unknown>;
      const s: ModelSpec = {
        ...spec('gru', { kind: 'embedding', vocab: 5, dim: 2 }),
        encoder: { input: { kind: 'embedding', vocab: 4, dim: 3 }, stack: { cell: 'gru', inputSize: 3, hiddenSize: 5, outputSize: 5, layers: 1, bidirectional: false } },
      };
      const m = t.createModel(s);
      expect(m).toBeInstanceOf(FusedModel);
      t.setParams(m, Float32Array.from({ length: modelLayout(s).total }, (_, i) => Math.sin(i) * 0.3));
      t.setOptimizer(m, { name: 'sgd', lr: 0.1 });
      const b = { ...batchFor(s, new Random(3), false), source: { steps: 4, tokens: Int32Array.from({ length: 12 }, (_, i) => i % 4) } };
      const r = await t.trainStep(m, b);
      expect(Number.isFinite(r.loss)).toBe(true);
      t.disposeModel(m);
    });

    for (const row of rows) {
      it(`${row.name}: three steps, evaluate and loss-and-grads match the reference`, async () => {
        const t = await fusedOf(name);
        const reference = new ReferenceTraining();
        const rng = new Random(7);
        const init = Float32Array.from({ length: modelLayout(row.spec).total }, () => Math.fround(rng.uniformIn(-0.5, 0.5)));
        const ours = t.createModel(row.spec);
        expect(ours).toBeInstanceOf(FusedModel);
        const ref = reference.createModel(row.spec);
        try {
          t.setParams(ours, init);
          reference.setParams(ref, init);
          expect(maxDiff(t.getParams(ours), init)).toBe(0);
          t.setOptimizer(ours, row.optimizer, row.clip);
          reference.setOptimizer(ref, row.optimizer, row.clip);
          for (let step = 0; step < 3; step++) {
            if (step === 2) {
              t.setLearningRate(ours, 0.003);
              reference.setLearningRate(ref, 0.003);
            }
            const batch = batchFor(row.spec, rng, row.mask ?? false, !row.noSource);
            const a = step === 1 ? t.trainStepSync(ours, batch) : await t.trainStep(ours, batch);
            const b = reference.trainStepSync(ref, batch);
            expect(Math.abs(a.loss - b.loss), `step ${step} loss`).toBeLessThanOrEqual(lossTolerance(b.loss));
            expect(a.count).toBe(b.count);
            expect(a.correct).toBe(b.correct);
            expect(Math.abs(a.totalNorm - b.totalNorm), `step ${step} norm`).toBeLessThanOrEqual(normTolerance(b.totalNorm));
            const gb = reference.getGrads64(ref);
            const ga = t.getGrads(ours);
            for (const e of modelLayout(row.spec).entries) {
              const g = gb.subarray(e.offset, e.offset + e.size);
              expect(maxDiff(ga.subarray(e.offset, e.offset + e.size), g), `step ${step} grad ${e.name}`).toBeLessThanOrEqual(gradTolerance(g));
            }
            expect(maxDiff(a.hn, b.hn), `step ${step} hn`).toBeLessThanOrEqual(STATE_TOLERANCE);
            if (b.cn) expect(maxDiff(a.cn!, b.cn), `step ${step} cn`).toBeLessThanOrEqual(STATE_TOLERANCE);
          }
          const pa = t.getParams(ours);
          const pb = reference.getParams64(ref);
          for (let i = 0; i < pa.length; i++) {
            if (!(Math.abs(pa[i] - pb[i]) <= afterTolerance(pb[i]))) expect(Math.abs(pa[i] - pb[i]), `after[${i}]`).toBeLessThanOrEqual(afterTolerance(pb[i]));
          }
          const evalBatch = batchFor(row.spec, rng, row.mask ?? false, !row.noSource);
          const ea = await t.evaluate(ours, evalBatch);
          const eb = reference.evaluateSync(ref, evalBatch);
          expect(maxDiff(ea.outputs, eb.outputs)).toBeLessThanOrEqual(STATE_TOLERANCE * 10);
          expect(maxDiff(ea.y, eb.y)).toBeLessThanOrEqual(STATE_TOLERANCE);
          expect(maxDiff(ea.hn, eb.hn)).toBeLessThanOrEqual(STATE_TOLERANCE);
          expect(Math.abs(ea.loss - eb.loss)).toBeLessThanOrEqual(lossTolerance(eb.loss));
          expect(ea.count).toBe(eb.count);
          const noTargets = { ...evalBatch, targets: undefined, targetValues: undefined };
          expect(Number.isNaN(t.evaluateSync(ours, noTargets).loss)).toBe(true);
          const la = t.lossAndGradsSync(ours, evalBatch);
          const lb = reference.lossAndGradsSync(ref, evalBatch);
          expect(Math.abs(la.loss - lb.loss)).toBeLessThanOrEqual(lossTolerance(lb.loss));
          expect(maxDiff(la.grads, lb.grads)).toBeLessThanOrEqual(gradTolerance(lb.grads));
          // loss-and-grads changes nothing
          expect(maxDiff(t.getParams(ours), pa)).toBe(0);
        } finally {
          t.disposeModel(ours);
          reference.disposeModel(ref);
        }
      });
    }

    it('sync and async steps agree bit for bit; a second call while one is in flight is refused on native', async () => {
      const t = await fusedOf(name);
      const s = spec('gru', { kind: 'embedding', vocab: 6, dim: 3 }, { layers: 2 });
      const init = Float32Array.from({ length: modelLayout(s).total }, (_, i) => Math.sin(i * 0.7) * 0.4);
      const batch = batchFor(s, new Random(5), false);
      const [a, b] = [t.createModel(s), t.createModel(s)];
      for (const m of [a, b]) {
        t.setParams(m, init);
        t.setOptimizer(m, { name: 'adam', lr: 0.01 });
      }
      const ra = t.trainStepSync(a, batch);
      const pending = t.trainStep(b, batch);
      if (name === 'native') await expect(t.trainStep(b, batch)).rejects.toMatchObject({ code: 'ERR_RNNKIT_BUSY' });
      const rb = await pending;
      expect(rb.loss).toBe(ra.loss);
      expect(maxDiff(t.getParams(a), t.getParams(b))).toBe(0);
      t.disposeModel(a);
      t.disposeModel(b);
    });

    it('skips the update when the loss is not finite, and reports errors by name', async () => {
      const t = await fusedOf(name);
      const s = spec('lstm', { kind: 'dense', size: 3 }, { loss: { kind: 'mse' }, outputs: 2 });
      const m = t.createModel(s);
      try {
        const init = Float32Array.from({ length: modelLayout(s).total }, (_, i) => Math.cos(i) * 0.2);
        t.setParams(m, init);
        const batch = batchFor(s, new Random(1), false);
        expect(() => t.trainStepSync(m, batch)).toThrow(/no optimizer/);
        t.setOptimizer(m, { name: 'adam', lr: 0.1 });
        const bad = { ...batch, targetValues: batch.targetValues!.map((v, i) => (i === 0 ? Infinity : v)) };
        const r = await t.trainStep(m, bad);
        expect(Number.isFinite(r.loss)).toBe(false);
        expect(maxDiff(t.getParams(m), init)).toBe(0);
        await t.trainStep(m, batch);
        expect(maxDiff(t.getParams(m), init)).toBeGreaterThan(0);
        expect(() => t.trainStepSync(m, { ...batch, x: new Float32Array(5) })).toThrow(/x/);
        expect(() => t.trainStepSync(m, { ...batch, lengths: Int32Array.from([7, 1, 1]) })).toThrow(/lengths\[0\]/);
      } finally {
        t.disposeModel(m);
      }
      expect(() => t.getParams(m)).toThrow(/disposed/);
      const e = spec('gru', { kind: 'embedding', vocab: 4, dim: 2 });
      const me = t.createModel(e);
      t.setOptimizer(me, { name: 'sgd', lr: 0.1 });
      const be = batchFor(e, new Random(2), false);
      be.tokens![3] = 4;
      expect(() => t.trainStepSync(me, be)).toThrow(/tokens\[3\] must be in 0..3/);
      be.tokens![3] = 0;
      be.targets![0] = 9;
      await expect(t.trainStep(me, be)).rejects.toThrow(/targets\[0\] must be in 0..3/);
      t.disposeModel(me);
    });
  });
}
