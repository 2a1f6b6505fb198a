// Single-precision matrix multiply used by every cell: the internal contract between the
// GEMM layer (native/src/gemm/, native/src/simd/) and the cells (native/src/cells/).
//
// Row-major throughout. op(X) is X or its transpose.
//   C[M][N] = op(A)[M][K] · op(B)[K][N] + beta · C        (beta is 0 or 1)
// The recurrent product of every time step multiplies by the same matrix, so B can be
// packed once per call (PackedB) into the micro-kernel's panel layout and reused T times.
// Work is split over the shared thread pool (see threadpool.h) when large enough; with
// one thread every call runs on the caller's thread.
#ifndef RNNKIT_GEMM_H
#define RNNKIT_GEMM_H

#include <cstddef>
#include <vector>

namespace rk {

enum class Trans { No, Yes };

// General form; packs internally. A is [M][K] (or [K][M] if transA), B is [K][N]
// (or [N][K] if transB), with leading dimensions lda, ldb, ldc.
void sgemm(Trans transA, Trans transB, int M, int N, int K,
           const float* A, int lda, const float* B, int ldb,
           float beta, float* C, int ldc);

// op(B) [K][N] packed once into the panel layout of the current ISA's micro-kernel.
class PackedB {
 public:
  PackedB() = default;
  void pack(Trans transB, int K, int N, const float* B, int ldb);
  int K() const { return K_; }
  int N() const { return N_; }
  const float* data() const { return data_.data(); }

 private:
  int K_ = 0, N_ = 0;
  std::vector<float> data_;  // layout owned by gemm.cc; rebuilt if the ISA changes
  friend void sgemm_packed(int, const float*, int, const PackedB&, float, float*, int);
};

// C[M][N] = A[M][K] · packed + beta · C. A is never transposed here.
void sgemm_packed(int M, const float* A, int lda, const PackedB& B, float beta, float* C, int ldc);

}  // namespace rk

#endif
