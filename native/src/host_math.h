// pow and log in double, for the few scalar places that need them (Adam's bias corrections,
// a row's cross-entropy). In the WebAssembly module they are the host's Math.pow and
// Math.log (src/backend/wasm/module.ts hostImports): musl's versions brought ~10 KB of
// tables into a module whose download is budgeted (300 KB with the browser JavaScript).
// Both are the IEEE functions to within an ulp, as glibc's are natively.
#pragma once

#include <cmath>

#if defined(__wasm__)
extern "C" {
__attribute__((import_module("env"), import_name("rkw_pow"))) double rkw_pow(double x, double y);
__attribute__((import_module("env"), import_name("rkw_log"))) double rkw_log(double x);
}
#endif

namespace rk {

inline double host_pow(double x, double y) {
#if defined(__wasm__)
  return rkw_pow(x, y);
#else
  return std::pow(x, y);
#endif
}

inline double host_log(double x) {
#if defined(__wasm__)
  return rkw_log(x);
#else
  return std::log(x);
#endif
}

}  // namespace rk
