// Shared macros of the per-ISA vector headers (f32-*.h).
#ifndef RNNKIT_SIMD_COMMON_H
#define RNNKIT_SIMD_COMMON_H

#if defined(_MSC_VER) && !defined(__clang__)
#define RK_INLINE __forceinline
#define RK_NOINLINE __declspec(noinline)
#define RK_RESTRICT __restrict
#else
#define RK_INLINE inline __attribute__((always_inline))
#define RK_NOINLINE __attribute__((noinline))
#define RK_RESTRICT __restrict__
#endif

#endif
