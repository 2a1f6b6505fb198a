// WebAssembly SIMD kernels (compiled with -msimd128 by the wasm build).
#include "simd/f32-wasm.h"

namespace rk {
namespace wasm {
// 4x8 tile: 8 accumulators + 2 for B + 1 broadcast; engines map v128 onto 16 xmm
// registers on x86-64 hosts, so a larger tile would spill.
constexpr int kMR = 4, kNR = 8;
constexpr int kKC = 256, kMC = 128;
constexpr int kChains = 8;  // engines emit mul + add
// Batch-1 row kernel: one broadcast per k for 3 panels (see gemm_row_panels). 6
// accumulators leave V8 registers for the loads; at 4 panels it spills (13.9 against
// 15.6 GMAC/s for K = 256, N = 1024).
constexpr int kRowPanels = 3;
}  // namespace wasm
}  // namespace rk

#define RK_ISA_NS wasm
#define RK_TABLE_FN rk_kernels_wasm
#include "isa/kernels.inc"
