// Stack exports: create from a packed rk_stack_spec, parameters, forward / backward.
// Array sizes come from rk_stack_shapes; the addon derives no dimension itself.
#include <cstring>

#include "call.h"
#include "exports.h"
#include "handle.h"
#include "values.h"

namespace rkaddon {

namespace {

rk_stack* StackOf(Handle* h) { return static_cast<rk_stack*>(h->ptr); }

// Elements of x, y, h, c for a call of T steps and batch B (refused by C beyond the limits).
struct Shapes {
  int64_t x, y, h, c;
};
Shapes StackShapes(Napi::Env env, rk_stack* s, int32_t T, int32_t B) {
  int64_t out[4];
  Check(env, "forward", rk_stack_shapes(s, T, B, out));
  return {out[0], out[1], out[2], out[3]};
}

Napi::Value Create(const Napi::CallbackInfo& info) {
  const rk_stack_spec spec = ReadStruct<rk_stack_spec>(info[0], "spec");
  rk_stack* s = nullptr;
  Check(info.Env(), "create", rk_stack_create(&spec, &s));
  return WrapHandle(info.Env(), Kind::Stack, s);
}

Napi::Value Layout(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), rk_stack_layout(StackOf(LiveHandle(info[0], Kind::Stack))));
}

size_t Count(Handle* h) { return static_cast<size_t>(rk_stack_param_count(StackOf(h))); }

Napi::Value SetParams(const Napi::CallbackInfo& info) {
  Handle* h = LiveHandle(info[0], Kind::Stack);
  Inputs in(false);
  const float* src = in.Get<float>(info[1], "params", static_cast<int64_t>(Count(h)));
  if (src == nullptr) throw Napi::TypeError::New(info.Env(), "params must be a Float32Array; got " + Describe(info[1]));
  std::memcpy(rk_stack_params(StackOf(h)), src, Count(h) * sizeof(float));
  return info.Env().Undefined();
}

Napi::Value CopyOut(const Napi::CallbackInfo& info, float* (*array)(rk_stack*)) {
  Handle* h = LiveHandle(info[0], Kind::Stack);
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), Count(h));
  if (Count(h)) std::memcpy(out.Data(), array(StackOf(h)), Count(h) * sizeof(float));
  return out;
}

Napi::Value ZeroGrads(const Napi::CallbackInfo& info) {
  rk_stack_zero_grads(StackOf(LiveHandle(info[0], Kind::Stack)));
  return info.Env().Undefined();
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  LiveHandle(info[0], Kind::Stack)->Destroy();
  return info.Env().Undefined();
}

// forward(stack, T, B, keep, x, h0?, c0?, lengths?) → { y, hn, cn? }
Call PrepareForward(const Napi::CallbackInfo& info, Handle* h, bool async) {
  Napi::Env env = info.Env();
  const int32_t T = RequireInt32(info[1], "steps", 1), B = RequireInt32(info[2], "batch", 1);
  const bool keep = info[3].ToBoolean().Value();
  const Shapes n = StackShapes(env, StackOf(h), T, B);
  Call c;
  c.op = "forward";
  c.inputs = std::make_unique<Inputs>(async);
  const float* x = c.inputs->Get<float>(info[4], "x", n.x);
  if (x == nullptr) throw Napi::TypeError::New(env, "x must be a Float32Array; got " + Describe(info[4]));
  const float* h0 = c.inputs->Get<float>(info[5], "h0", n.h);
  const float* c0 = c.inputs->Get<float>(info[6], "c0", n.c);
  const int32_t* lengths = c.inputs->Get<int32_t>(info[7], "lengths", B);
  Napi::Float32Array y = Output(env, n.y), hn = Output(env, n.h), cn = Output(env, n.c);
  c.result = Napi::Object::New(env);
  c.result.Set("y", y);
  c.result.Set("hn", hn);
  if (n.c > 0) c.result.Set("cn", cn);
  rk_stack* s = StackOf(h);
  float *py = y.Data(), *phn = hn.Data(), *pcn = n.c > 0 ? cn.Data() : nullptr;
  c.run = [=] { return rk_stack_forward(s, T, B, x, h0, c0, lengths, py, phn, pcn, keep ? 1 : 0); };
  // A training forward replaces the tape: until it succeeds there is none to go back through.
  if (keep) {
    h->kept_T = h->kept_B = 0;
    c.on_success = [T, B](Handle* done) { done->kept_T = T, done->kept_B = B; };
  }
  return c;
}

// backward(stack, dy, dhn?, dcn?) → { dx, dh0, dc0? }, shaped by the kept training forward.
Call PrepareBackward(const Napi::CallbackInfo& info, Handle* h, bool async) {
  Napi::Env env = info.Env();
  if (h->kept_T == 0) {
    throw StatusError(env, "backward", RK_ESTATE, "backward needs a preceding successful forward with training: true on this stack");
  }
  const Shapes n = StackShapes(env, StackOf(h), h->kept_T, h->kept_B);
  Call c;
  c.op = "backward";
  c.inputs = std::make_unique<Inputs>(async);
  const float* dy = c.inputs->Get<float>(info[1], "dy", n.y);
  if (dy == nullptr) throw Napi::TypeError::New(env, "dy must be a Float32Array; got " + Describe(info[1]));
  const float* dhn = c.inputs->Get<float>(info[2], "dhn", n.h);
  const float* dcn = c.inputs->Get<float>(info[3], "dcn", n.c);
  Napi::Float32Array dx = Output(env, n.x), dh0 = Output(env, n.h), dc0 = Output(env, n.c);
  c.result = Napi::Object::New(env);
  c.result.Set("dx", dx);
  c.result.Set("dh0", dh0);
  if (n.c > 0) c.result.Set("dc0", dc0);
  rk_stack* s = StackOf(h);
  float *pdx = dx.Data(), *pdh0 = dh0.Data(), *pdc0 = n.c > 0 ? dc0.Data() : nullptr;
  c.run = [=] { return rk_stack_backward(s, dy, dhn, dcn, pdx, pdh0, pdc0); };
  return c;
}

template <Call (*Prepare)(const Napi::CallbackInfo&, Handle*, bool)>
Napi::Value Sync(const Napi::CallbackInfo& info) {
  Handle* h = LiveHandle(info[0], Kind::Stack);
  return RunSync(info.Env(), h, Prepare(info, h, false));
}

template <Call (*Prepare)(const Napi::CallbackInfo&, Handle*, bool)>
Napi::Value Async(const Napi::CallbackInfo& info) {
  Handle* h = LiveHandle(info[0], Kind::Stack);
  return RunAsync(info.Env(), h, info[0], Prepare(info, h, true));
}

}  // namespace

void ExportStack(Napi::Env env, Napi::Object exports) {
  auto fn = [&](const char* name, Napi::Function::Callback cb) { exports.Set(name, Napi::Function::New(env, cb, name)); };
  fn("stackCreate", Create);
  fn("stackLayout", Layout);
  fn("stackParamCount", [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::Number::New(i.Env(), static_cast<double>(Count(LiveHandle(i[0], Kind::Stack))));
  });
  fn("stackSetParams", SetParams);
  fn("stackGetParams", [](const Napi::CallbackInfo& i) { return CopyOut(i, rk_stack_params); });
  fn("stackGetGrads", [](const Napi::CallbackInfo& i) { return CopyOut(i, rk_stack_grads); });
  fn("stackZeroGrads", ZeroGrads);
  fn("stackDispose", Dispose);
  fn("stackForward", Async<PrepareForward>);
  fn("stackForwardSync", Sync<PrepareForward>);
  fn("stackBackward", Async<PrepareBackward>);
  fn("stackBackwardSync", Sync<PrepareBackward>);
}

}  // namespace rkaddon
