/**
 * rnnkit — recurrent neural networks for JavaScript (Node entry).
 *
 * The Node entry picks the fastest backend that loads (native addon → wasm → reference);
 * `RNNKIT_BACKEND=native|wasm|reference` forces one.
 */
export { createStack, resolveSpec, RecurrentStack } from './stack.js';
export type { StackOptions, ForwardOptions, BackwardOptions } from './stack.js';
export { CELL_TYPES } from './backend/backend.js';
export type {
  BackendInfo,
  BackendName,
  BackwardResult,
  CellType,
  ForwardResult,
  StackSpec,
} from './backend/backend.js';
export { paramLayout } from './backend/layout.js';
export type { ParamEntry } from './backend/layout.js';
export { loadBackend, defaultBackend } from './backend/load.js';

import { defaultBackend } from './backend/load.js';
import type { BackendInfo } from './backend/backend.js';

/** Which backend, instruction-set path and thread count rnnkit uses by default here. */
export async function backendInfo(): Promise<BackendInfo> {
  return (await defaultBackend()).info();
}
