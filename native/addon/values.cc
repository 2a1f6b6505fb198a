#include "values.h"

#include <cmath>
#include <limits>

namespace rkaddon {

std::string Describe(Napi::Value v) {
  if (v.IsString()) return "\"" + v.As<Napi::String>().Utf8Value() + "\"";
  if (v.IsTypedArray()) {  // its constructor's name and length: "Float32Array(29)"
    const std::string kind = v.As<Napi::Object>().Get("constructor").As<Napi::Object>().Get("name").ToString();
    return kind + "(" + std::to_string(v.As<Napi::TypedArray>().ElementLength()) + ")";
  }
  if (v.IsArray()) return "Array(" + std::to_string(v.As<Napi::Array>().Length()) + ")";
  if (v.IsFunction()) return "function";
  if (v.IsObject()) return v.IsExternal() ? "external" : "object";
  return v.ToString().Utf8Value();  // undefined, null, numbers (NaN too), booleans
}

int32_t RequireInt32(Napi::Value v, const char* name, int32_t min) {
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  // NaN fails every comparison, so a non-number lands here too.
  if (!(d >= min && d <= std::numeric_limits<int32_t>::max()) || std::floor(d) != d) {
    throw Napi::RangeError::New(v.Env(), std::string(name) + " must be an integer in " + std::to_string(min) + ".." +
                                             std::to_string(std::numeric_limits<int32_t>::max()) + "; got " + Describe(v));
  }
  return static_cast<int32_t>(d);
}

double RequireNumber(Napi::Value v, const char* name) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(name) + " must be a number; got " + Describe(v));
  return v.As<Napi::Number>().DoubleValue();
}

std::string RequireString(Napi::Value v, const char* name) {
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), std::string(name) + " must be a string; got " + Describe(v));
  return v.As<Napi::String>().Utf8Value();
}

namespace {
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
}  // namespace

Napi::Error StatusError(Napi::Env env, const char* op, rk_status s, const std::string& message) {
  std::string text = std::string("rnnkit ") + op + " failed (" + StatusName(s) + ")";
  if (!message.empty()) text += ": " + message;
  Napi::Error e = Napi::Error::New(env, text);
  e.Set("code", Napi::String::New(env, StatusName(s)));
  return e;
}

void Check(Napi::Env env, const char* op, rk_status s) {
  if (s != RK_OK) throw StatusError(env, op, s, rk_last_error());
}

Napi::Float32Array Output(Napi::Env env, int64_t elements) {
  return elements > 0 ? Napi::Float32Array::New(env, static_cast<size_t>(elements)) : Napi::Float32Array();
}

}  // namespace rkaddon
