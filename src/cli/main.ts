#!/usr/bin/env node
/**
 * The `rnnkit` command: train a character-level language model and sample from it.
 *
 *   rnnkit train [options]     train a language model on a text (default: the whole of Moby-Dick)
 *   rnnkit sample [options]    generate text from a saved model, streamed as it is made
 *   rnnkit eval [model] [text] loss, bits per character and perplexity on a text
 *   rnnkit info                version, backend (and why, when not native), instruction set, threads
 */
import { readFileSync } from 'node:fs';
import { defaultBackend, loadBackend } from '../backend/load.js';
import { packageRoot } from '../backend/native/addon.js';
import { usage, UsageError } from './args.js';
import { evalOptions, evaluateCommand } from './eval.js';
import { sample, sampleOptions } from './sample.js';
import { train, trainOptions } from './train.js';

const HELP = `usage: rnnkit <command> [options]

commands:
  train     train a character- or word-level language model (default: the whole of Moby-Dick, 5 minutes)
  sample    generate text from a model saved by train, streamed as it is made
  eval      loss, bits per character and perplexity of a saved model on a text
  info      show the version, backend (and why), instruction set and threads rnnkit uses here

rnnkit <command> --help shows a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  switch (command) {
    case 'train':
      if (wantsHelp) return print(usage('train', 'Train a language model (characters or words) and save the best on held-out text.', trainOptions));
      return train(rest);
    case 'sample':
      if (wantsHelp) return print(usage('sample', 'Generate text from a saved model.', sampleOptions));
      await sample(rest);
      return 0;
    case 'eval':
      if (wantsHelp) return print(usage('eval [model] [text]', 'Loss, bits per character (or per word) and perplexity of a saved model on a text (default: rnnkit-model on the text rnnkit train holds out of Moby-Dick), state carried throughout.', evalOptions));
      await evaluateCommand(rest);
      return 0;
    case 'info':
      if (wantsHelp) return print('usage: rnnkit info\n\nThe version, the backend in use (and why, when it is not native), its instruction set and threads, as JSON.');
      console.log(JSON.stringify(await info()));
      return 0;
    case undefined:
      // No command is a usage error (exit 2), the help its message.
      throw new UsageError(`a command is needed\n\n${HELP}`);
    case '--help':
    case '-h':
    case 'help':
      return print(HELP);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}\n\n${HELP}`);
  }
}

/** What `rnnkit info` prints: the version and the backend in use, with the reason native was not taken. */
async function info(): Promise<Record<string, unknown>> {
  const version = (JSON.parse(readFileSync(`${packageRoot()}/package.json`, 'utf8')) as { version: string }).version;
  const backend = await defaultBackend();
  let why: string | undefined;
  if (backend.name !== 'native') {
    why = process.env.RNNKIT_BACKEND ? `RNNKIT_BACKEND=${process.env.RNNKIT_BACKEND}` : await loadBackend('native').then(() => undefined, (e: Error) => e.message);
  }
  return { version, ...backend.info(), ...(why ? { why } : {}) };
}

function print(text: string): number {
  console.log(text);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const usageError = e instanceof UsageError;
    process.stderr.write(`rnnkit: ${(e as Error)?.message ?? e}\n`);
    process.exitCode = usageError ? 2 : 1;
  },
);
