// The vector vocabulary, one lane wide: the portable fallback every target compiles.
//
// Every f32-<isa>.h defines the same API in namespace rk::<isa> (kernel bodies in .inc
// files are compiled once per ISA against it):
//   kW                              lanes per vector
//   struct V                        one vector register
//   load(p) / loadu(p)              aligned (kW*4 bytes) / unaligned load
//   store(p, v) / storeu(p, v)
//   load_tail(p, n)                 first n lanes (0 <= n < kW) from p, others 0; never
//                                   reads past p[n-1]
//   store_tail(p, v, n)             writes only p[0..n)
//   set1(s), zero()
//   add sub mul div max min         lane-wise; max(a, b) / min(a, b) return a where a is
//                                   NaN (every ISA: kernels put the data first, the bound
//                                   second, so a NaN is never clamped into a number)
//   vsqrt(v)                        correctly rounded square root
//   fmadd(a, b, c)  = a*b + c       (fused where the ISA has FMA)
//   fnmadd(a, b, c) = c - a*b
//   vabs(v), vround(v)              round to nearest even
//   vpow2n(n)                       2^n for integral n in [-126, 127]
//   select_lt(a, b, x, y)           a < b ? x : y, lane-wise
//   hsum(v)                         sum of the lanes
//   any_eq(a, b)                    whether a == b in some lane (false where NaN)
//   vexp vsigmoid vtanh             approximations, error bounds in simd/math.inc
#ifndef RNNKIT_SIMD_F32_SCALAR_H
#define RNNKIT_SIMD_F32_SCALAR_H

#include <cstdint>
#include <cstring>

#include "simd/common.h"

namespace rk {
namespace scalar {

constexpr int kW = 1;
constexpr const char* kIsaName = "scalar";

struct V {
  float r;
};

RK_INLINE V load(const float* p) { return V{*p}; }
RK_INLINE V loadu(const float* p) { return V{*p}; }
RK_INLINE void store(float* p, V v) { *p = v.r; }
RK_INLINE void storeu(float* p, V v) { *p = v.r; }
RK_INLINE V load_tail(const float* p, int n) { return V{n > 0 ? *p : 0.f}; }
RK_INLINE void store_tail(float* p, V v, int n) {
  if (n > 0) *p = v.r;
}
RK_INLINE V set1(float s) { return V{s}; }
RK_INLINE V zero() { return V{0.f}; }
RK_INLINE V add(V a, V b) { return V{a.r + b.r}; }
RK_INLINE V sub(V a, V b) { return V{a.r - b.r}; }
RK_INLINE V mul(V a, V b) { return V{a.r * b.r}; }
RK_INLINE V div(V a, V b) { return V{a.r / b.r}; }
RK_INLINE V vsqrt(V a) { return V{__builtin_sqrtf(a.r)}; }
RK_INLINE V fmadd(V a, V b, V c) { return V{a.r * b.r + c.r}; }
RK_INLINE V fnmadd(V a, V b, V c) { return V{c.r - a.r * b.r}; }
RK_INLINE V vabs(V a) {
  std::uint32_t b;
  std::memcpy(&b, &a.r, sizeof b);
  b &= 0x7FFFFFFFu;
  float f;
  std::memcpy(&f, &b, sizeof f);
  return V{f};
}
// Adding and subtracting 1.5*2^23 rounds to nearest even for |x| < 2^22 (no libm call).
// (Exact IEEE arithmetic: never build with -ffast-math, which would fold it away.)
RK_INLINE V vround(V a) {
  const float b = 12582912.f;
  return V{(a.r + b) - b};
}
RK_INLINE V vpow2n(V n) {
  const std::int32_t bits = (static_cast<std::int32_t>(n.r) + 127) << 23;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return V{f};
}
// select/max/min/abs are branch-free on the bits: with `?:` the compiler keeps branches
// (it may not speculate float operations that could trap, nor turn them into min/max
// because of NaN and signed-zero rules), which stops it from vectorizing loops over this
// one-lane API.
RK_INLINE V select_lt(V a, V b, V x, V y) {
  std::uint32_t xb, yb;
  std::memcpy(&xb, &x.r, sizeof xb);
  std::memcpy(&yb, &y.r, sizeof yb);
  const std::uint32_t mask = 0u - static_cast<std::uint32_t>(a.r < b.r);
  const std::uint32_t r = (xb & mask) | (yb & ~mask);
  float f;
  std::memcpy(&f, &r, sizeof f);
  return V{f};
}
RK_INLINE V max(V a, V b) { return select_lt(a, b, b, a); }
RK_INLINE V min(V a, V b) { return select_lt(b, a, b, a); }
RK_INLINE float hsum(V v) { return v.r; }
RK_INLINE bool any_eq(V a, V b) { return a.r == b.r; }

#include "simd/math.inc"

}  // namespace scalar
}  // namespace rk

#endif
