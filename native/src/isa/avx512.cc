// AVX-512F kernels (compiled with -mavx512f -mavx512vl -mavx512dq -mavx2 -mfma).
// GCC 12 reports its own AVX-512 intrinsics (`__m512 __Y = __Y;`) as maybe-uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "simd/f32-avx512.h"

namespace rk {
namespace avx512 {
// 12x32 tile: 24 zmm accumulators + 2 for B + broadcasts, of the 32 registers.
constexpr int kMR = 12, kNR = 32;
// B micro-panel kKC x 32 floats = 24 KB (L1); A block kMC x kKC = 144 KB (L2).
constexpr int kKC = 192, kMC = 192;
constexpr int kChains = 8;  // 4-cycle FMA, 2 ports (Intel) or one 512-bit op per cycle (Zen 4)
constexpr int kRowPanels = 4;  // batch-1 row kernel: see gemm_row_panels (B=1 H=256 step: 26-35 -> 36-38 GFLOP/s)
}  // namespace avx512
}  // namespace rk

#define RK_ISA_NS avx512
#define RK_TABLE_FN rk_kernels_avx512
#include "isa/kernels.inc"
