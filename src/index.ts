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

// Formats as bytes, tokenizers and text tools: the same list as the browser entry's.
export * from './shared-exports.js';
// Files (Node): safetensors, bundles, PyTorch weights, model directories.
export { saveSafetensors, loadSafetensors, writeFileAtomic } from './io/safetensors-file.js';
export { saveModelBundle, readModelBundle, loadModelBundle, bundleToDirectory } from './io/web-bundle-file.js';
export { importTorchRnn, exportTorchRnn } from './io/torch-file.js';
export { decodeTorchSave, encodeTorchSave } from './io/torch-save.js';
export { loadTensorFile, saveTensorFile } from './io/tensor-file.js';
export { saveModelFiles, loadModelFiles } from './io/model-file.js';

export { GenerationSession } from './models/session.js';
export type { SampleOptions, SessionOptions } from './models/session.js';
