/**
 * The host side of rnnkit-threads.wasm (wasm/build.mjs): its shared memory, and the workers
 * its thread pool asks for (native/src/threadpool.cc, RNNKIT_WASM_THREADS).
 *
 * The module has no thread runtime of its own. When its pool wants worker `w` it calls the
 * import rkw_spawn_thread(w, stackTop, tls) with a stack and a thread-local block it has
 * allocated; this file starts a worker (worker_threads in Node, a module Web Worker in
 * browsers) running thread-worker.ts, which instantiates the same compiled module over the
 * same memory, points its stack pointer at stackTop and enters rkw_worker_main(w) — a loop
 * that sleeps on memory.atomic.wait between jobs and never returns. A worker that starts late
 * or not at all costs only speed: the caller runs every task nobody claims.
 *
 * Shared memory needs SharedArrayBuffer: always in Node; in browsers only on cross-origin
 * isolated pages (COOP: same-origin + COEP: require-corp), see {@link sharedMemorySupported}.
 * Node: the workers are unref'd, so they never keep a process alive.
 */

import { nodeHost, workerOptions } from './node-host.js';
import { fromSourceTree } from './source-tree.js';

/** Linear memory of the threaded module: 4 MB to start (-sINITIAL_MEMORY in wasm/build.mjs), up to 4 GB. */
export const THREADED_MEMORY_PAGES = { initial: 64, maximum: 65536 } as const;

/** The message a thread worker receives (thread-worker.ts). */
export interface ThreadStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  worker: number;
  stackTop: number;
}


/** Whether `module` is the threaded build: it imports its memory. */
export function importsSharedMemory(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.imports(module).some((i) => i.module === 'env' && i.name === 'memory' && i.kind === 'memory');
}

/** Why shared wasm memory is unavailable here, or null when it is available. */
export function sharedMemoryUnavailable(): string | null {
  if (typeof SharedArrayBuffer === 'undefined') {
    return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false
      ? 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)'
      : 'this engine has no SharedArrayBuffer';
  }
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch (e) {
    return `this engine cannot create shared wasm memory (${(e as Error).message})`;
  }
  if (!nodeHost() && typeof Worker === 'undefined') return 'this environment has no Worker';
  return null;
}

/** Whether rnnkit-threads.wasm can run here. */
export function sharedMemorySupported(): boolean {
  return sharedMemoryUnavailable() === null;
}

/** The cores this machine says it has (what "every core", 0 threads, means). */
export function hardwareThreads(): number {
  const node = nodeHost();
  if (node) {
    const os = node.getBuiltinModule('node:os') as { availableParallelism?: () => number; cpus(): unknown[] };
    return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  }
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Number.isInteger(n) && n! > 0 ? n! : 1;
}

/** A fresh shared memory for one instance of the threaded module (and its workers). */
export function createSharedMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ ...THREADED_MEMORY_PAGES, shared: true });
}

let running = 0;
/**
 * Thread workers of this JavaScript realm that have entered the pool's loop (each says so
 * just before it does). Diagnostics and tests: the pool never waits for them.
 */
export function threadWorkersRunning(): number {
  return running;
}
const counted = (msg: unknown): void => {
  if ((msg as { entered?: unknown })?.entered !== undefined) running++;
};

interface NodeWorker {
  postMessage(msg: unknown): void;
  on(ev: string, fn: (arg: never) => void): void;
  once(ev: string, fn: (arg: never) => void): void;
  unref(): void;
}

let threadWorkerUrl: string | undefined;

/**
 * Where the threaded modules start their helper workers from: the URL of thread-worker.js
 * (an app that bundles it separately: esbuild does not follow
 * `new Worker(new URL('./thread-worker.js', import.meta.url))`, Vite and webpack do), or
 * `undefined` for the default, next to this module. Applies to workers started from then on,
 * in this realm and in the engine's worker (worker-host.ts passes it along).
 */
export function setWasmThreadWorker(url: URL | string | undefined): void {
  if (url !== undefined && typeof url !== 'string' && !(url instanceof URL)) throw new TypeError('setWasmThreadWorker: url must be a URL, a string or undefined');
  // Resolved here (against the page, or this module in Node), so that the engine's worker,
  // which has another location, starts the same file.
  threadWorkerUrl = url === undefined ? undefined : new URL(url, globalThis.location?.href ?? import.meta.url).href;
}

/** The URL set by {@link setWasmThreadWorker}, if any. */
export function wasmThreadWorker(): string | undefined {
  return threadWorkerUrl;
}

/** Start one thread worker; failures are reported, never thrown into the module. */
function startWorker(start: ThreadStart): void {
  const node = nodeHost();
  const report = (why: string): void =>
    console.warn(`rnnkit wasm: thread worker ${start.worker} did not start (${why}); the pool runs without it`);
  try {
    if (node) {
      const wt = node.getBuiltinModule('node:worker_threads') as { Worker: new (url: URL, options: { execArgv?: string[] }) => NodeWorker };
      // From source (vitest runs src/*.ts) the worker is the compiled one in dist/ (Node cannot start a .ts worker).
      const url = threadWorkerUrl !== undefined
        ? new URL(threadWorkerUrl)
        : fromSourceTree(import.meta.url, '../../../dist/src/backend/wasm/thread-worker.js') ?? new URL('./thread-worker.js', import.meta.url);
      const w = new wt.Worker(url, workerOptions());
      w.on('error', (e: Error) => report(e.message));
      w.once('message', counted);
      // After the listeners (a 'message' listener refs the worker's port again) and once more
      // when it is online (an unref() before that does not hold: worker-host.ts).
      w.unref();
      w.once('online', () => w.unref());
      w.postMessage(start);
    } else {
      const name = `rnnkit-thread-${start.worker}`;
      // The literal `new Worker(new URL('./thread-worker.js', import.meta.url))` is what Vite and webpack look for.
      const w = threadWorkerUrl !== undefined
        ? new Worker(threadWorkerUrl, { type: 'module', name })
        : new Worker(new URL('./thread-worker.js', import.meta.url), { type: 'module', name });
      w.addEventListener('error', (e) => report((e as ErrorEvent).message || 'the script did not load'));
      w.addEventListener('message', (e) => counted(e.data));
      w.postMessage(start);
    }
  } catch (e) {
    report((e as Error).message);
  }
}

/** The env imports of the threaded module's main instance. */
export function threadHostImports(module: WebAssembly.Module, memory: WebAssembly.Memory): Record<string, unknown> {
  return {
    memory,
    rkw_hardware_threads: () => hardwareThreads(),
    rkw_spawn_thread: (worker: number, stackTop: number) => startWorker({ module, memory, worker, stackTop }),
  };
}

/** The env imports of an instance inside a thread worker: the same memory; workers start no workers. */
export function threadWorkerImports(memory: WebAssembly.Memory): Record<string, unknown> {
  return {
    memory,
    rkw_hardware_threads: () => 1,
    rkw_spawn_thread: () => {
      throw new Error('rnnkit wasm: a thread worker cannot start workers');
    },
  };
}
