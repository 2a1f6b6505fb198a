// The in-page half of bench/browser.mjs: rnnkit's browser entry and onnxruntime-web in one
// Chromium page, both on WebAssembly with one thread. The driver calls these through
// page.evaluate; weights and inputs come from the same seeded generator as the Node
// harness (bench/lib/random.mjs, served as is), so the driver can recompute the check.
import * as rnnkit from '/dist/src/web.js';
import * as ort from '/ort/ort.wasm.min.mjs';
import { normal, rng, seedOf, uniform } from '/bench-lib/random.mjs';

const runners = {};

/**
 * Builds the runners for workload `w`: rnnkit on its `variant` module ('simd128', 'relaxed', or
 * undefined: what the loader picks) and, with `withOrt`, onnxruntime-web; returns rnnkit's
 * output on a `checkT`-step input.
 */
export async function setup(w, checkT, variant, withOrt = true) {
  const info = await rnnkit.init(variant ? { variant } : undefined);
  const rand = rng(seedOf(w.id));
  const stack = await rnnkit.createStack({ cell: w.cell, inputSize: w.I, hiddenSize: w.H, layers: w.layers });
  // Drawn in the order bench/browser.mjs redraws them for the reference check.
  stack.setFlatParameters(uniform(rand, rnnkit.paramLayout(stack.spec).total, 1 / Math.sqrt(w.H)));
  const x = normal(rand, w.T * w.B * w.I);
  const checkX = normal(rand, checkT * w.B * w.I);
  const check = await stack.forward(checkX, { steps: checkT, batch: w.B });
  runners.rnnkit = () => stack.forward(x, { steps: w.T, batch: w.B });
  const rnnkitInfo = { backend: info.backend, isa: info.isa, threads: info.threads, y: Array.from(check.y) };
  if (!withOrt) return { rnnkit: rnnkitInfo, userAgent: navigator.userAgent };

  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
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
  const state = [w.layers, w.B, w.H];
  const feeds = {
    x: new ort.Tensor('float32', x, [w.T, w.B, w.I]),
    h0: new ort.Tensor('float32', new Float32Array(w.layers * w.B * w.H), state),
    c0: new ort.Tensor('float32', new Float32Array(w.layers * w.B * w.H), state),
  };
  runners['ort-web'] = () => session.run(feeds);
  return {
    rnnkit: rnnkitInfo,
    ortWeb: { version: ort.env.versions?.web ?? null, numThreads: ort.env.wasm.numThreads, maxAbsErrVsPyTorch: ortErr },
    userAgent: navigator.userAgent,
  };
}

/** Mean seconds per call over `calls` back-to-back calls of one runner. */
export async function time(name, calls) {
  const run = runners[name];
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await run();
  return (performance.now() - t0) / 1000 / calls;
}
