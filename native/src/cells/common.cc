#include "cells/common.h"

#include <algorithm>

namespace rk {

TapeSizes tape_sizes(const StackDims& d, int64_t rows) {
  TapeSizes s{};
  const int64_t GH = static_cast<int64_t>(d.G) * d.H;
  s.gates = rows * GH;
  s.hprev = rows * d.S;
  const bool lstm = d.has_c;
  const bool gru = d.cell == RK_CELL_GRU || d.cell == RK_CELL_GRU_CHO;
  s.cprev = lstm ? rows * d.H : 0;
  s.cnew = lstm ? rows * d.H : 0;
  s.ctanh = lstm ? rows * d.H : 0;
  s.inner = gru ? rows * d.H : 0;
  s.ynew = d.cell == RK_CELL_JORDAN ? rows * d.O : 0;
  return s;
}

int64_t step_scratch_floats(const StackDims& d, int B) {
  const int64_t GH = static_cast<int64_t>(d.G) * d.H;
  const int64_t W = std::max(d.H, d.O);
  // forward: rec [B][GH], rec2 [B][W]; backward: dh ×2, dnew [B][S], dc ×2 [B][H], tmp [B][W]
  const int64_t fwd = B * (GH + W);
  const int64_t bwd = B * (3 * static_cast<int64_t>(d.S) + 2 * static_cast<int64_t>(d.H) + W);
  return std::max(fwd, bwd) + 8 * static_cast<int64_t>(kAlignFloats);
}

namespace cells {

void add_column_sums(std::size_t rows, int cols, const float* A, int lda, float* out) {
  for (std::size_t r = 0; r < rows; r++) {
    const float* a = A + r * lda;
    for (int c = 0; c < cols; c++) out[c] += a[c];
  }
}

void finish_step(const SeqShape& q, int t, int S, const float* hcur, float* hnext, int H, const float* ccur,
                 float* cnext, float* y, int ldy) {
  for (int b = 0; b < q.B; b++) {
    float* yrow = y + (static_cast<std::size_t>(t) * q.B + b) * ldy;
    if (q.valid(t, b)) {
      std::memcpy(yrow, hnext + static_cast<std::size_t>(b) * S, sizeof(float) * S);
    } else {
      std::memcpy(hnext + static_cast<std::size_t>(b) * S, hcur + static_cast<std::size_t>(b) * S, sizeof(float) * S);
      if (cnext != nullptr) {
        std::memcpy(cnext + static_cast<std::size_t>(b) * H, ccur + static_cast<std::size_t>(b) * H, sizeof(float) * H);
      }
      std::memset(yrow, 0, sizeof(float) * S);
    }
  }
}

void input_projection(std::size_t rows, int in, int N, const float* X, const float* W_ih, const float* b1,
                      const float* b2, int b2cols, Packs* packs, float* gates, bool reverse_columns) {
  if (!packs->ready) {
    packs->ih.pack(Trans::Yes, in, N, W_ih, in);
    packs->ih_bias.resize(static_cast<std::size_t>(N));
    for (int c = 0; c < N; c++) packs->ih_bias[c] = b1[c] + (b2 != nullptr && c < b2cols ? b2[c] : 0.0f);
  }
  sgemm_packed_bias(static_cast<int>(rows), X, in, packs->ih, packs->ih_bias.data(), gates, N, reverse_columns);
}

void input_grad(const BackwardArgs& a, int N, const float* da) {
  if (a.dx == nullptr) return;
  const int rows = static_cast<int>(rows_of(a.seq));
  sgemm(Trans::No, Trans::No, rows, a.in, N, da, N, a.w.weight_ih, a.in, a.dx_accumulate ? 1.0f : 0.0f, a.dx, a.in);
}

void plain_param_grads(const BackwardArgs& a, int N, int K, const float* da_ih, const float* da_hh) {
  const int rows = static_cast<int>(rows_of(a.seq));
  sgemm(Trans::Yes, Trans::No, N, a.in, rows, da_ih, N, a.x, a.in, 1.0f, a.g.weight_ih, a.in);
  sgemm(Trans::Yes, Trans::No, N, K, rows, da_hh, N, a.tape.hprev, K, 1.0f, a.g.weight_hh, K);
  if (da_ih == da_hh) {
    // Both biases get the same sums: add them up once (in the per-step scratch, free now).
    float* sums = a.step;
    std::memset(sums, 0, sizeof(float) * N);
    add_column_sums(rows, N, da_ih, N, sums);
    add_into(a.g.bias_ih, sums, N);
    add_into(a.g.bias_hh, sums, N);
  } else {
    add_column_sums(rows, N, da_ih, N, a.g.bias_ih);
    add_column_sums(rows, N, da_hh, N, a.g.bias_hh);
  }
  input_grad(a, N, da_ih);
}

}  // namespace cells
}  // namespace rk
