/**
 * The training workflow around the engine, on every backend: the optimizer's state carries
 * over from one fit to the next, a validation split, early stopping with restore-best,
 * callbacks that return promises are awaited, an abort rejects with what was done, and
 * evaluating a stream in chunks with the state carried equals evaluating it in one piece.
 */
import { describe, expect, it } from 'vitest';
import { createModel, FitAbortedError, type ModelOptions } from '../../src/index.js';
import type { Dataset } from '../../src/models/data.js';
import { requestedBackends } from '../helpers/backends.js';

const VOCAB = 6;
/** Sequences where the next token is (token + 1) mod VOCAB, lengths 5..9. */
function data(n: number, seed = 1): Dataset {
  const inputs: number[][] = [];
  const targets: number[][] = [];
  for (let i = 0; i < n; i++) {
    const len = 5 + ((i * 7 + seed) % 5);
    const start = (i * 3 + seed) % VOCAB;
    const seq = Array.from({ length: len + 1 }, (_, t) => (start + t) % VOCAB);
    inputs.push(seq.slice(0, len));
    targets.push(seq.slice(1));
  }
  return { inputs, targets };
}

for (const backend of requestedBackends() as ModelOptions['backend'][]) {
  const options: ModelOptions = { input: { kind: 'embedding', vocab: VOCAB, dim: 4 }, cell: 'lstm', hiddenSize: 8, outputs: VOCAB, backend, init: { seed: 3 } };
  const DATA = data(24);

  describe(`fit workflow on ${backend}`, () => {
    it("keeps the optimizer's state from one fit to the next: two fits of one epoch equal one fit of two", async () => {
      const fit = { batchSize: 8, shuffle: false, optimizer: { name: 'adam', lr: 0.01 } } as const;
      const once = await createModel(options);
      await once.fit(DATA, { ...fit, epochs: 2 });
      const twice = await createModel(options);
      await twice.fit(DATA, { ...fit, epochs: 1 });
      await twice.fit(DATA, { ...fit, epochs: 1 });
      expect(twice.getParams()).toEqual(once.getParams());
      // resetOptimizer starts Adam afresh: the second epoch then differs.
      const reset = await createModel(options);
      await reset.fit(DATA, { ...fit, epochs: 1 });
      await reset.fit(DATA, { ...fit, epochs: 1, resetOptimizer: true });
      expect(reset.getParams()).not.toEqual(once.getParams());
      for (const m of [once, twice, reset]) m.dispose();
    });

    it('validationSplit holds out the last sequences and evaluates them after every epoch', async () => {
      const m = await createModel(options);
      const r = await m.fit(DATA, { epochs: 2, batchSize: 8, validationSplit: 0.25 });
      const held = { inputs: DATA.inputs.slice(18), targets: DATA.targets!.slice(18) };
      const expected = await m.evaluate(held);
      expect(r.epochs.map((e) => e.validation?.count)).toEqual([expected.count, expected.count]);
      expect(r.epochs[1].validation!.loss).toBeCloseTo(expected.loss, 6);
      await expect(m.fit(DATA, { validationSplit: 1 })).rejects.toThrow(/validationSplit/);
      await expect(m.fit(DATA, { validationSplit: 0.2, validationData: DATA })).rejects.toThrow(/validationSplit and validationData/);
      m.dispose();
    });

    it('early stopping waits `patience` epochs without improvement, stops, and restores the best epoch', async () => {
      const m = await createModel(options);
      const after: Float32Array[] = [];
      const r = await m.fit(DATA, {
        epochs: 10, batchSize: 8, optimizer: { name: 'sgd', lr: 0.05 },
        // No later epoch can improve by a million: epoch 1 stays the best.
        earlyStopping: { monitor: 'loss', patience: 1, minDelta: 1e6 },
        onEpochEnd: () => void after.push(m.getParams()),
      });
      expect(r.epochs.length).toBe(3);
      expect(r.stoppedEarly).toBe(true);
      expect(r.bestEpoch).toBe(1);
      expect(m.getParams()).toEqual(after[0]);
      await expect(m.fit(DATA, { earlyStopping: { monitor: 'validation' } })).rejects.toThrow(/needs validationData or validationSplit/);
      m.dispose();
    });

    it('awaits a callback that returns a promise before going on', async () => {
      const m = await createModel(options);
      const events: string[] = [];
      await m.fit(DATA, {
        epochs: 2, batchSize: 12,
        onProgress: (p) => void events.push(`step ${p.step}`),
        onEpochEnd: async (e) => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          events.push(`saved ${e.epoch}`);
        },
      });
      expect(events).toEqual(['step 1', 'step 2', 'saved 1', 'step 3', 'step 4', 'saved 2']);
      m.dispose();
    });

    it('an abort rejects with an AbortError that carries the epochs done and the reason', async () => {
      const m = await createModel(options);
      const controller = new AbortController();
      const err = await m
        .fit(DATA, { epochs: 5, batchSize: 8, onEpochEnd: (e) => void (e.epoch === 2 && controller.abort(new Error('enough'))), signal: controller.signal })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FitAbortedError);
      const aborted = err as FitAbortedError;
      expect(aborted.name).toBe('AbortError');
      expect(aborted.message).toBe('enough');
      expect((aborted.reason as Error).message).toBe('enough');
      expect(aborted.partial.epochs.map((e) => e.epoch)).toEqual([1, 2]);
      expect(aborted.partial.steps).toBe(6);
      m.dispose();
    });

    it('an abort ends the fit while a callback\'s promise is still pending (one that never settled held the fit and its model)', async () => {
      const m = await createModel(options);
      const controller = new AbortController();
      const never = new Promise<void>(() => {});
      const onProgress = (p: { step: number }) => {
        if (p.step !== 2) return undefined;
        setTimeout(() => controller.abort(new Error('timed out')), 20);
        return never;
      };
      const err = await m.fit(DATA, { epochs: 5, batchSize: 8, onProgress, signal: controller.signal }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FitAbortedError);
      expect((err as FitAbortedError).partial.steps).toBe(2);
      // The model is free again.
      expect((await m.evaluate(DATA)).loss).toBeGreaterThan(0);
      // A callback's rejection still ends the fit with its error.
      await expect(m.fit(DATA, { onEpochEnd: () => Promise.reject(new Error('callback failed')), signal: new AbortController().signal })).rejects.toThrow(/^callback failed$/);
      m.dispose();
    });

    it('evaluate with stream: true carries the state across chunks and equals the stream in one piece', async () => {
      // Untrained: its outputs depend on the carried state more than a model of this easy task does.
      const m = await createModel({ ...options, hiddenSize: 32 });
      const stream = Array.from({ length: 61 }, (_, t) => (t * 5 + (t >> 3)) % VOCAB);
      const whole = await m.evaluate({ inputs: [stream.slice(0, 60)], targets: [stream.slice(1)] });
      const cut = [0, 7, 20, 21, 45, 60];
      const chunks: Dataset = { inputs: [], targets: [] };
      for (let k = 0; k + 1 < cut.length; k++) {
        chunks.inputs.push(stream.slice(cut[k], cut[k + 1]));
        chunks.targets!.push(stream.slice(cut[k] + 1, cut[k + 1] + 1));
      }
      const streamed = await m.evaluate(chunks, { stream: true });
      expect(streamed.count).toBe(whole.count);
      expect(streamed.loss).toBeCloseTo(whole.loss, 5);
      expect(streamed.bitsPerToken).toBeCloseTo(whole.loss / Math.LN2, 5);
      // Without the carried state each chunk starts from zeros: a different (worse) figure.
      const fresh = await m.evaluate(chunks);
      expect(Math.abs(fresh.loss - whole.loss)).toBeGreaterThan(100 * Math.abs(streamed.loss - whole.loss) + 1e-5);
      m.dispose();
    });
  });
}
