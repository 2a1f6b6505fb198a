// The lectures' word-level language model with rnnkit's API: keep the most frequent words,
// one UNKNOWN_TOKEN for the rest, SENTENCE_START / SENTENCE_END around every sentence; train
// a GRU on 90% of the sentences, report the held-out perplexity (the held-out sentences read
// as one stream, state carried), then sample sentences until SENTENCE_END, never UNKNOWN.
// The embedding starts from pretrained vectors in GloVe's text format (`--vectors`; the
// default file is made from the whole novel by make-word-vectors.mjs, as real GloVe cannot
// be downloaded everywhere); its width is theirs. `--freeze` keeps the table fixed (the
// rows of words without a vector keep their random initialisation); the example then
// prints how far the found words' rows moved in training, which must be 0.
//
//   npm run build && node examples/word-lm.mjs [text file] [--vocab 2000] [--epochs 8] [--hidden 128]
//     [--vectors examples/data/moby-vectors-32d.txt | --vectors none] [--freeze]
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createModel, encodeSentences, WordTokenizer, wordVectorsFor } from '../dist/src/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    vocab: { type: 'string', default: '2000' }, epochs: { type: 'string', default: '8' }, hidden: { type: 'string', default: '128' },
    vectors: { type: 'string', default: fileURLToPath(new URL('data/moby-vectors-32d.txt', import.meta.url)) },
    freeze: { type: 'boolean', default: false },
  },
});
const file = positionals[0] ?? new URL('../data/moby-dick-ch1-3.txt', import.meta.url);
const corpus = readFileSync(file, 'utf8');

const tok = WordTokenizer.fromText(corpus, {
  maxSize: Number(values.vocab), lowercase: true,
  specials: { unknown: 'UNKNOWN_TOKEN', start: 'SENTENCE_START', end: 'SENTENCE_END' },
});
const sentences = encodeSentences(tok, corpus).filter((s) => s.length > 3);
const cut = Math.floor(sentences.length * 0.9);
const asData = (list) => ({ inputs: list.map((s) => s.slice(0, -1)), targets: list.map((s) => s.slice(1)) });
const train = asData(sentences.slice(0, cut));
const heldOut = asData(sentences.slice(cut));
const unknownShare = sentences.flat().filter((id) => id === tok.specials.unknown).length / sentences.flat().length;
console.log(`${sentences.length} sentences, vocabulary ${tok.vocabSize} words (${(100 * unknownShare).toFixed(1)}% of tokens UNKNOWN)`);

const vectors = values.vectors === 'none' ? undefined : wordVectorsFor(readFileSync(values.vectors, 'utf8'), tok);
const model = await createModel({
  input: { kind: 'embedding', vocab: tok.vocabSize, dim: vectors?.dim ?? 64, frozen: values.freeze }, cell: 'gru', hiddenSize: Number(values.hidden),
  outputs: tok.vocabSize, dropout: { input: 0.1 }, init: { seed: 1 },
});
if (vectors) {
  const loaded = model.loadWordVectors(vectors);
  console.log(`vectors: ${loaded} of the vocabulary's ${tok.vocabSize - Object.values(tok.specials).filter((id) => id !== undefined).length} words found in ${relative(process.cwd(), values.vectors)} (dim ${vectors.dim})${values.freeze ? ', frozen' : ''}`);
} else console.log(`vectors: none (embedding dim 64, random init)${values.freeze ? ', frozen' : ''}`);
model.extra.tokenizer = tok.toJSON();
const started = Date.now();
await model.fit(train, {
  epochs: Number(values.epochs), batchSize: 32, optimizer: { name: 'adam', lr: 3e-3 }, clip: { maxNorm: 1 },
  validationData: heldOut, earlyStopping: { patience: 1 },
  onEpochEnd: (e) => console.log(`epoch ${e.epoch}: train loss ${e.loss.toFixed(3)}, held-out perplexity ${e.validation.perplexity.toFixed(1)}`),
});
const metrics = await model.evaluate(heldOut, { stream: true });
console.log(`held-out perplexity (stream, state carried): ${metrics.perplexity.toFixed(1)} (${metrics.bitsPerToken.toFixed(2)} bits per word), ${((Date.now() - started) / 1000).toFixed(0)} s on ${model.backend}`);
if (vectors) {
  // How far training moved the found words' rows from the file's vectors (0 when frozen).
  const table = model.stateDict().find((t) => t.name === 'embedding.weight').data;
  let moved = 0;
  for (const id of vectors.found) {
    for (let d = 0; d < vectors.dim; d++) moved = Math.max(moved, Math.abs(table[id * vectors.dim + d] - vectors.weights[id * vectors.dim + d]));
  }
  console.log(`embedding rows of the ${vectors.found.length} found words: max |trained - file| = ${moved}`);
}

for (let k = 0; k < 3; k++) {
  const ids = model.generate({
    start: [tok.specials.start], steps: 40, temperature: 0.9, topP: 0.9, seed: k,
    bannedTokens: [tok.specials.unknown], stopToken: tok.specials.end,
  });
  console.log(' ', tok.decode(ids, { skipSpecials: true }));
}
model.dispose();
