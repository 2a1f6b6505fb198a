// WebAssembly SIMD kernels (compiled with -msimd128 by the wasm build).
#include "simd/f32-wasm.h"

namespace rk {
namespace wasm {
// 4x8 tile: 8 accumulators + 2 for B + 1 broadcast; engines map v128 onto 16 xmm
// registers on x86-64 hosts, so a larger tile would spill.
constexpr int kMR = 4, kNR = 8;
constexpr int kKC = 256, kMC = 128;
constexpr int kChains = 8;  // engines emit mul + add
constexpr int kRowPanels = 4;  // batch-1 row kernel: one broadcast per k for 4 panels (see gemm_row_panels)
}  // namespace wasm
}  // namespace rk

#define RK_ISA_NS wasm
#define RK_TABLE_FN rk_kernels_wasm
#include "isa/kernels.inc"
