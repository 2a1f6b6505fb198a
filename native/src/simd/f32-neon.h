// The vector vocabulary on AArch64 NEON (Advanced SIMD, baseline on arm64): 4 lanes
// (API: see f32-scalar.h). Only included by native/src/isa/neon.cc.
#ifndef RNNKIT_SIMD_F32_NEON_H
#define RNNKIT_SIMD_F32_NEON_H

#include <arm_neon.h>

#include "simd/common.h"

namespace rk {
namespace neon {

constexpr int kW = 4;
constexpr const char* kIsaName = "neon";

struct V {
  float32x4_t r;
};

RK_INLINE V load(const float* p) { return V{vld1q_f32(p)}; }
RK_INLINE V loadu(const float* p) { return V{vld1q_f32(p)}; }
RK_INLINE void store(float* p, V v) { vst1q_f32(p, v.r); }
RK_INLINE void storeu(float* p, V v) { vst1q_f32(p, v.r); }
// No masked memory access: go through a small stack buffer (tails only).
RK_INLINE V load_tail(const float* p, int n) {
  float t[4] = {0.f, 0.f, 0.f, 0.f};
  for (int i = 0; i < n; ++i) t[i] = p[i];
  return V{vld1q_f32(t)};
}
RK_INLINE void store_tail(float* p, V v, int n) {
  float t[4];
  vst1q_f32(t, v.r);
  for (int i = 0; i < n; ++i) p[i] = t[i];
}
RK_INLINE V set1(float s) { return V{vdupq_n_f32(s)}; }
RK_INLINE V zero() { return V{vdupq_n_f32(0.f)}; }
RK_INLINE V add(V a, V b) { return V{vaddq_f32(a.r, b.r)}; }
RK_INLINE V sub(V a, V b) { return V{vsubq_f32(a.r, b.r)}; }
RK_INLINE V mul(V a, V b) { return V{vmulq_f32(a.r, b.r)}; }
RK_INLINE V div(V a, V b) { return V{vdivq_f32(a.r, b.r)}; }
RK_INLINE V vsqrt(V a) { return V{vsqrtq_f32(a.r)}; }
RK_INLINE V max(V a, V b) { return V{vmaxq_f32(a.r, b.r)}; }
RK_INLINE V min(V a, V b) { return V{vminq_f32(a.r, b.r)}; }
RK_INLINE V fmadd(V a, V b, V c) { return V{vfmaq_f32(c.r, a.r, b.r)}; }
RK_INLINE V fnmadd(V a, V b, V c) { return V{vfmsq_f32(c.r, a.r, b.r)}; }
RK_INLINE V vabs(V a) { return V{vabsq_f32(a.r)}; }
RK_INLINE V vround(V a) { return V{vrndnq_f32(a.r)}; }
RK_INLINE V vpow2n(V n) {
  const int32x4_t e = vaddq_s32(vcvtnq_s32_f32(n.r), vdupq_n_s32(127));
  return V{vreinterpretq_f32_s32(vshlq_n_s32(e, 23))};
}
RK_INLINE V select_lt(V a, V b, V x, V y) { return V{vbslq_f32(vcltq_f32(a.r, b.r), x.r, y.r)}; }
RK_INLINE float hsum(V v) { return vaddvq_f32(v.r); }
RK_INLINE bool any_eq(V a, V b) { return vmaxvq_u32(vceqq_f32(a.r, b.r)) != 0; }

#include "simd/math.inc"

}  // namespace neon
}  // namespace rk

#endif
