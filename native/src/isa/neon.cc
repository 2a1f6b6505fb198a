// AArch64 NEON kernels (NEON is baseline on arm64: no extra flags).
#include "simd/f32-neon.h"

namespace rk {
namespace neon {
// 8x12 tile: 24 q-register accumulators + 3 for B + broadcasts, of the 32 registers.
constexpr int kMR = 8, kNR = 12;
constexpr int kKC = 256, kMC = 128;  // kMC is a multiple of kMR
constexpr int kChains = 8;  // 4 FMA-capable pipes on big cores
constexpr int kRowPanels = 1;  // batch-1 row kernel: single-panel tiles with interleaved k-steps
}  // namespace neon
}  // namespace rk

#define RK_ISA_NS neon
#define RK_TABLE_FN rk_kernels_neon
#include "isa/kernels.inc"
