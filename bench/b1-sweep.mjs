#!/usr/bin/env node
/**
 * The batch-1 recurrent product alone, by hidden size: an LSTM layer with input size 8 (so
 * the input projection costs ~nothing; --input 128 gives lstm-infer-b1's layer, projection
 * included) runs T 256 steps at batch 1; the best of 5 × 20 forwards gives µs per step and
 * GFLOP/s of h·W_hhᵀ (counting only that product). Shows whether a core is bound by the
 * kernel (the same rate with W_hh in L2 and in L3) or by memory. No peer, no check against
 * the reference (bench/run.mjs does that): a diagnostic, run on a quiet machine.
 *
 *   node bench/b1-sweep.mjs [native|wasm] [--threads 1,2] [--hidden 128,192,256] [--input 8] [--module rnnkit-threads.wasm]
 *   (wasm: add node's --no-liftoff to time optimised code from the first call)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DIST_BACKEND_DIR, REPO_DIR } from './lib/paths.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    threads: { type: 'string', default: '1,2' },
    hidden: { type: 'string', default: '128,192,256' },
    input: { type: 'string', default: '8' },
    module: { type: 'string', default: 'rnnkit-threads.wasm' },
  },
});
const kind = positionals[0] ?? 'native';
const list = (s) => s.split(',').map(Number);
const dist = (file) => pathToFileURL(path.join(DIST_BACKEND_DIR, file)).href;

let backend;
if (kind === 'wasm') {
  const { WasmBackend } = await import(dist('wasm/backend.js'));
  const { instantiateRnnkit } = await import(dist('wasm/module.js'));
  backend = new WasmBackend(await instantiateRnnkit(readFileSync(path.join(REPO_DIR, 'wasm/dist', values.module))), { worker: false });
} else if (kind === 'native') {
  backend = await (await import(dist('load.js'))).loadBackend('native');
} else {
  throw new Error(`backend must be native or wasm; got ${kind}`);
}

const T = 256;
const I = Number(values.input);
for (const threads of list(values.threads)) {
  backend.setThreads(threads);
  for (const H of list(values.hidden)) {
    const stack = backend.createStack({ cell: 'lstm', inputSize: I, hiddenSize: H, outputSize: H, layers: 1, bidirectional: false });
    backend.setParams(stack, new Float32Array(backend.getParams(stack).length).map((_, k) => Math.sin(k) * 0.1));
    const x = new Float32Array(T * I).map((_, k) => Math.cos(k));
    for (let i = 0; i < 40; i++) await backend.forward(stack, { x, steps: T, batch: 1 });
    let best = Infinity;
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) await backend.forward(stack, { x, steps: T, batch: 1 });
      best = Math.min(best, (performance.now() - t0) / 20);
    }
    const macs = 4 * H * H;
    const us = (best * 1000) / T;
    console.log(`${kind}${kind === 'wasm' ? ` ${values.module}` : ''} threads ${threads} I ${I} H ${H}: W_hh ${((macs * 4) / 1024).toFixed(0)} KB, ${us.toFixed(2)} µs/step, ${((2 * macs) / us / 1000).toFixed(1)} GFLOP/s`);
    backend.dispose(stack);
  }
}
process.exit(0);
