/**
 * rnnkit — browser entry (`rnnkit/web`, and `rnnkit` under bundlers' "browser" condition).
 *
 * The public API over the WebAssembly backend only: no Node built-ins, no eval. The module
 * wasm/dist/rnnkit.wasm is fetched from next to the package on first use; call
 * {@link init} first to take it from elsewhere (a CDN URL, bytes you already have).
 *
 * ```js
 * import { init, createStack, createModel } from 'rnnkit/web';
 * await init();                                   // optional: init(new URL('/rnnkit.wasm', location.href))
 * const lstm = await createStack({ cell: 'lstm', inputSize: 8, hiddenSize: 32 });
 * const { y } = lstm.forwardSync(x, { steps: 10, batch: 1 });
 * const model = await createModel({ input: { kind: 'embedding', vocab: 50, dim: 16 }, cell: 'gru', hiddenSize: 64, outputs: 50 });
 * await model.fit({ inputs, targets }, { epochs: 5 });
 * ```
 *
 * Saving and loading model directories (`RnnModel.save`/`load`) need a file system and
 * are Node-only.
 */
import type { BackendInfo } from './backend/contract.js';
import { loadBackend } from './backend/load.js';
import { setWasmSource, type WasmInput } from './backend/wasm/backend.js';
import { createModel as createModelOn, type ModelOptions, type RnnModel } from './models/model.js';
import { createStack as createStackOn, type RecurrentStack, type StackOptions, type StackWithParams } from './stack.js';

export { RecurrentStack, resolveSpec } from './stack.js';
export type { StackOptions, StackWithParams, ForwardOptions, BackwardOptions } from './stack.js';
export { RnnModel, resolveModelSpec } from './models/model.js';
export { GenerationSession } from './models/session.js';
export type { SampleOptions, SessionOptions } from './models/session.js';
export { TrainingDivergedError, FitAbortedError } from './models/errors.js';
export type { ModelOptions, FitOptions, FitProgress, FitResult, EpochResult, EvalMetrics, EvaluateOptions, EarlyStoppingOptions, GenerateOptions } from './models/model.js';
export type { ModelMetrics, ClassMetrics } from './models/metrics.js';
export { CELL_TYPES } from './backend/contract.js';
export type { BackendInfo, BackendName, BackwardResult, CellType, ForwardResult, StackSpec } from './backend/contract.js';
export { paramLayout } from './backend/layout.js';
export type { ParamEntry } from './backend/layout.js';
export type { WasmInput } from './backend/wasm/backend.js';
// Text (pure TypeScript: tokenizers, vocabularies, sentences).
export { CharTokenizer, WordTokenizer, Tokenizer, tokenizerFromJSON } from './text/tokenizer.js';
export type { TokenizerJSON, TokenizerOptions, WordTokenizerOptions, SpecialTokens, SpecialIds, DecodeOptions } from './text/tokenizer.js';
export { splitSentences, encodeSentences, DEFAULT_ABBREVIATIONS } from './text/sentences.js';
export { wordVectorsFor } from './text/vectors.js';
export type { WordVectors, WordVectorOptions } from './text/vectors.js';
export type { SentenceOptions } from './text/sentences.js';

/**
 * Load the WebAssembly module: from `source` (a URL, the module's bytes, a compiled
 * WebAssembly.Module or a fetch Response) or, by default, from wasm/dist/rnnkit.wasm of
 * the package. Once a module has loaded it stays: a later `source` is ignored. A failed
 * load may be retried.
 */
export async function init(source?: WasmInput): Promise<BackendInfo> {
  if (source !== undefined) setWasmSource(source);
  return (await loadBackend('wasm')).info();
}

/** The options with backend "wasm"; anything but an object passes through to be refused by the API. */
function onWasm<T extends { backend?: unknown }>(options: T): T {
  if (options === null || typeof options !== 'object') return options;
  if (options.backend !== undefined && options.backend !== 'wasm') {
    throw new RangeError(`backend must be "wasm" in the browser build; got ${JSON.stringify(options.backend)}`);
  }
  return { ...options, backend: 'wasm' };
}

/** Create a recurrent stack (seeded PyTorch initialisation, or given `params`) on the WebAssembly backend. */
export async function createStack(options: StackOptions | StackWithParams): Promise<RecurrentStack> {
  return createStackOn(onWasm(options));
}

/** Create a model (initialised from `options.init`) that trains on the WebAssembly backend. */
export async function createModel(options: ModelOptions): Promise<RnnModel> {
  return createModelOn(onWasm(options));
}

/** The backend in use here: always wasm, with its ISA path (wasm-simd128) and one thread. */
export async function backendInfo(): Promise<BackendInfo> {
  return (await loadBackend('wasm')).info();
}
