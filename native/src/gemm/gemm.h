// Single-precision matrix multiply used by every cell: the internal contract between the
// GEMM layer (native/src/gemm/, native/src/simd/) and the cells (native/src/cells/).
//
// Row-major throughout. op(X) is X or its transpose.
//   C[M][N] = op(A)[M][K] · op(B)[K][N] + beta · C        (beta is 0 or 1; any other
//                                                         value works, with one extra pass)
// C must not overlap A or B. M, N, K >= 0 (K == 0 gives beta · C).
// The recurrent product of every time step multiplies by the same matrix, so B can be
// packed once per call (PackedB) into the micro-kernel's panel layout and reused T times.
// Work is split over the shared thread pool (see threadpool.h) when large enough; with
// one thread every call runs on the caller's thread.
#ifndef RNNKIT_GEMM_H
#define RNNKIT_GEMM_H

#include <cstddef>
#include <new>
#include <vector>

namespace rk {

// 64-byte aligned storage for packed panels (whole cache lines, aligned vector loads).
template <class T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64)));
  }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t(64)); }
  template <class U>
  bool operator==(const AlignedAllocator<U>&) const { return true; }
  template <class U>
  bool operator!=(const AlignedAllocator<U>&) const { return false; }
};
using AlignedFloats = std::vector<float, AlignedAllocator<float>>;

enum class Trans { No, Yes };

// General form; packs internally. A is [M][K] (or [K][M] if transA), B is [K][N]
// (or [N][K] if transB), with leading dimensions lda, ldb, ldc.
void sgemm(Trans transA, Trans transB, int M, int N, int K,
           const float* A, int lda, const float* B, int ldb,
           float beta, float* C, int ldc);

// C[M][N] = op(A) · op(B) + bias: bias [N] added to every row, in the pass that writes C
// (no pass that first fills C with the bias and reads it back). The same sums, bit for
// bit, as C = bias then sgemm with beta 1.
void sgemm_bias(Trans transA, Trans transB, int M, int N, int K,
                const float* A, int lda, const float* B, int ldb,
                const float* bias, float* C, int ldc);

// Whether splitting a per-time-step piece of work over the threads pays on this machine
// (two vCPUs may share one core, other processes may hold the cores): measured on the
// calls themselves by measured_split below. Not atomic: work called from pool tasks never
// touches it, but two application threads must not use one at the same time.
struct SplitChoice {
  int rows = -1;            // batch rows the statistics are for
  unsigned calls = 0;       // calls since the statistics were reset
  double best_serial = 0;   // fastest time seen in the current exploration window
  double best_parallel = 0;
  bool parallel = true;     // the decision outside exploration windows
};

// Runs split() or serial() (which must compute the same results) for one per-time-step
// piece of work: every 2048 calls, 16 calls alternate the two and keep each one's fastest
// time; the split is then used only if it was at least 1.1x faster. Re-explores when
// `rows` changes.
void measured_split(SplitChoice& s, int rows, void (*split)(void*), void (*serial)(void*), void* ctx);

template <class Split, class Serial>
void measured_split(SplitChoice& s, int rows, Split&& split, Serial&& serial) {
  struct Both {
    Split& split;
    Serial& serial;
  } both{split, serial};
  measured_split(
      s, rows, [](void* c) { static_cast<Both*>(c)->split(); }, [](void* c) { static_cast<Both*>(c)->serial(); },
      &both);
}

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
  AlignedFloats data_;  // layout owned by gemm.cc
  // The kernel table whose panel layout data_ holds: sgemm_packed keeps using it even if
  // the ISA is forced to another one afterwards (results stay right; repack to switch).
  const void* table_ = nullptr;

 public:
  using SplitChoice = rk::SplitChoice;
  mutable SplitChoice split_;

  friend void packed_product(int, const float*, int, const PackedB&, float, const float*, float*, int, bool);
};

// C[M][N] = A[M][K] · packed + beta · C. A is never transposed here.
// Per-time-step use: with several threads each thread always takes the same columns, so
// its share of the packed matrix stays in its own L2 from one step to the next.
// reverse_columns (results identical either way): a single row (M == 1) streams the panels
// last to first. A time loop alternates it from step to step: a packed matrix a little
// larger than the L2 is then mostly read back from L2 (the panels used last are used
// first), where streaming it the same way each step misses on nearly every panel.
void sgemm_packed(int M, const float* A, int lda, const PackedB& B, float beta, float* C, int ldc,
                  bool reverse_columns = false);

// C[M][N] = A[M][K] · packed + bias: bias [N] added to every row in the pass that writes C,
// the same sums, bit for bit, as C = bias then sgemm_packed with beta 1 (see sgemm_bias).
void sgemm_packed_bias(int M, const float* A, int lda, const PackedB& B, const float* bias, float* C, int ldc,
                       bool reverse_columns = false);

}  // namespace rk

#endif
