// The vector vocabulary on AVX2 + FMA: 8 lanes (API: see f32-scalar.h). Only included by
// native/src/isa/avx2.cc, compiled with -mavx2 -mfma.
#ifndef RNNKIT_SIMD_F32_AVX2_H
#define RNNKIT_SIMD_F32_AVX2_H

#include <immintrin.h>

#include <cstddef>

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
// maxps/minps return their second operand when either is NaN: a goes second, so that a
// NaN in a comes back (simd/f32-scalar.h, max/min).
RK_INLINE V max(V a, V b) { return V{_mm256_max_ps(b.r, a.r)}; }
RK_INLINE V min(V a, V b) { return V{_mm256_min_ps(b.r, a.r)}; }
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
RK_INLINE bool any_eq(V a, V b) { return _mm256_movemask_ps(_mm256_cmp_ps(a.r, b.r, _CMP_EQ_OQ)) != 0; }

// The GEMM's 6-row A panels (avx2.cc: kMR 6) from rows of A: dst[k·6 + i] = src[i·ld + k]
// for i < 6, k < 8 -- eight values of six rows interleaved with shuffles and 16-/8-byte
// stores, where the scalar copy took one load and one 4-byte store per value (the head's
// dz·W product of a word-level LM packs [T·B][V] this way: 6% of its training step).
#define RK_PACK_A_INTERLEAVE 1
RK_INLINE void interleave_rows6x8(const float* src, std::ptrdiff_t ld, float* dst) {
  const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ld);
  const __m256 r2 = _mm256_loadu_ps(src + 2 * ld), r3 = _mm256_loadu_ps(src + 3 * ld);
  const __m256 r4 = _mm256_loadu_ps(src + 4 * ld), r5 = _mm256_loadu_ps(src + 5 * ld);
  // Per 128-bit lane: t0 = r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5]; t1 the same
  // for values 2, 3 | 6, 7.
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  // Rows 0-3 of value j: u0 = values 0 | 4, u1 = 1 | 5, u2 = 2 | 6, u3 = 3 | 7.
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  // Rows 4-5 of value j: pairs in t4 (values 0, 1 | 4, 5) and t5 (2, 3 | 6, 7).
  const __m128 p01 = _mm256_castps256_ps128(t4), p45 = _mm256_extractf128_ps(t4, 1);
  const __m128 p23 = _mm256_castps256_ps128(t5), p67 = _mm256_extractf128_ps(t5, 1);
  _mm_storeu_ps(dst + 0, _mm256_castps256_ps128(u0));
  _mm_storel_pi(reinterpret_cast<__m64*>(dst + 4), p01);
  _mm_storeu_ps(dst + 6, _mm256_castps256_ps128(u1));
  _mm_storeh_pi(reinterpret_cast<__m64*>(dst + 10), p01);
  _mm_storeu_ps(dst + 12, _mm256_castps256_ps128(u2));
  _mm_storel_pi(reinterpret_cast<__m64*>(dst + 16), p23);
  _mm_storeu_ps(dst + 18, _mm256_castps256_ps128(u3));
  _mm_storeh_pi(reinterpret_cast<__m64*>(dst + 22), p23);
  _mm_storeu_ps(dst + 24, _mm256_extractf128_ps(u0, 1));
  _mm_storel_pi(reinterpret_cast<__m64*>(dst + 28), p45);
  _mm_storeu_ps(dst + 30, _mm256_extractf128_ps(u1, 1));
  _mm_storeh_pi(reinterpret_cast<__m64*>(dst + 34), p45);
  _mm_storeu_ps(dst + 36, _mm256_extractf128_ps(u2, 1));
  _mm_storel_pi(reinterpret_cast<__m64*>(dst + 40), p67);
  _mm_storeu_ps(dst + 42, _mm256_extractf128_ps(u3, 1));
  _mm_storeh_pi(reinterpret_cast<__m64*>(dst + 46), p67);
}

// dst[k·ldd + r] = src[r·ld + k] for r, k < 8: an 8x8 transpose, for the GEMM's transposed
// B panels (the head's z = y·Wᵀ packs W [V][F] 16 rows at a time this way; the scalar
// scatter was 2% of a word-level LM's training step).
#define RK_PACK_B_TRANSPOSE8 1
RK_INLINE void transpose8x8(const float* src, std::ptrdiff_t ld, float* dst, std::ptrdiff_t ldd) {
  __m256 r[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ld);
  // Pairs, then quads, interleaved within 128-bit lanes; the lanes are swapped last.
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  _mm256_storeu_ps(dst + 0 * ldd, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + 1 * ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

#include "simd/math.inc"

}  // namespace avx2
}  // namespace rk

#endif
