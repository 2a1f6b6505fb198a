/**
 * Each topology learns a small synthetic task on the reference backend (small sizes, so
 * these run in seconds). Thresholds are on held-out data drawn with another seed.
 */
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/models/model.js';
import { delayedEchoTask, firstTokenTask, reverseTask, sineTask, wave } from './tasks.js';

describe('topologies learn (reference backend)', () => {
  it('many-to-one: an LSTM classifies a sequence by its first token (lengths 4–9)', async () => {
    const model = await createModel({
      input: { kind: 'embedding', vocab: 4, dim: 4 }, cell: 'lstm', hiddenSize: 12, outputs: 4,
      init: { seed: 1, forgetBias: 1 }, backend: 'reference',
    });
    const train = firstTokenTask(256, [4, 9], 4, 10);
    const test = firstTokenTask(128, [4, 9], 4, 11);
    const before = await model.evaluate(test);
    const fit = await model.fit(train, { epochs: 12, batchSize: 16, optimizer: { name: 'adam', lr: 0.02 }, seed: 1 });
    const after = await model.evaluate(test);
    expect(fit.epochs[fit.epochs.length - 1].loss).toBeLessThan(fit.epochs[0].loss);
    console.log(`many-to-one (LSTM, first token): accuracy ${before.accuracy} → ${after.accuracy}`);
    expect(before.accuracy!).toBeLessThan(0.5);
    expect(after.accuracy!).toBeGreaterThanOrEqual(0.98);
    const pred = await model.predict({ inputs: test.inputs.slice(0, 3) }, { lastStep: true });
    expect(pred.map((p) => p.indexOf(Math.max(...p)))).toEqual(test.labels.slice(0, 3));
  });

  it('many-to-one from the final states of a bidirectional GRU (lengths 10–30, padded batches)', async () => {
    // The head reads [hn forward; hn reverse]; the reverse direction ends on the first token.
    const model = await createModel({
      input: { kind: 'embedding', vocab: 5, dim: 4 }, cell: 'gru', hiddenSize: 8, bidirectional: true, outputs: 5,
      readout: 'final_state', init: { seed: 6 }, backend: 'reference',
    });
    const train = firstTokenTask(128, [10, 30], 5, 12);
    const test = firstTokenTask(100, [10, 30], 5, 13);
    await model.fit(train, { epochs: 6, batchSize: 16, optimizer: { name: 'adam', lr: 0.03 } });
    const m = await model.evaluate(test);
    console.log(`many-to-one (bidirectional GRU, final states): accuracy ${m.accuracy}`);
    expect(m.count).toBe(100);
    expect(m.accuracy!).toBeGreaterThanOrEqual(0.98);
    const pred = await model.predict({ inputs: test.inputs.slice(0, 4) });
    expect(pred.every((p) => p.length === 5)).toBe(true);
  });

  it('many-to-many: a GRU tags each step with the token two steps earlier', async () => {
    const model = await createModel({
      input: { kind: 'embedding', vocab: 5, dim: 5 }, cell: 'gru', hiddenSize: 16, outputs: 5,
      init: { seed: 2 }, backend: 'reference',
    });
    const train = delayedEchoTask(200, [5, 10], 5, 2, 20);
    const test = delayedEchoTask(100, [5, 10], 5, 2, 21);
    await model.fit(train, { epochs: 30, batchSize: 20, optimizer: { name: 'adam', lr: 0.02 }, clip: { maxNorm: 5 } });
    const m = await model.evaluate(test);
    console.log(`many-to-many (GRU tagging, delay 2): accuracy ${m.accuracy}, perplexity ${m.perplexity}`);
    expect(m.accuracy!).toBeGreaterThanOrEqual(0.98);
    expect(m.perplexity!).toBeLessThan(1.2);
  });

  it('many-to-many with truncated BPTT: state carried across windows of 4 steps', async () => {
    // The target is the previous token, so the first step of every window depends on the
    // state carried from the window before: without the carry, ≥ 1/4 of the positions
    // would be at chance and accuracy would stay below ~0.82.
    const model = await createModel({
      input: { kind: 'onehot', vocab: 4 }, cell: 'rnn_tanh', hiddenSize: 16, outputs: 4,
      init: { seed: 3 }, backend: 'reference',
    });
    const train = delayedEchoTask(64, [16, 16], 4, 1, 30);
    const test = delayedEchoTask(32, [16, 16], 4, 1, 31);
    const fit = await model.fit(train, { epochs: 20, batchSize: 16, window: 4, optimizer: { name: 'adam', lr: 0.03 } });
    expect(fit.steps).toBe(20 * 4 * 4);
    const m = await model.evaluate(test);
    console.log(`many-to-many with TBPTT windows of 4: accuracy ${m.accuracy}`);
    expect(m.accuracy!).toBeGreaterThanOrEqual(0.98);
  });

  it('one-to-many: generation conditioned on a vector entering every step', async () => {
    // Class k (one-hot v) → the sequence k, k+1, …, k+5 (mod 6); input at t is the previous token.
    const V = 7; // tokens 0..5, 6 = start
    const START = 6;
    const patterns = [0, 1, 2].map((k) => Array.from({ length: 6 }, (_, t) => (k * 2 + t) % 6));
    const conditions = [0, 1, 2].map((k) => [0, 1, 2].map((j) => (j === k ? 1 : 0)));
    const data = {
      inputs: patterns.map((p) => [START, ...p.slice(0, -1)]),
      targets: patterns,
      conditions,
    };
    const model = await createModel({
      input: { kind: 'embedding', vocab: V, dim: 4 }, conditionSize: 3, cell: 'rnn_tanh', hiddenSize: 16, outputs: V,
      init: { seed: 4 }, backend: 'reference',
    });
    await model.fit(data, { epochs: 150, batchSize: 3, optimizer: { name: 'adam', lr: 0.02 } });
    for (let k = 0; k < 3; k++) {
      expect(model.generate({ start: [START], steps: 6, condition: conditions[k] })).toEqual(patterns[k]);
    }
  });

  it('forecasting: an LSTM predicts a two-sine series 10 steps ahead (closed loop)', async () => {
    const model = await createModel({
      input: { kind: 'dense', size: 1 }, cell: 'lstm', hiddenSize: 16, outputs: 1, loss: 'mse',
      init: { seed: 5 }, backend: 'reference',
    });
    const series = sineTask(64, 30, 50);
    const data = { inputs: series.map((s) => s.slice(0, -1)), targets: series.map((s) => s.slice(1)) };
    const before = await model.evaluate(data);
    const seen: number[] = [];
    await model.fit(data, {
      epochs: 120, batchSize: 16, optimizer: { name: 'adam', lr: 0.01 },
      // Step decay through the schedule hook: 0.01, then 0.003 and 0.001.
      learningRate: (step) => {
        seen.push(step);
        return step <= 240 ? 0.01 : step <= 400 ? 0.003 : 0.001;
      },
    });
    expect(seen.slice(0, 3)).toEqual([1, 2, 3]);
    expect(seen.length).toBe(480);
    const after = await model.evaluate(data);
    expect(after.loss).toBeLessThan(before.loss / 50);
    const phase = 1.234;
    const history = Array.from({ length: 30 }, (_, t) => wave(t, phase));
    const forecast = model.forecast(history, 10);
    let worst = 0;
    let naive = 0; // repeating the last value
    for (let k = 0; k < 10; k++) {
      worst = Math.max(worst, Math.abs(forecast[k] - wave(30 + k, phase)));
      naive = Math.max(naive, Math.abs(history[29] - wave(30 + k, phase)));
    }
    console.log(`forecasting: loss ${before.loss} → ${after.loss}; 10-step closed-loop max error ${worst} (repeat-last baseline ${naive})`);
    // The series spans about ±0.9; closed-loop error grows with the horizon.
    expect(worst).toBeLessThan(0.15);
    expect(worst).toBeLessThan(naive / 3);
  });
});

describe('seq2seq (reference backend)', () => {
  it("refuses an encoder cell whose state the decoder's cannot take, naming the options as written", async () => {
    const options = { input: { kind: 'embedding', vocab: 8, dim: 4 }, cell: 'gru', hiddenSize: 8, outputs: 8, backend: 'reference' } as const;
    await expect(createModel({ ...options, encoder: { input: { kind: 'embedding', vocab: 6, dim: 4 }, cell: 'lstm' } }))
      .rejects.toThrow(/^encoder\.cell lstm and cell gru must both have a cell state or both not$/);
    // GRU and Elman cells pass a hidden state only, so they mix.
    (await createModel({ ...options, encoder: { input: { kind: 'embedding', vocab: 6, dim: 4 }, cell: 'rnn_tanh' } })).dispose();
  });

  it('an LSTM encoder–decoder learns to reverse sequences (teacher forcing, greedy decoding)', async () => {
    const START = 6;
    const END = 7;
    const model = await createModel({
      encoder: { input: { kind: 'embedding', vocab: 6, dim: 8 } },
      input: { kind: 'embedding', vocab: 8, dim: 8 }, cell: 'lstm', hiddenSize: 32, outputs: 8,
      init: { seed: 8 }, backend: 'reference',
    });
    const asData = (t: ReturnType<typeof reverseTask>) => ({
      sources: t.sources,
      inputs: t.targets.map((y) => [START, ...y]),
      targets: t.targets.map((y) => [...y, END]),
    });
    const train = asData(reverseTask(600, [2, 5], 6, 80));
    const test = reverseTask(100, [2, 5], 6, 81);
    await model.fit(train, { epochs: 30, batchSize: 32, optimizer: { name: 'adam', lr: 0.01 }, clip: { maxNorm: 1 } });
    const m = await model.evaluate(asData(test));
    let exact = 0;
    for (let i = 0; i < test.sources.length; i++) {
      const out = model.generate({ source: test.sources[i], start: [START], steps: 12, stopToken: END });
      if (out.join(',') === [...test.targets[i], END].join(',')) exact++;
    }
    console.log(`seq2seq reverse: token accuracy ${m.accuracy}, exact greedy ${exact}/100`);
    expect(m.accuracy!).toBeGreaterThanOrEqual(0.99);
    expect(exact).toBeGreaterThanOrEqual(97);
  });
});
