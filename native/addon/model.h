// The whole-window training model (rk_model_* of rnnkit.h) for JavaScript: create, params
// and grads copies, optimizer, and the train step / evaluate calls, each synchronous or on
// an AsyncWorker returning a Promise. src/backend/native-training.ts is the only caller.
//
// Exports (registered by RegisterModel):
//   modelCreate(spec) → handle            spec: { input: {kind, vocab?, dim?, size?}, conditionSize?,
//                                           stack: StackSpec, outputs, loss: {kind, ignoreIndex?}, readout?,
//                                           dropout?: {input, between} }
//   modelParamCount(h) → number           modelSetParams(h, f32) / modelGetParams(h) / modelGetGrads(h)
//   modelSetOptimizer(h, opt)             opt: { name, lr, momentum, dampening, nesterov,
//                                           weightDecay, alpha, eps, beta1, beta2, clipValue?, maxNorm? }
//   modelSetLr(h, lr)                     modelDispose(h)
//   modelTrainStep(h, batch) → Promise    modelTrainStepSync(h, batch) → { loss, count, correct, totalNorm, hn, cn? }
//   modelLossAndGradsSync(h, batch) → the same without update (grads via modelGetGrads)
//   modelEvaluate(h, batch) → Promise     modelEvaluateSync(h, batch) → { loss, count, correct, outputs, y, hn, cn? }
// batch: { steps, batch, tokens?, x?, condition?, targets?, targetValues?, targetMask?, lengths?, h0?, c0?, dropoutSeed?,
//          source?: { steps, tokens?, x?, lengths? } }
#ifndef RNNKIT_ADDON_MODEL_H
#define RNNKIT_ADDON_MODEL_H

#include <napi.h>

namespace rkaddon {

void RegisterModel(Napi::Env env, Napi::Object exports);

}  // namespace rkaddon

#endif
