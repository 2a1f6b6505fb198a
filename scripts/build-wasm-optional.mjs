#!/usr/bin/env node
/**
 * The wasm step of `npm run build`: builds wasm/dist/rnnkit.wasm (node wasm/build.mjs) when
 * Emscripten's em++ is on PATH; otherwise prints ONE line saying so and exits 0, so that a
 * clone without Emscripten still gets its TypeScript build.
 *
 * Why `npm run build` builds the wasm at all: in a clone, wasm/dist/ is not in git, and
 * without rnnkit.wasm a machine that has no native addon (no C++ compiler at `npm ci`) runs
 * on the reference backend, tens of times slower than wasm.
 *
 * When em++ is present, a failing wasm build fails `npm run build` (it is a real error).
 * `npm run build:wasm` and `npm pack` (prepack) always require Emscripten.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const wasm = path.join('wasm', 'dist', 'rnnkit.wasm');

// The environment wasm/build.mjs gives Debian's emscripten.
const env = { ...process.env };
env.EMSDK_PYTHON ??= '/usr/bin/python3';
env.NODE_PATH ??= '/usr/share/nodejs';
const probe = spawnSync('em++', ['--version'], { env, stdio: 'ignore', shell: process.platform === 'win32' });

if (probe.error || probe.status !== 0) {
  const have = existsSync(path.join(root, wasm));
  console.log(
    have
      ? `rnnkit: em++ (Emscripten) not found; kept the existing ${wasm}, which may be older than native/`
      : `rnnkit: em++ (Emscripten) not found; ${wasm} not built, so without the native addon rnnkit runs on its slow reference backend (install Emscripten, e.g. apt-get install emscripten, then npm run build:wasm)`,
  );
  process.exit(0);
}
const r = spawnSync(process.execPath, [path.join(root, 'wasm', 'build.mjs')], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
