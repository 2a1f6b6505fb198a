#!/usr/bin/env node
/**
 * rnnkit's browser entry against onnxruntime-web inside headless Chromium: the inference
 * workloads with a model exported for onnxruntime (lstm-infer-b1, lstm-infer-b64), both on
 * WebAssembly with one thread. rnnkit runs on each module variant asked (--variant: by
 * default both, rnnkit-relaxed.wasm and rnnkit.wasm, each in its own page — a page loads one
 * module; onnxruntime-web runs in the first). The runners alternate round by round
 * (A B C A B C ...); a round times `calls` back-to-back forwards (~0.25 s) and the first two
 * rounds are warm-up (V8 compiles hot wasm functions with its optimising tier in the background).
 * Reported per runner: the median round and the fastest round; per rnnkit variant, the ratio
 * of the medians and the median of each round's rnnkit/ort-web pair.
 *
 * Checked before timing: rnnkit's output on a short input against the reference backend
 * (in Node, same seeded weights), and onnxruntime-web's against the PyTorch output
 * exported with its model (ref.json), as bench/.peers/ort/bench.js does in Node.
 *
 *   node bench/browser.mjs [--workloads lstm-infer-b1,lstm-infer-b64] [--rounds 15] [--no-build]
 *                          [--variant both|relaxed|simd128|auto]
 *
 * Needs: npm run build:wasm; Chromium (/usr/bin/chromium or CHROMIUM_PATH); the bench's
 * packages and the ONNX models, which `node bench/run.mjs --peers ort-web` sets up.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR, BENCH_NODE_MODULES, DIST_BACKEND_DIR, PEERS_COPY, REPO_DIR } from './lib/paths.mjs';
import { normal, rng, seedOf, uniform } from './lib/random.mjs';
import { CHECK_TOL } from './lib/rnnkit-workloads.mjs';
import { serveStatic } from '../scripts/static-server.mjs';

// The ONNX model of each workload (bench/.peers/ort/make_models.py).
const MODELS = { 'lstm-infer-b1': 'lstm_l1_i128_h256', 'lstm-infer-b64': 'lstm_l2_i128_h512' };
const CHECK_STEPS = 8;
const ROUND_S = 0.25;
const WARMUP_ROUNDS = 2;

const VARIANTS = { both: ['relaxed', 'simd128'], relaxed: ['relaxed'], simd128: ['simd128'], auto: [undefined] };

function options(argv) {
  const o = { workloads: Object.keys(MODELS), rounds: 15, build: true, variants: VARIANTS.both };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-build') o.build = false;
    else if (a === '--variant') {
      const v = String(argv[++i] ?? '');
      if (!VARIANTS[v]) throw new RangeError(`--variant: expected one of ${Object.keys(VARIANTS).join(', ')}, got ${JSON.stringify(v)}`);
      o.variants = VARIANTS[v];
    }
    else if (a === '--workloads') {
      o.workloads = String(argv[++i] ?? '').split(',').filter(Boolean);
      for (const id of o.workloads) {
        if (!MODELS[id]) throw new RangeError(`--workloads: ${JSON.stringify(id)} has no onnxruntime model; expected some of ${Object.keys(MODELS).join(', ')}`);
      }
    } else if (a === '--rounds') {
      o.rounds = Number(argv[++i]);
      if (!Number.isInteger(o.rounds) || o.rounds < WARMUP_ROUNDS + 1) throw new RangeError(`--rounds: expected an integer >= ${WARMUP_ROUNDS + 1}, got ${argv[i]}`);
    } else throw new RangeError(`unknown option ${JSON.stringify(a)}; see the comment at the top of bench/browser.mjs`);
  }
  return o;
}

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

/** The runner name of an rnnkit variant (undefined: the one the loader picks). */
const runnerOf = (variant) => (variant ? `rnnkit-${variant}` : 'rnnkit');

async function benchWorkload(pages, w, rounds) {
  // pages: [{ variant, page }], onnxruntime-web in the first.
  const setups = [];
  for (const [k, { variant, page }] of pages.entries()) {
    setups.push(await page.evaluate(async ([w, checkT, v, withOrt]) => (await import('/browser/page.mjs')).setup(w, checkT, v, withOrt), [w, CHECK_STEPS, variant, k === 0]));
  }
  const rnnkitErr = [];
  for (const s of setups) rnnkitErr.push(await referenceCheck(w, s.rnnkit.y));
  const ortSetup = setups[0].ortWeb;
  if (!(ortSetup.maxAbsErrVsPyTorch <= CHECK_TOL)) {
    throw new Error(`${w.id}: onnxruntime-web differs from PyTorch's exported output by ${ortSetup.maxAbsErrVsPyTorch}; not timed`);
  }
  // runner name → [page, the page's runner]
  const where = { 'ort-web': [pages[0].page, 'ort-web'] };
  for (const { variant, page } of pages) where[runnerOf(variant)] = [page, 'rnnkit'];
  const time = (name, calls) => {
    const [page, runner] = where[name];
    return page.evaluate(async ([n, c]) => (await import('/browser/page.mjs')).time(n, c), [runner, calls]);
  };
  const names = [...pages.map((p) => runnerOf(p.variant)), 'ort-web'];
  const calls = {};
  for (const n of names) {
    await time(n, 3); // the first calls run before the optimising tier has the hot functions
    calls[n] = Math.max(1, Math.round(ROUND_S / (await time(n, 3))));
  }
  const perRound = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (const n of names) {
      const s = await time(n, calls[n]);
      if (r >= WARMUP_ROUNDS) perRound[n].push(s);
    }
  }
  const rate = (s) => (w.T * w.B) / s;
  const ort = perRound['ort-web'];
  const rnnkit = pages.map(({ variant }, k) => {
    const name = runnerOf(variant);
    const mine = perRound[name];
    return {
      runner: name,
      tokensPerS: rate(median(mine)),
      best: rate(Math.min(...mine)),
      calls: calls[name],
      maxAbsErrVsReference: rnnkitErr[k],
      ...setups[k].rnnkit,
      y: undefined,
      ratio: median(ort) / median(mine),
      pairedRatio: median(mine.map((s, i) => ort[i] / s)),
    };
  });
  return {
    workload: w.id,
    rnnkit,
    ortWeb: { tokensPerS: rate(median(ort)), best: rate(Math.min(...ort)), calls: calls['ort-web'], ...ortSetup },
    userAgent: setups[0].userAgent,
  };
}

async function main() {
  const o = options(process.argv);
  if (o.build) {
    const tsc = spawnSync(process.execPath, [path.join(REPO_DIR, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO_DIR, stdio: 'inherit' });
    if (tsc.status !== 0) throw new Error('tsc failed');
  }
  const required = {
    'wasm/dist/rnnkit.wasm (npm run build:wasm)': path.join(REPO_DIR, 'wasm/dist/rnnkit.wasm'),
    ...(o.variants.includes('relaxed') ? { 'wasm/dist/rnnkit-relaxed.wasm (npm run build:wasm, with clang-16)': path.join(REPO_DIR, 'wasm/dist/rnnkit-relaxed.wasm') } : {}),
    'onnxruntime-web (node bench/run.mjs --peers ort-web installs it)': path.join(BENCH_NODE_MODULES, 'onnxruntime-web/dist/ort.wasm.min.mjs'),
  };
  for (const id of o.workloads) required[`the ${MODELS[id]} model (node bench/run.mjs --peers ort-web exports it)`] = path.join(PEERS_COPY, 'models', `${MODELS[id]}.onnx`);
  for (const [what, file] of Object.entries(required)) if (!existsSync(file)) throw new Error(`missing ${what}: ${file}`);

  const timing = createRequire(import.meta.url)(path.join(PEERS_COPY, 'lib', 'timing.js'));
  const workloads = timing.loadWorkloads(o.workloads).map((w) => ({ ...w, model: MODELS[w.id] }));
  const { chromium } = createRequire(path.join(REPO_DIR, 'package.json'))('playwright-core');
  const server = await serveStatic({
    '/dist/': path.join(REPO_DIR, 'dist'),
    '/wasm/dist/': path.join(REPO_DIR, 'wasm/dist'),
    '/ort/': path.join(BENCH_NODE_MODULES, 'onnxruntime-web/dist'),
    '/models/': path.join(PEERS_COPY, 'models'),
    '/bench-lib/': path.join(BENCH_DIR, 'lib'),
    '/browser/': path.join(BENCH_DIR, 'browser'),
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const rows = [];
    for (const w of workloads) {
      // A fresh page (and wasm instances) per workload and variant.
      const errors = [];
      const pages = [];
      for (const variant of o.variants) {
        const page = await browser.newPage();
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(`${server.url}/browser/index.html`);
        pages.push({ variant, page });
      }
      try {
        rows.push(await benchWorkload(pages, w, o.rounds));
      } catch (e) {
        throw new Error(`${e.message}${errors.length ? `\npage errors: ${errors.join('\n')}` : ''}`);
      }
      for (const { page } of pages) await page.close();
      const r = rows.at(-1);
      console.log(JSON.stringify(r));
    }
    const fmt = (x) => Math.round(x).toLocaleString('en-US');
    console.log(`\n${rows[0]?.userAgent ?? ''}; ${o.rounds - WARMUP_ROUNDS} timed rounds each (after ${WARMUP_ROUNDS} warm-up), alternating\n`);
    console.log('| workload | rnnkit (isa) | rnnkit (median round) | best round | ort-web (median round) | best round | ratio of medians | median of round pairs |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      for (const k of r.rnnkit) {
        console.log(`| ${r.workload} | ${k.isa} | ${fmt(k.tokensPerS)} tokens/s | ${fmt(k.best)} | ${fmt(r.ortWeb.tokensPerS)} tokens/s | ${fmt(r.ortWeb.best)} | **${k.ratio.toFixed(2)}×** | ${k.pairedRatio.toFixed(2)}× |`);
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
