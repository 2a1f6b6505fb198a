// rnnkit's Node-API addon: argument unpacking and AsyncWorkers over the C ABI in
// native/include/rnnkit.h — no math and no loops over data live here.
//
// Context-aware: each environment that loads it (main thread, every worker_thread) gets
// its own instance data; the C layer's process-wide settings (ISA, threads) are shared.
//
// Exports (all sizes in floats; see sequence.h and params.h for the shapes):
//   create(spec) → handle           paramCount(handle) → number
//   setParams(handle, f32)          getParams(handle) / getGrads(handle) → f32 copy
//   zeroGrads(handle)               dispose(handle)
//   forward(handle, req) → Promise  forwardSync(handle, req) → { y, hn, cn? }
//   backward(handle, req) → Promise backwardSync(handle, req) → { dx, dh0, dc0? }
//   isa() / forceIsa(name)          setThreads(n) / getThreads()
//   model* (whole-window training models): see model.h
#include <napi.h>

#include "instance_data.h"
#include "model.h"
#include "params.h"
#include "runtime.h"
#include "sequence.h"
#include "stack_handle.h"

namespace rkaddon {

namespace {

Napi::Object InitInstance(Napi::Env env, Napi::Object exports) {
  auto* data = new InstanceData();
  data->stack_constructor = Napi::Persistent(StackHandle::Define(env));
  env.SetInstanceData(data);  // deleted by node-addon-api when this environment exits

  auto fn = [&](const char* name, Napi::Function::Callback cb) { exports.Set(name, Napi::Function::New(env, cb, name)); };
  fn("create", StackHandle::Create);
  fn("paramCount", ParamCount);
  fn("setParams", SetParams);
  fn("getParams", GetParams);
  fn("getGrads", GetGrads);
  fn("zeroGrads", ZeroGrads);
  fn("dispose", Dispose);
  fn("forward", Forward);
  fn("forwardSync", ForwardSync);
  fn("backward", Backward);
  fn("backwardSync", BackwardSync);
  fn("isa", Isa);
  fn("forceIsa", ForceIsa);
  fn("setThreads", SetThreads);
  fn("getThreads", GetThreads);
  RegisterModel(env, exports);  // modelCreate, modelTrainStep, … (model.h)
  return exports;
}

}  // namespace

}  // namespace rkaddon

// NODE_API_MODULE wants a plain identifier at global scope.
static Napi::Object Init(Napi::Env env, Napi::Object exports) { return rkaddon::InitInstance(env, exports); }

NODE_API_MODULE(rnnkit, Init)
