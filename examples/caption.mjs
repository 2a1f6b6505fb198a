// One-to-many generation conditioned on a vector, as in image captioning: a feature vector
// (standing in for what an image encoder would output) → a sentence describing it.
//
// The "images" are scenes of one or two shapes with a size, a colour and a kind; their
// feature vectors are the attributes as one-hot blocks, mixed by a fixed random matrix
// and blurred with noise, so no single feature names a word. The captions follow the
// scene: "a small red circle", "two big blue squares" (the count also changes the noun).
// The model gets the vector at every step (`conditionSize`) next to the previous word,
// and generates greedily from START until END. Held-out vectors are new noisy scenes.
//
//   npm run build && node examples/caption.mjs [--train 1500] [--epochs 20] [--hidden 48] [--backend native|wasm|reference]
import { parseArgs } from 'node:util';
import { createModel, Random } from '../dist/src/index.js';

const { values: opt } = parseArgs({
  options: {
    train: { type: 'string', default: '1500' },
    test: { type: 'string', default: '200' },
    epochs: { type: 'string', default: '20' },
    hidden: { type: 'string', default: '48' },
    noise: { type: 'string', default: '0.3' },
    backend: { type: 'string' }, // default: the fastest that loads (RNNKIT_BACKEND forces one)
  },
});

const counts = ['a', 'two'];
const sizes = ['small', 'big'];
const colours = ['red', 'green', 'blue'];
const kinds = ['circle', 'square', 'triangle'];
const words = ['<start>', '<end>', ...counts, ...sizes, ...colours, ...kinds, 'circles', 'squares', 'triangles'];
const START = 0;
const END = 1;
const id = (w) => words.indexOf(w);

const ATTRIBUTES = counts.length + sizes.length + colours.length + kinds.length; // 10 one-hot features
const FEATURES = 16;
// The fixed "encoder": a random 16×10 matrix (seed 7) that mixes the attributes.
const mixRng = new Random(7);
const mix = Array.from({ length: FEATURES }, () => Array.from({ length: ATTRIBUTES }, () => mixRng.normal() / Math.sqrt(ATTRIBUTES / 2)));

/** A random scene: its feature vector and its caption (word ids, END included). */
function scene(rng) {
  const [c, s, col, k] = [counts, sizes, colours, kinds].map((list) => rng.int(list.length));
  const oneHot = new Array(ATTRIBUTES).fill(0);
  [c, 2 + s, 4 + col, 7 + k].forEach((i) => (oneHot[i] = 1));
  const vector = mix.map((row) => row.reduce((sum, w, i) => sum + w * oneHot[i], 0) + Number(opt.noise) * rng.normal());
  const noun = c === 0 ? kinds[k] : `${kinds[k]}s`;
  const caption = [counts[c], sizes[s], colours[col], noun].map(id);
  return { vector, caption: [...caption, END] };
}

function dataset(n, seed) {
  const rng = new Random(seed);
  const scenes = Array.from({ length: n }, () => scene(rng));
  return {
    scenes,
    // Teacher forcing: the input at step t is the word before (START first), the target is the word.
    inputs: scenes.map((s) => [START, ...s.caption.slice(0, -1)]),
    targets: scenes.map((s) => s.caption),
    conditions: scenes.map((s) => s.vector),
  };
}
const train = dataset(Number(opt.train), 1);
const test = dataset(Number(opt.test), 2); // another seed: new scenes, new noise

const model = await createModel({
  input: { kind: 'embedding', vocab: words.length, dim: 16 }, conditionSize: FEATURES,
  cell: 'gru', hiddenSize: Number(opt.hidden), outputs: words.length, init: { seed: 1 }, backend: opt.backend,
});
await model.fit(train, {
  epochs: Number(opt.epochs), batchSize: 32, optimizer: { name: 'adam', lr: 0.01 }, clip: { maxNorm: 1 },
  onEpochEnd: (e) => e.epoch % 5 === 0 && console.log(`epoch ${e.epoch}: loss ${e.loss.toFixed(3)}`),
});

// Caption every held-out vector greedily, from START until END.
const text = (ids) => ids.filter((w) => w !== END).map((w) => words[w]).join(' ');
let exact = 0;
const shown = [];
for (const s of test.scenes) {
  const generated = model.generate({ start: [START], condition: s.vector, steps: 8, stopToken: END });
  const right = generated.join() === s.caption.join();
  if (right) exact++;
  if (shown.length < 4 || (!right && shown.length < 6)) shown.push(`  ${right ? '✓' : '✗'} ${text(generated)}${right ? '' : ` (true: ${text(s.caption)})`}`);
}
console.log(`held-out captions exactly right: ${exact}/${test.scenes.length} (${(exact / test.scenes.length).toFixed(3)}) on ${model.backend}`);
for (const line of shown) console.log(line);
model.dispose();
