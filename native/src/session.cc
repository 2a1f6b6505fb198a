// The rk_session_* functions of rnnkit.h: generation sessions over rk_model_evaluate.
//
// A session owns the recurrent state of B samples and each sample's last logits; a step
// is one rk_model_evaluate with h0 / c0 = the state, whose hn / cn become the new state.
// Nothing here computes: the model's evaluate path does (so a session's logits are those
// of rk_model_evaluate over the same prefix, by construction). Sizes come from
// rk_model_shapes, which bounds them all.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "error.h"
#include "rnnkit.h"

struct rk_session {
  rk_model* model = nullptr;
  int32_t B = 0;
  int64_t C = 0;              // head outputs per sample
  std::vector<float> h, c;    // the state [L*D][B][S], [L*D][B][H] (c empty without a cell state)
  std::vector<float> hn, cn;  // the next state, swapped in after a successful step
  std::vector<float> logits;  // [B][C] each sample's last logits
  std::vector<float> outputs; // scratch: the head outputs of the last step call
};

namespace {

using rk::guarded;

}  // namespace

extern "C" {

rk_status rk_session_create(rk_model* m, int32_t B, rk_session** out) {
  static const char* const what = "rk_session_create";
  return guarded(what, [&]() -> rk_status {
    if (out == nullptr) return rk::fail(RK_EINVAL, "%s: out must not be NULL", what);
    *out = nullptr;
    if (m == nullptr) return rk::fail(RK_EINVAL, "%s: model must not be NULL", what);
    int64_t n[RK_ARRAY_COUNT];
    // Bounds B and every size of a one-step call (RK_EINVAL beyond the limits).
    if (rk_status st = rk_model_shapes(m, 1, B, 0, n)) return st;
    auto* s = new rk_session();
    s->model = m;
    s->B = B;
    s->C = n[RK_ARRAY_OUTPUTS] / B;  // one step: B rows for either readout
    s->h.assign(static_cast<size_t>(n[RK_ARRAY_H]), 0.0f);
    s->c.assign(static_cast<size_t>(n[RK_ARRAY_C]), 0.0f);
    s->hn.resize(s->h.size());
    s->cn.resize(s->c.size());
    s->logits.assign(static_cast<size_t>(n[RK_ARRAY_OUTPUTS]), 0.0f);
    *out = s;
    return RK_OK;
  });
}

void rk_session_destroy(rk_session* s) { delete s; }

rk_status rk_session_shapes(const rk_session* s, int32_t T, int32_t source_T, int64_t out[RK_ARRAY_COUNT]) {
  static const char* const what = "rk_session_shapes";
  return guarded(what, [&]() -> rk_status {
    if (s == nullptr) return rk::fail(RK_EINVAL, "%s: session must not be NULL", what);
    if (out == nullptr) return rk::fail(RK_EINVAL, "%s: out must not be NULL", what);
    if (rk_status st = rk_model_shapes(s->model, T, s->B, source_T, out)) return st;
    out[RK_ARRAY_OUTPUTS] = static_cast<int64_t>(s->logits.size());
    return RK_OK;
  });
}

rk_status rk_session_set_state(rk_session* s, const float* h, const float* c) {
  static const char* const what = "rk_session_set_state";
  return guarded(what, [&]() -> rk_status {
    if (s == nullptr) return rk::fail(RK_EINVAL, "%s: session must not be NULL", what);
    if (h) std::memcpy(s->h.data(), h, s->h.size() * sizeof(float));
    else std::fill(s->h.begin(), s->h.end(), 0.0f);
    if (c && !s->c.empty()) std::memcpy(s->c.data(), c, s->c.size() * sizeof(float));
    else std::fill(s->c.begin(), s->c.end(), 0.0f);
    return RK_OK;
  });
}

rk_status rk_session_get_state(const rk_session* s, float* h, float* c) {
  static const char* const what = "rk_session_get_state";
  return guarded(what, [&]() -> rk_status {
    if (s == nullptr) return rk::fail(RK_EINVAL, "%s: session must not be NULL", what);
    if (h && !s->h.empty()) std::memcpy(h, s->h.data(), s->h.size() * sizeof(float));
    if (c && !s->c.empty()) std::memcpy(c, s->c.data(), s->c.size() * sizeof(float));
    return RK_OK;
  });
}

rk_status rk_session_step(rk_session* s, const rk_batch* batch, float* logits) {
  static const char* const what = "rk_session_step";
  return guarded(what, [&]() -> rk_status {
    if (s == nullptr) return rk::fail(RK_EINVAL, "%s: session must not be NULL", what);
    if (batch == nullptr) return rk::fail(RK_EINVAL, "%s: batch must not be NULL", what);
    if (batch->B != s->B) return rk::fail(RK_EINVAL, "%s: batch B is %d; the session has B = %d", what, batch->B, s->B);
    int64_t n[RK_ARRAY_COUNT];
    if (rk_status st = rk_model_shapes(s->model, batch->T, s->B, batch->source_T, n)) return st;
    rk_batch b = *batch;
    b.h0 = s->h.data();
    b.c0 = s->c.empty() ? nullptr : s->c.data();
    b.targets = nullptr;
    b.target_values = nullptr;
    b.target_mask = nullptr;
    b.dropout_seed = 0;
    s->outputs.resize(static_cast<size_t>(n[RK_ARRAY_OUTPUTS]));
    rk_step_result r;
    // rk_model_evaluate checks the batch (token ids, lengths, source) and sets the message.
    if (rk_status st = rk_model_evaluate(s->model, &b, s->outputs.data(), nullptr, s->hn.data(),
                                         s->cn.empty() ? nullptr : s->cn.data(), &r)) {
      return st;
    }
    std::swap(s->h, s->hn);
    std::swap(s->c, s->cn);
    const int64_t B = s->B, C = s->C, T = batch->T;
    const int64_t rows = n[RK_ARRAY_OUTPUTS] / C;  // T*B (readout steps) or B (final state)
    for (int64_t k = 0; k < B; k++) {
      const int64_t len = batch->lengths ? batch->lengths[k] : T;
      if (len == 0) continue;  // held: state and logits unchanged
      const int64_t row = rows == B ? k : (len - 1) * B + k;
      std::memcpy(&s->logits[k * C], &s->outputs[row * C], static_cast<size_t>(C) * sizeof(float));
    }
    if (logits) std::memcpy(logits, s->logits.data(), s->logits.size() * sizeof(float));
    return RK_OK;
  });
}

}  // extern "C"
