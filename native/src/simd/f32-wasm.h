// The vector vocabulary on WebAssembly SIMD (128-bit, -msimd128): 4 lanes (API: see
// f32-scalar.h). Baseline simd128 has no fused multiply-add, so fmadd is mul + add (the
// approximation bounds in math.inc hold all the same; gemm_test checks them under node).
// Built with -mrelaxed-simd as well (wasm/build.mjs, the rnnkit-relaxed.wasm variant),
// fmadd / fnmadd are f32x4.relaxed_madd / relaxed_nmadd: engines emit one FMA where the CPU
// has it (vfmadd on x86 hosts with FMA3), else mul + add — either is within math.inc's bounds.
// Only included by native/src/isa/wasm.cc.
#ifndef RNNKIT_SIMD_F32_WASM_H
#define RNNKIT_SIMD_F32_WASM_H

#include <wasm_simd128.h>

#include "simd/common.h"

namespace rk {
namespace wasm {

constexpr int kW = 4;
#ifdef __wasm_relaxed_simd__
constexpr const char* kIsaName = "wasm-relaxed-simd";
#else
constexpr const char* kIsaName = "wasm-simd128";
#endif

struct V {
  v128_t r;
};

RK_INLINE V load(const float* p) { return V{wasm_v128_load(p)}; }
RK_INLINE V loadu(const float* p) { return V{wasm_v128_load(p)}; }
RK_INLINE void store(float* p, V v) { wasm_v128_store(p, v.r); }
RK_INLINE void storeu(float* p, V v) { wasm_v128_store(p, v.r); }
// No masked memory access: go through a small stack buffer (tails only).
RK_INLINE V load_tail(const float* p, int n) {
  float t[4] = {0.f, 0.f, 0.f, 0.f};
  for (int i = 0; i < n; ++i) t[i] = p[i];
  return V{wasm_v128_load(t)};
}
RK_INLINE void store_tail(float* p, V v, int n) {
  float t[4];
  wasm_v128_store(t, v.r);
  for (int i = 0; i < n; ++i) p[i] = t[i];
}
RK_INLINE V set1(float s) { return V{wasm_f32x4_splat(s)}; }
RK_INLINE V zero() { return V{wasm_f32x4_splat(0.f)}; }
RK_INLINE V add(V a, V b) { return V{wasm_f32x4_add(a.r, b.r)}; }
RK_INLINE V sub(V a, V b) { return V{wasm_f32x4_sub(a.r, b.r)}; }
RK_INLINE V mul(V a, V b) { return V{wasm_f32x4_mul(a.r, b.r)}; }
RK_INLINE V div(V a, V b) { return V{wasm_f32x4_div(a.r, b.r)}; }
RK_INLINE V vsqrt(V a) { return V{wasm_f32x4_sqrt(a.r)}; }
// pmax/pmin (b < a ? a : b) map to one maxps/minps on x86 hosts; f32x4.max needs NaN
// fix-ups. Only used for clamping, where the NaN rules do not matter.
RK_INLINE V max(V a, V b) { return V{wasm_f32x4_pmax(a.r, b.r)}; }
RK_INLINE V min(V a, V b) { return V{wasm_f32x4_pmin(a.r, b.r)}; }
#ifdef __wasm_relaxed_simd__
// a·b + c and c − a·b: f32x4.relaxed_madd / relaxed_nmadd (standard opcodes 0x105 / 0x106).
// Called as the builtins behind wasm_f32x4_relaxed_madd / _nmadd, which LLVM 16's
// wasm_simd128.h does not declare yet.
RK_INLINE V fmadd(V a, V b, V c) {
  return V{(v128_t)__builtin_wasm_relaxed_madd_f32x4((__f32x4)a.r, (__f32x4)b.r, (__f32x4)c.r)};
}
RK_INLINE V fnmadd(V a, V b, V c) {
  return V{(v128_t)__builtin_wasm_relaxed_nmadd_f32x4((__f32x4)a.r, (__f32x4)b.r, (__f32x4)c.r)};
}
#else
RK_INLINE V fmadd(V a, V b, V c) { return V{wasm_f32x4_add(wasm_f32x4_mul(a.r, b.r), c.r)}; }
RK_INLINE V fnmadd(V a, V b, V c) { return V{wasm_f32x4_sub(c.r, wasm_f32x4_mul(a.r, b.r))}; }
#endif
RK_INLINE V vabs(V a) { return V{wasm_f32x4_abs(a.r)}; }
RK_INLINE V vround(V a) { return V{wasm_f32x4_nearest(a.r)}; }
// 2^n for integral n in [-126, 127]. Adding 1.5·2^23 puts n in the low mantissa bits
// (bits(n + 1.5·2^23) = bits(1.5·2^23) + n, whose low 9 bits are n's), and the shift by
// 23 drops the rest: three cheap ops, where i32x4.trunc_sat_f32x4_s is about seven x86
// instructions in V8 (NaN and overflow fix-ups). Same bits as the conversion.
RK_INLINE V vpow2n(V n) {
  const v128_t biased = wasm_f32x4_add(n.r, wasm_f32x4_splat(12582912.f));
  return V{wasm_i32x4_add(wasm_i32x4_shl(biased, 23), wasm_i32x4_splat(127 << 23))};
}
RK_INLINE V select_lt(V a, V b, V x, V y) { return V{wasm_v128_bitselect(x.r, y.r, wasm_f32x4_lt(a.r, b.r))}; }
RK_INLINE float hsum(V v) {
  return wasm_f32x4_extract_lane(v.r, 0) + wasm_f32x4_extract_lane(v.r, 1) +
         wasm_f32x4_extract_lane(v.r, 2) + wasm_f32x4_extract_lane(v.r, 3);
}
RK_INLINE bool any_eq(V a, V b) { return wasm_v128_any_true(wasm_f32x4_eq(a.r, b.r)); }

#include "simd/math.inc"

}  // namespace wasm
}  // namespace rk

#endif
