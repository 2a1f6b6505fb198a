// Process-wide settings of the C layer: the ISA path and the thread count.
#ifndef RNNKIT_ADDON_RUNTIME_H
#define RNNKIT_ADDON_RUNTIME_H

#include <napi.h>

namespace rkaddon {

Napi::Value Isa(const Napi::CallbackInfo& info);         // () → "avx2" | ...
Napi::Value ForceIsa(const Napi::CallbackInfo& info);    // (name)
Napi::Value SetThreads(const Napi::CallbackInfo& info);  // (n ≥ 0; 0 = every core)
Napi::Value GetThreads(const Napi::CallbackInfo& info);  // () → n

}  // namespace rkaddon

#endif
