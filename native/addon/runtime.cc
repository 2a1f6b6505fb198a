#include "runtime.h"

#include <string>

#include "args.h"
#include "compute_gate.h"
#include "errors.h"
#include "rnnkit.h"

namespace rkaddon {

namespace {

// These settings are shared by every stack, worker thread and addon instance of the
// process, so they only change while nothing computes.
Napi::Error ChangeWhileBusy(Napi::Env env, const char* what) {
  Napi::Error e = Napi::Error::New(env, std::string(what) +
                                            " cannot change while a forward or backward is running (in any stack or "
                                            "worker thread of this process); await it first");
  e.Set("code", Napi::String::New(env, "ERR_RNNKIT_BUSY"));
  return e;
}

}  // namespace

Napi::Value Isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), rk_isa()); }

Napi::Value ForceIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = RequireString(info[0], "isa");
  rk_status st = RK_OK;
  std::string message;
  if (!GateConfigure([&] {
        st = rk_force_isa(name.c_str());
        if (st != RK_OK) message = rk_last_error();
      })) {
    throw ChangeWhileBusy(env, "the ISA path");
  }
  if (st == RK_EINVAL) {
    throw Napi::RangeError::New(env, "isa \"" + name + "\" cannot be forced: " +
                                         (message.empty() ? std::string("unknown or unsupported on this CPU") : message));
  }
  if (st != RK_OK) throw StatusError(env, "forceIsa", st, message);
  return env.Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t n = RequireInt32(info[0], "threads", 0);
  rk_status st = RK_OK;
  std::string message;
  if (!GateConfigure([&] {
        st = rk_set_threads(n);
        if (st != RK_OK) message = rk_last_error();
      })) {
    throw ChangeWhileBusy(env, "the thread count");
  }
  if (st != RK_OK) throw StatusError(env, "setThreads", st, message);
  return env.Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), rk_get_threads()); }

}  // namespace rkaddon
