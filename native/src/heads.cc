#include "heads.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "dispatch.h"
#include "gemm/gemm.h"

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
  // Rows start as the bias, then one GEMM adds y·Wᵀ over all N rows at once.
  for (int n = 0; n < N; n++) std::memcpy(z + static_cast<int64_t>(n) * C, b, sizeof(float) * C);
  sgemm(Trans::No, Trans::Yes, N, C, F, y, F, W, F, 1.0f, z, C);
}

void dense_backward(const float* y, const float* dz, int N, int F, const float* W, int C, float* dW, float* db,
                    float* dy) {
  sgemm(Trans::Yes, Trans::No, C, F, N, dz, C, y, F, 0.0f, dW, F);
  // Column sums in double: N can be large and the bias gradient is one long reduction.
  std::vector<double> acc(C, 0.0);
  for (int n = 0; n < N; n++) {
    const float* row = dz + static_cast<int64_t>(n) * C;
    for (int c = 0; c < C; c++) acc[c] += row[c];
  }
  for (int c = 0; c < C; c++) db[c] = static_cast<float>(acc[c]);
  if (dy != nullptr) sgemm(Trans::No, Trans::No, N, F, C, dz, C, W, F, 0.0f, dy, F);
}

LossOut softmax_cross_entropy(const LossRows& rows, float* z, int C, const int32_t* targets, int32_t ignore_index,
                              float* dz) {
  const int64_t N = static_cast<int64_t>(rows.T) * rows.B;
  auto counts = [&](int64_t n) { return targets[n] != ignore_index && rows.valid(n); };
  int64_t count = 0;
  for (int64_t n = 0; n < N; n++) count += counts(n) ? 1 : 0;
  LossOut out;
  out.count = static_cast<double>(count);
  // Without dz (evaluate) the exponentials go to a scratch row so that z stays intact.
  std::vector<float> scratch(dz == nullptr ? C : 0);
  const float inv = count > 0 ? static_cast<float>(1.0 / static_cast<double>(count)) : 0.0f;
  const KernelTable* k = kernels();
  double sum = 0;
  for (int64_t n = 0; n < N; n++) {
    float* zr = z + n * C;
    float* er = dz != nullptr ? dz + n * C : scratch.data();
    if (!counts(n)) {
      if (dz != nullptr) std::memset(er, 0, sizeof(float) * C);
      continue;
    }
    const int t = targets[n];
    float max = -std::numeric_limits<float>::infinity();
    int arg = 0;
    for (int c = 0; c < C; c++) {
      if (zr[c] > max) {  // the first maximum wins, as in the reference
        max = zr[c];
        arg = c;
      }
    }
    const float zt = zr[t];
    // Shifted by the row maximum so that no exponential overflows.
    for (int c = 0; c < C; c++) er[c] = zr[c] - max;
    k->vec_exp(er, er, C);
    double se = 0;
    for (int c = 0; c < C; c++) se += er[c];
    const double lse = static_cast<double>(max) + std::log(se);
    sum += lse - static_cast<double>(zt);
    if (arg == t) out.correct += 1;
    if (dz != nullptr) {
      const float scale = static_cast<float>(1.0 / se) * inv;
      for (int c = 0; c < C; c++) er[c] *= scale;
      er[t] -= inv;
    }
  }
  out.loss = count > 0 ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
  return out;
}

LossOut mean_squared_error(const LossRows& rows, float* z, int C, const float* target, const uint8_t* mask,
                           float* dz) {
  const int64_t N = static_cast<int64_t>(rows.T) * rows.B;
  auto counts = [&](int64_t n) { return (mask == nullptr || mask[n] == 1) && rows.valid(n); };
  int64_t positions = 0;
  for (int64_t n = 0; n < N; n++) positions += counts(n) ? 1 : 0;
  LossOut out;
  out.count = static_cast<double>(positions) * C;
  const float scale = positions > 0 ? static_cast<float>(2.0 / out.count) : 0.0f;
  double sum = 0;
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
  }
  out.loss = positions > 0 ? sum / out.count : std::numeric_limits<double>::quiet_NaN();
  return out;
}

}  // namespace rk
