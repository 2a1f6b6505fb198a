/**
 * WasmBackend: the Backend interface over rnnkit.wasm — the C++ kernels of native/ compiled
 * with Emscripten (wasm/build.mjs), running single-threaded with 128-bit WebAssembly SIMD.
 *
 * Parameters, gradients and the kernels' workspaces live in the module's linear memory and
 * stay there. A call copies its inputs into buffers malloc'd for that call, passes their
 * offsets, copies the outputs out and frees the buffers, so nothing leaks across calls and
 * a disposed stack gives its memory back to the module's allocator.
 *
 * Runs in Node and in browsers (no Node built-ins, no eval): {@link loadWasmBackend} finds
 * and reads the module itself; {@link createWasmBackend} takes bytes, a URL or a Response.
 */
import { envThreads, threadCount } from '../thread-count.js';
import type {
  Backend,
  BackendInfo,
  BackwardRequest,
  BackwardResult,
  ForwardRequest,
  ForwardResult,
  StackHandle,
  StackSpec,
} from '../contract.js';
import { Abi } from '../abi/abi.js';
import { stackSpecValues } from '../abi/structs.js';
import type { TrainingBackend } from '../contract.js';
import { createWasmTraining } from './training.js';
import { CallFrame } from './frame.js';
import { instantiateRnnkit, statusError, WasmAbort, type Ptr, type RnnkitModule, type WasmSource } from './module.js';
import { busy, WorkerGone, WorkerHub, type WorkerConn } from './worker-host.js';
import { autoVariant, FALLBACK, parseVariant, VARIANT_FILES, variantProblem, type WasmVariant } from './variant.js';
import { fromSourceTree } from './source-tree.js';
import { wasmThreadWorker } from './threads.js';

let nextStackId = 1;

/** What the wasm backend's info() adds: where its asynchronous calls compute, and if not in a worker, why. */
export interface WasmBackendInfo extends BackendInfo {
  runsOn: 'worker' | 'calling thread';
  workerReason?: string;
}

class WasmStack implements StackHandle {
  readonly backend = 'wasm' as const;
  disposed = false;
  /** Shape of the last forward made with training: true, which backward refers to. */
  trained: { steps: number; batch: number } | null = null;
  /**
   * rk_stack_shapes of the last (T, B) asked: a streaming loop asks the same every step,
   * and one more module call, allocation and BigInt conversion per step cost ~3%.
   */
  lastShapes: { T: number; B: number; n: { x: number; y: number; h: number; c: number } } | null = null;
  // --- The worker's copy (worker-host.ts): stacks whose backend has a worker. ---
  /** The stack's number in the worker. */
  readonly id = nextStackId++;
  /** The worker holding a copy of this stack; null: this thread only. */
  conn: WorkerConn | null = null;
  /** An asynchronous call is running in the worker: every other call is refused. */
  busy = false;
  /** Where the tape of the last training forward is; `tapeReq` recomputes the worker's here if backwardSync needs it. */
  tapeOn: 'here' | 'worker' | null = null;
  tapeReq: ForwardRequest | null = null;
  /** Gradients the worker's backward accumulated, not yet written here. */
  pendingGrads: Float32Array | null = null;
  /** Gradients accumulated here (backwardSync) that the worker's copy lacks. */
  workerGradsStale = false;
  constructor(
    /** The module whose linear memory `ptr` points into. */
    readonly owner: RnnkitModule,
    readonly spec: StackSpec,
    readonly ptr: Ptr,
    readonly paramCount: number,
  ) {}
}

function checkLength(name: string, a: ArrayLike<number> | undefined, expected: number): void {
  if (a !== undefined && a.length !== expected) {
    throw new RangeError(`${name} must have ${expected} elements; got ${a.length}`);
  }
}

export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  /** Set once the module has trapped or aborted: its memory may be inconsistent. */
  private broken: string | null = null;
  // Stacks dropped without dispose() are freed when collected (dispose unregisters them).
  private readonly finalizer =
    typeof FinalizationRegistry === 'function'
      ? new FinalizationRegistry<{ ptr: Ptr; conn: WorkerConn | null; id: number }>(({ ptr, conn, id }) => {
          if (!this.broken) this.m.exports.rk_stack_destroy(ptr);
          conn?.post('stack.dispose', [id]);
          conn?.release();
        })
      : null;

  /**
   * The worker the asynchronous calls run in (worker-host.ts), or null for a backend made
   * without one (the worker's own backend, `{ worker: false }`).
   */
  private readonly hub: WorkerHub | null;

  /** The ABI the module was built with (checked against src/backend/abi/schema.ts). */
  readonly abi: Abi;

  constructor(
    private readonly m: RnnkitModule,
    options: { worker?: boolean } = {},
  ) {
    this.hub = options.worker
      ? new WorkerHub(m.compiled, () => ({ isa: this.info().isa, threads: this.info().threads, threadWorker: wasmThreadWorker() }))
      : null;
    if (typeof m.exports.rk_abi_describe !== 'function') {
      throw new Error('this rnnkit.wasm predates rk_abi_describe; rebuild it with `npm run build:wasm`');
    }
    this.abi = Abi.fromDescription(m.readString(m.exports.rk_abi_describe()), 'rnnkit.wasm');
  }

  private trainingBackend: TrainingBackend | undefined;

  /** Whole-window training in one module call per step (training.ts, ../fused-training.ts). */
  get training(): TrainingBackend {
    return (this.trainingBackend ??= createWasmTraining(this.m, this.abi, this.hub ?? undefined));
  }

  /** The instantiated module (tests use it to watch linear memory). */
  get module(): RnnkitModule {
    return this.m;
  }

  /**
   * Run the kernels on another ISA path of this module: its SIMD table ("wasm-simd128", or
   * "wasm-relaxed-simd" in rnnkit-relaxed.wasm; the default) or "scalar" (tests, benchmarks). Throws with the module's list of what is available.
   */
  forceIsa(name: string): void {
    this.guard('rk_force_isa', () => {
      const bytes = new TextEncoder().encode(name);
      const p = this.m.alloc(bytes.length + 1, 'isa name');
      try {
        const u8 = this.m.heapU8();
        u8.set(bytes, p);
        u8[p + bytes.length] = 0;
        this.check(this.m.exports.rk_force_isa(p), 'rk_force_isa');
      } finally {
        this.m.exports.free(p);
      }
    });
    this.hub?.broadcast('forceIsa', [name]);
  }

  /**
   * Threads for the compute calls: n >= 1, or 0 for every core. Only rnnkit-threads.wasm has
   * more than one; the other builds accept any n and stay at 1. Default: RNNKIT_THREADS under
   * Node, else every core.
   */
  setThreads(n: number): void {
    threadCount(n, 'threads', MAX_WASM_THREADS);
    this.guard('rk_set_threads', () => this.check(this.m.exports.rk_set_threads(n), 'rk_set_threads'));
    this.hub?.broadcast('setThreads', [n]);
  }

  info(): WasmBackendInfo {
    return {
      backend: 'wasm',
      isa: this.m.readString(this.m.exports.rk_isa()),
      threads: this.m.exports.rk_get_threads(),
      ...(this.hub?.describe() ?? { runsOn: 'calling thread', workerReason: 'this backend was created without a worker' }),
    };
  }

  /**
   * Run one call into the module. A trap (out-of-bounds access, unreachable) or abort leaves
   * the instance unusable: it is reported with its cause and every later call refuses.
   */
  private guard<T>(what: string, fn: () => T): T {
    if (this.broken) throw new Error(`rnnkit wasm: the module failed earlier (${this.broken}); create a new backend`);
    try {
      return fn();
    } catch (e) {
      if (e instanceof WasmAbort || e instanceof WebAssembly.RuntimeError) {
        this.broken = `${what}: ${(e as Error).message}`;
        throw new Error(`rnnkit wasm: ${what} trapped: ${(e as Error).message}`, { cause: e });
      }
      throw e;
    }
  }

  private check(status: number, what: string): void {
    if (status !== 0) throw statusError(this.m, this.abi, status, what);
  }

  /** Elements of x, y, h, c for a call of T steps and batch B (rk_stack_shapes). */
  private shapes(s: WasmStack, f: CallFrame, T: number, B: number): { x: number; y: number; h: number; c: number } {
    if (s.lastShapes?.T === T && s.lastShapes.B === B) return s.lastShapes.n;
    const [x, y, h, c] = f.int64s(4, 'shapes', (out) => this.check(this.m.exports.rk_stack_shapes(s.ptr, T, B, out), 'rk_stack_shapes'));
    s.lastShapes = { T, B, n: { x, y, h, c } };
    return s.lastShapes.n;
  }

  /** The parameter layout as the kernels lay it out (rk_stack_layout). */
  stackLayoutText(handle: StackHandle): string {
    const s = this.live(handle);
    return this.guard('rk_stack_layout', () => this.m.readString(this.m.exports.rk_stack_layout(s.ptr)));
  }

  private live(handle: StackHandle): WasmStack {
    if (!(handle instanceof WasmStack)) {
      throw new TypeError(`stack must be a handle created by the wasm backend; got ${handle?.backend ?? typeof handle}`);
    }
    // A pointer into another instance's memory would read and write the wrong stack.
    if (handle.owner !== this.m) throw new TypeError('stack belongs to another wasm backend instance');
    if (handle.disposed) throw new Error('stack has been disposed');
    if (handle.busy) throw busy('stack');
    if (handle.pendingGrads) {
      const g = handle.pendingGrads;
      handle.pendingGrads = null;
      this.setGrads(handle, g);
    }
    return handle;
  }

  /** Replace every gradient (the worker's copy of a stack is brought up to date with it). */
  setGrads(handle: StackHandle, flat: Float32Array): void {
    const s = handle as WasmStack;
    checkLength('flat', flat, s.paramCount);
    this.guard('setGrads', () => this.m.heapF32().set(flat, this.m.exports.rk_stack_grads(s.ptr) >>> 2));
  }

  /** The worker to run an asynchronous call of `s` on, or null: run it here. */
  private workerOf(s: WasmStack): WorkerConn | null {
    if (s.conn && !s.conn.usable) s.conn = null;
    return s.conn;
  }

  createStack(spec: StackSpec): StackHandle {
    return this.guard('rk_stack_create', () => {
      const m = this.m;
      const f = new CallFrame(m);
      try {
        const block = f.alloc(this.abi.sizeOf('rk_stack_spec'), 'rk_stack_spec');
        const out = f.alloc(4, 'rk_stack*');
        this.abi.write('rk_stack_spec', stackSpecValues(this.abi, spec), m.view(), block);
        this.check(m.exports.rk_stack_create(block, out), 'rk_stack_create');
        const ptr = m.heapI32()[out >>> 2] >>> 0;
        const stack = new WasmStack(m, { ...spec }, ptr, Number(m.exports.rk_stack_param_count(ptr)));
        stack.conn = this.hub?.acquire() ?? null;
        stack.conn?.post('stack.create', [stack.id, spec]);
        this.finalizer?.register(stack, { ptr, conn: stack.conn, id: stack.id }, stack);
        return stack;
      } finally {
        f.release();
      }
    });
  }

  setParams(handle: StackHandle, flat: Float32Array): void {
    const s = this.live(handle);
    checkLength('flat', flat, s.paramCount);
    this.guard('setParams', () => this.m.heapF32().set(flat, this.m.exports.rk_stack_params(s.ptr) >>> 2));
    this.workerOf(s)?.post('stack.setParams', [s.id, flat]); // cloned: `flat` may be the caller's
  }

  getParams(handle: StackHandle): Float32Array {
    const s = this.live(handle);
    return this.guard('getParams', () => {
      const at = this.m.exports.rk_stack_params(s.ptr) >>> 2;
      return this.m.heapF32().slice(at, at + s.paramCount);
    });
  }

  getGrads(handle: StackHandle): Float32Array {
    const s = this.live(handle);
    return this.guard('getGrads', () => {
      const at = this.m.exports.rk_stack_grads(s.ptr) >>> 2;
      return this.m.heapF32().slice(at, at + s.paramCount);
    });
  }

  zeroGrads(handle: StackHandle): void {
    const s = this.live(handle);
    this.guard('rk_stack_zero_grads', () => this.m.exports.rk_stack_zero_grads(s.ptr));
    this.workerOf(s)?.post('stack.zeroGrads', [s.id]);
    s.workerGradsStale = false;
  }

  forwardSync(handle: StackHandle, req: ForwardRequest): ForwardResult {
    const s = this.live(handle);
    return this.guard('rk_stack_forward', () => {
      const f = new CallFrame(this.m);
      try {
        const n = this.shapes(s, f, req.steps, req.batch);
        checkLength('x', req.x, n.x);
        checkLength('h0', req.h0, n.h);
        checkLength('c0', n.c > 0 ? req.c0 : undefined, n.c);
        checkLength('lengths', req.lengths, req.batch);
        const x = f.input(req.x, 'x');
        const h0 = f.input(req.h0, 'h0');
        const c0 = n.c > 0 ? f.input(req.c0, 'c0') : 0;
        const lengths = f.input(req.lengths, 'lengths');
        const y = f.output(n.y, 'y');
        const hn = f.output(n.h, 'hn');
        const cn = n.c > 0 ? f.output(n.c, 'cn') : 0;
        const keep = req.training ? 1 : 0;
        if (req.training) s.trained = null; // a failed training forward leaves no tape
        this.check(
          this.m.exports.rk_stack_forward(s.ptr, req.steps, req.batch, x, h0, c0, lengths, y, hn, cn, keep),
          'rk_stack_forward',
        );
        if (req.training) {
          s.trained = { steps: req.steps, batch: req.batch };
          s.tapeOn = 'here';
          s.tapeReq = null;
        }
        return { y: f.read(y, n.y), hn: f.read(hn, n.h), ...(n.c > 0 ? { cn: f.read(cn, n.c) } : {}) };
      } finally {
        f.release();
      }
    });
  }

  backwardSync(handle: StackHandle, req: BackwardRequest): BackwardResult {
    const s = this.live(handle);
    if (!s.trained) throw new Error('backward needs a preceding forward with training: true');
    // The tape is the worker's (an asynchronous training forward): make it here again, by the
    // same deterministic forward from the same inputs and parameters.
    if (s.tapeOn === 'worker' && s.tapeReq) this.forwardSync(s, s.tapeReq);
    if (s.conn) s.workerGradsStale = true;
    const { steps, batch } = s.trained;
    return this.guard('rk_stack_backward', () => {
      const f = new CallFrame(this.m);
      try {
        const n = this.shapes(s, f, steps, batch);
        checkLength('dy', req.dy, n.y);
        checkLength('dhn', req.dhn, n.h);
        checkLength('dcn', n.c > 0 ? req.dcn : undefined, n.c);
        const dy = f.input(req.dy, 'dy');
        const dhn = f.input(req.dhn, 'dhn');
        const dcn = n.c > 0 ? f.input(req.dcn, 'dcn') : 0;
        const dx = f.output(n.x, 'dx');
        const dh0 = f.output(n.h, 'dh0');
        const dc0 = n.c > 0 ? f.output(n.c, 'dc0') : 0;
        this.check(this.m.exports.rk_stack_backward(s.ptr, dy, dhn, dcn, dx, dh0, dc0), 'rk_stack_backward');
        return { dx: f.read(dx, n.x), dh0: f.read(dh0, n.h), ...(n.c > 0 ? { dc0: f.read(dc0, n.c) } : {}) };
      } finally {
        f.release();
      }
    });
  }

  /**
   * Run `op` in the worker holding the stack (every other call on it is refused meanwhile), or
   * here with `inThread` when there is none — no worker, or it went away, or the call needs
   * state only this thread has; `inThread` is also the fallback, this thread holding all state.
   */
  private async remote<T>(s: WasmStack, op: string, args: unknown[], inThread: () => T, transfer: ArrayBuffer[] = []): Promise<T> {
    const conn = this.workerOf(s);
    if (!conn) return inThread();
    s.busy = true;
    try {
      return await conn.call<T>(op, [s.id, ...args], transfer);
    } catch (e) {
      if (!(e instanceof WorkerGone)) throw e;
      s.conn = null;
      s.busy = false;
      return inThread();
    } finally {
      s.busy = false;
    }
  }

  // Without a worker the async forms only wrap the sync ones (a rejection instead of a throw).
  async forward(handle: StackHandle, req: ForwardRequest): Promise<ForwardResult> {
    const s = this.live(handle);
    if (!req.training) return this.remote(s, 'stack.forward', [req], () => this.forwardSync(s, req));
    s.trained = null; // a failed training forward leaves no tape
    s.tapeOn = null;
    const r = await this.remote(s, 'stack.forward', [req], () => this.forwardSync(s, req));
    if (s.tapeOn === null) {
      // It ran in the worker: the tape is there. Kept: a copy of the inputs, to make it here if backwardSync asks.
      s.trained = { steps: req.steps, batch: req.batch };
      s.tapeOn = 'worker';
      s.tapeReq = { ...req, x: req.x.slice(), h0: req.h0?.slice(), c0: req.c0?.slice(), lengths: req.lengths?.slice() };
    }
    return r;
  }

  async backward(handle: StackHandle, req: BackwardRequest): Promise<BackwardResult> {
    const s = this.live(handle);
    if (s.tapeOn !== 'worker' || !this.workerOf(s)) return this.backwardSync(s, req);
    if (s.workerGradsStale) {
      const g = this.getGrads(s);
      s.conn!.post('stack.setGrads', [s.id, g], [g.buffer as ArrayBuffer]);
      s.workerGradsStale = false;
    }
    let inThread = false;
    const r = await this.remote<{ result: BackwardResult; grads: Float32Array } | BackwardResult>(s, 'stack.backward', [req], () => {
      inThread = true;
      return this.backwardSync(s, req);
    });
    if (inThread) return r as BackwardResult;
    const v = r as { result: BackwardResult; grads: Float32Array };
    s.pendingGrads = v.grads;
    return v.result;
  }

  dispose(handle: StackHandle): void {
    const s = this.live(handle);
    s.disposed = true;
    s.trained = null;
    s.tapeReq = null;
    this.finalizer?.unregister(s);
    if (!this.broken) this.m.exports.rk_stack_destroy(s.ptr);
    const conn = s.conn;
    s.conn = null;
    if (conn) {
      conn.post('stack.dispose', [s.id]);
      conn.release();
    }
  }
}

/** Where rnnkit.wasm may be given from: its bytes, a compiled module, a Response, or a URL to fetch. */
export type WasmInput = WasmSource | URL | string;

interface NodeFs {
  readFileSync(p: URL): Uint8Array;
  existsSync(p: URL): boolean;
}

/**
 * Node's fs when running under Node, else null. process.getBuiltinModule (Node ≥ 20.16)
 * reaches it without an import statement, so this file stays free of Node built-ins and
 * browser bundles need no shims.
 */
function nodeFs(): NodeFs | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof proc?.getBuiltinModule === 'function' ? (proc.getBuiltinModule('node:fs') as NodeFs) : null;
}

/**
 * A WasmBackend over the module at `input`. URLs are fetched, except file: URLs under Node,
 * which are read from disk (Node's fetch cannot read files).
 */
export async function createWasmBackend(input: WasmInput): Promise<WasmBackend> {
  let source: WasmSource;
  if (typeof input === 'string' || input instanceof URL) {
    let url: URL;
    try {
      url = new URL(input, typeof location !== 'undefined' ? location.href : undefined);
    } catch {
      throw new TypeError(`the wasm source ${JSON.stringify(String(input))} is not a URL`);
    }
    const fs = url.protocol === 'file:' ? nodeFs() : null;
    source = fs ? fs.readFileSync(url) : fetch(url);
  } else {
    source = input;
  }
  return new WasmBackend(await instantiateRnnkit(source), { worker: true });
}

/**
 * The module's location relative to this file once compiled: dist/src/backend/wasm/backend.js →
 * wasm/dist/rnnkit.wasm (or rnnkit-relaxed.wasm, variant.ts) at the package root. Each is one
 * `new URL(…, import.meta.url)` expression so that bundlers (Vite, webpack, Parcel) copy the
 * files along.
 */
export function defaultWasmUrl(variant: WasmVariant = 'simd128'): URL {
  if (variant === 'relaxed') return new URL('../../../../wasm/dist/rnnkit-relaxed.wasm', import.meta.url);
  if (variant === 'threads') return new URL('../../../../wasm/dist/rnnkit-threads.wasm', import.meta.url);
  if (variant === 'threads-relaxed') return new URL('../../../../wasm/dist/rnnkit-threads-relaxed.wasm', import.meta.url);
  return new URL('../../../../wasm/dist/rnnkit.wasm', import.meta.url);
}


let configuredSource: WasmInput | undefined;
let configuredVariant: WasmVariant | 'auto' | undefined;

/**
 * Which of the package's modules the next {@link loadWasmBackend} loads (variant.ts): "auto"
 * (the default: variant.ts's autoVariant — threaded where there are several cores and shared
 * memory, with relaxed SIMD where the engine validates it), or one of
 * them forced (a forced variant that cannot load is an error, never a fallback). `undefined`
 * restores the default; under Node the RNNKIT_WASM_VARIANT environment variable is read when
 * none was set here. Ignored when a source is given ({@link setWasmSource}): that is loaded as is.
 */
export function setWasmVariant(variant: WasmVariant | 'auto' | undefined): void {
  configuredVariant = variant === undefined ? undefined : parseVariant(variant, 'variant');
}

/** The variant to load and whether it was forced (setWasmVariant, then RNNKIT_WASM_VARIANT). */
function chooseVariant(): { variant: WasmVariant; forced: boolean } {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.RNNKIT_WASM_VARIANT;
  const wanted = configuredVariant ?? (env ? parseVariant(env, 'RNNKIT_WASM_VARIANT') : 'auto');
  if (wanted !== 'auto') return { variant: wanted, forced: true };
  return { variant: autoVariant(), forced: false };
}

/**
 * Where the next {@link loadWasmBackend} (and so `loadBackend('wasm')`) takes the module
 * from; `undefined` restores the default (the package's own wasm/dist/rnnkit.wasm). The
 * browser entry's `init(source)` sets it. A backend already loaded is not replaced.
 */
export function setWasmSource(input: WasmInput | undefined): void {
  // Other objects reach the compiler, whose error names the source.
  if (input === null || (input !== undefined && typeof input !== 'string' && typeof input !== 'object')) {
    throw new TypeError(`the wasm source must be a URL, bytes, a WebAssembly.Module or a Response; got ${input === null ? 'null' : typeof input}`);
  }
  configuredSource = input;
}

let configuredThreads: number | undefined;

/**
 * The thread count of the next {@link loadWasmBackend} (rnnkit-threads.wasm; the other
 * builds run one): n >= 1, 0 for every core, `undefined` for the default (RNNKIT_THREADS under
 * Node, else every core). The browser entry's `init({ threads })` sets it.
 */
export function setWasmThreads(n: number | undefined, where = 'threads'): void {
  configuredThreads = n === undefined ? undefined : threadCount(n, where, MAX_WASM_THREADS);
}
// The threaded module's pool has room for this many (threadpool.cc kMaxWorkers); more
// were accepted, started as many workers as memory allowed and reported the number asked.
const MAX_WASM_THREADS = 256;

/** The thread count (setWasmThreads, else RNNKIT_THREADS), RNNKIT_WASM_ISA=scalar runs the wasm build's portable kernels (tests). */
function applyEnvironment(backend: WasmBackend): WasmBackend {
  // RNNKIT_THREADS is the native backend's too, whose pool is larger: here it runs at most
  // the module's room, as a machine that will not start more threads runs fewer.
  const env = envThreads();
  const threads = configuredThreads ?? (env === undefined ? undefined : Math.min(env, MAX_WASM_THREADS));
  if (threads !== undefined) backend.setThreads(threads);
  // RNNKIT_ISA is the native backend's and names ISAs this module does not have.
  const isa = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.RNNKIT_WASM_ISA;
  if (isa) {
    try {
      backend.forceIsa(isa);
    } catch (e) {
      throw new RangeError(`RNNKIT_WASM_ISA ${JSON.stringify(isa)}: ${(e as Error).message}`);
    }
  }
  return backend;
}

/** One of the package's modules: read from disk under Node, fetched from {@link defaultWasmUrl} elsewhere. */
async function loadVariant(variant: WasmVariant): Promise<WasmBackend> {
  const fs = nodeFs();
  if (!fs) return createWasmBackend(defaultWasmUrl(variant));
  // Run from source (src/backend/wasm/backend.ts under vitest) the package root is three levels up.
  const fromSource = fromSourceTree(import.meta.url, `../../../wasm/dist/${VARIANT_FILES[variant]}`);
  const candidates = [defaultWasmUrl(variant), ...(fromSource ? [fromSource] : [])];
  const found = candidates.find((u) => u.protocol === 'file:' && fs.existsSync(u));
  if (!found) {
    throw new Error(
      `${VARIANT_FILES[variant]} not found (looked at ${candidates.map((u) => u.href).join(', ')}); build it with \`npm run build:wasm\``,
    );
  }
  return new WasmBackend(await instantiateRnnkit(fs.readFileSync(found)), { worker: true });
}

/**
 * Load the module: from the source given to {@link setWasmSource}, else the package's own —
 * the variant "auto" picks (variant.ts: threads where there are several cores and shared
 * memory, relaxed SIMD where the engine validates it), or the one forced by
 * {@link setWasmVariant} / RNNKIT_WASM_VARIANT. An automatic choice that cannot load (a
 * relaxed module not built because clang-16 was missing, say) falls back, with a warning, to
 * the same without relaxed SIMD, then without threads (variant.ts's FALLBACK); a forced one is an error.
 */
export async function loadWasmBackend(): Promise<WasmBackend> {
  if (configuredSource !== undefined) {
    const given = configuredSource;
    try {
      return applyEnvironment(await createWasmBackend(given));
    } catch (e) {
      // Forgotten once it has failed: a later init() without a source loads the package's
      // own module instead of the same bad URL again.
      if (configuredSource === given) configuredSource = undefined;
      throw e;
    }
  }
  const { variant, forced } = chooseVariant();
  // Asked for by name: say what the engine lacks, not how its compiler words the failure.
  const problem = forced ? variantProblem(variant) : undefined;
  if (problem) throw new Error(`${VARIANT_FILES[variant]} cannot run here: ${problem}`);
  for (let v: WasmVariant = variant; ; ) {
    let backend: WasmBackend;
    try {
      backend = await loadVariant(v);
    } catch (e) {
      const next = FALLBACK[v];
      if (next === null || forced) throw e;
      console.warn(`rnnkit: ${VARIANT_FILES[v]} did not load (${(e as Error).message}); using ${VARIANT_FILES[next]}`);
      v = next;
      continue;
    }
    return applyEnvironment(backend);
  }
}
