/**
 * Sanity check of a freshly linked module before it replaces wasm/dist/rnnkit.wasm: it must
 * export every rk_* function of rnnkit.h plus malloc/free/memory, and import nothing that
 * src/backend/wasm/module.ts does not provide (test/wasm/module.test.ts checks the
 * same list against the loader itself).
 */
export const PROVIDED_IMPORTS = [
  'env.emscripten_notify_memory_growth',
  'env.rkw_pow',
  'env.rkw_log',
  'wasi_snapshot_preview1.proc_exit',
  'wasi_snapshot_preview1.fd_write',
  'wasi_snapshot_preview1.fd_close',
  'wasi_snapshot_preview1.fd_seek',
  'wasi_snapshot_preview1.environ_sizes_get',
  'wasi_snapshot_preview1.environ_get',
  'wasi_snapshot_preview1.clock_time_get',
];

/** What the threaded module (rnnkit-threads.wasm) imports besides: src/backend/wasm/threads.ts provides them. */
export const THREADS_IMPORTS = ['env.memory', 'env.rkw_spawn_thread', 'env.rkw_hardware_threads'];
/** What it exports besides: the workers' entry and the main thread's set-up (native/src/threadpool.cc), and Emscripten's stackRestore. */
export const THREADS_EXPORTS = ['rkw_worker_main', 'rkw_main_thread_init', 'stackRestore'];

export function checkModule(bytes, abiFunctions, { threads = false } = {}) {
  const mod = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`);
  const provided = threads ? [...PROVIDED_IMPORTS, ...THREADS_IMPORTS] : PROVIDED_IMPORTS;
  const unknown = imports.filter((i) => !provided.includes(i));
  if (unknown.length) {
    throw new Error(
      `the module imports ${unknown.join(', ')}, which src/backend/wasm/module.ts does not provide ` +
        `(the C++ probably calls a libc function that needs the host, e.g. a file or time function)`,
    );
  }
  const exports = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
  const wanted = threads ? [...abiFunctions, 'malloc', 'free', '_initialize', ...THREADS_EXPORTS] : [...abiFunctions, 'malloc', 'free', 'memory', '_initialize'];
  if (threads && !imports.includes('env.memory')) throw new Error('the threaded module does not import its memory');
  const missing = wanted.filter((n) => !exports.has(n));
  if (missing.length) throw new Error(`the module does not export ${missing.join(', ')}`);
  return { imports, exports: [...exports] };
}

/**
 * A 37-byte module whose one function is f32x4.relaxed_madd (0xfd 0x105, the standard
 * opcode): WebAssembly.validate(RELAXED_SIMD_PROBE) tells whether an engine runs
 * rnnkit-relaxed.wasm. The loader's copy: src/backend/wasm/variant.ts (a test keeps them equal).
 */
export const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // types: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // functions: one, of type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, // code: one body of 11 bytes, no locals
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // local.get 0 1 2, f32x4.relaxed_madd, end
]);
