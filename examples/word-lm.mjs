// The lectures' word-level language model with rnnkit's API: keep the most frequent words,
// one UNKNOWN_TOKEN for the rest, SENTENCE_START / SENTENCE_END around every sentence; train
// a GRU on 90% of the sentences, report the held-out perplexity (the held-out sentences read
// as one stream, state carried), then sample sentences until SENTENCE_END, never UNKNOWN.
//
//   npm run build && node examples/word-lm.mjs [text file] [--vocab 2000] [--epochs 8]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createModel, encodeSentences, WordTokenizer } from '../dist/src/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { vocab: { type: 'string', default: '2000' }, epochs: { type: 'string', default: '8' }, hidden: { type: 'string', default: '128' } },
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

const model = await createModel({
  input: { kind: 'embedding', vocab: tok.vocabSize, dim: 64 }, cell: 'gru', hiddenSize: Number(values.hidden),
  outputs: tok.vocabSize, dropout: { input: 0.1 }, init: { seed: 1 },
});
model.extra.tokenizer = tok.toJSON();
const started = Date.now();
await model.fit(train, {
  epochs: Number(values.epochs), batchSize: 32, optimizer: { name: 'adam', lr: 3e-3 }, clip: { maxNorm: 1 },
  validationData: heldOut, earlyStopping: { patience: 1 },
  onEpochEnd: (e) => console.log(`epoch ${e.epoch}: train loss ${e.loss.toFixed(3)}, held-out perplexity ${e.validation.perplexity.toFixed(1)}`),
});
const metrics = await model.evaluate(heldOut, { stream: true });
console.log(`held-out perplexity (stream, state carried): ${metrics.perplexity.toFixed(1)} (${metrics.bitsPerToken.toFixed(2)} bits per word), ${((Date.now() - started) / 1000).toFixed(0)} s on ${model.backend}`);

for (let k = 0; k < 3; k++) {
  const ids = model.generate({
    start: [tok.specials.start], steps: 40, temperature: 0.9, topP: 0.9, seed: k,
    bannedTokens: [tok.specials.unknown], stopToken: tok.specials.end,
  });
  console.log(' ', tok.decode(ids, { skipSpecials: true }));
}
model.dispose();
