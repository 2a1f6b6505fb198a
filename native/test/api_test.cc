// The C ABI refuses bad arguments with a status and a message naming the argument, and
// never crashes: rk_stack_create / rk_stack_forward / rk_stack_backward argument checks,
// RK_ESTATE without a training forward, RK_EINVAL for a stack over the limits, NULL
// outputs, lengths of 0, and that a backward twice adds the gradients twice.
// Exits 0 on success (ctest), prints every failed check.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "expect.h"
#include "rnnkit.h"

int main() {
  rk_stack* s = nullptr;
  rk_stack_spec spec{RK_CELL_LSTM, 3, 4, 4, 2, 1};

  // --- create ---
  expect_status(rk_stack_create(nullptr, &s), RK_EINVAL, "spec", "create(NULL spec)");
  expect_status(rk_stack_create(&spec, nullptr), RK_EINVAL, "out", "create(NULL out)");
  rk_stack_spec bad = spec;
  bad.cell = 7;
  expect_status(rk_stack_create(&bad, &s), RK_EINVAL, "cell", "create(cell 7)");
  expect(s == nullptr, "failed create leaves *out NULL");
  bad = spec;
  bad.hidden_size = 0;
  expect_status(rk_stack_create(&bad, &s), RK_EINVAL, "hidden_size", "create(H 0)");
  bad = spec;
  bad.input_size = -3;
  expect_status(rk_stack_create(&bad, &s), RK_EINVAL, "input_size", "create(I -3)");
  bad = spec;
  bad.layers = 0;
  expect_status(rk_stack_create(&bad, &s), RK_EINVAL, "layers", "create(L 0)");
  bad = spec;
  bad.bidirectional = 2;
  expect_status(rk_stack_create(&bad, &s), RK_EINVAL, "bidirectional", "create(bidirectional 2)");
  bad = spec;
  bad.cell = RK_CELL_JORDAN;
  bad.output_size = 0;
  expect_status(rk_stack_create(&bad, &s), RK_EINVAL, "output_size", "create(jordan O 0)");
  bad = spec;
  bad.hidden_size = 1 << 28;
  expect_status(rk_stack_create(&bad, &s), RK_EINVAL, "hidden_size", "create(H 2^28)");
  bad = spec;
  bad.hidden_size = 1 << 20;  // 4·2^40 parameters per layer: over RK_MAX_PARAMS (abi_test checks every limit)
  bad.layers = 1 << 10;
  rk_status st = rk_stack_create(&bad, &s);
  expect(st == RK_EINVAL && s == nullptr, "create of an impossible stack gives RK_EINVAL");

  // --- a working stack ---
  expect(rk_stack_create(&spec, &s) == RK_OK && s != nullptr, "create");
  const int64_t P = rk_stack_param_count(s);
  // 2 layers × 2 dirs: layer 0 16·3 + 16·4 + 32, layer 1 16·8 + 16·4 + 32
  expect(P == 2 * (48 + 64 + 32) + 2 * (128 + 64 + 32), "param count of an lstm L2 bi I3 H4");
  float* p = rk_stack_params(s);
  for (int64_t i = 0; i < P; i++) p[i] = 0.3f * std::sin(0.7f * static_cast<float>(i));
  const int T = 3, B = 2, I = 3, H = 4, D = 2, L = 2;
  std::vector<float> x(T * B * I), y(T * B * D * H), hn(L * D * B * H), cn(L * D * B * H);
  for (std::size_t i = 0; i < x.size(); i++) x[i] = std::cos(1.3f * static_cast<float>(i));

  expect_status(rk_stack_backward(s, y.data(), nullptr, nullptr, nullptr, nullptr, nullptr), RK_ESTATE, "keep",
                "backward before any training forward");
  expect_status(rk_stack_forward(nullptr, T, B, x.data(), nullptr, nullptr, nullptr, y.data(), hn.data(), cn.data(), 0),
                RK_EINVAL, "stack", "forward(NULL stack)");
  expect_status(rk_stack_forward(s, 0, B, x.data(), nullptr, nullptr, nullptr, y.data(), hn.data(), cn.data(), 0),
                RK_EINVAL, "T", "forward(T 0)");
  expect_status(rk_stack_forward(s, T, -1, x.data(), nullptr, nullptr, nullptr, y.data(), hn.data(), cn.data(), 0),
                RK_EINVAL, "B", "forward(B -1)");
  expect_status(rk_stack_forward(s, T, B, nullptr, nullptr, nullptr, nullptr, y.data(), hn.data(), cn.data(), 0),
                RK_EINVAL, "x", "forward(NULL x)");
  expect_status(rk_stack_forward(s, 1 << 20, 1 << 12, x.data(), nullptr, nullptr, nullptr, y.data(), hn.data(),
                                 cn.data(), 0),
                RK_EINVAL, "T*B", "forward(T*B > INT_MAX)");
  int32_t lengths[2] = {3, 4};
  expect_status(rk_stack_forward(s, T, B, x.data(), nullptr, nullptr, lengths, y.data(), hn.data(), cn.data(), 0),
                RK_EINVAL, "lengths[1]", "forward(lengths[1] > T)");
  lengths[1] = -1;
  expect_status(rk_stack_forward(s, T, B, x.data(), nullptr, nullptr, lengths, y.data(), hn.data(), cn.data(), 0),
                RK_EINVAL, "lengths[1]", "forward(lengths[1] < 0)");

  // Every output may be NULL; a length of 0 holds the initial state and outputs zeros.
  expect(rk_stack_forward(s, T, B, x.data(), nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 0) == RK_OK,
         "forward with every output NULL");
  lengths[0] = 0;
  lengths[1] = 2;
  std::vector<float> h0(hn.size()), c0(cn.size());
  for (std::size_t i = 0; i < h0.size(); i++) h0[i] = 0.1f * static_cast<float>(i % 7), c0[i] = -0.05f * (i % 5);
  expect(rk_stack_forward(s, T, B, x.data(), h0.data(), c0.data(), lengths, y.data(), hn.data(), cn.data(), 1) == RK_OK,
         "training forward with lengths {0, 2}");
  bool zero_out = true, held = true;
  for (int t = 0; t < T; t++)
    for (int k = 0; k < D * H; k++) zero_out = zero_out && y[(t * B + 0) * D * H + k] == 0.0f;
  for (int k = 0; k < D * H; k++) zero_out = zero_out && y[(2 * B + 1) * D * H + k] == 0.0f;
  for (int ld = 0; ld < L * D; ld++)
    for (int k = 0; k < H; k++) {
      held = held && hn[(ld * B + 0) * H + k] == h0[(ld * B + 0) * H + k];
      held = held && cn[(ld * B + 0) * H + k] == c0[(ld * B + 0) * H + k];
    }
  expect(zero_out, "outputs at padded steps are 0");
  expect(held, "a sequence of length 0 keeps h0 and c0 as hn and cn");

  // Backward twice adds the same gradients twice; NULL dy/dhn/dcn are zeros, NULL results skipped.
  std::vector<float> dy(y.size(), 0.5f), dx(x.size()), dh0(hn.size()), dc0(cn.size());
  rk_stack_zero_grads(s);
  expect(rk_stack_backward(s, dy.data(), nullptr, nullptr, dx.data(), dh0.data(), dc0.data()) == RK_OK, "backward");
  std::vector<float> g1(rk_stack_grads(s), rk_stack_grads(s) + P);
  expect(rk_stack_backward(s, dy.data(), nullptr, nullptr, nullptr, nullptr, nullptr) == RK_OK, "backward, NULL results");
  const float* g2 = rk_stack_grads(s);
  double worst = 0, norm = 0;
  for (int64_t i = 0; i < P; i++) {
    worst = std::fmax(worst, std::fabs(g2[i] - 2 * g1[i]));
    norm += g1[i] * g1[i];
  }
  expect(norm > 0 && worst <= 1e-6 * (1 + std::sqrt(norm)), "second backward adds the gradients again");
  bool dx_pad_zero = true;
  for (int t = 0; t < T; t++)
    for (int k = 0; k < I; k++) dx_pad_zero = dx_pad_zero && dx[(t * B + 0) * I + k] == 0.0f;
  expect(dx_pad_zero, "dx is 0 for a sequence of length 0");
  bool dh0_pass = true;  // length 0: dh0 = dhn = 0 (NULL), dc0 likewise
  for (int ld = 0; ld < L * D; ld++)
    for (int k = 0; k < H; k++) dh0_pass = dh0_pass && dh0[(ld * B) * H + k] == 0.0f && dc0[(ld * B) * H + k] == 0.0f;
  expect(dh0_pass, "dh0, dc0 of a length-0 sequence pass dhn, dcn (here 0) through");

  rk_stack_destroy(s);
  rk_stack_destroy(nullptr);

  // Threads: pointwise work is split over batch rows when large enough (B·G·H here is),
  // so one and two threads must agree for every cell (up to GEMM summation order).
  for (int cell = RK_CELL_RNN_TANH; cell <= RK_CELL_JORDAN; cell++) {
    const int tT = 4, tB = 64, tI = 5, tH = 96, tO = 24;
    rk_stack_spec ts{cell, tI, tH, tO, 2, 1};
    std::vector<float> out[2][4];
    for (int run = 0; run < 2; run++) {
      rk_set_threads(run == 0 ? 1 : 2);
      rk_stack* st2 = nullptr;
      expect(rk_stack_create(&ts, &st2) == RK_OK, "create for the threads check");
      const int64_t n = rk_stack_param_count(st2);
      float* w = rk_stack_params(st2);
      for (int64_t i = 0; i < n; i++) w[i] = 0.2f * std::sin(0.37f * static_cast<float>(i));
      const int S = cell == RK_CELL_JORDAN ? tO : tH;
      std::vector<float> tx(tT * tB * tI), ty(tT * tB * 2 * S), thn(4 * tB * S), tcn(4 * tB * tH);
      for (std::size_t i = 0; i < tx.size(); i++) tx[i] = std::cos(0.11f * static_cast<float>(i));
      std::vector<int32_t> len(tB);
      for (int b = 0; b < tB; b++) len[b] = 1 + b % tT;
      expect(rk_stack_forward(st2, tT, tB, tx.data(), nullptr, nullptr, len.data(), ty.data(), thn.data(), tcn.data(),
                              1) == RK_OK,
             "forward for the threads check");
      std::vector<float> tdy(ty.size()), tdx(tx.size()), tdh0(thn.size());
      for (std::size_t i = 0; i < tdy.size(); i++) tdy[i] = std::sin(0.05f * static_cast<float>(i));
      expect(rk_stack_backward(st2, tdy.data(), nullptr, nullptr, tdx.data(), tdh0.data(), nullptr) == RK_OK,
             "backward for the threads check");
      out[run][0] = ty;
      out[run][1] = thn;
      out[run][2] = tdx;
      out[run][3].assign(rk_stack_grads(st2), rk_stack_grads(st2) + n);
      rk_stack_destroy(st2);
    }
    double worst = 0;
    for (int k = 0; k < 4; k++) {
      double scale = 1;
      for (float v : out[0][k]) scale = std::fmax(scale, std::fabs(v));
      for (std::size_t i = 0; i < out[0][k].size(); i++)
        worst = std::fmax(worst, std::fabs(out[0][k][i] - out[1][k][i]) / scale);
    }
    char what[96];
    std::snprintf(what, sizeof what, "cell %d: one and two threads agree (worst %.2e)", cell, worst);
    expect(worst <= 1e-5, what);
  }
  rk_set_threads(0);

  // Inference forwards (keep == 0) run in chunks of steps to bound their memory: with long
  // sequences (several chunks, one partly padding) and with huge batches (one-step chunks)
  // they must give what a training forward (one chunk) gives, for every cell.
  const int shapes[2][2] = {{2100, 2}, {5, 1000}};  // {T, B}
  for (int cell = RK_CELL_RNN_TANH; cell <= RK_CELL_JORDAN; cell++) {
    for (const auto& shape : shapes) {
      const int cT = shape[0], cB = shape[1], cI = 3, cH = 5, cO = 4;
      rk_stack_spec cs{cell, cI, cH, cO, 2, 1};
      rk_stack* st3 = nullptr;
      expect(rk_stack_create(&cs, &st3) == RK_OK, "create for the chunk check");
      const int64_t n = rk_stack_param_count(st3);
      float* w = rk_stack_params(st3);
      for (int64_t i = 0; i < n; i++) w[i] = 0.4f * std::sin(0.61f * static_cast<float>(i));
      const int S = cell == RK_CELL_JORDAN ? cO : cH;
      std::vector<float> cx(static_cast<std::size_t>(cT) * cB * cI), h0c(4 * cB * S), c0c(4 * cB * cH);
      for (std::size_t i = 0; i < cx.size(); i++) cx[i] = std::sin(0.013f * static_cast<float>(i));
      for (std::size_t i = 0; i < h0c.size(); i++) h0c[i] = 0.3f * std::cos(0.7f * static_cast<float>(i));
      for (std::size_t i = 0; i < c0c.size(); i++) c0c[i] = 0.2f * std::sin(0.9f * static_cast<float>(i));
      std::vector<int32_t> len(cB);
      for (int b = 0; b < cB; b++) len[b] = cB == 2 ? (b == 0 ? cT : 1500) : (b * 7) % (cT + 1);
      std::vector<float> ys[2], hs[2], cs2[2];
      for (int keep = 0; keep < 2; keep++) {
        ys[keep].assign(static_cast<std::size_t>(cT) * cB * 2 * S, -1.0f);
        hs[keep].assign(4 * cB * S, -1.0f);
        cs2[keep].assign(4 * cB * cH, -1.0f);
        expect(rk_stack_forward(st3, cT, cB, cx.data(), h0c.data(), c0c.data(), len.data(), ys[keep].data(),
                                hs[keep].data(), cs2[keep].data(), keep) == RK_OK,
               "forward for the chunk check");
      }
      double worst = 0;
      for (std::size_t i = 0; i < ys[0].size(); i++) worst = std::fmax(worst, std::fabs(ys[0][i] - ys[1][i]));
      for (std::size_t i = 0; i < hs[0].size(); i++) worst = std::fmax(worst, std::fabs(hs[0][i] - hs[1][i]));
      if (cell == RK_CELL_LSTM || cell == RK_CELL_LSTM_PEEPHOLE)
        for (std::size_t i = 0; i < cs2[0].size(); i++) worst = std::fmax(worst, std::fabs(cs2[0][i] - cs2[1][i]));
      char what[128];
      std::snprintf(what, sizeof what, "cell %d T %d B %d: chunked inference forward = training forward (worst %.2e)",
                    cell, cT, cB, worst);
      expect(worst <= 1e-6, what);
      rk_stack_destroy(st3);
    }
  }
  expect(rk_stack_param_count(nullptr) == 0 && rk_stack_params(nullptr) == nullptr, "NULL stack accessors");
  if (failures == 0) std::printf("api_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
