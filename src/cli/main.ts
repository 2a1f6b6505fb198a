#!/usr/bin/env node
/**
 * The `rnnkit` command: train a character-level language model and sample from it.
 *
 *   rnnkit train [options]     train on a text (default: bundled Moby-Dick chapters)
 *   rnnkit sample [options]    generate text from a saved model
 *   rnnkit info                which backend, instruction set and threads are in use
 */
import { defaultBackend } from '../backend/load.js';
import { usage, UsageError } from './args.js';
import { sample, sampleOptions } from './sample.js';
import { train, trainOptions } from './train.js';

const HELP = `usage: rnnkit <command> [options]

commands:
  train     train a character-level language model (default text: Moby-Dick ch. 1-3)
  sample    generate text from a model saved by train
  info      show the backend, instruction set and threads rnnkit uses here

rnnkit <command> --help shows a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  switch (command) {
    case 'train':
      if (wantsHelp) return print(usage('train', 'Train a character-level language model and save it.', trainOptions));
      await train(rest);
      return 0;
    case 'sample':
      if (wantsHelp) return print(usage('sample', 'Generate text from a saved model.', sampleOptions));
      await sample(rest);
      return 0;
    case 'info':
      console.log(JSON.stringify((await defaultBackend()).info()));
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      return print(HELP);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}\n\n${HELP}`);
  }
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
