/**
 * The native addon's training: {@link FusedTraining} over the addon's model* exports
 * (native/addon/model.h → rk_model_* of rnnkit.h). Train steps and evaluations run on
 * libuv's thread pool (the promise forms), so `await trainStep` never blocks the event
 * loop; one asynchronous call at a time per model (a second is refused with
 * ERR_RNNKIT_BUSY). Which models are fused and which are delegated: fused-training.ts.
 */
import { FusedTraining } from '../fused-training.js';
import type { FusedEngine } from '../fused-training.js';
import type { OptimizerSettings } from '../../optim/optimizers.js';
import type { EvalResult, ModelSpec, TrainBatch, TrainStepResult } from '../contract.js';

/** An opaque model handle made by the addon (a type-tagged External). */
export type AddonModel = object & { readonly __rnnkitAddonModel?: never };

/** The addon's model exports (native/addon/model.h). Every function checks its arguments. */
export interface NativeModelAddon {
  modelCreate(spec: ModelSpec): AddonModel;
  modelParamCount(m: AddonModel): number;
  modelSetParams(m: AddonModel, flat: Float32Array): void;
  modelGetParams(m: AddonModel): Float32Array;
  modelGetGrads(m: AddonModel): Float32Array;
  modelSetOptimizer(m: AddonModel, o: OptimizerSettings): void;
  modelSetLr(m: AddonModel, lr: number): void;
  modelDispose(m: AddonModel): void;
  modelTrainStep(m: AddonModel, b: TrainBatch): Promise<TrainStepResult>;
  modelTrainStepSync(m: AddonModel, b: TrainBatch): TrainStepResult;
  modelLossAndGradsSync(m: AddonModel, b: TrainBatch): TrainStepResult;
  modelEvaluate(m: AddonModel, b: TrainBatch): Promise<EvalResult>;
  modelEvaluateSync(m: AddonModel, b: TrainBatch): EvalResult;
}

function nativeEngine(a: NativeModelAddon): FusedEngine<AddonModel> {
  return {
    create: (spec) => a.modelCreate(spec),
    paramCount: (h) => a.modelParamCount(h),
    setParams: (h, flat) => a.modelSetParams(h, flat),
    getParams: (h) => a.modelGetParams(h),
    getGrads: (h) => a.modelGetGrads(h),
    setOptimizer: (h, o) => a.modelSetOptimizer(h, o),
    setLr: (h, lr) => a.modelSetLr(h, lr),
    trainStep: (h, b) => a.modelTrainStep(h, b),
    trainStepSync: (h, b) => a.modelTrainStepSync(h, b),
    lossAndGradsSync: (h, b) => a.modelLossAndGradsSync(h, b),
    evaluate: (h, b) => a.modelEvaluate(h, b),
    evaluateSync: (h, b) => a.modelEvaluateSync(h, b),
    dispose: (h) => a.modelDispose(h),
  };
}

/** The TrainingBackend of a NativeBackend (its `training` member). */
export function createNativeTraining(addon: NativeModelAddon): FusedTraining<AddonModel> {
  return new FusedTraining('native', nativeEngine(addon));
}
