/**
 * Memory over many create / train / drop cycles, on every backend of RNNKIT_BACKENDS.
 *
 * In a child `node --expose-gc` (a crash or a hang is a failed assertion): after a warm-up
 * of 200 cycles, 2,000 cycles of a tiny model — created, trained (fit, one epoch over three
 * short sequences, Adam), evaluated, sampled (generate), then dropped: every other one
 * disposed, the others left to the finalizer — with global.gc() and a macrotask every 100.
 * RSS after the loop (collected and settled) must be within 20 MB of RSS after the
 * warm-up; on wasm, the module's linear memory too. (test/boundary/lifetime.test.ts covers
 * create-and-drop without training; this adds the optimizer state, the training buffers
 * and sessions of a fit.)
 */
import { describe, expect, it } from 'vitest';
import { childResult, expectCleanExit, forEachBackend, runScript } from '../boundary/backends.js';

const CYCLES = 2000;
const WARMUP = 200;

const CHILD = `
const [backend, cycles, warmup] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const wasm = backend === 'wasm' ? await rnnkit.loadBackend('wasm') : null;
const linear = () => (wasm ? wasm.module.memoryBytes() : 0);
const macrotask = () => new Promise((resolve) => setImmediate(resolve));
const data = { inputs: [[1, 2, 3, 4], [0, 1], [5, 4, 3]], targets: [[2, 3, 4, 5], [1, 2], [4, 3, 2]] };
let losses = 0;
async function cycle(i) {
  const model = await rnnkit.createModel({ input: { kind: 'embedding', vocab: 6, dim: 4 }, cell: i % 3 === 0 ? 'lstm' : i % 3 === 1 ? 'gru' : 'rnn_tanh', hiddenSize: 8, outputs: 6, init: { seed: i }, backend });
  const r = await model.fit(data, { epochs: 1, batchSize: 2, optimizer: { name: 'adam', lr: 0.01 }, seed: i });
  if (!Number.isFinite(r.epochs[0].loss)) throw new Error('cycle ' + i + ': loss ' + r.epochs[0].loss);
  losses += (await model.evaluate(data)).loss;
  model.generate({ start: [1], steps: 4 });
  if (i % 2 === 0) model.dispose(); // the others are dropped, for the finalizer
}
async function run(from, count) {
  for (let i = from; i < from + count; i++) {
    await cycle(i);
    if ((i + 1) % 100 === 0) {
      global.gc();
      await macrotask();
    }
  }
}
async function settle() {
  for (let k = 0; k < 5; k++) {
    global.gc();
    await macrotask();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
try {
  const t0 = Date.now();
  await run(0, warmup);
  await settle();
  const { rss: rss0, heapUsed: heap0 } = process.memoryUsage(), mem0 = linear();
  await run(warmup, cycles);
  await settle();
  const { rss: rss1, heapUsed: heap1 } = process.memoryUsage(), mem1 = linear();
  report({ cycles, ms: Date.now() - t0, meanLoss: losses / (warmup + cycles), rssGrowthMB: (rss1 - rss0) / 2 ** 20, linearGrowthMB: (mem1 - mem0) / 2 ** 20, heapUsedGrowthMB: (heap1 - heap0) / 2 ** 20 });
} catch (e) {
  report({ error: String(e && e.stack || e) });
}
`;

forEachBackend((backend) => {
  describe('memory over create / train / drop cycles (child process)', () => {
    it(`${CYCLES} cycles of create, fit, evaluate, generate, drop: RSS and wasm linear memory grow < 20 MB after warm-up`, async () => {
      // A 1 MB semi-space keeps V8's young generation out of the measurement, as in
      // test/boundary/lifetime.test.ts.
      const r = await runScript('churn', CHILD, {
        args: [backend, String(CYCLES), String(WARMUP)],
        nodeArgs: ['--expose-gc', '--max-semi-space-size=1'],
        timeoutMs: 240_000,
      });
      expectCleanExit(r, 'the create/train/drop loop');
      const out = childResult<{ cycles: number; ms: number; rssGrowthMB: number; linearGrowthMB: number; heapUsedGrowthMB: number; error?: string }>(r);
      expect(out.error, 'the loop failed').toBeUndefined();
      console.log(`churn ${backend}: ${out.cycles} cycles in ${(out.ms / 1000).toFixed(1)} s; RSS +${out.rssGrowthMB.toFixed(1)} MB, heapUsed +${out.heapUsedGrowthMB.toFixed(1)} MB, wasm linear +${out.linearGrowthMB.toFixed(1)} MB`);
      expect(out.rssGrowthMB, `RSS grew by ${out.rssGrowthMB.toFixed(1)} MB (V8 heapUsed by ${out.heapUsedGrowthMB.toFixed(1)} MB)`).toBeLessThan(20);
      if (backend === 'wasm') expect(out.linearGrowthMB, `wasm linear memory grew by ${out.linearGrowthMB.toFixed(1)} MB`).toBeLessThan(20);
    }, 300_000);
  });
});
