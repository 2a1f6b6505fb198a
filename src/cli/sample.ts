/**
 * `rnnkit sample`: generate text from a model saved by `rnnkit train`, streamed to stdout
 * as it is made (a generation session: the state stays in the backend, one call per token).
 */
import { RnnModel } from '../models/model.js';
import { CharTokenizer, tokenizerOf, WordTokenizer } from '../text/tokenizer.js';
import { parseOptions, UsageError, type OptionSpec } from './args.js';
import { BACKEND_NAMES } from '../backend/load.js';
import { LIMITS } from '../backend/abi/limits.js';
import type { BackendName } from '../backend/contract.js';

/** The most tokens one `rnnkit sample` writes. */
export const MAX_SAMPLE_LENGTH = 1_000_000;

export const sampleOptions: Record<string, OptionSpec> = {
  model: { type: 'string', default: 'rnnkit-model', help: 'model directory saved by rnnkit train' },
  prime: { type: 'string', default: 'Call me ', help: 'text to start from' },
  length: { type: 'integer', default: 300, min: 1, max: MAX_SAMPLE_LENGTH, help: 'tokens to generate (characters, or words for a word model)' },
  temperature: { type: 'number', default: 0.7, min: 0, help: '0: greedy; higher: more varied' },
  'top-k': { type: 'integer', default: 10, min: 0, max: LIMITS.RK_MAX_WIDTH, help: 'sample among the k most likely (0: all)' },
  'top-p': { type: 'number', default: 1, min: 0, openMin: true, max: 1, help: 'sample among the most likely whose probabilities sum to p (1: all)' },
  'repetition-penalty': { type: 'number', default: 1, min: 1, help: 'make tokens already generated less likely (1: off)' },
  seed: { type: 'integer', default: 1, min: 0, max: 2 ** 32 - 1, help: 'seed of the sampling' },
  backend: { type: 'string', help: `backend: ${BACKEND_NAMES.join(', ')} (default: fastest available)` },
  help: { type: 'boolean', help: 'show this help' },
};

export interface SampleSettings {
  prime: string;
  length: number;
  temperature: number;
  topK: number;
  topP?: number;
  repetitionPenalty?: number;
  seed: number;
}

/**
 * Generate from `model` and write the prime followed by the continuation, token by token
 * as they are made, then a newline.
 */
export async function printSample(
  model: RnnModel, tokenizer: CharTokenizer | WordTokenizer, s: SampleSettings, write = (text: string) => void process.stdout.write(text),
): Promise<void> {
  // A word model learned sentences between start and end tokens (rnnkit train --level word):
  // its prime starts a sentence, an end token ends a line, and it never writes <unk>.
  const specials = tokenizer instanceof WordTokenizer ? tokenizer.specials : {};
  const prime = tokenizer instanceof WordTokenizer ? s.prime.trim() : s.prime;
  const encoded = encodeInVocabulary(tokenizer, prime, '--prime');
  if (encoded.length === 0) throw new UsageError('--prime must hold at least one token');
  const start = specials.start !== undefined ? [specials.start, ...encoded] : encoded;
  // Greedy (temperature 0) ignores top-k and top-p: the header does not show them.
  const cuts = s.temperature === 0 ? '' : `, top-k ${s.topK}${s.topP !== undefined && s.topP < 1 ? `, top-p ${s.topP}` : ''}`;
  console.log(`--- sample (temperature ${s.temperature}${cuts}) ---`);
  write(prime);
  const session = model.createSession();
  try {
    await session.prime([start]);
    // Words need their neighbour to be spaced right: write what a token adds after the last
    // one (constant work per token; straight quotes may pair differently than in a decode
    // of the whole text).
    let previous = start[start.length - 1];
    for await (const [token] of session.sample({
      maxLength: s.length, temperature: s.temperature, topK: s.topK, topP: s.topP ?? 1, repetitionPenalty: s.repetitionPenalty ?? 1, seed: s.seed,
      ...(specials.unknown !== undefined ? { bannedTokens: [specials.unknown] } : {}),
    })) {
      if (token < 0) break;
      if (tokenizer instanceof CharTokenizer) {
        write(tokenizer.decode([token]));
        continue;
      }
      if (token === specials.end) write('\n');
      else if (token === specials.start) void 0;
      else if (previous === specials.start || previous === specials.end) write(tokenizer.decode([token]));
      else {
        const single = tokenizer.decode([previous]);
        const pair = tokenizer.decode([previous, token]);
        write(pair.startsWith(single) ? pair.slice(single.length) : ` ${tokenizer.decode([token])}`);
      }
      previous = token;
    }
  } finally {
    session.dispose();
  }
  write('\n');
}

/** The tokenizer saved with the model loaded from `dir` (sample, eval); errors name its config.json. */
export function savedTokenizer(model: RnnModel, dir: string): CharTokenizer | WordTokenizer {
  let tokenizer;
  try {
    tokenizer = tokenizerOf(model);
  } catch (e) {
    throw new Error(`${dir}/config.json: ${(e as Error).message}`);
  }
  if (!tokenizer) throw new Error(`${dir}/config.json has no tokenizer: was it saved by rnnkit train?`);
  return tokenizer;
}

/**
 * `tokenizer.encode(text)`, or a usage error naming `what` and the first symbol the model
 * never saw: the tokenizer's own message advises an unknown token, which a CLI user cannot
 * give (a character model of rnnkit train has none).
 */
export function encodeInVocabulary(tokenizer: CharTokenizer | WordTokenizer, text: string, what: string): number[] {
  try {
    return tokenizer.encode(text);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const missing = tokenizer instanceof CharTokenizer ? [...text].find((c) => !tokenizer.has(c)) : undefined;
    throw new UsageError(`${what}: ${missing === undefined ? e.message : `${JSON.stringify(missing)} is not in this model's vocabulary (the symbols of the text it was trained on)`}`);
  }
}

export async function sample(argv: string[]): Promise<void> {
  const o = parseOptions(argv, sampleOptions);
  if (o.backend !== undefined && !(BACKEND_NAMES as readonly string[]).includes(o.backend as string)) {
    throw new UsageError(`--backend must be one of ${BACKEND_NAMES.join(', ')}; got ${JSON.stringify(o.backend)}`);
  }
  const model = await RnnModel.load(o.model as string, { backend: o.backend as BackendName | undefined });
  try {
    await printSample(model, savedTokenizer(model, o.model as string), {
      prime: o.prime as string,
      length: o.length as number,
      temperature: o.temperature as number,
      topK: o['top-k'] as number,
      topP: o['top-p'] as number,
      repetitionPenalty: o['repetition-penalty'] as number,
      seed: o.seed as number,
    });
  } finally {
    model.dispose();
  }
}
