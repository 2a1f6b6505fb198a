// Runs one golden case (converted by golden_to_text.py) through the C ABI and compares
// forward outputs (1e-5 abs) and gradients (1e-4 · max(1, max|golden|) per tensor).
// Also checks that a keep=0 forward between a training forward and its backward changes
// nothing, and that backward adds into the gradients.
//   golden_driver case.txt   -> prints one line, exit code 1 on mismatch
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "rnnkit.h"

using Vec = std::vector<float>;
using DVec = std::vector<double>;

static double max_abs(const DVec& g) {
  double m = 0;
  for (double v : g) m = std::fmax(m, std::fabs(v));
  return m;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: golden_driver case.txt\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  int cell, L, bi, I, H, B, T;
  in >> cell >> L >> bi >> I >> H >> B >> T;
  std::map<std::string, DVec> arr;
  std::vector<std::string> wnames, gnames;
  std::string name;
  while (in >> name) {
    size_t n;
    in >> n;
    DVec v(n);
    for (auto& e : v) in >> e;
    if (name.rfind("W:", 0) == 0) wnames.push_back(name.substr(2));
    if (name.rfind("G:", 0) == 0) gnames.push_back(name.substr(2));
    arr[name] = v;
  }
  auto f32 = [](const DVec& d) { return Vec(d.begin(), d.end()); };
  rk_stack_spec spec{cell, I, H, H, L, bi};
  rk_stack* s = nullptr;
  if (rk_stack_create(&spec, &s) != RK_OK) { std::printf("create failed: %s\n", rk_last_error()); return 1; }
  Vec params;
  for (auto& w : wnames) for (double v : arr["W:" + w]) params.push_back((float)v);
  if ((int64_t)params.size() != rk_stack_param_count(s)) {
    std::printf("param count %zu vs %lld\n", params.size(), (long long)rk_stack_param_count(s));
    return 1;
  }
  const bool has_c = arr.count("c0") > 0;
  Vec x = f32(arr["x"]), h0 = f32(arr["h0"]), c0 = has_c ? f32(arr["c0"]) : Vec(1);
  Vec y(arr["y"].size()), hn(arr["hn"].size()), cn(has_c ? arr["cn"].size() : 1);
  // First run with other parameters, so that the stack has packed weights cached: writing
  // the real ones through rk_stack_params must make it repack them.
  std::fill(rk_stack_params(s), rk_stack_params(s) + params.size(), 0.125f);
  int st = rk_stack_forward(s, T, B, x.data(), nullptr, nullptr, nullptr, y.data(), nullptr, nullptr, 1);
  if (st) { std::printf("forward: %s\n", rk_last_error()); return 1; }
  Vec dy0(y.size(), 1.0f);
  rk_stack_backward(s, dy0.data(), nullptr, nullptr, nullptr, nullptr, nullptr);
  std::copy(params.begin(), params.end(), rk_stack_params(s));
  rk_stack_zero_grads(s);
  st = rk_stack_forward(s, T, B, x.data(), h0.data(), has_c ? c0.data() : nullptr, nullptr, y.data(), hn.data(),
                            has_c ? cn.data() : nullptr, 1);
  if (st) { std::printf("forward: %s\n", rk_last_error()); return 1; }
  double worst = 0;
  bool ok = true;
  auto cmp_fwd = [&](const char* nm, const Vec& got) {
    const DVec& g = arr[nm];
    double m = 0;
    for (size_t i = 0; i < g.size(); i++) m = std::fmax(m, std::fabs(got[i] - g[i]));
    worst = std::fmax(worst, m);
    if (!(m <= 1e-5)) { std::printf("  %s off by %g\n", nm, m); ok = false; }
  };
  cmp_fwd("y", y);
  cmp_fwd("hn", hn);
  if (has_c) cmp_fwd("cn", cn);
  // An inference forward in between must not disturb the kept tape.
  Vec junk_x(x.size(), 0.25f), junk_y(y.size());
  rk_stack_forward(s, T, B, junk_x.data(), nullptr, nullptr, nullptr, junk_y.data(), nullptr, nullptr, 0);

  Vec dy = f32(arr["dy"]), dhn = f32(arr["dhn"]), dcn = has_c ? f32(arr["dcn"]) : Vec(1);
  Vec dx(x.size()), dh0(h0.size()), dc0(has_c ? c0.size() : 1);
  for (int rep = 0; rep < 2; rep++) {
    st = rk_stack_backward(s, dy.data(), dhn.data(), has_c ? dcn.data() : nullptr, dx.data(), dh0.data(),
                           has_c ? dc0.data() : nullptr);
    if (st) { std::printf("backward: %s\n", rk_last_error()); return 1; }
  }
  double gworst = 0;
  auto cmp_grad = [&](const std::string& nm, const float* got, double scale_rep) {
    const DVec& g = arr["G:" + nm];
    double m = 0;
    for (size_t i = 0; i < g.size(); i++) m = std::fmax(m, std::fabs(got[i] / scale_rep - g[i]));
    double rel = m / std::fmax(1.0, max_abs(g));
    gworst = std::fmax(gworst, rel);
    if (!(rel <= 1e-4)) { std::printf("  grad %s off by %g (rel)\n", nm.c_str(), rel); ok = false; }
  };
  cmp_grad("x", dx.data(), 1);
  cmp_grad("h0", dh0.data(), 1);
  if (has_c) cmp_grad("c0", dc0.data(), 1);
  const float* G = rk_stack_grads(s);
  size_t off = 0;
  for (auto& w : wnames) {
    cmp_grad(w, G + off, 2);  // two backward calls: gradients added twice
    off += arr["W:" + w].size();
  }
  std::printf("%s %s fwd %.2e grad %.2e\n", ok ? "ok  " : "FAIL", argv[1], worst, gworst);
  rk_stack_destroy(s);
  return ok ? 0 : 1;
}
