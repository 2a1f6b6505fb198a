/**
 * rnnkit — recurrent neural networks for JavaScript (Node entry).
 *
 * The Node entry picks the fastest backend that loads (native addon → wasm → reference);
 * `RNNKIT_BACKEND=native|wasm|reference` forces one.
 */
export { createStack, resolveSpec, RecurrentStack } from './stack.js';
export type { StackOptions, StackWithParams, ForwardOptions, BackwardOptions } from './stack.js';
export { CELL_TYPES } from './backend/contract.js';
export type {
  BackendInfo,
  BackendName,
  BackwardResult,
  CellType,
  ForwardResult,
  StackSpec,
} from './backend/contract.js';
export { paramLayout } from './backend/layout.js';
export type { ParamEntry } from './backend/layout.js';
export { loadBackend, defaultBackend } from './backend/load.js';

import { defaultBackend } from './backend/load.js';
import type { BackendInfo } from './backend/contract.js';

/** Which backend, instruction-set path and thread count rnnkit uses by default here. */
export async function backendInfo(): Promise<BackendInfo> {
  return (await defaultBackend()).info();
}

// Models and training.
export { createModel, resolveModelSpec, RnnModel } from './models/model.js';
export type { ModelOptions, FitOptions, FitProgress, FitResult, EpochResult, EvalMetrics, EvaluateOptions, EarlyStoppingOptions, GenerateOptions } from './models/model.js';
export type { ModelMetrics, ClassMetrics } from './models/metrics.js';
export type { Dataset, NumberArray } from './models/data.js';
export { TrainingDivergedError, FitAbortedError } from './models/errors.js';
export { modelLayout } from './backend/layout.js';
export { trainingOf } from './backend/load.js';
export { OPTIMIZER_NAMES } from './optim/optimizers.js';
export type { OptimizerSpec, ClipSpec } from './optim/optimizers.js';
export type {
  ModelSpec,
  InputSpec,
  LossSpec,
  EncoderSpec,
  DropoutSpec,
  TrainBatch,
  SourceBatch,
  TrainStepResult,
  EvalResult,
  GradResult,
  TrainingBackend,
} from './backend/contract.js';
export type { OptimizerStateSnapshot } from './backend/contract.js';
export type { ModelParamEntry, ModelLayout } from './backend/layout.js';
export type { TbpttRequest, TbpttResult } from './tbptt.js';
export { Random } from './init/random.js';
export { initStackParams, initModelParams, xavierUniform, xavierNormal, orthogonalMatrix, identityMatrix } from './init/initializers.js';
export type { WeightInit, StackInitOptions, ModelInitOptions } from './init/initializers.js';
export { stepDecay, exponentialDecay, warmupCosine } from './optim/schedules.js';
export type { LearningRateSchedule } from './optim/schedules.js';

// Files: safetensors, PyTorch weights, model directories.
export { encodeSafetensors, decodeSafetensors, SafetensorsError } from './io/safetensors.js';
export type { Tensor, SafetensorsContent } from './io/safetensors.js';
export { saveSafetensors, loadSafetensors, writeFileAtomic } from './io/safetensors-file.js';
// The browser entry's formats, as bytes (the same functions there): model bytes, one-file bundles, PyTorch weights.
export { encodeModel, decodeModel } from './io/model-bytes.js';
export type { ModelBytes, LoadedModel } from './io/model-bytes.js';
export { readModel, encodeModelBundle, decodeModelBundle, bundleFromFiles, bundleConfig, modelUrls, BUNDLE_CONFIG_KEY } from './web/model-io.js';
export type { ModelSource, ReadModelOptions } from './web/model-io.js';
export { decodeTorchRnn, encodeTorchRnn } from './web/torch-bytes.js';
export { saveModelBundle, readModelBundle, loadModelBundle, bundleToDirectory } from './io/web-bundle-file.js';
export { tokenizerOf } from './text/tokenizer.js';
export { setWasmWorker } from './backend/wasm/worker-host.js';
export type { WasmWorkerOption } from './backend/wasm/worker-host.js';
export { stackFromTensors, stackToTensors } from './io/torch.js';
export type { TorchImportOptions, ImportedStack } from './io/torch.js';
export { importTorchRnn, exportTorchRnn } from './io/torch-file.js';
export { saveModelFiles, loadModelFiles } from './io/model-file.js';

// Text.
export { CharTokenizer, WordTokenizer, Tokenizer, tokenizerFromJSON } from './text/tokenizer.js';
export type { TokenizerJSON, TokenizerOptions, WordTokenizerOptions, SpecialTokens, SpecialIds, DecodeOptions } from './text/tokenizer.js';
export { splitSentences, encodeSentences, DEFAULT_ABBREVIATIONS } from './text/sentences.js';
export { wordVectorsFor } from './text/vectors.js';
export type { WordVectors, WordVectorOptions } from './text/vectors.js';
export type { SentenceOptions } from './text/sentences.js';
export { HELD_OUT_SPLIT, nextTokenDataset, splitHeldOut, streamDataset } from './text/language-model.js';
export { argmax, checkSamplingOptions, pickToken } from './text/sampling.js';
export { GenerationSession } from './models/session.js';
export type { SampleOptions, SessionOptions } from './models/session.js';
export type { SamplingOptions } from './text/sampling.js';
