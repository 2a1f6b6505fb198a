// Unwrapping JS values for the C ABI: packed structs, typed arrays of the sizes C reports,
// numbers, and C statuses turned into JS errors. The checks here protect memory (a wrong
// type or size would make C read or write outside an array); what a valid value is, is
// decided in TypeScript (src/validate.ts) and, for the C API's own callers, in C.
#ifndef RNNKIT_ADDON_VALUES_H
#define RNNKIT_ADDON_VALUES_H

#include <napi.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "rnnkit.h"

namespace rkaddon {

// A short description of a JS value for error messages: "Float32Array(29)", "undefined".
std::string Describe(Napi::Value v);

int32_t RequireInt32(Napi::Value v, const char* name, int32_t min);
double RequireNumber(Napi::Value v, const char* name);
std::string RequireString(Napi::Value v, const char* name);

// An Error "rnnkit <op> failed (RK_EINVAL): <message>" with .code = "RK_EINVAL". The message
// must be read with rk_last_error() on the thread that made the failing call.
Napi::Error StatusError(Napi::Env env, const char* op, rk_status s, const std::string& message);
// Throws StatusError when `s` is not RK_OK (for calls made on the JS thread).
void Check(Napi::Env env, const char* op, rk_status s);

// A C struct from the bytes TypeScript packed for this module (src/backend/abi/): a
// Uint8Array of exactly sizeof(S) bytes.
template <class S>
S ReadStruct(Napi::Value v, const char* name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
      v.As<Napi::Uint8Array>().ByteLength() != sizeof(S)) {
    throw Napi::TypeError::New(v.Env(), std::string(name) + " must be a Uint8Array of " + std::to_string(sizeof(S)) +
                                            " packed bytes (src/backend/abi/); got " + Describe(v));
  }
  S s;
  std::memcpy(&s, v.As<Napi::Uint8Array>().Data(), sizeof(S));
  return s;
}

// The typed array type and name of an input's element type (float, int32_t or uint8_t).
template <class T>
constexpr napi_typedarray_type kArrayType = std::is_same_v<T, float> ? napi_float32_array
                                            : std::is_same_v<T, int32_t> ? napi_int32_array
                                                                          : napi_uint8_array;
template <class T>
constexpr const char* kArrayName = std::is_same_v<T, float> ? "Float32Array" : std::is_same_v<T, int32_t> ? "Int32Array" : "Uint8Array";

// Input arrays of one call. For an asynchronous call the bytes are copied here, on the JS
// thread, before the call is queued: the caller may then detach, resize or rewrite its
// own array while the work runs.
class Inputs {
 public:
  explicit Inputs(bool copy) : copy_(copy) {}

  // A typed array of element type T and exactly `elements` elements, or nullptr for
  // undefined / null (or when `elements` is 0: C does not read that array then).
  template <class T>
  const T* Get(Napi::Value v, const char* name, int64_t elements) {
    if (v.IsUndefined() || v.IsNull() || elements == 0) return nullptr;
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != kArrayType<T>) {
      throw Napi::TypeError::New(v.Env(), std::string(name) + " must be a " + kArrayName<T> + " of " +
                                              std::to_string(elements) + " elements; got " + Describe(v));
    }
    auto a = v.As<Napi::TypedArray>();
    if (a.ElementLength() != static_cast<size_t>(elements)) {
      throw Napi::RangeError::New(v.Env(), std::string(name) + " must have " + std::to_string(elements) +
                                               " elements; got " + std::to_string(a.ElementLength()));
    }
    // Another thread could rewrite a SharedArrayBuffer between C's checks and its reads (C
    // indexes with tokens and lengths), so only an ArrayBuffer the caller owns is read.
    void* data = nullptr;
    napi_value buffer;
    bool plain = false;
    if (napi_get_typedarray_info(v.Env(), a, nullptr, nullptr, &data, &buffer, nullptr) != napi_ok ||
        napi_is_arraybuffer(v.Env(), buffer, &plain) != napi_ok || !plain) {
      throw Napi::TypeError::New(v.Env(), std::string(name) + " must be backed by an ArrayBuffer, not a SharedArrayBuffer");
    }
    if (!copy_) return static_cast<const T*>(data);
    const size_t bytes = static_cast<size_t>(elements) * sizeof(T);
    copies_.emplace_back(new uint8_t[bytes]);  // operator new: aligned for any element type
    std::memcpy(copies_.back().get(), data, bytes);
    return reinterpret_cast<const T*>(copies_.back().get());
  }

 private:
  bool copy_;
  std::vector<std::unique_ptr<uint8_t[]>> copies_;
};

// Points every array field of `b` at the input of its rk_model_array index in `arrays`
// (element type from the field's own C type), sized as `n` (rk_model_shapes or
// rk_session_shapes) says; a field whose size is 0 becomes NULL. No pointer of the packed
// bytes is ever passed on.
void BindBatchArrays(rk_batch& b, Napi::Array arrays, const int64_t* n, Inputs& in);

// A fresh Float32Array of `elements` elements for an output (an empty handle for 0).
Napi::Float32Array Output(Napi::Env env, int64_t elements);

}  // namespace rkaddon

#endif
