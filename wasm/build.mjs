#!/usr/bin/env node
/**
 * Builds the WebAssembly backend: native/sources.json (its "common" and "isa.all" sources
 * plus the "isa.wasm" groups) compiled with Emscripten into standalone modules:
 *   - wasm/dist/rnnkit.wasm: simd128 (the default; every engine with SIMD runs it);
 *   - wasm/dist/rnnkit-relaxed.wasm: the same objects except the "isa.wasm" group, compiled
 *     again with -mrelaxed-simd by clang-16 (fmadd = f32x4.relaxed_madd, simd/f32-wasm.h).
 *     The loader picks it where the engine validates relaxed SIMD (src/backend/wasm/variant.ts).
 *     Skipped, with a message, when clang-16 is missing (apt-get install clang-16 lld-16).
 *   - wasm/dist/rnnkit-threads.wasm: simd128 with a thread pool over shared memory: every unit
 *     compiled again with -matomics -mbulk-memory and RNNKIT_WASM_THREADS instead of
 *     RNNKIT_NO_THREADS; it imports its (shared) memory and two host functions, and the
 *     host starts its workers (src/backend/wasm/threads.ts). Needs SharedArrayBuffer: Node,
 *     or a cross-origin-isolated page.
 *   - wasm/dist/rnnkit-threads-relaxed.wasm: the threaded module with isa/wasm.cc compiled by
 *     clang-16 with -mrelaxed-simd (linked as rnnkit-relaxed.wasm is, without binaryen).
 * No Emscripten JavaScript glue is generated: the module is instantiated by
 * src/backend/wasm/module.ts, which supplies the handful of imports it needs, so the same
 * file runs in Node and in browsers without Node built-ins or eval.
 *
 *   node wasm/build.mjs            (npm run build:wasm)
 *   RNNKIT_WASM_EXCEPTIONS=off     build with -fno-exceptions (only if the C++ has no try/catch)
 *   RNNKIT_WASM_DEBUG=1            -O1 -g, assertions in the C++ (NDEBUG off)
 *   RNNKIT_WASM_PROFILE=1          -O3 with function names kept (node --cpu-prof shows them)
 *   RNNKIT_WASM_RELAXED=off        skip rnnkit-relaxed.wasm; =require fails when clang-16 is missing
 *   RNNKIT_WASM_THREADS=off        skip rnnkit-threads.wasm
 *
 * Why the relaxed module is linked without binaryen: Debian's Emscripten 3.1.6 runs binaryen
 * 108 after wasm-ld (wasm-emscripten-finalize, wasm-opt -O3), which only knows the
 * pre-standard relaxed-SIMD opcodes and refuses f32x4.relaxed_madd (0xfd 0x105) as "invalid
 * code after SIMD prefix"; LLVM 14 (Emscripten's clang) only emits the pre-standard ones, which
 * today's engines refuse. So the "isa.wasm" unit is compiled by clang-16 (standard opcodes;
 * Emscripten's own flags and headers, EM_CLANG_ADD_VERSION=16) and the module is linked by
 * the same em++ / wasm-ld as rnnkit.wasm, with no binaryen pass: link level -O1 (binaryen
 * only runs at -O2+), -sWASM_BIGINT (no i64 dynCall thunks to add) and
 * EMCC_READ_METADATA=python (metadata read without wasm-emscripten-finalize). Every object is
 * -O3 by LLVM as in rnnkit.wasm; what binaryen -O3 would have shaved off the code (~13%) is
 * missing, and the custom sections wasm-ld writes (names, features) are dropped here.
 *
 * Needs em++ on PATH (Debian: apt-get install emscripten; EMSDK_PYTHON=/usr/bin/python3 is
 * set here if unset). Users of the npm package never run this: the .wasm ships in the package.
 * Objects go to build/wasm/ and are rebuilt only when a source or a header it includes changed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { wasmBuildInputs } from './sources.mjs';
import { checkModule } from './check.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const objDir = path.join(root, 'build', 'wasm');
const outDir = path.join(root, 'wasm', 'dist');
const outFile = path.join(outDir, 'rnnkit.wasm');
const relaxedObjDir = path.join(objDir, 'relaxed');
const relaxedOutFile = path.join(outDir, 'rnnkit-relaxed.wasm');
const relaxedMode = process.env.RNNKIT_WASM_RELAXED ?? 'auto'; // auto | off | require
const threadsObjDir = path.join(objDir, 'threads');
const threadsOutFile = path.join(outDir, 'rnnkit-threads.wasm');
const threadsRelaxedObjDir = path.join(objDir, 'threads-relaxed');
const threadsRelaxedOutFile = path.join(outDir, 'rnnkit-threads-relaxed.wasm');
const threadsMode = process.env.RNNKIT_WASM_THREADS ?? 'on'; // on | off
/**
 * The system libraries of the threaded module, in place of em++'s defaults (-nodefaultlibs):
 * the allocator and C++ runtime in their thread-safe ("-mt") builds, which Debian's
 * Emscripten ships precompiled — emmalloc-mt takes a spin lock around every call, and
 * libc++-mt is compiled with atomics, which shared memory requires of every object. libc
 * stays the standalone one (no pthreads: its pthread functions are stubs, which the pool does
 * not use; it locks nothing of its own).
 */
const THREADS_SYSTEM_LIBS = [
  '-lstandalonewasm-memgrow', '-lstubs', '-lnoexit', '-lc', '-lemmalloc-mt', '-lcompiler_rt-mt',
  '-lc++-mt-except', '-lc++abi-mt-except', '-lunwind-mt-except', '-lsockets',
];
/** Emscripten runs <LLVM_ROOT>/clang-16 with EM_CLANG_ADD_VERSION=16 (Debian: /usr/bin). */
const RELAXED_CLANG = '16';
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

const LTO = '-flto';

/** The wasm features of shared memory: atomic instructions, passive data segments. */
const THREADS_FLAGS = ['-matomics', '-mbulk-memory'];

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
    // No dynamic_cast or typeid in the C++: 1.5 KB less type information.
    '-fno-rtti',
    // Link-time optimisation over every unit: 8.5 KB smaller (dead code across units), speed
    // and results unchanged (bench/wasm-ab.mjs: b1 and b64 within 1%, outputs bit-identical).
    LTO,
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
    LTO,
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
    '--js-library', path.join(root, 'wasm', 'host-imports.js'),
    `-sEXPORTED_FUNCTIONS=${[...exports.map((n) => '_' + n), '_malloc', '_free'].join(',')}`,
  ];
}

function run(cmd, args, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'inherit', 'inherit'] });
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
 * Units compiled for size (-Os after -O3), whose speed does not matter but whose bytes do (the
 * download budget): the portable scalar kernels (every engine that runs this module has SIMD,
 * so the scalar table only serves tests and RNNKIT_WASM_ISA=scalar). (The C ABI's entry
 * points and checks at -Os made the module larger, not smaller: 186.9 KB against 186.4.)
 */
const SIZE_OVER_SPEED = new Set(['native/src/isa/scalar.cc']);

/**
 * Compile every unit (into build/wasm/); `variant` (optional) recompiles the units it selects
 * with its own flags (`flags` added, `drop` removed), compiler environment and object
 * directory instead, and the others as `variant.others` does when it has one (a variant of a
 * variant: the threaded relaxed module is the threaded one with its SIMD unit recompiled).
 */
async function compileAll(inputs, variant = null) {
  const base = baseCompileFlags(inputs);
  mkdirSync(objDir, { recursive: true });
  for (let v = variant; v; v = v.others) mkdirSync(v.objDir, { recursive: true });
  const objects = [];
  const todo = [];
  for (const { file, flags } of inputs.units) {
    const rel = path.relative(root, file);
    const own = variant?.selects(flags) ? variant : (variant?.others ?? null);
    const obj = path.join(own ? own.objDir : objDir, rel.replace(/[\\/]/g, '__') + '.o');
    const dep = obj.replace(/\.o$/, '.d');
    const stamp = obj.replace(/\.o$/, '.flags');
    const args = [
      ...base.filter((f) => !(own && own.drop?.includes(f))),
      ...flags.filter((f) => !base.includes(f)),
      ...(own ? own.flags : []),
      ...(SIZE_OVER_SPEED.has(rel) && !debug ? ['-Os'] : []),
    ];
    const extraEnv = own ? own.env : {};
    objects.push(obj);
    // Recompile when the flags changed, or the source or a header it includes is newer.
    const stampText = JSON.stringify(own ? { args, env: extraEnv } : args);
    const sameFlags = existsSync(stamp) && readFileSync(stamp, 'utf8') === stampText;
    if (!sameFlags || !upToDate(obj, dep)) todo.push({ file, obj, dep, rel, args, stamp, stampText, extraEnv, own });
  }
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const { file, obj, dep, rel, args, stamp, stampText, extraEnv, own } = todo[next++];
      console.log(`em++ ${rel}${own ? ` (${own.name})` : ''}`);
      await run('em++', [...args, '-MMD', '-MF', dep, '-c', file, '-o', obj], extraEnv);
      writeFileSync(stamp, stampText);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, todo.length) }, worker));
  return objects;
}

/** Whether `cmd --version` runs. */
function hasCommand(cmd) {
  const r = spawnSync(cmd, ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

/** The module without its custom sections (wasm-ld's "name", "target_features", "producers"). */
export function stripCustomSections(bytes) {
  if (bytes.readUInt32BE(0) !== 0x0061736d) throw new Error('not a wasm module');
  const keep = [bytes.subarray(0, 8)];
  let p = 8;
  while (p < bytes.length) {
    const start = p;
    const id = bytes[p++];
    let size = 0;
    let shift = 0;
    let b;
    do {
      b = bytes[p++];
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    p += size;
    if (p > bytes.length) throw new Error('truncated wasm section');
    if (id !== 0) keep.push(bytes.subarray(start, p));
  }
  return Buffer.concat(keep);
}

/**
 * The relaxed module's checks, in child processes (this Node may lack the flag or have
 * relaxed SIMD on by default): with --experimental-wasm-relaxed-simd it passes
 * checkModule; without, when this Node does not validate relaxed SIMD by default, it is
 * refused — so it does use relaxed-SIMD opcodes, in the encoding V8 implements (the standard one).
 */
function checkRelaxedModule(file, exports, threads = false) {
  const script = `
    import { readFileSync } from 'node:fs';
    import { checkModule, RELAXED_SIMD_PROBE } from ${JSON.stringify(pathToFileURL(path.join(root, 'wasm/check.mjs')).href)};
    const bytes = readFileSync(${JSON.stringify(file)});
    if (process.argv[1] === 'on') { checkModule(bytes, ${JSON.stringify(exports)}, { threads: ${threads} }); console.log('ok'); }
    else console.log(WebAssembly.validate(RELAXED_SIMD_PROBE) ? 'default' : String(WebAssembly.validate(bytes)));
  `;
  const node = (flags, arg) => {
    const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', script, arg], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`checking ${path.basename(file)} failed:\n${r.stderr}`);
    return r.stdout.trim();
  };
  node(['--experimental-wasm-relaxed-simd'], 'on');
  const without = node([], 'off');
  if (without === 'true') throw new Error(`${path.basename(file)} validates without relaxed SIMD: it has no relaxed-SIMD instruction`);
  return without === 'default' ? 'relaxed SIMD is on by default in this Node' : 'refused by Node without --experimental-wasm-relaxed-simd';
}

/** Link `objects` to `out` (through a temp file, checked before it replaces a good one). */
async function link(objects, exports, out, { relaxed = false, threads = false } = {}) {
  mkdirSync(outDir, { recursive: true });
  const tmp = path.join(objDir, path.basename(out));
  console.log(`em++ -o ${path.relative(root, out)} (${objects.length} objects${relaxed ? '' : `, exports: ${exports.join(' ')}`})`);
  let flags = linkFlags(exports);
  let extraEnv = {};
  if (threads) {
    // Shared memory, imported so that every worker's instance runs over the same one; no LTO
    // (the objects are not bitcode).
    flags = [
      ...flags.filter((f) => f !== LTO), ...THREADS_FLAGS,
      '-sIMPORTED_MEMORY=1', '-Wl,--shared-memory', '-nodefaultlibs', ...THREADS_SYSTEM_LIBS,
      '--js-library', path.join(root, 'wasm', 'threads-imports.js'),
    ];
  }
  if (relaxed) {
    // No binaryen (see the top of this file): -O1 link, BigInt i64 exports, Python metadata.
    // LTO bitcode among the objects is still optimised at -O3 (not at the link's -O1).
    flags = [...flags.map((f) => (f === '-O3' ? '-O1' : f)), ...(threads ? [] : ['-Wl,--lto-O3']), '-sWASM_BIGINT=1'];
    extraEnv = { EMCC_READ_METADATA: 'python' };
  }
  await run('em++', [...flags, ...objects, '-o', tmp], extraEnv);
  if (relaxed) {
    if (!profile) writeFileSync(tmp, stripCustomSections(readFileSync(tmp)));
    console.log(`${path.basename(out)}: ${checkRelaxedModule(tmp, exports, threads)}`);
  } else {
    // Refuse a module the loader could not instantiate, before it replaces a good one.
    checkModule(readFileSync(tmp), exports, { threads });
  }
  renameSync(tmp, out);
  console.log(`wrote ${path.relative(root, out)} (${statSync(out).size} bytes)`);
}

async function main() {
  const inputs = wasmBuildInputs(root);
  const exports = abiFunctions();
  const objects = await compileAll(inputs);
  await link(objects, exports, outFile);

  const threadsVariant = {
    name: 'threads',
    objDir: threadsObjDir,
    selects: () => true,
    // No LTO: the system libraries it links are the "-mt" builds, without LTO bitcode;
    // with it the module came out larger (206 KB against 194).
    drop: ['-DRNNKIT_NO_THREADS', LTO],
    flags: [...THREADS_FLAGS, '-DRNNKIT_WASM_THREADS'],
    env: {},
  };
  if (threadsMode !== 'off') await link(await compileAll(inputs, threadsVariant), exports, threadsOutFile, { threads: true });

  if (relaxedMode === 'off') return;
  if (!hasCommand(`clang-${RELAXED_CLANG}`)) {
    const msg = `clang-${RELAXED_CLANG} not found: the relaxed-SIMD variants (wasm/dist/rnnkit-relaxed.wasm, rnnkit-threads-relaxed.wasm) were NOT built (apt-get install clang-${RELAXED_CLANG} lld-${RELAXED_CLANG})`;
    if (relaxedMode === 'require') throw new Error(msg);
    console.warn(`build:wasm: ${msg}; the simd128 modules are used`);
    return;
  }
  const relaxedVariant = {
    name: 'relaxed-simd, clang-' + RELAXED_CLANG,
    objDir: relaxedObjDir,
    // The "isa.wasm" group: the units with -msimd128 (sources.json), i.e. isa/wasm.cc.
    selects: (flags) => flags.includes('-msimd128'),
    // LLVM 16 bitcode would not load into Emscripten's LLVM 14 linker: a plain object.
    drop: [LTO],
    flags: ['-mrelaxed-simd'],
    env: { EM_LLVM_ADD_VERSION: RELAXED_CLANG, EM_CLANG_ADD_VERSION: RELAXED_CLANG },
  };
  await link(await compileAll(inputs, relaxedVariant), exports, relaxedOutFile, { relaxed: true });
  if (threadsMode === 'off') return;
  // The threaded module with the relaxed SIMD unit: its objects, isa/wasm.cc by clang-16 with
  // the threads' flags too.
  const threadsRelaxedVariant = {
    ...relaxedVariant,
    name: 'threads + relaxed-simd, clang-' + RELAXED_CLANG,
    objDir: threadsRelaxedObjDir,
    drop: threadsVariant.drop,
    flags: [...threadsVariant.flags, ...relaxedVariant.flags],
    others: threadsVariant,
  };
  await link(await compileAll(inputs, threadsRelaxedVariant), exports, threadsRelaxedOutFile, { threads: true, relaxed: true });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`build:wasm failed: ${e.message}`);
    process.exit(1);
  });
}
