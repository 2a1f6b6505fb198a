// The in-page half of bench/browser.mjs. Each page holds ONE runner: rnnkit's browser entry on
// one module variant at one thread count, or onnxruntime-web at one thread count (both load
// their WebAssembly once per page, with the thread count fixed at load). The page is served
// cross-origin isolated (scripts/static-server.mjs, { isolated: true }), so both threaded builds can run.
// The driver calls these through page.evaluate; weights and inputs come from the same seeded
// generator as the Node harness (bench/lib/random.mjs, served as is), so the driver can
// recompute the check.
import * as rnnkit from '/dist/src/web.js';
import * as ort from '/ort/ort.wasm.min.mjs';
import { normal, rng, seedOf, uniform } from '/bench-lib/random.mjs';
import { BUILDERS } from '/bench-lib/rnnkit-workloads.mjs';

let runner = null;

/** What the page can do: cross-origin isolation (SharedArrayBuffer) and the cores it sees. */
export function environment() {
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer !== 'undefined',
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
  };
}

/**
 * Set rnnkit's thread count: init({ variant, threads }) where the browser entry has that
 * option, else init({ variant }) and then the wasm backend's own setThreads (the same module
 * instance as the entry's: one URL, one module). Returns how it was set.
 */
async function initRnnkit(variant, threads) {
  if (threads === undefined) {
    await rnnkit.init(variant ? { variant } : undefined);
    return 'default';
  }
  try {
    await rnnkit.init({ ...(variant ? { variant } : {}), threads });
    return 'init({ threads })';
  } catch (e) {
    if (!(e instanceof RangeError) || !/unknown option "threads"/.test(e.message)) throw e;
  }
  await rnnkit.init(variant ? { variant } : undefined);
  const { loadBackend } = await import('/dist/src/backend/load.js');
  (await loadBackend('wasm')).setThreads(threads);
  return 'backend.setThreads';
}

/**
 * rnnkit for workload `w` on its `variant` module ('threads-relaxed', 'threads', 'simd128', 'relaxed', or
 * undefined: what the loader picks) with `threads` threads (undefined: its default); returns
 * its info() and output on a `checkT`-step input. Refuses a thread count other than asked.
 */
export async function setupRnnkit(w, checkT, variant, threads) {
  const threadsSetBy = await initRnnkit(variant, threads);
  const info = await rnnkit.backendInfo();
  if (threads !== undefined && info.threads !== threads) {
    throw new Error(`rnnkit ${variant ?? 'auto'}: asked for ${threads} thread(s) (${threadsSetBy}) but backendInfo().threads reports ${info.threads}`);
  }
  const rand = rng(seedOf(w.id));
  const stack = await rnnkit.createStack({ cell: w.cell, inputSize: w.I, hiddenSize: w.H, layers: w.layers });
  // Drawn in the order bench/browser.mjs redraws them for the reference check.
  stack.setFlatParameters(uniform(rand, rnnkit.paramLayout(stack.spec).total, 1 / Math.sqrt(w.H)));
  const x = normal(rand, w.T * w.B * w.I);
  const checkX = normal(rand, checkT * w.B * w.I);
  const check = await stack.forward(checkX, { steps: checkT, batch: w.B });
  runner = () => stack.forward(x, { steps: w.T, batch: w.B });
  return { backend: info.backend, isa: info.isa, threads: info.threads, runsOn: info.runsOn, threadsSetBy, y: Array.from(check.y) };
}

/**
 * rnnkit alone on a workload onnxruntime-web has no model for (training: lstm-train-large),
 * exactly as bench/run.mjs runs it in Node: the workload's builder from
 * bench/lib/rnnkit-workloads.mjs on the page's wasm backend, checked against the reference
 * backend (run in this page, same seeded weights and batch) before anything is timed.
 */
export async function setupRnnkitOnly(w, variant, threads) {
  const threadsSetBy = await initRnnkit(variant, threads);
  const info = await rnnkit.backendInfo();
  if (info.threads !== threads) {
    throw new Error(`rnnkit ${variant}: asked for ${threads} thread(s) (${threadsSetBy}) but backendInfo().threads reports ${info.threads}`);
  }
  const build = BUILDERS[w.mode];
  if (!build) throw new Error(`${w.id}: no rnnkit builder for workload mode ${JSON.stringify(w.mode)}`);
  const load = await import('/dist/src/backend/load.js');
  const layout = await import('/dist/src/backend/layout.js');
  const [be, ref] = [await load.loadBackend('wasm'), await load.loadBackend('reference')];
  const bench = await build({ be, ref, layout, training: { ...layout, ...load }, w, rand: rng(seedOf(w.id)) });
  const v = await bench.check();
  if (!v.ok) {
    throw new Error(`${w.id}: rnnkit in Chromium differs from the reference backend: max |${v.worst} − reference| = ${v.maxAbsErr} > ${v.tol} (${v.shape}); not timed`);
  }
  runner = bench.run;
  return { backend: info.backend, isa: info.isa, threads: info.threads, runsOn: info.runsOn, threadsSetBy, maxAbsErrVsReference: v.maxAbsErr, checkShape: v.shape };
}

/**
 * onnxruntime-web for workload `w` with `threads` threads (env.wasm.numThreads, fixed when its
 * wasm loads); returns its version, the thread count it kept (it falls back to 1 where it
 * cannot start threads) and its output's distance from PyTorch's (the model's ref.json).
 */
export async function setupOrt(w, threads) {
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = '/ort/';
  const session = await ort.InferenceSession.create(`/models/${w.model}.onnx`, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const ref = await (await fetch(`/models/${w.model}.ref.json`)).json();
  const refFeeds = {};
  for (const k of ['x', 'h0', 'c0']) refFeeds[k] = new ort.Tensor('float32', Float32Array.from(ref[k]), ref.dims[k]);
  const refOut = await session.run(refFeeds);
  let ortErr = 0;
  for (const k of ['y', 'hn', 'cn']) {
    for (let i = 0; i < ref[k].length; i++) ortErr = Math.max(ortErr, Math.abs(refOut[k].data[i] - ref[k][i]));
  }
  // The same timed input as rnnkit's pages: the same draws, in the same order.
  const rand = rng(seedOf(w.id));
  uniform(rand, rnnkit.paramLayout({ cell: w.cell, inputSize: w.I, hiddenSize: w.H, outputSize: w.H, layers: w.layers, bidirectional: false }).total, 1);
  const x = normal(rand, w.T * w.B * w.I);
  const state = [w.layers, w.B, w.H];
  const feeds = {
    x: new ort.Tensor('float32', x, [w.T, w.B, w.I]),
    h0: new ort.Tensor('float32', new Float32Array(w.layers * w.B * w.H), state),
    c0: new ort.Tensor('float32', new Float32Array(w.layers * w.B * w.H), state),
  };
  runner = () => session.run(feeds);
  return { version: ort.env.versions?.web ?? null, numThreads: ort.env.wasm.numThreads, maxAbsErrVsPyTorch: ortErr };
}

/** Mean seconds per call over `calls` back-to-back calls of the page's runner. */
export async function time(calls) {
  const run = runner;
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await run();
  return (performance.now() - t0) / 1000 / calls;
}
