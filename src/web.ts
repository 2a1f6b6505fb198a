/**
 * rnnkit — browser entry (`rnnkit/web`, and `rnnkit` under bundlers' "browser" condition).
 *
 * The public API over the WebAssembly backend only: no Node built-ins, no eval. The module
 * wasm/dist/rnnkit.wasm (or a variant: rnnkit-threads[-relaxed].wasm on cross-origin-isolated
 * pages, rnnkit-relaxed.wasm where the browser has relaxed SIMD) is fetched from next to the
 * package on first use; call {@link init} first to take it from elsewhere (a CDN URL, bytes
 * you already have), to force a variant or to set the thread count.
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
 * Models: the directory `rnnkit train` / `model.save(dir)` writes in Node (config.json +
 * model.safetensors, the tokenizer in config.json's `extra`) loads here unchanged, from its
 * URL; one-file bundles load from a Blob, File, Response or bytes and are what
 * {@link modelToBlob} saves (see src/web/model-io.ts for both formats and what a URL means).
 *
 * ```js
 * const model = await loadModel('models/moby/');              // config.json + model.safetensors
 * const tok = tokenizerOf(model);                             // the tokenizer saved with it
 * const link = Object.assign(document.createElement('a'), { href: URL.createObjectURL(modelToBlob(model)), download: 'moby.rnnkit.safetensors' });
 * ```
 *
 * What needs a file path stays Node-only: `RnnModel.save(dir)` / `RnnModel.load(dir)`,
 * `saveWeights` / `loadWeights(file)` (here: `model.loadStateDict(decodeSafetensors(bytes).tensors)`),
 * `importTorchRnn(file)` / `exportTorchRnn(file, …)` (here: {@link decodeTorchRnn} /
 * {@link encodeTorchRnn} on bytes), checkpoints.
 */
import type { BackendInfo } from './backend/contract.js';
import { backendRequested, defaultTraining, loadBackend } from './backend/load.js';
import { setWasmSource, setWasmThreads, setWasmVariant, type WasmInput } from './backend/wasm/backend.js';
import { autoVariant, parseVariant, VARIANT_FILES, type WasmVariant } from './backend/wasm/variant.js';
import { hardwareThreads, sharedMemorySupported } from './backend/wasm/threads.js';
import { createModel as createModelOn, RnnModel, type ModelOptions } from './models/model.js';
import { bundleBlob, directoryFiles, readModel, type ModelSource, type ReadModelOptions } from './web/model-io.js';
import { yieldToEventLoop } from './event-loop.js';
import { createStack as createStackOn, type RecurrentStack, type StackOptions, type StackWithParams } from './stack.js';
import { checkKnownKeys, keysOf } from './validate.js';

/**
 * The file of the package's wasm/dist/ that `init()` would load on this page by itself
 * (threaded where the page is cross-origin isolated and has several cores, relaxed SIMD where
 * the engine validates it). For bundlers that leave the .wasm files behind (esbuild): copy
 * them next to the page and `init(new URL(autoWasmFile(), location.href))`.
 */
export function autoWasmFile(): string {
  return VARIANT_FILES[autoVariant()];
}

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
export type { WasmVariant } from './backend/wasm/variant.js';
export { modelLayout } from './backend/layout.js';
export type { ModelParamEntry, ModelLayout } from './backend/layout.js';
export type { Dataset, NumberArray } from './models/data.js';
export type { ModelSpec, InputSpec, LossSpec, EncoderSpec, DropoutSpec } from './backend/contract.js';
export { OPTIMIZER_NAMES } from './optim/optimizers.js';
export type { OptimizerSpec, ClipSpec } from './optim/optimizers.js';
export { stepDecay, exponentialDecay, warmupCosine } from './optim/schedules.js';
export type { LearningRateSchedule } from './optim/schedules.js';
export { Random } from './init/random.js';
export { initStackParams, initModelParams, xavierUniform, xavierNormal, orthogonalMatrix, identityMatrix } from './init/initializers.js';
export type { WeightInit, StackInitOptions, ModelInitOptions } from './init/initializers.js';
// Formats as bytes, tokenizers and text tools: the same list as the Node entry's.
export * from './shared-exports.js';

/** `init({ variant, threads })`: which of the package's four modules to load, with how many threads. */
export interface InitOptions {
  /**
   * "auto" (the default): a threaded module (a thread pool over shared memory) where the page
   * is cross-origin isolated and the machine has several cores, else a single-threaded one;
   * with relaxed SIMD (fused multiply-add) where the browser validates it — so
   * rnnkit-threads-relaxed.wasm, rnnkit-threads.wasm, rnnkit-relaxed.wasm or rnnkit.wasm.
   * "threads-relaxed", "threads", "relaxed" or "simd128" forces one (a forced module that
   * cannot load is an error). Only the chosen file is fetched.
   */
  variant?: WasmVariant | 'auto';
  /** Threads of rnnkit-threads.wasm: n >= 1, or 0 (the default) for navigator.hardwareConcurrency. */
  threads?: number;
}

function isInitOptions(x: unknown): x is InitOptions {
  if (x === null || typeof x !== 'object' || ArrayBuffer.isView(x) || x instanceof ArrayBuffer) return false;
  if (x instanceof URL || x instanceof WebAssembly.Module || typeof (x as PromiseLike<unknown>).then === 'function') return false;
  return !(typeof Response !== 'undefined' && x instanceof Response);
}

/**
 * Load the WebAssembly module: from `source` (a URL, the module's bytes, a compiled
 * WebAssembly.Module or a fetch Response), loaded exactly as given, or, by default, from the
 * package's wasm/dist/: the module {@link InitOptions}' "auto" picks —
 * `init({ variant: 'simd128' })` forces one (see {@link InitOptions}); `info().isa` says which
 * kernels run ("wasm-relaxed-simd" or "wasm-simd128") and `info().threads` with how many
 * threads. Once a module has loaded (or started loading) it stays: a later `source` or
 * options warn and are not used. A failed load may be retried.
 */
export async function init(source?: WasmInput | InitOptions): Promise<BackendInfo> {
  if (isInitOptions(source)) checkKnownKeys('', source, keysOf<InitOptions>({ variant: true, threads: true }), 'an option of init');
  const late = source !== undefined && backendRequested('wasm');
  if (late) {
    // One module per page: its memory holds every model and stack made so far.
    console.warn('rnnkit: init(…) after the WebAssembly module was loaded (by init, or by the first model or stack): the first module stays, this source or these options are not used');
  } else if (isInitOptions(source)) {
    if (source.variant !== undefined) setWasmVariant(parseVariant(source.variant, 'init: variant'));
    if (source.threads !== undefined) setWasmThreads(source.threads, 'init: threads');
  } else if (source !== undefined) {
    setWasmSource(source);
  }
  const info = (await loadBackend('wasm')).info();
  const asked = isInitOptions(source) && source.threads !== undefined ? (source.threads === 0 ? hardwareThreads() : source.threads) : 1;
  if (asked > 1 && info.threads === 1 && !late) {
    // Asked for threads, given one: say why rather than let the number speak alone.
    console.warn(`rnnkit: ${asked} threads asked, 1 runs: ${sharedMemorySupported() ? 'the module has no threads' : 'the page is not cross-origin isolated (COOP/COEP)'}`);
  }
  return info;
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

/** The backend in use here: always wasm, with its ISA path (wasm-relaxed-simd or wasm-simd128) and its threads. */
export async function backendInfo(): Promise<BackendInfo> {
  return (await loadBackend('wasm')).info();
}

/**
 * Load a model onto the WebAssembly backend from a URL (a model directory, or a bundle
 * ending in `.safetensors`), a Response, bytes, a Blob or Files — see {@link ModelSource}.
 * A directory written by `rnnkit train` or `model.save(dir)` in Node loads unchanged; its
 * tokenizer is `tokenizerOf(model)`.
 */
export async function loadModel(source: ModelSource, options: ReadModelOptions = {}): Promise<RnnModel> {
  const { spec, params, extra } = await readModel(source, options);
  // Decoding and creating the model are each a few tens of milliseconds on a cold page
  // (nothing is optimised yet); a task in between lets the page paint and take input.
  await yieldToEventLoop();
  const model = new RnnModel(await defaultTraining('wasm'), spec, params);
  model.extra = extra;
  return model;
}

/**
 * The model as one file (a bundle: model.safetensors with config.json inside; see
 * src/web/model-io.ts) in a Blob — for a download link, IndexedDB or an upload.
 * `loadModel(blob)` reads it back, as does `loadModelBundle(file)` in Node.
 */
export function modelToBlob(model: RnnModel): Blob {
  if (!(model instanceof RnnModel)) throw new TypeError('model must be an RnnModel');
  return bundleBlob(model.spec, model.getParams(), model.extra);
}

/** The model as the two files of a model directory (config.json, model.safetensors), as Node's `model.save(dir)` writes them. */
export function modelToFiles(model: RnnModel): File[] {
  if (!(model instanceof RnnModel)) throw new TypeError('model must be an RnnModel');
  return directoryFiles(model.spec, model.getParams(), model.extra);
}

