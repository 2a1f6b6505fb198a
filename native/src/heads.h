// The layers around the recurrent stack of a training model (see model.h): the input layer
// (embedding gather and its gradient's scatter-add, one-hot encoding), the dense head as
// whole-window GEMMs over all N = T·B rows, and the losses (softmax cross-entropy with an
// ignore index, MSE). Formulas: shared/golden/README.md "Training-step cases"; the float64
// specification is src/backend/reference/training/ (embedding.ts, head.ts, loss.ts).
//
// Arguments are validated by the caller (model.cc); ids are in range here.
#ifndef RNNKIT_HEADS_H
#define RNNKIT_HEADS_H

#include <cstdint>

namespace rk {

// Input rows are `stride` floats apart (stride >= their width): a conditioning vector may
// follow each row (append_condition).

// x[n][0, E) = table[tokens[n]] for n < N; table [V][E].
void embedding_gather(const float* table, int E, int stride, const int32_t* tokens, int64_t N, float* x);

// dtable[tokens[n]] += dx[n][0, E) for n < N (dense gradient: rows of absent tokens unchanged).
void embedding_scatter_add(const float* dx, int E, int stride, const int32_t* tokens, int64_t N, float* dtable);

// x[n][0, V) = one-hot(tokens[n]).
void onehot_encode(const int32_t* tokens, int V, int stride, int64_t N, float* x);

// x[n][0, width) = src[n] (src rows packed).
void copy_rows(const float* src, int width, int stride, int64_t N, float* x);

// x[n][at, at + K) = condition[n mod B] for n < N (time-major rows: n = t·B + b).
void append_condition(const float* condition, int K, int B, int at, int stride, int64_t N, float* x);

// z[N][C] = y[N][F] · Wᵀ + b; W [C][F], b [C]. One GEMM over all rows.
void dense_forward(const float* y, int N, int F, const float* W, const float* b, int C, float* z);

// dW[C][F] = dzᵀ·y (OVERWRITTEN), dy[N][F] = dz·W (skipped when dy is null). The bias
// gradient Σ_n dz[n] comes from the loss, which sums dz's columns while it writes them.
void dense_backward(const float* y, const float* dz, int N, int F, const float* W, int C, float* dW, float* dy);

// Which positions exist: t < lengths[b] (lengths may be null: all). n = t·B + b.
struct LossRows {
  int T = 0, B = 0;
  const int32_t* lengths = nullptr;
  bool valid(int64_t n) const { return lengths == nullptr || n / B < lengths[n % B]; }
};

struct LossOut {
  double loss = 0;   // mean over the counted positions (NaN when none)
  double count = 0;  // positions (cross-entropy) or positions × C (MSE)
  double correct = 0;
};

// Where a loss that writes dz also puts dz's column sums Σ_n dz[n] (the head's bias
// gradient): sums [C], or nothing when null. scratch: softmax_sums_scratch(N, C) floats.
struct ColumnSums {
  float* sums = nullptr;
  float* scratch = nullptr;
};

// Softmax cross-entropy over logits z [N][C] (N = T·B), counting valid positions whose
// target is not ignore_index. When dz is non-null it receives ∂loss/∂z (0 on positions that
// do not count); dz may equal z (in place), and cols (if set) its column sums: each task's
// rows (a fixed number, in row order) summed in float while in cache, the tasks' sums then
// added in double in task order -- one result at every thread count. Without dz, z is left
// unchanged.
LossOut softmax_cross_entropy(const LossRows& rows, float* z, int C, const int32_t* targets, int32_t ignore_index,
                              float* dz, ColumnSums cols);
int64_t softmax_sums_scratch(int64_t N, int C);

// Mean squared error against target [N][C] over valid positions with mask[n] == 1 (mask
// may be null: all); dz as above (may equal z); dz_sums [C] (may be null) receives dz's
// column sums, in double in row order.
LossOut mean_squared_error(const LossRows& rows, float* z, int C, const float* target, const uint8_t* mask,
                           float* dz, float* dz_sums);

}  // namespace rk

#endif
