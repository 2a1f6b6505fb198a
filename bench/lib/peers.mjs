// Prepares the peer scripts: a fresh copy of the shared peers directory (never modified in
// place), wired to bench/node_modules for its packages and to bench/.models for its ONNX files.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BENCH_NODE_MODULES, MODELS_DIR, PEERS_COPY, PEERS_SRC, PYTHON } from './paths.mjs';

// Top-level entries of the shared directory that are installed or generated there, never
// copied: the copy gets links instead (node_modules → bench/node_modules, models → bench/.models).
const NOT_COPIED = new Set(['node_modules', 'models', 'logs', 'results.jsonl', 'results.md']);

/** Copy PEERS_SRC to PEERS_COPY (replacing any older copy) and link its packages and models. */
export function copyPeers() {
  if (!fs.existsSync(path.join(PEERS_SRC, 'lib', 'timing.js'))) {
    throw new Error(`peer scripts not found at ${PEERS_SRC} (expected lib/timing.js there); ` +
      'set RNNKIT_PEERS_SRC to the shared bench/peers directory');
  }
  fs.rmSync(PEERS_COPY, { recursive: true, force: true });
  fs.cpSync(PEERS_SRC, PEERS_COPY, {
    recursive: true,
    filter: (src) => path.basename(src) !== '__pycache__' && !NOT_COPIED.has(path.relative(PEERS_SRC, src)),
  });
  // The shared tree is read-only; the copy must be writable (python writes __pycache__ there).
  makeWritable(PEERS_COPY);
  fs.mkdirSync(MODELS_DIR, { recursive: true });
  fs.symlinkSync(path.relative(PEERS_COPY, BENCH_NODE_MODULES), path.join(PEERS_COPY, 'node_modules'));
  fs.symlinkSync(path.relative(PEERS_COPY, MODELS_DIR), path.join(PEERS_COPY, 'models'));
}

/** Add owner write permission throughout (keeping the other bits, e.g. run-all.sh's x). */
function makeWritable(p) {
  fs.chmodSync(p, fs.statSync(p).mode | 0o200);
  if (fs.statSync(p).isDirectory()) for (const name of fs.readdirSync(p)) makeWritable(path.join(p, name));
}

/** Throw a clear error unless every package is installed in bench/node_modules. */
export function requirePackages(packages, forWhat) {
  const missing = packages.filter((p) => !fs.existsSync(path.join(BENCH_NODE_MODULES, p, 'package.json')));
  if (missing.length) {
    throw new Error(`${forWhat} needs ${missing.join(', ')} in bench/node_modules; install the peers with:\n` +
      '  cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm install');
  }
}

/**
 * Export the ONNX models with the peers' own ort/make_models.py (run from the copy, so that
 * it writes through the copy's models link into bench/.models). Skipped when the models
 * were already made by the same version of the script.
 */
export function ensureModels(log) {
  const script = path.join(PEERS_COPY, 'ort', 'make_models.py');
  const stamp = path.join(MODELS_DIR, '.made-by');
  const digest = createHash('sha256').update(fs.readFileSync(script)).digest('hex');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === digest) return;
  log(`exporting the ONNX models with ${path.relative(process.cwd(), script)} (PyTorch) ...`);
  const r = spawnSync(PYTHON, [script], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n').slice(-3).join('\n');
    throw new Error(`${PYTHON} ${script} failed: ${why}\n` +
      'the ONNX export needs Debian\'s python3-torch and python3-onnx:\n' +
      '  apt-get install -y python3-torch python3-numpy python3-onnx libopenblas0-openmp');
  }
  fs.writeFileSync(stamp, digest);
}
