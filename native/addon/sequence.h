// Whole-sequence forward and backward: (stack, request) → result, sync or as a Promise.
#ifndef RNNKIT_ADDON_SEQUENCE_H
#define RNNKIT_ADDON_SEQUENCE_H

#include <napi.h>

namespace rkaddon {

// forward(stack, { x, steps, batch, h0?, c0?, lengths?, training? }) → { y, hn, cn? }
Napi::Value Forward(const Napi::CallbackInfo& info);      // Promise
Napi::Value ForwardSync(const Napi::CallbackInfo& info);  // plain value
// backward(stack, { dy, dhn?, dcn? }) → { dx, dh0, dc0? }
Napi::Value Backward(const Napi::CallbackInfo& info);
Napi::Value BackwardSync(const Napi::CallbackInfo& info);

}  // namespace rkaddon

#endif
