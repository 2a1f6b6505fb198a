// Encoder–decoder (seq2seq): read a string of digits, write it reversed. The encoder LSTM
// reads the digits; its final state (h and c) starts the decoder LSTM, which is trained
// with teacher forcing (its input is the previous right digit, START first) and at test
// time generates greedily, feeding back its own digits until END. Nothing but the
// encoder's final state carries the digits across, so the state must hold the whole string.
//
//   npm run build && node examples/seq2seq-reverse.mjs [--min 3] [--max 8] [--train 6000] [--epochs 20] [--backend native|wasm|reference]
import { parseArgs } from 'node:util';
import { createModel, Random } from '../dist/src/index.js';

const { values: opt } = parseArgs({
  options: {
    min: { type: 'string', default: '3' },
    max: { type: 'string', default: '8' },
    train: { type: 'string', default: '6000' },
    test: { type: 'string', default: '500' },
    epochs: { type: 'string', default: '20' },
    hidden: { type: 'string', default: '128' },
    lr: { type: 'string', default: '0.005' },
    backend: { type: 'string' }, // default: the fastest that loads (RNNKIT_BACKEND forces one)
  },
});

// Decoder tokens: the digits 0–9, then START and END (the encoder reads digits only).
const START = 10;
const END = 11;

/** `n` digit strings of min..max digits, none of them in `exclude` (the training strings, for the held-out set). */
function dataset(n, seed, exclude = new Set()) {
  const rng = new Random(seed);
  const [min, max] = [Number(opt.min), Number(opt.max)];
  const sources = [];
  while (sources.length < n) {
    const s = Array.from({ length: min + rng.int(max - min + 1) }, () => rng.int(10));
    if (!exclude.has(s.join(''))) sources.push(s);
  }
  const reversed = sources.map((s) => s.slice().reverse());
  return { sources, inputs: reversed.map((y) => [START, ...y]), targets: reversed.map((y) => [...y, END]) };
}
const train = dataset(Number(opt.train), 1);
const test = dataset(Number(opt.test), 2, new Set(train.sources.map((s) => s.join(''))));
console.log(`${train.sources.length} training strings of ${opt.min}–${opt.max} digits; ${test.sources.length} held out (none of them seen in training)`);

const model = await createModel({
  encoder: { input: { kind: 'embedding', vocab: 10, dim: 16 } },
  input: { kind: 'embedding', vocab: 12, dim: 16 }, cell: 'lstm', hiddenSize: Number(opt.hidden), outputs: 12,
  init: { seed: 1, forgetBias: 1 }, backend: opt.backend,
});
await model.fit(train, {
  epochs: Number(opt.epochs), batchSize: 32, optimizer: { name: 'adam', lr: Number(opt.lr) }, clip: { maxNorm: 1 },
  onEpochEnd: (e) => console.log(`epoch ${e.epoch}: loss ${e.loss.toFixed(3)}, token accuracy ${e.accuracy.toFixed(3)}`),
});

// Greedy decoding of every held-out string; exact match means every digit and the END.
let exact = 0;
const examples = [];
for (let i = 0; i < test.sources.length; i++) {
  const out = model.generate({ source: test.sources[i], start: [START], steps: Number(opt.max) + 2, stopToken: END });
  const right = out.join() === test.targets[i].join();
  if (right) exact++;
  if (examples.length < 4) examples.push(`  ${test.sources[i].join('')} → ${out.filter((t) => t < 10).join('')} ${right ? '✓' : '✗'}`);
}
console.log(`held-out exact match: ${exact}/${test.sources.length} (${(exact / test.sources.length).toFixed(3)}) on ${model.backend}`);
for (const line of examples) console.log(line);
model.dispose();
