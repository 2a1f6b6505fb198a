/**
 * `rnnkit sample`: generate text from a model saved by `rnnkit train`.
 */
import { RnnModel } from '../models/model.js';
import { CharTokenizer, tokenizerFromJSON, type TokenizerJSON, WordTokenizer } from '../text/tokenizer.js';
import { parseOptions, UsageError, type OptionSpec } from './args.js';
import { BACKEND_NAMES } from '../backend/load.js';
import type { BackendName } from '../backend/contract.js';

export const sampleOptions: Record<string, OptionSpec> = {
  model: { type: 'string', default: 'rnnkit-model', help: 'model directory saved by rnnkit train' },
  prime: { type: 'string', default: 'Call me ', help: 'text to start from' },
  length: { type: 'integer', default: 300, min: 1, help: 'characters to generate' },
  temperature: { type: 'number', default: 0.7, min: 0, help: '0: greedy; higher: more varied' },
  'top-k': { type: 'integer', default: 10, min: 0, help: 'sample among the k most likely (0: all)' },
  seed: { type: 'integer', default: 1, min: 0, help: 'seed of the sampling' },
  backend: { type: 'string', help: `backend: ${BACKEND_NAMES.join(', ')} (default: fastest available)` },
  help: { type: 'boolean', help: 'show this help' },
};

export interface SampleSettings {
  prime: string;
  length: number;
  temperature: number;
  topK: number;
  seed: number;
}

/** Generate from `model` and print the prime followed by the continuation. */
export function printSample(model: RnnModel, tokenizer: CharTokenizer | WordTokenizer, s: SampleSettings): void {
  const start = tokenizer.encode(s.prime);
  if (start.length === 0) throw new UsageError('--prime must hold at least one character');
  const ids = model.generate({ start, steps: s.length, temperature: s.temperature, topK: s.topK, seed: s.seed });
  console.log(`--- sample (temperature ${s.temperature}, top-k ${s.topK}) ---`);
  console.log(s.prime + tokenizer.decode(ids));
}

export async function sample(argv: string[]): Promise<void> {
  const o = parseOptions(argv, sampleOptions);
  if (o.backend !== undefined && !(BACKEND_NAMES as readonly string[]).includes(o.backend as string)) {
    throw new UsageError(`--backend must be one of ${BACKEND_NAMES.join(', ')}; got ${JSON.stringify(o.backend)}`);
  }
  const model = await RnnModel.load(o.model as string, { backend: o.backend as BackendName | undefined });
  const json = model.extra.tokenizer as TokenizerJSON | undefined;
  if (!json) throw new Error(`${o.model}/config.json has no tokenizer: was it saved by rnnkit train?`);
  printSample(model, tokenizerFromJSON(json), {
    prime: o.prime as string,
    length: o.length as number,
    temperature: o.temperature as number,
    topK: o['top-k'] as number,
    seed: o.seed as number,
  });
  model.dispose();
}
