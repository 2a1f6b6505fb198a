// forward / backward over a whole sequence, synchronously or on libuv's thread pool.
//
// Both variants unpack and check the arguments on the JS thread, allocate the outputs as
// Float32Arrays there, and then make ONE C ABI call. The asynchronous variant keeps
// references to the handle, the inputs and the outputs until the promise settles, marks
// the stack busy meanwhile (a second call on it is refused with ERR_RNNKIT_BUSY rather
// than queued: the caller must await — queuing would hide an unawaited promise bug and
// make the stack's training state depend on scheduling), and reads rk_last_error() on
// the worker thread that failed.
//
// Inputs must not be detached or resized while an asynchronous call runs; their values
// may change (the C layer then reads whichever values are there), memory stays valid.
#include "sequence.h"

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "compute_gate.h"
#include "errors.h"
#include "rnnkit.h"
#include "stack_handle.h"

namespace rkaddon {

namespace {

// One prepared C call and what JS must see or keep alive around it.
struct Call {
  const char* op = "";
  std::function<rk_status()> run;  // the C ABI call; touches no JS value
  Napi::Object result;             // resolved value: the output arrays
  std::vector<Napi::Value> keep;   // inputs that must outlive the call
  bool sets_training = false;      // a training forward: record its shape on success
  int32_t steps = 0, batch = 0;
};

Napi::Object Request(const Napi::CallbackInfo& info, const char* what) {
  if (!info[1].IsObject() || info[1].IsArray() || info[1].IsTypedArray()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an object; got " + Describe(info[1]));
  }
  return info[1].As<Napi::Object>();
}

Napi::Float32Array NewOutput(Napi::Env env, size_t n) { return Napi::Float32Array::New(env, n); }

Call PrepareForward(const Napi::CallbackInfo& info, StackHandle* h) {
  Napi::Env env = info.Env();
  Napi::Object req = Request(info, "forward request");
  const StackDims& d = h->dims();
  const int32_t T = RequireInt32(req.Get("steps"), "steps", 1);
  const int32_t B = RequireInt32(req.Get("batch"), "batch", 1);
  Napi::Value training = req.Get("training");
  const bool keep = training.IsUndefined() ? false : RequireBool(training, "training");

  // Inputs first, so that absurd sizes are reported against the array the caller passed.
  const size_t nx = CheckedProduct(env, "x", {T, B, d.I});
  const size_t nh = CheckedProduct(env, "h0", {d.LD, B, d.S});
  const size_t nc = CheckedProduct(env, "c0", {d.LD, B, d.H});

  Napi::Float32Array x = RequireF32(req.Get("x"), "x", nx, ShapeSpec({{"T", T}, {"B", B}, {"I", d.I}}));
  Napi::Float32Array h0 = OptionalF32(req.Get("h0"), "h0", nh, ShapeSpec({{"L·D", d.LD}, {"B", B}, {"S", d.S}}));
  Napi::Float32Array c0;
  Napi::Value c0v = req.Get("c0");
  if (!d.has_c && !(c0v.IsUndefined() || c0v.IsNull())) {
    throw Napi::TypeError::New(env, "c0 applies only to LSTM cells; this stack has no cell state; got " + Describe(c0v));
  }
  if (d.has_c) c0 = OptionalF32(c0v, "c0", nc, ShapeSpec({{"L·D", d.LD}, {"B", B}, {"H", d.H}}));

  // Copied, and checked here: the C layer indexes with these values, and JS could rewrite
  // the caller's array while an asynchronous call runs.
  std::shared_ptr<std::vector<int32_t>> lengths;
  Napi::Int32Array lv = OptionalI32(req.Get("lengths"), "lengths", static_cast<size_t>(B), ShapeSpec({{"B", B}}));
  if (!lv.IsEmpty()) {
    lengths = std::make_shared<std::vector<int32_t>>(lv.Data(), lv.Data() + B);
    for (int32_t b = 0; b < B; b++) {
      int32_t v = (*lengths)[b];
      // 0 is allowed: a sequence with no step holds its state (truncated BPTT windows).
      if (v < 0 || v > T) {
        throw Napi::RangeError::New(env, "lengths[" + std::to_string(b) + "] must be in 0.." + std::to_string(T) +
                                             " (steps); got " + std::to_string(v));
      }
    }
  }

  const size_t ny = CheckedProduct(env, "y", {T, B, d.D, d.S});
  Napi::Float32Array y = NewOutput(env, ny);
  Napi::Float32Array hn = NewOutput(env, nh);
  Napi::Float32Array cn = d.has_c ? NewOutput(env, nc) : Napi::Float32Array();

  Call c;
  c.op = "forward";
  c.result = Napi::Object::New(env);
  c.result.Set("y", y);
  c.result.Set("hn", hn);
  if (d.has_c) c.result.Set("cn", cn);
  c.keep = {x};
  if (!h0.IsEmpty()) c.keep.push_back(h0);
  if (!c0.IsEmpty()) c.keep.push_back(c0);
  c.sets_training = keep;
  c.steps = T;
  c.batch = B;
  rk_stack* s = h->stack();
  const float *px = x.Data(), *ph0 = DataOrNull(h0), *pc0 = DataOrNull(c0);
  float *py = y.Data(), *phn = hn.Data(), *pcn = DataOrNull(cn);
  c.run = [=]() {
    return rk_stack_forward(s, T, B, px, ph0, pc0, lengths ? lengths->data() : nullptr, py, phn, pcn, keep ? 1 : 0);
  };
  return c;
}

Call PrepareBackward(const Napi::CallbackInfo& info, StackHandle* h) {
  Napi::Env env = info.Env();
  Napi::Object req = Request(info, "backward request");
  if (h->trained_steps == 0) {
    Napi::Error e = Napi::Error::New(env, "backward needs a preceding successful forward with training: true on this stack");
    e.Set("code", Napi::String::New(env, "RK_ESTATE"));
    throw e;
  }
  const StackDims& d = h->dims();
  const int32_t T = h->trained_steps, B = h->trained_batch;
  const size_t ny = CheckedProduct(env, "dy", {T, B, d.D, d.S});
  const size_t nx = CheckedProduct(env, "dx", {T, B, d.I});
  const size_t nh = CheckedProduct(env, "dhn", {d.LD, B, d.S});
  const size_t nc = CheckedProduct(env, "dcn", {d.LD, B, d.H});

  Napi::Float32Array dy = RequireF32(req.Get("dy"), "dy", ny, ShapeSpec({{"T", T}, {"B", B}, {"D·S", d.D * d.S}}));
  Napi::Float32Array dhn = OptionalF32(req.Get("dhn"), "dhn", nh, ShapeSpec({{"L·D", d.LD}, {"B", B}, {"S", d.S}}));
  Napi::Float32Array dcn;
  Napi::Value dcnv = req.Get("dcn");
  if (!d.has_c && !(dcnv.IsUndefined() || dcnv.IsNull())) {
    throw Napi::TypeError::New(env, "dcn applies only to LSTM cells; this stack has no cell state; got " + Describe(dcnv));
  }
  if (d.has_c) dcn = OptionalF32(dcnv, "dcn", nc, ShapeSpec({{"L·D", d.LD}, {"B", B}, {"H", d.H}}));

  Napi::Float32Array dx = NewOutput(env, nx);
  Napi::Float32Array dh0 = NewOutput(env, nh);
  Napi::Float32Array dc0 = d.has_c ? NewOutput(env, nc) : Napi::Float32Array();

  Call c;
  c.op = "backward";
  c.result = Napi::Object::New(env);
  c.result.Set("dx", dx);
  c.result.Set("dh0", dh0);
  if (d.has_c) c.result.Set("dc0", dc0);
  c.keep = {dy};
  if (!dhn.IsEmpty()) c.keep.push_back(dhn);
  if (!dcn.IsEmpty()) c.keep.push_back(dcn);
  rk_stack* s = h->stack();
  const float *pdy = dy.Data(), *pdhn = DataOrNull(dhn), *pdcn = DataOrNull(dcn);
  float *pdx = dx.Data(), *pdh0 = dh0.Data(), *pdc0 = DataOrNull(dc0);
  c.run = [=]() { return rk_stack_backward(s, pdy, pdhn, pdcn, pdx, pdh0, pdc0); };
  return c;
}

// A training forward that starts forgets the previous one (its activations are being
// overwritten); a successful one records its shape for backward.
void BeforeRun(StackHandle* h, const Call& c) {
  if (c.sets_training) h->trained_steps = h->trained_batch = 0;
}
void AfterSuccess(StackHandle* h, const Call& c) {
  if (c.sets_training) {
    h->trained_steps = c.steps;
    h->trained_batch = c.batch;
  }
}

Napi::Value RunSync(const Napi::CallbackInfo& info, Call (*prepare)(const Napi::CallbackInfo&, StackHandle*)) {
  StackHandle* h = StackHandle::Live(info[0], "stack");
  Call c = prepare(info, h);
  BeforeRun(h, c);
  rk_status st;
  std::string message;
  {
    GateScope gate;
    st = c.run();
    if (st != RK_OK) message = rk_last_error();  // same thread as the call
  }
  if (st != RK_OK) throw StatusError(info.Env(), c.op, st, message);
  AfterSuccess(h, c);
  return c.result;
}

class SequenceWorker : public Napi::AsyncWorker {
 public:
  SequenceWorker(Napi::Env env, StackHandle* h, Napi::Object handle, Call call)
      : Napi::AsyncWorker(env, "rnnkit:sequence"),
        deferred_(Napi::Promise::Deferred::New(env)),
        h_(h),
        handle_(Napi::Persistent(handle)),
        result_(Napi::Persistent(call.result)),
        call_(std::move(call)) {
    for (Napi::Value v : call_.keep) keep_.push_back(Napi::Persistent(v));
    call_.keep.clear();
    call_.result = Napi::Object();
  }

  ~SequenceWorker() override {
    if (entered_gate_ && !left_gate_) GateLeave();  // work cancelled before Execute ran
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  // Takes the stack and the gate; from here on the worker owns both until it completes.
  void Start() {
    h_->busy = true;
    BeforeRun(h_, call_);
    GateEnter();
    entered_gate_ = true;
    try {
      Queue();
    } catch (...) {
      h_->busy = false;
      throw;  // the caller deletes the worker, whose destructor leaves the gate
    }
  }

 protected:
  void Execute() override {
    status_ = call_.run();
    if (status_ != RK_OK) {
      message_ = rk_last_error();  // thread-local in the C layer: read it on this thread
      SetError(message_.empty() ? std::string("(no message)") : message_);
    }
    GateLeave();
    left_gate_ = true;
  }

  void OnOK() override {
    h_->busy = false;
    AfterSuccess(h_, call_);
    Settle([&] { deferred_.Resolve(result_.Value()); });
  }

  void OnError(const Napi::Error&) override {
    h_->busy = false;
    Settle([&] { deferred_.Reject(StatusError(Env(), call_.op, status_, message_).Value()); });
  }

 private:
  // When a worker_thread is terminated while the call runs, its environment completes the
  // work during teardown and can no longer run JS: settling the promise then fails with
  // an empty Napi::Error. Nobody can observe that promise any more, so drop the error
  // instead of letting it escape a completion callback (std::terminate).
  template <class F>
  void Settle(F&& settle) {
    try {
      settle();
    } catch (const Napi::Error&) {
    }
  }

  Napi::Promise::Deferred deferred_;
  StackHandle* h_;
  Napi::ObjectReference handle_;  // keeps the handle (and so the stack) alive
  Napi::ObjectReference result_;  // keeps the outputs alive
  std::vector<Napi::Reference<Napi::Value>> keep_;
  Call call_;
  rk_status status_ = RK_OK;
  std::string message_;
  bool entered_gate_ = false;
  bool left_gate_ = false;
};

Napi::Value RunAsync(const Napi::CallbackInfo& info, Call (*prepare)(const Napi::CallbackInfo&, StackHandle*)) {
  StackHandle* h = StackHandle::Live(info[0], "stack");
  Call c = prepare(info, h);  // throws before anything is queued
  auto* w = new SequenceWorker(info.Env(), h, info[0].As<Napi::Object>(), std::move(c));
  Napi::Promise p = w->Promise();
  try {
    w->Start();  // once queued, node-addon-api deletes the worker when it completes
  } catch (...) {
    delete w;
    throw;
  }
  return p;
}

}  // namespace

Napi::Value ForwardSync(const Napi::CallbackInfo& info) { return RunSync(info, PrepareForward); }
Napi::Value Forward(const Napi::CallbackInfo& info) { return RunAsync(info, PrepareForward); }
Napi::Value BackwardSync(const Napi::CallbackInfo& info) { return RunSync(info, PrepareBackward); }
Napi::Value Backward(const Napi::CallbackInfo& info) { return RunAsync(info, PrepareBackward); }

}  // namespace rkaddon
