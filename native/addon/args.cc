#include "args.h"

#include <cmath>
#include <limits>

namespace rkaddon {

namespace {

const char* TypedArrayName(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "TypedArray";
  }
}

}  // namespace

ShapeSpec::ShapeSpec(std::initializer_list<std::pair<const char*, int64_t>> dims) {
  for (const auto& d : dims) {
    if (n_ < 4) dims_[n_++] = d;
  }
}

std::string ShapeSpec::str() const {
  if (n_ == 0) return text_;
  std::string s;
  for (int i = 0; i < n_; i++) s += std::string("[") + dims_[i].first + "=" + std::to_string(dims_[i].second) + "]";
  return s;
}

namespace {

template <typename Array>
Array RequireTyped(Napi::Value v, const char* name, size_t length, const ShapeSpec& shape,
                   napi_typedarray_type type) {
  Napi::Env env = v.Env();
  const char* want = TypedArrayName(type);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(env, std::string(name) + " must be a " + want + " of shape " + shape.str() + " (" +
                                        std::to_string(length) + " values); got " + Describe(v));
  }
  Array a = v.As<Array>();
  if (a.ElementLength() != length) {
    throw Napi::RangeError::New(env, std::string(name) + " must have shape " + shape.str() + " = " + std::to_string(length) +
                                         " values; got " + std::to_string(a.ElementLength()));
  }
  return a;
}

}  // namespace

std::string Describe(Napi::Value v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isnan(d)) return "NaN";
    return v.ToString().Utf8Value();
  }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsString()) return "\"" + v.As<Napi::String>().Utf8Value() + "\"";
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>();
    return std::string(TypedArrayName(t.TypedArrayType())) + "(" + std::to_string(t.ElementLength()) + ")";
  }
  if (v.IsArray()) return "Array(" + std::to_string(v.As<Napi::Array>().Length()) + ")";
  if (v.IsFunction()) return "function";
  if (v.IsBigInt()) return "bigint";
  if (v.IsSymbol()) return "symbol";
  return "object";
}

int32_t RequireInt32(Napi::Value v, const char* name, int32_t min) {
  Napi::Env env = v.Env();
  const std::string want = std::string(name) + " must be an integer in " + std::to_string(min) + ".." +
                           std::to_string(std::numeric_limits<int32_t>::max());
  if (!v.IsNumber()) throw Napi::TypeError::New(env, want + "; got " + Describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  // NaN fails every comparison, so it lands here too.
  if (!(d >= min && d <= std::numeric_limits<int32_t>::max()) || std::floor(d) != d) {
    throw Napi::RangeError::New(env, want + "; got " + Describe(v));
  }
  return static_cast<int32_t>(d);
}

bool RequireBool(Napi::Value v, const char* name) {
  if (!v.IsBoolean()) throw Napi::TypeError::New(v.Env(), std::string(name) + " must be a boolean; got " + Describe(v));
  return v.As<Napi::Boolean>().Value();
}

std::string RequireString(Napi::Value v, const char* name) {
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), std::string(name) + " must be a string; got " + Describe(v));
  return v.As<Napi::String>().Utf8Value();
}

size_t CheckedProduct(Napi::Env env, const char* name, std::initializer_list<int64_t> sizes) {
  size_t p = 1;
  for (int64_t s : sizes) {
    if (s < 0 || __builtin_mul_overflow(p, static_cast<size_t>(s), &p)) {
      throw Napi::RangeError::New(env, std::string(name) + " would need more elements than this machine can address");
    }
  }
  // Float32Array lengths are bounded well below SIZE_MAX / 4; keep byte counts representable.
  if (p > std::numeric_limits<size_t>::max() / sizeof(float)) {
    throw Napi::RangeError::New(env, std::string(name) + " would need more elements than this machine can address");
  }
  return p;
}

Napi::Float32Array RequireF32(Napi::Value v, const char* name, size_t length, const ShapeSpec& shape) {
  return RequireTyped<Napi::Float32Array>(v, name, length, shape, napi_float32_array);
}

Napi::Float32Array OptionalF32(Napi::Value v, const char* name, size_t length, const ShapeSpec& shape) {
  if (v.IsUndefined() || v.IsNull()) return Napi::Float32Array();
  return RequireF32(v, name, length, shape);
}

Napi::Int32Array OptionalI32(Napi::Value v, const char* name, size_t length, const ShapeSpec& shape) {
  if (v.IsUndefined() || v.IsNull()) return Napi::Int32Array();
  return RequireTyped<Napi::Int32Array>(v, name, length, shape, napi_int32_array);
}

}  // namespace rkaddon
