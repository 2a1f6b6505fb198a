// Model exports: create from a packed rk_model_spec, parameters, optimizer and its state, and one run
// call for train step / loss-and-grads / evaluate over a packed rk_batch. The batch's
// arrays come as a list indexed by rk_model_array; their sizes come from rk_model_shapes.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "call.h"
#include "exports.h"
#include "handle.h"
#include "values.h"

namespace rkaddon {

namespace {

rk_model* ModelOf(Handle* h) { return static_cast<rk_model*>(h->ptr); }
size_t Count(Handle* h) { return static_cast<size_t>(rk_model_param_count(ModelOf(h))); }

Napi::Value Create(const Napi::CallbackInfo& info) {
  const rk_model_spec spec = ReadStruct<rk_model_spec>(info[0], "spec");
  rk_model* m = nullptr;
  Check(info.Env(), "modelCreate", rk_model_create(&spec, &m));
  return WrapHandle(info.Env(), Kind::Model, m);
}

Napi::Value SetParams(const Napi::CallbackInfo& info) {
  Handle* h = LiveHandle(info[0], Kind::Model);
  Inputs in(false);
  const float* src = in.Get<float>(info[1], "params", static_cast<int64_t>(Count(h)));
  if (src == nullptr) throw Napi::TypeError::New(info.Env(), "params must be a Float32Array; got " + Describe(info[1]));
  Check(info.Env(), "modelSetParams", rk_model_set_params(ModelOf(h), src));
  return info.Env().Undefined();
}

Napi::Value CopyOut(const Napi::CallbackInfo& info, rk_status (*get)(const rk_model*, float*)) {
  Handle* h = LiveHandle(info[0], Kind::Model);
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), Count(h));
  Check(info.Env(), "copy", get(ModelOf(h), out.Data()));
  return out;
}

Napi::Value SetOptimizer(const Napi::CallbackInfo& info) {
  Handle* h = LiveHandle(info[0], Kind::Model);
  const rk_optimizer opt = ReadStruct<rk_optimizer>(info[1], "optimizer");
  Check(info.Env(), "modelSetOptimizer", rk_model_set_optimizer(ModelOf(h), &opt));
  return info.Env().Undefined();
}

Napi::Value SetLr(const Napi::CallbackInfo& info) {
  Handle* h = LiveHandle(info[0], Kind::Model);
  Check(info.Env(), "modelSetLr", rk_model_set_lr(ModelOf(h), RequireNumber(info[1], "lr")));
  return info.Env().Undefined();
}

// optimizerState(model) → { step, buffers }: the step count and how many buffers there are.
Napi::Value OptimizerState(const Napi::CallbackInfo& info) {
  Handle* h = LiveHandle(info[0], Kind::Model);
  int64_t step = 0;
  int32_t buffers = 0;
  Check(info.Env(), "modelOptimizerState", rk_model_optimizer_state(ModelOf(h), &step, &buffers));
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("step", Napi::Number::New(info.Env(), static_cast<double>(step)));
  out.Set("buffers", Napi::Number::New(info.Env(), buffers));
  return out;
}

// getOptimizerBuffer(model, k) → Float32Array of the parameter count (C checks k).
Napi::Value GetOptimizerBuffer(const Napi::CallbackInfo& info) {
  Handle* h = LiveHandle(info[0], Kind::Model);
  const int32_t k = RequireInt32(info[1], "k", 0);
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), Count(h));
  Check(info.Env(), "modelGetOptimizerBuffer", rk_model_get_optimizer_buffer(ModelOf(h), k, out.Data()));
  return out;
}

// setOptimizerState(model, step, buffers: Float32Array[]): each of the parameter count
// (C checks how many). The step must be exact as an int64: an integer in 0..2^53 - 1.
Napi::Value SetOptimizerState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Handle* h = LiveHandle(info[0], Kind::Model);
  const double step = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : NAN;
  if (!(step >= 0 && step <= 9007199254740991.0) || std::floor(step) != step) {
    throw Napi::RangeError::New(env, "step must be an integer in 0..2^53 - 1; got " + Describe(info[1]));
  }
  if (!info[2].IsArray()) throw Napi::TypeError::New(env, "buffers must be an Array; got " + Describe(info[2]));
  Napi::Array list = info[2].As<Napi::Array>();
  Inputs in(false);
  std::vector<const float*> ptrs;  // grown per valid array: a huge sparse Array fails at its first hole
  for (uint32_t k = 0; k < list.Length(); k++) {
    const std::string name = "buffers[" + std::to_string(k) + "]";
    const float* p = in.Get<float>(list.Get(k), name.c_str(), static_cast<int64_t>(Count(h)));
    if (p == nullptr) throw Napi::TypeError::New(env, name + " must be a Float32Array; got " + Describe(list.Get(k)));
    ptrs.push_back(p);
  }
  Check(env, "modelSetOptimizerState",
        rk_model_set_optimizer_state(ModelOf(h), static_cast<int64_t>(step), ptrs.data(), static_cast<int32_t>(ptrs.size())));
  return env.Undefined();
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  LiveHandle(info[0], Kind::Model)->Destroy();
  return info.Env().Undefined();
}

enum class Op { Train = 0, LossAndGrads = 1, Evaluate = 2 };

// run(model, op, batch bytes, arrays) → { step: ArrayBuffer (rk_step_result), hn, cn?, outputs?, y? }
Call Prepare(const Napi::CallbackInfo& info, Handle* h, bool async) {
  Napi::Env env = info.Env();
  const Op op = static_cast<Op>(RequireInt32(info[1], "op", 0));
  if (static_cast<int>(op) > 2) throw Napi::RangeError::New(env, "op must be 0 (train), 1 (loss and grads) or 2 (evaluate)");
  struct State {
    rk_batch batch;
    rk_step_result step{};
  };
  auto st = std::make_shared<State>();
  st->batch = ReadStruct<rk_batch>(info[2], "batch");
  if (!info[3].IsArray()) throw Napi::TypeError::New(env, "arrays must be an Array; got " + Describe(info[3]));
  int64_t n[RK_ARRAY_COUNT];
  Check(env, "modelShapes", rk_model_shapes(ModelOf(h), st->batch.T, st->batch.B, st->batch.source_T, n));
  Call c;
  c.op = op == Op::Train ? "trainStep" : op == Op::Evaluate ? "evaluate" : "lossAndGrads";
  c.inputs = std::make_unique<Inputs>(async);
  BindBatchArrays(st->batch, info[3].As<Napi::Array>(), n, *c.inputs);
  Napi::ArrayBuffer step = Napi::ArrayBuffer::New(env, sizeof(rk_step_result));
  Napi::Float32Array hn = Output(env, n[RK_ARRAY_H]), cn = Output(env, n[RK_ARRAY_C]);
  Napi::Float32Array outputs, y;
  if (op == Op::Evaluate) outputs = Output(env, n[RK_ARRAY_OUTPUTS]), y = Output(env, n[RK_ARRAY_Y]);
  c.result = Napi::Object::New(env);
  c.result.Set("step", step);
  c.result.Set("hn", hn);
  if (!cn.IsEmpty()) c.result.Set("cn", cn);
  if (!outputs.IsEmpty()) c.result.Set("outputs", outputs);
  if (!y.IsEmpty()) c.result.Set("y", y);
  rk_model* m = ModelOf(h);
  float* phn = hn.IsEmpty() ? nullptr : hn.Data();
  float* pcn = cn.IsEmpty() ? nullptr : cn.Data();
  float* pout = outputs.IsEmpty() ? nullptr : outputs.Data();
  float* py = y.IsEmpty() ? nullptr : y.Data();
  auto* out = static_cast<rk_step_result*>(step.Data());
  c.run = [=] {
    switch (op) {
      case Op::Train: return rk_model_train_step(m, &st->batch, phn, pcn, out);
      case Op::LossAndGrads: return rk_model_loss_and_grads(m, &st->batch, phn, pcn, out);
      case Op::Evaluate: return rk_model_evaluate(m, &st->batch, pout, py, phn, pcn, out);
    }
    return RK_EINTERNAL;
  };
  return c;
}

}  // namespace

void ExportModel(Napi::Env env, Napi::Object exports) {
  auto fn = [&](const char* name, Napi::Function::Callback cb) { exports.Set(name, Napi::Function::New(env, cb, name)); };
  fn("modelCreate", Create);
  fn("modelLayout", [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::String::New(i.Env(), rk_model_layout(ModelOf(LiveHandle(i[0], Kind::Model))));
  });
  fn("modelParamCount", [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::Number::New(i.Env(), static_cast<double>(Count(LiveHandle(i[0], Kind::Model))));
  });
  fn("modelSetParams", SetParams);
  fn("modelGetParams", [](const Napi::CallbackInfo& i) { return CopyOut(i, rk_model_get_params); });
  fn("modelGetGrads", [](const Napi::CallbackInfo& i) { return CopyOut(i, rk_model_get_grads); });
  fn("modelSetOptimizer", SetOptimizer);
  fn("modelSetLr", SetLr);
  fn("modelOptimizerState", OptimizerState);
  fn("modelGetOptimizerBuffer", GetOptimizerBuffer);
  fn("modelSetOptimizerState", SetOptimizerState);
  fn("modelDispose", Dispose);
  fn("modelRun", [](const Napi::CallbackInfo& i) {
    Handle* h = LiveHandle(i[0], Kind::Model);
    return RunAsync(i.Env(), h, i[0], Prepare(i, h, true));
  });
  fn("modelRunSync", [](const Napi::CallbackInfo& i) {
    Handle* h = LiveHandle(i[0], Kind::Model);
    return RunSync(i.Env(), h, Prepare(i, h, false));
  });
}

}  // namespace rkaddon
