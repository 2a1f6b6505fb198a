#include "call.h"

#include <mutex>
#include <string>
#include <utility>

namespace rkaddon {

namespace {

// Process-wide count of compute calls in flight (any handle, any worker_thread).
std::mutex g_gate;
long g_in_flight = 0;

void Enter() {
  std::lock_guard<std::mutex> lock(g_gate);
  g_in_flight++;
}
void Leave() {
  std::lock_guard<std::mutex> lock(g_gate);
  g_in_flight--;
}

class CallWorker : public Napi::AsyncWorker {
 public:
  CallWorker(Napi::Env env, Handle* h, Napi::Value js, Call call)
      : Napi::AsyncWorker(env, "rnnkit:call"),
        deferred_(Napi::Promise::Deferred::New(env)),
        h_(h),
        js_(Napi::Persistent(js)),
        result_(Napi::Persistent(call.result)),
        call_(std::move(call)) {
    call_.result = Napi::Object();
  }
  ~CallWorker() override {
    if (entered_) Leave();  // cancelled before Execute ran
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Start() {
    h_->busy = true;
    if (call_.also) call_.also->busy = true;
    Enter();
    entered_ = true;
    try {
      Queue();
    } catch (...) {
      h_->busy = false;
      if (call_.also) call_.also->busy = false;
      throw;  // the caller deletes the worker, whose destructor leaves the gate
    }
  }

 protected:
  void Execute() override {
    status_ = call_.run();
    if (status_ != RK_OK) {
      message_ = rk_last_error();  // thread-local in the C layer: read it on this thread
      SetError(message_);
    }
    Leave();
    entered_ = false;
  }
  void OnOK() override {
    h_->busy = false;
    if (call_.also) call_.also->busy = false;
    Settle([&] {
      if (call_.on_success) call_.on_success(h_);
      deferred_.Resolve(result_.Value());
    });
  }
  void OnError(const Napi::Error&) override {
    h_->busy = false;
    if (call_.also) call_.also->busy = false;
    Settle([&] { deferred_.Reject(StatusError(Env(), call_.op, status_, message_).Value()); });
  }

 private:
  // A worker_thread terminated while the call ran completes the work during teardown and
  // cannot run JS any more: nobody can observe its promise, so drop the settle error
  // instead of letting it escape a completion callback (std::terminate).
  template <class F>
  void Settle(F&& settle) {
    try {
      settle();
    } catch (const Napi::Error&) {
    }
  }

  Napi::Promise::Deferred deferred_;
  Handle* h_;
  Napi::Reference<Napi::Value> js_;  // keeps the handle (and so its C object) alive
  Napi::ObjectReference result_;     // keeps the outputs alive
  Call call_;
  rk_status status_ = RK_OK;
  std::string message_;
  bool entered_ = false;
};

}  // namespace

Napi::Value RunSync(Napi::Env env, Handle* h, Call call) {
  Enter();
  const rk_status st = call.run();
  const std::string message = st != RK_OK ? rk_last_error() : "";  // same thread as the call
  Leave();
  if (st != RK_OK) throw StatusError(env, call.op, st, message);
  if (call.on_success) call.on_success(h);
  return call.result;
}

Napi::Value RunAsync(Napi::Env env, Handle* h, Napi::Value js, Call call) {
  auto* w = new CallWorker(env, h, js, std::move(call));
  Napi::Promise p = w->Promise();
  try {
    w->Start();  // once queued, node-addon-api deletes the worker when it completes
  } catch (...) {
    delete w;
    throw;
  }
  return p;
}

bool ConfigureWhenIdle(const std::function<void()>& change) {
  std::lock_guard<std::mutex> lock(g_gate);
  if (g_in_flight != 0) return false;
  change();
  return true;
}

}  // namespace rkaddon
