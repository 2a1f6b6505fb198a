/**
 * The native addon's training: {@link FusedTraining} over the addon's model exports
 * (rk_model_* of rnnkit.h). Specs, optimizers and batches are packed by src/backend/abi/;
 * train steps and evaluations run on libuv's thread pool (the promise forms), so
 * `await trainStep` never blocks the event loop.
 */
import type { Abi } from '../abi/abi.js';
import { BATCH_INPUTS, batchValues, modelSpecValues, optimizerValues } from '../abi/structs.js';
import type { EvalResult, TrainBatch, TrainStepResult } from '../contract.js';
import { FusedTraining, type FusedEngine } from '../fused-training.js';
import type { AddonHandle, AddonResult, NativeAddon } from './addon.js';

/** rk_model_* calls of the addon's modelRun. */
const TRAIN = 0;
const LOSS_AND_GRADS = 1;
const EVALUATE = 2;

function nativeEngine(a: NativeAddon, abi: Abi): FusedEngine<AddonHandle> {
  // The batch bytes (T, B, seed, source steps; pointers are the addon's to fill) and its
  // arrays indexed by rk_model_array.
  const pack = (b: TrainBatch): [Uint8Array, unknown[]] => {
    const arrays: unknown[] = [];
    for (const { array, of } of BATCH_INPUTS) arrays[abi.value('rk_model_array', array)] = of(b);
    return [abi.pack('rk_batch', batchValues(b, () => 0)), arrays];
  };
  const step = (r: AddonResult) => {
    const s = abi.readF64('rk_step_result', new DataView(r.step!));
    return { loss: s.loss, count: s.count, correct: s.correct, totalNorm: s.total_norm };
  };
  const trained = (r: AddonResult): TrainStepResult => ({ ...step(r), hn: r.hn!, ...(r.cn ? { cn: r.cn } : {}) });
  const evaluated = (r: AddonResult): EvalResult => {
    const { loss, count, correct } = step(r);
    return { loss, count, correct, outputs: r.outputs!, y: r.y!, hn: r.hn!, ...(r.cn ? { cn: r.cn } : {}) };
  };
  return {
    create: (spec) => a.modelCreate(abi.pack('rk_model_spec', modelSpecValues(abi, spec))),
    layoutText: (h) => a.modelLayout(h),
    paramCount: (h) => a.modelParamCount(h),
    setParams: (h, flat) => a.modelSetParams(h, flat),
    getParams: (h) => a.modelGetParams(h),
    getGrads: (h) => a.modelGetGrads(h),
    setOptimizer: (h, o) => a.modelSetOptimizer(h, abi.pack('rk_optimizer', optimizerValues(abi, o))),
    setLr: (h, lr) => a.modelSetLr(h, lr),
    optimizerState: (h) => a.modelOptimizerState(h),
    getOptimizerBuffer: (h, k) => a.modelGetOptimizerBuffer(h, k),
    setOptimizerState: (h, step, buffers) => a.modelSetOptimizerState(h, step, buffers),
    trainStep: async (h, b) => trained(await a.modelRun(h, TRAIN, ...pack(b))),
    trainStepSync: (h, b) => trained(a.modelRunSync(h, TRAIN, ...pack(b))),
    lossAndGradsSync: (h, b) => step(a.modelRunSync(h, LOSS_AND_GRADS, ...pack(b))),
    evaluate: async (h, b) => evaluated(await a.modelRun(h, EVALUATE, ...pack(b))),
    evaluateSync: (h, b) => evaluated(a.modelRunSync(h, EVALUATE, ...pack(b))),
    dispose: (h) => a.modelDispose(h),
    sessionCreate: (h, batch) => a.sessionCreate(h, batch),
    sessionStep: async (s, b) => (await a.sessionStep(s as AddonHandle, ...pack(b))).logits,
    sessionStepSync: (s, b) => a.sessionStepSync(s as AddonHandle, ...pack(b)).logits,
    sessionSetState: (s, st) => a.sessionSetState(s as AddonHandle, st.h, st.c),
    sessionGetState: (s) => a.sessionGetState(s as AddonHandle),
    sessionDispose: (s) => a.sessionDispose(s as AddonHandle),
  };
}

/** The TrainingBackend of a NativeBackend (its `training` member). */
export function createNativeTraining(addon: NativeAddon, abi: Abi): FusedTraining<AddonHandle> {
  return new FusedTraining('native', nativeEngine(addon, abi));
}
