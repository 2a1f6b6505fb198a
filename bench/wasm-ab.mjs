#!/usr/bin/env node
/**
 * A/B of WebAssembly builds on one stack forward: every module is instantiated in ONE
 * process and the modules take turns, round after round, so the machine's drift (10-30%
 * within minutes here) hits them alike. For tuning the wasm kernels: build a variant, copy
 * wasm/dist/rnnkit.wasm aside, build the next, then compare the copies.
 *
 *   node --no-liftoff bench/wasm-ab.mjs before.wasm after.wasm [--cell lstm] [--input 128]
 *        [--hidden 256] [--batch 1] [--steps 256] [--rounds 30] [--calls 5]
 *
 * Prints per module the best and the median round (ms per forward, tokens/s), and the
 * largest difference of its output from the first module's (0 when a change keeps the
 * bits). The first three rounds are warm-up. --no-liftoff makes V8 compile every function
 * with its optimising tier at once; without it the first rounds run baseline code.
 * Needs `npm run build` (dist/).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST_BACKEND_DIR } from './lib/paths.mjs';
import { normal, rng, uniform } from './lib/random.mjs';

const WARMUP_ROUNDS = 3;
const NUMERIC = { input: 128, hidden: 256, batch: 1, steps: 256, rounds: 30, calls: 5 };

function options(argv) {
  const o = { cell: 'lstm', ...NUMERIC, files: [] };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      o.files.push(a);
      continue;
    }
    const name = a.slice(2);
    const value = argv[++i];
    if (name === 'cell') o.cell = value;
    else if (name in NUMERIC) {
      o[name] = Number(value);
      if (!Number.isInteger(o[name]) || o[name] < 1) throw new RangeError(`--${name}: expected a positive integer, got ${JSON.stringify(value)}`);
    } else throw new RangeError(`unknown option ${JSON.stringify(a)}; see the comment at the top of bench/wasm-ab.mjs`);
  }
  if (o.rounds <= WARMUP_ROUNDS) throw new RangeError(`--rounds: expected more than ${WARMUP_ROUNDS} (the warm-up rounds), got ${o.rounds}`);
  if (o.files.length === 0) throw new RangeError('expected one or more .wasm files to compare');
  return o;
}

async function main() {
  const o = options(process.argv);
  const { createWasmBackend } = await import(pathToFileURL(path.join(DIST_BACKEND_DIR, 'wasm', 'backend.js')).href);
  const { paramLayout } = await import(pathToFileURL(path.join(DIST_BACKEND_DIR, 'layout.js')).href);
  const spec = { cell: o.cell, inputSize: o.input, hiddenSize: o.hidden, outputSize: o.hidden, layers: 1, bidirectional: false };
  const rand = rng(1);
  const params = uniform(rand, paramLayout(spec).total, 1 / Math.sqrt(o.hidden));
  const x = normal(rand, o.steps * o.batch * o.input);
  const req = { x, steps: o.steps, batch: o.batch };

  const runs = [];
  for (const file of o.files) {
    const be = await createWasmBackend(readFileSync(file));
    const stack = be.createStack(spec);
    be.setParams(stack, params);
    runs.push({ file, be, stack, times: [], y: be.forwardSync(stack, req).y });
  }
  const first = runs[0].y;
  for (const r of runs) {
    r.maxDiff = r.y.length === first.length ? r.y.reduce((m, v, i) => Math.max(m, Math.abs(v - first[i])), 0) : Infinity;
  }
  for (let round = 0; round < o.rounds; round++) {
    for (const r of runs) {
      const t0 = performance.now();
      for (let i = 0; i < o.calls; i++) r.be.forwardSync(r.stack, req);
      if (round >= WARMUP_ROUNDS) r.times.push((performance.now() - t0) / o.calls);
    }
  }
  const tokens = o.steps * o.batch;
  const width = Math.max(...runs.map((r) => r.file.length));
  for (const r of runs) {
    const t = [...r.times].sort((a, b) => a - b);
    const best = t[0];
    const med = t[t.length >> 1];
    const rate = (ms) => Math.round((tokens / ms) * 1000).toLocaleString('en-US');
    console.log(
      `${r.file.padEnd(width)}  best ${best.toFixed(3)} ms (${rate(best)} tokens/s)  median ${med.toFixed(3)} ms (${rate(med)} tokens/s)  max |y - first| ${r.maxDiff}`,
    );
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
