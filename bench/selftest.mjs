#!/usr/bin/env node
// Self-test of the harness's own logic (no timing, a few seconds on the reference backend):
//   - the pre-timing check passes for a backend that agrees with the reference, and refuses
//     one that is slightly wrong (for every workload mode);
//   - options are validated; the report computes ratios rnnkit ÷ peer, best thread count
//     against best, speed-ups and the issue-#16 targets; rnnkit-wasm and ort-web run at every
//     thread count, a wasm build with the wrong thread count and an ort-web row that fell back
//     to fewer threads are refused;
//   - the workload list holds the shared workloads and bench's own word-level LMs, selected
//     by --workloads as documented, each started on the runners that can run it.
// Run: npm run build && node bench/selftest.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseOptions } from './lib/options.mjs';
import { medianRound } from './lib/rounds.mjs';
import { DIST_BACKEND_DIR, PEERS_COPY, PYTHON } from './lib/paths.mjs';
import { copyPeers } from './lib/peers.mjs';
import { rng } from './lib/random.mjs';
import { bestRatio, flopsInfo, markdown, roundPairsRatio, speedup, TARGETS, targetLines } from './lib/report.mjs';
import { BUILDERS, RNNKIT_MODES } from './lib/rnnkit-workloads.mjs';
import { RUNNERS, runsAt, workerCmd } from './lib/runners.mjs';
import { loadWorkloads, selectWorkloads, sharedWorkloadsFile } from './lib/workloads.mjs';

const dist = (f) => import(pathToFileURL(path.join(DIST_BACKEND_DIR, f)).href);
const layout = await dist('layout.js');
const training = { ...(await dist('layout.js')), ...(await dist('load.js')) }; // modelLayout, trainingOf
const { ReferenceBackend } = await dist('reference/index.js');

// Small shapes of each mode (the real ones would make the reference take minutes).
const W = {
  infer: { id: 'infer', cell: 'lstm', layers: 2, I: 7, H: 9, B: 3, T: 5, mode: 'infer' },
  step: { id: 'step', cell: 'lstm', layers: 1, I: 7, H: 9, B: 1, T: 1, mode: 'step' },
  train: { id: 'train', cell: 'gru', layers: 1, I: 7, H: 9, B: 3, T: 5, mode: 'train', head: 4 },
  wordlm: { id: 'wordlm', cell: 'lstm', layers: 2, I: 5, H: 6, B: 3, T: 4, mode: 'wordlm', head: 11, dropout: 0.2, clip: 0.25 },
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
for (const mode of ['train', 'wordlm']) {
  const ok = await BUILDERS[mode]({ be: await skewedTraining(0), ref: new ReferenceBackend(), layout, training, w: W[mode], rand: rng(1) });
  assert.equal((await ok.check()).ok, true, `${mode}: an agreeing backend must pass`);
  await ok.run();
  await ok.run(); // wordlm: the second window starts from the first one's (hn, cn)
  const bad = await BUILDERS[mode]({ be: await skewedTraining(1e-2), ref: new ReferenceBackend(), layout, training, w: W[mode], rand: rng(1) });
  const v = await bad.check();
  assert.equal(v.ok, false, `${mode}: a loss off by 1e-2 must be refused`);
  assert.equal(v.worst, 'loss');
}

// The workload list: shared + bench's own (lib/wordlm-workloads.json). Where the shared
// peers are not checked out, a stand-in shared list of the six ids.
const SIX = ['lstm-train', 'gru-train', 'lstm-train-large', 'lstm-infer-b1', 'lstm-infer-b64', 'lstm-step'];
const WORDLM = ['wordlm-8k-train', 'wordlm-33k-train'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rnnkit-bench-selftest-'));
let sharedFile = sharedWorkloadsFile();
if (!fs.existsSync(sharedFile)) {
  sharedFile = path.join(tmp, 'workloads.json');
  fs.writeFileSync(sharedFile, JSON.stringify(SIX.map((id) => ({ id, cell: 'lstm', layers: 1, I: 2, H: 2, B: 1, T: 1, mode: id === 'lstm-step' ? 'step' : id.includes('infer') ? 'infer' : 'train', head: 2 }))));
}
{
  const all = loadWorkloads({ sharedFile });
  const ids = all.map((w) => w.id);
  for (const id of [...SIX, ...WORDLM]) assert.ok(ids.includes(id), `the workload list has ${id}`);
  const w8 = all.find((w) => w.id === 'wordlm-8k-train');
  const w33 = all.find((w) => w.id === 'wordlm-33k-train');
  assert.deepEqual({ ...w8, local: undefined }, { id: 'wordlm-8k-train', cell: 'lstm', layers: 2, I: 200, H: 200, B: 20, T: 35, mode: 'wordlm', head: 8000, dropout: 0.2, clip: 0.25, local: undefined });
  assert.equal(w33.head, 33278);
  assert.ok(w8.local && w33.local && !all.find((w) => w.id === 'lstm-train').local);
  assert.ok(BUILDERS.wordlm && RNNKIT_MODES.includes('wordlm'));
  // --workloads: the default stays the six; named ids and "all" include the word-level LMs.
  assert.deepEqual(selectWorkloads(parseOptions([]).workloads, all, RNNKIT_MODES).map((w) => w.id), SIX);
  const named = parseOptions(['--workloads', 'wordlm-8k-train,wordlm-33k-train']).workloads;
  assert.deepEqual(named, WORDLM);
  assert.deepEqual(selectWorkloads(named, all, RNNKIT_MODES).map((w) => w.id), WORDLM);
  assert.deepEqual(selectWorkloads(parseOptions(['--workloads', 'all']).workloads, all, RNNKIT_MODES).map((w) => w.id), ids);
  assert.throws(() => selectWorkloads(['wordlm-1k-train'], all, RNNKIT_MODES), /--workloads: unknown workload "wordlm-1k-train"; expected some of .*wordlm-33k-train/);
  // A local id that reaches the shared list must be noticed, not shadowed.
  const dupFile = path.join(tmp, 'dup.json');
  fs.writeFileSync(dupFile, JSON.stringify([{ ...w8, local: undefined }]));
  assert.throws(() => loadWorkloads({ sharedFile: dupFile }), /wordlm-8k-train now in the shared/);
  // Runners: pytorch-cpu runs torch_wordlm.py through lib/torch_wordlm_row.py; ort and tfjs are not started.
  const starts = (name, w) => !RUNNERS[name].modes || RUNNERS[name].modes.includes(w.mode);
  for (const name of ['rnnkit-native', 'rnnkit-wasm', 'rnnkit-reference', 'pytorch-cpu']) assert.ok(starts(name, w33), `${name} runs wordlm`);
  for (const name of ['ort-node', 'ort-web', 'tfjs-wasm']) assert.ok(!starts(name, w33), `${name} is not started for wordlm`);
  const [, args, env] = RUNNERS['pytorch-cpu'].cmd(w33, 2, 0.5);
  assert.match(args[0], /torch_wordlm_row\.py$/);
  assert.deepEqual([args[args.indexOf('--vocab') + 1], args[args.indexOf('--threads') + 1], args[args.indexOf('--seconds') + 1]], [33278, 2, 0.5]);
  assert.equal(env.OMP_NUM_THREADS, '2');
  assert.match(RUNNERS['pytorch-cpu'].cmd(all.find((w) => w.id === 'lstm-train'), 1, 0.5)[1][0], /torch\/bench\.py$/);
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

// Word-level LM rows: compared with pytorch-cpu, and (where python and the peers' flops.py
// are at hand) given flops per token (3·cell + 3·2·H·V) and a ceiling that includes the head GEMM.
{
  const wl = [
    { peer: 'rnnkit-native', workload: 'wordlm-8k-train', threads: 1, tokens_per_s: 5000, ms_per_iter: 140, iters: 5 },
    { peer: 'pytorch-cpu', workload: 'wordlm-8k-train', threads: 1, tokens_per_s: 4000, ms_per_iter: 175, iters: 5 },
  ];
  const fakeCeiling = (M, K, N, gflops) => ({ peer: 'ceiling-sgemm', M, K, N, threads: 1, gflops });
  const flopsLib = fs.existsSync(PYTHON) && [sharedWorkloadsFile(), path.join(path.dirname(sharedWorkloadsFile()), 'flops.py')].every((f) => fs.existsSync(f));
  const flops = flopsLib
    ? flopsInfo([...wl, fakeCeiling(2048, 2048, 2048, 100), fakeCeiling(700, 200, 800, 50), fakeCeiling(20, 200, 800, 25), fakeCeiling(700, 200, 8000, 50)])
    : { workloads: { 'wordlm-8k-train': { flops_per_token: 13.44e6, ceiling: { 1: 40 } } }, peak: { 1: 100 } };
  if (flopsLib) {
    const f = flops.workloads['wordlm-8k-train'];
    assert.equal(f.flops_per_token, 3 * 2 * (2 * 4 * 200 * 400) + 3 * 2 * 200 * 8000);
    // (2·2·700·200·800 + 2·35·2·20·200·800) flops at 50 and 25 GFLOP/s, + 2·700·200·8000 at 50
    const stack = 2 * 2 * 700 * 200 * 800;
    const rec = 2 * 35 * 2 * 20 * 200 * 800;
    const head = 2 * 700 * 200 * 8000;
    assert.ok(Math.abs(f.ceiling['1'] - (stack + rec + head) / (stack / 50 + rec / 25 + head / 50)) < 1e-9);
    assert.equal(flops.workloads['wordlm-33k-train'].ceiling['1'], undefined); // its head shape was not timed
  } else {
    process.stdout.write('bench selftest: (no python or peers\' flops.py here: the flop table of the word-level LMs is not checked)\n');
  }
  const mdw = markdown(wl, flops);
  assert.match(mdw, /\| wordlm-8k-train \| 1 \| rnnkit-native \| 5,000 tokens\/s \| pytorch-cpu \| 4,000 tokens\/s \| \*\*1\.25×\*\* \| - \|/);
  assert.match(mdw, /\| wordlm-8k-train \| rnnkit-native \| 1 \| 5,000 \| 140\.000 \| 67\.20 \| [0-9.]+% \| 67\.2% \|/);
}
// torch_wordlm_row.py turns torch_wordlm.py's dict (a Python repr) into one JSON row: here
// with a stand-in torch_wordlm.py that prints what the real one prints (no torch needed).
if (fs.existsSync(PYTHON)) {
  const fake = path.join(tmp, 'peers');
  fs.mkdirSync(path.join(fake, 'wordlm'), { recursive: true });
  fs.writeFileSync(path.join(fake, 'wordlm', 'torch_wordlm.py'), [
    'import argparse, os',
    'p = argparse.ArgumentParser()',
    "for k in ('threads', 'vocab', 'emb', 'hidden', 'layers', 'batch', 'bptt'): p.add_argument('--' + k, type=int)",
    "p.add_argument('--seconds', type=float)",
    'a = p.parse_args()',
    "assert os.environ['OMP_NUM_THREADS'] == str(a.threads) and a.bptt == 35 and a.seconds == 0.5",
    "print({'peer': 'pytorch', 'threads': a.threads, 'vocab': a.vocab, 'tokens_per_s': 3871, 'ms_per_step': 180.82, 'steps': 7})",
  ].join('\n'));
  const w8 = loadWorkloads({ sharedFile }).find((w) => w.id === 'wordlm-8k-train');
  const [cmd, args, env] = RUNNERS['pytorch-cpu'].cmd(w8, 2, 0.5);
  args[1] = fake; // the peers directory
  const r = spawnSync(cmd, args.map(String), { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    peer: 'pytorch-cpu', workload: 'wordlm-8k-train', threads: 2, tokens_per_s: 3871, ms_per_iter: 180.82, iters: 7, calls_per_rep: 1,
    script: 'peers/wordlm/torch_wordlm.py',
  });
  const refused = spawnSync(cmd, [...args.map(String), '--clip', '0.5'], { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /torch_wordlm\.py uses dropout 0\.2 and clip 0\.25; the workload asks for dropout 0\.2 and clip 0\.5/);
}
fs.rmSync(tmp, { recursive: true, force: true });

// Threads: rnnkit-wasm and ort-web run at every --threads (tfjs-wasm at 1); ort-web's row is
// refused when onnxruntime-web kept fewer threads than asked.
{
  for (const name of ['rnnkit-wasm', 'ort-web']) assert.ok(runsAt(RUNNERS[name], 1) && runsAt(RUNNERS[name], 2), `${name} runs at 1 and 2 threads`);
  assert.ok(!runsAt(RUNNERS['tfjs-wasm'], 2));
  const w = { id: 'lstm-infer-b1' };
  const [, args, env] = workerCmd('wasm', w, 2, 0.3);
  assert.equal(env.RNNKIT_THREADS, '2');
  assert.equal(args[args.indexOf('--threads') + 1], 2);
  const ortArgs = RUNNERS['ort-web'].cmd(w, 2, 0.3)[1];
  assert.deepEqual([ortArgs[ortArgs.indexOf('--runtime') + 1], ortArgs[ortArgs.indexOf('--threads') + 1]], ['web', 2]);
  assert.equal(RUNNERS['ort-web'].verify({ wasm_numThreads_effective: 2 }, 2), null);
  assert.match(RUNNERS['ort-web'].verify({ wasm_numThreads_effective: 1 }, 2), /numThreads = 1, not 2/);
  // The worker refuses a wasm build that cannot give the thread count asked for (simd128 stays at 1).
  // It reads the peers' lib/timing.js from bench/.peers, which run.mjs copies: a fresh clone has none.
  if (!fs.existsSync(path.join(PEERS_COPY, 'lib', 'timing.js'))) copyPeers();
  const r = spawnSync(process.execPath, [args[0], '--backend', 'wasm', '--threads', '2', '--probe'],
    { env: { ...process.env, RNNKIT_THREADS: '2', RNNKIT_WASM_VARIANT: 'simd128' }, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(JSON.parse(r.stdout.trim().split('\n').pop()).error, /asked for 2 thread\(s\) but backend\.info\(\)\.threads reports 1/);
}

// Best thread count of each side, speed-ups, and the targets (✔ met, ✘ missed, – not measured).
{
  const row = (peer, workload, threads, rate, round_rates) => ({ peer, workload, threads, tokens_per_s: rate, ms_per_iter: 1, iters: 5, ...(round_rates ? { round_rates } : {}) });
  const rows = [
    row('rnnkit-wasm', 'lstm-infer-b64', 1, 1000, [1000, 900, 1100]),
    row('rnnkit-wasm', 'lstm-infer-b64', 2, 1700, [1700, 1800, 1600]),
    row('ort-web', 'lstm-infer-b64', 1, 800, [800, 800, 800]),
    row('ort-web', 'lstm-infer-b64', 2, 1500, [1500, 1400, 1500]),
    row('rnnkit-wasm', 'lstm-infer-b1', 1, 30000),
    row('rnnkit-wasm', 'lstm-infer-b1', 2, 20000),
    row('ort-web', 'lstm-infer-b1', 1, 26000),
    { peer: 'ort-web', workload: 'lstm-infer-b1', threads: 2, skipped: 'fell back' },
    row('rnnkit-wasm', 'lstm-train-large', 1, 100),
  ];
  const b = bestRatio(rows, 'rnnkit-wasm', 'ort-web', 'lstm-infer-b64');
  assert.deepEqual([b.a.threads, b.b.threads], [2, 2]);
  assert.equal(b.ratio, 1700 / 1500);
  assert.equal(b.pairs, roundPairsRatio([1700, 1800, 1600], [1500, 1400, 1500]));
  const b1 = bestRatio(rows, 'rnnkit-wasm', 'ort-web', 'lstm-infer-b1'); // each side's best, not the same thread count
  assert.deepEqual([b1.a.threads, b1.b.threads, b1.ratio], [1, 1, 30000 / 26000]);
  assert.equal(bestRatio(rows, 'rnnkit-wasm', 'ort-web', 'lstm-step'), null);
  assert.equal(speedup(rows, 'rnnkit-wasm', 'lstm-infer-b64', 1, 2).ratio, 1.7);
  assert.equal(speedup(rows, 'rnnkit-wasm', 'lstm-infer-b64', 1, 2).pairs, 1.7); // pairs 1.7, 2.0, 1.4545…
  assert.equal(speedup(rows, 'ort-web', 'lstm-infer-b1', 1, 2), null); // a skipped row is no figure
  assert.equal(speedup(rows, 'rnnkit-wasm', 'lstm-train-large', 1, 2), null);
  assert.deepEqual(TARGETS.map((g) => [g.kind, g.workload, g.goal]), [
    ['best', 'lstm-infer-b64', 1.2], ['best', 'lstm-infer-b1', 1.2], ['speedup', 'lstm-train-large', 1.6], ['speedup', 'lstm-infer-b64', 1.6],
  ]);
  const lines = targetLines(rows, TARGETS, 'Node');
  assert.match(lines[0], /^✘ lstm-infer-b64 \(Node\): rnnkit-wasm at its best thread count ÷ ort-web at its best = 1\.13× \(goal ≥ 1\.2×; 1,700 tokens\/s at 2T vs 1,500 at 2T; round pairs 1\.13×\)$/);
  assert.match(lines[1], /^✘ lstm-infer-b1 \(Node\): .* = 1\.15× /);
  assert.match(lines[2], /^– lstm-train-large \(Node\): rnnkit-wasm 2 threads ÷ 1 thread ≥ 1\.6×: not measured here/);
  assert.match(lines[3], /^✔ lstm-infer-b64 \(Node\): rnnkit-wasm 2 threads ÷ 1 thread = 1\.70× \(goal ≥ 1\.6×; 1,700 vs 1,000 tokens\/s; round pairs 1\.70×\)$/);
  const mdt = markdown(rows, null);
  assert.match(mdt, /\| lstm-infer-b64 \| 2 \| rnnkit-wasm \| 1,700 tokens\/s \| ort-web \| 1,500 tokens\/s \| \*\*1\.13×\*\* \| 1\.13× \|/);
  assert.match(mdt, /## Best thread count of each side[^]*\| lstm-infer-b1 \| rnnkit-wasm \| 30,000 tokens\/s at 1T \| ort-web \| 26,000 tokens\/s at 1T \| \*\*1\.15×\*\* \| - \|/);
  assert.match(mdt, /## Speed-up over 1 thread[^]*\| lstm-infer-b64 \| ort-web \| 800 \| 1,500 tokens\/s at 2T \| \*\*1\.88×\*\* \| 1\.88× \|/);
  assert.match(mdt, /## Targets \(issue #16\)\n\n- ✘ lstm-infer-b64 \(Node\)[^]*- ✔ lstm-infer-b64 \(Node\): rnnkit-wasm 2 threads/);
}

process.stdout.write('bench selftest: ok\n');
