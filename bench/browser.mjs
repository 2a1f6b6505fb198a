#!/usr/bin/env node
/**
 * rnnkit's browser entry against onnxruntime-web inside headless Chromium, on the inference
 * workloads with a model exported for onnxruntime (lstm-infer-b1, lstm-infer-b64), both on
 * WebAssembly, at 1 and 2 threads; and rnnkit alone on the workloads onnxruntime has no model
 * for (lstm-train-large: whole training windows), for its own 2-thread speed-up. The pages are served cross-origin isolated
 * (COOP: same-origin, COEP: require-corp: scripts/static-server.mjs with { isolated: true }), so that
 * SharedArrayBuffer exists and both libraries' threaded builds run; a page that is not
 * isolated stops the run.
 *
 * Runners, each in its own page of one browser (a page loads its wasm once, thread count fixed):
 *   rnnkit-wasm           rnnkit-threads-relaxed.wasm (init({ variant: 'threads-relaxed' })) at every
 *                         --threads: what "auto" loads on a cross-origin-isolated Chromium page
 *   rnnkit-wasm-threads   rnnkit-threads.wasm (simd128, no FMA) at every --threads
 *   rnnkit-wasm-relaxed   rnnkit-relaxed.wasm, 1 thread      } the single-thread builds, as a
 *   rnnkit-wasm-simd128   rnnkit.wasm, 1 thread               } page without isolation gets them
 *   ort-web               onnxruntime-web (env.wasm.numThreads) at every --threads
 * They alternate round by round (A1 B1 A2 B2 C D A1 ...); a round times `calls` back-to-back
 * forwards (~0.25 s) and the first two rounds are warm-up (V8 compiles hot wasm functions with
 * its optimising tier in the background). Reported per runner: the median round and the
 * fastest round; rnnkit ÷ ort-web at the same thread count (the single-thread builds against
 * ort-web at 1 thread), each side at its best thread count, 2-thread ÷ 1-thread speed-ups, and
 * the targets of issue #16 (bench/lib/report.mjs TARGETS) with ✔/✘; each as the ratio of the
 * median rounds and the median of the per-round pairs.
 *
 * Checked before timing: each rnnkit page's thread count (backendInfo().threads) and output
 * on a short input against the reference backend (in Node, same seeded weights; a workload
 * without an onnxruntime model runs bench/lib/rnnkit-workloads.mjs's builder and check in the
 * page, the reference backend beside it, as bench/run.mjs does in Node);
 * onnxruntime-web's thread count (it falls back to 1 where it cannot start threads) and
 * output against the PyTorch output exported with its model (ref.json), as
 * bench/.peers/ort/bench.js does in Node.
 *
 *   node bench/browser.mjs [--workloads lstm-infer-b1,lstm-infer-b64,lstm-train-large] [--rounds 15] [--threads 1,2]
 *                          [--variant all|threads-relaxed|threads|relaxed|simd128|both|auto|a,b] [--no-build]
 *
 * Needs: npm run build:wasm; Chromium (/usr/bin/chromium or CHROMIUM_PATH); the bench's
 * packages and the ONNX models, which `node bench/run.mjs --peers ort-web` sets up.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR, BENCH_NODE_MODULES, DIST_BACKEND_DIR, PEERS_COPY, REPO_DIR } from './lib/paths.mjs';
import { normal, rng, seedOf, uniform } from './lib/random.mjs';
import { CHECK_TOL } from './lib/rnnkit-workloads.mjs';
import { serveStatic } from '../scripts/static-server.mjs';
import { bestRatio, roundPairsRatio, speedup, TARGETS, targetLines } from './lib/report.mjs';
import { BUILDERS } from './lib/rnnkit-workloads.mjs';

// The ONNX model of each workload (bench/.peers/ort/make_models.py); other workloads run rnnkit alone.
const MODELS = { 'lstm-infer-b1': 'lstm_l1_i128_h256', 'lstm-infer-b64': 'lstm_l2_i128_h512' };
const DEFAULT_WORKLOADS = [...Object.keys(MODELS), 'lstm-train-large'];
const CHECK_STEPS = 8;
const ROUND_S = 0.25;
const WARMUP_ROUNDS = 2;

// --variant: rnnkit's module(s). The threaded ones run at every --threads, the others at 1
// thread ("auto": whatever the loader picks, at its default thread count). The first threaded
// one listed is the runner "rnnkit-wasm" (the target lines' rnnkit side): by default
// threads-relaxed, what "auto" loads on a cross-origin-isolated Chromium page.
const VARIANT_SETS = { all: ['threads-relaxed', 'threads', 'relaxed', 'simd128'], both: ['relaxed', 'simd128'] };
const VARIANTS = ['threads-relaxed', 'threads', 'relaxed', 'simd128', 'auto'];
const THREADED = ['threads-relaxed', 'threads'];
const WASM_FILES = {
  'threads-relaxed': 'rnnkit-threads-relaxed.wasm',
  threads: 'rnnkit-threads.wasm',
  relaxed: 'rnnkit-relaxed.wasm',
  simd128: 'rnnkit.wasm',
};

function options(argv) {
  const o = { workloads: DEFAULT_WORKLOADS, rounds: 15, build: true, variants: VARIANT_SETS.all, threads: [...new Set([1, Math.max(2, os.availableParallelism())])] };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-build') o.build = false;
    else if (a === '--variant') {
      const v = String(argv[++i] ?? '');
      o.variants = [...new Set(v.split(',').flatMap((x) => VARIANT_SETS[x] ?? [x]))];
      const bad = o.variants.find((x) => !VARIANTS.includes(x));
      if (bad !== undefined || !o.variants.length) {
        throw new RangeError(`--variant: expected ${[...Object.keys(VARIANT_SETS), ...VARIANTS].join(', ')} or a comma-separated list, got ${JSON.stringify(v)}`);
      }
    } else if (a === '--threads') {
      o.threads = [...new Set(String(argv[++i] ?? '').split(',').filter(Boolean).map(Number))].sort((x, y) => x - y);
      if (!o.threads.length || o.threads.some((t) => !Number.isInteger(t) || t < 1)) throw new RangeError(`--threads: expected positive integers, got ${argv[i]}`);
    } else if (a === '--workloads') {
      o.workloads = String(argv[++i] ?? '').split(',').filter(Boolean); // checked against the workload list in main
    } else if (a === '--rounds') {
      o.rounds = Number(argv[++i]);
      if (!Number.isInteger(o.rounds) || o.rounds < WARMUP_ROUNDS + 1) throw new RangeError(`--rounds: expected an integer >= ${WARMUP_ROUNDS + 1}, got ${argv[i]}`);
    } else throw new RangeError(`unknown option ${JSON.stringify(a)}; see the comment at the top of bench/browser.mjs`);
  }
  return o;
}

/**
 * The runners of workload `w`, in their order within a round: at each thread count rnnkit then
 * ort-web, then the single-thread builds; without an onnxruntime model, the threaded builds alone.
 */
function runnersOf(o, w) {
  const list = [];
  const threaded = o.variants.filter((x) => THREADED.includes(x));
  for (const t of o.threads) {
    threaded.forEach((v, k) => list.push({ name: k === 0 ? 'rnnkit-wasm' : `rnnkit-wasm-${v}`, kind: 'rnnkit', variant: v, threads: t }));
    if (w.model) list.push({ name: 'ort-web', kind: 'ort', threads: t });
  }
  if (!w.model) return list;
  for (const v of o.variants.filter((x) => !THREADED.includes(x))) {
    list.push({ name: `rnnkit-wasm-${v}`, kind: 'rnnkit', variant: v === 'auto' ? undefined : v, threads: v === 'auto' ? undefined : 1 });
  }
  return list;
}

const label = (r) => `${r.name}${r.threads === undefined ? '' : ` @${r.threads}T`}`;

/** rnnkit's reference backend on the page's check input: the same draws, in the same order. */
async function referenceCheck(w, gotY) {
  const { loadBackend } = await import(pathToFileURL(path.join(DIST_BACKEND_DIR, 'load.js')).href);
  const { paramLayout } = await import(pathToFileURL(path.join(DIST_BACKEND_DIR, 'layout.js')).href);
  const ref = await loadBackend('reference');
  const spec = { cell: w.cell, inputSize: w.I, hiddenSize: w.H, outputSize: w.H, layers: w.layers, bidirectional: false };
  const rand = rng(seedOf(w.id));
  const params = uniform(rand, paramLayout(spec).total, 1 / Math.sqrt(w.H));
  normal(rand, w.T * w.B * w.I); // the timed input, drawn before the check input
  const checkX = normal(rand, CHECK_STEPS * w.B * w.I);
  const stack = ref.createStack(spec);
  ref.setParams(stack, params);
  const want = (await ref.forward(stack, { x: checkX, steps: CHECK_STEPS, batch: w.B })).y;
  ref.dispose(stack);
  let err = 0;
  let scale = 1;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(gotY[i] - want[i]);
    if (!(d <= err)) err = Number.isNaN(d) ? Infinity : d;
    scale = Math.max(scale, Math.abs(want[i]));
  }
  if (gotY.length !== want.length || !(err <= CHECK_TOL * scale)) {
    throw new Error(`${w.id}: rnnkit in Chromium differs from the reference backend: max |y − reference| = ${err} (${gotY.length} vs ${want.length} values); not timed`);
  }
  return err;
}

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

async function benchWorkload(runners, w, rounds) {
  // runners: [{ name, kind, variant, threads, page }], one page each.
  for (const r of runners) {
    if (r.kind === 'rnnkit' && !w.model) {
      r.setup = await r.page.evaluate(async ([w, v, t]) => (await import('/browser/page.mjs')).setupRnnkitOnly(w, v, t), [w, r.variant, r.threads]);
    } else if (r.kind === 'rnnkit') {
      const s = await r.page.evaluate(async ([w, checkT, v, t]) => (await import('/browser/page.mjs')).setupRnnkit(w, checkT, v, t), [w, CHECK_STEPS, r.variant, r.threads]);
      r.setup = { ...s, y: undefined, maxAbsErrVsReference: await referenceCheck(w, s.y) };
    } else {
      const s = await r.page.evaluate(async ([w, t]) => (await import('/browser/page.mjs')).setupOrt(w, t), [w, r.threads]);
      if (s.numThreads !== r.threads) throw new Error(`${w.id}: onnxruntime-web kept env.wasm.numThreads = ${s.numThreads}, not ${r.threads}: its threads did not start`);
      if (!(s.maxAbsErrVsPyTorch <= CHECK_TOL)) throw new Error(`${w.id}: onnxruntime-web differs from PyTorch's exported output by ${s.maxAbsErrVsPyTorch}; not timed`);
      r.setup = s;
    }
  }
  const time = (r, calls) => r.page.evaluate(async (c) => (await import('/browser/page.mjs')).time(c), calls);
  for (const r of runners) {
    await time(r, 3); // the first calls run before the optimising tier has the hot functions
    r.calls = Math.max(1, Math.round(ROUND_S / (await time(r, 3))));
    r.seconds = [];
  }
  for (let k = 0; k < rounds; k++) {
    for (const r of runners) {
      const s = await time(r, r.calls);
      if (k >= WARMUP_ROUNDS) r.seconds.push(s);
    }
  }
  const rate = (s) => (w.T * w.B) / s;
  // Rows in bench/run.mjs's format, so report.mjs's ratio and target logic applies unchanged.
  return runners.map((r) => ({
    peer: r.name,
    workload: w.id,
    threads: r.threads ?? r.setup.threads,
    tokens_per_s: rate(median(r.seconds)),
    best_tokens_per_s: rate(Math.min(...r.seconds)),
    round_rates: r.seconds.map(rate),
    calls_per_round: r.calls,
    ...(r.kind === 'rnnkit' ? { variant: r.variant ?? 'auto' } : {}),
    ...r.setup,
  }));
}

const fmt = (x) => Math.round(x).toLocaleString('en-US');
const x2 = (v) => `${v.toFixed(2)}×`;

function printTables(rows, o, env) {
  const workloads = [...new Set(rows.map((r) => r.workload))];
  console.log(`\n${env.userAgent}; hardwareConcurrency ${env.hardwareConcurrency}; crossOriginIsolated ${env.crossOriginIsolated}; ` +
    `${o.rounds - WARMUP_ROUNDS} timed rounds each (after ${WARMUP_ROUNDS} warm-up), alternating\n`);
  console.log('| workload | runner | threads | build | median round | best round | runs on |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const what = r.version ? `onnxruntime-web ${r.version}` : `${r.isa}, ${r.variant}${r.threadsSetBy !== 'default' ? `, threads by ${r.threadsSetBy}` : ''}`;
    console.log(`| ${r.workload} | ${r.peer} | ${r.threads} | ${what} | ${fmt(r.tokens_per_s)} tokens/s | ${fmt(r.best_tokens_per_s)} | ${r.runsOn ?? '-'} |`);
  }
  console.log('\n**rnnkit ÷ onnxruntime-web at the same thread count** (> 1: rnnkit is faster)\n');
  console.log('| workload | rnnkit | threads | rnnkit (median round) | ort-web (median round) | ratio of medians | median of round pairs |');
  console.log('|---|---|---|---|---|---|---|');
  for (const w of workloads) {
    for (const a of rows.filter((r) => r.workload === w && r.peer.startsWith('rnnkit'))) {
      const b = rows.find((r) => r.workload === w && r.peer === 'ort-web' && r.threads === a.threads);
      if (!b) continue;
      const pairs = roundPairsRatio(a.round_rates, b.round_rates);
      console.log(`| ${w} | ${a.peer} | ${a.threads} | ${fmt(a.tokens_per_s)} tokens/s | ${fmt(b.tokens_per_s)} tokens/s | **${x2(a.tokens_per_s / b.tokens_per_s)}** | ${pairs === null ? '-' : x2(pairs)} |`);
    }
  }
  console.log('\n**Best thread count of each side, and speed-ups over 1 thread**\n');
  console.log('| workload | what | figures | ratio of medians | median of round pairs |');
  console.log('|---|---|---|---|---|');
  // "rnnkit (any build)": the fastest of every rnnkit runner, single-thread builds included.
  const anyBuild = rows.map((r) => (r.peer.startsWith('rnnkit') ? { ...r, peer: 'rnnkit (any build)' } : r));
  for (const w of workloads) {
    for (const [rs, ours] of [[rows, 'rnnkit-wasm'], [anyBuild, 'rnnkit (any build)']]) {
      const v = bestRatio(rs, ours, 'ort-web', w);
      if (v) {
        const who = ours === 'rnnkit-wasm' ? `rnnkit-wasm (${v.a.variant})` : `${ours}: ${v.a.variant}`;
        console.log(`| ${w} | ${who} at its best ÷ ort-web at its best | ${fmt(v.a.tokens_per_s)} at ${v.a.threads}T vs ${fmt(v.b.tokens_per_s)} at ${v.b.threads}T | **${x2(v.ratio)}** | ${v.pairs === null ? '-' : x2(v.pairs)} |`);
      }
    }
    for (const peer of ['rnnkit-wasm', 'ort-web']) {
      for (const t of o.threads.filter((n) => n > 1)) {
        const v = speedup(rows, peer, w, 1, t);
        if (v) console.log(`| ${w} | ${peer} ${t} threads ÷ 1 thread | ${fmt(v.a.tokens_per_s)} vs ${fmt(v.b.tokens_per_s)} | **${x2(v.ratio)}** | ${v.pairs === null ? '-' : x2(v.pairs)} |`);
      }
    }
  }
  console.log('\n**Targets (issue #16)**\n');
  for (const line of targetLines(rows, TARGETS.filter((g) => workloads.includes(g.workload)), 'Chromium')) console.log(`- ${line}`);
}

async function main() {
  const o = options(process.argv);
  if (o.build) {
    const tsc = spawnSync(process.execPath, [path.join(REPO_DIR, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO_DIR, stdio: 'inherit' });
    if (tsc.status !== 0) throw new Error('tsc failed');
  }
  const required = {
    'onnxruntime-web (node bench/run.mjs --peers ort-web installs it)': path.join(BENCH_NODE_MODULES, 'onnxruntime-web/dist/ort.wasm.min.mjs'),
  };
  for (const v of o.variants.filter((x) => WASM_FILES[x])) required[`wasm/dist/${WASM_FILES[v]} (npm run build:wasm)`] = path.join(REPO_DIR, 'wasm/dist', WASM_FILES[v]);
  for (const id of o.workloads.filter((x) => MODELS[x])) required[`the ${MODELS[id]} model (node bench/run.mjs --peers ort-web exports it)`] = path.join(PEERS_COPY, 'models', `${MODELS[id]}.onnx`);
  for (const [what, file] of Object.entries(required)) if (!existsSync(file)) throw new Error(`missing ${what}: ${file}`);

  const timing = createRequire(import.meta.url)(path.join(PEERS_COPY, 'lib', 'timing.js'));
  const known = new Map(timing.loadWorkloads().map((w) => [w.id, w]));
  for (const id of o.workloads) {
    if (!known.has(id)) throw new RangeError(`--workloads: unknown workload ${JSON.stringify(id)}; expected some of ${[...known.keys()].join(', ')}`);
    if (!MODELS[id] && !BUILDERS[known.get(id).mode]) throw new RangeError(`--workloads: ${JSON.stringify(id)} has neither an onnxruntime model nor an rnnkit builder`);
  }
  const workloads = o.workloads.map((id) => ({ ...known.get(id), model: MODELS[id] }));
  const { chromium } = createRequire(path.join(REPO_DIR, 'package.json'))('playwright-core');
  // { isolated: true }: COOP same-origin + COEP require-corp on every response.
  const server = await serveStatic({
    '/dist/': path.join(REPO_DIR, 'dist'),
    '/wasm/dist/': path.join(REPO_DIR, 'wasm/dist'),
    '/ort/': path.join(BENCH_NODE_MODULES, 'onnxruntime-web/dist'),
    '/models/': path.join(PEERS_COPY, 'models'),
    '/bench-lib/': path.join(BENCH_DIR, 'lib'),
    '/browser/': path.join(BENCH_DIR, 'browser'),
  }, { isolated: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const rows = [];
    let env = null;
    for (const w of workloads) {
      // A fresh page (and wasm instances, thread pools) per workload and runner.
      const errors = [];
      const runners = runnersOf(o, w);
      for (const r of runners) {
        r.page = await browser.newPage();
        r.page.on('pageerror', (e) => errors.push(`${label(r)}: ${e}`));
        r.page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`${label(r)} console.${m.type()}: ${m.text()}`); });
        await r.page.goto(`${server.url}/browser/index.html`);
        env = await r.page.evaluate(async () => (await import('/browser/page.mjs')).environment());
        if (!env.crossOriginIsolated || !env.sharedArrayBuffer) {
          throw new Error(`the bench page is not cross-origin isolated (crossOriginIsolated ${env.crossOriginIsolated}, SharedArrayBuffer ` +
            `${env.sharedArrayBuffer ? 'present' : 'missing'}): the threaded wasm builds cannot run; check the COOP/COEP headers scripts/static-server.mjs sends with { isolated: true }`);
        }
      }
      let got;
      try {
        got = await benchWorkload(runners, w, o.rounds);
      } catch (e) {
        throw new Error(`${e.message}${errors.length ? `\npage messages:\n  ${errors.join('\n  ')}` : ''}`);
      }
      for (const r of runners) await r.page.close();
      if (errors.length) process.stderr.write(`${w.id}: page messages:\n  ${errors.join('\n  ')}\n`);
      for (const row of got) console.log(JSON.stringify(row));
      rows.push(...got);
    }
    printTables(rows, o, env);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
