#!/usr/bin/env node
/**
 * npm "install" script: make the native addon available if this machine can have it, and
 * NEVER fail the install — without the addon rnnkit runs on its wasm or reference backend.
 *
 * Not required where a prebuild matches: at run time node-gyp-build finds
 * prebuilds/<platform>-<arch>/ itself (src/backend/native/addon.ts), so an install with
 * scripts disabled (--ignore-scripts, or npm's allowScripts policy denying rnnkit) still
 * gets the native addon there, and wasm elsewhere. This script only adds a compile where
 * no prebuild matches or the prebuild does not load (e.g. an older glibc or libstdc++).
 *
 *   1. An addon that already loads (the prebuild in prebuilds/<platform>-<arch>/ shipped
 *      in the package, or an earlier local build) → done, nothing is compiled.
 *   2. Otherwise compile it with node-gyp (npm's bundled one, else node-gyp on PATH, else
 *      the devDependency), output in build/install.log, then check that it loads.
 *   3. If that fails for any reason: one line saying so, exit 0.
 *
 * Environment: RNNKIT_SKIP_BUILD=1 skips step 2; RNNKIT_BUILD_JOBS=n compile jobs
 * (default: min(cores, 4)). Node headers: node-gyp's usual ones, or, when none are
 * configured, the headers installed beside this node (e.g. /usr/include/node from a
 * distribution package) if their version matches, so that an offline machine can build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const where = `${process.platform}-${process.arch}, node ${process.versions.node}`;

function notice(message) {
  console.log(`rnnkit: ${message}`);
}

/** The backend rnnkit falls back to without an addon: wasm if its module is here (it ships in the package). */
const fallback = existsSync(path.join(root, 'wasm', 'dist', 'rnnkit.wasm'))
  ? 'wasm backend'
  : 'wasm backend once wasm/dist/rnnkit.wasm is built (npm run build, with Emscripten), else its reference backend';

/**
 * The addon file that loads, or the reason none does. Tried in a child process: a broken
 * binary that crashes node on load must not take the install down with it.
 */
function loadable() {
  const probe = `
    const file = require('node-gyp-build').resolve(process.argv[1]);
    require(file);
    process.stdout.write(file);`;
  const r = spawnSync(process.execPath, ['-e', probe, root], { cwd: root, encoding: 'utf8' });
  if (r.status === 0 && r.stdout) return { file: r.stdout };
  const reason = (r.stderr || '').split('\n').find((l) => /Error/.test(l)) || `exit ${r.status ?? r.signal}`;
  return { error: reason.trim() };
}

/** How to run node-gyp: [command, ...args] or null. */
function nodeGypCommand() {
  const bundled = process.env.npm_config_node_gyp;
  if (bundled && existsSync(bundled)) return [process.execPath, bundled];
  try {
    return [process.execPath, require.resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    // not installed as a package: try PATH
  }
  const probe = spawnSync('node-gyp', ['--version'], { stdio: 'ignore' });
  return probe.status === 0 ? ['node-gyp'] : null;
}

/**
 * --nodedir for offline builds: when nothing is configured, use headers installed beside
 * this node binary (<prefix>/include/node) if they are for this exact version.
 */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const versionH = path.join(prefix, 'include', 'node', 'node_version.h');
  if (!existsSync(versionH) || !existsSync(path.join(prefix, 'include', 'node', 'common.gypi'))) return [];
  const text = readFileSync(versionH, 'utf8');
  const part = (n) => (text.match(new RegExp(`#define NODE_${n}_VERSION (\\d+)`)) || [])[1];
  const version = `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
  return version === process.versions.node ? [`--nodedir=${prefix}`] : [];
}

function compile() {
  const gyp = nodeGypCommand();
  if (!gyp) return 'node-gyp is not available';
  const jobs = Number(process.env.RNNKIT_BUILD_JOBS) || Math.min(os.availableParallelism?.() ?? os.cpus().length, 4);
  const logFile = path.join(root, 'build', 'install.log');
  mkdirSync(path.dirname(logFile), { recursive: true });
  const log = openSync(logFile, 'w');
  const [cmd, ...pre] = gyp;
  // configure + build rather than rebuild: rebuild deletes all of build/, which in a
  // development checkout also holds other builds (build/wasm objects).
  const steps = [
    ['configure', '--release', ...nodedirArgs()],
    ['build', '--release', `--jobs=${jobs}`],
  ];
  try {
    for (const step of steps) {
      const r = spawnSync(cmd, [...pre, ...step], { cwd: root, stdio: ['ignore', log, log] });
      if (r.error) return `${cmd} could not run: ${r.error.message}`;
      if (r.status !== 0) return `the compile failed (node-gyp ${step[0]} exit ${r.status}; see ${logFile})`;
    }
  } finally {
    closeSync(log);
  }
  return null;
}

function main() {
  const before = loadable();
  if (before.file) return; // prebuild or earlier build: nothing to do
  if (process.env.RNNKIT_SKIP_BUILD === '1') {
    notice(`no native addon for ${where} and RNNKIT_SKIP_BUILD=1; rnnkit will use its ${fallback}`);
    return;
  }
  const failure = compile();
  const after = failure ? null : loadable();
  if (failure || !after.file) {
    const why = failure ?? `the built addon does not load: ${after.error}`;
    notice(`no prebuilt native addon for ${where} and ${why}; rnnkit will use its ${fallback}`);
    return;
  }
  notice(`compiled the native addon for ${where}: ${path.relative(root, after.file)}`);
}

try {
  main();
} catch (e) {
  // Whatever went wrong, the install itself must succeed.
  notice(`native addon setup failed (${e && e.message}); rnnkit will use its ${fallback}`);
}
process.exit(0);
