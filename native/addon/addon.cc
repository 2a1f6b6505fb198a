// rnnkit's Node-API addon: unwrapping and async work over the C ABI of
// native/include/rnnkit.h — no math, no loops over data, no dimensions of its own (C
// reports them) and no policy (src/backend/ validates). src/backend/native/ is its caller.
//
// Context-aware: each environment that loads it (main thread, every worker_thread) gets
// its own exports; the C layer's process-wide settings (ISA, threads) are shared.
#include <napi.h>

#include "exports.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  rkaddon::ExportStack(env, exports);
  rkaddon::ExportModel(env, exports);
  rkaddon::ExportRuntime(env, exports);
  rkaddon::ExportSession(env, exports);
  return exports;
}

NODE_API_MODULE(rnnkit, Init)
