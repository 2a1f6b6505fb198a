/**
 * Generation sessions (src/models/session.ts over TrainingBackend sessions) on every
 * backend of RNNKIT_BACKENDS (a requested backend that fails to load fails its tests):
 * logits equal model.predict over the same prefix, one backend call per generated token,
 * several prompts in one batch, stop tokens and maxLength, seq2seq / conditioning, disposal,
 * ERR_RNNKIT_BUSY, the event loop running during native steps, and the same seed giving the
 * same tokens on every backend.
 */
import { describe, expect, it, vi } from 'vitest';
import type { BackendName, TrainingBackend } from '../../src/backend/contract.js';
import { createModel, type ModelOptions, type RnnModel } from '../../src/models/model.js';
import { Random } from '../../src/init/random.js';
import { pickToken } from '../../src/text/sampling.js';
import { requestedBackends } from '../helpers/backends.js';

const V = 11;

/** Same backend, whole prefix vs step by step: float32 sums in another order (whole-sequence GEMMs). */
function expectLogitsClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(2e-5 * (1 + Math.abs(expected[i])));
}

function lm(backend: string, extra: Partial<ModelOptions> = {}): Promise<RnnModel> {
  return createModel({
    input: { kind: 'embedding', vocab: V, dim: 5 }, cell: 'lstm', hiddenSize: 9, layers: 2, outputs: V,
    init: { seed: 3 }, backend: backend as BackendName, ...extra,
  });
}

function trainingOf(model: RnnModel): TrainingBackend {
  return (model as unknown as { training: TrainingBackend }).training;
}

async function lastLogits(model: RnnModel, prompt: number[]): Promise<Float32Array> {
  return (await model.predict({ inputs: [prompt] }, { lastStep: true }))[0];
}

/** generate as it was before sessions: evaluate over the start, then one evaluate per token with h0/c0. */
function oldGenerate(model: RnnModel, start: number[], steps: number, temperature: number, topK: number, seed: number): number[] {
  const training = trainingOf(model);
  const handle = (model as unknown as { handle: never }).handle;
  const rng = new Random(seed);
  const C = model.spec.outputs;
  let r = training.evaluateSync(handle, { steps: start.length, batch: 1, tokens: Int32Array.from(start) });
  const out: number[] = [];
  for (let k = 0; k < steps; k++) {
    const T = r.outputs.length / C;
    const token = pickToken(r.outputs.subarray((T - 1) * C, T * C), { temperature, topK }, rng);
    out.push(token);
    if (k === steps - 1) break;
    r = training.evaluateSync(handle, { steps: 1, batch: 1, tokens: Int32Array.of(token), h0: r.hn, c0: r.cn });
  }
  return out;
}

async function collect(gen: AsyncGenerator<number[]>): Promise<number[][]> {
  const out: number[][] = [];
  for await (const tokens of gen) out.push(tokens);
  return out;
}

for (const name of requestedBackends()) {
  describe(`generation sessions, backend ${name}`, () => {
    it('logits equal model.predict over the same prefix (prompt, then token by token)', async () => {
      for (const cell of ['lstm', 'gru'] as const) {
        const model = await lm(name, { cell });
        const prompt = [1, 4, 2, 7, 3];
        const session = model.createSession();
        expectLogitsClose(await session.prime([prompt]), await lastLogits(model, prompt));
        const seq = prompt.slice();
        for (const t of [5, 0, 10]) {
          seq.push(t);
          expectLogitsClose(await session.step([t]), await lastLogits(model, seq));
        }
        session.dispose();
        model.dispose();
      }
    });

    it('a batch of 3 samples with prompts of different lengths: each sample gets its own logits', async () => {
      const model = await lm(name);
      const prompts = [[1, 2, 3, 4], [5], [6, 7]];
      const session = model.createSession({ batch: 3 });
      const logits = await session.prime(prompts);
      for (let b = 0; b < 3; b++) expectLogitsClose(logits.subarray(b * V, (b + 1) * V), await lastLogits(model, prompts[b]));
      const next = await session.step([8, 9, 10]);
      for (let b = 0; b < 3; b++) expectLogitsClose(next.subarray(b * V, (b + 1) * V), await lastLogits(model, [...prompts[b], 8 + b]));
      model.dispose();
    });

    it('one backend call per generated token (spy on the TrainingBackend)', async () => {
      const model = await lm(name);
      const training = trainingOf(model);
      const step = vi.spyOn(training, 'sessionStep');
      const evaluate = vi.spyOn(training, 'evaluate');
      try {
        const session = model.createSession({ batch: 2 });
        await session.prime([[1, 2, 3], [4, 5]]);
        expect(step).toHaveBeenCalledTimes(1);
        const out = await collect(session.sample({ maxLength: 6, temperature: 1, seed: 1 }));
        expect(out).toHaveLength(6);
        expect(out.every((t) => t.length === 2 && t.every((id) => id >= 0 && id < V))).toBe(true);
        // The prompt, then one call for each token but the last (nothing is fed after it).
        expect(step).toHaveBeenCalledTimes(1 + 5);
        expect(evaluate).not.toHaveBeenCalled();
      } finally {
        step.mockRestore();
        evaluate.mockRestore();
        model.dispose();
      }
    });

    it('stop tokens end a sample (it yields -1 afterwards, and is held); maxLength bounds the rest', async () => {
      const model = await lm(name);
      const session = model.createSession({ batch: 2 });
      const logits = await session.prime([[1, 2], [3, 4, 5]]);
      const first = [0, 1].map((b) => pickToken(logits.subarray(b * V, (b + 1) * V), {}, new Random(0)));
      // Greedy; stop on sample 0's first token unless sample 1 would also stop at once.
      const stop = first[0] !== first[1] ? first[0] : -1;
      const out = await collect(session.sample({ maxLength: 5, stopTokens: stop >= 0 ? [stop] : [] }));
      expect(out).toHaveLength(5);
      if (stop >= 0) {
        expect(out[0][0]).toBe(stop);
        expect(out.slice(1).map((t) => t[0])).toEqual([-1, -1, -1, -1]);
        expect(out.every((t) => t[1] >= 0)).toBe(true);
      }
      // Every sample stopping ends the generator early.
      const s2 = model.createSession({ batch: 2 });
      await s2.prime([[1, 2], [3, 4, 5]]);
      const all = await collect(s2.sample({ maxLength: 9, stopTokens: Array.from({ length: V }, (_, i) => i) }));
      expect(all).toHaveLength(1);
      model.dispose();
    });

    it('greedy sampling in a session gives what generate gives, and generate is unchanged', async () => {
      const model = await lm(name);
      const start = [2, 9, 4];
      const session = model.createSession();
      await session.prime([start]);
      const viaSession = (await collect(session.sample({ maxLength: 8 }))).map((t) => t[0]);
      expect(model.generate({ start, steps: 8 })).toEqual(viaSession);
      expect(model.generate({ start, steps: 8, temperature: 0.9, topK: 4, seed: 5 })).toEqual(oldGenerate(model, start, 8, 0.9, 4, 5));
      expect(model.generate({ start, steps: 7, temperature: 1.3, seed: 2 })).toEqual(oldGenerate(model, start, 7, 1.3, 0, 2));
      model.dispose();
    });

    it('conditioning vector and seq2seq source: logits equal predict', async () => {
      const cond = await lm(name, { conditionSize: 3, cell: 'gru' });
      const conditions = [[0.5, -1, 2], [1, 0, -0.3]];
      const s = cond.createSession({ condition: conditions });
      expect(s.batch).toBe(2);
      const logits = await s.prime([[1, 2, 3], [4, 5]]);
      const want = await cond.predict({ inputs: [[1, 2, 3], [4, 5]], conditions }, { lastStep: true });
      for (let b = 0; b < 2; b++) expectLogitsClose(logits.subarray(b * V, (b + 1) * V), want[b]);
      cond.dispose();

      const s2s = await lm(name, { encoder: { input: { kind: 'embedding', vocab: 7, dim: 4 } } });
      const sources = [[1, 2, 3, 4], [5, 6]];
      const sess = s2s.createSession({ source: sources });
      const first = await sess.prime([[0, 3], [0, 1]]);
      const direct = await s2s.predict({ inputs: [[0, 3], [0, 1]], sources }, { lastStep: true });
      for (let b = 0; b < 2; b++) expectLogitsClose(first.subarray(b * V, (b + 1) * V), direct[b]);
      // The encoder ran once: later steps continue the decoder.
      const next = await sess.step([4, 4]);
      const direct2 = await s2s.predict({ inputs: [[0, 3, 4], [0, 1, 4]], sources }, { lastStep: true });
      for (let b = 0; b < 2; b++) expectLogitsClose(next.subarray(b * V, (b + 1) * V), direct2[b]);
      s2s.dispose();
    });

    it('disposing the model makes its sessions refuse; a disposed session refuses', async () => {
      const model = await lm(name);
      const session = model.createSession();
      await session.prime([[1]]);
      model.dispose();
      await expect(session.step([1])).rejects.toThrow(/disposed/);
      expect(() => session.stepSync([1])).toThrow(/disposed/);
      session.dispose(); // still allowed: frees the session
      const m2 = await lm(name);
      const s2 = m2.createSession();
      s2.dispose();
      await expect(s2.step([1])).rejects.toThrow(/disposed/);
      m2.dispose();
    });

    it('overlapping calls are refused with ERR_RNNKIT_BUSY', async () => {
      const model = await lm(name);
      const session = model.createSession();
      await session.prime([[1, 2]]);
      // Both made while the first call runs (before any await: on wasm and reference the
      // step computes synchronously inside its promise).
      const running = session.step([3]);
      const second = session.step([4]);
      const other = model.evaluate({ inputs: [[1]], targets: [[1]] });
      await expect(second).rejects.toMatchObject({ code: 'ERR_RNNKIT_BUSY' });
      await expect(other).rejects.toMatchObject({ code: 'ERR_RNNKIT_BUSY' });
      await running;
      // An active sample() generator owns the session between its steps.
      const gen = session.sample({ maxLength: 3 });
      await gen.next();
      await expect(session.step([1])).rejects.toMatchObject({ code: 'ERR_RNNKIT_BUSY' });
      await gen.return(undefined);
      await session.step([1]);
      model.dispose();
    });

    it('refuses what a session cannot serve, naming it', async () => {
      const bi = await lm(name, { bidirectional: true });
      expect(() => bi.createSession()).toThrow(/unidirectional/);
      bi.dispose();
      const model = await lm(name);
      const s = model.createSession({ batch: 2 });
      await expect(s.prime([[1]])).rejects.toThrow(/one prompt per sample/);
      await expect(s.step([1, V])).rejects.toThrow(/tokens\[1\]/);
      await expect(collect(s.sample({ maxLength: 2 }))).rejects.toThrow(/prime/);
      await s.prime([[1], [2]]);
      await expect(collect(s.sample({ maxLength: 2, topP: 0 }))).rejects.toThrow(/topP/);
      model.dispose();
    });

    it('getState / setState: a state put back gives the same logits; what is not a state of its size is refused, naming it', async () => {
      const model = await lm(name);
      const s = model.createSession({ batch: 1 });
      await s.prime([[1, 2, 3]]);
      const saved = s.getState();
      const next = await s.step([4]);
      // The reference keeps its state in float64; getState hands out float32.
      const same = (a: Float32Array, b: Float32Array) => (name === 'reference' ? expectLogitsClose(a, b) : expect(a).toEqual(b));
      s.setState(saved);
      same(await s.step([4]), next);
      const n = saved.h.length;
      // A subclass that lies about its length: the wasm and reference backends read past its one value.
      class Liar extends Float32Array {
        override get length(): number {
          return n;
        }
      }
      expect(() => s.setState({ h: new Liar(1) })).toThrow(new RegExp(`^state\\.h must have shape \\[layers·batch·size\\] = ${n} values; got 1$`));
      expect(() => s.setState({ h: new Float32Array(n + 1) })).toThrow(/^state\.h must have shape/);
      expect(() => s.setState({ h: new Proxy(new Float32Array(n), {}) })).toThrow(/^state\.h must be a Float32Array/);
      expect(() => s.setState({ c: new Float32Array(saved.c!.length).fill(NaN) })).toThrow(/^state\.c must contain only finite numbers; state\.c\[0\] is NaN$/);
      // A refused state changed nothing.
      expect(await s.step([4])).not.toEqual(next);
      s.setState(saved);
      same(await s.step([4]), next);
      model.dispose();
    });

    it('timers run during a long for-await over sample() (steps that resolve at once held a page until the end)', async () => {
      const model = await createModel({ input: { kind: 'embedding', vocab: 50, dim: 16 }, cell: 'lstm', hiddenSize: 128, outputs: 50, backend: name as BackendName });
      const session = model.createSession({ batch: 1 });
      await session.prime([[1, 2, 3]]);
      let timers = 0;
      let done = false;
      const tick = () => {
        timers++;
        if (!done) setTimeout(tick, 0);
      };
      setTimeout(tick, 0);
      const started = performance.now();
      let tokens = 0;
      for await (const [t] of session.sample({ maxLength: 4000, temperature: 1, seed: 1 })) {
        expect(t).toBeGreaterThanOrEqual(0);
        tokens++;
        if (performance.now() - started > 200) break;
      }
      done = true;
      const elapsed = performance.now() - started;
      expect(tokens).toBeGreaterThan(1);
      // About one turn every 10 ms; at least one per 50 ms whatever the machine's load.
      expect(timers).toBeGreaterThanOrEqual(Math.floor(elapsed / 50));
      model.dispose();
    });

    if (name === 'native') {
      it('the event loop runs while a native step computes', async () => {
        const model = await createModel({
          input: { kind: 'embedding', vocab: 50, dim: 32 }, cell: 'lstm', hiddenSize: 256, outputs: 50, backend: 'native',
        });
        const session = model.createSession({ batch: 2 });
        const prompt = Array.from({ length: 3000 }, (_, i) => (i * 7) % 50);
        let ticks = 0;
        let done = false;
        const tick = () => {
          ticks++;
          if (!done) setImmediate(tick);
        };
        setImmediate(tick);
        await session.prime([prompt, prompt]);
        done = true;
        expect(ticks).toBeGreaterThan(1);
        model.dispose();
      });
    }
  });
}

describe('the same seed gives the same tokens on every requested backend', () => {
  it('a small trained model samples identically (temperature, top-k, top-p, penalty, banned)', async () => {
    const text = 'abcab bcabc cabca ';
    const ids = Array.from(text, (ch) => ' abc'.indexOf(ch));
    const inputs: number[][] = [];
    const targets: number[][] = [];
    for (let i = 0; i + 9 < ids.length * 4; i += 3) {
      const seq = Array.from({ length: 10 }, (_, k) => ids[(i + k) % ids.length]);
      inputs.push(seq.slice(0, 9));
      targets.push(seq.slice(1));
    }
    const opts: ModelOptions = { input: { kind: 'embedding', vocab: 4, dim: 4 }, cell: 'gru', hiddenSize: 12, outputs: 4, init: { seed: 1 }, backend: 'reference' };
    const trained = await createModel(opts);
    await trained.fit({ inputs, targets }, { epochs: 15, batchSize: 8, optimizer: { name: 'adam', lr: 0.03 } });
    const params = trained.getParams();
    const runs: Record<string, number[][]> = {};
    for (const name of requestedBackends()) {
      const model = await createModel({ ...opts, backend: name as BackendName });
      model.setParams(params);
      const session = model.createSession({ batch: 3 });
      await session.prime([[1, 2], [2], [3, 1, 2]]);
      runs[name] = await collect(session.sample({ maxLength: 30, temperature: 0.9, topK: 3, topP: 0.95, repetitionPenalty: 1.1, bannedTokens: [0], seed: 42 }));
      model.dispose();
    }
    const names = Object.keys(runs);
    for (const n of names.slice(1)) expect(runs[n]).toEqual(runs[names[0]]);
    expect(runs[names[0]].flat().includes(0)).toBe(false);
  });
});
