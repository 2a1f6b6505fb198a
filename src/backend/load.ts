/**
 * Backend loader: picks the fastest backend that loads on this machine.
 *
 * Order: native addon → wasm → reference. The native addon is found by node-gyp-build
 * on the package root (a local build in build/Release, else the prebuild in
 * prebuilds/<platform>-<arch>/), or is the file named by RNNKIT_NATIVE_PATH (see
 * native/addon.ts).
 * `RNNKIT_BACKEND=native|wasm|reference` forces one; a forced backend that cannot load is
 * an error listing what was tried and why.
 */
import type { Backend, BackendName, TrainingBackend, TrainingCapable } from './contract.js';
import { envThreads } from './thread-count.js';

export const BACKEND_NAMES: readonly BackendName[] = ['native', 'wasm', 'reference'];

// Imported lazily, through specifiers bundlers do not follow: native/ needs Node built-ins,
// and the reference (the float64 specification, ~20 KB minified) is not part of the
// browser entry (web.ts), which shares this loader but runs on wasm only.
const NATIVE_MODULE = './native/backend.js';
const REFERENCE_MODULE = './reference/index.js';
const REFERENCE_TRAINING_MODULE = './reference/training/index.js';
const unbundled = <T>(specifier: string): Promise<T> => import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;

const loaders: Record<BackendName, () => Promise<Backend>> = {
  native: async () => (await unbundled<typeof import('./native/backend.js')>(NATIVE_MODULE)).loadNativeBackend(),
  // rnnkit.wasm from wasm/dist/ (built by `npm run build:wasm`, shipped in the package).
  wasm: async () => (await import('./wasm/backend.js')).loadWasmBackend(),
  reference: async () => new (await unbundled<typeof import('./reference/index.js')>(REFERENCE_MODULE)).ReferenceBackend(),
};

const cache = new Map<BackendName, Promise<Backend>>();

/** Load one backend by name; rejects with the reason it cannot load. */
export function loadBackend(name: BackendName): Promise<Backend> {
  if (!BACKEND_NAMES.includes(name)) {
    return Promise.reject(new RangeError(`backend must be one of ${BACKEND_NAMES.join(', ')}; got ${JSON.stringify(name)}`));
  }
  let p = cache.get(name);
  if (!p) {
    p = loaders[name]();
    cache.set(name, p);
    p.catch(() => cache.delete(name));
  }
  return p;
}

/** Whether `name` has loaded or is loading (a failed load is forgotten: it may be retried). */
export function backendRequested(name: BackendName): boolean {
  return cache.has(name);
}

/** The backend named by RNNKIT_BACKEND (Node), if any. */
function forcedBackend(): string | undefined {
  return typeof process !== 'undefined' ? process.env?.RNNKIT_BACKEND || undefined : undefined;
}

/**
 * The one place a backend is chosen: `requested` if given, else RNNKIT_BACKEND if set,
 * else the first of {@link BACKEND_NAMES} for which `use` succeeds. A requested or forced
 * backend that cannot load is an error with the reason; when none loads, the error lists
 * every backend tried and why.
 */
async function chooseBackend<T>(requested: BackendName | undefined, use: (b: Backend) => Promise<T> | T): Promise<T> {
  // A bad RNNKIT_THREADS is the user's mistake, not a backend that cannot load: thrown here,
  // it does not send the choice down to the reference (~40× slower) with a note in info().why.
  envThreads();
  if (requested !== undefined) return use(await loadBackend(requested));
  const forced = forcedBackend();
  if (forced) {
    let backend: Backend;
    try {
      backend = await loadBackend(forced as BackendName);
    } catch (e) {
      throw new Error(`RNNKIT_BACKEND=${forced} cannot be loaded: ${(e as Error).message}`);
    }
    return use(backend);
  }
  const failures: string[] = [];
  for (const name of BACKEND_NAMES) {
    try {
      return await use(await loadBackend(name));
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no rnnkit backend could be loaded; tried ${failures.join('; ')}`);
}

/** The backend to use: `requested`, else RNNKIT_BACKEND if set, else the first that loads. */
export function defaultBackend(requested?: BackendName): Promise<Backend> {
  return chooseBackend(requested, (b) => b);
}

/** The training half of the backend {@link defaultBackend} would choose. */
export function defaultTraining(requested?: BackendName): Promise<TrainingBackend> {
  return chooseBackend(requested, trainingOf);
}

/**
 * The training half of `backend`: its own `training` member (native and wasm: a whole
 * window in one backend call), or for the reference the float64 reference trainer.
 */
export async function trainingOf(backend: Backend): Promise<TrainingBackend> {
  const own = (backend as Partial<TrainingCapable>).training;
  if (own) return own;
  if (backend.name !== 'reference') throw new Error(`the ${backend.name} backend has no training`);
  const { ReferenceTraining } = await unbundled<typeof import('./reference/training/index.js')>(REFERENCE_TRAINING_MODULE);
  return (sharedReference ??= new ReferenceTraining());
}
let sharedReference: TrainingBackend | undefined;
