#!/usr/bin/env node
// rnnkit's benchmark: rnnkit's backends and the peer libraries timed side by side, in one
// run, on the shared workloads (../shared/bench/WORKLOADS.md). See bench/README.md.
//
//   node bench/run.mjs [--workloads a,b] [--backends native,wasm] [--peers ort-node,...]
//                      [--threads 1,2] [--budget 3] [--rounds 1] [--ceiling-budget 0.6] [--out DIR] [--no-build]
//
// Workloads: the shared list plus bench's own word-level LMs (lib/workloads.mjs).
//
// stdout: one JSON row per (runner, workload, threads), the peers' format. stderr: progress,
// then the markdown summary. Both are also written to bench/results/<time>.jsonl / .md.
// Exit status 1 if any rnnkit row failed (backend missing, result mismatch, crash).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseOptions, USAGE } from './lib/options.mjs';
import { DIST_BACKEND_DIR, REPO_DIR } from './lib/paths.mjs';
import { copyPeers, ensureModels, requirePackages } from './lib/peers.mjs';
import { flopsInfo, markdown } from './lib/report.mjs';
import { BACKEND_RUNNER, CEILING, GROUP_ORDER, RUNNERS, runsAt, workerCmd } from './lib/runners.mjs';
import { RNNKIT_MODES } from './lib/rnnkit-workloads.mjs';
import { medianRound } from './lib/rounds.mjs';
import { runChild } from './lib/spawn.mjs';
import { loadWorkloads, selectWorkloads } from './lib/workloads.mjs';

const T0 = Date.now();
const log = (msg) => process.stderr.write(`[${((Date.now() - T0) / 1000).toFixed(0)}s] ${msg}\n`);

// Wall-clock caps per child (seconds). The rnnkit worker includes a check on the (slow)
// reference backend; tfjs-wasm bounds itself with --max-first (see lib/runners.mjs).
const CAP_S = { rnnkit: 300, 'rnnkit-reference': 1800, peer: 180, ceiling: 600, probe: 60 };

function buildRnnkit() {
  log('building rnnkit (tsc -p tsconfig.build.json) ...');
  const tsc = path.join(REPO_DIR, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: REPO_DIR, encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`the rnnkit build failed (npm run build):\n${(r.stdout || '') + (r.stderr || '') || r.error?.message}`);
  }
}

function machineLine(opts) {
  const flags = (fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '').match(/^flags\s*:(.*)$/m)?.[1].split(' ') ?? [];
  const isa = ['avx2', 'fma', 'avx512f', 'amx_tile'].filter((f) => flags.includes(f)).join(' ');
  return `${os.cpus()[0]?.model ?? 'unknown CPU'} (${isa || 'no AVX2'}), ${os.availableParallelism()} cores, Node ${process.version}, ` +
    `budget ${opts.budget} s per row, threads ${opts.threads.join(',')}.`;
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  copyPeers();
  const workloads = selectWorkloads(opts.workloads, loadWorkloads(), RNNKIT_MODES);
  // Runners that run none of the selected workloads' modes (e.g. ort on the word-level LMs)
  // are not started, and their packages and models are not needed.
  const runnerNames = [...opts.backends.map((b) => BACKEND_RUNNER[b]), ...opts.peers.filter((p) => p !== CEILING.name)]
    .filter((name) => !RUNNERS[name].modes || workloads.some((w) => RUNNERS[name].modes.includes(w.mode)));

  // Preflight: everything that can fail fails now, before minutes of timing.
  if (opts.backends.length) {
    if (opts.build) buildRnnkit();
    else if (!fs.existsSync(path.join(DIST_BACKEND_DIR, 'load.js'))) throw new Error('dist/ is missing: run npm run build (or drop --no-build)');
    await probeBackends(opts);
  }
  for (const name of runnerNames) if (RUNNERS[name].packages) requirePackages(RUNNERS[name].packages, name);
  if (runnerNames.some((n) => RUNNERS[n].models)) ensureModels(log);

  fs.mkdirSync(opts.out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const jsonl = path.join(opts.out, `${stamp}.jsonl`);
  const logFile = path.join(opts.out, `${stamp}.log`);
  const rows = [];
  const failures = [];
  const record = (row) => {
    rows.push(row);
    process.stdout.write(JSON.stringify(row) + '\n');
    fs.appendFileSync(jsonl, JSON.stringify(row) + '\n');
  };

  if (opts.peers.includes(CEILING.name)) {
    for (const t of opts.threads) {
      log(`${CEILING.name} threads=${t} (every GEMM shape of the workloads) ...`);
      const res = await runChild(CEILING.cmd(t, opts.ceilingBudget), { capS: CAP_S.ceiling, logFile });
      if (!res.rows.length) log(`  ${CEILING.name} gave no rows (exit ${res.code}; see ${logFile}): ${res.stderrTail.split('\n').pop()}`);
      res.rows.forEach(record);
      const local = workloads.filter((w) => w.local).map((w) => w.id);
      if (local.length) {
        log(`${CEILING.name} threads=${t} (the GEMM shapes of ${local.join(', ')}) ...`);
        const more = await runChild(CEILING.localCmd(t, opts.ceilingBudget, local), { capS: CAP_S.ceiling, logFile });
        if (more.code !== 0) log(`  ${CEILING.name} for ${local.join(', ')} failed (exit ${more.code}; see ${logFile}): ${more.stderrTail.split('\n').pop()}`);
        more.rows.forEach(record);
      }
    }
  }

  // Per workload, each group's runners back to back at every thread count (rnnkit-native,
  // ort-node, pytorch-cpu at 1 thread, then at 2; then rnnkit-wasm, ort-web, tfjs-wasm ...), so
  // that every ratio — rnnkit ÷ peer at one thread count, a runner's 2-thread ÷ 1-thread
  // speed-up, best thread count against best — compares figures taken within seconds of each
  // other (the machine drifts 10–30%); with --rounds, that whole sequence N times in turn,
  // keeping each (runner, threads)'s median round.
  for (const w of workloads) {
    for (const group of GROUP_ORDER) {
      const entries = [];
      for (const t of opts.threads) {
        for (const name of runnerNames) {
          const runner = RUNNERS[name];
          if (runner.group === group && runsAt(runner, t) && (!runner.modes || runner.modes.includes(w.mode))) entries.push({ name, t, rounds: [] });
        }
      }
      for (let r = 0; r < opts.rounds; r++) {
        if (opts.rounds > 1 && entries.length) log(`${w.id}, ${group} group: round ${r + 1} of ${opts.rounds}`);
        for (const e of entries) e.rounds.push(await runOne(e.name, RUNNERS[e.name], w, e.t, opts, logFile));
      }
      for (const { name, t, rounds } of entries) {
        const row = medianRound(rounds);
        record(row);
        if (RUNNERS[name].kind === 'rnnkit' && row.error) failures.push(`${name} ${w.id} threads=${t}: ${row.error}`);
      }
    }
  }

  const md = markdown(rows, flopsInfo(rows), { date: new Date().toISOString(), machine: machineLine(opts) });
  fs.writeFileSync(path.join(opts.out, `${stamp}.md`), md);
  process.stderr.write('\n' + md + '\n');
  log(`rows: ${jsonl}; table: ${path.join(opts.out, `${stamp}.md`)}; child stderr: ${logFile}`);
  if (failures.length) {
    process.stderr.write(`\nFAILED (${failures.length} rnnkit row(s)):\n${failures.map((f) => '  ' + f).join('\n')}\n`);
    return 1;
  }
  return 0;
}

/** Load every requested backend at every thread count it will run with; fail if any cannot. */
async function probeBackends(opts) {
  const problems = [];
  for (const b of opts.backends) {
    const runner = RUNNERS[BACKEND_RUNNER[b]];
    const ts = opts.threads.filter((t) => runsAt(runner, t));
    if (!ts.length) problems.push(`${b}: runs only with threads ${runner.threads.join(',')}, but --threads is ${opts.threads.join(',')}`);
    for (const t of ts) {
      const res = await runChild(workerCmd(b, null, t, opts.budget, ['--probe']), { capS: CAP_S.probe });
      const row = res.rows[0];
      if (row?.probe === 'ok') log(`backend ${b} threads=${t}: loads (isa ${row.isa})`);
      else problems.push(`${b} threads=${t}: ${row?.error ?? `worker exited with ${res.code}${res.timedOut ? ' (timed out)' : ''}: ${res.stderrTail}`}`);
    }
  }
  if (problems.length) throw new Error(`requested rnnkit backend(s) cannot run:\n  ${problems.join('\n  ')}`);
}

async function runOne(name, runner, w, t, opts, logFile) {
  const cmd = runner.kind === 'rnnkit' ? workerCmd(runner.backend, w, t, opts.budget) : runner.cmd(w, t, opts.budget);
  const capS = CAP_S[name] ?? CAP_S[runner.kind];
  const res = await runChild(cmd, { capS, logFile });
  let row = res.rows.find((r) => r.workload === w.id && r.threads === t) ?? res.rows.find((r) => r.workload === w.id);
  if (!row) {
    const why = res.timedOut ? `no result within the ${capS} s cap` : `exited with status ${res.code} before printing a result: ` +
      (res.stderrTail.split('\n').pop() || '(no stderr)');
    row = runner.kind === 'rnnkit' ? { peer: name, workload: w.id, threads: t, error: why } : { peer: name, workload: w.id, threads: t, skipped: why };
  }
  const refused = runner.verify && !row.skipped ? runner.verify(row, t) : null;
  if (refused) {
    const { tokens_per_s, steps_per_s, ...rest } = row; // eslint-disable-line no-unused-vars
    row = { ...rest, skipped: refused, refused_rate: tokens_per_s ?? steps_per_s };
  }
  const rate = row.tokens_per_s ?? row.steps_per_s;
  const what = rate !== undefined ? `${Math.round(rate).toLocaleString('en-US')} ${row.steps_per_s !== undefined ? 'steps/s' : 'tokens/s'}`
    : row.error ? `FAILED: ${row.error}` : `skipped: ${row.skipped}`;
  log(`${name} ${w.id} threads=${t}: ${what} (${res.seconds.toFixed(1)} s)`);
  return row;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`bench: ${e.message}\n`);
    process.exit(2);
  },
);
