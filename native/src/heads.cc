#include "heads.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "dispatch.h"
#include "host_math.h"
#include "gemm/gemm.h"
#include "threadpool.h"

namespace rk {

void embedding_gather(const float* table, int E, int stride, const int32_t* tokens, int64_t N, float* x) {
  for (int64_t n = 0; n < N; n++) std::memcpy(x + n * stride, table + static_cast<int64_t>(tokens[n]) * E, sizeof(float) * E);
}

void embedding_scatter_add(const float* dx, int E, int stride, const int32_t* tokens, int64_t N, float* dtable) {
  for (int64_t n = 0; n < N; n++) {
    float* row = dtable + static_cast<int64_t>(tokens[n]) * E;
    const float* d = dx + n * stride;
    for (int e = 0; e < E; e++) row[e] += d[e];
  }
}

void onehot_encode(const int32_t* tokens, int V, int stride, int64_t N, float* x) {
  for (int64_t n = 0; n < N; n++) {
    std::memset(x + n * stride, 0, sizeof(float) * V);
    x[n * stride + tokens[n]] = 1.0f;
  }
}

void copy_rows(const float* src, int width, int stride, int64_t N, float* x) {
  for (int64_t n = 0; n < N; n++) std::memcpy(x + n * stride, src + n * width, sizeof(float) * width);
}

void append_condition(const float* condition, int K, int B, int at, int stride, int64_t N, float* x) {
  for (int64_t n = 0; n < N; n++) std::memcpy(x + n * stride + at, condition + (n % B) * K, sizeof(float) * K);
}

void dense_forward(const float* y, int N, int F, const float* W, const float* b, int C, float* z) {
  // One GEMM over all N rows, the bias added as each tile is written (z is never read).
  sgemm_bias(Trans::No, Trans::Yes, N, C, F, y, F, W, F, b, z, C);
}

void dense_backward(const float* y, const float* dz, int N, int F, const float* W, int C, float* dW, float* dy) {
  sgemm(Trans::Yes, Trans::No, C, F, N, dz, C, y, F, 0.0f, dW, F);
  if (dy != nullptr) sgemm(Trans::No, Trans::No, N, F, C, dz, C, W, F, 0.0f, dy, F);
}

namespace {

// Rows per task of the softmax: enough that a task amortises claiming it, few enough that
// two threads share a window of a few hundred rows evenly. Also the rows of one float
// partial column sum of dz (ColumnSums).
constexpr int64_t kSoftmaxRowsPerTask = 16;

int64_t softmax_tasks(int64_t N) { return (N + kSoftmaxRowsPerTask - 1) / kSoftmaxRowsPerTask; }

// sums[c] = Σ_task partial[task][c], in double in task order; blocks of columns on every
// thread. (Summing dz's columns here, from the task partials, instead of from dz after
// the loss saves a pass over [N][C] floats: 93 MB per step at 33k words, from DRAM.)
void add_partials(const float* partial, int64_t tasks, int C, float* sums) {
  constexpr int kColumns = 1024;
  parallel_for((C + kColumns - 1) / kColumns, [&](int block, int) {
    const int c0 = block * kColumns, c1 = std::min(C, c0 + kColumns);
    double acc[kColumns] = {};
    for (int64_t t = 0; t < tasks; t++) {
      const float* row = partial + t * C;
      for (int c = c0; c < c1; c++) acc[c - c0] += row[c];
    }
    for (int c = c0; c < c1; c++) sums[c] = static_cast<float>(acc[c - c0]);
  });
}

// One counted row: its loss lse − z[t], whether its first maximum is the target, and (grad)
// ∂loss/∂z = softmax · inv − inv at the target, added to `partial` too when it is non-null.
// er receives the exponentials: dz itself, or a scratch row (then z is left intact).
double softmax_row(const KernelTable* k, const float* zr, int C, int t, float inv, float* er, bool grad,
                   float* partial, bool* correct) {
  const float max = k->row_max(zr, C);
  const float zt = zr[t];
  if (!std::isfinite(max)) {
    // A NaN or infinite logit: the loss is NaN and so is the gradient, so that the step's
    // norm is not finite and no update is made (no silent clamp inside the exponential).
    if (grad) {
      std::fill(er, er + C, std::numeric_limits<float>::quiet_NaN());
      // ...and so are the column sums this row is part of (the bias gradient).
      if (partial != nullptr) std::fill(partial, partial + C, std::numeric_limits<float>::quiet_NaN());
    }
    *correct = false;
    return std::numeric_limits<double>::quiet_NaN();
  }
  *correct = k->first_equal(zr, C, max) == t;  // the first maximum wins, as in the reference
  // Shifted by the row maximum so that no exponential overflows.
  const double se = k->exp_shift_sum(zr, max, er, C);
  if (grad) {
    // partial[t] gets the target's final value: added below, after the −inv.
    const float partial_t = partial != nullptr ? partial[t] : 0.0f;
    k->vec_scale(er, static_cast<float>(1.0 / se) * inv, partial, C);
    er[t] -= inv;
    if (partial != nullptr) partial[t] = partial_t + er[t];
  }
  return static_cast<double>(max) + host_log(se) - static_cast<double>(zt);
}

}  // namespace

int64_t softmax_sums_scratch(int64_t N, int C) { return softmax_tasks(N) * C; }

LossOut softmax_cross_entropy(const LossRows& rows, float* z, int C, const int32_t* targets, int32_t ignore_index,
                              float* dz, ColumnSums cols) {
  const int64_t N = static_cast<int64_t>(rows.T) * rows.B;
  auto counts = [&](int64_t n) { return targets[n] != ignore_index && rows.valid(n); };
  int64_t count = 0;
  for (int64_t n = 0; n < N; n++) count += counts(n) ? 1 : 0;
  LossOut out;
  out.count = static_cast<double>(count);
  const float inv = count > 0 ? static_cast<float>(1.0 / static_cast<double>(count)) : 0.0f;
  const KernelTable* k = kernels();
  // Rows are independent: tasks of rows on every thread, each row's loss kept apart and
  // summed in row order afterwards, so the result does not depend on the thread count.
  std::vector<double> row_loss(static_cast<size_t>(N), 0.0);
  std::vector<uint8_t> row_correct(static_cast<size_t>(N), 0);
  // Without dz (evaluate) the exponentials go to a scratch row per thread.
  std::vector<float> scratch(dz == nullptr ? static_cast<size_t>(threads()) * C : 0);
  const int64_t tasks = softmax_tasks(N);
  const bool sum_columns = dz != nullptr && cols.sums != nullptr;
  parallel_for(static_cast<int>(tasks), [&](int task, int worker) {
    const int64_t n1 = std::min(N, (task + 1) * kSoftmaxRowsPerTask);
    float* partial = sum_columns ? cols.scratch + static_cast<int64_t>(task) * C : nullptr;
    if (partial != nullptr) std::memset(partial, 0, sizeof(float) * C);
    for (int64_t n = task * kSoftmaxRowsPerTask; n < n1; n++) {
      float* er = dz != nullptr ? dz + n * C : scratch.data() + static_cast<size_t>(worker) * C;
      if (!counts(n)) {
        if (dz != nullptr) std::memset(er, 0, sizeof(float) * C);
        continue;
      }
      bool correct = false;
      row_loss[n] = softmax_row(k, z + n * C, C, targets[n], inv, er, dz != nullptr, partial, &correct);
      row_correct[n] = correct ? 1 : 0;
    }
  });
  if (sum_columns) add_partials(cols.scratch, tasks, C, cols.sums);
  double sum = 0;
  for (int64_t n = 0; n < N; n++) {
    sum += row_loss[n];
    out.correct += row_correct[n];
  }
  out.loss = count > 0 ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
  return out;
}

LossOut mean_squared_error(const LossRows& rows, float* z, int C, const float* target, const uint8_t* mask,
                           float* dz, float* dz_sums) {
  const int64_t N = static_cast<int64_t>(rows.T) * rows.B;
  auto counts = [&](int64_t n) { return (mask == nullptr || mask[n] == 1) && rows.valid(n); };
  int64_t positions = 0;
  for (int64_t n = 0; n < N; n++) positions += counts(n) ? 1 : 0;
  LossOut out;
  out.count = static_cast<double>(positions) * C;
  const float scale = positions > 0 ? static_cast<float>(2.0 / out.count) : 0.0f;
  double sum = 0;
  std::vector<double> col(dz != nullptr && dz_sums != nullptr ? static_cast<size_t>(C) : 0, 0.0);
  for (int64_t n = 0; n < N; n++) {
    float* zr = z + n * C;
    const float* tr = target + n * C;
    if (!counts(n)) {
      if (dz != nullptr) std::memset(dz + n * C, 0, sizeof(float) * C);
      continue;
    }
    for (int c = 0; c < C; c++) {
      const float d = zr[c] - tr[c];
      sum += static_cast<double>(d) * d;
      if (dz != nullptr) dz[n * C + c] = scale * d;
    }
    if (!col.empty()) {
      for (int c = 0; c < C; c++) col[c] += dz[n * C + c];
    }
  }
  for (size_t c = 0; c < col.size(); c++) dz_sums[c] = static_cast<float>(col[c]);
  out.loss = positions > 0 ? sum / out.count : std::numeric_limits<double>::quiet_NaN();
  return out;
}

}  // namespace rk
