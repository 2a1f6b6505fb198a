// Argument unpacking for the addon: every check names the argument and gives the
// expected and the actual value, as a TypeError (wrong kind of value) or a RangeError
// (right kind, wrong size). Thrown as C++ exceptions (NAPI_CPP_EXCEPTIONS), which
// node-addon-api turns into JS exceptions at the call boundary.
#ifndef RNNKIT_ADDON_ARGS_H
#define RNNKIT_ADDON_ARGS_H

#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

namespace rkaddon {

// A short description of a JS value for error messages: "Float32Array(29)", "undefined", "3.5".
std::string Describe(Napi::Value v);

// An integer number in [min, INT32_MAX]; `name` is the argument as the caller knows it.
int32_t RequireInt32(Napi::Value v, const char* name, int32_t min);

bool RequireBool(Napi::Value v, const char* name);

std::string RequireString(Napi::Value v, const char* name);

// The product of sizes, or a RangeError naming `name` if it does not fit in a size_t.
size_t CheckedProduct(Napi::Env env, const char* name, std::initializer_list<int64_t> sizes);

// The expected shape of an array argument, for error messages: "[T=5][B=2][I=3]". Built
// from named sizes and formatted only when an error is thrown: the checks run on every
// call, one streaming step included, where formatting it cost ~0.5 us.
class ShapeSpec {
 public:
  ShapeSpec(std::initializer_list<std::pair<const char*, int64_t>> dims);  // at most 4 sizes
  ShapeSpec(std::string text) : text_(std::move(text)) {}                  // already formatted
  std::string str() const;

 private:
  std::pair<const char*, int64_t> dims_[4] = {};
  int n_ = 0;
  std::string text_;
};

// A Float32Array of exactly `length` elements; `shape` says what is expected.
Napi::Float32Array RequireF32(Napi::Value v, const char* name, size_t length, const ShapeSpec& shape);

// The same, but undefined or null are allowed and give an empty (IsEmpty()) handle.
Napi::Float32Array OptionalF32(Napi::Value v, const char* name, size_t length, const ShapeSpec& shape);

// An Int32Array of exactly `length` elements, or empty for undefined / null.
Napi::Int32Array OptionalI32(Napi::Value v, const char* name, size_t length, const ShapeSpec& shape);

// Pointer to the first element, or nullptr for an empty handle.
inline float* DataOrNull(Napi::Float32Array a) { return a.IsEmpty() ? nullptr : a.Data(); }
inline int32_t* DataOrNull(Napi::Int32Array a) { return a.IsEmpty() ? nullptr : a.Data(); }

}  // namespace rkaddon

#endif
