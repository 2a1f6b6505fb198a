/**
 * Sanity check of a freshly linked module before it replaces wasm/dist/rnnkit.wasm: it must
 * export every rk_* function of rnnkit.h plus malloc/free/memory, and import nothing that
 * src/backend/wasm/module.ts does not provide (test/wasm/module.test.ts checks the
 * same list against the loader itself).
 */
export const PROVIDED_IMPORTS = [
  'env.emscripten_notify_memory_growth',
  'wasi_snapshot_preview1.proc_exit',
  'wasi_snapshot_preview1.fd_write',
  'wasi_snapshot_preview1.fd_close',
  'wasi_snapshot_preview1.fd_seek',
  'wasi_snapshot_preview1.environ_sizes_get',
  'wasi_snapshot_preview1.environ_get',
  'wasi_snapshot_preview1.clock_time_get',
];

export function checkModule(bytes, abiFunctions) {
  const mod = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`);
  const unknown = imports.filter((i) => !PROVIDED_IMPORTS.includes(i));
  if (unknown.length) {
    throw new Error(
      `the module imports ${unknown.join(', ')}, which src/backend/wasm/module.ts does not provide ` +
        `(the C++ probably calls a libc function that needs the host, e.g. a file or time function)`,
    );
  }
  const exports = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
  const missing = [...abiFunctions, 'malloc', 'free', 'memory', '_initialize'].filter((n) => !exports.has(n));
  if (missing.length) throw new Error(`the module does not export ${missing.join(', ')}`);
  return { imports, exports: [...exports] };
}
