// Many-to-one classification of variable-length word sequences: is a short review positive
// or negative? The reviews are made up in code, but so that the label takes reading in
// order: a negation flips the adjective after it ("not good"), and with "but" the clause
// after it decides ("the plot was dull but the acting was great" is positive). Neither
// counting positive and negative words nor looking at one word gets that right.
//
// Embedding → LSTM → the head reads the last step of each sequence (`labels`, one per
// sequence); sequences of different lengths share a batch (padding changes nothing).
//
//   npm run build && node examples/sentiment.mjs [--train 2000] [--epochs 4] [--hidden 32] [--backend native|wasm|reference]
import { parseArgs } from 'node:util';
import { createModel, Random } from '../dist/src/index.js';

const { values: opt } = parseArgs({
  options: {
    train: { type: 'string', default: '2000' },
    test: { type: 'string', default: '500' },
    epochs: { type: 'string', default: '4' },
    hidden: { type: 'string', default: '32' },
    backend: { type: 'string' }, // default: the fastest that loads (RNNKIT_BACKEND forces one)
  },
});

// --- the made-up reviews -------------------------------------------------------------
const subjects = ['the movie', 'this film', 'the plot', 'the acting', 'the ending', 'the music', 'the story'];
const verbs = ['was', 'is', 'felt', 'seemed'];
const intensifiers = ['', '', 'very', 'really', 'quite', 'truly'];
const positive = ['good', 'great', 'wonderful', 'brilliant', 'funny', 'moving', 'superb'];
const negative = ['bad', 'dull', 'awful', 'boring', 'weak', 'terrible', 'clumsy'];
const negations = ['not', 'never'];

/** One clause and its polarity (1 positive, 0 negative): subject verb [not] [very] adjective. */
function clause(rng) {
  const pick = (list) => list[rng.int(list.length)];
  const good = rng.uniform() < 0.5;
  const negated = rng.uniform() < 0.35;
  const words = [pick(subjects), pick(verbs), negated ? pick(negations) : '', pick(intensifiers), pick(good ? positive : negative)];
  return { text: words.filter(Boolean).join(' '), label: Number(good !== negated) };
}

/** A review of one clause, or two joined by "and" (same polarity) or "but" (the second decides). */
function review(rng) {
  const first = clause(rng);
  const r = rng.uniform();
  if (r < 0.4) return first;
  let second = clause(rng);
  if (r < 0.6) {
    while (second.label !== first.label) second = clause(rng); // "and" joins clauses that agree
    return { text: `${first.text} and ${second.text}`, label: first.label };
  }
  while (second.label === first.label) second = clause(rng); // "but" turns: the second clause decides
  return { text: `${first.text} but ${second.text}`, label: second.label };
}

const vocab = [...new Set([subjects, verbs, intensifiers, positive, negative, negations, ['and', 'but']].flat().join(' ').split(' ').filter(Boolean))];
const idOf = new Map(vocab.map((w, i) => [w, i]));
const encode = (text) => text.split(' ').map((w) => idOf.get(w));

function dataset(n, seed) {
  const rng = new Random(seed);
  const reviews = Array.from({ length: n }, () => review(rng));
  return { reviews, inputs: reviews.map((r) => encode(r.text)), labels: reviews.map((r) => r.label) };
}
const train = dataset(Number(opt.train), 1);
const test = dataset(Number(opt.test), 2); // another seed: held-out reviews
const lengths = train.inputs.map((s) => s.length);
console.log(`${train.inputs.length} training reviews, ${test.inputs.length} held out; ${vocab.length} words; ${Math.min(...lengths)}–${Math.max(...lengths)} words long`);

// --- the model -----------------------------------------------------------------------
const model = await createModel({
  input: { kind: 'embedding', vocab: vocab.length, dim: 16 }, cell: 'lstm', hiddenSize: Number(opt.hidden),
  outputs: 2, init: { seed: 1, forgetBias: 1 }, backend: opt.backend,
});
await model.fit({ inputs: train.inputs, labels: train.labels }, {
  epochs: Number(opt.epochs), batchSize: 32, optimizer: { name: 'adam', lr: 0.01 }, clip: { maxNorm: 1 },
  onEpochEnd: (e) => console.log(`epoch ${e.epoch}: loss ${e.loss.toFixed(3)}, training accuracy ${e.accuracy.toFixed(3)}`),
});

const m = await model.evaluate({ inputs: test.inputs, labels: test.labels });
const majority = Math.max(...[0, 1].map((c) => test.labels.filter((l) => l === c).length)) / test.labels.length;
console.log(`held-out accuracy: ${m.accuracy.toFixed(3)} (majority class ${majority.toFixed(3)}, bag of words ${bagOfWords().toFixed(3)}) on ${model.backend}`);

/**
 * The baseline that ignores order: logistic regression on word counts, trained on the same
 * reviews; its held-out accuracy shows how much the order of the words carries.
 */
function bagOfWords() {
  const counts = (ids) => {
    const c = new Float64Array(vocab.length + 1);
    for (const id of ids) c[id]++;
    c[vocab.length] = 1; // bias
    return c;
  };
  const X = train.inputs.map(counts);
  const w = new Float64Array(vocab.length + 1);
  const score = (x) => x.reduce((s, v, i) => s + v * w[i], 0);
  for (let epoch = 0; epoch < 50; epoch++) {
    X.forEach((x, n) => {
      const g = 1 / (1 + Math.exp(-score(x))) - train.labels[n];
      x.forEach((v, i) => (w[i] -= 0.05 * g * v));
    });
  }
  return test.inputs.filter((ids, n) => Number(score(counts(ids)) > 0) === test.labels[n]).length / test.inputs.length;
}

// A few held-out reviews with what the model says (probability of "positive").
const shown = test.reviews.slice(0, 6);
const logits = await model.predict({ inputs: shown.map((r) => encode(r.text)) }, { lastStep: true });
for (const [k, r] of shown.entries()) {
  const [neg, pos] = logits[k];
  const p = 1 / (1 + Math.exp(neg - pos));
  console.log(`  ${p.toFixed(2)} ${r.label ? '+' : '-'} ${r.text}`);
}
model.dispose();
