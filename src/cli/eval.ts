/**
 * `rnnkit eval [model] [text]`: a saved language model's loss, bits per token (per
 * character for a character model) and perplexity on a text, read as one stream with the
 * state carried from start to end. Default text: the held-out last 10% of the bundled
 * chapters, as `rnnkit train` holds it out.
 */
import { readFile } from 'node:fs/promises';
import type { BackendName } from '../backend/contract.js';
import { BACKEND_NAMES } from '../backend/load.js';
import { RnnModel } from '../models/model.js';
import { nextTokenDataset } from '../text/language-model.js';
import { tokenizerFromJSON, type TokenizerJSON } from '../text/tokenizer.js';
import { parseOptions, UsageError, type OptionSpec } from './args.js';
import { DEFAULT_TEXT } from './train.js';

export const evalOptions: Record<string, OptionSpec> = {
  chunk: { type: 'integer', default: 256, min: 1, help: 'tokens per evaluation call (the state is carried across them)' },
  backend: { type: 'string', help: `backend: ${BACKEND_NAMES.join(', ')} (default: fastest available)` },
  help: { type: 'boolean', help: 'show this help' },
};

export async function evaluateCommand(argv: string[]): Promise<void> {
  const o = parseOptions(argv, evalOptions, 2);
  const [dir = 'rnnkit-model', file] = o.positionals;
  if (o.backend !== undefined && !(BACKEND_NAMES as readonly string[]).includes(o.backend as string)) {
    throw new UsageError(`--backend must be one of ${BACKEND_NAMES.join(', ')}; got ${JSON.stringify(o.backend)}`);
  }
  const text = await readFile(file ?? DEFAULT_TEXT, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${e.code ?? e.message}`);
  });
  const model = await RnnModel.load(dir, { backend: o.backend as BackendName | undefined });
  try {
    const json = model.extra.tokenizer as TokenizerJSON | undefined;
    if (!json) throw new Error(`${dir}/config.json has no tokenizer: was it saved by rnnkit train?`);
    const tokenizer = tokenizerFromJSON(json);
    const all = tokenizer.encode(text);
    const ids = file === undefined ? all.slice(Math.floor(all.length * 0.9)) : all;
    if (ids.length < 2) throw new UsageError('the text must hold at least two tokens');
    const m = await model.evaluate(nextTokenDataset(ids, o.chunk as number), { stream: true });
    const unit = json.kind === 'char' ? 'character' : 'token';
    console.log(`${m.count} ${unit}s of ${file ?? 'the held-out 10% of the bundled text'}: loss ${m.loss.toFixed(4)}, ${m.bitsPerToken!.toFixed(4)} bits per ${unit}, perplexity ${m.perplexity!.toFixed(3)}`);
  } finally {
    model.dispose();
  }
}
