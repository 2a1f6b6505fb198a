// The rnnkit command: train → save → sample, and usage errors. In-process for the
// commands (any backend), plus the built executable for exit codes when dist/ exists
// (CI builds before testing; `npm run build` locally).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError, usage } from '../../src/cli/args.js';
import { sample } from '../../src/cli/sample.js';
import { evaluateCommand } from '../../src/cli/eval.js';
import { train, trainOptions } from '../../src/cli/train.js';

const run = promisify(execFile);
const bin = resolve(import.meta.dirname, '../../dist/src/cli/main.js');

function captureLog(): string[] {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

/** What is written to stdout piece by piece (the streamed sample). */
function captureStdout(): string[] {
  const pieces: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    pieces.push(String(chunk));
    return true;
  });
  return pieces;
}

afterEach(() => vi.restoreAllMocks());

describe('rnnkit train and sample', () => {
  it('trains on a text, saves the model with its vocabulary, and samples from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-cli-'));
    const text = join(dir, 'abc.txt');
    writeFileSync(text, 'abcd'.repeat(200));
    const out = join(dir, 'model');
    const lines = captureLog();
    await train(['--text', text, '--out', out, '--hidden', '16', '--embed', '4', '--seq', '8', '--batch', '4', '--epochs', '6', '--lr', '0.05', '--backend', 'reference']);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(JSON.stringify(config)).toContain('"tokens":["a","b","c","d"]');
    expect(lines.join('\n')).toMatch(/model: embedding 4 → 1×lstm 16 → softmax 4/);
    lines.length = 0;
    const streamed = captureStdout();
    await sample(['--model', out, '--prime', 'ab', '--length', '12', '--temperature', '0', '--backend', 'reference']);
    // A periodic text is learned exactly: greedy decoding continues the cycle, written as it is made.
    expect(streamed.join('')).toBe('ab' + 'cdab'.repeat(3) + '\n');
    expect(streamed.length).toBeGreaterThan(12);
    await expect(sample(['--model', out, '--length', '2000000'])).rejects.toThrow(/--length must be an integer in 1\.\.1000000; got "2000000"/);
    await expect(sample(['--model', out, '--top-p', '1.5'])).rejects.toThrow(/--top-p must be a number in \(0, 1\]/);
    // eval: the stream of the whole text, state carried; a periodic text is nearly certain.
    lines.length = 0;
    await evaluateCommand([out, text, '--backend', 'reference', '--chunk', '50']);
    const m = /^800 characters of .*abc\.txt read as one stream \(799 predicted\): loss ([\d.]+), ([\d.]+) bits per character, perplexity ([\d.]+)$/.exec(lines.at(-1) ?? '');
    expect(m, lines.at(-1)).not.toBeNull();
    expect(Number(m![2])).toBeCloseTo(Number(m![1]) / Math.LN2, 3);
    expect(Number(m![3])).toBeLessThan(1.5);
    await expect(evaluateCommand([out, text, 'extra'])).rejects.toThrow(/unexpected argument "extra"/);
  }, 120_000);

  it('keeps checkpoints, resumes from them, saves the best epoch, and records only the text file name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-cli-'));
    const text = join(dir, 'abc.txt');
    writeFileSync(text, 'abcab'.repeat(120));
    const out = join(dir, 'model');
    const common = ['--text', text, '--out', out, '--hidden', '8', '--embed', '3', '--seq', '10', '--batch', '4', '--lr', '0.02', '--backend', 'reference', '--checkpoint-every', '4'];
    const lines = captureLog();
    await expect(train([...common, '--epochs', '2', '--resume'])).rejects.toThrow(/--resume: no checkpoint in .*model\.checkpoint/);
    await train([...common, '--epochs', '2']);
    expect(readFileSync(join(`${out}.checkpoint`, 'latest'), 'utf8')).toMatch(/^step-\d+\n$/);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.extra.trainedOn).toBe('abc.txt');
    lines.length = 0;
    await train([...common, '--epochs', '3', '--resume']);
    // The resumed run reports only its third epoch.
    expect(lines.join('\n')).toMatch(/^epoch 3 \(/m);
    expect(lines.join('\n')).not.toMatch(/^epoch [12] \(/m);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
  }, 120_000);

  it('refuses an --out that is a file before training', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-cli-'));
    const file = join(dir, 'taken');
    writeFileSync(file, 'x');
    await expect(train(['--out', file, '--epochs', '1'])).rejects.toThrow(/--out .*taken exists and is not a directory/);
  });

  it('bad options are usage errors naming the flag', async () => {
    await expect(train(['--hidden', '0'])).rejects.toThrow(UsageError);
    await expect(train(['--hidden', '0'])).rejects.toThrow(/--hidden must be an integer in 1\.\.16384; got "0"/);
    await expect(train(['--cell', 'lstn'])).rejects.toThrow(/--cell must be one of/);
    await expect(train(['--text', '/nonexistent/file.txt'])).rejects.toThrow(/--text: cannot read \/nonexistent\/file.txt: ENOENT/);
    await expect(train(['--bogus'])).rejects.toThrow(UsageError);
    await expect(sample(['--model', '/nonexistent/model'])).rejects.toThrow(/nonexistent/);
    // eval reads the model before the text: a wrong directory is named, not the default corpus.
    await expect(evaluateCommand(['/nonexistent/model'])).rejects.toThrow(/\/nonexistent\/model/);
    // A negative number is the option's value (then refused by its range, under its own name).
    await expect(train(['--lr', '-1'])).rejects.toThrow(/^--lr must be a number in 0\.\.10; got "-1"$/);
    await expect(train(['--dropout', '-0.5'])).rejects.toThrow(/^--dropout must be a number in 0\.\.0\.95; got "-0\.5"$/);
    await expect(train(['--hidden', '1e12'])).rejects.toThrow(/^--hidden must be an integer in 1\.\.16384; got "1e12"$/);
    await expect(train(['--minutes', '0'])).rejects.toThrow(/^--minutes must be a number in 0\.01\.\.10080; got "0"$/);
    await expect(train(['--level', 'byte'])).rejects.toThrow(/^--level must be one of char, word; got "byte"$/);
  });

  it("the progress line's loss and bits per character are one quantity (the epoch's mean) in two units", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-cli-'));
    const text = join(dir, 'noise.txt');
    // The low three bits of a linear congruential sequence repeat every 8 letters: learned
    // within the epoch, so the last step's loss ends far below the epoch's mean.
    let x = 1;
    writeFileSync(text, Array.from({ length: 3000 }, () => 'abcdefgh'[(x = (x * 1103515245 + 12345) % 2 ** 31) % 8]).join(''));
    const lines = captureLog();
    await train(['--text', text, '--out', join(dir, 'm'), '--hidden', '8', '--embed', '3', '--seq', '8', '--batch', '4', '--epochs', '1', '--lr', '0.05', '--backend', 'reference']);
    const progress = [...lines.join('').matchAll(/loss ([\d.]+) \(([\d.]+) bits\/char\)/g)];
    expect(progress.length).toBeGreaterThan(0);
    for (const [, nats, bits] of progress) expect(Number(bits)).toBeCloseTo(Number(nats) / Math.LN2, 2);
  });

  it('a word-level --min-count that leaves no word is refused (it trained on <unk> and reported a perplexity)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-cli-'));
    const text = join(dir, 'words.txt');
    writeFileSync(text, 'the cat sat on the mat. a dog ran. '.repeat(40));
    await expect(train(['--text', text, '--level', 'word', '--min-count', '100000', '--out', join(dir, 'm')])).rejects.toThrow(
      /^--min-count 100000 leaves no word in the vocabulary: every word of --text occurs fewer than 100000 times$/,
    );
    expect(existsSync(join(dir, 'm'))).toBe(false);
  });

  it('a --text that is not UTF-8 text is refused instead of trained on as replacement characters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-cli-'));
    const latin1 = join(dir, 'latin1.txt');
    writeFileSync(latin1, Buffer.from('caf\xe9 na\xefve '.repeat(100), 'latin1'));
    await expect(train(['--text', latin1])).rejects.toThrow(/^--text: .*latin1\.txt is not UTF-8 text; convert it first/);
    const binary = join(dir, 'model.bin');
    writeFileSync(binary, new Uint8Array([80, 75, 3, 4, 0, 0, 1, 2]));
    await expect(train(['--text', binary])).rejects.toThrow(/^--text: .*model\.bin is not a text file \(a NUL byte at offset 4\)$/);
    // A byte-order mark is not a character of the text.
    const bom = join(dir, 'bom.txt');
    writeFileSync(bom, '\ufeff' + 'abcd'.repeat(200));
    const out = join(dir, 'model');
    await train(['--text', bom, '--out', out, '--hidden', '8', '--embed', '3', '--seq', '8', '--batch', '4', '--epochs', '1', '--backend', 'reference']);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).extra.tokenizer.tokens).toEqual(['a', 'b', 'c', 'd']);
    await expect(evaluateCommand([out, latin1, '--backend', 'reference'])).rejects.toThrow(/the text to evaluate on: .*not UTF-8 text/);
    // A character the model never saw: a usage error naming it (not advice to add an unknown token).
    const other = join(dir, 'other.txt');
    writeFileSync(other, 'abcdx'.repeat(10));
    const e = await evaluateCommand([out, other, '--backend', 'reference']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toMatch(/other\.txt: "x" is not in this model's vocabulary \(the symbols of the text it was trained on\)$/);
  });

  it('--help shows the default and range of every number option, worded as the usage errors', () => {
    const help = usage('train', 'Train.', trainOptions);
    expect(help).toMatch(/--hidden <integer> +hidden units per layer \(default 512; 1\.\.16384\)$/m);
    expect(help).toContain('(default 5 unless --epochs is given; 0.01..10080)');
    expect(help).toMatch(/--clip <number> .*\(default 5; ≥ 0\)$/m);
    expect(help).toMatch(/--level <value> .*\(default char\)$/m);
  });
});

describe('the built executable (npm test builds it first)', () => {
  it('exits 2 with a one-line message on a usage error, 0 on --help', async () => {
    expect(existsSync(bin), `${bin} is missing: run npm run build`).toBe(true);
    const err = await run('node', [bin, 'train', '--seq', 'x']).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/^rnnkit: --seq must be an integer in 1\.\.100000; got "x"\n$/);
    const help = await run('node', [bin, 'train', '--help']);
    expect(help.stdout).toContain('--epochs <integer>');
    expect(help.stdout).toContain('(default 64; 1..100000)');
    const info = JSON.parse((await run('node', [bin, 'info'])).stdout);
    expect(info).toHaveProperty('backend');
    expect(info.version).toBe(JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')).version);
    const forced = JSON.parse((await run('node', [bin, 'info'], { env: { ...process.env, RNNKIT_BACKEND: 'reference' } })).stdout);
    expect(forced).toMatchObject({ backend: 'reference', why: 'RNNKIT_BACKEND=reference' });
    for (const command of ['sample', 'eval', 'info']) expect((await run('node', [bin, command, '--help'])).stdout).toMatch(/^usage: rnnkit /);
    // No command is a usage error too (it printed the help and exited 0); `rnnkit help` is not.
    const none = await run('node', [bin]).catch((e) => e);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^rnnkit: a command is needed\n\nusage: rnnkit <command>/);
    expect((await run('node', [bin, 'help'])).stdout).toMatch(/^usage: rnnkit <command>/);
  });

  it('an unknown option names the one it resembles; numbers are decimal; sizes too large together name their flags', async () => {
    await expect(train(['--epoch', '3'])).rejects.toThrow(/^unknown option --epoch \(did you mean --epochs\?\); --help lists them$/);
    await expect(train(['--bogus'])).rejects.toThrow(/^unknown option --bogus; --help lists them$/);
    await expect(train(['--hidden', '0x10'])).rejects.toThrow(/^--hidden must be an integer in 1\.\.16384; got "0x10"$/);
    await expect(train(['--hidden', '1e1'])).rejects.toThrow(/^--hidden must be an integer/);
    await expect(train(['--lr', '0x1'])).rejects.toThrow(/^--lr must be a number/);
    await expect(sample(['--top-k', '1e20'])).rejects.toThrow(/^--top-k must be an integer in 0\.\.16777216; got "1e20"$/);
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-cli-'));
    const text = join(dir, 't.txt');
    writeFileSync(text, 'abcd'.repeat(300));
    const out = join(dir, 'never-made');
    await expect(train(['--text', text, '--out', out, '--hidden', '16384', '--layers', '64', '--batch', '4', '--seq', '8', '--backend', 'reference']))
      .rejects.toThrow(/^--hidden 16384, --layers 64 and --embed \d+ with a vocabulary of 4 give too large a model: /);
    // A run that failed before saving anything leaves no empty --out behind.
    expect(existsSync(out)).toBe(false);
  });
});
