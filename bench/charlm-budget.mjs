#!/usr/bin/env node
/**
 * How the defaults of `rnnkit train` were chosen: one character-level language model on
 * the whole of Moby-Dick, trained for a fixed number of TOKENS (not minutes) under the
 * shared char-LM protocol's layout (streams, windows, the held-out 100,000 characters read
 * as one stream) with `rnnkit train`'s schedule (50 warm-up steps, then a cosine to 5% of
 * the peak learning rate at the end of the budget). A token budget makes runs comparable
 * on a busy machine: load changes how long a run takes, not what it reaches. Pair the
 * result with the model's tokens/s on a quiet machine to see what a time budget buys.
 *
 *   npm run build && node bench/charlm-budget.mjs [--cell lstm] [--hidden 512] [--layers 1]
 *        [--embed 64] [--batch 32] [--seq 64] [--lr 0.012] [--tokens 2.25e6] [--dropout 0]
 *
 * Prints one JSON line: the settings, the steps, the held-out bits per character and the
 * wall time. Seen on a 2-core AMD EPYC (LSTM 512, 2.25 M tokens): lr 0.002 → 2.337,
 * 0.004 → 2.172, 0.008 → 2.088, 0.012 → 2.075, 0.016 → 2.072.
 */
import { parseArgs } from 'node:util';
import { createModel, CharTokenizer, nextTokenDataset, splitHeldOut, streamDataset } from '../dist/src/index.js';
import { readDefaultCorpus } from '../dist/src/cli/corpus.js';

const { values } = parseArgs({
  options: Object.fromEntries(['cell', 'hidden', 'layers', 'embed', 'batch', 'seq', 'lr', 'tokens', 'dropout'].map((k) => [k, { type: 'string' }])),
});
const o = {
  cell: values.cell ?? 'lstm', hidden: Number(values.hidden ?? 512), layers: Number(values.layers ?? 1), embed: Number(values.embed ?? 64),
  batch: Number(values.batch ?? 32), seq: Number(values.seq ?? 64), lr: Number(values.lr ?? 0.012), tokens: Number(values.tokens ?? 2.25e6),
  dropout: Number(values.dropout ?? 0),
};

const text = await readDefaultCorpus();
const tok = CharTokenizer.fromText(text);
const { train, heldOut } = splitHeldOut(tok.encode(text));
const model = await createModel({
  input: { kind: 'embedding', vocab: tok.vocabSize, dim: o.embed }, cell: o.cell, hiddenSize: o.hidden, layers: o.layers,
  outputs: tok.vocabSize, ...(o.dropout > 0 ? { dropout: { input: o.dropout, between: o.dropout } } : {}), init: { seed: 1 },
});
const steps = Math.round(o.tokens / (o.batch * o.seq));
// rnnkit train's schedule (src/cli/budget.ts), by steps instead of time.
const lrAt = (s) => o.lr * Math.min(1, s / 50) * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, s / steps))));
const controller = new AbortController();
const started = performance.now();
await model
  .fit(streamDataset(train, o.batch), {
    epochs: 1_000_000, batchSize: o.batch, window: o.seq, shuffle: false, optimizer: { name: 'adam', lr: o.lr }, clip: { maxNorm: 5 },
    learningRate: lrAt, signal: controller.signal, onProgress: (p) => void (p.step >= steps && controller.abort()),
  })
  .catch((e) => {
    if (e.name !== 'AbortError') throw e;
  });
const seconds = (performance.now() - started) / 1000;
const m = await model.evaluate(nextTokenDataset(heldOut, 1000), { stream: true });
console.log(JSON.stringify({ ...o, steps, bitsPerChar: Number(m.bitsPerToken.toFixed(4)), seconds: Math.round(seconds), tokensPerSecond: Math.round((steps * o.batch * o.seq) / seconds), backend: model.backend }));
model.dispose();
