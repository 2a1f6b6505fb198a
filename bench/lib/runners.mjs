// Everything the harness can time, and how to start it. Each (runner, workload, threads)
// runs in its own child process, like the peers' run-all.sh does, so a crash or a leaked
// thread pool in one cannot disturb the next, and every figure starts from a cold process.
import path from 'node:path';
import { PEERS_COPY, PYTHON } from './paths.mjs';
import { LOCAL_WORKLOADS_FILE } from './workloads.mjs';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const WORKER = path.join(HERE, 'rnnkit-worker.mjs');

const ompEnv = (t) => ({ OMP_NUM_THREADS: String(t), OPENBLAS_NUM_THREADS: String(t) });

// tfjs-wasm: a workload whose first iteration takes longer than this is reported as skipped
// with that one iteration's time (the same limits as the peers' run-all.sh).
const TFJS_MAX_FIRST_S = { 'lstm-train': 14, 'gru-train': 14, 'lstm-train-large': 5, 'lstm-infer-b1': 6, 'lstm-infer-b64': 9, 'lstm-step': 6 };

/**
 * kind: 'rnnkit' rows are ours (a failure fails the run); 'peer' rows are other libraries'
 * (a failure becomes a "skipped" row). threads: 'any', or the only thread counts it runs.
 * group: runners of a group run back to back per (workload, threads), so that the ratios
 * inside a group compare figures taken under the same machine conditions.
 * modes: the workload modes it can run (others are not started).
 * verify(row, t): a peer's reason to refuse a row it printed (the row becomes "skipped"), or null.
 */
export const RUNNERS = {
  'rnnkit-native': { kind: 'rnnkit', backend: 'native', threads: 'any', group: 'native' },
  'rnnkit-reference': { kind: 'rnnkit', backend: 'reference', threads: [1], group: 'native' },
  'ort-node': {
    kind: 'peer', threads: 'any', group: 'native', modes: ['infer', 'step'], packages: ['onnxruntime-node'], models: true,
    cmd: (w, t, budget) => ['node', [path.join(PEERS_COPY, 'ort', 'bench.js'), '--runtime', 'node', '--threads', t, '--budget', budget, '--workloads', w.id]],
  },
  'pytorch-cpu': {
    kind: 'peer', threads: 'any', group: 'native', modes: ['infer', 'step', 'train', 'wordlm'],
    // wordlm: the peers' wordlm/torch_wordlm.py through lib/torch_wordlm_row.py (one JSON row).
    cmd: (w, t, budget) => (w.mode === 'wordlm'
      ? [PYTHON, [path.join(HERE, 'torch_wordlm_row.py'), PEERS_COPY, '--workload', w.id, '--threads', t, '--seconds', budget,
        '--vocab', w.head, '--emb', w.I, '--hidden', w.H, '--layers', w.layers, '--batch', w.B, '--bptt', w.T,
        '--dropout', w.dropout, '--clip', w.clip], ompEnv(t)]
      : [PYTHON, [path.join(PEERS_COPY, 'torch', 'bench.py'), '--threads', t, '--budget', budget, '--workloads', w.id], ompEnv(t)]),
  },
  // Under Node the wasm backend's "auto" variant is rnnkit-threads.wasm where there are >= 2
  // cores (RNNKIT_WASM_VARIANT, inherited from this process, forces one); RNNKIT_THREADS sets
  // its thread count and the worker refuses a row whose info().threads is not that count.
  'rnnkit-wasm': { kind: 'rnnkit', backend: 'wasm', threads: 'any', group: 'wasm' },
  'ort-web': {
    // The peers' ort/bench.js sets ort.env.wasm.numThreads = --threads (onnxruntime-web's
    // threaded wasm over worker_threads in Node) and reports what onnxruntime-web kept.
    kind: 'peer', threads: 'any', group: 'wasm', modes: ['infer', 'step'], packages: ['onnxruntime-web'], models: true,
    cmd: (w, t, budget) => ['node', [path.join(PEERS_COPY, 'ort', 'bench.js'), '--runtime', 'web', '--threads', t, '--budget', budget, '--workloads', w.id]],
    // onnxruntime-web falls back to 1 thread (with a warning) where it cannot start its
    // threads: such a row is not a figure at the thread count asked for.
    verify: (row, t) => (row.wasm_numThreads_effective !== undefined && row.wasm_numThreads_effective !== t
      ? `onnxruntime-web ran with env.wasm.numThreads = ${row.wasm_numThreads_effective}, not ${t}` : null),
  },
  'tfjs-wasm': {
    kind: 'peer', threads: [1], group: 'wasm', modes: ['infer', 'step', 'train'], packages: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'],
    cmd: (w, t, budget) => ['node', [path.join(PEERS_COPY, 'tfjs', 'bench.js'), '--backend', 'wasm', '--threads', t, '--budget', budget,
      '--max-first', TFJS_MAX_FIRST_S[w.id] ?? 10, '--workloads', w.id]],
  },
};

/**
 * The sgemm ceiling: not a per-workload runner; one run per thread count times every shape
 * of the shared workloads (`cmd`), and `localCmd` the shapes of bench's own workloads `ids`
 * that it does not time (lib/ceiling_local.py: the word-level LMs' stack and head GEMMs).
 */
export const CEILING = {
  name: 'ceiling-sgemm',
  cmd: (t, budget) => [PYTHON, [path.join(PEERS_COPY, 'ceiling', 'gemm.py'), '--threads', t, '--budget', budget], ompEnv(t)],
  localCmd: (t, budget, ids) => [PYTHON, [path.join(HERE, 'ceiling_local.py'), PEERS_COPY, LOCAL_WORKLOADS_FILE, '--threads', t,
    '--budget', budget, '--workloads', ids.join(',')], ompEnv(t)],
};

export const BACKEND_RUNNER = { native: 'rnnkit-native', wasm: 'rnnkit-wasm', reference: 'rnnkit-reference' };
export const PEER_NAMES = ['ort-node', 'ort-web', 'tfjs-wasm', 'pytorch-cpu', CEILING.name];
export const DEFAULT_PEERS = ['ort-node', 'ort-web', 'tfjs-wasm', 'pytorch-cpu', CEILING.name];
export const GROUP_ORDER = ['native', 'wasm'];

export function runsAt(runner, t) {
  return runner.threads === 'any' || runner.threads.includes(t);
}

/** [command, args, extraEnv] for the rnnkit worker timing `backend` on workload `w`. */
export function workerCmd(backend, w, t, budget, extra = []) {
  return [process.execPath, [WORKER, '--backend', backend, '--threads', t, '--budget', budget, '--workload', w ? w.id : '', ...extra],
    { RNNKIT_BACKEND: backend, RNNKIT_THREADS: String(t) }];
}
