// The portable path: one-lane vectors, baseline flags only (SSE2 on x86-64, which the
// compiler may use to vectorize these loops). Always built, always supported.
#include "simd/f32-scalar.h"

namespace rk {
namespace scalar {
constexpr int kMR = 4, kNR = 8;     // 32 scalar accumulators; the compiler maps rows to SSE
constexpr int kKC = 256, kMC = 128;  // kMC is a multiple of kMR
constexpr int kChains = 32;  // in floats: the compiler packs them into SSE registers
constexpr int kRowPanels = 1;  // batch-1 row kernel: single-panel tiles with interleaved k-steps
}  // namespace scalar
}  // namespace rk

#define RK_ISA_NS scalar
#define RK_TABLE_FN rk_kernels_scalar
#include "isa/kernels.inc"
