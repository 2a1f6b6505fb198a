#!/usr/bin/env node
/**
 * Builds the WebAssembly backend: native/sources.json (its "common" and "isa.all" sources
 * plus the "isa.wasm" groups) compiled with Emscripten into ONE standalone
 * module, wasm/dist/rnnkit.wasm. No Emscripten JavaScript glue is generated: the module is
 * instantiated by src/backend/wasm/module.ts, which supplies the handful of imports it
 * needs, so the same file runs in Node and in browsers without Node built-ins or eval.
 *
 *   node wasm/build.mjs            (npm run build:wasm)
 *   RNNKIT_WASM_EXCEPTIONS=off     build with -fno-exceptions (only if the C++ has no try/catch)
 *   RNNKIT_WASM_DEBUG=1            -O1 -g, assertions in the C++ (NDEBUG off)
 *   RNNKIT_WASM_PROFILE=1          -O3 with function names kept (node --cpu-prof shows them)
 *
 * Needs em++ on PATH (Debian: apt-get install emscripten; EMSDK_PYTHON=/usr/bin/python3 is
 * set here if unset). Users of the npm package never run this: the .wasm ships in the package.
 * Objects go to build/wasm/ and are rebuilt only when a source or a header it includes changed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { wasmBuildInputs } from './sources.mjs';
import { checkModule } from './check.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const objDir = path.join(root, 'build', 'wasm');
const outDir = path.join(root, 'wasm', 'dist');
const outFile = path.join(outDir, 'rnnkit.wasm');
const header = path.join(root, 'native', 'include', 'rnnkit.h');
const debug = process.env.RNNKIT_WASM_DEBUG === '1';
const profile = process.env.RNNKIT_WASM_PROFILE === '1';
const exceptions = process.env.RNNKIT_WASM_EXCEPTIONS !== 'off';
const jobs = Math.max(1, Number(process.env.RNNKIT_WASM_JOBS ?? 2));

const env = { ...process.env };
// Debian's emscripten needs these to find its Python and its node modules (acorn, terser).
env.EMSDK_PYTHON ??= '/usr/bin/python3';
env.NODE_PATH ??= '/usr/share/nodejs';

/** Every function the C ABI declares: the module exports exactly these, plus malloc/free. */
export function abiFunctions(text = readFileSync(header, 'utf8')) {
  const withoutComments = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const names = new Set();
  for (const m of withoutComments.matchAll(/\b(rk_[a-z0-9_]+)\s*\(/g)) names.add(m[1]);
  if (names.size === 0) throw new Error(`no rk_* functions found in ${header}`);
  return [...names].sort();
}

/** Flags for every translation unit; a sources.json group adds its own after these. */
function baseCompileFlags({ includeDirs, defines }) {
  return [
    '-std=c++17',
    debug ? '-O1' : '-O3',
    ...(debug ? ['-g'] : ['-DNDEBUG']),
    // No -msimd128 here: as sources.json says, common code gets baseline flags and only
    // the isa.wasm group adds -msimd128, so the "scalar" path really is scalar code.
    // defines.wasm of sources.json: RNNKIT_NO_THREADS, the pool runs tasks inline.
    ...defines.map((d) => `-D${d}`),
    // The C ABI catches every exception at its entry points. Native wasm exception handling
    // keeps those catches working (Emscripten's default turns a throw into an abort) without
    // the JavaScript invoke_* trampolines of -fexceptions.
    exceptions ? '-fwasm-exceptions' : '-fno-exceptions',
    '-Wall',
    ...includeDirs.map((d) => `-I${d}`),
  ];
}

function linkFlags(exports) {
  return [
    debug ? '-O1' : '-O3',
    ...(debug ? ['-g'] : []),
    ...(profile ? ['--profiling-funcs'] : []),
    exceptions ? '-fwasm-exceptions' : '-fno-exceptions',
    // A reactor module: no main, _initialize runs the static constructors.
    '--no-entry',
    // Only WASI + one env import, and no JS glue: src/backend/wasm/module.ts is the loader.
    '-sSTANDALONE_WASM=1',
    '-sALLOW_MEMORY_GROWTH=1',
    // emmalloc: 7.7 KB smaller than dlmalloc; the kernels never allocate, and a call makes at
    // most a few allocations (its frame), so the allocator's speed does not show (wasm-ab.mjs).
    '-sMALLOC=emmalloc',
    '-sINITIAL_MEMORY=4MB',
    '-sTOTAL_STACK=1MB',
    '-sMAXIMUM_MEMORY=4GB',
    '-sERROR_ON_UNDEFINED_SYMBOLS=1',
    `-sEXPORTED_FUNCTIONS=${[...exports.map((n) => '_' + n), '_malloc', '_free'].join(',')}`,
  ];
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (e) =>
      reject(new Error(`cannot run ${cmd}: ${e.message} (install Emscripten: apt-get install emscripten, or emsdk)`)),
    );
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}`))));
  });
}

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/** An object is current if it is newer than every file its .d dependency list names. */
function upToDate(obj, dep) {
  const t = mtime(obj);
  if (t < 0 || !existsSync(dep)) return false;
  const deps = readFileSync(dep, 'utf8')
    .replace(/\\\n/g, ' ')
    .split(':')
    .slice(1)
    .join(':')
    .split(/\s+/)
    .filter(Boolean);
  return deps.every((d) => mtime(d) >= 0 && mtime(d) <= t);
}

/**
 * Units compiled for size (-Os after -O3): the portable scalar kernels. Every engine that
 * runs this module has SIMD (the module uses it), so the scalar table only serves tests and
 * RNNKIT_WASM_ISA=scalar; its speed does not matter, its bytes do (the download budget).
 */
const SIZE_OVER_SPEED = new Set(['native/src/isa/scalar.cc']);

async function compileAll(inputs) {
  const base = baseCompileFlags(inputs);
  mkdirSync(objDir, { recursive: true });
  const objects = [];
  const todo = [];
  for (const { file, flags } of inputs.units) {
    const rel = path.relative(root, file);
    const obj = path.join(objDir, rel.replace(/[\\/]/g, '__') + '.o');
    const dep = obj.replace(/\.o$/, '.d');
    const stamp = obj.replace(/\.o$/, '.flags');
    const args = [...base, ...flags.filter((f) => !base.includes(f)), ...(SIZE_OVER_SPEED.has(rel) && !debug ? ['-Os'] : [])];
    objects.push(obj);
    // Recompile when the flags changed, or the source or a header it includes is newer.
    const sameFlags = existsSync(stamp) && readFileSync(stamp, 'utf8') === JSON.stringify(args);
    if (!sameFlags || !upToDate(obj, dep)) todo.push({ file, obj, dep, rel, args, stamp });
  }
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const { file, obj, dep, rel, args, stamp } = todo[next++];
      console.log(`em++ ${rel}`);
      await run('em++', [...args, '-MMD', '-MF', dep, '-c', file, '-o', obj]);
      writeFileSync(stamp, JSON.stringify(args));
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, todo.length) }, worker));
  return objects;
}

async function main() {
  const inputs = wasmBuildInputs(root);
  const exports = abiFunctions();
  const objects = await compileAll(inputs);
  mkdirSync(outDir, { recursive: true });
  const tmp = path.join(objDir, 'rnnkit.wasm');
  console.log(`em++ -o ${path.relative(root, outFile)} (${objects.length} objects, exports: ${exports.join(' ')})`);
  await run('em++', [...linkFlags(exports), ...objects, '-o', tmp]);
  // Refuse a module the loader could not instantiate, before it replaces a good one.
  checkModule(readFileSync(tmp), exports);
  renameSync(tmp, outFile);
  console.log(`wrote ${path.relative(root, outFile)} (${statSync(outFile).size} bytes)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`build:wasm failed: ${e.message}`);
    process.exit(1);
  });
}
