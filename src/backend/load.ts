/**
 * Backend loader: picks the fastest backend that loads on this machine.
 *
 * Order: native addon → wasm → reference. The native addon is found by node-gyp-build
 * on the package root (a local build in build/Release, else the prebuild in
 * prebuilds/<platform>-<arch>/), or is the file named by RNNKIT_NATIVE_PATH (see native.ts).
 * `RNNKIT_BACKEND=native|wasm|reference` forces one; a forced backend that cannot load is
 * an error listing what was tried and why.
 */
import type { Backend, BackendName } from './backend.js';
import { ReferenceBackend } from './reference/index.js';

export const BACKEND_NAMES: readonly BackendName[] = ['native', 'wasm', 'reference'];

const NATIVE_MODULE = './native.js';

const loaders: Record<BackendName, () => Promise<Backend>> = {
  // Imported lazily, through a specifier bundlers do not follow: native.ts needs Node
  // built-ins, and the browser entry (web.ts) shares this loader but never loads 'native'.
  native: async () =>
    ((await import(/* webpackIgnore: true */ /* @vite-ignore */ NATIVE_MODULE)) as typeof import('./native.js')).loadNativeBackend(),
  // rnnkit.wasm from wasm/dist/ (built by `npm run build:wasm`, shipped in the package).
  wasm: async () => (await import('./wasm.js')).loadWasmBackend(),
  reference: async () => new ReferenceBackend(),
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

/** The backend to use by default: RNNKIT_BACKEND if set, else the first that loads. */
export async function defaultBackend(): Promise<Backend> {
  const forced = typeof process !== 'undefined' ? process.env.RNNKIT_BACKEND : undefined;
  if (forced) {
    try {
      return await loadBackend(forced as BackendName);
    } catch (e) {
      throw new Error(`RNNKIT_BACKEND=${forced} cannot be loaded: ${(e as Error).message}`);
    }
  }
  const failures: string[] = [];
  for (const name of BACKEND_NAMES) {
    try {
      return await loadBackend(name);
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no rnnkit backend could be loaded; tried ${failures.join('; ')}`);
}
