// Quick timing of one stack through the C ABI (not the benchmark suite: that is bench/).
//   bench_stack cell I H B T layers [iters]   (cell: rk_cell number; threads from RNNKIT_THREADS)
// Prints forward, forward+backward milliseconds (median) and the GFLOP/s of the GEMM work.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "rnnkit.h"

static double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int main(int argc, char** argv) {
  if (argc < 7) { std::fprintf(stderr, "usage: bench_stack cell I H B T layers [iters]\n"); return 2; }
  int cell = std::atoi(argv[1]), I = std::atoi(argv[2]), H = std::atoi(argv[3]), B = std::atoi(argv[4]);
  int T = std::atoi(argv[5]), L = std::atoi(argv[6]), iters = argc > 7 ? std::atoi(argv[7]) : 10;
  if (const char* t = std::getenv("RNNKIT_THREADS")) rk_set_threads(std::atoi(t));
  rk_stack_spec spec{cell, I, H, H, L, 0};
  rk_stack* s;
  if (rk_stack_create(&spec, &s)) { std::printf("%s\n", rk_last_error()); return 1; }
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-0.06f, 0.06f);
  float* p = rk_stack_params(s);
  for (int64_t i = 0; i < rk_stack_param_count(s); i++) p[i] = u(rng);
  std::vector<float> x((size_t)T * B * I), y((size_t)T * B * H), hn((size_t)L * B * H), cn((size_t)L * B * H);
  std::vector<float> dy(y.size(), 0.01f), dx(x.size()), dh0(hn.size()), dc0(cn.size());
  for (auto& v : x) v = u(rng) * 10;
  std::vector<double> tf, tb;
  const bool infer = std::getenv("RK_BENCH_INFER") != nullptr;  // forward only, keep = 0
  for (int it = 0; it < iters + 2; it++) {
    double t0 = now_ms();
    rk_stack_forward(s, T, B, x.data(), nullptr, nullptr, nullptr, y.data(), hn.data(), cn.data(), infer ? 0 : 1);
    double t1 = now_ms();
    if (!infer) rk_stack_backward(s, dy.data(), nullptr, nullptr, dx.data(), dh0.data(), dc0.data());
    double t2 = now_ms();
    if (it >= 2) { tf.push_back(t1 - t0); tb.push_back(t2 - t0); }
  }
  std::sort(tf.begin(), tf.end());
  std::sort(tb.begin(), tb.end());
  int G = cell == 2 || cell == 3 ? 4 : cell == 4 || cell == 5 ? 3 : 1;
  double flop = 2.0 * G * H * (double)(I + H) * T * B * L;
  double f = tf[tf.size() / 2], fb = tb[tb.size() / 2];
  std::printf("isa %s threads %d  fwd %.4f ms (%.1f GFLOP/s)  fwd+bwd %.2f ms (%.1f GFLOP/s)  tokens/s %.0f\n", rk_isa(),
              rk_get_threads(), f, flop / f / 1e6, fb, 3 * flop / fb / 1e6, T * B / fb * 1e3);
  rk_stack_destroy(s);
}
