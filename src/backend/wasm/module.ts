/**
 * Instantiates rnnkit.wasm (built by wasm/build.mjs from native/) and gives typed access to
 * its exports and linear memory. Runs unchanged in Node and in browsers: no Node built-ins,
 * no eval, no Emscripten JavaScript glue.
 *
 * The module is a standalone (WASI-flavoured) reactor: it exports its memory, malloc/free and
 * the rk_* functions of native/include/rnnkit.h, and imports at most the few host functions
 * below (wasm/check.mjs refuses to ship a module that needs any other). None of them is
 * expected in normal operation: they exist so that a libc path (an abort message, a clock
 * read) fails with a clear error instead of a link error.
 */

import type { Abi } from '../abi/abi.js';
import { createSharedMemory, importsSharedMemory, sharedMemoryUnavailable, threadHostImports } from './threads.js';

/** Pointers are byte offsets into linear memory (wasm32: fit in a JS number). */
export type Ptr = number;

/** The exports of rnnkit.wasm, as the C ABI declares them. */
export interface RnnkitExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(bytes: number): Ptr;
  free(p: Ptr): void;
  rk_last_error(): Ptr;
  rk_isa(): Ptr;
  rk_force_isa(name: Ptr): number;
  rk_set_threads(n: number): number;
  rk_get_threads(): number;
  rk_stack_create(spec: Ptr, out: Ptr): number;
  rk_stack_destroy(s: Ptr): void;
  /** int64_t in C: a BigInt in JavaScript. */
  rk_stack_param_count(s: Ptr): bigint;
  rk_stack_params(s: Ptr): Ptr;
  rk_stack_grads(s: Ptr): Ptr;
  rk_stack_zero_grads(s: Ptr): void;
  rk_stack_forward(
    s: Ptr, T: number, B: number, x: Ptr, h0: Ptr, c0: Ptr, lengths: Ptr, y: Ptr, hn: Ptr, cn: Ptr, keep: number,
  ): number;
  rk_stack_backward(s: Ptr, dy: Ptr, dhn: Ptr, dcn: Ptr, dx: Ptr, dh0: Ptr, dc0: Ptr): number;
  rk_stack_shapes(s: Ptr, T: number, B: number, out: Ptr): number;
  rk_stack_layout(s: Ptr): Ptr;
  rk_abi_describe(): Ptr;
}

/** What {@link instantiateRnnkit} accepts: the module's bytes, a compiled module, or a fetch Response. */
export type WasmSource = BufferSource | WebAssembly.Module | Response | PromiseLike<Response>;

/** An instantiated module with views over its memory that survive memory growth. */
export class RnnkitModule {
  private buffer: ArrayBuffer | null = null;
  private f32: Float32Array = new Float32Array(0);
  private i32: Int32Array = new Int32Array(0);
  private u8: Uint8Array = new Uint8Array(0);
  private dataView: DataView = new DataView(new ArrayBuffer(0));

  /** Whether this is rnnkit-threads.wasm (shared memory, a thread pool: threads.ts). */
  readonly threaded: boolean;

  constructor(
    readonly exports: RnnkitExports,
    /** The compiled module this instance came from: posted to the worker (worker-host.ts) to instantiate the same code there. */
    readonly compiled?: WebAssembly.Module,
  ) {
    this.threaded = typeof SharedArrayBuffer !== 'undefined' && exports.memory.buffer instanceof SharedArrayBuffer;
  }

  /**
   * Views are re-created whenever memory.grow has replaced the buffer (any malloc or
   * compute call may grow it), so always take a view right before using it.
   */
  private refresh(): void {
    const buf = this.exports.memory.buffer;
    if (buf !== this.buffer) {
      this.buffer = buf;
      this.f32 = new Float32Array(buf);
      this.i32 = new Int32Array(buf);
      this.u8 = new Uint8Array(buf);
      this.dataView = new DataView(buf);
    }
  }

  /** A DataView over all of linear memory (structs are written through it: abi.ts). */
  view(): DataView {
    this.refresh();
    return this.dataView;
  }

  heapF32(): Float32Array {
    this.refresh();
    return this.f32;
  }

  heapI32(): Int32Array {
    this.refresh();
    return this.i32;
  }

  heapU8(): Uint8Array {
    this.refresh();
    return this.u8;
  }

  /** Bytes of linear memory currently reserved (grows, never shrinks). */
  memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /** A NUL-terminated UTF-8 string at `p`. */
  readString(p: Ptr): string {
    p >>>= 0;
    if (p === 0) return '';
    const u8 = this.heapU8();
    let end = p;
    while (end < u8.length && u8[end] !== 0) end++;
    // slice: browsers' TextDecoder refuses a view of shared memory (the threaded module's).
    return new TextDecoder().decode(u8.slice(p, end));
  }

  /** malloc that throws instead of returning NULL. */
  alloc(bytes: number, what: string): Ptr {
    // Unsigned: a wasm32 address at or above 2 GiB comes back as a negative i32. (Every
    // address-to-index conversion uses >>> for the same reason.)
    const p = this.exports.malloc(Math.max(1, bytes)) >>> 0;
    if (p === 0) throw new RangeError(`rnnkit wasm: out of memory allocating ${bytes} bytes for ${what}`);
    return p;
  }
}

/** The Error of a failed rk_* call: "rnnkit wasm: <what> failed (RK_EINVAL): <rk_last_error()>", with that code. */
export function statusError(m: RnnkitModule, abi: Abi, status: number, what: string): Error {
  const message = m.readString(m.exports.rk_last_error());
  const code = abi.nameOf('rk_status', status)?.toUpperCase();
  const name = code ? `RK_${code}` : `status ${status}`;
  // WebAssembly's 32-bit addresses: 4 GiB for every model, stack and call of the module.
  const hint = name === 'RK_ENOMEM' ? ` (the wasm module holds at most 4 GiB, its memory has grown to ${(m.memoryBytes() / 2 ** 30).toFixed(2)} GiB: a smaller batch or sequence, or the native backend)` : '';
  const err = new Error(`rnnkit wasm: ${what} failed (${name}): ${message || 'no message'}${hint}`);
  (err as Error & { code?: string }).code = name;
  return err;
}

/** Thrown when the module calls abort()/exit(): its state is undefined from then on. */
export class WasmAbort extends Error {
  override name = 'WasmAbort';
}

/** The WASI and env imports every instance gets (thread workers too: thread-worker.ts). */
export function hostImports(getModule: () => RnnkitModule | null): WebAssembly.Imports {
  const ENOSYS = 52;
  const EBADF = 8;
  let pendingOutput = '';
  return {
    env: {
      // Called by the module after memory.grow: views are refreshed lazily (RnnkitModule.refresh).
      emscripten_notify_memory_growth() {},
      // pow and log for its few scalar uses (native/src/host_math.h): libc's cost ~10 KB of tables.
      rkw_pow: Math.pow,
      rkw_log: Math.log,
    },
    wasi_snapshot_preview1: {
      proc_exit(code: number) {
        // abort() and exit() end here; the instance must not be used afterwards.
        throw new WasmAbort(`rnnkit wasm: the module aborted (exit code ${code})${pendingOutput ? `: ${pendingOutput.trim()}` : ''}`);
      },
      // stdout/stderr writes (e.g. an abort message) are collected for the error above and
      // echoed to the console; there is no file system.
      fd_write(fd: number, iovs: number, iovsLen: number, written: number) {
        const m = getModule();
        if (!m || (fd !== 1 && fd !== 2)) return EBADF;
        const i32 = m.heapI32();
        let total = 0;
        let text = '';
        for (let k = 0; k < iovsLen; k++) {
          const base = i32[(iovs >>> 2) + 2 * k] >>> 0;
          const len = i32[(iovs >>> 2) + 2 * k + 1];
          text += new TextDecoder().decode(m.heapU8().slice(base, base + len));
          total += len;
        }
        pendingOutput = (pendingOutput + text).slice(-2000);
        if (text.trim()) (fd === 2 ? console.error : console.log)(`[rnnkit wasm] ${text.trimEnd()}`);
        m.heapI32()[written >>> 2] = total;
        return 0;
      },
      fd_close: () => EBADF,
      fd_seek: () => ENOSYS,
      environ_sizes_get(count: number, size: number) {
        const m = getModule();
        if (!m) return ENOSYS;
        m.heapI32()[count >>> 2] = 0;
        m.heapI32()[size >>> 2] = 0;
        return 0;
      },
      environ_get: () => 0,
      clock_time_get(_id: number, _precision: bigint, out: number) {
        const m = getModule();
        if (!m) return ENOSYS;
        const ns = BigInt(Math.round((globalThis.performance?.now() ?? Date.now()) * 1e6));
        new BigInt64Array(m.exports.memory.buffer, out, 1)[0] = ns;
        return 0;
      },
    },
  };
}

function isResponseLike(x: unknown): x is Response | PromiseLike<Response> {
  return (
    (typeof Response !== 'undefined' && x instanceof Response) ||
    (typeof x === 'object' && x !== null && typeof (x as PromiseLike<unknown>).then === 'function')
  );
}

/** Compile (if needed) and instantiate rnnkit.wasm, and run its static constructors. */
export async function instantiateRnnkit(source: WasmSource): Promise<RnnkitModule> {
  const compiled = await compileRnnkit(source);
  let module: RnnkitModule | null = null;
  const imports = hostImports(() => module);
  // The threaded build (rnnkit-threads.wasm) imports a shared memory and starts workers through the host.
  const threaded = importsSharedMemory(compiled);
  let memory: WebAssembly.Memory | undefined;
  if (threaded) {
    const why = sharedMemoryUnavailable();
    if (why) throw new Error(`rnnkit-threads.wasm cannot run here: ${why}`);
    memory = createSharedMemory();
    Object.assign(imports.env as object, threadHostImports(compiled, memory));
  }
  const instance = await WebAssembly.instantiate(compiled, imports);
  const exports = (memory ? { ...instance.exports, memory } : instance.exports) as unknown as RnnkitExports;
  for (const name of ['memory', 'malloc', 'free', '_initialize', 'rk_last_error', 'rk_stack_create', 'rk_stack_forward'] as const) {
    if (!(name in exports)) throw new Error(`this is not an rnnkit.wasm module: it does not export ${name}`);
  }
  module = new RnnkitModule(exports, compiled);
  // Its thread-local storage first: nothing else would point it anywhere (native/src/threadpool.cc).
  if (threaded) (exports as unknown as { rkw_main_thread_init(): void }).rkw_main_thread_init();
  exports._initialize();
  return module;
}

/** The compiled module of `source` (streamed where the server sends application/wasm). */
async function compileRnnkit(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (isResponseLike(source)) {
    const response = await source;
    const from = response.url || 'the response';
    if (!response.ok) {
      const hint = response.status === 404 ? " (a bundler that leaves the .wasm files behind: copy rnnkit's wasm/dist/*.wasm beside the bundle, or pass their URL to init(url))" : '';
      throw new Error(`cannot fetch the rnnkit WebAssembly module ${from}: HTTP ${response.status}${hint}`);
    }
    // compileStreaming needs the application/wasm MIME type; fall back to bytes otherwise.
    const streaming =
      typeof WebAssembly.compileStreaming === 'function' && response.headers.get('content-type')?.startsWith('application/wasm');
    if (streaming) return WebAssembly.compileStreaming(response).catch((e: Error) => failedCompile(from, undefined, e));
    return compileBytes(await response.arrayBuffer(), from);
  }
  return compileBytes(source, 'the wasm source given');
}

/** WebAssembly.compile, with the source named and a page of HTML recognised as what it is. */
async function compileBytes(bytes: BufferSource, from: string): Promise<WebAssembly.Module> {
  const view = ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, Math.min(4, bytes.byteLength)) : new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength));
  return WebAssembly.compile(bytes).catch((e: Error) => failedCompile(from, view, e));
}

function failedCompile(from: string, head: Uint8Array | undefined, e: Error): never {
  const text = head ? String.fromCharCode(...head) : '';
  // A page of HTML: a wrong URL, or a server's fallback page (README: esbuild, init(url)).
  const html = /^\s*</.test(text) ? ' (it is HTML: a wrong URL or a fallback page)' : '';
  // A Content-Security-Policy without 'wasm-unsafe-eval' forbids compiling any module.
  if (/Content Security Policy|unsafe-eval/i.test(e.message)) {
    throw new Error(`the page's Content-Security-Policy forbids compiling WebAssembly (${from}): add 'wasm-unsafe-eval' to its script-src: ${e.message}`, { cause: e });
  }
  throw new Error(`${from} is not the rnnkit WebAssembly module${html}: ${e.message}`, { cause: e });
}
