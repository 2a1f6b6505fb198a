/**
 * `rnnkit eval [model] [text]`: a saved language model's loss, bits per token (per
 * character for a character model, per word for a word model) and perplexity on a text,
 * read as one stream with the state carried from start to end. Default text: what
 * `rnnkit train` holds out of its default corpus (the first 100,000 tokens after the first
 * 90% of Moby-Dick).
 */
import type { BackendName } from '../backend/contract.js';
import { BACKEND_NAMES } from '../backend/load.js';
import { RnnModel } from '../models/model.js';
import { nextTokenDataset, splitHeldOut } from '../text/language-model.js';
import { encodeSentences } from '../text/sentences.js';
import { CharTokenizer } from '../text/tokenizer.js';
import { parseOptions, UsageError, type OptionSpec } from './args.js';
import { encodeInVocabulary, savedTokenizer } from './sample.js';
import { readText } from './train-data.js';

export const evalOptions: Record<string, OptionSpec> = {
  chunk: { type: 'integer', default: 1000, min: 1, max: 1_000_000, help: 'tokens per evaluation call (the state is carried across them)' },
  backend: { type: 'string', help: `backend: ${BACKEND_NAMES.join(', ')} (default: fastest available)` },
  help: { type: 'boolean', help: 'show this help' },
};

export async function evaluateCommand(argv: string[]): Promise<void> {
  const o = parseOptions(argv, evalOptions, 2);
  const [dir = 'rnnkit-model', file] = o.positionals;
  if (o.backend !== undefined && !(BACKEND_NAMES as readonly string[]).includes(o.backend as string)) {
    throw new UsageError(`--backend must be one of ${BACKEND_NAMES.join(', ')}; got ${JSON.stringify(o.backend)}`);
  }
  // The model first: a wrong model directory is the likelier mistake, and its error the clearer.
  const model = await RnnModel.load(dir, { backend: o.backend as BackendName | undefined });
  try {
    const { text, name } = await readText(file, 'the text to evaluate on');
    const tokenizer = savedTokenizer(model, dir);
    // A word model was trained on sentences between start and end tokens: read the text so.
    const all = tokenizer instanceof CharTokenizer ? encodeInVocabulary(tokenizer, text, file ?? name) : encodeSentences(tokenizer, text).flat();
    const ids = file === undefined ? splitHeldOut(all).heldOut : all;
    if (ids.length < 2) throw new UsageError('the text must hold at least two tokens');
    const m = await model.evaluate(nextTokenDataset(ids, o.chunk as number), { stream: true });
    const unit = tokenizer instanceof CharTokenizer ? 'character' : 'word';
    const what = file === undefined ? `the held-out part of ${name}` : name;
    // Counted as train counts its held-out figure: the tokens read (the first is only read,
    // each later one is also predicted).
    console.log(`${ids.length.toLocaleString('en')} ${unit}s of ${what} read as one stream (${m.count.toLocaleString('en')} predicted): loss ${m.loss.toFixed(4)}, ${m.bitsPerToken!.toFixed(4)} bits per ${unit}, perplexity ${m.perplexity!.toFixed(3)}`);
  } finally {
    model.dispose();
  }
}
