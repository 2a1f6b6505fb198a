// Bidirectional many-to-many tagging: every step of a sequence gets a tag that depends on
// what comes before it AND after it. The sequences are random digits; each digit is
// tagged PEAK (greater than both neighbours), VALLEY (less than both) or SLOPE (otherwise;
// at the ends only the one neighbour counts). A left-to-right model has not yet seen the
// right neighbour when it must tag a digit, so it can only guess; a bidirectional one reads
// the sequence both ways and its head sees both sides at every step.
//
// The same model is trained twice, bidirectional and not, and both are compared with
// always answering the most frequent tag.
//
//   npm run build && node examples/tagging.mjs [--train 2000] [--epochs 10] [--hidden 32] [--backend native|wasm|reference]
import { parseArgs } from 'node:util';
import { createModel, Random } from '../dist/src/index.js';

const { values: opt } = parseArgs({
  options: {
    train: { type: 'string', default: '2000' },
    test: { type: 'string', default: '500' },
    epochs: { type: 'string', default: '10' },
    hidden: { type: 'string', default: '32' },
    backend: { type: 'string' }, // default: the fastest that loads (RNNKIT_BACKEND forces one)
  },
});

const TAGS = ['SLOPE', 'PEAK', 'VALLEY'];

/** The tag of x[t] from its neighbours (a missing neighbour at the ends does not count). */
function tagAt(x, t) {
  const sides = [x[t - 1], x[t + 1]].filter((v) => v !== undefined);
  if (sides.every((v) => x[t] > v)) return 1;
  if (sides.every((v) => x[t] < v)) return 2;
  return 0;
}

/** `n` digit sequences of 5–20 steps and their tags. */
function dataset(n, seed) {
  const rng = new Random(seed);
  const inputs = Array.from({ length: n }, () => Array.from({ length: 5 + rng.int(16) }, () => rng.int(10)));
  return { inputs, targets: inputs.map((x) => x.map((_, t) => tagAt(x, t))) };
}
const train = dataset(Number(opt.train), 1);
const test = dataset(Number(opt.test), 2); // another seed: held-out sequences

async function trainTagger(bidirectional) {
  const model = await createModel({
    input: { kind: 'embedding', vocab: 10, dim: 8 }, cell: 'gru', hiddenSize: Number(opt.hidden), bidirectional,
    outputs: TAGS.length, init: { seed: 1 }, backend: opt.backend,
  });
  await model.fit(train, { epochs: Number(opt.epochs), batchSize: 32, optimizer: { name: 'adam', lr: 0.01 }, clip: { maxNorm: 1 } });
  return model;
}

const tags = test.targets.flat();
const majority = Math.max(...TAGS.map((_, c) => tags.filter((t) => t === c).length)) / tags.length;
const bi = await trainTagger(true);
const uni = await trainTagger(false);
const biAcc = (await bi.evaluate(test)).accuracy;
const uniAcc = (await uni.evaluate(test)).accuracy;
console.log(`${train.inputs.length} training sequences, ${test.inputs.length} held out (${tags.length} tags) on ${bi.backend}`);
console.log(`held-out per-token accuracy: bidirectional ${biAcc.toFixed(3)}, unidirectional ${uniAcc.toFixed(3)}, majority tag ${majority.toFixed(3)}`);

// One held-out sequence, tagged by the bidirectional model.
const [logits] = await bi.predict({ inputs: [test.inputs[0]] });
const predicted = test.inputs[0].map((_, t) => {
  const row = logits.subarray(t * TAGS.length, (t + 1) * TAGS.length);
  return row.indexOf(Math.max(...row));
});
console.log(`  digits    ${test.inputs[0].join(' ')}`);
console.log(`  predicted ${predicted.map((c) => 'SPV'[c]).join(' ')}`);
console.log(`  true      ${test.targets[0].map((c) => 'SPV'[c]).join(' ')}`);
bi.dispose();
uni.dispose();
