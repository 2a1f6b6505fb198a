// rnnkit sample and eval: what a user mistypes is a usage error naming the flag or argument
// (exit code 2), before anything is printed; a model directory whose saved tokenizer does
// not match the model is refused naming config.json.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { evaluateCommand } from '../../src/cli/eval.js';
import { sample } from '../../src/cli/sample.js';
import { train } from '../../src/cli/train.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-sample-errors-'));
const model = join(dir, 'model');

beforeAll(async () => {
  writeFileSync(join(dir, 'abc.txt'), 'abcd '.repeat(100)); // lower case: no "C" for the default prime "Call me "
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  await train(['--text', join(dir, 'abc.txt'), '--out', model, '--hidden', '4', '--embed', '2', '--seq', '8', '--batch', '2', '--epochs', '1', '--sample-every', '0', '--backend', 'reference']);
  vi.restoreAllMocks();
}, 60_000);
afterEach(() => vi.restoreAllMocks());

const refusal = async (run: Promise<unknown>) => {
  const e = await run.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(UsageError); // exit code 2
  return (e as Error).message;
};

describe('rnnkit sample and eval: usage errors', () => {
  it('a prime with a symbol the model never saw names --prime and the symbol', async () => {
    const written = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await refusal(sample(['--model', model, '--backend', 'reference']))).toBe(`--prime: "C" is not in this model's vocabulary (the symbols of the text it was trained on)`);
    expect(written).not.toHaveBeenCalled();
  });

  it('--top-p 0 is refused before loading (sampling needs p > 0)', async () => {
    expect(await refusal(sample(['--model', model, '--prime', 'ab', '--top-p', '0']))).toBe('--top-p must be a number in (0, 1]; got "0"');
  });

  it("eval names its text argument, not a --text flag it does not have", async () => {
    expect(await refusal(evaluateCommand([model, join(dir, 'missing.txt')]))).toMatch(/^the text to evaluate on: cannot read .*missing\.txt: ENOENT$/);
  });

  it('a saved tokenizer of another size than the model is refused, naming config.json', async () => {
    const config = join(model, 'config.json');
    const saved = readFileSync(config, 'utf8');
    const edited = JSON.parse(saved);
    edited.extra.tokenizer.tokens = edited.extra.tokenizer.tokens.slice(0, 3);
    writeFileSync(config, JSON.stringify(edited));
    try {
      await expect(sample(['--model', model, '--prime', 'ab', '--backend', 'reference'])).rejects.toThrow(/config\.json: the model's tokenizer \(extra\.tokenizer\) has 3 tokens but its input vocabulary is \d+/);
      await expect(evaluateCommand([model, join(dir, 'abc.txt'), '--backend', 'reference'])).rejects.toThrow(/has 3 tokens but its input vocabulary/);
    } finally {
      writeFileSync(config, saved);
    }
  });
});
