#include "stack_handle.h"

#include <string>

#include "args.h"
#include "errors.h"
#include "instance_data.h"

namespace rkaddon {

namespace {

// Marks objects made by create(); checked before every unwrap so that an object wrapped by
// another addon (or by node itself) is refused instead of being cast to a StackHandle.
constexpr napi_type_tag kStackTag = {0x8f3c2a6d51e04b7bULL, 0xa2d94c1e7f60b835ULL};

// Same order as rk_cell in rnnkit.h and CELL_TYPES in src/backend/backend.ts.
const char* const kCellNames[] = {"rnn_tanh", "rnn_relu", "lstm", "lstm_peephole", "gru", "gru_cho", "jordan"};
constexpr int kCellCount = sizeof(kCellNames) / sizeof(kCellNames[0]);

int32_t CellFromName(Napi::Value v) {
  std::string all;
  for (int i = 0; i < kCellCount; i++) all += (i ? ", \"" : "\"") + std::string(kCellNames[i]) + "\"";
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), "spec.cell must be one of " + all + "; got " + Describe(v));
  std::string name = v.As<Napi::String>().Utf8Value();
  for (int i = 0; i < kCellCount; i++) {
    if (name == kCellNames[i]) return i;
  }
  throw Napi::RangeError::New(v.Env(), "spec.cell must be one of " + all + "; got " + Describe(v));
}

}  // namespace

Napi::Function StackHandle::Define(Napi::Env env) {
  return DefineClass(env, "NativeStack", {});
}

StackHandle::StackHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<StackHandle>(info) {
  // Constructed only by Create(), which then attaches the stack. An object made from JS via
  // handle.constructor stays untagged and without a stack, so every call refuses it.
}

StackHandle::~StackHandle() { Destroy(); }

void StackHandle::Destroy() {
  rk_stack_destroy(stack_);
  stack_ = nullptr;
}

Napi::Value StackHandle::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject() || info[0].IsArray()) {
    throw Napi::TypeError::New(env, "spec must be an object { cell, inputSize, hiddenSize, outputSize?, layers, bidirectional }; got " +
                                        Describe(info[0]));
  }
  Napi::Object o = info[0].As<Napi::Object>();
  rk_stack_spec spec{};
  spec.cell = CellFromName(o.Get("cell"));
  spec.input_size = RequireInt32(o.Get("inputSize"), "spec.inputSize", 1);
  spec.hidden_size = RequireInt32(o.Get("hiddenSize"), "spec.hiddenSize", 1);
  Napi::Value out = o.Get("outputSize");
  spec.output_size = out.IsUndefined() ? spec.hidden_size : RequireInt32(out, "spec.outputSize", 1);
  spec.layers = RequireInt32(o.Get("layers"), "spec.layers", 1);
  spec.bidirectional = RequireBool(o.Get("bidirectional"), "spec.bidirectional") ? 1 : 0;

  rk_stack* s = nullptr;
  rk_status st = rk_stack_create(&spec, &s);
  if (st != RK_OK) throw StatusError(env, "create", st, rk_last_error());

  Napi::Object obj = Instance(env).stack_constructor.New({});
  obj.TypeTag(&kStackTag);
  StackHandle* h = Napi::ObjectWrap<StackHandle>::Unwrap(obj);  // obj was made just above
  h->stack_ = s;
  h->dims_.I = spec.input_size;
  h->dims_.H = spec.hidden_size;
  h->dims_.S = spec.cell == RK_CELL_JORDAN ? spec.output_size : spec.hidden_size;
  h->dims_.D = spec.bidirectional ? 2 : 1;
  h->dims_.LD = static_cast<int64_t>(spec.layers) * h->dims_.D;
  h->dims_.has_c = spec.cell == RK_CELL_LSTM || spec.cell == RK_CELL_LSTM_PEEPHOLE;
  return obj;
}

StackHandle* StackHandle::Live(Napi::Value v, const char* what) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kStackTag)) {
    throw Napi::TypeError::New(env, std::string(what) + " must be a stack handle made by this addon's create(); got " + Describe(v));
  }
  StackHandle* h = Napi::ObjectWrap<StackHandle>::Unwrap(v.As<Napi::Object>());
  if (h == nullptr || h->stack_ == nullptr) {
    throw Napi::TypeError::New(env, std::string(what) + " is a disposed stack handle; it cannot be used any more");
  }
  if (h->busy) throw BusyError(env);
  return h;
}

}  // namespace rkaddon
