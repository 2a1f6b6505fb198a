#include "errors.h"

namespace rkaddon {

const char* StatusName(rk_status s) {
  switch (s) {
    case RK_OK: return "RK_OK";
    case RK_EINVAL: return "RK_EINVAL";
    case RK_ENOMEM: return "RK_ENOMEM";
    case RK_ESTATE: return "RK_ESTATE";
    case RK_EINTERNAL: return "RK_EINTERNAL";
  }
  return "RK_EUNKNOWN";
}

Napi::Error StatusError(Napi::Env env, const char* op, rk_status s, const std::string& message) {
  std::string text = std::string("rnnkit ") + op + " failed (" + StatusName(s) + ")";
  if (!message.empty()) text += ": " + message;
  Napi::Error e = Napi::Error::New(env, text);
  e.Set("code", Napi::String::New(env, StatusName(s)));
  return e;
}

Napi::Error BusyError(Napi::Env env) {
  Napi::Error e = Napi::Error::New(
      env, "stack is busy: an asynchronous forward or backward is still running on it; await it before the next call");
  e.Set("code", Napi::String::New(env, "ERR_RNNKIT_BUSY"));
  return e;
}

}  // namespace rkaddon
