// The vector vocabulary on AVX2 + FMA: 8 lanes (API: see f32-scalar.h). Only included by
// native/src/isa/avx2.cc, compiled with -mavx2 -mfma.
#ifndef RNNKIT_SIMD_F32_AVX2_H
#define RNNKIT_SIMD_F32_AVX2_H

#include <immintrin.h>

#include "simd/common.h"

namespace rk {
namespace avx2 {

constexpr int kW = 8;
constexpr const char* kIsaName = "avx2";

struct V {
  __m256 r;
};

// Lane mask for the first n lanes (maskload/maskstore never touch masked-out memory).
RK_INLINE __m256i tail_mask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

RK_INLINE V load(const float* p) { return V{_mm256_load_ps(p)}; }
RK_INLINE V loadu(const float* p) { return V{_mm256_loadu_ps(p)}; }
RK_INLINE void store(float* p, V v) { _mm256_store_ps(p, v.r); }
RK_INLINE void storeu(float* p, V v) { _mm256_storeu_ps(p, v.r); }
RK_INLINE V load_tail(const float* p, int n) { return V{_mm256_maskload_ps(p, tail_mask(n))}; }
RK_INLINE void store_tail(float* p, V v, int n) { _mm256_maskstore_ps(p, tail_mask(n), v.r); }
RK_INLINE V set1(float s) { return V{_mm256_set1_ps(s)}; }
RK_INLINE V zero() { return V{_mm256_setzero_ps()}; }
RK_INLINE V add(V a, V b) { return V{_mm256_add_ps(a.r, b.r)}; }
RK_INLINE V sub(V a, V b) { return V{_mm256_sub_ps(a.r, b.r)}; }
RK_INLINE V mul(V a, V b) { return V{_mm256_mul_ps(a.r, b.r)}; }
RK_INLINE V div(V a, V b) { return V{_mm256_div_ps(a.r, b.r)}; }
RK_INLINE V vsqrt(V a) { return V{_mm256_sqrt_ps(a.r)}; }
RK_INLINE V max(V a, V b) { return V{_mm256_max_ps(a.r, b.r)}; }
RK_INLINE V min(V a, V b) { return V{_mm256_min_ps(a.r, b.r)}; }
RK_INLINE V fmadd(V a, V b, V c) { return V{_mm256_fmadd_ps(a.r, b.r, c.r)}; }
RK_INLINE V fnmadd(V a, V b, V c) { return V{_mm256_fnmadd_ps(a.r, b.r, c.r)}; }
RK_INLINE V vabs(V a) { return V{_mm256_andnot_ps(_mm256_set1_ps(-0.f), a.r)}; }
RK_INLINE V vround(V a) { return V{_mm256_round_ps(a.r, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
RK_INLINE V vpow2n(V n) {
  const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n.r), _mm256_set1_epi32(127));
  return V{_mm256_castsi256_ps(_mm256_slli_epi32(e, 23))};
}
RK_INLINE V select_lt(V a, V b, V x, V y) {
  return V{_mm256_blendv_ps(y.r, x.r, _mm256_cmp_ps(a.r, b.r, _CMP_LT_OQ))};
}
RK_INLINE float hsum(V v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v.r), _mm256_extractf128_ps(v.r, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

#include "simd/math.inc"

}  // namespace avx2
}  // namespace rk

#endif
