// Tests of the low kernel layer: sgemm / sgemm_packed against a float64 product, the
// vector exp/sigmoid/tanh approximations against libm in double, ISA dispatch, the
// thread pool and the denormal guard. Every ISA the CPU supports is forced in turn.
//
//   gemm_test            run the tests (exit status 1 on any failure)
//   gemm_test bench      GFLOP/s of the shapes rnnkit uses, per ISA and thread count
//   gemm_test bench avx2 1  ...only the named ISA(s) and/or thread count(s)
//   (one thread is timed in thread CPU time, several in wall time; RK_BENCH_WALL=1 times
//   one thread in wall time too)
//
// Build and run: native/test/run-gemm-test.sh [bench ...]
#include <atomic>
#include <chrono>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "denormals.h"
#include "dispatch.h"
#include "gemm/gemm.h"
#include "rnnkit.h"
#include "threadpool.h"

namespace {

int g_failures = 0;
int g_checks = 0;

#define CHECK(cond, ...)                                          \
  do {                                                            \
    ++g_checks;                                                   \
    if (!(cond)) {                                                \
      ++g_failures;                                               \
      std::printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::printf(__VA_ARGS__);                                   \
      std::printf("\n");                                          \
    }                                                             \
  } while (0)

// wasm-relaxed-simd: the SIMD table of the relaxed-SIMD build (run-gemm-test.sh --wasm-relaxed).
const char* kIsas[] = {"scalar", "avx2", "avx512", "neon", "wasm-simd128", "wasm-relaxed-simd"};

std::mt19937 g_rng(12345);

std::vector<float> random_vec(std::size_t n) {
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = d(g_rng);
  return v;
}

// ---- GEMM ---------------------------------------------------------------------------

struct Case {
  rk::Trans ta, tb;
  int M, N, K;
  float beta;
  bool packed;
};

const char* tname(rk::Trans t) { return t == rk::Trans::Yes ? "T" : "N"; }

// Runs one product with padded leading dimensions and checks every element of C against
// float64, and that C's padding columns are untouched. The bound is the classical
// worst-case error of a K-term float32 dot product, (K+2)·u·Σ|a·b| + u·|beta·c|, so a
// correct kernel never fails it, while a missing, doubled or misplaced term (of size
// ~Σ|a·b|/K) does.
bool run_case(const Case& c, const char* isa, int threads) {
  const int am = c.ta == rk::Trans::No ? c.M : c.K, ak = c.ta == rk::Trans::No ? c.K : c.M;
  const int bk = c.tb == rk::Trans::No ? c.K : c.N, bn = c.tb == rk::Trans::No ? c.N : c.K;
  const int lda = ak + 3, ldb = bn + 5, ldc = c.N + 2;
  std::vector<float> A = random_vec(static_cast<std::size_t>(am) * lda + 1);
  std::vector<float> B = random_vec(static_cast<std::size_t>(bk) * ldb + 1);
  std::vector<float> C0 = random_vec(static_cast<std::size_t>(c.M) * ldc + 1);
  std::vector<float> C = C0;
  // beta == 0 must not read C: fill it with NaN, which any read would propagate.
  if (c.beta == 0.f)
    for (int i = 0; i < c.M; ++i)
      for (int j = 0; j < c.N; ++j) C[static_cast<std::size_t>(i) * ldc + j] = std::nanf("");

  auto a_at = [&](int i, int k) {
    return c.ta == rk::Trans::No ? A[static_cast<std::size_t>(i) * lda + k] : A[static_cast<std::size_t>(k) * lda + i];
  };
  auto b_at = [&](int k, int j) {
    return c.tb == rk::Trans::No ? B[static_cast<std::size_t>(k) * ldb + j] : B[static_cast<std::size_t>(j) * ldb + k];
  };

  if (c.packed) {
    rk::PackedB pb;
    pb.pack(c.tb, c.K, c.N, B.data(), ldb);
    CHECK(pb.K() == c.K && pb.N() == c.N, "PackedB dims");
    // A is never transposed for the packed product: use the row-major A only.
    rk::sgemm_packed(c.M, A.data(), lda, pb, c.beta, C.data(), ldc);
    if (c.beta == 1.f) {  // reuse the same packing a second time: C0 + 2·A·B
      rk::sgemm_packed(c.M, A.data(), lda, pb, 1.f, C.data(), ldc);
    }
  } else {
    rk::sgemm(c.ta, c.tb, c.M, c.N, c.K, A.data(), lda, B.data(), ldb, c.beta, C.data(), ldc);
  }
  const int reps = c.packed && c.beta == 1.f ? 2 : 1;
  const double u = std::ldexp(1.0, -24);
  double worst = 0;
  int bad_i = -1, bad_j = -1;
  bool ok = true;
  for (int i = 0; i < c.M; ++i) {
    for (int j = 0; j < c.N; ++j) {
      double s = 0, sa = 0;
      for (int k = 0; k < c.K; ++k) {
        const double p = static_cast<double>(a_at(i, k)) * b_at(k, j);
        s += p;
        sa += std::fabs(p);
      }
      const double c0 = c.beta == 0.f ? 0.0 : C0[static_cast<std::size_t>(i) * ldc + j];
      const double want = reps * s + static_cast<double>(c.beta) * c0;
      const double got = C[static_cast<std::size_t>(i) * ldc + j];
      const double tol = reps * (c.K + 2) * u * sa + 2 * u * std::fabs(c0) + 1e-30;  // c0: |beta| <= 1
      const double err = std::fabs(got - want);
      if (!(err <= tol)) {
        ok = false;
        if (!(err <= worst)) {
          worst = err;
          bad_i = i;
          bad_j = j;
        }
      }
    }
    for (int j = c.N; j < ldc; ++j) {
      if (C[static_cast<std::size_t>(i) * ldc + j] != C0[static_cast<std::size_t>(i) * ldc + j]) {
        ok = false;
        bad_i = i;
        bad_j = j;
      }
    }
  }
  CHECK(ok, "%s threads=%d %s A%s B%s M=%d N=%d K=%d beta=%g: worst error %g at (%d,%d)", isa, threads,
        c.packed ? "packed" : "sgemm", tname(c.ta), tname(c.tb), c.M, c.N, c.K, c.beta, worst, bad_i,
        bad_j);
  return ok;
}

void test_gemm(const char* isa, int threads) {
  const int sizes[] = {1, 3, 7, 17, 33, 65};
  const rk::Trans ts[] = {rk::Trans::No, rk::Trans::Yes};
  int failed = 0;
  for (int M : sizes)
    for (int N : sizes)
      for (int K : sizes)
        for (rk::Trans ta : ts)
          for (rk::Trans tb : ts)
            for (float beta : {0.f, 1.f}) {
              if (!run_case({ta, tb, M, N, K, beta, false}, isa, threads)) ++failed;
              if (ta == rk::Trans::No && !run_case({ta, tb, M, N, K, beta, true}, isa, threads)) ++failed;
              if (failed > 5) return;
            }
  // The shapes rnnkit runs (recurrent step, input projection, weight gradient), tidy and
  // odd, plus K = 0 and beta outside {0, 1}.
  const Case big[] = {
      {rk::Trans::No, rk::Trans::Yes, 1, 1024, 256, 0.f, true},
      {rk::Trans::No, rk::Trans::Yes, 1, 2048, 512, 1.f, true},
      {rk::Trans::No, rk::Trans::Yes, 64, 1024, 256, 0.f, true},
      {rk::Trans::No, rk::Trans::Yes, 5, 1030, 257, 1.f, true},
      {rk::Trans::No, rk::Trans::Yes, 256, 1024, 128, 0.f, false},
      {rk::Trans::Yes, rk::Trans::No, 1024, 128, 256, 1.f, false},
      {rk::Trans::Yes, rk::Trans::No, 1000, 129, 300, 1.f, false},
      {rk::Trans::No, rk::Trans::No, 300, 2100, 530, 0.f, false},
      {rk::Trans::No, rk::Trans::No, 3, 40, 1100, 1.f, false},   // few rows, K past the
      {rk::Trans::Yes, rk::Trans::Yes, 1, 37, 1500, 0.f, false},  // capped K block
      {rk::Trans::No, rk::Trans::No, 7, 9, 0, 1.f, false},
      {rk::Trans::No, rk::Trans::No, 7, 9, 0, 0.f, false},
      {rk::Trans::No, rk::Trans::No, 33, 17, 65, 0.5f, false},
  };
  for (const Case& c : big) run_case(c, isa, threads);
}

// sgemm_bias must equal "C = bias in every row, then sgemm with beta 1" bit for bit, for
// every shape class (one row, edge tiles, K = 0, K past one block) and trans.
void test_gemm_bias(const char* isa, int threads) {
  const Case shapes[] = {
      {rk::Trans::No, rk::Trans::Yes, 1, 37, 20, 0.f, false},   {rk::Trans::No, rk::Trans::Yes, 700, 1030, 200, 0.f, false},
      {rk::Trans::No, rk::Trans::No, 13, 2100, 530, 0.f, false}, {rk::Trans::Yes, rk::Trans::Yes, 7, 9, 0, 0.f, false},
      {rk::Trans::Yes, rk::Trans::No, 65, 17, 33, 0.f, false},   {rk::Trans::No, rk::Trans::Yes, 5, 3, 1100, 0.f, false},
  };
  for (const Case& c : shapes) {
    const int lda = (c.ta == rk::Trans::No ? c.K : c.M) + 1, ldb = (c.tb == rk::Trans::No ? c.N : c.K) + 1;
    const int ldc = c.N + 3;
    std::vector<float> A = random_vec(static_cast<std::size_t>(c.ta == rk::Trans::No ? c.M : c.K) * lda + 1);
    std::vector<float> B = random_vec(static_cast<std::size_t>(c.tb == rk::Trans::No ? c.K : c.N) * ldb + 1);
    std::vector<float> bias = random_vec(static_cast<std::size_t>(c.N));
    std::vector<float> want(static_cast<std::size_t>(c.M) * ldc, 5.f), got(want.size(), std::nanf(""));
    for (int j = c.N; j < ldc; ++j)
      for (int i = 0; i < c.M; ++i) got[static_cast<std::size_t>(i) * ldc + j] = 5.f;  // padding untouched
    for (int i = 0; i < c.M; ++i) std::copy(bias.begin(), bias.end(), want.begin() + static_cast<std::ptrdiff_t>(i) * ldc);
    rk::sgemm(c.ta, c.tb, c.M, c.N, c.K, A.data(), lda, B.data(), ldb, 1.f, want.data(), ldc);
    rk::sgemm_bias(c.ta, c.tb, c.M, c.N, c.K, A.data(), lda, B.data(), ldb, bias.data(), got.data(), ldc);
    CHECK(std::memcmp(want.data(), got.data(), sizeof(float) * want.size()) == 0,
          "%s threads=%d sgemm_bias %s%s M=%d N=%d K=%d differs from bias + sgemm(beta 1)", isa, threads,
          tname(c.ta), tname(c.tb), c.M, c.N, c.K);
  }
}

// The softmax row kernels (heads.cc) against float64, every length's tail.
void test_softmax_row(const char* isa) {
  const rk::KernelTable* kt = rk::kernels();
  for (int n : {1, 2, 5, 8, 15, 16, 17, 31, 33, 100, 513, 1025, 33278}) {
    std::vector<float> x = random_vec(static_cast<std::size_t>(n));
    for (float& v : x) v *= 20.f;
    x[static_cast<std::size_t>(n) / 2] = 31.f;  // the maximum, off the ends
    double want_max = -1e30;
    for (float v : x) want_max = std::max(want_max, static_cast<double>(v));
    const float got_max = kt->row_max(x.data(), n);
    CHECK(got_max == static_cast<float>(want_max), "%s row_max n=%d: %g, want %g", isa, n, got_max, want_max);
    std::vector<float> y(static_cast<std::size_t>(n) + 8, -7.f);
    const double sum = kt->exp_shift_sum(x.data(), got_max, y.data(), n);
    double want_sum = 0;
    bool ok = true;
    for (int i = 0; i < n; ++i) {
      const double e = std::exp(static_cast<double>(x[i]) - got_max);
      want_sum += e;
      // vexp's bound plus the rounding of x − shift in float (half an ulp of |x − shift|).
      const double d = std::fabs(static_cast<double>(x[i]) - got_max);
      ok = ok && std::fabs(y[i] - e) <= (2e-7 + d * 6e-8) * e + 1e-38;
    }
    for (int i = n; i < n + 8; ++i) ok = ok && y[i] == -7.f;
    CHECK(ok, "%s exp_shift_sum n=%d: an element is off, or the tail was written past n", isa, n);
    ok = true;
    CHECK(std::fabs(sum - want_sum) <= 1e-6 * want_sum, "%s exp_shift_sum n=%d: sum %.9g, want %.9g", isa, n, sum,
          want_sum);
    std::vector<float> y0 = y, acc(static_cast<std::size_t>(n) + 8, -7.f);
    for (int i = 0; i < n; ++i) acc[i] = static_cast<float>(i % 7) - 3.f;
    const std::vector<float> acc0 = acc;
    kt->vec_scale(y.data(), 0.5f, nullptr, n);
    for (int i = 0; i < n + 8; ++i) ok = ok && (i >= n ? y[i] == -7.f : y[i] == y0[i] * 0.5f);
    CHECK(ok, "%s vec_scale n=%d: an element is off, or written past n", isa, n);
    y = y0;
    kt->vec_scale(y.data(), 0.25f, acc.data(), n);
    for (int i = 0; i < n + 8; ++i) {
      ok = ok && (i >= n ? y[i] == -7.f && acc[i] == -7.f : y[i] == y0[i] * 0.25f && acc[i] == acc0[i] + y[i]);
    }
    CHECK(ok, "%s vec_scale n=%d with a sum: an element is off, or written past n", isa, n);
    // first_equal: every position (each lane of each vector and the tail), a repeat
    // (the first wins), absent (n) and NaN (never equal).
    for (int at : {0, 1, n / 2, n - 1}) {
      std::vector<float> r(static_cast<std::size_t>(n), 1.f);
      r[at] = 2.f;
      if (at + 3 < n) r[at + 3] = 2.f;
      CHECK(kt->first_equal(r.data(), n, 2.f) == at, "%s first_equal n=%d at %d: got %td", isa, n, at,
            kt->first_equal(r.data(), n, 2.f));
      CHECK(kt->first_equal(r.data(), n, 3.f) == n, "%s first_equal n=%d of an absent value", isa, n);
      r[at] = std::nanf("");
      CHECK(kt->first_equal(r.data(), n, std::nanf("")) == n, "%s first_equal n=%d matched a NaN", isa, n);
    }
    // A NaN or an infinity anywhere makes the maximum NaN (the loss then reports it).
    for (float bad : {std::nanf(""), std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()}) {
      std::vector<float> z = x;
      z[static_cast<std::size_t>(n) - 1] = bad;
      CHECK(std::isnan(kt->row_max(z.data(), n)), "%s row_max n=%d with %g: not NaN", isa, n, bad);
    }
  }
}

// The optimizer kernels against float64 formulas (optim.cc's contract), every tail.
void test_optim_kernels(const char* isa) {
  const rk::KernelTable* kt = rk::kernels();
  for (int n : {1, 7, 8, 9, 31, 257, 1000}) {
    for (float limit : {0.f, 0.3f}) {
      std::vector<float> g = random_vec(static_cast<std::size_t>(n));
      double want = 0;
      for (float x : g) {
        const double c = limit > 0 ? std::min(std::max(static_cast<double>(x), -0.3), 0.3) : x;
        want += c * c;
      }
      const double got = kt->sum_squares(g.data(), n, limit);
      CHECK(std::fabs(got - want) <= 1e-6 * want, "%s sum_squares n=%d limit=%g: %.9g, want %.9g", isa, n, limit, got,
            want);
      rk::AdamStep st{limit > 0 ? 1 : 0, limit, 0.7f, 0.01f, 0.999f, 0.9f, 0.99f, 0.05f, 3.f, 1e-8f};
      std::vector<float> p = random_vec(static_cast<std::size_t>(n) + 4), m = random_vec(p.size()), v = random_vec(p.size());
      for (float& x : v) x = std::fabs(x);
      m[0] = 1e-39f;  // a moment that decays below FLT_MIN is stored as 0
      const std::vector<float> p0 = p, m0 = m, v0 = v;
      kt->adam_update(&st, p.data(), g.data(), m.data(), v.data(), n);
      bool ok = true;
      for (int i = 0; i < n; ++i) {
        double gi = g[i];
        if (st.clamp) gi = std::min(std::max(gi, -0.3), 0.3);
        const double d = gi * st.scale + st.l2 * p0[i];
        double mi = st.beta1 * static_cast<double>(m0[i]) + (1 - static_cast<double>(st.beta1)) * d;
        double vi = st.beta2 * static_cast<double>(v0[i]) + (1 - static_cast<double>(st.beta2)) * d * d;
        if (std::fabs(mi) < 1.17549435e-38) mi = 0;
        if (std::fabs(vi) < 1.17549435e-38) vi = 0;
        const double pi = p0[i] * static_cast<double>(st.decay) - st.step_size * mi / (std::sqrt(vi) * st.inv_bc2 + st.eps);
        // float32 rounding of each term, relative to the terms' sizes (m can cancel).
        const double mscale = std::fabs(st.beta1 * m0[i]) + std::fabs(d) * 0.1;
        const double step = st.step_size * std::fabs(mi) / (std::sqrt(vi) * st.inv_bc2 + st.eps);
        const bool good = std::fabs(m[i] - mi) <= 1e-6 * mscale + 1e-30 && std::fabs(v[i] - vi) <= 1e-6 * vi + 1e-30 &&
                          std::fabs(p[i] - pi) <= 1e-6 * (std::fabs(p0[i]) + step) + 1e-5 * step;
        if (!good && ok) std::printf("  %s i=%d m %g/%g v %g/%g p %g/%g\n", isa, i, m[i], mi, v[i], vi, p[i], pi);
        ok = ok && good;
      }
      ok = ok && m[0] != 1e-39f;
      for (std::size_t i = static_cast<std::size_t>(n); i < p.size(); ++i) ok = ok && p[i] == p0[i] && m[i] == m0[i] && v[i] == v0[i];
      CHECK(ok, "%s adam_update n=%d limit=%g differs from the formula or writes past n", isa, n, limit);
    }
  }
}

// ---- approximations -----------------------------------------------------------------

struct ErrStats {
  double max_abs = 0, max_rel = 0;
  float at_abs = 0, at_rel = 0;
};

ErrStats measure(void (*fn)(const float*, float*, std::ptrdiff_t), double (*ref)(double),
                 const std::vector<float>& xs, double rel_floor) {
  std::vector<float> y(xs.size());
  fn(xs.data(), y.data(), static_cast<std::ptrdiff_t>(xs.size()));
  ErrStats s;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double want = ref(xs[i]);
    const double err = std::fabs(y[i] - want);
    if (!(err <= s.max_abs)) {
      s.max_abs = err;
      s.at_abs = xs[i];
    }
    if (std::fabs(want) >= rel_floor) {
      const double rel = err / std::fabs(want);
      if (!(rel <= s.max_rel)) {
        s.max_rel = rel;
        s.at_rel = xs[i];
      }
    }
  }
  return s;
}

double ref_exp(double x) { return std::exp(x); }
double ref_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double ref_tanh(double x) { return std::tanh(x); }

void test_math(const char* isa, bool verbose) {
  const rk::KernelTable* kt = rk::kernels();
  // A dense grid over [-30, 30], every float near 0 and the switch points, odd length so
  // the tail path runs too.
  std::vector<float> xs;
  for (int i = -300000; i <= 300000; ++i) xs.push_back(static_cast<float>(i) * 1e-4f);
  for (float x = 1e-30f; x < 1.f; x *= 1.37f) {
    xs.push_back(x);
    xs.push_back(-x);
  }
  for (float x : {0.3f, -0.3f, std::nextafter(0.3f, 0.f), std::nextafter(-0.3f, 0.f), 0.f, -0.f})
    xs.push_back(x);
  std::vector<float> wide;  // exp over its whole normal range
  for (int i = -873365; i <= 883762; i += 7) wide.push_back(static_cast<float>(i) * 1e-4f);
  wide.push_back(-87.3365478515625f);
  wide.push_back(88.3762626647949f);

  const ErrStats e = measure(kt->vec_exp, ref_exp, wide, 0);
  const ErrStats s = measure(kt->vec_sigmoid, ref_sigmoid, xs, 1e-30);
  const ErrStats t = measure(kt->vec_tanh, ref_tanh, xs, 1e-38);
  if (verbose) {
    std::printf("  %-7s exp rel %.3g (x=%g) | sigmoid abs %.3g (x=%g) rel %.3g (x=%g) | tanh abs %.3g (x=%g) rel %.3g (x=%g)\n",
                isa, e.max_rel, e.at_rel, s.max_abs, s.at_abs, s.max_rel, s.at_rel, t.max_abs, t.at_abs,
                t.max_rel, t.at_rel);
  }
  // The bounds stated in native/src/simd/math.inc.
  CHECK(e.max_rel <= 1.5e-7, "%s exp max rel error %g at x=%g", isa, e.max_rel, e.at_rel);
  CHECK(s.max_abs <= 1.5e-7, "%s sigmoid max abs error %g at x=%g", isa, s.max_abs, s.at_abs);
  CHECK(s.max_rel <= 3e-7, "%s sigmoid max rel error %g at x=%g", isa, s.max_rel, s.at_rel);
  CHECK(t.max_abs <= 1.5e-7, "%s tanh max abs error %g at x=%g", isa, t.max_abs, t.at_abs);
  CHECK(t.max_rel <= 4e-7, "%s tanh max rel error %g at x=%g", isa, t.max_rel, t.at_rel);

  // Edges: exp underflows to 0, saturates (finite) above; sigmoid/tanh saturate exactly.
  const float edge_in[] = {-1000.f, -88.f, 89.f, 1000.f, -1000.f, 1000.f, 20.f, -20.f};
  float out[8];
  kt->vec_exp(edge_in, out, 4);
  CHECK(out[0] == 0.f && out[1] == 0.f, "%s exp(-1000)=%g exp(-88)=%g", isa, out[0], out[1]);
  CHECK(std::isfinite(out[2]) && out[2] > 1e38f && std::isfinite(out[3]), "%s exp(89)=%g exp(1000)=%g", isa,
        out[2], out[3]);
  kt->vec_sigmoid(edge_in + 4, out, 2);
  CHECK(out[0] >= 0.f && out[0] < 1e-38f && out[1] == 1.f, "%s sigmoid(-1000)=%g sigmoid(1000)=%g", isa, out[0],
        out[1]);
  kt->vec_tanh(edge_in + 4, out, 4);
  CHECK(out[0] == -1.f && out[1] == 1.f && out[2] == 1.f && out[3] == -1.f, "%s tanh saturation %g %g %g %g",
        isa, out[0], out[1], out[2], out[3]);
  // A NaN comes back NaN from every function, in every lane (the clamps inside vexp must
  // not turn it into a bound: x86's maxps returns its second operand when one is NaN).
  {
    std::vector<float> in(16, 0.25f), o(16);
    for (int lane = 0; lane < 16; lane += 5) in[lane] = std::nanf("");
    for (auto fn : {kt->vec_exp, kt->vec_sigmoid, kt->vec_tanh}) {
      fn(in.data(), o.data(), 16);
      bool ok = true;
      for (int i = 0; i < 16; ++i) ok = ok && std::isnan(o[i]) == std::isnan(in[i]);
      CHECK(ok, "%s exp/sigmoid/tanh: a NaN input did not come back NaN (or a number did)", isa);
    }
  }
  // Tails write exactly n elements.
  for (int n = 0; n < 40; ++n) {
    std::vector<float> in(48, 0.5f), o(48, -7.f);
    kt->vec_tanh(in.data(), o.data(), n);
    bool ok = true;
    for (int i = 0; i < 48; ++i) ok = ok && (i < n ? std::fabs(o[i] - std::tanh(0.5)) < 1e-6 : o[i] == -7.f);
    CHECK(ok, "%s vec_tanh n=%d writes exactly n elements", isa, n);
  }
}

// ---- runtime: dispatch, threads, denormals -------------------------------------------

void test_runtime() {
  CHECK(rk_force_isa("bogus") == RK_EINVAL, "unknown ISA must be EINVAL");
  CHECK(std::strstr(rk_last_error(), "bogus") != nullptr, "message names the ISA: %s", rk_last_error());
  CHECK(rk_force_isa(nullptr) == RK_EINVAL, "NULL ISA must be EINVAL");
  for (const char* isa : kIsas) {
    if (!rk::isa_supported(isa)) {
      CHECK(rk_force_isa(isa) == RK_EINVAL, "unsupported %s must be EINVAL", isa);
    }
  }
  CHECK(rk_force_isa("scalar") == RK_OK && std::strcmp(rk_isa(), "scalar") == 0, "force scalar");
  CHECK(rk_force_isa("auto") == RK_OK, "auto");

  CHECK(rk_set_threads(-1) == RK_EINVAL, "negative threads must be EINVAL");
  CHECK(rk_set_threads(RK_MAX_THREADS + 1) == RK_EINVAL, "threads above RK_MAX_THREADS must be EINVAL");
#if defined(RNNKIT_NO_THREADS)
  constexpr int kPool = 1;  // the wasm build runs every task inline
#else
  constexpr int kPool = 3;
#endif
  CHECK(rk_set_threads(3) == RK_OK && rk_get_threads() == kPool, "threads 3 (got %d)", rk_get_threads());
  // Every task runs exactly once, each worker index is in range, nesting runs inline.
  {
    std::vector<std::atomic<int>> hits(1000);
    std::atomic<int> bad_worker{0}, nested_sum{0};
    rk::parallel_for(1000, [&](int t, int w) {
      hits[t].fetch_add(1);
      if (w < 0 || w >= kPool) bad_worker.fetch_add(1);
      if (t % 100 == 0) rk::parallel_for(10, [&](int u, int) { nested_sum.fetch_add(u); });
    });
    int wrong = 0;
    for (auto& h : hits) wrong += h.load() != 1;
    CHECK(wrong == 0 && bad_worker.load() == 0, "parallel_for: %d tasks not run once, %d bad workers", wrong,
          bad_worker.load());
    CHECK(nested_sum.load() == 10 * 45, "nested parallel_for sum %d", nested_sum.load());
  }
  // Pinned: task t prefers worker t % threads; a late worker's task is taken by another
  // thread, so every task still runs exactly once.
  {
    int own = 0, total = 0;
    for (int rep = 0; rep < 200; ++rep) {
      std::atomic<int> matched{0}, ran{0};
      rk::parallel_for(9, [&](int t, int w) {
        ran.fetch_add(1);
        if (w == t % kPool) matched.fetch_add(1);
        volatile double x = 0;  // a little work, so that every worker gets to claim
        for (int i = 0; i < 20000; ++i) x = x + i;
      }, true);
      own += matched.load();
      total += ran.load();
    }
    CHECK(total == 200 * 9, "pinned tasks ran %d times, want %d", total, 200 * 9);
    // Not asserted (depends on how busy the machine is), reported.
    std::printf("pinned tasks ran on their own worker %d of %d times\n", own, total);
  }
  // More tasks than one job word holds.
  {
    std::vector<std::atomic<int>> hits(10000);
    rk::parallel_for(10000, [&](int t, int) { hits[t].fetch_add(1); });
    int wrong = 0;
    for (auto& h : hits) wrong += h.load() != 1;
    CHECK(wrong == 0, "parallel_for(10000): %d tasks not run once", wrong);
  }
#if !defined(RNNKIT_NO_THREADS)
  // Workers flush denormals.
  {
    std::atomic<int> flushed{0};
    rk::parallel_for(3, [&](int, int w) {
      volatile float tiny = 1e-30f;
      volatile float r = tiny * 1e-10f;  // 1e-40 is subnormal: 0 under FTZ
      if (w != 0 && r == 0.f) flushed.fetch_add(1);
      if (w == 0) flushed.fetch_add(1);
    }, true);
    CHECK(flushed.load() == 3, "workers did not flush subnormals (%d of 3)", flushed.load());
  }
#endif
  // A job published right after a resize must reach the new workers (a missed start
  // generation used to hang here).
  {
    int total = 0;
    for (int i = 0; i < 300; ++i) {
      rk_set_threads(2 + i % 2);
      std::atomic<int> sum{0};
      rk::parallel_for(4, [&](int t, int) { sum.fetch_add(t); }, i % 3 == 0);
      total += sum.load() == 6;
    }
    CHECK(total == 300, "parallel_for right after rk_set_threads: %d of 300 right", total);
  }
  CHECK(rk_set_threads(1) == RK_OK && rk_get_threads() == 1, "threads 1");
  {
    std::atomic<int> foreign{0};
    rk::parallel_for(50, [&](int, int w) { if (w != 0) foreign.fetch_add(1); });
    CHECK(foreign.load() == 0, "threads=1 must run on the caller only");
  }
  // Denormal guard sets FTZ/DAZ inside, restores outside.
  {
    volatile float tiny = 1e-30f, scale = 1e-10f;
    const std::uint64_t before = rk::fp_mode_get();
    {
      rk::ScopedFlushDenormals guard;
      volatile float r = tiny * scale;
#if defined(RK_DENORMALS_X86) || defined(RK_DENORMALS_ARM64)
      CHECK(r == 0.f, "subnormal not flushed inside the guard: %g", static_cast<double>(r));
#endif
      (void)r;
    }
    CHECK(rk::fp_mode_get() == before, "FP mode not restored");
    volatile float r = tiny * scale;
    CHECK(r != 0.f, "subnormal flushed outside the guard");
  }
}

// Two application threads (two AsyncWorkers) computing at once: one gets the pool, the
// other runs inline; both must get the same results as alone.
void test_concurrent_callers() {
#if !defined(RNNKIT_NO_THREADS)
  rk_set_threads(2);
  const int M = 70, N = 300, K = 200;
  std::vector<float> A = random_vec(static_cast<std::size_t>(M) * K), B = random_vec(static_cast<std::size_t>(K) * N);
  std::vector<float> want(static_cast<std::size_t>(M) * N);
  rk::sgemm(rk::Trans::No, rk::Trans::No, M, N, K, A.data(), K, B.data(), N, 0.f, want.data(), N);
  std::atomic<int> mismatches{0};
  auto body = [&] {
    std::vector<float> C(want.size());
    for (int rep = 0; rep < 30; ++rep) {
      rk::sgemm(rk::Trans::No, rk::Trans::No, M, N, K, A.data(), K, B.data(), N, 0.f, C.data(), N);
      for (std::size_t i = 0; i < C.size(); ++i)
        if (std::fabs(C[i] - want[i]) > 1e-4f) {
          mismatches.fetch_add(1);
          break;
        }
    }
  };
  std::thread t1(body), t2(body);
  t1.join();
  t2.join();
  CHECK(mismatches.load() == 0, "concurrent sgemm callers: %d wrong results", mismatches.load());
#endif
}

// A per-step product repeated on one PackedB alternates serial and split runs while it
// measures which is faster (gemm.cc, run_measured): the results must be bit-identical.
void test_split_choice_is_invisible() {
  rk_set_threads(2);
  const int M = 3, N = 1030, K = 300;
  std::vector<float> A = random_vec(static_cast<std::size_t>(M) * K), B = random_vec(static_cast<std::size_t>(N) * K);
  rk::PackedB pb;
  pb.pack(rk::Trans::Yes, K, N, B.data(), K);
  std::vector<float> first(static_cast<std::size_t>(M) * N), C(first.size());
  rk::sgemm_packed(M, A.data(), K, pb, 0.f, first.data(), N);
  int differing = 0;
  for (int call = 0; call < 100; ++call) {
    rk::sgemm_packed(M, A.data(), K, pb, 0.f, C.data(), N);
    differing += std::memcmp(C.data(), first.data(), sizeof(float) * C.size()) != 0;
  }
  CHECK(differing == 0, "%d of 100 repeated per-step products differ from the first", differing);
  // The same PackedB from several pool tasks at once (a caller parallelising over batch
  // or directions): each product runs on its task's thread, same results.
  std::vector<std::vector<float>> outs(4, std::vector<float>(first.size()));
  rk::parallel_for(4, [&](int t, int) {
    for (int r = 0; r < 20; ++r) rk::sgemm_packed(M, A.data(), K, pb, 0.f, outs[t].data(), N);
  });
  int wrong = 0;
  for (const auto& o : outs) wrong += std::memcmp(o.data(), first.data(), sizeof(float) * o.size()) != 0;
  CHECK(wrong == 0, "%d of 4 products run inside pool tasks differ", wrong);
}

// sgemm_packed's reverse_columns only changes the order in which a row visits the panels:
// the same bits, for every ISA and for column counts that end in a partial panel or group.
void test_reverse_columns_is_invisible(const char* isa) {
  for (int threads : {1, 2}) {
    rk_set_threads(threads);
    for (int N : {1, 31, 160, 1030, 2048}) {
      const int K = 257;
      for (int M : {1, 3}) {
        std::vector<float> A = random_vec(static_cast<std::size_t>(M) * K), B = random_vec(static_cast<std::size_t>(N) * K);
        rk::PackedB pb;
        pb.pack(rk::Trans::Yes, K, N, B.data(), K);
        for (float beta : {0.f, 1.f}) {
          std::vector<float> fwd = random_vec(static_cast<std::size_t>(M) * N), rev = fwd;
          rk::sgemm_packed(M, A.data(), K, pb, beta, fwd.data(), N, false);
          rk::sgemm_packed(M, A.data(), K, pb, beta, rev.data(), N, true);
          CHECK(std::memcmp(fwd.data(), rev.data(), sizeof(float) * fwd.size()) == 0,
                "%s threads=%d M=%d N=%d beta=%g: reverse_columns changed the result", isa, threads, M, N, beta);
        }
      }
    }
  }
}

// ---- benchmark ----------------------------------------------------------------------

// Seconds of this thread's CPU time (wall time where unavailable): single-thread timings
// on a shared machine should not count time spent descheduled.
double thread_seconds() {
#if defined(CLOCK_THREAD_CPUTIME_ID)
  timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) return ts.tv_sec + ts.tv_nsec * 1e-9;
#endif
  // (Emscripten has no per-thread CPU clock.)
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Shape {
  const char* what;
  rk::Trans ta, tb;
  int M, N, K;
  float beta;
  bool packed;
};

double bench_shape(const Shape& s) {
  const int am = s.ta == rk::Trans::No ? s.M : s.K, ak = s.ta == rk::Trans::No ? s.K : s.M;
  const int bk = s.tb == rk::Trans::No ? s.K : s.N, bn = s.tb == rk::Trans::No ? s.N : s.K;
  std::vector<float> A = random_vec(static_cast<std::size_t>(am) * ak);
  std::vector<float> B = random_vec(static_cast<std::size_t>(bk) * bn);
  std::vector<float> C(static_cast<std::size_t>(s.M) * s.N, 0.f);
  rk::PackedB pb;
  if (s.packed) pb.pack(s.tb, s.K, s.N, B.data(), bn);
  auto once = [&] {
    if (s.packed) {
      rk::sgemm_packed(s.M, A.data(), ak, pb, s.beta, C.data(), s.N);
    } else {
      rk::sgemm(s.ta, s.tb, s.M, s.N, s.K, A.data(), ak, B.data(), bn, s.beta, C.data(), s.N);
    }
  };
  once();
  // One thread: this thread's CPU time, so that time spent descheduled on a shared
  // machine does not count. Several threads: wall time.
  // RK_BENCH_WALL=1: wall time for one thread too (to compare with several threads).
  const bool cpu_time = rk::threads() == 1 && std::getenv("RK_BENCH_WALL") == nullptr;
  auto now = [cpu_time] {
    if (cpu_time) return thread_seconds();
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
  double best = 1e30;
  // Best of 5 rounds of >= 60 ms each (the machine is shared: best, not mean).
  for (int round = 0; round < 5; ++round) {
    long iters = 0;
    const double t0 = now();
    double el = 0;
    do {
      for (int i = 0; i < 8; ++i) once();
      iters += 8;
      el = now() - t0;
    } while (el < 0.06);
    best = std::min(best, el / iters);
  }
  return 2.0 * s.M * s.N * s.K / best * 1e-9;
}

void bench(const std::vector<std::string>& only) {
  const Shape shapes[] = {
      {"lstm step B=1 H=256 (packed)", rk::Trans::No, rk::Trans::Yes, 1, 1024, 256, 1.f, true},
      {"lstm step B=1 H=512 (packed)", rk::Trans::No, rk::Trans::Yes, 1, 2048, 512, 1.f, true},
      {"lstm step B=16 H=256 (packed)", rk::Trans::No, rk::Trans::Yes, 16, 1024, 256, 1.f, true},
      {"lstm step B=64 H=256 (packed)", rk::Trans::No, rk::Trans::Yes, 64, 1024, 256, 1.f, true},
      {"input proj T*B=256 I=128 G*H=1024", rk::Trans::No, rk::Trans::Yes, 256, 1024, 128, 0.f, false},
      {"weight grad dW+=dG^T X 1024x128 K=256", rk::Trans::Yes, rk::Trans::No, 1024, 128, 256, 1.f, false},
      {"square 1024", rk::Trans::No, rk::Trans::No, 1024, 1024, 1024, 0.f, false},
      // lstm-train-large / lstm-infer-b64 (H=512, B=64, T=64: 4096 rows)
      {"lstm step B=64 H=512 (packed)", rk::Trans::No, rk::Trans::Yes, 64, 2048, 512, 0.f, true},
      {"lstm bwd step dh+=da W_hh B=64 H=512", rk::Trans::No, rk::Trans::No, 64, 512, 2048, 1.f, true},
      {"input proj 4096x2048 K=512 (packed)", rk::Trans::No, rk::Trans::Yes, 4096, 2048, 512, 1.f, true},
      {"weight grad dW+=dG^T H 2048x512 K=4096", rk::Trans::Yes, rk::Trans::No, 2048, 512, 4096, 1.f, false},
      {"input grad dX=dG W 4096x512 K=2048", rk::Trans::No, rk::Trans::No, 4096, 512, 2048, 0.f, false},
      // wordlm-8k-train (T*B = 700 rows, E = H = 200, 8000 words)
      {"wordlm weight grad dW+=dG^T X 800x200 K=700", rk::Trans::Yes, rk::Trans::No, 800, 200, 700, 1.f, false},
      {"wordlm head z=Y W^T 700x8000 K=200", rk::Trans::No, rk::Trans::Yes, 700, 8000, 200, 0.f, false},
      {"wordlm head dW=dZ^T Y 8000x200 K=700", rk::Trans::Yes, rk::Trans::No, 8000, 200, 700, 0.f, false},
      {"wordlm head dY=dZ W 700x200 K=8000", rk::Trans::No, rk::Trans::No, 700, 200, 8000, 0.f, false},
  };
  // Arguments: ISA names and/or thread counts (e.g. `bench avx2 1`); default all / 1 and 2.
  std::vector<std::string> isas;
  std::vector<int> thread_counts;
  for (const std::string& o : only) {
    if (!o.empty() && o[0] >= '0' && o[0] <= '9') {
      thread_counts.push_back(std::atoi(o.c_str()));
    } else {
      isas.push_back(o);
    }
  }
  if (thread_counts.empty()) thread_counts = {1, 2};
  for (const char* isa : kIsas) {
    if (!rk::isa_supported(isa)) continue;
    bool want = isas.empty();
    for (const std::string& o : isas) want = want || o == isa;
    if (!want) continue;
    rk_force_isa(isa);
    for (int threads : thread_counts) {
      rk_set_threads(threads);
      if (threads == 1) {
        // The gate nonlinearities (one LSTM step at H=256 evaluates 1280 of them).
        {
          std::vector<float> x = random_vec(4096), y(4096);
          for (float& v : x) v *= 8.f;
          const rk::KernelTable* kt = rk::kernels();
          struct {
            const char* name;
            void (*fn)(const float*, float*, std::ptrdiff_t);
          } fns[] = {{"exp", kt->vec_exp}, {"sigmoid", kt->vec_sigmoid}, {"tanh", kt->vec_tanh}};
          for (const auto& f : fns) {
            const double t0 = thread_seconds();
            long n = 0;
            double el = 0;
            do {
              for (int r = 0; r < 64; ++r) f.fn(x.data(), y.data(), 4096);
              n += 64 * 4096;
              el = thread_seconds() - t0;
            } while (el < 0.05);
            std::printf("%-7s %-8s %.3f ns per element\n", isa, f.name, el / n * 1e9);
          }
        }
        // Packing the recurrent weights (once per optimizer step): GB/s of floats read.
        for (rk::Trans tb : {rk::Trans::Yes, rk::Trans::No}) {
          const int K = 256, N = 1024;
          std::vector<float> B = random_vec(static_cast<std::size_t>(K) * N);
          rk::PackedB pb;
          const int ldb = tb == rk::Trans::Yes ? K : N;
          pb.pack(tb, K, N, B.data(), ldb);
          const double t0 = thread_seconds();
          int reps = 0;
          double el = 0;
          do {
            pb.pack(tb, K, N, B.data(), ldb);
            ++reps;
            el = thread_seconds() - t0;
          } while (el < 0.1);
          std::printf("%-7s pack W %s K=%d N=%d: %.1f us (%.1f GB/s)\n", isa,
                      tb == rk::Trans::Yes ? "transposed" : "as is", K, N, el / reps * 1e6,
                      4.0 * K * N * reps / el * 1e-9);
        }
      }
      // lstm-infer-b1 built from these pieces (I=128, H=256, B=1, T=256): one input
      // projection GEMM over all steps, then per step the recurrent product and the gate
      // nonlinearities (sigmoid over 3H, tanh over 2H, as the fused cell kernel does).
      {
        const int I = 128, H = 256, T = 256, G = 4 * H;
        std::vector<float> x = random_vec(static_cast<std::size_t>(T) * I), wih = random_vec(static_cast<std::size_t>(G) * I),
                           whh = random_vec(static_cast<std::size_t>(G) * H);
        for (float& w : whh) w *= 0.05f;
        std::vector<float> gates(static_cast<std::size_t>(T) * G), rec(G), h(H, 0.f), act(G);
        rk::PackedB pih, phh;
        pih.pack(rk::Trans::Yes, I, G, wih.data(), I);
        phh.pack(rk::Trans::Yes, H, G, whh.data(), H);
        const rk::KernelTable* kt = rk::kernels();
        bool alternate = false;  // reverse_columns on odd steps, as the cells' time loops do
        auto sequence = [&] {
          rk::sgemm_packed(T, x.data(), I, pih, 0.f, gates.data(), G);
          for (int t = 0; t < T; ++t) {
            rk::sgemm_packed(1, h.data(), H, phh, 0.f, rec.data(), G, alternate && (t & 1) != 0);
            const float* g = gates.data() + static_cast<std::size_t>(t) * G;
            for (int j = 0; j < G; ++j) act[j] = g[j] + rec[j];
            kt->vec_sigmoid(act.data(), act.data(), 2 * H);
            kt->vec_tanh(act.data() + 2 * H, act.data() + 2 * H, H);
            kt->vec_sigmoid(act.data() + 3 * H, act.data() + 3 * H, H);
            kt->vec_tanh(act.data() + 2 * H, h.data(), H);  // stands in for tanh(c)
            for (int j = 0; j < H; ++j) h[j] *= act[3 * H + j];
          }
        };
        for (const bool alt : {false, true, false, true}) {
        alternate = alt;
        sequence();
        const bool cpu = threads == 1 && std::getenv("RK_BENCH_WALL") == nullptr;
        auto now = [cpu] {
          return cpu ? thread_seconds()
                     : std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
        };
        double best = 1e30;
        for (int round = 0; round < 5; ++round) {
          const double t0 = now();
          int reps = 0;
          do {
            sequence();
            ++reps;
          } while (now() - t0 < 0.05);
          best = std::min(best, (now() - t0) / reps);
        }
        std::printf("%-7s threads=%d  lstm-infer-b1 pieces (I=128 H=256 T=256)%s: %.0f tokens/s (%.1f us/step)\n",
                    isa, threads, alt ? ", alternating column order" : "", T / best, best / T * 1e6);
        }
      }
      for (const Shape& s : shapes) {
        std::printf("%-7s threads=%d  %-40s M=%4d N=%4d K=%4d  %7.2f GFLOP/s\n", isa, threads, s.what, s.M, s.N,
                    s.K, bench_shape(s));
        std::fflush(stdout);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "bench") == 0) {
    std::vector<std::string> only(argv + 2, argv + argc);
    rk::ScopedFlushDenormals guard;
    bench(only);
    return 0;
  }
  // RNNKIT_ISA picks the path at first use (before any rk_force_isa).
  if (const char* env = std::getenv("RNNKIT_ISA")) {
    if (env[0] != '\0' && std::strcmp(env, "auto") != 0) {
      CHECK(std::strcmp(rk_isa(), env) == 0, "RNNKIT_ISA=%s but rk_isa() is %s", env, rk_isa());
    }
  }
  test_runtime();
  test_concurrent_callers();
  test_split_choice_is_invisible();
  std::printf("approximation errors (max over the test grid):\n");
  for (const char* isa : kIsas) {
    if (!rk::isa_supported(isa)) {
      std::printf("  %-7s not supported here: skipped\n", isa);
      continue;
    }
    CHECK(rk_force_isa(isa) == RK_OK && std::strcmp(rk_isa(), isa) == 0, "force %s", isa);
    test_math(isa, true);
    test_softmax_row(isa);
    test_optim_kernels(isa);
    test_reverse_columns_is_invisible(isa);
    for (int threads : {1, 2}) {
      rk_set_threads(threads);
      const int before = g_failures;
      test_gemm(isa, threads);
      test_gemm_bias(isa, threads);
      std::printf("  %-7s threads=%d gemm %s\n", isa, threads, g_failures == before ? "ok" : "FAILED");
    }
  }
  std::printf("%d checks, %d failures\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
