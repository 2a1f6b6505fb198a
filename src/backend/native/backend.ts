/**
 * NativeBackend: the Backend interface over the Node-API addon (native/addon/), which runs
 * the C++ kernels of native/src/ with the machine's best SIMD path and a thread pool.
 *
 * Parameters, gradients and workspaces live in native memory. `forward`/`backward` run on
 * libuv's thread pool and return promises, so the event loop keeps running during a long
 * sequence; the `…Sync` variants are for short calls such as one streaming step. The
 * addon copies the inputs of an asynchronous call before queuing it, and runs one call at
 * a time per handle (a second is refused with ERR_RNNKIT_BUSY).
 *
 * When it loads, the backend checks that the addon was built for the rnnkit.h that
 * src/backend/abi/ packs (struct layouts, enums, limits): a stale build is a load error
 * naming what differs. Environment: RNNKIT_THREADS=n (0 = every core) and
 * RNNKIT_ISA=scalar|avx2|avx512|neon are applied when the backend loads; the `threads` and
 * `isa` options override them.
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
  TrainingBackend,
} from '../contract.js';
import { Abi } from '../abi/abi.js';
import { stackSpecValues } from '../abi/structs.js';
import { loadAddon, type AddonHandle, type AddonResult, type NativeAddon } from './addon.js';
import { createNativeTraining } from './training.js';

class NativeStack implements StackHandle {
  readonly backend = 'native' as const;
  constructor(readonly addonStack: AddonHandle) {}
}

export interface NativeBackendOptions {
  /** Threads for the compute calls (0 = every core; 1 = exactly single-threaded). Default: RNNKIT_THREADS, else every core. */
  threads?: number;
  /** Force an ISA path (tests, benchmarks). Default: RNNKIT_ISA, else the best this CPU supports. */
  isa?: string;
}


const forwardResult = (r: AddonResult): ForwardResult => ({ y: r.y!, hn: r.hn!, ...(r.cn ? { cn: r.cn } : {}) });
const backwardResult = (r: AddonResult): BackwardResult => ({ dx: r.dx!, dh0: r.dh0!, ...(r.dc0 ? { dc0: r.dc0 } : {}) });

export class NativeBackend implements Backend {
  readonly name = 'native' as const;
  /** The ABI the addon was built with (checked against src/backend/abi/schema.ts). */
  readonly abi: Abi;

  /**
   * @param addon the loaded addon ({@link loadAddon})
   * @param addonPath the file it came from
   */
  constructor(
    private readonly addon: NativeAddon,
    readonly addonPath: string,
    options: NativeBackendOptions = {},
  ) {
    if (typeof addon.abiDescribe !== 'function') {
      throw new Error(`the native addon ${addonPath} predates rk_abi_describe; rebuild it: \`npm rebuild rnnkit\` where rnnkit is installed, \`npm run build:native\` in a clone`);
    }
    this.abi = Abi.fromDescription(addon.abiDescribe(), `the native addon ${addonPath}`);
    const isa = options.isa ?? (process.env.RNNKIT_ISA || undefined);
    if (isa !== undefined) {
      try {
        this.forceIsa(isa);
      } catch (e) {
        const from = options.isa !== undefined ? 'isa option' : 'RNNKIT_ISA';
        throw new RangeError(`${from} ${JSON.stringify(isa)}: ${(e as Error).message}`);
      }
    }
    const threads = options.threads ?? envThreads();
    if (threads !== undefined) this.setThreads(threads);
  }

  private trainingBackend: TrainingBackend | undefined;

  /** Whole-window training in one native call per step (training.ts, ../fused-training.ts). */
  get training(): TrainingBackend {
    return (this.trainingBackend ??= createNativeTraining(this.addon, this.abi));
  }

  info(): BackendInfo {
    return { backend: 'native', isa: this.addon.isa(), threads: this.addon.getThreads() };
  }

  /**
   * Threads used by every native computation of this process (0 = every core). Refused
   * with ERR_RNNKIT_BUSY while a computation is in flight, unless it changes nothing.
   */
  setThreads(n: number): void {
    threadCount(n, 'threads');
    // Setting the count it already has must not be refused while another stack or
    // worker_thread computes (every worker applies RNNKIT_THREADS when it loads).
    if (this.addon.resolveThreads(n) === this.addon.getThreads()) return;
    this.addon.setThreads(n);
  }

  /** Force an ISA path for the whole process; a RangeError if this CPU or build lacks it. */
  forceIsa(name: string): void {
    if (name === this.addon.isa()) return; // as for threads: no change, nothing to refuse
    this.addon.forceIsa(name);
  }

  /** The parameter layout as the kernels lay it out (rk_stack_layout). */
  stackLayoutText(stack: StackHandle): string {
    return this.addon.stackLayout(this.addonStack(stack, 'stackLayoutText'));
  }

  createStack(spec: StackSpec): StackHandle {
    return new NativeStack(this.addon.stackCreate(this.abi.pack('rk_stack_spec', stackSpecValues(this.abi, spec))));
  }

  setParams(stack: StackHandle, flat: Float32Array): void {
    this.addon.stackSetParams(this.addonStack(stack, 'setParams'), flat);
  }

  getParams(stack: StackHandle): Float32Array {
    return this.addon.stackGetParams(this.addonStack(stack, 'getParams'));
  }

  getGrads(stack: StackHandle): Float32Array {
    return this.addon.stackGetGrads(this.addonStack(stack, 'getGrads'));
  }

  zeroGrads(stack: StackHandle): void {
    this.addon.stackZeroGrads(this.addonStack(stack, 'zeroGrads'));
  }

  async forward(stack: StackHandle, req: ForwardRequest): Promise<ForwardResult> {
    const h = this.addonStack(stack, 'forward');
    return forwardResult(await this.addon.stackForward(h, req.steps, req.batch, !!req.training, req.x, req.h0, req.c0, req.lengths));
  }

  forwardSync(stack: StackHandle, req: ForwardRequest): ForwardResult {
    const h = this.addonStack(stack, 'forwardSync');
    return forwardResult(this.addon.stackForwardSync(h, req.steps, req.batch, !!req.training, req.x, req.h0, req.c0, req.lengths));
  }

  async backward(stack: StackHandle, req: BackwardRequest): Promise<BackwardResult> {
    return backwardResult(await this.addon.stackBackward(this.addonStack(stack, 'backward'), req.dy, req.dhn, req.dcn));
  }

  backwardSync(stack: StackHandle, req: BackwardRequest): BackwardResult {
    return backwardResult(this.addon.stackBackwardSync(this.addonStack(stack, 'backwardSync'), req.dy, req.dhn, req.dcn));
  }

  dispose(stack: StackHandle): void {
    this.addon.stackDispose(this.addonStack(stack, 'dispose'));
  }

  private addonStack(stack: StackHandle, op: string): AddonHandle {
    if (!(stack instanceof NativeStack)) {
      const from = stack && typeof stack === 'object' && 'backend' in stack ? `a ${String(stack.backend)} stack` : typeof stack;
      throw new TypeError(`native ${op}: stack must be a handle made by this native backend; got ${from}`);
    }
    return stack.addonStack;
  }
}

/** Load the addon and wrap it; throws (with what was tried) if it cannot load. */
export function createNativeBackend(options: NativeBackendOptions = {}): NativeBackend {
  const { addon, path: file } = loadAddon();
  return new NativeBackend(addon, file, options);
}

/** For load.ts: the backend with options from the environment. */
export async function loadNativeBackend(): Promise<NativeBackend> {
  return createNativeBackend();
}
