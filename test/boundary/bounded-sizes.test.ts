/**
 * Guarantee 3 — bounded sizes, checked before anything is allocated.
 *
 * Limits: layers ≤ 1024; every width (inputSize, hiddenSize, outputSize, vocab, dim, size,
 * outputs, conditionSize) ≤ 2^24; a stack's or a model's parameter count ≤ 2^28 floats;
 * steps × batch and every array of a call ≤ 2^31 − 1 elements. Beyond them: a RangeError
 * whose message names the parameter, raised before the memory is reserved — never an
 * abort, an out-of-memory crash or a hang.
 *
 * Every case runs in a child process (a missing check can abort or exhaust memory), with
 * a 1 GB JavaScript heap and a time limit, so that a failure is an assertion, not a dead
 * test worker. The child also reports how much its peak RSS grew during the refused call.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModel, type BackendName } from '../../src/index.js';
import {
  CLI,
  childResult,
  expectCleanExit,
  forEachBackend,
  requireFreshDist,
  runNode,
  runScript,
  summary,
  tempDir,
} from './backends.js';

/** What the child does: set up, then make one call that must be refused (or accepted). */
type Case =
  | { kind: 'stack'; options: Record<string, unknown> }
  | { kind: 'model'; options: Record<string, unknown> }
  | { kind: 'forward'; stack: Record<string, unknown>; xLength: number; call: Record<string, unknown> }
  | { kind: 'load'; dir: string };

interface Outcome {
  resolved?: boolean;
  error?: { name: string; message: string };
  rssGrowthMB: number;
}

const CHILD = `
const [backend, json] = [process.argv[2], process.argv[3]];
const c = JSON.parse(json);
await rnnkit.loadBackend(backend);
const peak = () => process.resourceUsage().maxRSS / 1024; // MB
let out = {};
let stack;
try {
  if (c.kind === 'forward') stack = await rnnkit.createStack({ ...c.stack, backend });
  const before = peak();
  try {
    if (c.kind === 'stack') (await rnnkit.createStack({ ...c.options, backend })).dispose();
    else if (c.kind === 'model') (await rnnkit.createModel({ ...c.options, backend })).dispose();
    else if (c.kind === 'forward') await stack.forward(new Float32Array(c.xLength).fill(0.25), c.call);
    else if (c.kind === 'load') (await rnnkit.RnnModel.load(c.dir, { backend })).dispose();
    out.resolved = true;
  } catch (e) {
    out.error = { name: e && e.constructor ? e.constructor.name : typeof e, message: String(e && e.message || e) };
  }
  out.rssGrowthMB = peak() - before;
} catch (e) {
  out.setupError = String(e && e.stack || e);
}
report(out);
`;

async function run(backend: BackendName, c: Case): Promise<Outcome> {
  const r = await runScript('bounded-size', CHILD, {
    args: [backend, JSON.stringify(c)],
    nodeArgs: ['--max-old-space-size=1024'],
    timeoutMs: 60_000,
  });
  expectCleanExit(r, `the child for ${JSON.stringify(c)}`);
  const out = childResult<Outcome & { setupError?: string }>(r);
  expect(out.setupError, 'setting up the case failed').toBeUndefined();
  return out;
}

/** Refused with a RangeError naming the parameter, before allocating (< 64 MB of peak RSS growth). */
async function expectRefused(backend: BackendName, c: Case, names: RegExp): Promise<void> {
  const out = await run(backend, c);
  expect(out.resolved, `${JSON.stringify(c)} was accepted`).toBeUndefined();
  const e = out.error!;
  expect(`${e.name}: ${e.message}`).toMatch(new RegExp(`^RangeError: .*(${names.source})`, 's'));
  expect(out.rssGrowthMB, `peak RSS grew by ${out.rssGrowthMB.toFixed(0)} MB before the RangeError`).toBeLessThan(64);
}

const LSTM = { cell: 'lstm', inputSize: 4, hiddenSize: 8 };
const TOKENS = { input: { kind: 'embedding', vocab: 16, dim: 8 }, cell: 'lstm', hiddenSize: 8, outputs: 16 };
const SLOW = 90_000;

forEachBackend((backend) => {
  describe('sizes are bounded and checked before anything is allocated', () => {
    const stackCases: [string, Record<string, unknown>, RegExp][] = [
      ['layers: 2**31', { ...LSTM, layers: 2 ** 31 }, /layers/],
      ['layers: 1e9', { ...LSTM, layers: 1e9 }, /layers/],
      ['layers: 1025', { ...LSTM, inputSize: 2, hiddenSize: 2, layers: 1025 }, /layers/],
      ['hiddenSize: 2**31', { ...LSTM, hiddenSize: 2 ** 31 }, /hiddenSize/],
      ['inputSize: 1e9', { ...LSTM, inputSize: 1e9 }, /inputSize/],
      ['inputSize: 2**24 + 1 (width limit; parameters would fit)', { cell: 'rnn_tanh', inputSize: 2 ** 24 + 1, hiddenSize: 1 }, /inputSize/],
      ['outputSize: 2**31 (jordan)', { cell: 'jordan', inputSize: 4, hiddenSize: 8, outputSize: 2 ** 31 }, /outputSize/],
      ['hiddenSize: 100000 (parameter count over 2**28)', { ...LSTM, hiddenSize: 100000 }, /parameters/],
    ];
    for (const [label, options, names] of stackCases) {
      it(`createStack({ ${label} }) is a RangeError naming ${names.source}`, () => expectRefused(backend, { kind: 'stack', options }, names), SLOW);
    }

    it('createStack({ layers: 1024 }) (the limit itself) is accepted', async () => {
      const out = await run(backend, { kind: 'stack', options: { ...LSTM, inputSize: 2, hiddenSize: 2, layers: 1024 } });
      expect(out.error, 'layers 1024 was refused').toBeUndefined();
      expect(out.resolved).toBe(true);
    }, SLOW);

    const modelCases: [string, Record<string, unknown>, RegExp][] = [
      ['onehot vocab 1e9', { ...TOKENS, input: { kind: 'onehot', vocab: 1e9 } }, /vocab/],
      ['embedding dim 2**31', { ...TOKENS, input: { kind: 'embedding', vocab: 16, dim: 2 ** 31 } }, /\bdim\b/],
      ['embedding vocab 2**24 + 1', { ...TOKENS, input: { kind: 'embedding', vocab: 2 ** 24 + 1, dim: 1 } }, /vocab/],
      ['dense size 1e9', { ...TOKENS, input: { kind: 'dense', size: 1e9 }, loss: 'mse' }, /\bsize\b/],
      ['outputs 1e9', { ...TOKENS, outputs: 1e9 }, /outputs/],
      ['layers 1e9', { ...TOKENS, layers: 1e9 }, /layers/],
      ['conditionSize 2**31', { ...TOKENS, conditionSize: 2 ** 31 }, /conditionSize/],
      ['embedding 2**24 × 64 (parameter count over 2**28)', { ...TOKENS, input: { kind: 'embedding', vocab: 2 ** 24, dim: 64 } }, /parameters/],
    ];
    for (const [label, options, names] of modelCases) {
      it(`createModel with ${label} is a RangeError naming ${names.source}`, () => expectRefused(backend, { kind: 'model', options }, names), SLOW);
    }

    const GRU = { cell: 'gru', inputSize: 2, hiddenSize: 3 };
    const forwardCases: [string, Case, RegExp][] = [
      ['steps 2**31', { kind: 'forward', stack: GRU, xLength: 2, call: { steps: 2 ** 31, batch: 1 } }, /steps/],
      ['batch 2**31', { kind: 'forward', stack: GRU, xLength: 2, call: { steps: 1, batch: 2 ** 31 } }, /batch/],
      ['steps 2**16 × batch 2**16 (product over 2**31 − 1)', { kind: 'forward', stack: GRU, xLength: 2, call: { steps: 2 ** 16, batch: 2 ** 16 } }, /steps|batch/],
      [
        // x holds 2^19 values, but y would hold 2^19 · 2 · 2048 = 2^31 of them.
        'an output over 2**31 − 1 elements (bidirectional lstm 2048, 2**19 steps)',
        { kind: 'forward', stack: { cell: 'lstm', inputSize: 1, hiddenSize: 2048, bidirectional: true }, xLength: 2 ** 19, call: { steps: 2 ** 19, batch: 1 } },
        /steps|batch|\by\b/,
      ],
    ];
    for (const [label, c, names] of forwardCases) {
      it(`stack.forward with ${label} is a RangeError naming ${names.source}`, () => expectRefused(backend, c, names), SLOW);
    }

    it('RnnModel.load of a directory whose config.json says layers 1000000000 is a RangeError naming layers', async () => {
      const dir = tempDir('config');
      const m = await createModel({ input: { kind: 'embedding', vocab: 16, dim: 8 }, cell: 'lstm', hiddenSize: 8, outputs: 16, backend });
      await m.save(dir);
      m.dispose();
      const file = join(dir, 'config.json');
      const config = JSON.parse(readFileSync(file, 'utf8'));
      expect(config.spec.stack.layers, 'config.json has spec.stack.layers').toBe(1);
      config.spec.stack.layers = 1000000000;
      writeFileSync(file, JSON.stringify(config, null, 2));
      await expectRefused(backend, { kind: 'load', dir }, /layers/);
    }, SLOW);

    const cliCases: [string, string[], RegExp][] = [
      ['--layers 1000000000', ['--layers', '1000000000'], /layers/],
      ['--hidden 1e12', ['--hidden', '1e12'], /hidden/],
    ];
    for (const [label, flags, names] of cliCases) {
      it(`rnnkit train ${label} exits non-zero (not an abort, not a signal) with a message naming the option`, async () => {
        requireFreshDist();
        const out = tempDir('cli');
        const r = await runNode(CLI, {
          args: ['train', ...flags, '--epochs', '1', '--out', out, '--backend', backend],
          env: { NODE_OPTIONS: '--max-old-space-size=1024' },
          timeoutMs: 60_000,
        });
        expect(r.timedOut, `timed out\n${summary(r)}`).toBe(false);
        expect(r.signal, `killed by a signal\n${summary(r)}`).toBeNull();
        expect(r.status, `exit code\n${summary(r)}`).not.toBe(0);
        expect(r.status, `aborted (exit 134)\n${summary(r)}`).not.toBe(134);
        expect(r.stderr, summary(r)).toMatch(names);
      }, SLOW);
    }
  });
});
