// Markdown summary of one run's rows: rnnkit ÷ peer ratios (figures from the same run), every
// row with its GFLOP/s against the sgemm ceiling, and the ceilings themselves.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PEERS_COPY, PEERS_SRC, PYTHON } from './paths.mjs';
import { LOCAL_WORKLOADS_FILE } from './workloads.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Which rnnkit figure is compared with which peer's (at the same thread count). */
export const COMPARISONS = [
  ['rnnkit-native', 'ort-node'],
  ['rnnkit-native', 'pytorch-cpu'],
  ['rnnkit-wasm', 'ort-web'],
  ['rnnkit-wasm', 'tfjs-wasm'],
];

/**
 * Flops per token and ceilings from the peers' lib/flops.py, for the shared workloads and
 * bench's own (lib/workloads.mjs; a word-level LM counts as a training workload whose head
 * is the vocabulary, see local_workloads.py); { error } if python cannot run.
 */
export function flopsInfo(rows) {
  const lib = fs.existsSync(path.join(PEERS_COPY, 'lib', 'flops.py')) ? path.join(PEERS_COPY, 'lib') : path.join(PEERS_SRC, 'lib');
  const r = spawnSync(PYTHON, [path.join(HERE, 'flops_table.py'), lib, LOCAL_WORKLOADS_FILE], {
    input: rows.map((x) => JSON.stringify(x)).join('\n'),
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }, // never write into the shared dir
  });
  if (r.status !== 0) return { error: (r.error?.message || r.stderr || '').trim().split('\n').pop() };
  return JSON.parse(r.stdout);
}

const rateOf = (r) => r.tokens_per_s ?? r.steps_per_s;
const ok = (r) => r && rateOf(r) !== undefined && !r.error && !r.skipped;
const fmtInt = (x) => Math.round(x).toLocaleString('en-US');
const fmt = (x, d) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(d));
const cell = (s) => String(s).replace(/\|/g, '/').replace(/\n/g, ' ');

/**
 * Median of ours[i] / theirs[i] over the rounds (both runners ran once in each round, in
 * turn); null unless both have the same number of rounds (two or more), all measured.
 */
export function roundPairsRatio(ours, theirs) {
  if (!Array.isArray(ours) || !Array.isArray(theirs) || ours.length < 2 || ours.length !== theirs.length) return null;
  if ([...ours, ...theirs].some((x) => !(x > 0))) return null;
  const r = ours.map((x, i) => x / theirs[i]).sort((x, y) => x - y);
  const m = r.length >> 1;
  return r.length % 2 ? r[m] : (r[m - 1] + r[m]) / 2;
}

/**
 * The targets of issue #16, checked on every run that has the rows: rnnkit-wasm at its best
 * thread count against onnxruntime-web at its own best, and rnnkit-wasm's 2-thread ÷
 * 1-thread speed-up. Decided on the ratio of the (median-round) figures.
 */
export const TARGETS = [
  { kind: 'best', ours: 'rnnkit-wasm', theirs: 'ort-web', workload: 'lstm-infer-b64', goal: 1.2 },
  { kind: 'best', ours: 'rnnkit-wasm', theirs: 'ort-web', workload: 'lstm-infer-b1', goal: 1.2 },
  { kind: 'speedup', runner: 'rnnkit-wasm', workload: 'lstm-train-large', from: 1, to: 2, goal: 1.6 },
  { kind: 'speedup', runner: 'rnnkit-wasm', workload: 'lstm-infer-b64', from: 1, to: 2, goal: 1.6 },
];

/** The measured row of `peer` on workload `w` with the highest rate over its thread counts, or null. */
export function bestRow(rows, peer, w) {
  let best = null;
  for (const r of rows) if (r.peer === peer && r.workload === w && ok(r) && (!best || rateOf(r) > rateOf(best))) best = r;
  return best;
}

/** `ours` at its best thread count ÷ `theirs` at its best: { a, b, ratio, pairs }, or null unless both measured. */
export function bestRatio(rows, ours, theirs, w) {
  const a = bestRow(rows, ours, w);
  const b = bestRow(rows, theirs, w);
  if (!a || !b) return null;
  return { a, b, ratio: rateOf(a) / rateOf(b), pairs: roundPairsRatio(a.round_rates, b.round_rates) };
}

/** `runner` at `to` threads ÷ at `from` threads on `w`: { a, b, ratio, pairs }, or null unless both measured. */
export function speedup(rows, runner, w, from, to) {
  const find = (t) => rows.find((r) => r.peer === runner && r.workload === w && r.threads === t && ok(r));
  const a = find(to);
  const b = find(from);
  if (!a || !b) return null;
  return { a, b, ratio: rateOf(a) / rateOf(b), pairs: roundPairsRatio(a.round_rates, b.round_rates) };
}

const unitOf = (r) => (r.steps_per_s !== undefined ? 'steps/s' : 'tokens/s');
const x2 = (v) => `${v.toFixed(2)}×`;

/**
 * One line per target: "✔" met, "✘" missed, "–" not measured in these rows (with what is
 * missing). `where` names the setting ("Node", "Chromium") in the lines.
 */
export function targetLines(rows, targets = TARGETS, where = '') {
  const at = where ? ` (${where})` : '';
  return targets.map((g) => {
    const v = g.kind === 'best' ? bestRatio(rows, g.ours, g.theirs, g.workload) : speedup(rows, g.runner, g.workload, g.from, g.to);
    const what = g.kind === 'best'
      ? `${g.workload}${at}: ${g.ours} at its best thread count ÷ ${g.theirs} at its best`
      : `${g.workload}${at}: ${g.runner} ${g.to} threads ÷ ${g.from} thread`;
    if (!v) {
      const need = g.kind === 'best' ? `${g.ours} and ${g.theirs} rows` : `${g.runner} rows at ${g.from} and ${g.to} threads`;
      return `– ${what} ≥ ${g.goal}×: not measured here (needs ${need} on ${g.workload})`;
    }
    const detail = g.kind === 'best'
      ? `${fmtInt(rateOf(v.a))} ${unitOf(v.a)} at ${v.a.threads}T vs ${fmtInt(rateOf(v.b))} at ${v.b.threads}T`
      : `${fmtInt(rateOf(v.a))} vs ${fmtInt(rateOf(v.b))} ${unitOf(v.a)}`;
    return `${v.ratio >= g.goal ? '✔' : '✘'} ${what} = ${x2(v.ratio)} (goal ≥ ${g.goal}×; ${detail}` +
      `${v.pairs === null ? '' : `; round pairs ${x2(v.pairs)}`})`;
  });
}

export function markdown(rows, flops, meta = {}) {
  const out = [];
  const workloads = [...new Set(rows.filter((r) => r.workload).map((r) => r.workload))];
  const threadsOf = [...new Set(rows.filter((r) => r.workload).map((r) => r.threads))].sort((a, b) => a - b);
  const find = (peer, w, t) => rows.find((r) => r.peer === peer && r.workload === w && r.threads === t);
  const wf = (w) => flops?.workloads?.[w];

  out.push(`# rnnkit vs peers${meta.date ? ` — ${meta.date}` : ''}`, '');
  if (meta.machine) out.push(meta.machine, '');

  out.push('## Ratios: rnnkit ÷ peer, same run, same thread count (> 1: rnnkit is faster)', '');
  out.push(
    '"ratio" divides the two figures (with --rounds, each runner\'s median round); "round pairs" is the median of the',
    'per-round ratios, each taken between runs seconds apart, which the machine\'s drift disturbs less.',
    '',
  );
  out.push('| workload | threads | rnnkit | figure | peer | figure | ratio | round pairs |', '|---|---|---|---|---|---|---|---|');
  for (const w of workloads) {
    for (const t of threadsOf) {
      for (const [ours, theirs] of COMPARISONS) {
        const a = find(ours, w, t);
        const b = find(theirs, w, t);
        if (!a && !b) continue;
        if (!a || !b) continue; // a runner not requested at this thread count
        const unit = a.steps_per_s !== undefined || b.steps_per_s !== undefined ? 'steps/s' : 'tokens/s';
        const show = (r) => (ok(r) ? `${fmtInt(rateOf(r))} ${unit}` : r.error ? 'FAILED' : 'skipped');
        const ratio = ok(a) && ok(b) ? `**${(rateOf(a) / rateOf(b)).toFixed(2)}×**` : '-';
        const pairs = ok(a) && ok(b) ? roundPairsRatio(a.round_rates, b.round_rates) : null;
        out.push(`| ${w} | ${t} | ${ours} | ${show(a)} | ${theirs} | ${show(b)} | ${ratio} | ${pairs === null ? '-' : `${pairs.toFixed(2)}×`} |`);
      }
    }
  }

  // Best thread count of each side, and each runner's speed-up over its 1-thread figure.
  const best = [];
  for (const w of workloads) {
    for (const [ours, theirs] of COMPARISONS) {
      const v = bestRatio(rows, ours, theirs, w);
      if (!v) continue;
      best.push(`| ${w} | ${ours} | ${fmtInt(rateOf(v.a))} ${unitOf(v.a)} at ${v.a.threads}T | ${theirs} | ${fmtInt(rateOf(v.b))} ${unitOf(v.b)} at ${v.b.threads}T | ` +
        `**${x2(v.ratio)}** | ${v.pairs === null ? '-' : x2(v.pairs)} |`);
    }
  }
  if (best.length) {
    out.push('', '## Best thread count of each side: rnnkit ÷ peer', '');
    out.push('Each side at the thread count where it was fastest in this run (the pairs of the "Ratios" table compare equal thread counts).', '');
    out.push('| workload | rnnkit | best | peer | best | ratio | round pairs |', '|---|---|---|---|---|---|---|');
    out.push(...best);
  }
  const ups = [];
  for (const w of workloads) {
    for (const peer of [...new Set(rows.filter((r) => r.workload === w).map((r) => r.peer))]) {
      for (const t of threadsOf.filter((n) => n > 1)) {
        const v = speedup(rows, peer, w, 1, t);
        if (v) ups.push(`| ${w} | ${peer} | ${fmtInt(rateOf(v.b))} | ${fmtInt(rateOf(v.a))} ${unitOf(v.a)} at ${t}T | **${x2(v.ratio)}** | ${v.pairs === null ? '-' : x2(v.pairs)} |`);
      }
    }
  }
  if (ups.length) {
    out.push('', '## Speed-up over 1 thread', '');
    out.push('| workload | runner | 1 thread | n threads | speed-up | round pairs |', '|---|---|---|---|---|---|');
    out.push(...ups);
  }
  const goals = TARGETS.filter((g) => workloads.includes(g.workload));
  if (goals.length) {
    out.push('', '## Targets (issue #16)', '');
    out.push(...targetLines(rows, goals, 'Node').map((l) => `- ${l}`));
  }

  out.push('', '## Every row', '');
  out.push('GFLOP/s = rate × flops per token (peers\' lib/flops.py). "% ceiling": of the OpenBLAS sgemm rate for this ' +
    'workload\'s GEMM shapes, "% peak": of sgemm 2048³, both at the same thread count.', '');
  out.push('| workload | peer | threads | tokens/s (steps/s) | ms/iter | GFLOP/s | % ceiling | % peak | timed reps | note |',
    '|---|---|---|---|---|---|---|---|---|---|');
  for (const w of workloads) {
    for (const r of rows.filter((x) => x.workload === w)) {
      if (!ok(r)) {
        out.push(`| ${w} | ${r.peer} | ${r.threads} | - | - | - | - | - | - | ${r.error ? 'FAILED: ' + cell(r.error) : 'skipped: ' + cell(r.skipped)} |`);
        continue;
      }
      const f = wf(w);
      const g = f ? (rateOf(r) * f.flops_per_token) / 1e9 : undefined;
      const c = f?.ceiling?.[String(r.threads)];
      const p = flops?.peak?.[String(r.threads)];
      const notes = [];
      if (r.check_vs_reference_max_abs_err !== undefined) notes.push(`checked vs reference: max err ${r.check_vs_reference_max_abs_err.toExponential(1)}`);
      if (r.check) notes.push(`check: ${r.check}`);
      if (r.isa) notes.push(`isa ${r.isa}`);
      if (r.cpu_util !== undefined) notes.push(`cpu ${r.cpu_util}`);
      if (r.round_rates) notes.push(`median of ${r.round_rates.length} rounds: ${r.round_rates.map((x) => (x === null ? '-' : fmtInt(x))).join(' / ')}`);
      if (r.peer === 'ort-web' && r.wasm_numThreads_effective !== undefined) notes.push(`wasm numThreads=${r.wasm_numThreads_effective}`);
      if (r.wasm_variant) notes.push(`variant ${r.wasm_variant}`);
      if (r.threads > 1 && r.cpu_util !== undefined && r.cpu_util < 1.2) notes.push(`only cpu ${r.cpu_util} at ${r.threads} threads: the other threads did little`);
      out.push(`| ${w} | ${r.peer} | ${r.threads} | ${fmtInt(rateOf(r))} | ${fmt(r.ms_per_iter, 3)} | ${fmt(g, 2)} | ` +
        `${g !== undefined && c ? fmt((100 * g) / c, 1) + '%' : '-'} | ${g !== undefined && p ? fmt((100 * g) / p, 1) + '%' : '-'} | ` +
        `${r.iters} | ${cell(notes.join('; '))} |`);
    }
  }

  if (flops?.workloads) {
    out.push('', '## Flops per token and sgemm ceilings', '');
    const ts = [...new Set(Object.values(flops.workloads).flatMap((x) => Object.keys(x.ceiling)))].sort();
    const head = ['workload', 'Mflop/token', ...ts.map((t) => `ceiling ${t}T GFLOP/s`)];
    out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---|').join('')}`);
    for (const w of workloads) {
      const f = wf(w);
      if (f) out.push(`| ${[w, fmt(f.flops_per_token / 1e6, 3), ...ts.map((t) => fmt(f.ceiling[t], 1))].join(' | ')} |`);
    }
    if (!ts.length) out.push('', '(no sgemm ceiling in this run: add ceiling-sgemm to --peers)');
    if (Object.keys(flops.peak || {}).length) {
      out.push('', `sgemm 2048³ (peak): ${Object.entries(flops.peak).map(([t, g]) => `${g.toFixed(1)} GFLOP/s with ${t} thread(s)`).join(', ')}.`);
    }
  } else if (flops?.error) {
    out.push('', `(no GFLOP/s: the flop table could not be computed: ${flops.error})`);
  }
  return out.join('\n') + '\n';
}
