// Child process: times ONE rnnkit backend on ONE workload at ONE thread count and prints
// one JSON row in the peers' format (`peer` = rnnkit-<backend>). Started by run.mjs.
//
//   node bench/lib/rnnkit-worker.mjs --backend native --threads 2 --budget 3 --workload lstm-infer-b1
//   ... --probe     only load the backend and set the threads; print {"probe": ...}
//
// Before timing, the result is compared with the reference backend on the same weights;
// a mismatch (or a backend that cannot load, or the wrong thread count) prints a row with
// an "error" field and exits with status 1: nothing is timed.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import fs from 'node:fs';
import { DIST_BACKEND_DIR, PEERS_COPY } from './paths.mjs';
import { rng, seedOf } from './random.mjs';
import { BUILDERS } from './rnnkit-workloads.mjs';
import { findWorkload } from './workloads.mjs';

const T = createRequire(import.meta.url)(path.join(PEERS_COPY, 'lib', 'timing.js'));
const args = T.parseArgs(process.argv);
const backendName = String(args.backend);
const threads = Number(args.threads);
const budgetS = Number(args.budget || 3);
const peer = `rnnkit-${backendName}`;
const emit = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function fail(workload, message) {
  emit({ peer, workload: workload || null, threads, error: message });
  process.exit(1);
}

async function importDist(file) {
  const p = path.join(DIST_BACKEND_DIR, file);
  if (!fs.existsSync(p)) throw new Error(`${p} does not exist: build rnnkit first (npm run build)`);
  return import(pathToFileURL(p).href);
}

/** Run the backend with exactly `n` threads, and prove it from the backend's own report. */
function configureThreads(be, n) {
  // RNNKIT_THREADS=n is in the environment (set by run.mjs); setThreads, where a backend
  // has it, sets the count explicitly.
  if (typeof be.setThreads === 'function') be.setThreads(n);
  const got = be.info().threads;
  if (got !== n) throw new Error(`asked for ${n} thread(s) but backend.info().threads reports ${got}`);
}

async function main() {
  const workloadId = args.workload || '';
  const { loadBackend } = await importDist('load.js');
  const layout = await importDist('layout.js');
  const training = { ...(await importDist('layout.js')), ...(await importDist('load.js')) }; // modelLayout, trainingOf
  let be;
  try {
    be = await loadBackend(backendName);
  } catch (e) {
    return fail(workloadId, `the ${backendName} backend cannot be loaded: ${e.message}`);
  }
  try {
    configureThreads(be, threads);
  } catch (e) {
    return fail(workloadId, `the ${backendName} backend: ${e.message}`);
  }
  const info = be.info();
  const extra = { backend: info.backend, isa: info.isa, node: process.version };
  // Which wasm build: "auto" is rnnkit-threads.wasm where there are >= 2 cores (info() names
  // the ISA, not the file); RNNKIT_WASM_VARIANT, inherited from run.mjs, forces one.
  if (backendName === 'wasm') extra.wasm_variant = process.env.RNNKIT_WASM_VARIANT || 'auto';
  if (args.probe) {
    emit({ probe: 'ok', peer, threads, ...extra });
    return;
  }

  let w;
  try {
    w = findWorkload(workloadId);
  } catch (e) {
    return fail(workloadId, `the workload list cannot be read: ${e.message}`);
  }
  if (!w) return fail(workloadId, `unknown workload ${JSON.stringify(workloadId)}`);
  const build = BUILDERS[w.mode];
  if (!build) return fail(w.id, `no rnnkit builder for workload mode ${JSON.stringify(w.mode)}`);
  // The reference is the specification: a compiled backend is checked against it. The
  // reference itself is checked against PyTorch by the conformance tests, not here.
  const ref = backendName === 'reference' ? null : await loadBackend('reference');
  let bench;
  try {
    bench = await build({ be, ref, layout, training, w, rand: rng(seedOf(w.id)) });
  } catch (e) {
    return fail(w.id, e.message);
  }
  let check = { check: 'none: the reference backend is the specification' };
  if (ref) {
    let v;
    try {
      v = await bench.check();
    } catch (e) {
      return fail(w.id, `check against the reference failed to run: ${e.stack || e.message}`);
    }
    check = { check_vs_reference_max_abs_err: v.maxAbsErr, check_tol: v.tol, check_shape: v.shape };
    if (!v.ok) {
      return fail(w.id, `result differs from the reference backend: max |${v.worst} − reference| = ${v.maxAbsErr} > ${v.tol} ` +
        `(${v.shape}); not timed`);
    }
  }
  const cpu0 = process.cpuUsage();
  const t0 = T.now();
  const m = await T.measure(bench.run, { budgetS, warmup: 3 });
  const wall = T.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  emit(T.row(peer, w, threads, m, {
    ...extra, ...check,
    // > 1 means more than one core was busy: evidence that the threads were used.
    cpu_util: Number(((cpu.user + cpu.system) / 1e6 / wall).toFixed(2)),
  }));
}

main().then(
  () => process.exit(0),
  (e) => fail(args.workload, `unexpected error: ${e.stack || e.message}`),
);
