#include "params.h"

#include <cstring>
#include <string>

#include "args.h"
#include "errors.h"
#include "rnnkit.h"
#include "stack_handle.h"

namespace rkaddon {

namespace {

size_t Count(Napi::Env env, StackHandle* h) {
  int64_t n = rk_stack_param_count(h->stack());
  if (n < 0) throw StatusError(env, "param count", RK_EINTERNAL, "negative parameter count");
  return static_cast<size_t>(n);
}

Napi::Float32Array CopyOut(Napi::Env env, const float* src, size_t n) {
  Napi::Float32Array out = Napi::Float32Array::New(env, n);
  if (n) std::memcpy(out.Data(), src, n * sizeof(float));
  return out;
}

}  // namespace

Napi::Value ParamCount(const Napi::CallbackInfo& info) {
  StackHandle* h = StackHandle::Live(info[0], "stack");
  return Napi::Number::New(info.Env(), static_cast<double>(Count(info.Env(), h)));
}

Napi::Value SetParams(const Napi::CallbackInfo& info) {
  StackHandle* h = StackHandle::Live(info[0], "stack");
  size_t n = Count(info.Env(), h);
  Napi::Float32Array src = RequireF32(info[1], "params", n, "[" + std::to_string(n) + "]");
  if (n) std::memmove(rk_stack_params(h->stack()), src.Data(), n * sizeof(float));
  return info.Env().Undefined();
}

Napi::Value GetParams(const Napi::CallbackInfo& info) {
  StackHandle* h = StackHandle::Live(info[0], "stack");
  return CopyOut(info.Env(), rk_stack_params(h->stack()), Count(info.Env(), h));
}

Napi::Value GetGrads(const Napi::CallbackInfo& info) {
  StackHandle* h = StackHandle::Live(info[0], "stack");
  return CopyOut(info.Env(), rk_stack_grads(h->stack()), Count(info.Env(), h));
}

Napi::Value ZeroGrads(const Napi::CallbackInfo& info) {
  StackHandle* h = StackHandle::Live(info[0], "stack");
  rk_stack_zero_grads(h->stack());
  return info.Env().Undefined();
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  // Like every other call, dispose refuses a handle that is already disposed: a second
  // dispose is a bug in the caller's ownership, better reported than ignored.
  StackHandle::Live(info[0], "stack")->Destroy();
  return info.Env().Undefined();
}

}  // namespace rkaddon
