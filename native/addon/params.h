// A stack's flat parameter and gradient arrays, copied in and out; and dispose.
#ifndef RNNKIT_ADDON_PARAMS_H
#define RNNKIT_ADDON_PARAMS_H

#include <napi.h>

namespace rkaddon {

Napi::Value ParamCount(const Napi::CallbackInfo& info);  // (stack) → number
Napi::Value SetParams(const Napi::CallbackInfo& info);   // (stack, Float32Array[paramCount])
Napi::Value GetParams(const Napi::CallbackInfo& info);   // (stack) → new Float32Array copy
Napi::Value GetGrads(const Napi::CallbackInfo& info);    // (stack) → new Float32Array copy
Napi::Value ZeroGrads(const Napi::CallbackInfo& info);   // (stack)
Napi::Value Dispose(const Napi::CallbackInfo& info);     // (stack); a second dispose is a TypeError

}  // namespace rkaddon

#endif
