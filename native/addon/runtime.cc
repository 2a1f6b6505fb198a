// Process-wide settings and facts: the ABI description, the ISA path, the thread count.
// ISA and threads are shared by every handle and worker_thread of the process, so they
// change only while nothing computes (ERR_RNNKIT_BUSY otherwise).
#include <string>

#include "call.h"
#include "exports.h"
#include "values.h"

namespace rkaddon {

namespace {

void Configure(Napi::Env env, const char* what, const std::function<rk_status()>& change) {
  rk_status st = RK_OK;
  std::string message;
  if (!ConfigureWhenIdle([&] {
        st = change();
        if (st != RK_OK) message = rk_last_error();
      })) {
    Napi::Error e = Napi::Error::New(env, std::string(what) + " cannot change while a computation is running (in any stack, "
                                                              "model or worker thread of this process); await it first");
    e.Set("code", Napi::String::New(env, "ERR_RNNKIT_BUSY"));
    throw e;
  }
  if (st == RK_EINVAL) throw Napi::RangeError::New(env, message);
  if (st != RK_OK) throw StatusError(env, what, st, message);
}

}  // namespace

void ExportRuntime(Napi::Env env, Napi::Object exports) {
  auto fn = [&](const char* name, Napi::Function::Callback cb) { exports.Set(name, Napi::Function::New(env, cb, name)); };
  fn("abiDescribe", [](const Napi::CallbackInfo& i) -> Napi::Value { return Napi::String::New(i.Env(), rk_abi_describe()); });
  fn("isa", [](const Napi::CallbackInfo& i) -> Napi::Value { return Napi::String::New(i.Env(), rk_isa()); });
  fn("getThreads", [](const Napi::CallbackInfo& i) -> Napi::Value { return Napi::Number::New(i.Env(), rk_get_threads()); });
  fn("resolveThreads", [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::Number::New(i.Env(), rk_resolve_threads(RequireInt32(i[0], "threads", 0)));
  });
  fn("forceIsa", [](const Napi::CallbackInfo& i) -> Napi::Value {
    const std::string name = RequireString(i[0], "isa");
    Configure(i.Env(), "the ISA path", [&] { return rk_force_isa(name.c_str()); });
    return i.Env().Undefined();
  });
  fn("setThreads", [](const Napi::CallbackInfo& i) -> Napi::Value {
    const int32_t n = RequireInt32(i[0], "threads", 0);
    Configure(i.Env(), "the thread count", [&] { return rk_set_threads(n); });
    return i.Env().Undefined();
  });
}

}  // namespace rkaddon
