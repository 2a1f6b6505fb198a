// PyTorch → rnnkit → PyTorch. examples/pytorch/export.py saves the weights of a seeded
// 2-layer bidirectional nn.LSTM and an nn.GRU as safetensors and prints what they compute
// on a fixed input. rnnkit imports each file (the cell, layers and directions come from the
// tensors' names and shapes), runs the same input and compares with PyTorch's outputs; then
// it takes one SGD step on the loss sum(y · dy) with its own backward pass, and exports the
// new weights. export.py reloads them into fresh PyTorch modules (strictly: every name and
// shape) and checks them against PyTorch's own SGD step and rnnkit's new outputs.
//
// Needs a Python with PyTorch (Debian: apt-get install python3-torch).
//
//   npm run build && node examples/pytorch-roundtrip.mjs [--python python3] [--backend native|wasm|reference]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createStack, exportTorchRnn, importTorchRnn } from '../dist/src/index.js';

const { values: opt } = parseArgs({
  options: {
    python: { type: 'string', default: process.env.RNNKIT_PYTHON ?? 'python3' },
    backend: { type: 'string' }, // default: the fastest that loads (RNNKIT_BACKEND forces one)
    keep: { type: 'boolean', default: false }, // keep the directory of files
  },
});
const TOLERANCE = 1e-5; // float32 on both sides, summed in different orders
const script = fileURLToPath(new URL('pytorch/export.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rnnkit-pytorch-'));

/** Run export.py; its failure (no Python, no torch, a check that fails) ends this example. */
function python(command) {
  const r = spawnSync(opt.python, [script, command, dir], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    process.stdout.write(r.stdout ?? '');
    const hint = /No module named 'torch'/.test(r.stderr ?? '') ? `\n${opt.python} has no PyTorch: install it (Debian: apt-get install python3-torch) or pass --python <a python with torch>` : '';
    throw new Error(`${opt.python} ${script} ${command} failed: ${r.error?.message ?? r.stderr.trim()}${hint}`);
  }
  return r.stdout;
}
const maxDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

try {
  const fromTorch = JSON.parse(python('export'));
  const { steps, batch, lr } = fromTorch;
  const x = Float32Array.from(fromTorch.x);
  const back = {};
  for (const m of fromTorch.modules) {
    const imported = await importTorchRnn(join(dir, m.file));
    const stack = await createStack({ ...imported, backend: opt.backend });
    const { spec } = stack;
    const what = `${m.name} (${spec.layers}-layer${spec.bidirectional ? ' bidirectional' : ''} ${spec.cell}, input ${spec.inputSize}, hidden ${spec.hiddenSize})`;

    // The same input as PyTorch: time-major [T][B][I], outputs [T][B][directions·H], states [layers·directions][B][H].
    const out = await stack.forward(x, { steps, batch, training: true });
    const diff = Math.max(maxDiff(out.y, m.y), maxDiff(out.hn, m.hn), m.cn ? maxDiff(out.cn, m.cn) : 0);
    console.log(`${what}: outputs match PyTorch's to ${diff.toExponential(1)} (y, hn${m.cn ? ', cn' : ''}) on ${stack.info.backend}`);
    if (!(diff <= TOLERANCE)) throw new Error(`${m.name}: rnnkit's outputs differ from PyTorch's by ${diff}`);

    // One SGD step with rnnkit's gradients of sum(y · dy), then the new weights go back to PyTorch.
    stack.zeroGradients();
    await stack.backward({ dy: Float32Array.from(m.dy) });
    const params = stack.getFlatParameters();
    const grads = stack.getFlatGradients();
    for (let i = 0; i < params.length; i++) params[i] -= lr * grads[i];
    stack.setFlatParameters(params);
    const after = await stack.forward(x, { steps, batch });
    back[m.name] = { y: Array.from(after.y), hn: Array.from(after.hn), cn: after.cn ? Array.from(after.cn) : null };
    await exportTorchRnn(join(dir, `rnnkit-${m.name}.safetensors`), stack.spec, params);
    stack.dispose();
  }
  writeFileSync(join(dir, 'rnnkit-outputs.json'), JSON.stringify(back));
  process.stdout.write(python('check'));
  console.log('round trip ok: PyTorch → rnnkit → PyTorch');
} finally {
  if (opt.keep) console.log(`files in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
