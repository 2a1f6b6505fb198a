/**
 * What `rnnkit train` trains on: the text (a file, or by default the whole novel), its
 * tokenizer (characters, or words with a vocabulary cut and unknown/start/end tokens), and
 * the shared char-LM protocol's layout — the first 90% as parallel streams for truncated
 * BPTT, the first 100,000 tokens of the rest held out and read as one stream.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Dataset } from '../models/data.js';
import { nextTokenDataset, splitHeldOut, streamDataset } from '../text/language-model.js';
import { encodeSentences } from '../text/sentences.js';
import { CharTokenizer, WordTokenizer } from '../text/tokenizer.js';
import { UsageError } from './args.js';
import { DEFAULT_CORPUS_NAME, readDefaultCorpus } from './corpus.js';

export const LEVELS = ['char', 'word'] as const;
export type Level = (typeof LEVELS)[number];

/** The special tokens of a word-level vocabulary (the lectures' recipe). */
export const WORD_SPECIALS = { unknown: '<unk>', start: '<s>', end: '</s>' } as const;

/** Held-out chunks are evaluated this many tokens per call, the state carried between them. */
const HELD_OUT_CHUNK = 1000;

export interface TrainingText {
  /** The file's name (not its path: a config.json should not carry the trainer's directories), or the corpus's. */
  name: string;
  characters: number;
  tokenizer: CharTokenizer | WordTokenizer;
  /** Tokens of the training part and of the held-out part. */
  trainTokens: number;
  heldOutTokens: number;
  train: Dataset;
  heldOut: Dataset;
  /** Text that starts a sample: the text's own opening, so every token is in the vocabulary. */
  prime: string;
}

export interface TextOptions {
  file: string | undefined;
  level: Level;
  vocabSize: number;
  minCount: number;
  streams: number;
  window: number;
}

/** PyTorch's protocol primes its samples with "The whale "; a text without those letters starts from its own opening. */
function primeFor(tokenizer: CharTokenizer | WordTokenizer, ids: number[], text: string): string {
  const wanted = 'The whale ';
  if (tokenizer instanceof CharTokenizer) return [...wanted].every((c) => tokenizer.has(c)) ? wanted : [...text].slice(0, 8).join('');
  const unknown = tokenizer.specials.unknown;
  return tokenizer.encode(wanted).every((id) => id !== unknown) ? wanted : tokenizer.decode(ids.slice(1, 4), { skipSpecials: true });
}

/** The text of `file` (the default corpus without one); `what` names it in errors (an option or an argument). */
export async function readText(file: string | undefined, what = '--text'): Promise<{ text: string; name: string }> {
  if (file === undefined) return { text: await readDefaultCorpus(), name: DEFAULT_CORPUS_NAME };
  const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`${what}: cannot read ${file}: ${e.code ?? e.message}`);
  });
  return { text: decodeText(bytes, file, what), name: path.basename(file) };
}

/**
 * UTF-8 or a usage error: a lenient decode would turn every byte of a Latin-1 or binary
 * file into U+FFFD and train on that without a word. A byte-order mark is dropped.
 */
function decodeText(bytes: Uint8Array, file: string, what: string): string {
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new UsageError(`${what}: ${file} is not a text file (a NUL byte at offset ${nul})`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`${what}: ${file} is not UTF-8 text; convert it first (e.g. iconv -f latin1 -t utf-8)`);
  }
}

export async function trainingText(o: TextOptions): Promise<TrainingText> {
  const { text, name } = await readText(o.file);
  const tokenizer = o.level === 'char'
    ? CharTokenizer.fromText(text)
    : WordTokenizer.fromText(text, { lowercase: true, maxSize: o.vocabSize, minCount: o.minCount, specials: WORD_SPECIALS });
  if (o.level === 'word' && tokenizer.vocabSize === Object.keys(WORD_SPECIALS).length) {
    // Only <unk>, <s> and </s>: a model of that predicts sentence ends, and its perplexity means nothing.
    throw new UsageError(o.minCount > 1
      ? `--min-count ${o.minCount} leaves no word in the vocabulary: every word of --text occurs fewer than ${o.minCount} times`
      : '--text has no words to train a word-level model on');
  }
  // Words: every sentence between start and end tokens, the sentences one stream.
  const ids = o.level === 'char' ? tokenizer.encode(text) : encodeSentences(tokenizer, text).flat();
  const { train, heldOut } = splitHeldOut(ids);
  const needed = o.streams * o.window + 1;
  if (train.length < needed) {
    throw new UsageError(`--text is too short: its training part (90%) has ${train.length} ${o.level === 'char' ? 'characters' : 'words'}; --batch ${o.streams} streams of at least one --seq ${o.window} window need ${needed}`);
  }
  if (heldOut.length < 2) throw new UsageError('--text is too short to hold out anything to measure the model on');
  const prime = primeFor(tokenizer, ids, text);
  return {
    name, characters: text.length, tokenizer,
    trainTokens: train.length, heldOutTokens: heldOut.length,
    train: streamDataset(train, o.streams),
    heldOut: nextTokenDataset(heldOut, HELD_OUT_CHUNK),
    prime,
  };
}
