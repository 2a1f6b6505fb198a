// The vector vocabulary on AVX-512F (+VL/DQ): 16 lanes, tails by mask registers (API: see
// f32-scalar.h). Only included by native/src/isa/avx512.cc, compiled with -mavx512f etc.
#ifndef RNNKIT_SIMD_F32_AVX512_H
#define RNNKIT_SIMD_F32_AVX512_H

#include <immintrin.h>

#include "simd/common.h"

namespace rk {
namespace avx512 {

constexpr int kW = 16;
constexpr const char* kIsaName = "avx512";

struct V {
  __m512 r;
};

RK_INLINE __mmask16 tail_mask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }

RK_INLINE V load(const float* p) { return V{_mm512_load_ps(p)}; }
RK_INLINE V loadu(const float* p) { return V{_mm512_loadu_ps(p)}; }
RK_INLINE void store(float* p, V v) { _mm512_store_ps(p, v.r); }
RK_INLINE void storeu(float* p, V v) { _mm512_storeu_ps(p, v.r); }
RK_INLINE V load_tail(const float* p, int n) { return V{_mm512_maskz_loadu_ps(tail_mask(n), p)}; }
RK_INLINE void store_tail(float* p, V v, int n) { _mm512_mask_storeu_ps(p, tail_mask(n), v.r); }
RK_INLINE V set1(float s) { return V{_mm512_set1_ps(s)}; }
RK_INLINE V zero() { return V{_mm512_setzero_ps()}; }
RK_INLINE V add(V a, V b) { return V{_mm512_add_ps(a.r, b.r)}; }
RK_INLINE V sub(V a, V b) { return V{_mm512_sub_ps(a.r, b.r)}; }
RK_INLINE V mul(V a, V b) { return V{_mm512_mul_ps(a.r, b.r)}; }
RK_INLINE V div(V a, V b) { return V{_mm512_div_ps(a.r, b.r)}; }
RK_INLINE V vsqrt(V a) { return V{_mm512_sqrt_ps(a.r)}; }
// As in f32-avx2.h: a goes second, so that a NaN in a comes back.
RK_INLINE V max(V a, V b) { return V{_mm512_max_ps(b.r, a.r)}; }
RK_INLINE V min(V a, V b) { return V{_mm512_min_ps(b.r, a.r)}; }
RK_INLINE V fmadd(V a, V b, V c) { return V{_mm512_fmadd_ps(a.r, b.r, c.r)}; }
RK_INLINE V fnmadd(V a, V b, V c) { return V{_mm512_fnmadd_ps(a.r, b.r, c.r)}; }
RK_INLINE V vabs(V a) { return V{_mm512_abs_ps(a.r)}; }
RK_INLINE V vround(V a) { return V{_mm512_roundscale_ps(a.r, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
RK_INLINE V vpow2n(V n) {
  const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n.r), _mm512_set1_epi32(127));
  return V{_mm512_castsi512_ps(_mm512_slli_epi32(e, 23))};
}
RK_INLINE V select_lt(V a, V b, V x, V y) {
  return V{_mm512_mask_blend_ps(_mm512_cmp_ps_mask(a.r, b.r, _CMP_LT_OQ), y.r, x.r)};
}
RK_INLINE float hsum(V v) { return _mm512_reduce_add_ps(v.r); }
RK_INLINE bool any_eq(V a, V b) { return _mm512_cmp_ps_mask(a.r, b.r, _CMP_EQ_OQ) != 0; }

#include "simd/math.inc"

}  // namespace avx512
}  // namespace rk

#endif
