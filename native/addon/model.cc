// See model.h. Argument checks and array plumbing only; one C ABI call per compute call.
//
// The handle is an External (type-tagged, so foreign objects are refused) over a ModelBox;
// dispose() frees the model and leaves the box marked disposed, and the box itself goes
// with the External's finalizer. Like stacks, a model that an asynchronous call owns is
// busy: every other call on it is refused with ERR_RNNKIT_BUSY until the promise settles.
// Integer inputs (tokens, targets, lengths, mask) are copied on the JS thread, since the C
// layer indexes with them and JS could rewrite them while an asynchronous call runs.
#include "model.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "compute_gate.h"
#include "errors.h"
#include "rnnkit.h"

namespace rkaddon {

namespace {

constexpr napi_type_tag kModelTag = {0x4d1b7e90c2a35f18ULL, 0x9e63d0a4b8f2c571ULL};

struct ModelBox {
  rk_model* model = nullptr;
  bool busy = false;
  int32_t input_kind = 0, vocab = 0, width = 0, outputs = 0, loss = 0, K = 0;
  bool final_state = false;  // readout of the final states: B head rows instead of T·B
  bool encoder = false;      // seq2seq
  int32_t enc_kind = 0, enc_width = 0;
  int64_t S = 0, H = 0, LD = 0, F = 0;
  bool has_c = false;
  size_t params = 0;
  ~ModelBox() { rk_model_destroy(model); }
};

const char* const kCellNames[] = {"rnn_tanh", "rnn_relu", "lstm", "lstm_peephole", "gru", "gru_cho", "jordan"};

Napi::Object RequireObject(Napi::Value v, const std::string& name) {
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray()) {
    throw Napi::TypeError::New(v.Env(), name + " must be an object; got " + Describe(v));
  }
  return v.As<Napi::Object>();
}

double RequireNumber(Napi::Value v, const char* name) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(name) + " must be a number; got " + Describe(v));
  return v.As<Napi::Number>().DoubleValue();
}

ModelBox* Live(Napi::Value v) {
  Napi::Env env = v.Env();
  if (!v.IsExternal() || !v.As<Napi::External<ModelBox>>().CheckTypeTag(&kModelTag)) {
    throw Napi::TypeError::New(env, "model must be a handle made by this addon's modelCreate(); got " + Describe(v));
  }
  ModelBox* box = v.As<Napi::External<ModelBox>>().Data();
  if (box == nullptr || box->model == nullptr) {
    throw Napi::TypeError::New(env, "model is a disposed model handle; it cannot be used any more");
  }
  if (box->busy) {
    Napi::Error e = Napi::Error::New(env, "model is busy: an asynchronous train step or evaluate is still running on it; await it first");
    e.Set("code", Napi::String::New(env, "ERR_RNNKIT_BUSY"));
    throw e;
  }
  return box;
}

std::string Shape(std::initializer_list<std::pair<const char*, int64_t>> dims) {
  std::string s;
  for (auto& d : dims) s += std::string("[") + d.first + "=" + std::to_string(d.second) + "]";
  return s;
}

// An InputSpec { kind, vocab?, dim?, size? } into (kind, vocab, dim, size).
void ParseInput(Napi::Value v, const std::string& name, int32_t* kind, int32_t* vocab, int32_t* dim, int32_t* size) {
  Napi::Object input = RequireObject(v, name);
  const std::string k = RequireString(input.Get("kind"), (name + ".kind").c_str());
  if (k == "embedding") {
    *kind = RK_INPUT_EMBEDDING;
    *vocab = RequireInt32(input.Get("vocab"), (name + ".vocab").c_str(), 1);
    *dim = RequireInt32(input.Get("dim"), (name + ".dim").c_str(), 1);
  } else if (k == "onehot") {
    *kind = RK_INPUT_ONEHOT;
    *vocab = RequireInt32(input.Get("vocab"), (name + ".vocab").c_str(), 1);
  } else if (k == "dense") {
    *kind = RK_INPUT_DENSE;
    *size = RequireInt32(input.Get("size"), (name + ".size").c_str(), 1);
  } else {
    throw Napi::RangeError::New(v.Env(), name + ".kind must be \"embedding\", \"onehot\" or \"dense\"; got \"" + k + "\"");
  }
}

rk_stack_spec ParseStack(Napi::Value v, const std::string& name) {
  Napi::Object st = RequireObject(v, name);
  rk_stack_spec spec{};
  const std::string cell = RequireString(st.Get("cell"), (name + ".cell").c_str());
  spec.cell = -1;
  for (int i = 0; i < 7; i++) {
    if (cell == kCellNames[i]) spec.cell = i;
  }
  if (spec.cell < 0) throw Napi::RangeError::New(v.Env(), name + ".cell is not a known cell; got \"" + cell + "\"");
  spec.input_size = RequireInt32(st.Get("inputSize"), (name + ".inputSize").c_str(), 1);
  spec.hidden_size = RequireInt32(st.Get("hiddenSize"), (name + ".hiddenSize").c_str(), 1);
  Napi::Value out = st.Get("outputSize");
  spec.output_size = out.IsUndefined() ? spec.hidden_size : RequireInt32(out, (name + ".outputSize").c_str(), 1);
  spec.layers = RequireInt32(st.Get("layers"), (name + ".layers").c_str(), 1);
  spec.bidirectional = RequireBool(st.Get("bidirectional"), (name + ".bidirectional").c_str()) ? 1 : 0;
  return spec;
}

Napi::Value ModelCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = RequireObject(info[0], "spec");
  rk_model_spec spec{};
  ParseInput(o.Get("input"), "spec.input", &spec.input_kind, &spec.vocab, &spec.dim, &spec.size);
  spec.stack = ParseStack(o.Get("stack"), "spec.stack");
  Napi::Value enc = o.Get("encoder");
  if (!enc.IsUndefined()) {
    Napi::Object e = RequireObject(enc, "spec.encoder");
    spec.encoder = 1;
    ParseInput(e.Get("input"), "spec.encoder.input", &spec.encoder_input_kind, &spec.encoder_vocab, &spec.encoder_dim,
               &spec.encoder_size);
    spec.encoder_stack = ParseStack(e.Get("stack"), "spec.encoder.stack");
  }
  spec.outputs = RequireInt32(o.Get("outputs"), "spec.outputs", 1);
  Napi::Object loss = RequireObject(o.Get("loss"), "spec.loss");
  const std::string lk = RequireString(loss.Get("kind"), "spec.loss.kind");
  if (lk == "cross_entropy") {
    spec.loss = RK_LOSS_CROSS_ENTROPY;
    const double ig = RequireNumber(loss.Get("ignoreIndex"), "spec.loss.ignoreIndex");
    if (!(ig >= INT32_MIN && ig <= INT32_MAX) || static_cast<int32_t>(ig) != ig) {
      throw Napi::RangeError::New(env, "spec.loss.ignoreIndex must be an int32; got " + Describe(loss.Get("ignoreIndex")));
    }
    spec.ignore_index = static_cast<int32_t>(ig);
  } else if (lk == "mse") {
    spec.loss = RK_LOSS_MSE;
  } else {
    throw Napi::RangeError::New(env, "spec.loss.kind must be \"cross_entropy\" or \"mse\"; got \"" + lk + "\"");
  }

  Napi::Value cond = o.Get("conditionSize");
  spec.condition_size = cond.IsUndefined() ? 0 : RequireInt32(cond, "spec.conditionSize", 0);
  Napi::Value readout = o.Get("readout");
  const std::string ro = readout.IsUndefined() ? "steps" : RequireString(readout, "spec.readout");
  if (ro == "steps") spec.readout = RK_READOUT_STEPS;
  else if (ro == "final_state") spec.readout = RK_READOUT_FINAL_STATE;
  else throw Napi::RangeError::New(env, "spec.readout must be \"steps\" or \"final_state\"; got \"" + ro + "\"");

  Napi::Value dropout = o.Get("dropout");
  if (!dropout.IsUndefined()) {
    Napi::Object dr = RequireObject(dropout, "spec.dropout");
    spec.dropout_input = RequireNumber(dr.Get("input"), "spec.dropout.input");
    spec.dropout_between = RequireNumber(dr.Get("between"), "spec.dropout.between");
  }

  rk_model* m = nullptr;
  rk_status s = rk_model_create(&spec, &m);
  if (s != RK_OK) throw StatusError(env, "modelCreate", s, rk_last_error());
  auto* box = new ModelBox();
  box->model = m;
  box->input_kind = spec.input_kind;
  box->vocab = spec.vocab;
  box->width = spec.stack.input_size - spec.condition_size;
  box->K = spec.condition_size;
  box->final_state = spec.readout == RK_READOUT_FINAL_STATE;
  box->encoder = spec.encoder != 0;
  box->enc_kind = spec.encoder_input_kind;
  box->enc_width = spec.encoder_stack.input_size;
  box->outputs = spec.outputs;
  box->loss = spec.loss;
  box->H = spec.stack.hidden_size;
  box->S = spec.stack.cell == RK_CELL_JORDAN ? spec.stack.output_size : spec.stack.hidden_size;
  const int64_t D = spec.stack.bidirectional ? 2 : 1;
  box->LD = static_cast<int64_t>(spec.stack.layers) * D;
  box->F = D * box->S;
  box->has_c = spec.stack.cell == RK_CELL_LSTM || spec.stack.cell == RK_CELL_LSTM_PEEPHOLE;
  box->params = static_cast<size_t>(rk_model_param_count(m));
  auto ext = Napi::External<ModelBox>::New(env, box, [](Napi::Env, ModelBox* b) { delete b; });
  ext.TypeTag(&kModelTag);
  return ext;
}

Napi::Value ParamCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Live(info[0])->params));
}

Napi::Value SetParams(const Napi::CallbackInfo& info) {
  ModelBox* b = Live(info[0]);
  Napi::Float32Array a = RequireF32(info[1], "params", b->params, "[" + std::to_string(b->params) + "]");
  rk_model_set_params(b->model, a.Data());
  return info.Env().Undefined();
}

Napi::Value CopyOut(const Napi::CallbackInfo& info, rk_status (*get)(const rk_model*, float*)) {
  ModelBox* b = Live(info[0]);
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), b->params);
  rk_status s = get(b->model, out.Data());
  if (s != RK_OK) throw StatusError(info.Env(), "copy", s, rk_last_error());
  return out;
}

Napi::Value GetParams(const Napi::CallbackInfo& info) { return CopyOut(info, rk_model_get_params); }
Napi::Value GetGrads(const Napi::CallbackInfo& info) { return CopyOut(info, rk_model_get_grads); }

Napi::Value SetOptimizer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModelBox* b = Live(info[0]);
  Napi::Object o = RequireObject(info[1], "optimizer");
  rk_optimizer opt{};
  const std::string name = RequireString(o.Get("name"), "optimizer.name");
  if (name == "sgd") opt.kind = RK_OPT_SGD;
  else if (name == "rmsprop") opt.kind = RK_OPT_RMSPROP;
  else if (name == "adam") opt.kind = RK_OPT_ADAM;
  else if (name == "adamw") opt.kind = RK_OPT_ADAMW;
  else throw Napi::RangeError::New(env, "optimizer.name must be sgd, rmsprop, adam or adamw; got \"" + name + "\"");
  opt.lr = RequireNumber(o.Get("lr"), "optimizer.lr");
  opt.momentum = RequireNumber(o.Get("momentum"), "optimizer.momentum");
  opt.dampening = RequireNumber(o.Get("dampening"), "optimizer.dampening");
  opt.nesterov = RequireBool(o.Get("nesterov"), "optimizer.nesterov") ? 1 : 0;
  opt.weight_decay = RequireNumber(o.Get("weightDecay"), "optimizer.weightDecay");
  opt.alpha = RequireNumber(o.Get("alpha"), "optimizer.alpha");
  opt.eps = RequireNumber(o.Get("eps"), "optimizer.eps");
  opt.beta1 = RequireNumber(o.Get("beta1"), "optimizer.beta1");
  opt.beta2 = RequireNumber(o.Get("beta2"), "optimizer.beta2");
  Napi::Value cv = o.Get("clipValue"), mn = o.Get("maxNorm");
  if (!cv.IsUndefined()) {
    opt.has_clip_value = 1;
    opt.clip_value = RequireNumber(cv, "optimizer.clipValue");
  }
  if (!mn.IsUndefined()) {
    opt.has_max_norm = 1;
    opt.max_norm = RequireNumber(mn, "optimizer.maxNorm");
  }
  rk_status s = rk_model_set_optimizer(b->model, &opt);
  if (s != RK_OK) throw Napi::RangeError::New(env, rk_last_error());
  return env.Undefined();
}

Napi::Value SetLr(const Napi::CallbackInfo& info) {
  ModelBox* b = Live(info[0]);
  rk_status s = rk_model_set_lr(b->model, RequireNumber(info[1], "lr"));
  if (s != RK_OK) throw StatusError(info.Env(), "modelSetLr", s, rk_last_error());
  return info.Env().Undefined();
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  ModelBox* b = Live(info[0]);
  rk_model_destroy(b->model);
  b->model = nullptr;
  return info.Env().Undefined();
}

// ---- compute calls -------------------------------------------------------------------

enum class Op { Train, LossAndGrads, Evaluate };

// One prepared call: the batch (integer arrays copied), the outputs, what JS must keep alive.
struct Call {
  Op op = Op::Train;
  rk_batch batch{};
  std::vector<int32_t> tokens, targets, lengths, source_tokens, source_lengths;
  std::vector<uint8_t> mask;
  std::vector<Napi::Value> keep;
  Napi::Object result;
  float *outputs = nullptr, *y = nullptr, *hn = nullptr, *cn = nullptr;
  rk_step_result out{};
  rk_model* model = nullptr;

  rk_status Run() {
    switch (op) {
      case Op::Train: return rk_model_train_step(model, &batch, hn, cn, &out);
      case Op::LossAndGrads: return rk_model_loss_and_grads(model, &batch, hn, cn, &out);
      case Op::Evaluate: return rk_model_evaluate(model, &batch, outputs, y, hn, cn, &out);
    }
    return RK_EINTERNAL;
  }
  const char* Name() const {
    return op == Op::Train ? "trainStep" : op == Op::Evaluate ? "evaluate" : "lossAndGrads";
  }
  void Fill(Napi::Env env) {
    result.Set("loss", Napi::Number::New(env, out.loss));
    result.Set("count", Napi::Number::New(env, out.count));
    result.Set("correct", Napi::Number::New(env, out.correct));
    if (op != Op::Evaluate) result.Set("totalNorm", Napi::Number::New(env, out.total_norm));
  }
};

std::unique_ptr<Call> Prepare(const Napi::CallbackInfo& info, ModelBox* box, Op op) {
  Napi::Env env = info.Env();
  Napi::Object req = RequireObject(info[1], "batch");
  auto c = std::make_unique<Call>();
  c->op = op;
  c->model = box->model;
  const int32_t T = RequireInt32(req.Get("steps"), "batch.steps", 1);
  const int32_t B = RequireInt32(req.Get("batch"), "batch.batch", 1);
  c->batch.T = T;
  c->batch.B = B;
  const size_t N = CheckedProduct(env, "tokens", {T, B});
  const std::string tb = Shape({{"T", T}, {"B", B}});
  // Head rows: one per position, or one per sequence for the final-state readout.
  const size_t R = box->final_state ? static_cast<size_t>(B) : N;
  const std::string rows = box->final_state ? Shape({{"B", B}}) : tb;
  auto ints = [&](const char* key, std::vector<int32_t>& into, size_t n, const std::string& shape) -> const int32_t* {
    Napi::Int32Array a = OptionalI32(req.Get(key), key, n, shape);
    if (a.IsEmpty()) return nullptr;
    into.assign(a.Data(), a.Data() + n);
    return into.data();
  };
  auto floats = [&](const char* key, size_t n, const std::string& shape) -> const float* {
    Napi::Float32Array a = OptionalF32(req.Get(key), key, n, shape);
    if (a.IsEmpty()) return nullptr;
    c->keep.push_back(a);
    return a.Data();
  };
  if (box->input_kind == RK_INPUT_DENSE) {
    c->batch.x = floats("x", CheckedProduct(env, "x", {T, B, box->width}), Shape({{"T", T}, {"B", B}, {"size", box->width}}));
    if (c->batch.x == nullptr) throw Napi::TypeError::New(env, "batch.x is required by this model (dense input); got undefined");
  } else {
    c->batch.tokens = ints("tokens", c->tokens, N, tb);
    if (c->batch.tokens == nullptr) throw Napi::TypeError::New(env, "batch.tokens is required by this model (token input); got undefined");
  }
  const bool need_targets = op != Op::Evaluate;
  if (box->loss == RK_LOSS_CROSS_ENTROPY) {
    c->batch.targets = ints("targets", c->targets, R, rows);
    if (need_targets && c->batch.targets == nullptr) throw Napi::TypeError::New(env, "batch.targets is required by this model (cross-entropy); got undefined");
  } else {
    c->batch.target_values = floats("targetValues", CheckedProduct(env, "targetValues", {static_cast<int64_t>(R), box->outputs}),
                                    rows + Shape({{"outputs", box->outputs}}));
    if (need_targets && c->batch.target_values == nullptr) throw Napi::TypeError::New(env, "batch.targetValues is required by this model (mse); got undefined");
    Napi::Value mv = req.Get("targetMask");
    if (!mv.IsUndefined() && !mv.IsNull()) {
      if (!mv.IsTypedArray() || mv.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        throw Napi::TypeError::New(env, "targetMask must be a Uint8Array of shape " + rows + "; got " + Describe(mv));
      }
      Napi::Uint8Array m = mv.As<Napi::Uint8Array>();
      if (m.ElementLength() != R) throw Napi::RangeError::New(env, "targetMask must have shape " + rows + " = " + std::to_string(R) + " values; got " + std::to_string(m.ElementLength()));
      c->mask.assign(m.Data(), m.Data() + R);
      c->batch.target_mask = c->mask.data();
    }
  }
  c->batch.lengths = ints("lengths", c->lengths, static_cast<size_t>(B), Shape({{"B", B}}));
  Napi::Value source = req.Get("source");
  if (box->encoder && !source.IsUndefined() && !source.IsNull()) {
    Napi::Object src = RequireObject(source, "batch.source");
    const int32_t Ts = RequireInt32(src.Get("steps"), "batch.source.steps", 1);
    c->batch.source_T = Ts;
    const size_t Ns = CheckedProduct(env, "source.tokens", {Ts, B});
    const std::string sb = Shape({{"steps", Ts}, {"B", B}});
    Napi::Int32Array lv = OptionalI32(src.Get("lengths"), "source.lengths", static_cast<size_t>(B), Shape({{"B", B}}));
    if (!lv.IsEmpty()) {
      c->source_lengths.assign(lv.Data(), lv.Data() + B);
      c->batch.source_lengths = c->source_lengths.data();
    }
    if (box->enc_kind == RK_INPUT_DENSE) {
      Napi::Float32Array xs = RequireF32(src.Get("x"), "source.x", CheckedProduct(env, "source.x", {Ts, B, box->enc_width}),
                                         sb + Shape({{"size", box->enc_width}}));
      c->keep.push_back(xs);
      c->batch.source_x = xs.Data();
    } else {
      Napi::Int32Array ts = OptionalI32(src.Get("tokens"), "source.tokens", Ns, sb);
      if (ts.IsEmpty()) throw Napi::TypeError::New(env, "batch.source.tokens is required by this model's encoder; got undefined");
      c->source_tokens.assign(ts.Data(), ts.Data() + Ns);
      c->batch.source_tokens = c->source_tokens.data();
    }
  }
  Napi::Value seed = req.Get("dropoutSeed");
  if (!seed.IsUndefined()) {
    // Any integer, taken modulo 2^32 as Random(seed) does.
    const double v = RequireNumber(seed, "batch.dropoutSeed");
    if (!(std::fabs(v) < 9007199254740992.0) || std::floor(v) != v) {
      throw Napi::RangeError::New(env, "batch.dropoutSeed must be a safe integer; got " + Describe(seed));
    }
    c->batch.dropout_seed = static_cast<uint32_t>(static_cast<uint64_t>(static_cast<int64_t>(v)));
  }
  if (box->K > 0) {
    c->batch.condition = floats("condition", CheckedProduct(env, "condition", {B, box->K}), Shape({{"B", B}, {"K", box->K}}));
    if (c->batch.condition == nullptr) throw Napi::TypeError::New(env, "batch.condition is required by this model (conditionSize " + std::to_string(box->K) + "); got undefined");
  }
  const size_t nh = CheckedProduct(env, "h0", {box->LD, B, box->S});
  const size_t nc = CheckedProduct(env, "c0", {box->LD, B, box->H});
  c->batch.h0 = floats("h0", nh, Shape({{"L·D", box->LD}, {"B", B}, {"S", box->S}}));
  Napi::Value c0v = req.Get("c0");
  if (box->has_c) {
    c->batch.c0 = floats("c0", nc, Shape({{"L·D", box->LD}, {"B", B}, {"H", box->H}}));
  } else if (!c0v.IsUndefined() && !c0v.IsNull()) {
    throw Napi::TypeError::New(env, "c0 applies only to LSTM cells; this model has no cell state; got " + Describe(c0v));
  }

  c->result = Napi::Object::New(env);
  auto output = [&](const char* key, size_t n) {
    Napi::Float32Array a = Napi::Float32Array::New(env, n);
    c->result.Set(key, a);
    return a.Data();
  };
  if (op == Op::Evaluate) {
    c->outputs = output("outputs", CheckedProduct(env, "outputs", {static_cast<int64_t>(R), box->outputs}));
    c->y = output("y", CheckedProduct(env, "y", {T, B, box->F}));
  }
  c->hn = output("hn", nh);
  if (box->has_c) c->cn = output("cn", nc);
  return c;
}

Napi::Value RunSync(const Napi::CallbackInfo& info, Op op) {
  ModelBox* box = Live(info[0]);
  std::unique_ptr<Call> c = Prepare(info, box, op);
  rk_status st;
  std::string message;
  {
    GateScope gate;
    st = c->Run();
    if (st != RK_OK) message = rk_last_error();
  }
  if (st != RK_OK) throw StatusError(info.Env(), c->Name(), st, message);
  c->Fill(info.Env());
  return c->result;
}

class ModelWorker : public Napi::AsyncWorker {
 public:
  ModelWorker(Napi::Env env, ModelBox* box, Napi::Value handle, std::unique_ptr<Call> call)
      : Napi::AsyncWorker(env, "rnnkit:model"),
        deferred_(Napi::Promise::Deferred::New(env)),
        box_(box),
        handle_(Napi::Persistent(handle)),
        result_(Napi::Persistent(call->result)),
        call_(std::move(call)) {
    for (Napi::Value v : call_->keep) keep_.push_back(Napi::Persistent(v));
    call_->keep.clear();
  }
  ~ModelWorker() override {
    if (entered_ && !left_) GateLeave();
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Start() {
    box_->busy = true;
    GateEnter();
    entered_ = true;
    try {
      Queue();
    } catch (...) {
      box_->busy = false;
      throw;
    }
  }

 protected:
  void Execute() override {
    status_ = call_->Run();
    if (status_ != RK_OK) {
      message_ = rk_last_error();
      SetError(message_.empty() ? std::string("(no message)") : message_);
    }
    GateLeave();
    left_ = true;
  }
  void OnOK() override {
    box_->busy = false;
    Settle([&] {
      Napi::Object r = result_.Value();
      call_->result = r;
      call_->Fill(Env());
      deferred_.Resolve(r);
    });
  }
  void OnError(const Napi::Error&) override {
    box_->busy = false;
    Settle([&] { deferred_.Reject(StatusError(Env(), call_->Name(), status_, message_).Value()); });
  }

 private:
  // A terminated worker_thread cannot run JS any more: drop the settle error (see sequence.cc).
  template <class F>
  void Settle(F&& f) {
    try {
      f();
    } catch (const Napi::Error&) {
    }
  }
  Napi::Promise::Deferred deferred_;
  ModelBox* box_;
  Napi::Reference<Napi::Value> handle_;
  Napi::ObjectReference result_;
  std::vector<Napi::Reference<Napi::Value>> keep_;
  std::unique_ptr<Call> call_;
  rk_status status_ = RK_OK;
  std::string message_;
  bool entered_ = false, left_ = false;
};

Napi::Value RunAsync(const Napi::CallbackInfo& info, Op op) {
  ModelBox* box = Live(info[0]);
  std::unique_ptr<Call> c = Prepare(info, box, op);
  auto* w = new ModelWorker(info.Env(), box, info[0], std::move(c));
  Napi::Promise p = w->Promise();
  try {
    w->Start();
  } catch (...) {
    delete w;
    throw;
  }
  return p;
}

}  // namespace

void RegisterModel(Napi::Env env, Napi::Object exports) {
  auto fn = [&](const char* name, Napi::Function::Callback cb) { exports.Set(name, Napi::Function::New(env, cb, name)); };
  fn("modelCreate", ModelCreate);
  fn("modelParamCount", ParamCount);
  fn("modelSetParams", SetParams);
  fn("modelGetParams", GetParams);
  fn("modelGetGrads", GetGrads);
  fn("modelSetOptimizer", SetOptimizer);
  fn("modelSetLr", SetLr);
  fn("modelDispose", Dispose);
  fn("modelTrainStepSync", [](const Napi::CallbackInfo& i) { return RunSync(i, Op::Train); });
  fn("modelTrainStep", [](const Napi::CallbackInfo& i) { return RunAsync(i, Op::Train); });
  fn("modelLossAndGradsSync", [](const Napi::CallbackInfo& i) { return RunSync(i, Op::LossAndGrads); });
  fn("modelEvaluateSync", [](const Napi::CallbackInfo& i) { return RunSync(i, Op::Evaluate); });
  fn("modelEvaluate", [](const Napi::CallbackInfo& i) { return RunAsync(i, Op::Evaluate); });
}

}  // namespace rkaddon
