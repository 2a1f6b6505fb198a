/**
 * NativeBackend: the Backend interface over the Node-API addon (native/addon/), which runs
 * the C++ kernels of native/src/ with the machine's best SIMD path and a thread pool.
 *
 * Parameters, gradients and workspaces live in native memory. `forward`/`backward` run on
 * libuv's thread pool and return promises, so the event loop keeps running during a long
 * sequence; the `…Sync` variants are for short calls such as one streaming step. One
 * asynchronous call at a time per stack: a second call on a stack whose promise has not
 * settled is refused with an Error whose `code` is `ERR_RNNKIT_BUSY` (await the first).
 *
 * Which addon file loads (see {@link resolveAddonPath}):
 *   RNNKIT_NATIVE_PATH=/path/to/rnnkit.node   exactly that file (e.g. the sanitizer build)
 *   otherwise node-gyp-build on the package root: build/Release (a local build), then
 *   prebuilds/<platform>-<arch>/ (the prebuild shipped in the npm package).
 * Environment: RNNKIT_THREADS=n (0 = every core) and RNNKIT_ISA=scalar|avx2|avx512|neon
 * are applied when the backend loads; `threads` and `isa` options override them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
import { paramLayout } from '../layout.js';
import { createNativeTraining } from './training.js';
import type { NativeModelAddon } from './training.js';
import type { TrainingBackend } from '../contract.js';

/** An opaque stack handle made by the addon (a tagged native object). */
export type AddonStack = object & { readonly __rnnkitAddonStack?: never };

/** The addon's exports (native/addon/addon.cc). Every function checks its arguments. */
export interface NativeAddon extends NativeModelAddon {
  create(spec: StackSpec): AddonStack;
  paramCount(stack: AddonStack): number;
  setParams(stack: AddonStack, flat: Float32Array): void;
  getParams(stack: AddonStack): Float32Array;
  getGrads(stack: AddonStack): Float32Array;
  zeroGrads(stack: AddonStack): void;
  dispose(stack: AddonStack): void;
  forward(stack: AddonStack, req: ForwardRequest): Promise<ForwardResult>;
  forwardSync(stack: AddonStack, req: ForwardRequest): ForwardResult;
  backward(stack: AddonStack, req: BackwardRequest): Promise<BackwardResult>;
  backwardSync(stack: AddonStack, req: BackwardRequest): BackwardResult;
  isa(): string;
  forceIsa(name: string): void;
  setThreads(n: number): void;
  getThreads(): number;
}

export interface NativeBackendOptions {
  /** Threads for the compute calls (0 = every core; 1 = exactly single-threaded). Default: RNNKIT_THREADS, else every core. */
  threads?: number;
  /** Force an ISA path (tests, benchmarks). Default: RNNKIT_ISA, else the best this CPU supports. */
  isa?: string;
}

const require = createRequire(import.meta.url);

/**
 * The package root: the nearest directory above this module with rnnkit's package.json.
 * This file runs from src/backend/ (vitest, tsx) and from dist/src/backend/ (built), so
 * the depth differs; searching upwards works for both and for node_modules/rnnkit/.
 */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'rnnkit') return dir;
      } catch {
        // unreadable package.json: keep looking upwards
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find rnnkit's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The .node file that {@link loadAddon} loads, or an Error saying where it looked. */
export function resolveAddonPath(): string {
  const forced = process.env.RNNKIT_NATIVE_PATH;
  if (forced) {
    const file = path.resolve(forced);
    if (!existsSync(file)) throw new Error(`RNNKIT_NATIVE_PATH=${forced}: no such file`);
    return file;
  }
  const root = packageRoot();
  const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  try {
    return nodeGypBuild.resolve(root);
  } catch (e) {
    const detail = (e as Error).message.trim().replace(/\s+/g, ' ');
    throw new Error(
      `no native addon in ${path.join(root, 'build', 'Release')} or ${path.join(root, 'prebuilds', `${process.platform}-${process.arch}`)} ` +
        `(${detail}); build it with \`npm run build:native\``,
    );
  }
}

/** Load the addon (see {@link resolveAddonPath}); throws with the path and the loader's reason. */
export function loadAddon(): { addon: NativeAddon; path: string } {
  const file = resolveAddonPath();
  try {
    return { addon: require(file) as NativeAddon, path: file };
  } catch (e) {
    throw new Error(`cannot load the native addon ${file}: ${(e as Error).message}`);
  }
}

class NativeStack implements StackHandle {
  readonly backend = 'native' as const;
  constructor(
    readonly addonStack: AddonStack,
    readonly spec: StackSpec,
  ) {}
}

function envThreads(): number | undefined {
  const raw = process.env.RNNKIT_THREADS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`RNNKIT_THREADS must be an integer ≥ 0 (0 = every core); got ${JSON.stringify(raw)}`);
  return n;
}

export class NativeBackend implements Backend {
  readonly name = 'native' as const;

  /**
   * @param addon the loaded addon ({@link loadAddon})
   * @param addonPath the file it came from (reported by {@link addonPath})
   */
  constructor(
    private readonly addon: NativeAddon,
    readonly addonPath: string,
    options: NativeBackendOptions = {},
  ) {
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
    return (this.trainingBackend ??= createNativeTraining(this.addon));
  }

  info(): BackendInfo {
    return { backend: 'native', isa: this.addon.isa(), threads: this.addon.getThreads() };
  }

  /**
   * Threads used by every native computation of this process (0 = every core). Refused
   * with ERR_RNNKIT_BUSY while a computation is in flight.
   */
  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`threads must be an integer ≥ 0 (0 = every core); got ${n}`);
    // Setting the count it already has changes nothing, so it must not be refused while
    // another stack or worker_thread computes (RNNKIT_THREADS applied by every worker).
    if (n !== 0 && n === this.addon.getThreads()) return;
    this.addon.setThreads(n);
  }

  /** Force an ISA path for the whole process; a RangeError if this CPU or build lacks it. */
  forceIsa(name: string): void {
    this.addon.forceIsa(name);
  }

  createStack(spec: StackSpec): StackHandle {
    const h = this.addon.create(spec);
    const expected = paramLayout(spec).total;
    const actual = this.addon.paramCount(h);
    if (actual !== expected) {
      this.addon.dispose(h);
      throw new Error(
        `native parameter layout differs from src/backend/layout.ts for ${JSON.stringify(spec)}: ` +
          `the addon counts ${actual} floats, paramLayout ${expected}`,
      );
    }
    return new NativeStack(h, spec);
  }

  setParams(stack: StackHandle, flat: Float32Array): void {
    this.addon.setParams(this.addonStack(stack, 'setParams'), flat);
  }

  getParams(stack: StackHandle): Float32Array {
    return this.addon.getParams(this.addonStack(stack, 'getParams'));
  }

  getGrads(stack: StackHandle): Float32Array {
    return this.addon.getGrads(this.addonStack(stack, 'getGrads'));
  }

  zeroGrads(stack: StackHandle): void {
    this.addon.zeroGrads(this.addonStack(stack, 'zeroGrads'));
  }

  forward(stack: StackHandle, req: ForwardRequest): Promise<ForwardResult> {
    try {
      return this.addon.forward(this.addonStack(stack, 'forward'), req);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  forwardSync(stack: StackHandle, req: ForwardRequest): ForwardResult {
    return this.addon.forwardSync(this.addonStack(stack, 'forwardSync'), req);
  }

  backward(stack: StackHandle, req: BackwardRequest): Promise<BackwardResult> {
    try {
      return this.addon.backward(this.addonStack(stack, 'backward'), req);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  backwardSync(stack: StackHandle, req: BackwardRequest): BackwardResult {
    return this.addon.backwardSync(this.addonStack(stack, 'backwardSync'), req);
  }

  dispose(stack: StackHandle): void {
    this.addon.dispose(this.addonStack(stack, 'dispose'));
  }

  private addonStack(stack: StackHandle, op: string): AddonStack {
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
