// The rk_session_* part of the C ABI (rnnkit.h "generation sessions"):
//  - a prompt in one step call, and then one token per call, gives the logits and the final
//    state of rk_model_evaluate over the same prefix (within float32 rounding: the same kernels);
//  - lengths: prompts of different lengths in one call give each sample's logits at its own
//    last step, and a length of 0 leaves a sample's state and logits unchanged;
//  - set_state / get_state round trip, NULL = zeros;
//  - bad arguments (NULL, a wrong B, token ids out of range) give RK_EINVAL and leave the
//    state unchanged; rk_session_destroy(NULL) is a no-op.
// Exits 0 on success (ctest), prints every failed check.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "expect.h"
#include "rnnkit.h"

static const int V = 7, E = 5, H = 6, C = 7, L = 2;

static rk_model* make_model(int32_t cell) {
  rk_model_spec s;
  std::memset(&s, 0, sizeof s);
  s.input_kind = RK_INPUT_EMBEDDING;
  s.vocab = V;
  s.dim = E;
  s.stack = rk_stack_spec{cell, E, H, H, L, 0};
  s.outputs = C;
  s.loss = RK_LOSS_CROSS_ENTROPY;
  s.ignore_index = -100;
  s.readout = RK_READOUT_STEPS;
  rk_model* m = nullptr;
  expect(rk_model_create(&s, &m) == RK_OK, "rk_model_create");
  std::vector<float> p(static_cast<size_t>(rk_model_param_count(m)));
  for (size_t i = 0; i < p.size(); i++) p[i] = 0.5f * std::sin(0.41f * static_cast<float>(i) + 0.3f);
  rk_model_set_params(m, p.data());
  return m;
}

static rk_batch tokens_batch(int T, int B, const int32_t* tokens, const int32_t* lengths) {
  rk_batch b;
  std::memset(&b, 0, sizeof b);
  b.T = T;
  b.B = B;
  b.tokens = tokens;
  b.lengths = lengths;
  return b;
}

// Within float32 rounding: a whole-sequence call sums its GEMMs in another order than one
// step at a time (whole-sequence input projections, per-step blocking).
static bool same(const float* a, const float* b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!(std::fabs(a[i] - b[i]) <= 1e-5f * (1.0f + std::fabs(b[i])))) {
      std::printf("  [%zu] %.9g vs %.9g\n", i, a[i], b[i]);
      return false;
    }
  }
  return true;
}

static void check_matches_evaluate(int32_t cell) {
  rk_model* m = make_model(cell);
  const int T = 5, B = 2;
  std::vector<int32_t> tokens(T * B);
  for (int i = 0; i < T * B; i++) tokens[i] = (i * 3 + 1) % V;
  int64_t n[RK_ARRAY_COUNT];
  rk_model_shapes(m, T, B, 0, n);
  std::vector<float> out(n[RK_ARRAY_OUTPUTS]), hn(n[RK_ARRAY_H]), cn(n[RK_ARRAY_C] + 1);
  rk_step_result r;
  rk_batch all = tokens_batch(T, B, tokens.data(), nullptr);
  expect(rk_model_evaluate(m, &all, out.data(), nullptr, hn.data(), cn.data(), &r) == RK_OK, "evaluate");

  // Prompt of T-2 steps in one call, then one token per call.
  rk_session* s = nullptr;
  expect(rk_session_create(m, B, &s) == RK_OK, "rk_session_create");
  int64_t sn[RK_ARRAY_COUNT];
  expect(rk_session_shapes(s, 1, 0, sn) == RK_OK && sn[RK_ARRAY_OUTPUTS] == B * C && sn[RK_ARRAY_H] == n[RK_ARRAY_H],
         "rk_session_shapes");
  std::vector<float> logits(B * C);
  rk_batch prompt = tokens_batch(T - 2, B, tokens.data(), nullptr);
  expect(rk_session_step(s, &prompt, logits.data()) == RK_OK, "step (prompt)");
  expect(same(logits.data(), &out[(T - 3) * B * C], B * C), "prompt logits = evaluate's at step T-3");
  for (int t = T - 2; t < T; t++) {
    rk_batch one = tokens_batch(1, B, &tokens[t * B], nullptr);
    expect(rk_session_step(s, &one, logits.data()) == RK_OK, "step (one token)");
    expect(same(logits.data(), &out[t * B * C], B * C), "one-token logits = evaluate's");
  }
  std::vector<float> h(n[RK_ARRAY_H]), c(n[RK_ARRAY_C] + 1);
  expect(rk_session_get_state(s, h.data(), c.data()) == RK_OK, "get_state");
  expect(same(h.data(), hn.data(), h.size()), "final h = evaluate's hn");
  expect(same(c.data(), cn.data(), n[RK_ARRAY_C]), "final c = evaluate's cn");

  // Errors leave the state as it was.
  rk_batch wrongB = tokens_batch(1, B + 1, tokens.data(), nullptr);
  expect_status(rk_session_step(s, &wrongB, logits.data()), RK_EINVAL, "session has B", "wrong B");
  std::vector<int32_t> bad = {0, V};
  rk_batch badId = tokens_batch(1, B, bad.data(), nullptr);
  expect(rk_session_step(s, &badId, logits.data()) == RK_EINVAL, "token id = vocab refused");
  expect(rk_session_get_state(s, h.data(), nullptr) == RK_OK && same(h.data(), hn.data(), h.size()), "state unchanged after errors");
  expect_status(rk_session_step(nullptr, &prompt, logits.data()), RK_EINVAL, "session", "NULL session");
  expect_status(rk_session_step(s, nullptr, logits.data()), RK_EINVAL, "batch", "NULL batch");
  expect_status(rk_session_create(m, 0, &s), RK_EINVAL, "", "B = 0");
  expect(s == nullptr, "a refused create writes NULL");
  rk_session_destroy(s);
  rk_session_destroy(nullptr);

  // set_state(NULL) = zeros = a fresh session.
  rk_session* z = nullptr;
  rk_session_create(m, B, &z);
  expect(rk_session_set_state(z, hn.data(), cn.data()) == RK_OK, "set_state");
  expect(rk_session_set_state(z, nullptr, nullptr) == RK_OK, "set_state(NULL)");
  expect(rk_session_step(z, &all, logits.data()) == RK_OK && same(logits.data(), &out[(T - 1) * B * C], B * C),
         "after set_state(NULL) the session starts from zeros");
  rk_session_destroy(z);
  rk_model_destroy(m);
}

static void check_lengths() {
  rk_model* m = make_model(RK_CELL_GRU);
  const int T = 4, B = 3;
  std::vector<int32_t> tokens(T * B);
  for (int i = 0; i < T * B; i++) tokens[i] = (i * 5 + 2) % V;
  const int32_t lengths[B] = {4, 2, 0};
  rk_session* s = nullptr;
  rk_session_create(m, B, &s);
  std::vector<float> logits(B * C), h0(0);
  rk_batch b = tokens_batch(T, B, tokens.data(), lengths);
  expect(rk_session_step(s, &b, logits.data()) == RK_OK, "step with lengths");
  // Each sample alone, with its own length, from zeros.
  for (int k = 0; k < B; k++) {
    if (lengths[k] == 0) {
      bool zero = true;
      for (int j = 0; j < C; j++) zero = zero && logits[k * C + j] == 0.0f;
      expect(zero, "a length-0 sample keeps its (zero) logits");
      continue;
    }
    std::vector<int32_t> mine(lengths[k]);
    for (int t = 0; t < lengths[k]; t++) mine[t] = tokens[t * B + k];
    int64_t n[RK_ARRAY_COUNT];
    rk_model_shapes(m, lengths[k], 1, 0, n);
    std::vector<float> out(n[RK_ARRAY_OUTPUTS]);
    rk_step_result r;
    rk_batch one = tokens_batch(lengths[k], 1, mine.data(), nullptr);
    rk_model_evaluate(m, &one, out.data(), nullptr, nullptr, nullptr, &r);
    bool close = true;
    for (int j = 0; j < C; j++) close = close && std::fabs(logits[k * C + j] - out[(lengths[k] - 1) * C + j]) < 1e-5f;
    expect(close, "each sample's logits at its own last step");
  }
  rk_session_destroy(s);
  rk_model_destroy(m);
}

int main() {
  check_matches_evaluate(RK_CELL_LSTM);
  check_matches_evaluate(RK_CELL_GRU);
  check_lengths();
  std::printf("%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
