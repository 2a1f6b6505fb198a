// Where the harness finds things. Everything it generates lives under bench/ and is gitignored.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = path.resolve(BENCH_DIR, '..');
/** The shared peer scripts (read-only: the harness works on a copy). */
export const PEERS_SRC = process.env.RNNKIT_PEERS_SRC || path.resolve(REPO_DIR, '..', 'shared', 'bench', 'peers');
/** The copy of PEERS_SRC the harness runs from, refreshed on every run. */
export const PEERS_COPY = path.join(BENCH_DIR, '.peers');
/** ONNX models exported by the peers' ort/make_models.py. */
export const MODELS_DIR = path.join(BENCH_DIR, '.models');
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');
/** Peer packages (onnxruntime, tfjs) are installed here, never in rnnkit's own node_modules. */
export const BENCH_NODE_MODULES = path.join(BENCH_DIR, 'node_modules');
/** Debian's python3 is the one with python3-torch / python3-onnx. */
export const PYTHON = process.env.RNNKIT_BENCH_PYTHON || '/usr/bin/python3';
/** The compiled rnnkit (`npm run build` → tsc → dist/). */
export const DIST_BACKEND_DIR = path.join(REPO_DIR, 'dist', 'src', 'backend');
