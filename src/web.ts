/**
 * rnnkit — browser entry (`rnnkit/web`, and `rnnkit` under bundlers' "browser" condition).
 *
 * The public API over the WebAssembly backend only: no Node built-ins, no eval. The module
 * wasm/dist/rnnkit.wasm is fetched from next to the package on first use; call
 * {@link init} first to fetch it from elsewhere (a CDN URL, bytes you already have).
 *
 * ```js
 * import { init, createStack } from 'rnnkit/web';
 * await init();                                   // optional: init(new URL('/rnnkit.wasm', location.href))
 * const lstm = await createStack({ cell: 'lstm', inputSize: 8, hiddenSize: 32 });
 * const { y } = lstm.forwardSync(x, { steps: 10, batch: 1 });
 * ```
 */
import type { BackendInfo } from './backend/backend.js';
import { createWasmBackend, loadWasmBackend, type WasmBackend, type WasmInput } from './backend/wasm.js';
import { RecurrentStack, resolveSpec, type StackOptions } from './stack.js';

export { RecurrentStack, resolveSpec } from './stack.js';
export type { StackOptions, ForwardOptions, BackwardOptions } from './stack.js';
export { CELL_TYPES } from './backend/backend.js';
export type { BackendInfo, BackendName, BackwardResult, CellType, ForwardResult, StackSpec } from './backend/backend.js';
export { paramLayout } from './backend/layout.js';
export type { ParamEntry } from './backend/layout.js';
export type { WasmInput } from './backend/wasm.js';

let backend: Promise<WasmBackend> | null = null;

/**
 * Load the WebAssembly module: from `source` (a URL, the module's bytes, a compiled
 * WebAssembly.Module or a fetch Response) or, by default, from wasm/dist/rnnkit.wasm of
 * the package. Calling it again returns the first module; a failed load may be retried.
 */
export async function init(source?: WasmInput): Promise<BackendInfo> {
  if (!backend) {
    backend = source === undefined ? loadWasmBackend() : createWasmBackend(source);
    backend.catch(() => {
      backend = null;
    });
  }
  return (await backend).info();
}

async function wasm(): Promise<WasmBackend> {
  await init();
  return backend as Promise<WasmBackend>;
}

/** Create a recurrent stack with all parameters zero, on the WebAssembly backend. */
export async function createStack(options: StackOptions): Promise<RecurrentStack> {
  const spec = resolveSpec(options);
  if (options.backend !== undefined && options.backend !== 'wasm') {
    throw new RangeError(`backend must be "wasm" in the browser build; got ${JSON.stringify(options.backend)}`);
  }
  return new RecurrentStack(await wasm(), spec);
}

/** The backend in use here: always wasm, with its ISA path (wasm-simd128) and one thread. */
export async function backendInfo(): Promise<BackendInfo> {
  return (await wasm()).info();
}
