#!/usr/bin/env node
// Self-test of the harness's own logic (no timing, a few seconds on the reference backend):
//   - the pre-timing check passes for a backend that agrees with the reference, and refuses
//     one that is slightly wrong (for every workload mode);
//   - options are validated; the report computes ratios rnnkit ÷ peer.
// Run: npm run build && node bench/selftest.mjs
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseOptions } from './lib/options.mjs';
import { medianRound } from './lib/rounds.mjs';
import { DIST_BACKEND_DIR } from './lib/paths.mjs';
import { rng } from './lib/random.mjs';
import { markdown, roundPairsRatio } from './lib/report.mjs';
import { BUILDERS } from './lib/rnnkit-workloads.mjs';

const dist = (f) => import(pathToFileURL(path.join(DIST_BACKEND_DIR, f)).href);
const layout = await dist('layout.js');
const training = { ...(await dist('layout.js')), ...(await dist('load.js')) }; // modelLayout, trainingOf
const { ReferenceBackend } = await dist('reference/index.js');

// Small shapes of each mode (the real ones would make the reference take minutes).
const W = {
  infer: { id: 'infer', cell: 'lstm', layers: 2, I: 7, H: 9, B: 3, T: 5, mode: 'infer' },
  step: { id: 'step', cell: 'lstm', layers: 1, I: 7, H: 9, B: 1, T: 1, mode: 'step' },
  train: { id: 'train', cell: 'gru', layers: 1, I: 7, H: 9, B: 3, T: 5, mode: 'train', head: 4 },
};

/** A reference backend whose outputs are off by `delta` in one element: what a kernel bug looks like. */
function skewed(delta) {
  const be = new ReferenceBackend();
  const bump = (r) => {
    if (delta) r.y[r.y.length - 1] += delta;
    return r;
  };
  const forward = be.forward.bind(be);
  const forwardSync = be.forwardSync.bind(be);
  be.forward = async (s, req) => bump(await forward(s, req));
  be.forwardSync = (s, req) => bump(forwardSync(s, req));
  return be;
}

/** The same for training: a loss that is off by `delta`. */
async function skewedTraining(delta) {
  const be = new ReferenceBackend();
  const { ReferenceTraining } = await dist('reference/training/index.js');
  const t = new ReferenceTraining();
  const trainStep = t.trainStep.bind(t);
  t.trainStep = async (m, b) => {
    const r = await trainStep(m, b);
    return { ...r, loss: r.loss + delta };
  };
  Object.defineProperty(be, 'training', { value: t });
  return be;
}

for (const mode of ['infer', 'step']) {
  const ok = await BUILDERS[mode]({ be: skewed(0), ref: new ReferenceBackend(), layout, training, w: W[mode], rand: rng(1) });
  assert.equal((await ok.check()).ok, true, `${mode}: an agreeing backend must pass`);
  await ok.run();
  const bad = await BUILDERS[mode]({ be: skewed(1e-3), ref: new ReferenceBackend(), layout, training, w: W[mode], rand: rng(1) });
  const v = await bad.check();
  assert.equal(v.ok, false, `${mode}: an error of 1e-3 in y must be refused`);
  assert.equal(v.worst, 'y');
}
{
  const ok = await BUILDERS.train({ be: await skewedTraining(0), ref: new ReferenceBackend(), layout, training, w: W.train, rand: rng(1) });
  assert.equal((await ok.check()).ok, true, 'train: an agreeing backend must pass');
  await ok.run();
  const bad = await BUILDERS.train({ be: await skewedTraining(1e-2), ref: new ReferenceBackend(), layout, training, w: W.train, rand: rng(1) });
  const v = await bad.check();
  assert.equal(v.ok, false, 'train: a loss off by 1e-2 must be refused');
  assert.equal(v.worst, 'loss');
}

assert.throws(() => parseOptions(['--threads', '0']), /--threads/);
assert.throws(() => parseOptions(['--rounds', '1.5']), /--rounds: expected a positive integer/);
assert.equal(parseOptions(['--rounds', '3']).rounds, 3);
{
  const row = (rate, extra = {}) => ({ peer: 'p', workload: 'w', threads: 1, tokens_per_s: rate, ...extra });
  const m = medianRound([row(30), row(10), row(20)]);
  assert.equal(m.tokens_per_s, 20);
  assert.deepEqual(m.round_rates, [30, 10, 20]);
  assert.equal(medianRound([row(30), row(10)]).tokens_per_s, 10); // lower middle of an even count
  assert.ok(medianRound([row(30), { peer: 'p', workload: 'w', threads: 1, error: 'crash' }]).error); // a failure is never hidden
  assert.equal(medianRound([row(5)]).round_rates, undefined); // one round: the row as it came
}
assert.throws(() => parseOptions(['--backends', 'gpu']), /--backends: unknown "gpu"/);
assert.throws(() => parseOptions(['--bogus', '1']), /unknown option --bogus/);
assert.deepEqual(parseOptions(['--peers', 'ceiling,ort-node', '--threads=2,1']).threads, [1, 2]);
assert.deepEqual(parseOptions(['--peers', 'ceiling,ort-node']).peers, ['ceiling-sgemm', 'ort-node']);

const rows = [
  { peer: 'rnnkit-native', workload: 'lstm-infer-b1', threads: 1, tokens_per_s: 30000, ms_per_iter: 1, iters: 5 },
  { peer: 'ort-node', workload: 'lstm-infer-b1', threads: 1, tokens_per_s: 20000, ms_per_iter: 1, iters: 5 },
  { peer: 'rnnkit-wasm', workload: 'lstm-step', threads: 1, error: 'mismatch' },
  { peer: 'ort-web', workload: 'lstm-step', threads: 1, steps_per_s: 5000, ms_per_iter: 0.2, iters: 5 },
];
const md = markdown(rows, { workloads: { 'lstm-infer-b1': { flops_per_token: 1e6, ceiling: { 1: 60 } } }, peak: { 1: 100 } });
assert.match(md, /\| lstm-infer-b1 \| 1 \| rnnkit-native \| 30,000 tokens\/s \| ort-node \| 20,000 tokens\/s \| \*\*1\.50×\*\* \| - \|/);
assert.match(md, /\| lstm-step \| 1 \| rnnkit-wasm \| FAILED \| ort-web \| 5,000 steps\/s \| - \| - \|/);

// Round pairs: the median of the per-round ratios, which can differ from the ratio of the
// median rounds (here 30/20 = 1.5 against the pairs 3.0, 1.0, 1.2 → 1.2).
assert.equal(roundPairsRatio([30, 10, 24], [10, 10, 20]), 1.2);
assert.equal(roundPairsRatio([30, 10], [10, 10]), 2);
assert.equal(roundPairsRatio([30, 10], [10, 10, 10]), null); // different round counts
assert.equal(roundPairsRatio([30, null], [10, 10]), null); // a round without a figure
assert.equal(roundPairsRatio([30], [10]), null); // one round: nothing to pair
const mdPairs = markdown(
  [
    { peer: 'rnnkit-wasm', workload: 'lstm-infer-b1', threads: 1, tokens_per_s: 24, ms_per_iter: 1, iters: 5, round_rates: [30, 10, 24] },
    { peer: 'ort-web', workload: 'lstm-infer-b1', threads: 1, tokens_per_s: 10, ms_per_iter: 1, iters: 5, round_rates: [10, 10, 20] },
  ],
  null,
);
assert.match(mdPairs, /\| lstm-infer-b1 \| 1 \| rnnkit-wasm \| 24 tokens\/s \| ort-web \| 10 tokens\/s \| \*\*2\.40×\*\* \| 1\.20× \|/);
assert.match(md, /\| lstm-infer-b1 \| rnnkit-native \| 1 \| 30,000 \| 1\.000 \| 30\.00 \| 50\.0% \| 30\.0% \|/);

process.stdout.write('bench selftest: ok\n');
