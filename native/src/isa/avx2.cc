// AVX2 + FMA kernels (compiled with -mavx2 -mfma; chosen only if cpuid says so).
#include "simd/f32-avx2.h"

namespace rk {
namespace avx2 {
// 6x16 tile: 12 ymm accumulators + 2 for B + 1 broadcast of the 16 registers.
constexpr int kMR = 6, kNR = 16;
// B micro-panel kKC x 16 floats = 16 KB (L1); A block kMC x kKC = 144 KB (L2).
constexpr int kKC = 256, kMC = 144;
constexpr int kChains = 8;  // 2 FMA ports x 4 cycles
constexpr int kRowPanels = 4;  // batch-1 row kernel: see gemm_row_panels (B=1 H=256 step: 23 -> 29 GFLOP/s)
}  // namespace avx2
}  // namespace rk

#define RK_ISA_NS avx2
#define RK_TABLE_FN rk_kernels_avx2
#include "isa/kernels.inc"
