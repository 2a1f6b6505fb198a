/**
 * The wasm engine off the calling thread: the calling side of the worker that hosts a second
 * instance of rnnkit.wasm (a Web Worker in browsers, worker_threads in Node; worker.ts).
 *
 * Design (one code path): the worker runs the SAME backend classes (WasmBackend, WasmEngine)
 * over the SAME compiled module, which the calling side posts to it. The calling side keeps
 * its own instance too — a mirror with the same stacks and models — so that the contract's
 * synchronous calls (getParams, setParams, forwardSync, trainStepSync, sessions, …) keep
 * answering synchronously and exactly as before:
 * - every synchronous call that changes a handle runs on the calling thread and is replayed
 *   in the worker (posted, not awaited; messages run in order, and the kernels are
 *   deterministic, so both copies hold the same bits);
 * - an asynchronous call (trainStep, evaluate, forward, backward) runs in the worker; what it
 *   changed (parameters, gradients, optimizer state) comes back transferred, not copied, and
 *   is written into the mirror only when a synchronous call next needs it;
 * - validation runs where it runs today: the public API on the calling side, and the few
 *   size checks inside the backend classes wherever the call runs; errors thrown in the
 *   worker come back as the same class (RangeError, TypeError, BusyError) and message.
 *
 * Lifetime: the worker starts with the first stack or model and is terminated when the last
 * one is disposed. In Node it is unref'd whenever no call is waiting for it, so it never keeps
 * a process alive. A worker that cannot start (no Worker, a CSP that forbids it, a script that
 * does not load) or that dies leaves the calling-thread mirror in charge — it holds the whole
 * state — and the reason is reported by `backend.info().workerReason`.
 *
 * RNNKIT_WASM_WORKER=0 (Node), or setWasmWorker(false), keeps the engine on the calling thread.
 */
import { BusyError } from '../../call-lock.js';
import { nodeHost, workerOptions } from './node-host.js';
import { fromSourceTree } from './source-tree.js';

/** Raised by {@link WorkerConn.call} when the worker is gone: the caller runs the call on its mirror instead. */
export class WorkerGone extends Error {
  override name = 'WorkerGone';
}

/** An error as it crosses postMessage. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
}

export function toWire(e: unknown): WireError {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(e) };
}

/** The error the calling thread would have thrown: same class, message and code. */
export function fromWire(w: WireError): Error {
  let e: Error;
  if (w.name === 'BusyError') e = new BusyError(w.message);
  else if (w.name === 'RangeError') e = new RangeError(w.message);
  else if (w.name === 'TypeError') e = new TypeError(w.message);
  else {
    e = new Error(w.message);
    if (w.name !== 'Error') e.name = w.name;
  }
  if (w.code !== undefined && !(e instanceof BusyError)) (e as Error & { code?: string }).code = w.code;
  return e;
}

/** The ArrayBuffers behind the typed arrays in `value` (one level of objects and arrays deep, recursively). */
export function buffersOf(value: unknown, out: ArrayBuffer[] = []): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    const b = value.buffer as ArrayBuffer;
    if (!out.includes(b)) out.push(b);
  } else if (Array.isArray(value)) {
    for (const v of value) buffersOf(v, out);
  } else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) buffersOf(v, out);
  }
  return out;
}

/** Where the next backend takes its worker from: `false` keeps the engine on the calling thread. */
export type WasmWorkerOption = URL | string | false | undefined;
let workerOption: WasmWorkerOption;

/**
 * Where a wasm backend loaded later starts its worker from: a URL of worker.js (an app that
 * bundles it separately), `false` to keep the engine on the calling thread, or `undefined`
 * for the default (./worker.js next to this module). A backend already loaded is not changed.
 */
export function setWasmWorker(option: WasmWorkerOption): void {
  workerOption = option;
}

/** Why the engine stays on the calling thread before any worker is tried, or null. */
function disabledReason(): string | null {
  const env = nodeHost()?.env.RNNKIT_WASM_WORKER?.toLowerCase();
  if (env !== undefined && ['0', 'false', 'off', 'no'].includes(env)) return `RNNKIT_WASM_WORKER=${env}`;
  if (env && !['1', 'true', 'on', 'yes'].includes(env)) console.warn(`rnnkit: RNNKIT_WASM_WORKER=${env} is not 0/1 (or off/on); the worker is used`);
  if (workerOption === false) return 'setWasmWorker(false)';
  return null;
}

/** The few things the calling side does with a worker, in Node and in browsers alike. */
interface Port {
  post(msg: unknown, transfer: ArrayBuffer[]): void;
  /** Node: whether the worker keeps the process alive. */
  hold(on: boolean): void;
  terminate(): void;
}

interface NodeWorker {
  postMessage(msg: unknown, transfer?: ArrayBuffer[]): void;
  on(ev: string, fn: (arg: never) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}

/** Start the worker script; throws when workers are not available here. */
function spawn(option: WasmWorkerOption, onMessage: (msg: Reply) => void, onFail: (reason: string) => void): Port {
  const node = nodeHost();
  if (node) {
    const wt = node.getBuiltinModule('node:worker_threads') as { Worker: new (url: URL | string, options: { execArgv?: string[] }) => NodeWorker };
    // Run from source (src/backend/wasm/*.ts under vitest) the worker is the compiled one in
    // dist/ (`npx tsc -p tsconfig.build.json`): Node cannot start a .ts worker.
    const url =
      (option || undefined) ??
      fromSourceTree(import.meta.url, '../../../dist/src/backend/wasm/worker.js') ??
      new URL('./worker.js', import.meta.url);
    const w = new wt.Worker(url, workerOptions());
    let held = false;
    w.unref();
    // An unref() before the worker is online does not hold (Node 20: a process that created
    // a worker and made no call never exited), so it is said again once the worker is up.
    w.on('online', () => (held ? w.ref() : w.unref()));
    w.on('message', onMessage);
    w.on('error', (e: Error) => onFail(`the worker failed: ${e.message}`));
    w.on('exit', (code: number) => onFail(`the worker exited (code ${code})`));
    return {
      post: (msg, transfer) => w.postMessage(msg, transfer),
      hold: (on) => {
        held = on;
        if (on) w.ref();
        else w.unref();
      },
      terminate: () => void w.terminate(),
    };
  }
  if (typeof Worker !== 'function') throw new Error('Worker is not available in this environment');
  // Written as one `new Worker(new URL(…, import.meta.url), …)` expression so that bundlers
  // (Vite, webpack) build and ship the worker along; esbuild does not: see setWasmWorker.
  const w =
    option !== undefined && option !== false
      ? new Worker(option, { type: 'module' })
      : new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  w.addEventListener('message', (e) => onMessage(e.data as Reply));
  w.addEventListener('error', (e) => {
    e.preventDefault();
    onFail(`the worker failed: ${e.message || 'its script did not load'}`);
  });
  w.addEventListener('messageerror', () => onFail('a message from the worker could not be read'));
  return { post: (msg, transfer) => w.postMessage(msg, transfer), hold: () => {}, terminate: () => w.terminate() };
}

/** What the worker posts back. */
export type Reply =
  | { ready: true }
  | { initError: WireError }
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: WireError };

/** What the calling side posts: `id` 0 for a replayed write nobody awaits. */
export interface Request {
  id: number;
  op: string;
  args: unknown[];
}

/** What the worker's instance copies from the calling side's when it starts. */
export interface WorkerSettings {
  isa: string;
  threads: number;
  /** setWasmThreadWorker's URL on the calling side (threads.ts), for the engine's own helpers. */
  threadWorker?: string;
}

/** One running worker. */
export class WorkerConn {
  /** Why this worker is not (or no longer) usable. */
  failed: string | null = null;
  /** Stacks and models created on it and not yet disposed. */
  handles = 0;
  private port: Port | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

  constructor(
    module: WebAssembly.Module,
    settings: WorkerSettings,
    option: WasmWorkerOption,
    private readonly hub: WorkerHub,
  ) {
    try {
      this.port = spawn(
        option,
        (msg) => this.receive(msg),
        (reason) => this.fail(reason),
      );
      this.port.post({ id: 0, op: 'init', args: [module, settings] }, []);
    } catch (e) {
      this.fail(`the worker could not start: ${(e as Error).message}`);
    }
  }

  get usable(): boolean {
    return this.failed === null;
  }

  private receive(msg: Reply): void {
    if ('ready' in msg) return;
    if ('initError' in msg) return this.fail(`the worker could not instantiate rnnkit.wasm: ${msg.initError.message}`);
    if (msg.id === 0) {
      // A replayed write failed in the worker: its copy may now differ from the mirror's.
      if (!msg.ok) this.fail(`a replayed call failed in the worker: ${msg.error.message}`);
      return;
    }
    const w = this.waiting.get(msg.id);
    if (!w) return;
    this.waiting.delete(msg.id);
    if (this.waiting.size === 0) this.port?.hold(false);
    if (msg.ok) w.resolve(msg.value);
    else w.reject(fromWire(msg.error));
  }

  /** Stop using the worker: waiting calls reject with WorkerGone (their callers rerun them on the mirror). */
  fail(reason: string): void {
    if (this.failed !== null) return;
    this.failed = reason;
    this.hub.failed(this, reason);
    const port = this.port;
    this.port = null;
    port?.terminate();
    for (const w of this.waiting.values()) w.reject(new WorkerGone(reason));
    this.waiting.clear();
  }

  /** Replay a write in the worker, in order, without waiting. `transfer`: buffers of our own copies only. */
  post(op: string, args: unknown[], transfer: ArrayBuffer[] = []): void {
    if (this.port) this.port.post({ id: 0, op, args } satisfies Request, transfer);
  }

  /** Run `op` in the worker; rejects with its error, or WorkerGone when the worker is not there. */
  call<T>(op: string, args: unknown[], transfer: ArrayBuffer[] = []): Promise<T> {
    if (!this.port) return Promise.reject(new WorkerGone(this.failed ?? 'the worker was terminated'));
    const id = this.nextId++;
    if (this.waiting.size === 0) this.port.hold(true);
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port!.post({ id, op, args } satisfies Request, transfer);
    });
  }

  /** A handle was created on this worker. */
  retain(): void {
    this.handles++;
  }

  /** A handle was disposed: the last one terminates the worker (a later handle starts a new one). */
  release(): void {
    if (--this.handles > 0 || this.port === null) return;
    const port = this.port;
    this.port = null;
    this.failed = 'the worker was terminated';
    this.hub.closed(this);
    for (const w of this.waiting.values()) w.reject(new WorkerGone('the worker was terminated'));
    this.waiting.clear();
    port.terminate();
  }
}

/** The worker of one wasm backend: started with its first handle, ended with its last. */
export class WorkerHub {
  private current: WorkerConn | null = null;
  /** Why the engine runs on the calling thread (a worker failed, or none is wanted); null while workers are in use. */
  reason: string | null;
  /** setWasmWorker's option when the backend was made. */
  private readonly option = workerOption;

  constructor(
    private readonly module: WebAssembly.Module | undefined,
    private readonly settings: () => WorkerSettings,
  ) {
    this.reason = module === undefined ? 'the module was instantiated without its compiled form' : disabledReason();
  }

  /** The worker a new handle lives on too, or null when the engine runs on the calling thread. */
  acquire(): WorkerConn | null {
    if (this.reason !== null || this.module === undefined) return null;
    this.current ??= new WorkerConn(this.module, this.settings(), this.option, this);
    if (!this.current.usable) return null;
    this.current.retain();
    return this.current;
  }

  /** Run `op` in every live worker (forceIsa, setThreads). */
  broadcast(op: string, args: unknown[]): void {
    this.current?.post(op, args);
  }

  failed(conn: WorkerConn, reason: string): void {
    if (conn === this.current) {
      // Not retried: a worker that failed once (CSP, missing script, crash) would fail again.
      this.reason = reason;
      this.current = null;
      // Results stay the same; where they are computed changes (a page can freeze): say so,
      // as a thread helper that fails to start does (threads.ts).
      console.warn(`rnnkit wasm: engine worker stopped (${reason}); now on the calling thread`);
    }
  }

  closed(conn: WorkerConn): void {
    if (conn === this.current) this.current = null;
  }

  /** Where asynchronous calls compute, for info(). */
  describe(): { runsOn: 'worker' | 'calling thread'; workerReason?: string } {
    return this.reason === null ? { runsOn: 'worker' } : { runsOn: 'calling thread', workerReason: this.reason };
  }
}

/** The error of a call on a handle whose asynchronous call is still running in the worker (native's ERR_RNNKIT_BUSY). */
export function busy(what: string): BusyError {
  return new BusyError(`${what} is busy: an asynchronous call is still running on it; await it first`);
}
