// GEMM driver: blocking, packing calls and the split over threads. The arithmetic lives
// in the per-ISA kernels (microkernel.inc, pack.inc through dispatch.h's KernelTable);
// this file is compiled with baseline flags only.
//
// Loop nest of one thread, over its own range of columns [j0, j1) (and rows [i0, i1)):
//   for jc in columns by NC            (unpacked B only: bounds the packing buffer)
//     for pc in K by KC                (beta applies on the first pass, then +=)
//       pack op(B)[pc..][jc..] into NR-column panels   (or point into a PackedB)
//       M == 1: one row kernel streams the panels once
//       else for ic in rows by MC: pack op(A)[ic..][pc..] into MR-row panels, macro kernel
// Threads: per-time-step products (PackedB, few rows) split the columns, one pinned task
// per thread, so that each core keeps the same share of the weights in its L2 across
// steps. Larger products run as a grid of row x column tasks handed out dynamically;
// each task packs the A rows and B columns it uses, so no barrier is needed.
#include "gemm/gemm.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "dispatch.h"
#include "threadpool.h"

namespace rk {
namespace {

// Work (multiply-adds) below which splitting over threads costs more than it saves: a
// job costs the caller ~1 us (publishing, waiting for the last task) and ~5-50 us when a
// worker has gone to sleep; 160k multiply-adds take ~4 us on one AVX2 core. The batch-1
// recurrent product at H = 256 (262k) is split, at H = 128 (65k) it is not.
constexpr double kParallelMinMacs = 160.0 * 1024;
// Columns per packed block of an unpacked B (multiple of every NR).
constexpr int kNC = 2048;
// Products with a PackedB and at most this many rows (batch) are per-time-step products:
// split by columns, one pinned task per thread.
constexpr int kPinnedMaxRows = 128;
constexpr int kPinnedTasksPerThread = 2;
constexpr int kMaxPinnedTasks = 32;  // the pool pins at most 32 tasks per job
// Other parallel products: tasks per thread, and the fewest MR-row panels per task (so a
// task's A block amortises packing its B columns).
constexpr int kTasksPerThread = 4;
constexpr int kMinRowPanelsPerTask = 8;

// Per-thread packing buffers: grown on first use (zero-filled), then reused (no allocation
// per call).
#if defined(RNNKIT_WASM_THREADS)
// Plain storage, never freed, in the threaded wasm build: there a thread_local with a
// destructor is registered through __cxa_thread_atexit, whose one-time set-up is guarded by
// libc++abi's static-initialisation guard, and over the standalone libc's pthread stubs that
// guard has no lock. A worker that waits on it spins rewriting the guard byte, undoes the
// initialising thread's release and waits forever: a 2-thread forward hung whenever the
// pool's worker met its first GEMM while the caller met its own. The module's workers never
// exit, so nothing is lost.
struct Scratch {
  float* data = nullptr;
  std::size_t size = 0;
};
float* scratch(Scratch& s, std::size_t n) {
  if (s.size < n) {
    ::operator delete(s.data, std::align_val_t(64));
    s.data = nullptr;
    s.size = 0;
    s.data = static_cast<float*>(::operator new(n * sizeof(float), std::align_val_t(64)));
    std::memset(s.data, 0, n * sizeof(float));
    s.size = n;
  }
  return s.data;
}
#else
using Scratch = AlignedFloats;
float* scratch(Scratch& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}
#endif
thread_local Scratch t_pack_a, t_pack_b, t_row, t_prepacked_a;

struct Problem {
  const KernelTable* kt;
  Trans ta;
  const float* A;
  int lda;
  int M, N, K;
  // B: either packed (packed != nullptr, panels of K*NR floats) or raw.
  const float* packed;
  Trans tb;
  const float* B;
  int ldb;
  float beta;
  const float* bias;  // [N] added to every row of C (beta 0 only), or null
  float* C;
  int ldc;
  PackedB::SplitChoice* split;  // per-step products on a PackedB: measured split choice
  bool reverse_columns;         // M == 1: panel groups last to first (see sgemm_packed)
  // op(A) already packed for every (K block, row block) of run_range, rows from 0 (see
  // prepack_a), or null: each range packs the rows it uses.
  const float* a_packed = nullptr;
};

// Depth of the K blocks over a packed B with several row panels: K in equal passes of at
// most kPackedMaxKC. Measured on Zen 4 (AVX-512, 1 thread): [64 x 512]·[512 x 2048] went
// from 91 to 98 GFLOP/s and [2048 x 512]·[512 x 2048] from 84 to 93-99 against KC = 192:
// the B micro-panel then streams from L2 rather than sitting in L1, which the broadcast-
// heavy tile tolerates, while C is read and written once instead of three times.
constexpr int kPackedMaxKC = 512;
int packed_kc(int K) {
  const int passes = (K + kPackedMaxKC - 1) / kPackedMaxKC;
  return (K + passes - 1) / passes;
}

// The depth of run_range's K blocks for M rows.
int range_kc(const Problem& p, int M) {
  const KernelTable& kt = *p.kt;
  return M > kt.gemm_mr ? packed_kc(p.K) : p.packed != nullptr ? p.K : std::min(p.K, 4 * kt.gemm_kc);
}

// Rows of A padded to whole MR-row panels.
int padded_rows(const Problem& p) { return (p.M + p.kt->gemm_mr - 1) / p.kt->gemm_mr * p.kt->gemm_mr; }

// op(A) of all M rows packed once, K block after K block (block pc at pc · padded rows),
// in the layout run_range's row blocks read (row block ic at ic · kc within its K block):
// a column split then packs A once instead of once per task.
void prepack_a(const Problem& p, float* dst) {
  const int KC = range_kc(p, p.M), Mp = padded_rows(p);
  for (int pc = 0; pc < p.K; pc += KC) {
    p.kt->gemm_pack_a(p.ta == Trans::Yes, p.A, p.lda, 0, p.M, pc, std::min(KC, p.K - pc),
                      dst + static_cast<std::ptrdiff_t>(pc) * Mp);
  }
}

// Rows [i0, i1) and columns [j0, j1) of C; j0 is a multiple of NR.
void run_range(const Problem& p, int i0, int i1, int j0, int j1) {
  const KernelTable& kt = *p.kt;
  const int NR = kt.gemm_nr, MC = kt.gemm_mc;
  const int M = i1 - i0;
  if (M <= 0 || j1 <= j0) return;
  // A few rows stream B once, whatever K is (C is written once); K blocking only pays
  // when B micro-panels are reused by several row panels. Several row panels take the
  // deep blocks of packed_kc, packed B or not: every K pass re-reads and re-writes all of
  // C, which for the training shapes is megabytes (dW [4H][H], dX [T·B][I]). Measured at
  // 1 thread on Zen 4 with AVX-512, from kt.gemm_kc (192) for an unpacked B: dW+=dGᵀH
  // 2048x512 K=4096 90 -> 99.5 GFLOP/s, dX=dG·W 4096x512 K=2048 85 -> 96, square 1024
  // 85 -> 99; AVX2 alike. An unpacked B's packing buffer is then up to 512 x NC floats.
  const int KC = range_kc(p, M);
  const int NC = p.packed != nullptr ? j1 - j0 : kNC;
  const std::ptrdiff_t packed_stride = static_cast<std::ptrdiff_t>(p.K) * NR;

  for (int jc = j0; jc < j1; jc += NC) {
    const int nc = std::min(NC, j1 - jc);
    for (int pc = 0; pc < p.K; pc += KC) {
      const int kc = std::min(KC, p.K - pc);
      float beta = pc == 0 ? p.beta : 1.f;
      const float* bias = pc == 0 && p.bias != nullptr ? p.bias + jc : nullptr;
      const float* Bp;
      std::ptrdiff_t ps;
      if (p.packed != nullptr) {
        Bp = p.packed + static_cast<std::ptrdiff_t>(jc / NR) * packed_stride +
             static_cast<std::ptrdiff_t>(pc) * NR;
        ps = packed_stride;
      } else {
        ps = static_cast<std::ptrdiff_t>(kc) * NR;
        float* buf = scratch(t_pack_b, static_cast<std::size_t>((nc + NR - 1) / NR) * ps);
        kt.gemm_pack_b(p.tb == Trans::Yes, p.B, p.ldb, pc, kc, jc, nc, buf, ps);
        Bp = buf;
      }
      if (M == 1) {
        const float* a;
        if (p.ta == Trans::No) {
          a = p.A + static_cast<std::ptrdiff_t>(i0) * p.lda + pc;
        } else {
          float* row = scratch(t_row, static_cast<std::size_t>(kc));
          for (int k = 0; k < kc; ++k) row[k] = p.A[static_cast<std::ptrdiff_t>(pc + k) * p.lda + i0];
          a = row;
        }
        float* c = p.C + static_cast<std::ptrdiff_t>(i0) * p.ldc + jc;
        if (bias != nullptr) {  // one row: C = bias, then accumulate
          std::memcpy(c, bias, sizeof(float) * static_cast<std::size_t>(nc));
          beta = 1.f;
        }
        kt.gemm_row(nc, kc, a, Bp, ps, beta, c, p.reverse_columns);
        continue;
      }
      float* packbuf = p.a_packed != nullptr ? nullptr
                                             : scratch(t_pack_a, static_cast<std::size_t>(std::min(MC, M) + kt.gemm_mr) * kc);
      for (int ic = i0; ic < i1; ic += MC) {
        const int mc = std::min(MC, i1 - ic);
        const float* abuf = packbuf;
        if (p.a_packed != nullptr) {  // all rows from 0, packed by prepack_a
          abuf = p.a_packed + static_cast<std::ptrdiff_t>(pc) * padded_rows(p) + static_cast<std::ptrdiff_t>(ic) * kc;
        } else {
          kt.gemm_pack_a(p.ta == Trans::Yes, p.A, p.lda, ic, mc, pc, kc, packbuf);
        }
        kt.gemm_macro(mc, nc, kc, abuf, Bp, ps, beta, bias,
                      p.C + static_cast<std::ptrdiff_t>(ic) * p.ldc + jc, p.ldc);
      }
    }
  }
}

void scale_c(int M, int N, float beta, float* C, int ldc) {
  for (int i = 0; i < M; ++i) {
    float* c = C + static_cast<std::ptrdiff_t>(i) * ldc;
    if (beta == 0.f) {
      std::memset(c, 0, sizeof(float) * static_cast<std::size_t>(N));
    } else {
      for (int j = 0; j < N; ++j) c[j] *= beta;
    }
  }
}

// Per-step products are small (a few microseconds) and repeated T times, so whether
// splitting them over the threads pays depends on the machine: it does on idle cores,
// it does not when two vCPUs share one physical core or other processes hold the cores
// (then a worker descheduled in the middle of its task stalls every step). So it is
// measured on the calls themselves: every kReexplore calls, kExplore calls alternate
// serial and split and keep each mode's fastest time; the split is then used only if it
// was at least kSplitGain faster. With several rows results do not depend on the choice
// (every element is computed by the same tile over the same K blocks either way); a single
// row's kernel groups panels from the start of its range, so a cut at other columns may
// change a column's last bits (a group sums k in one chain, a lone panel in several).
constexpr unsigned kExplore = 16, kReexplore = 2048;
constexpr double kSplitGain = 1.1;
// Above this many multiply-adds a per-step product is always split: it takes >= ~50 us
// on one core, so a split that waits for a late worker's task still wins, and measuring
// only adds noise (a cold first call could make a serial choice stick for 2048 calls:
// lstm-infer-b64 at 2 threads ran ~25% slower for its first sixteen forwards).
constexpr double kAlwaysSplitMacs = 2.0 * 1024 * 1024;

void run(Problem p) {
  if (p.M <= 0 || p.N <= 0) return;
  if (p.K <= 0) {
    if (p.beta != 1.f) scale_c(p.M, p.N, p.beta, p.C, p.ldc);
    if (p.bias != nullptr) {
      for (int i = 0; i < p.M; ++i) {
        std::memcpy(p.C + static_cast<std::ptrdiff_t>(i) * p.ldc, p.bias, sizeof(float) * static_cast<std::size_t>(p.N));
      }
    }
    return;
  }
  if (p.beta != 0.f && p.beta != 1.f) {
    scale_c(p.M, p.N, p.beta, p.C, p.ldc);
    p.beta = 1.f;
  }
  const int NR = p.kt->gemm_nr, MR = p.kt->gemm_mr;
  const int panels = (p.N + NR - 1) / NR;
  const double macs = static_cast<double>(p.M) * p.N * p.K;
  // Inside a pool task (a caller parallelising over something else) everything runs on
  // this thread anyway.
  const int nt = macs >= kParallelMinMacs && !in_parallel_task() ? threads() : 1;
  if (nt <= 1) {
    run_range(p, 0, p.M, 0, p.N);
    return;
  }
  const int rpanels = (p.M + MR - 1) / MR;
  if (p.packed != nullptr && p.M <= kPinnedMaxRows && panels >= nt) {
    // A per-time-step product: column range t (of nt * kPinnedTasksPerThread equal ones)
    // always goes to worker t % nt, so each thread's share of the packed weights stays in
    // its L2 from step to step. Two ranges per thread: if a worker is late (busy
    // machine), the caller takes its second range instead of waiting for all of it.
    const int tasks = std::min(panels, std::max(nt, std::min(nt * kPinnedTasksPerThread, kMaxPinnedTasks)));
    auto split = [&] {
      // Every range multiplies all M rows: pack them once here, not once per range (at
      // batch 64, H 512 each of the four ranges packed the same 128 KB).
      Problem q = p;
      if (p.M > MR) {
        float* buf = scratch(t_prepacked_a, static_cast<std::size_t>(padded_rows(p)) * p.K);
        prepack_a(p, buf);
        q.a_packed = buf;
      }
      parallel_for(
          tasks,
          [&](int t, int) {
            const int q0 = static_cast<int>(static_cast<long long>(panels) * t / tasks);
            const int q1 = static_cast<int>(static_cast<long long>(panels) * (t + 1) / tasks);
            run_range(q, 0, q.M, q0 * NR, std::min(q.N, q1 * NR));
          },
          /*pinned=*/true);
    };
    if (p.split == nullptr || macs >= kAlwaysSplitMacs) return split();
    measured_split(*p.split, p.M, split, [&] { run_range(p, 0, p.M, 0, p.N); });
    return;
  }
  // Otherwise a grid of about kTasksPerThread tasks per thread, handed out dynamically so
  // that a thread the OS takes away (busy machine) delays only its current task. Each
  // task packs its own A rows and B columns: no barrier between packing and computing.
  // Near-square tasks: a task packs rows x K of A and K x cols of B for rows x cols x K
  // multiply-adds, so the repacking overhead goes as 1/rows + 1/cols.
  const int target = kTasksPerThread * nt;
  const int tn = std::max(1, std::min(std::min(panels, target),
                                      static_cast<int>(std::lround(std::sqrt(static_cast<double>(target) * p.N / p.M)))));
  const int tm = std::max(1, std::min((target + tn - 1) / tn, rpanels / kMinRowPanelsPerTask));
  parallel_for(tm * tn, [&](int task, int) {
    const int a = task / tn, b = task % tn;
    const int r0 = static_cast<int>(static_cast<long long>(rpanels) * a / tm);
    const int r1 = static_cast<int>(static_cast<long long>(rpanels) * (a + 1) / tm);
    const int q0 = static_cast<int>(static_cast<long long>(panels) * b / tn);
    const int q1 = static_cast<int>(static_cast<long long>(panels) * (b + 1) / tn);
    run_range(p, r0 * MR, std::min(p.M, r1 * MR), q0 * NR, std::min(p.N, q1 * NR));
  });
}

}  // namespace

void measured_split(SplitChoice& s, int rows, void (*split)(void*), void (*serial)(void*), void* ctx) {
  if (s.rows != rows || s.calls >= kReexplore) {
    s.rows = rows;
    s.calls = 0;
    s.best_serial = s.best_parallel = 1e30;
  }
  const unsigned call = s.calls++;
  if (call >= kExplore) {
    (s.parallel ? split : serial)(ctx);
    return;
  }
  const bool parallel = call % 2 == 0;
  const auto t0 = std::chrono::steady_clock::now();
  (parallel ? split : serial)(ctx);
  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double& best = parallel ? s.best_parallel : s.best_serial;
  best = std::min(best, dt);
  if (call + 1 == kExplore) s.parallel = s.best_parallel * kSplitGain < s.best_serial;
}

void sgemm(Trans transA, Trans transB, int M, int N, int K, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc) {
  Problem p{kernels(), transA, A, lda, M, N, K, nullptr, transB, B, ldb, beta, nullptr, C, ldc, nullptr, false};
  run(p);
}

void sgemm_bias(Trans transA, Trans transB, int M, int N, int K, const float* A, int lda,
                const float* B, int ldb, const float* bias, float* C, int ldc) {
  Problem p{kernels(), transA, A, lda, M, N, K, nullptr, transB, B, ldb, 0.f, bias, C, ldc, nullptr, false};
  run(p);
}

void PackedB::pack(Trans transB, int K, int N, const float* B, int ldb) {
  const KernelTable* kt = kernels();
  K_ = K < 0 ? 0 : K;
  N_ = N < 0 ? 0 : N;
  table_ = kt;
  split_ = SplitChoice{};
  const int NR = kt->gemm_nr;
  const std::ptrdiff_t stride = static_cast<std::ptrdiff_t>(K_) * NR;
  const std::size_t panels = static_cast<std::size_t>((N_ + NR - 1) / NR);
  data_.resize(panels * static_cast<std::size_t>(stride));
  if (K_ > 0 && N_ > 0) kt->gemm_pack_b(transB == Trans::Yes, B, ldb, 0, K_, 0, N_, data_.data(), stride);
}

// The body of sgemm_packed and sgemm_packed_bias (a friend of PackedB).
void packed_product(int M, const float* A, int lda, const PackedB& B, float beta, const float* bias, float* C, int ldc,
                    bool reverse_columns) {
  const KernelTable* kt = static_cast<const KernelTable*>(B.table_);
  if (kt == nullptr) kt = kernels();  // never packed: K = N = 0
  Problem p{kt, Trans::No, A, lda, M, B.N_, B.K_, B.data_.data(), Trans::No, nullptr, 0, beta, bias, C, ldc,
            &B.split_, reverse_columns};
  run(p);
}

void sgemm_packed(int M, const float* A, int lda, const PackedB& B, float beta, float* C, int ldc,
                  bool reverse_columns) {
  packed_product(M, A, lda, B, beta, nullptr, C, ldc, reverse_columns);
}

void sgemm_packed_bias(int M, const float* A, int lda, const PackedB& B, const float* bias, float* C, int ldc,
                       bool reverse_columns) {
  packed_product(M, A, lda, B, 0.0f, bias, C, ldc, reverse_columns);
}

}  // namespace rk
