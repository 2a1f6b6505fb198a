/**
 * fit / evaluate / predict behaviour: abort, progress, validation, divergence, save/load,
 * determinism and argument errors.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModel, RnnModel } from '../../src/models/model.js';
import type { ModelOptions } from '../../src/models/model.js';
import { TrainingDivergedError } from '../../src/models/errors.js';
import { delayedEchoTask, firstTokenTask } from './tasks.js';
import { trainingBackendNames } from '../train/backends.js';
import type { BackendName } from '../../src/backend/contract.js';
import { Random } from '../../src/init/random.js';

const small: ModelOptions = {
  input: { kind: 'embedding', vocab: 4, dim: 3 }, cell: 'gru', hiddenSize: 6, outputs: 4,
  init: { seed: 7 }, backend: 'reference',
};
const data = firstTokenTask(40, [3, 6], 4, 70);

describe('fit', () => {
  it('stops on AbortSignal after the current step, rejecting with its reason and keeping that step', async () => {
    const model = await createModel(small);
    const controller = new AbortController();
    let atAbort: Float32Array | undefined;
    const err = await model
      .fit(data, {
        epochs: 5, batchSize: 8, signal: controller.signal,
        onProgress: (p) => {
          if (p.step === 3) {
            atAbort = model.getParams();
            controller.abort(new Error('stop here'));
          }
        },
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('stop here');
    expect(model.getParams()).toEqual(atAbort);
  });

  it('rejects at once with an AbortError when the signal is already aborted, changing nothing', async () => {
    const model = await createModel(small);
    const before = model.getParams();
    const controller = new AbortController();
    controller.abort();
    await expect(model.fit(data, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(model.getParams()).toEqual(before);
  });


  it('reports progress every step and a summary with validation every epoch', async () => {
    const model = await createModel(small);
    const progress: { step: number; loss: number; epochLoss: number; tokensPerSecond: number; etaMs: number; stepsPerEpoch: number }[] = [];
    const ends: number[] = [];
    const result = await model.fit(data, {
      epochs: 2, batchSize: 16, validationData: firstTokenTask(10, [3, 6], 4, 71),
      onProgress: (p) => progress.push(p), onEpochEnd: (e) => ends.push(e.epoch),
    });
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress.every((p) => p.stepsPerEpoch === 3 && Number.isFinite(p.loss) && p.loss > 0 && p.etaMs >= 0)).toBe(true);
    expect(progress[progress.length - 1].etaMs).toBe(0);
    expect(ends).toEqual([1, 2]);
    expect(result.steps).toBe(6);
    expect(result.epochs[1].validation!.count).toBe(10);
    expect(result.epochs[1].validation!.perplexity).toBeCloseTo(Math.exp(result.epochs[1].validation!.loss), 12);
    expect(result.epochs[0].accuracy).toBeGreaterThanOrEqual(0);
    expect(result.epochs[1].validation!.perClass).toHaveLength(small.outputs);
  });

  it('a save during a fit is refused under its own name; extra takes only a plain object', async () => {
    const model = await createModel(small);
    const fit = model.fit(data, { epochs: 40, batchSize: 16 });
    const dir = mkdtempSync(path.join(tmpdir(), 'rnnkit-fit-save-'));
    await expect(model.save(dir)).rejects.toThrow(/^save: this RnnModel is busy with fit/);
    await fit;
    for (const bad of ['hello', null, [1]]) expect(() => (model.extra = bad as never)).toThrow(/^extra must be a plain object/);
    model.extra = { note: 'kept' };
    expect(model.extra).toEqual({ note: 'kept' });
    // What is saved is the model when save was called: a change of extra after it is not.
    const saving = model.save(dir);
    model.extra.note = 'changed after the call';
    await saving;
    expect((await RnnModel.load(dir, { backend: 'reference' })).extra).toEqual({ note: 'kept' });
    model.dispose();
  });

  it("keeps per-class validation figures for at most 256 classes (a vocabulary's made every epoch's record megabytes)", async () => {
    const wide = await createModel({ input: { kind: 'embedding', vocab: 300, dim: 3 }, cell: 'gru', hiddenSize: 4, outputs: 300, backend: 'reference' });
    const seqs = { inputs: [[1, 2, 3], [4, 5, 6]], targets: [[2, 3, 4], [5, 6, 7]] };
    const result = await wide.fit(seqs, { epochs: 1, validationData: seqs });
    expect(result.epochs[0].validation!.loss).toBeGreaterThan(0);
    expect(result.epochs[0].validation!.perClass).toBeUndefined();
    expect((await wide.evaluate(seqs)).perClass).toHaveLength(300);
    wide.dispose();
  });

  it('stops with TrainingDivergedError naming the step when the loss overflows, keeping the last good parameters', async () => {
    const model = await createModel({
      input: { kind: 'dense', size: 2 }, cell: 'rnn_relu', hiddenSize: 8, layers: 2, outputs: 1, loss: 'mse',
      init: { seed: 1 }, backend: 'reference',
    });
    const inputs = Array.from({ length: 8 }, (_, i) => Array.from({ length: 20 }, (_, k) => ((i + k) % 5) - 1));
    const targets = inputs.map(() => Array.from({ length: 10 }, () => 1e4));
    const snapshots: Float32Array[] = [];
    const err = await model
      .fit({ inputs, targets }, { epochs: 100, batchSize: 8, optimizer: { name: 'sgd', lr: 0.01 }, onProgress: () => snapshots.push(model.getParams()) })
      .catch((e) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    const d = err as TrainingDivergedError;
    expect(d.message).toMatch(new RegExp(`diverged at step ${d.step} \\(epoch ${d.epoch}\\)`));
    expect(snapshots.length).toBe(d.step - 1);
    const lastGood = snapshots[snapshots.length - 1];
    expect(lastGood.every(Number.isFinite)).toBe(true);
    expect(model.getParams()).toEqual(lastGood);
  });

  it('a last update that overflows the parameters is a TrainingDivergedError, not a resolved fit', async () => {
    const model = await createModel({ ...small, input: { kind: 'dense', size: 2 }, loss: 'mse', outputs: 1 });
    const inputs = [[1, 1, 1, 1]]; // two steps of two features
    const targets = [[1e4, 1e4]];
    // One step: its loss and gradient are finite, its update (lr 1e38) is not.
    const err = await model.fit({ inputs, targets }, { epochs: 1, batchSize: 1, optimizer: { name: 'sgd', lr: 1e38 } }).catch((e) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect((err as TrainingDivergedError).parametersOverflowed).toBe(true);
    expect((err as Error).message).toMatch(/diverged by step 1 \(epoch 1\): the parameters are non-finite after it — an update overflowed them/);
    // With more steps after the overflow: reported as an overflow, never as parameters "kept".
    const again = await createModel({ ...small, input: { kind: 'dense', size: 2 }, loss: 'mse', outputs: 1 });
    const second = await again.fit({ inputs, targets }, { epochs: 2, batchSize: 1, optimizer: { name: 'sgd', lr: 1e38 } }).catch((e) => e);
    expect(second).toBeInstanceOf(TrainingDivergedError);
    expect((second as TrainingDivergedError).parametersOverflowed).toBe(true);
    expect((second as Error).message).not.toMatch(/kept/);
  });

  it('is deterministic: same seeds, same parameters after training', async () => {
    const run = async () => {
      const m = await createModel(small);
      await m.fit(data, { epochs: 2, batchSize: 8, seed: 3 });
      return m.getParams();
    };
    expect(await run()).toEqual(await run());
  });

  it('rejects bad arguments with errors naming them', async () => {
    const model = await createModel(small);
    await expect(model.fit({ inputs: [[0, 1, 9]], labels: [1] })).rejects.toThrow(/data.inputs\[0\]\[2\] must be a token id in \[0, 4\) \(vocab\); got 9/);
    await expect(model.fit({ inputs: [[0, 1]], labels: [4] })).rejects.toThrow(/data.labels\[0\] must be a class id in \[0, 4\)/);
    await expect(model.fit({ inputs: [[0, 1]] })).rejects.toThrow(/data must have targets/);
    await expect(model.fit({ inputs: [[0, 1]], targets: [[1]] })).rejects.toThrow(/data.targets\[0\] must hold 2 values; got 1/);
    await expect(model.fit(data, { batchSize: 0 })).rejects.toThrow(RangeError);
    await expect(model.fit(data, { shuffle: 'no' as never })).rejects.toThrow(/shuffle must be a boolean/);
    await expect(model.fit(data, { optimizer: { name: 'adam', lr: -1 } })).rejects.toThrow(/optimizer.lr must be in \[0, 3.4028234663852886e\+38\]; got -1/);
    await expect(model.fit(data, { optimizer: { name: 'sgd', lr: 1e39 } })).rejects.toThrow(/optimizer.lr must be in \[0, 3.4028234663852886e\+38\]; got 1e\+39/);
    await expect(model.fit(data, { optimizer: { name: 'lbfgs', lr: 1 } as never })).rejects.toThrow(/optimizer.name must be one of/);
    const bi = await createModel({ ...small, bidirectional: true });
    await expect(bi.fit(data, { window: 2 })).rejects.toThrow(/window \(2\) must cover the longest sequence \(6\) for a bidirectional model/);
    await expect(createModel({ ...small, hiddenSize: 0 })).rejects.toThrow(/hiddenSize must be an integer in 1\.\.16777216; got 0/);
    model.dispose();
    await expect(model.fit(data)).rejects.toThrow(/disposed/);
  });
});

for (const name of trainingBackendNames()) {
  describe(`fit on ${name}`, () => {
    it('keeps the event loop running (an immediate-callback loop keeps ticking during fit)', async () => {
      const model = await createModel({ ...small, backend: name as BackendName });
      let ticks = 0;
      let running = true;
      const tick = () => {
        ticks++;
        if (running) setImmediate(tick);
      };
      setImmediate(tick);
      let steps = 0;
      let ticksAtFirstStep = -1;
      try {
        await model.fit(data, { epochs: 3, batchSize: 4, onProgress: () => (steps++ === 0 ? (ticksAtFirstStep = ticks) : 0) });
      } finally {
        running = false;
      }
      expect(steps).toBe(30);
      // Every event-loop turn runs the callback once: at least one turn per step after the
      // first means fit never held the loop for longer than a step.
      expect(ticks - ticksAtFirstStep).toBeGreaterThanOrEqual(steps - 1);
    });
    // The native backend computes on libuv's thread pool, so the loop turns many times
    // DURING each step, not only between steps (the reference and, for now, wasm compute
    // on the calling thread and only yield between steps).
    if (name === 'native') {
      it('computes off the event loop: many loop turns during every step', async () => {
        const model = await createModel({
          input: { kind: 'dense', size: 64 }, cell: 'lstm', hiddenSize: 128, outputs: 8, loss: 'mse',
          init: { seed: 1 }, backend: name as BackendName,
        });
        const rng = new Random(1);
        const inputs = Array.from({ length: 16 }, () => Array.from({ length: 64 * 64 }, () => rng.normal()));
        const targets = Array.from({ length: 16 }, () => Array.from({ length: 64 * 8 }, () => rng.normal()));
        let ticks = 0;
        let running = true;
        const tick = () => {
          ticks++;
          if (running) setImmediate(tick);
        };
        setImmediate(tick);
        try {
          await model.fit({ inputs, targets }, { epochs: 3, batchSize: 16 });
        } finally {
          running = false;
        }
        // 3 steps; a blocking implementation gets about one turn per step.
        expect(ticks).toBeGreaterThan(30);
      });
    }
  });
}

describe('truncated BPTT plumbing', () => {
  it('final-state readout with windows: one optimizer step per batch (the last window), state carried', async () => {
    const model = await createModel({ ...small, readout: 'final_state', hiddenSize: 8 });
    // The label is the last token: learnable inside the last window of 4 steps.
    const rng = new Random(2);
    const inputs = Array.from({ length: 48 }, () => Array.from({ length: 9 + rng.int(4) }, () => rng.int(4)));
    const labels = inputs.map((s) => s[s.length - 1]);
    const fit = await model.fit({ inputs, labels }, { epochs: 20, batchSize: 16, window: 4, optimizer: { name: 'adam', lr: 0.05 } });
    expect(fit.steps).toBe(20 * 3);
    expect((await model.evaluate({ inputs, labels })).accuracy!).toBeGreaterThanOrEqual(0.95);
  });
  it('seq2seq with windows: one step per window', async () => {
    const model = await createModel({ ...small, encoder: { input: { kind: 'onehot', vocab: 3 } } });
    const data = { sources: [[0, 1], [2]], inputs: [[0, 1, 2, 3, 0, 1], [1, 2, 3, 0, 1, 2]], targets: [[1, 2, 3, 0, 1, 2], [2, 3, 0, 1, 2, 3]] };
    const fit = await model.fit(data, { epochs: 2, batchSize: 2, window: 2 });
    expect(fit.steps).toBe(2 * 3);
  });
});

describe('dropout in fit', () => {
  it('a 2-layer GRU with dropout still learns, predicts deterministically, and round-trips its config', async () => {
    const model = await createModel({ ...small, layers: 2, hiddenSize: 16, dropout: { input: 0.1, between: 0.2 } });
    expect(model.spec.dropout).toEqual({ input: 0.1, between: 0.2 });
    const train = delayedEchoTask(200, [4, 8], 4, 1, 73);
    const test = delayedEchoTask(100, [4, 8], 4, 1, 74);
    await model.fit(train, { epochs: 12, batchSize: 20, optimizer: { name: 'adam', lr: 0.02 } });
    const a = await model.evaluate(test);
    expect(a.accuracy!).toBeGreaterThanOrEqual(0.95);
    expect(await model.evaluate(test)).toEqual(a);
    const dir = mkdtempSync(path.join(tmpdir(), 'rnnkit-dropout-'));
    await model.save(dir);
    expect((await RnnModel.load(dir, { backend: 'reference' })).spec.dropout).toEqual({ input: 0.1, between: 0.2 });
    await expect(createModel({ ...small, dropout: { between: 1 } })).rejects.toThrow(/options.dropout.between must be a probability in \[0, 1\); got 1/);
  });
});

describe('evaluate, predict, save and load', () => {
  it('a saved and loaded model predicts the same', async () => {
    const model = await createModel({ ...small, cell: 'lstm', layers: 2, bidirectional: true });
    await model.fit(data, { epochs: 1, batchSize: 8 });
    model.extra = { tokens: ['a', 'b', 'c', 'd'] };
    const dir = mkdtempSync(path.join(tmpdir(), 'rnnkit-fit-'));
    await model.save(dir);
    const loaded = await RnnModel.load(dir, { backend: 'reference' });
    expect(loaded.spec).toEqual(model.spec);
    expect(loaded.extra).toEqual(model.extra);
    const a = await model.predict({ inputs: data.inputs.slice(0, 5) });
    const b = await loaded.predict({ inputs: data.inputs.slice(0, 5) });
    // The reference trains in float64 and files hold float32, so after rounding the
    // parameters once the two models agree to float32 precision, and exactly after that.
    for (let i = 0; i < a.length; i++) for (let k = 0; k < a[i].length; k++) expect(Math.abs(a[i][k] - b[i][k])).toBeLessThan(1e-5);
    expect(loaded.getParams()).toEqual(model.getParams());
    model.setParams(model.getParams());
    expect(await loaded.predict({ inputs: data.inputs.slice(0, 5) })).toEqual(await model.predict({ inputs: data.inputs.slice(0, 5) }));
    expect(await loaded.evaluate(data)).toEqual(await model.evaluate(data));
  });

  it('padding changes no prediction: a padded batch equals the sequences run one by one', async () => {
    const model = await createModel({ ...small, cell: 'lstm', layers: 2, bidirectional: true });
    const inputs = data.inputs.slice(0, 9);
    const together = await model.predict({ inputs }, { batchSize: 9 });
    const alone = await model.predict({ inputs }, { batchSize: 1 });
    expect(new Set(inputs.map((s) => s.length)).size).toBeGreaterThan(1);
    for (let i = 0; i < inputs.length; i++) {
      expect(together[i].length).toBe(inputs[i].length * 4);
      for (let k = 0; k < together[i].length; k++) expect(Math.abs(together[i][k] - alone[i][k])).toBeLessThan(1e-6);
    }
  });

  it('evaluate gives accuracy and perplexity for a classifier', async () => {
    const model = await createModel({ ...small, outputs: 4 });
    const m = await model.evaluate(delayedEchoTask(10, [3, 5], 4, 1, 72));
    expect(m.perplexity).toBeCloseTo(Math.exp(m.loss), 12);
    expect(m.accuracy).toBeGreaterThanOrEqual(0);
    expect(m.accuracy).toBeLessThanOrEqual(1);
    expect(m.count).toBeGreaterThan(10);
  });
});
