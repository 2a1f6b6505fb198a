// Runtime ISA dispatch: one table of kernel function pointers per instruction set.
//
// HOW THE KERNELS ARE BUILT
//   * native/src/simd/f32-<isa>.h defines, inside namespace rk::<isa>, the one vector
//     vocabulary (struct V, kW lanes, load/store/tail, arithmetic, vexp/vsigmoid/vtanh).
//   * Kernel bodies are written ONCE against that vocabulary in .inc files (no
//     namespace, no #include of system headers inside them): native/src/gemm/*.inc, and
//     the cells' elementwise kernels in native/src/cells/*.inc.
//   * native/src/isa/<isa>.cc is a tiny translation unit compiled with that ISA's flags
//     (native/sources.json): it includes the vector header, then
//     native/src/isa/kernels.inc, which opens namespace rk::<isa>, includes every body
//     and defines `const rk::KernelTable* rk::rk_kernels_<isa>()`. Distinct namespaces
//     per ISA keep the differently compiled inline functions apart for the linker.
//   * dispatch.cc picks one table at first use (cpuid; RNNKIT_ISA env var; rk_force_isa)
//     and kernels() returns it. Common code (compiled without AVX flags) only ever calls
//     SIMD code through this table.
//
// HOW TO ADD A KERNEL (e.g. a fused LSTM pointwise forward)
//   1. Add a function-pointer field to KernelTable below, in the "cells" section, with a
//      comment giving its contract (shapes, aliasing, tails). Plain C types only.
//   2. Write the body once in an .inc file under native/src/cells/, using V / kW / load /
//      fmadd / vsigmoid ... (full API and error bounds: simd/f32-scalar.h, simd/math.inc).
//      Handle any length: full vectors, then one load_tail/store_tail for the remainder.
//      No namespace and no #include of system headers inside it (it is included inside
//      namespace rk::<isa>), and no std:: templates (std::min, std::vector, lambdas given
//      to shared templates): an inline function instantiated in an AVX translation unit
//      can be kept by the linker for the whole program and crash CPUs without AVX.
//   3. native/src/cells/kernels.inc (yours) includes those bodies and defines
//        static void fill_cell_kernels(KernelTable& t) { t.lstm_forward = lstm_forward; ... }
//      isa/kernels.inc includes it automatically (__has_include) for every ISA, and calls
//      it; no per-ISA copy and no edit of the ISA files.
//   4. Call it from common code as rk::kernels()->your_field(...).
//   Test every field on every ISA (force each one: rk::force_isa / RNNKIT_ISA).
#ifndef RNNKIT_DISPATCH_H
#define RNNKIT_DISPATCH_H

#include <cstddef>

namespace rk {

// The constants of one Adam / AdamW step (optim.cc fills them): per element,
//   g' = clamp(g, ±limit) (when clamp) · scale;  d = g' + l2·p;  p' = p·decay
//   m = β1·m + (1 − β1)·d;  v = β2·v + (1 − β2)·d·d
//   p = p' − step_size·m / (√v · inv_bc2 + eps)
struct AdamStep {
  int clamp;
  float limit, scale, l2, decay, beta1, beta2, step_size, inv_bc2, eps;
};

struct KernelTable {
  const char* name;  // "scalar", "avx2", "avx512", "neon", "wasm-simd128"
  int vec_width;     // floats per vector register of this ISA

  // ---- GEMM (owned by native/src/gemm) ---------------------------------------------
  // Micro-kernel tile: MR rows of A by NR columns of B.
  int gemm_mr, gemm_nr;
  // Blocking sizes: KC (depth per pass), MC (rows of A per packed block, multiple of MR).
  int gemm_kc, gemm_mc;
  // Pack op(A)[i0..i0+mc)[p0..p0+kc) into row panels of MR: panel r holds, for each k,
  // MR consecutive values (rows past mc are zero). trans != 0 means A is stored [K][M].
  void (*gemm_pack_a)(int trans, const float* A, int lda, int i0, int mc, int p0, int kc,
                      float* dst);
  // Pack op(B)[p0..p0+kc)[j0..j0+nc) into column panels of NR: panel q holds, for each k,
  // NR consecutive values (columns past nc are zero); panels are panel_stride floats
  // apart (>= kc*NR). trans != 0 means B is stored [N][K].
  void (*gemm_pack_b)(int trans, const float* B, int ldb, int p0, int kc, int j0, int nc,
                      float* dst, std::ptrdiff_t panel_stride);
  // C[mc][nc] (= or +=) packedA[mc][kc] · panels[kc][nc]. beta is 0 or 1. Handles any
  // mc, nc >= 1 (edge tiles). Panels are panel_stride floats apart. bias (nc floats, or
  // null; only with beta == 0) is added to every row, as if C had held it with beta 1.
  void (*gemm_macro)(int mc, int nc, int kc, const float* Ap, const float* Bp,
                     std::ptrdiff_t panel_stride, float beta, const float* bias, float* C, int ldc);
  // One row: c[nc] (= or +=) a[kc] · panels[kc][nc]; a contiguous. Memory-bound path
  // for batch 1: streams the panels once with several accumulators. `reverse` streams
  // them last to first (the same sums): alternating it from step to step starts each
  // step on the panels the previous one left in cache.
  void (*gemm_row)(int nc, int kc, const float* a, const float* Bp,
                   std::ptrdiff_t panel_stride, float beta, float* c, bool reverse);

  // ---- elementwise math (owned by native/src/gemm; used by tests and anyone) --------
  // y[i] = f(x[i]) for i < n, with the vector approximations of this ISA. x == y allowed.
  void (*vec_exp)(const float* x, float* y, std::ptrdiff_t n);
  void (*vec_sigmoid)(const float* x, float* y, std::ptrdiff_t n);
  void (*vec_tanh)(const float* x, float* y, std::ptrdiff_t n);
  // The softmax of one row (heads.cc), in three passes over a row that stays in cache:
  // row_max: the largest of x[0, n) (n >= 1), or NaN when any x is NaN or infinite.
  float (*row_max)(const float* x, std::ptrdiff_t n);
  // The first i < n with x[i] == value, or n (where the row's maximum is: its argmax).
  std::ptrdiff_t (*first_equal)(const float* x, std::ptrdiff_t n, float value);
  // y[i] = e^(x[i] - shift) (vexp); returns the sum of the y[i] (float partial sums over
  // blocks of 512, added in double). x == y allowed.
  double (*exp_shift_sum)(const float* x, float shift, float* y, std::ptrdiff_t n);
  // x[i] *= s; with acc non-null, also acc[i] += x[i] (the scaled x[i]) in the same pass
  // (the softmax's column sums of dz, a row at a time while it is in cache).
  void (*vec_scale)(float* x, float s, float* acc, std::ptrdiff_t n);

  // ---- optimizer (bodies: native/src/optim_kernels.inc; formulas: optim.cc) ---------
  // Σ c(x[i])², c clamping to [-limit, limit] when limit > 0 (else the identity): float
  // partial sums over blocks of 256, the blocks added in double.
  double (*sum_squares)(const float* x, std::ptrdiff_t n, float limit);
  // Adam / AdamW on n elements (torch's single-tensor update; see AdamStep): p, m, v
  // updated in place from g. Moments below FLT_MIN in magnitude are stored as 0.
  void (*adam_update)(const AdamStep* s, float* p, const float* g, float* m, float* v, std::ptrdiff_t n);

  // ---- cells (owned by native/src/cells; add fields here, see HOW TO ADD above) -----
  // Bodies: native/src/cells/kernels.inc. All act on ONE batch row of one time step; H is
  // the hidden size; gate rows hold G blocks of H in PyTorch's order. Output arrays never
  // overlap inputs unless stated.
  //
  // LSTM forward of H hidden units. g: in, the input projection plus both biases (i f g
  // o blocks of H, ldg floats apart); out, the activations i, f, g, o. rec = h·W_hhᵀ in
  // the same block order, blocks ldr apart. (A whole row: ldg = ldr = H; a slice of the
  // units, lstm.cc: H its width, ldg the row's H, ldr the slice's width.) c [H] the
  // previous cell state. pi, pf, po [H] peepholes (lstm_peephole) or all null. Writes c'
  // to cnew and cnext, tanh(c') to ctanh, h' to h (all [H]).
  void (*lstm_forward_row)(int H, int ldg, int ldr, float* g, const float* rec, const float* c,
                           const float* pi, const float* pf, const float* po, float* cnew,
                           float* ctanh, float* h, float* cnext);
  // LSTM backward of a valid step. g [4H] activations, c, cnew, ctanh [H] from forward;
  // dh [H] gradient of h' from the later step, dy [H] of the step's output, dc [H] of c'.
  // Writes da [4H] (gradients of the i f g o pre-activations) and dcprev [H]; with
  // peepholes (pi, pf, po non-null) ADDS into gpi, gpf, gpo [H].
  void (*lstm_backward_row)(int H, const float* g, const float* c, const float* cnew,
                            const float* ctanh, const float* dh, const float* dy, const float* dc,
                            const float* pi, const float* pf, const float* po, float* gpi,
                            float* gpf, float* gpo, float* da, float* dcprev);
  // GRU (linear-before-reset) forward. g [3H]: in, the input projection plus b_ih and the
  // r, z blocks of b_hh; out, r, z, n. rec [3H] = h·W_hhᵀ, bhn [H] the n block of b_hh,
  // hc [H] the previous state. Writes inner = rec_n + b_hn [H] and h' [H].
  void (*gru_forward_row)(int H, float* g, const float* rec, const float* bhn, const float* hc,
                          float* inner, float* h);
  // GRU backward of a valid step. g [3H] = r z n, inner [H], hc [H] previous state, dh and
  // dy [H] as for LSTM. Writes dai [3H] (input-side pre-activation gradients), dah [3H]
  // (recurrent side: n block times r) and dhprev [H] = direct part (dh + dy)·z.
  void (*gru_backward_row)(int H, const float* g, const float* inner, const float* hc,
                           const float* dh, const float* dy, float* dai, float* dah, float* dhprev);
  // gru_cho forward, first half: g[0, 2H) = σ(g + rec) (rec [2H]), inner [H] = r·hc.
  void (*gru_cho_gates_row)(int H, float* g, const float* rec, const float* hc, float* inner);
  // gru_cho forward, second half: n = tanh(g[2H, 3H) + recn) stored in g, h' [H] written.
  void (*gru_cho_update_row)(int H, float* g, const float* recn, const float* hc, float* h);
  // gru_cho backward, first half: da[H, 3H) = z and n pre-activation gradients;
  // dhprev [H] = (dh + dy)·z.
  void (*gru_cho_backward1_row)(int H, const float* g, const float* hc, const float* dh,
                                const float* dy, float* da, float* dhprev);
  // gru_cho backward, second half, given dinner = dL/d(r·h) [H]: da[0, H) = r gradient;
  // dhprev += dinner·r.
  void (*gru_cho_backward2_row)(int H, const float* g, const float* hc, const float* dinner,
                                float* da, float* dhprev);
  // n values: g = h = act(g + rec), act = relu if relu != 0 else tanh. h == g allowed.
  void (*act_add_rows)(std::ptrdiff_t n, int relu, float* g, const float* rec, float* h);
  // n values: da = (dh + dy)·act'(y) from the activation's output y (dy may be null).
  // da == dh allowed.
  void (*act_grad_row)(int n, int relu, const float* y, const float* dh, const float* dy,
                       float* da);
  // n values: y1 = y2 = tanh(x + b).
  void (*tanh_bias_row)(int n, const float* x, const float* b, float* y1, float* y2);
};

// The table in use (chosen at first call; thread-safe).
const KernelTable* kernels();

// The per-ISA tables. Each is defined only on targets that build its isa/<isa>.cc (see
// native/sources.json); dispatch.cc references only those. Use kernels() instead.
const KernelTable* rk_kernels_scalar();
const KernelTable* rk_kernels_avx2();
const KernelTable* rk_kernels_avx512();
const KernelTable* rk_kernels_neon();
const KernelTable* rk_kernels_wasm();

// Whether this CPU (and OS) can run the named ISA's table.
bool isa_supported(const char* name);
// Force a table by name; false if unknown, not built, or unsupported by this CPU.
bool force_isa(const char* name);

}  // namespace rk

#endif
