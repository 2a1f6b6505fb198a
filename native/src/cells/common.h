// Helpers shared by the cell files: time order, masking, bias broadcast, column sums and
// the scalar activation functions. Internal to native/src/cells.
#ifndef RNNKIT_CELLS_COMMON_H
#define RNNKIT_CELLS_COMMON_H

#include <cmath>
#include <cstdint>
#include <cstring>

#include "cells/cells.h"
#include "threadpool.h"
#include "workspace.h"

namespace rk {
namespace cells {

// Whether the s-th step's batch-1 products stream the packed weights last to first
// (sgemm_packed's reverse_columns): alternate steps, and alternate calls (a.flip), so that
// the part of the weights the previous product read last is read first, from L2.
inline bool reverse_step(const ForwardArgs& a, int s) { return ((s & 1) != 0) != a.flip; }

// Time index of the s-th step a direction processes.
inline int time_at(int s, int T, bool reverse) { return reverse ? T - 1 - s : s; }


inline std::size_t rows_of(const SeqShape& q) { return static_cast<std::size_t>(q.T) * q.B; }

// out[c] += Σ_r A[r][c].
void add_column_sums(std::size_t rows, int cols, const float* A, int lda, float* out);

// Pointwise work per time step below which waking the pool costs more than it saves
// (in "cost units", roughly floats touched).
constexpr int64_t kParallelRowsMin = 1 << 15;

// Runs fn(b0, b1) over the batch rows [0, B) of one time step: split over the thread pool
// when there are several threads and B·cost_per_row is large enough, else one call on the
// caller's thread (always so with one thread). fn must only write its own rows;
// cost_per_row 0 forces the single call (e.g. when rows accumulate into shared sums).
template <class F>
void for_rows(int B, int64_t cost_per_row, F&& fn) {
  const int nt = threads();
  if (nt <= 1 || B < 2 || cost_per_row <= 0 || static_cast<int64_t>(B) * cost_per_row < kParallelRowsMin) {
    fn(0, B);
    return;
  }
  const int tasks = nt < B ? nt : B;
  parallel_for(tasks, [&](int task, int) {
    const int b0 = static_cast<int>(static_cast<int64_t>(B) * task / tasks);
    const int b1 = static_cast<int>(static_cast<int64_t>(B) * (task + 1) / tasks);
    fn(b0, b1);
  });
}

// out[i] += v[i].
inline void add_into(float* out, const float* v, int n) {
  for (int i = 0; i < n; i++) out[i] += v[i];
}

// After a step computed h' for every row into hnext (and c' into cnext): rows that are
// padding at time t take back the held state, and every row's output is written (h' when
// valid, 0 when padding). cnext/ccur may be null.
void finish_step(const SeqShape& q, int t, int S, const float* hcur, float* hnext, int H, const float* ccur,
                 float* cnext, float* y, int ldy);

// Input projection of a whole sequence: gates[r] = X[r]·W_ihᵀ + b1 + b2 for r < T·B (b2 may
// be null, or cover only its first b2cols columns), the biases added by the GEMM as it writes
// each panel (no pass that fills gates with them first: at batch 64 that was 32 MB per layer
// written on one thread, then read back). W_ihᵀ and the summed biases are kept in packs
// (packs->ih, packs->ih_bias) unless packs->ready.
void input_projection(std::size_t rows, int in, int N, const float* X, const float* W_ih, const float* b1,
                      const float* b2, int b2cols, Packs* packs, float* gates, bool reverse_columns);

// The parameter gradients and dx of one direction once its gate gradients are known:
//   dW_ih += da_ihᵀ·X, dW_hh += da_hhᵀ·Hprev (one GEMM each over all T·B rows),
//   b_ih += Σ da_ih, b_hh += Σ da_hh, dx (=|+=) da_ih·W_ih.
// `N` is the number of gate columns (G·H), `K` the width of Hprev (H).
void plain_param_grads(const BackwardArgs& a, int N, int K, const float* da_ih, const float* da_hh);

// dx (=|+=) da·W_ih for rows T·B, da [T·B][N].
void input_grad(const BackwardArgs& a, int N, const float* da);

}  // namespace cells
}  // namespace rk

#endif
