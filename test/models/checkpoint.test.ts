/**
 * Checkpoints: a fit interrupted after a checkpoint and resumed from it ends with the
 * parameters of a fit never interrupted — bit for bit on native and wasm (the reference
 * resumes from float32 parameters: equal within float32 rounding) — whether the checkpoint
 * is mid-epoch or at an epoch's end; dropout masks, shuffling and Adam's moments included.
 * The checkpoint is a model directory RnnModel.load reads, tokenizer included.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel, FitAbortedError, RnnModel, type FitProgress, type ModelOptions } from '../../src/index.js';
import type { Dataset } from '../../src/models/data.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { requestedBackends } from '../helpers/backends.js';

const root = mkdtempSync(path.join(tmpdir(), 'rnnkit-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const VOCAB = 7;
function data(n: number): Dataset {
  const inputs: number[][] = [];
  const targets: number[][] = [];
  for (let i = 0; i < n; i++) {
    const seq = Array.from({ length: 6 + (i % 4) }, (_, t) => (i * 5 + t * t) % VOCAB);
    inputs.push(seq.slice(0, -1));
    targets.push(seq.slice(1));
  }
  return { inputs, targets };
}

for (const backend of requestedBackends() as ModelOptions['backend'][]) {
  describe(`checkpoint and resume on ${backend}`, () => {
    const options: ModelOptions = {
      input: { kind: 'embedding', vocab: VOCAB, dim: 5 }, cell: 'lstm', hiddenSize: 12, layers: 2, dropout: { between: 0.2 }, outputs: VOCAB, backend,
    };
    const DATA = data(30);
    const FIT = { epochs: 3, batchSize: 8, window: 4, optimizer: { name: 'adam', lr: 0.01 }, seed: 5 } as const;
    const same = (a: Float32Array, b: Float32Array) => {
      if (backend === 'reference') for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 5);
      else expect(a).toEqual(b);
    };

    for (const stopAt of [5, 16]) {
      it(`stopped after step ${stopAt}, resumed from the last checkpoint: the parameters of an uninterrupted fit`, async () => {
        const whole = await createModel(options);
        const expected = await whole.fit(DATA, FIT);
        const dir = path.join(root, `${backend}-${stopAt}`);
        const first = await createModel(options);
        first.extra = { tokenizer: { kind: 'char', tokens: ['a'] } };
        const controller = new AbortController();
        const err = await first
          .fit(DATA, { ...FIT, checkpoint: { dir, everySteps: 3 }, signal: controller.signal, onProgress: (p) => void (p.step === stopAt && controller.abort()) })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(FitAbortedError);
        expect(readdirSync(dir).sort()).toEqual(['latest', readFileSync(path.join(dir, 'latest'), 'utf8').trim()]);
        // Resume on a model of another initialisation: everything comes from the checkpoint.
        const second = await createModel({ ...options, init: { seed: 99 } });
        const resumed = await second.fit(DATA, { ...FIT, resume: dir });
        same(second.getParams(), whole.getParams());
        expect(resumed.steps).toBe(expected.steps);
        expect(resumed.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
        expect(second.extra).toEqual(first.extra);
        // The checkpoint is a model directory.
        const loaded = await RnnModel.load(path.join(dir, readFileSync(path.join(dir, 'latest'), 'utf8').trim()), { backend });
        expect(loaded.extra).toEqual(first.extra);
        for (const m of [whole, first, second, loaded]) m.dispose();
      });
    }

    // Streams (a language model's text cut into a few long rows): one batch, many windows,
    // the state carried from window to window — a checkpoint falls inside the batch.
    const STREAMS = (() => {
      const inputs: number[][] = [];
      const targets: number[][] = [];
      for (let i = 0; i < 3; i++) {
        const seq = Array.from({ length: 41 }, (_, t) => (i * 3 + t * t + t) % VOCAB);
        inputs.push(seq.slice(0, -1));
        targets.push(seq.slice(1));
      }
      return { inputs, targets };
    })();
    const STREAM_FIT = { epochs: 2, batchSize: 3, window: 4, shuffle: false, optimizer: { name: 'adam', lr: 0.01 }, seed: 2 } as const;
    for (const [stopAt, everySteps] of [[7, 3], [13, undefined]] as const) {
      it(`inside a batch of streams: stopped after step ${stopAt} (${everySteps ? `checkpoints every ${everySteps} steps` : 'a checkpoint only when stopped'}), resumed with the carried state`, async () => {
        const whole = await createModel(options);
        await whole.fit(STREAMS, STREAM_FIT);
        const dir = path.join(root, `${backend}-streams-${stopAt}`);
        const first = await createModel(options);
        const controller = new AbortController();
        const err = await first
          .fit(STREAMS, { ...STREAM_FIT, checkpoint: { dir, ...(everySteps ? { everySteps } : {}) }, signal: controller.signal, onProgress: (p) => void (p.step === stopAt && controller.abort()) })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(FitAbortedError);
        const at = path.join(dir, readFileSync(path.join(dir, 'latest'), 'utf8').trim());
        expect(at.endsWith(`step-${stopAt}`)).toBe(true);
        const position = JSON.parse(readFileSync(path.join(at, 'fit.json'), 'utf8')) as { nextBatch: number; nextWindow?: number };
        expect(position.nextBatch).toBe(0);
        expect(position.nextWindow).toBe((stopAt % 10) * 4);
        const second = await createModel({ ...options, init: { seed: 99 } });
        await second.fit(STREAMS, { ...STREAM_FIT, resume: dir });
        same(second.getParams(), whole.getParams());
        // Without the carried state the resumed fit would differ: the file is needed.
        rmSync(path.join(at, 'carried-state.safetensors'));
        const third = await createModel(options);
        await expect(third.fit(STREAMS, { ...STREAM_FIT, resume: dir })).rejects.toThrow(/carried-state\.safetensors/);
        for (const m of [whole, first, second, third]) m.dispose();
      });
    }

    it("progress after a resume: steps count the whole run, tokens/s and the ETA this call's own work", async () => {
      const dir = path.join(root, `${backend}-rate`);
      const m = await createModel(options);
      const controller = new AbortController();
      await m
        .fit(DATA, { ...FIT, checkpoint: { dir, everySteps: 1 }, signal: controller.signal, onProgress: (p) => void (p.step === 10 && controller.abort()) })
        .catch((e) => expect(e).toBeInstanceOf(FitAbortedError));
      const seen: FitProgress[] = [];
      await m.fit(DATA, { ...FIT, resume: dir, onProgress: (p) => void seen.push(p) });
      expect(seen[0].step).toBe(11);
      // tokens/s × elapsed = the tokens of this call's steps only (before: of the run's first 10 steps too).
      const p = seen.find((q) => q.elapsedMs > 0 && q.step >= 15)!;
      const tokensThisCall = (p.tokensPerSecond * p.elapsedMs) / 1000;
      const perStep = tokensThisCall / (p.step - 10);
      expect(perStep).toBeGreaterThan(0);
      expect(perStep).toBeLessThanOrEqual(8 * 4); // batch 8 × window 4 valid positions at most
      expect(p.etaMs).toBeCloseTo((p.elapsedMs / (p.step - 10)) * (seen[0].stepsPerEpoch * FIT.epochs - p.step), 6);
      m.dispose();
    });

    it('early stopping carries across a resume: the best epoch, the epochs waited and its parameters', async () => {
      // minDelta 1e6: no epoch after the first improves, so with patience 1 the fit stops after
      // epoch 3 and puts back epoch 1's parameters. Stopped in epoch 2 and resumed, it did not:
      // the resumed fit took epoch 2 as its best, trained to epoch 4 and restored epoch 2.
      const stopping = { monitor: 'loss', patience: 1, minDelta: 1e6 } as const;
      const fit = { ...FIT, epochs: 6, earlyStopping: stopping };
      const whole = await createModel(options);
      const expected = await whole.fit(DATA, fit);
      expect(expected).toMatchObject({ bestEpoch: 1, stoppedEarly: true });
      expect(expected.epochs).toHaveLength(3);
      const dir = path.join(root, `${backend}-early`);
      const first = await createModel(options);
      const controller = new AbortController();
      // Stopped in epoch 2 (the last checkpoint two steps before), with epoch 1 the best.
      const err = await first
        .fit(DATA, { ...fit, checkpoint: { dir, everySteps: 2 }, signal: controller.signal, onProgress: (p) => void (p.step === p.stepsPerEpoch + 3 && controller.abort()) })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FitAbortedError);
      expect((err as FitAbortedError).partial.epochs).toHaveLength(1);
      const second = await createModel({ ...options, init: { seed: 99 } });
      const resumed = await second.fit(DATA, { ...fit, checkpoint: { dir }, resume: dir });
      expect(resumed).toMatchObject({ bestEpoch: 1, stoppedEarly: true });
      expect(resumed.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
      same(second.getParams(), whole.getParams());
      // The checkpoint taken at the end of epoch 3, after the rule stopped the fit, is of an ended fit.
      await expect(second.fit(DATA, { ...fit, resume: dir })).rejects.toThrow(/is of a fit that early stopping ended after epoch 3 \(patience 1\): nothing is left to train/);
      // The best epoch's parameters are a file of the checkpoint, checked as the others are.
      const bestFile = path.join(dir, readFileSync(path.join(dir, 'latest'), 'utf8').trim(), 'best-epoch.safetensors');
      const saved = readFileSync(bestFile);
      writeFileSync(bestFile, encodeSafetensors([{ name: 'params', shape: [3], data: new Float32Array(3) }], { epoch: '1' }));
      await expect(second.fit(DATA, { ...fit, earlyStopping: { ...stopping, patience: 5 }, resume: dir })).rejects.toThrow(/best-epoch\.safetensors: params must be \d+ finite float32 values/);
      writeFileSync(bestFile, saved);
      // With a larger patience it trains on, from epoch 4.
      const more = await second.fit(DATA, { ...fit, earlyStopping: { ...stopping, patience: 5 }, resume: dir });
      expect(more.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(more.bestEpoch).toBe(1);
      for (const m of [whole, first, second]) m.dispose();
    });

    it('refuses to resume another model or other optimizer settings, naming the checkpoint', async () => {
      const dir = path.join(root, `${backend}-refuse`);
      const m = await createModel(options);
      await m.fit(DATA, { ...FIT, epochs: 1, checkpoint: { dir } });
      const other = await createModel({ ...options, hiddenSize: 10 });
      await expect(other.fit(DATA, { ...FIT, resume: dir })).rejects.toThrow(/is of another model \(its spec\.stack\.hiddenSize is 12; this model's is 10\)$/);
      await expect(m.fit(DATA, { ...FIT, optimizer: { name: 'sgd', lr: 0.1 }, resume: dir })).rejects.toThrow(/other optimizer or clipping settings/);
      await expect(m.fit(DATA, { ...FIT, resume: path.join(root, 'nothing-here') })).rejects.toThrow(/holds no checkpoint/);
      await expect(m.fit(DATA, { ...FIT, batchSize: 4, resume: dir })).rejects.toThrow(/batchSize 8 and window 4; this fit has 4 and 4/);
      await expect(m.fit(DATA, { ...FIT, validationSplit: 0.2, resume: dir })).rejects.toThrow(/trained on 30 sequences; this fit has 24 \(resume with the same data and validationSplit\)/);
      // The checkpoint of a finished fit, resumed with the same options (it said "taken in epoch 2; this fit has epochs 1").
      await expect(m.fit(DATA, { ...FIT, epochs: 1, resume: dir })).rejects.toThrow(/^resume: the checkpoint in .* is of a completed fit \(epochs 1\): nothing is left to train \(resume with more epochs to train further\)$/);
      // An optimizer state with a NaN moment (a file edited and re-checksummed) is refused
      // before training, not reported later as a divergence.
      const optimizerFile = path.join(dir, readFileSync(path.join(dir, 'latest'), 'utf8').trim(), 'optimizer.safetensors');
      const saved = readFileSync(optimizerFile);
      const state = decodeSafetensors(saved);
      const poisoned = state.tensors.map((t) => (t.name === 'buffer_1' ? { ...t, data: t.data.map((v, i) => (i === 2 ? NaN : v)) } : t));
      writeFileSync(optimizerFile, encodeSafetensors(poisoned, state.metadata));
      await expect(m.fit(DATA, { ...FIT, resume: dir })).rejects.toThrow(/^resume: the checkpoint in .*: optimizer state buffers\[1\] holds NaN at index 2; a running average of squares must be finite/);
      writeFileSync(optimizerFile, saved);
      // A damaged fit.json is refused, naming the file and the field.
      const fitJson = path.join(dir, readFileSync(path.join(dir, 'latest'), 'utf8').trim(), 'fit.json');
      const good = readFileSync(fitJson, 'utf8');
      writeFileSync(fitJson, good.replace(/"order":\[\d+/, '"order":[999'));
      await expect(m.fit(DATA, { ...FIT, resume: dir })).rejects.toThrow(/fit\.json: order is missing or out of range/);
      writeFileSync(fitJson, '{ not json');
      await expect(m.fit(DATA, { ...FIT, resume: dir })).rejects.toThrow(/fit\.json is not valid JSON/);
      // A plausible edit (a counter, the epochs' record) is caught by the checksum; it resumed silently.
      const position = JSON.parse(good) as Record<string, unknown>;
      writeFileSync(fitJson, JSON.stringify({ ...position, tokens: (position.tokens as number) + 1 }));
      await expect(m.fit(DATA, { ...FIT, resume: dir })).rejects.toThrow(/fit\.json \(or the metadata of the checkpoint's safetensors files\) was changed after it was written/);
      writeFileSync(fitJson, JSON.stringify({ ...position, epochs: [] }));
      await expect(m.fit(DATA, { ...FIT, resume: dir })).rejects.toThrow(/fit\.json: epochs is missing or out of range/);
      writeFileSync(fitJson, good);
      // So is an edit of the optimizer file's metadata (its tensor checksum covers the data only).
      const edited = decodeSafetensors(saved);
      writeFileSync(optimizerFile, encodeSafetensors(edited.tensors, { ...edited.metadata, step: String(Number(edited.metadata.step) + 5) }));
      await expect(m.fit(DATA, { ...FIT, resume: dir })).rejects.toThrow(/was changed after it was written/);
      writeFileSync(optimizerFile, saved);
      // Untouched, it resumes (to a completed fit here).
      await expect(m.fit(DATA, { ...FIT, epochs: 1, resume: dir })).rejects.toThrow(/is of a completed fit/);
      m.dispose();
      other.dispose();
    });
  });
}
