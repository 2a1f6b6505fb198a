// Command-line options of bench/run.mjs, validated: a bad value is an error naming the
// option and what it accepts, never a silent default.
import os from 'node:os';
import path from 'node:path';
import { RESULTS_DIR } from './paths.mjs';
import { DEFAULT_PEERS, PEER_NAMES } from './runners.mjs';

const BACKENDS = ['native', 'wasm', 'reference'];
const DEFAULT_BACKENDS = ['native', 'wasm'];

export const USAGE = `usage: node bench/run.mjs [options]        (npm run bench -- [options])

  --workloads a,b     workload ids of ../shared/bench/peers/lib/workloads.json or of
                      bench/lib/wordlm-workloads.json (wordlm-8k-train, wordlm-33k-train:
                      word-level LM training, embedding + 2-layer LSTM + vocabulary head),
                      or "all" (default: the six shared ones, i.e. every shared workload
                      whose mode rnnkit runs; the word-level LMs only when named or "all")
  --backends a,b      rnnkit backends: ${BACKENDS.join(', ')}, or "none" (default: ${DEFAULT_BACKENDS.join(',')})
                      (reference runs with 1 thread only; native and wasm at every --threads,
                      wasm on rnnkit-threads.wasm unless RNNKIT_WASM_VARIANT says otherwise)
  --peers a,b         ${PEER_NAMES.join(', ')}, "all" or "none"
                      (default: ${DEFAULT_PEERS.join(',')}; tfjs-wasm runs with 1 thread,
                      the others at every --threads)
  --threads 1,2       thread counts (default: 1 and every core: 1,${os.availableParallelism()})
  --budget S          seconds of timed repetitions per row (default 3; the peers' policy:
                      warm-up, then >= 5 repetitions of ~0.25 s, median)
  --rounds N          run each workload's group of runners (native: rnnkit-native, ort-node,
                      pytorch-cpu; wasm: rnnkit-wasm, ort-web, tfjs-wasm), at every thread
                      count, N times in turn (A1 B1 A2 B2 A1 B1 ...) and report each
                      (runner, threads)'s median round, so that the machine's drift (10-30%
                      here) hits both sides of a ratio alike (default 1)
  --ceiling-budget S  seconds per GEMM shape for the sgemm ceiling (default 0.6)
  --out DIR           where <time>.jsonl / .md / .log go (default bench/results)
  --no-build          do not run tsc first (use the existing dist/)
  --help
`;

function list(name, value, allowed, { all, none = [] } = {}) {
  if (value === 'none') return none;
  if (value === 'all' && all) return all;
  const items = String(value).split(',').map((s) => s.trim()).filter(Boolean);
  for (const it of items) {
    if (allowed && !allowed.includes(it)) {
      throw new RangeError(`--${name}: unknown ${JSON.stringify(it)}; expected some of ${allowed.join(', ')}${all ? ', "all"' : ''} or "none"`);
    }
  }
  if (!items.length) throw new RangeError(`--${name}: expected a comma-separated list, got ${JSON.stringify(value)}`);
  return [...new Set(items)];
}

function positive(name, value, integer) {
  const x = Number(value);
  if (!Number.isFinite(x) || x <= 0 || (integer && !Number.isInteger(x))) {
    throw new RangeError(`--${name}: expected a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(value)}`);
  }
  return x;
}

export function parseOptions(argv) {
  const raw = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new RangeError(`unexpected argument ${JSON.stringify(a)}\n${USAGE}`);
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (key === 'help' || key === 'no-build') { raw[key] = true; continue; }
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new RangeError(`--${key}: missing value`);
    raw[key] = value;
  }
  const known = ['workloads', 'backends', 'peers', 'threads', 'budget', 'rounds', 'ceiling-budget', 'out', 'no-build', 'help'];
  for (const k of Object.keys(raw)) {
    if (!known.includes(k)) throw new RangeError(`unknown option --${k}\n${USAGE}`);
  }
  const cores = os.availableParallelism();
  const threads = raw.threads === undefined ? [...new Set([1, cores])]
    : list('threads', raw.threads).map((t) => positive('threads', t, true));
  return {
    help: Boolean(raw.help),
    build: !raw['no-build'],
    workloads: raw.workloads === undefined ? 'default' : raw.workloads === 'all' ? 'all' : list('workloads', raw.workloads),
    backends: raw.backends === undefined ? DEFAULT_BACKENDS : list('backends', raw.backends, BACKENDS),
    peers: (raw.peers === undefined ? DEFAULT_PEERS : list('peers', raw.peers, [...PEER_NAMES, 'ceiling'], { all: PEER_NAMES }))
      .map((p) => (p === 'ceiling' ? 'ceiling-sgemm' : p)),
    threads: threads.sort((a, b) => a - b),
    budget: raw.budget === undefined ? 3 : positive('budget', raw.budget),
    rounds: raw.rounds === undefined ? 1 : positive('rounds', raw.rounds, true),
    ceilingBudget: raw['ceiling-budget'] === undefined ? 0.6 : positive('ceiling-budget', raw['ceiling-budget']),
    out: path.resolve(raw.out ?? RESULTS_DIR),
  };
}
