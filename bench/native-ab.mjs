#!/usr/bin/env node
/**
 * A/B of native addon builds on one workload of the harness: every addon is loaded in ONE
 * process (each its own model, weights and data, built as bench/lib/rnnkit-workloads.mjs
 * builds them) and the addons take turns, round after round, so the machine's drift hits
 * them alike. For tuning the C++: copy build/Release/rnnkit.node aside, change and rebuild,
 * then compare the copies (an addon built in a git worktree of an older commit works too).
 *
 *   node bench/native-ab.mjs before.node after.node [--workload wordlm-8k-train]
 *        [--threads 1] [--rounds 10] [--calls 3]
 *
 * Prints per addon the best and the median round (ms per call of the workload's run()),
 * the ratio of medians to the first addon, and the per-round ratios of the first to the
 * last. Nothing is checked against the reference here (bench/run.mjs does that): an A/B is
 * for builds that the tests have already passed. Needs `npm run build` (dist/).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST_BACKEND_DIR } from './lib/paths.mjs';
import { rng, seedOf } from './lib/random.mjs';
import { BUILDERS } from './lib/rnnkit-workloads.mjs';
import { findWorkload } from './lib/workloads.mjs';

const WARMUP_CALLS = 3;
const NUMERIC = { threads: 1, rounds: 10, calls: 3 };

function parse(argv) {
  const opts = { workload: 'wordlm-8k-train', ...NUMERIC, addons: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      opts.addons.push(path.resolve(a));
      continue;
    }
    const key = a.slice(2);
    const value = argv[++i];
    if (value === undefined) throw new Error(`${a} needs a value`);
    if (key === 'workload') {
      opts.workload = value;
    } else if (key in NUMERIC) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a} must be a positive integer, got ${JSON.stringify(value)}`);
      opts[key] = n;
    } else {
      throw new Error(`unknown option ${a}`);
    }
  }
  if (opts.addons.length === 0) throw new Error('name at least one addon (.node file)');
  return opts;
}

const importDist = (file) => import(pathToFileURL(path.join(DIST_BACKEND_DIR, file)).href);

async function main() {
  const opts = parse(process.argv.slice(2));
  const w = findWorkload(opts.workload);
  if (!w) throw new Error(`unknown workload ${JSON.stringify(opts.workload)}`);
  const { loadBackend } = await importDist('load.js');
  const layout = await importDist('layout.js');
  const training = { ...layout, ...(await importDist('load.js')) };
  const benches = [];
  for (const file of opts.addons) {
    // The native backend loads the file RNNKIT_NATIVE_PATH names at the moment it is created.
    process.env.RNNKIT_NATIVE_PATH = file;
    const be = await loadBackend('native');
    be.setThreads(opts.threads);
    const bench = await BUILDERS[w.mode]({ be, ref: null, layout, training, w, rand: rng(seedOf(w.id)) });
    for (let i = 0; i < WARMUP_CALLS; i++) await bench.run();
    benches.push(bench);
  }
  const rounds = opts.addons.map(() => []);
  for (let r = 0; r < opts.rounds; r++) {
    for (let i = 0; i < benches.length; i++) {
      const t0 = process.hrtime.bigint();
      for (let c = 0; c < opts.calls; c++) await benches[i].run();
      rounds[i].push(Number(process.hrtime.bigint() - t0) / 1e6 / opts.calls);
    }
  }
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(`${w.id}, ${opts.threads} thread(s), ${opts.rounds} rounds of ${opts.calls} calls`);
  opts.addons.forEach((file, i) => {
    const ratio = median(rounds[0]) / median(rounds[i]);
    console.log(`${file}  best ${Math.min(...rounds[i]).toPrecision(4)} ms  median ${median(rounds[i]).toPrecision(4)} ms  ` +
      `first ÷ this (medians) ${ratio.toFixed(3)}`);
  });
  const last = rounds[rounds.length - 1];
  console.log(`per round, first ÷ last: ${rounds[0].map((x, r) => (x / last[r]).toFixed(3)).join(' ')}`);
}

main().catch((e) => {
  console.error(`native-ab: ${e.message}`);
  process.exit(1);
});
