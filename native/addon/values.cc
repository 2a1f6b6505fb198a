#include "values.h"

#include <cmath>
#include <iterator>
#include <limits>

namespace rkaddon {

// Reads no property of `v`: describing a value must not run the caller's code (a getter,
// a Proxy trap) nor fail on an exotic one (an External, a Symbol, a null prototype).
std::string Describe(Napi::Value v) {
  static const char* const kTypedArrays[] = {"Int8Array",   "Uint8Array",   "Uint8ClampedArray", "Int16Array",
                                             "Uint16Array", "Int32Array",   "Uint32Array",       "Float32Array",
                                             "Float64Array", "BigInt64Array", "BigUint64Array"};
  if (v.IsNumber() || v.IsBoolean() || v.IsUndefined() || v.IsNull()) return v.ToString().Utf8Value();
  if (v.IsString()) return "\"" + v.As<Napi::String>().Utf8Value() + "\"";
  if (v.IsTypedArray()) {
    const auto t = v.As<Napi::TypedArray>();
    const size_t k = t.TypedArrayType();
    return std::string(k < std::size(kTypedArrays) ? kTypedArrays[k] : "TypedArray") + "(" + std::to_string(t.ElementLength()) + ")";
  }
  if (v.IsArray()) return "Array(" + std::to_string(v.As<Napi::Array>().Length()) + ")";
  if (v.IsExternal()) return "external";
  if (v.IsFunction()) return "function";
  if (v.IsSymbol()) return "symbol";
  if (v.IsBigInt()) return "bigint";
  return "object";
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

void BindBatchArrays(rk_batch& b, Napi::Array arrays, const int64_t* n, Inputs& in) {
  auto bind = [&](auto& field, rk_model_array k, const char* name) {
    using T = std::remove_const_t<std::remove_pointer_t<std::remove_reference_t<decltype(field)>>>;
    field = in.Get<T>(arrays.Get(static_cast<uint32_t>(k)), name, n[k]);
  };
  bind(b.tokens, RK_ARRAY_TOKENS, "tokens");
  bind(b.x, RK_ARRAY_X, "x");
  bind(b.targets, RK_ARRAY_TARGETS, "targets");
  bind(b.target_values, RK_ARRAY_TARGET_VALUES, "targetValues");
  bind(b.target_mask, RK_ARRAY_TARGET_MASK, "targetMask");
  bind(b.lengths, RK_ARRAY_LENGTHS, "lengths");
  bind(b.h0, RK_ARRAY_H, "h0");
  bind(b.c0, RK_ARRAY_C, "c0");
  bind(b.condition, RK_ARRAY_CONDITION, "condition");
  bind(b.source_tokens, RK_ARRAY_SOURCE_TOKENS, "source.tokens");
  bind(b.source_x, RK_ARRAY_SOURCE_X, "source.x");
  bind(b.source_lengths, RK_ARRAY_SOURCE_LENGTHS, "source.lengths");
}

Napi::Float32Array Output(Napi::Env env, int64_t elements) {
  return elements > 0 ? Napi::Float32Array::New(env, static_cast<size_t>(elements)) : Napi::Float32Array();
}

}  // namespace rkaddon
