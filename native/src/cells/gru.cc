// gru (torch.nn.GRU, "linear-before-reset"), gate rows r, z, n:
//   r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz),
//   n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),  h' = (1 − z)*n + z*h
// gru_cho (Cho et al. 2014): n = tanh(W_in x + b_in + W_hn (r*h) + b_hn); the reset gate is
// applied before the recurrent product, so each step needs a second, dependent product.
#include <utility>

#include "cells/common.h"
#include "dispatch.h"

namespace rk {

using cells::time_at;

namespace {

void gru_lbr_forward(const ForwardArgs& a) {
  const int H = a.dims->H, B = a.seq.B, T = a.seq.T, G3 = 3 * H;
  const std::size_t rows = cells::rows_of(a.seq), BH = static_cast<std::size_t>(B) * H;
  float* gates = a.tape.gates;
  // b_hr and b_hz fold into the input projection; b_hn stays inside r*(W_hn h + b_hn).
  cells::input_projection(rows, a.in, G3, a.x, a.w.weight_ih, a.w.bias_ih, a.w.bias_hh, 2 * H, a.packs, gates,
                          a.flip);
  if (!a.packs->ready) a.packs->a.pack(Trans::Yes, H, G3, a.w.weight_hh, H);
  const float* bhn = a.w.bias_hh + 2 * H;

  const KernelTable* kt = kernels();
  Carver cv(a.step);
  float* rec = cv.take(static_cast<std::size_t>(B) * G3);
  std::memcpy(a.tape.hprev + time_at(0, T, a.reverse) * BH, a.h0, sizeof(float) * BH);
  for (int s = 0; s < T; s++) {
    const int t = time_at(s, T, a.reverse);
    const float* hcur = a.tape.hprev + t * BH;
    float* hnext = s + 1 < T ? a.tape.hprev + time_at(s + 1, T, a.reverse) * BH : a.hn;
    sgemm_packed(B, hcur, H, a.packs->a, 0.0f, rec, G3, cells::reverse_step(a, s));
    cells::for_rows(B, 4 * G3, [&](int b0, int b1) {
      for (int b = b0; b < b1; b++) {
        const std::size_t row = static_cast<std::size_t>(t) * B + b;
        float* g = gates + row * G3;
        const float* r = rec + static_cast<std::size_t>(b) * G3;
        kt->gru_forward_row(H, g, r, bhn, hcur + static_cast<std::size_t>(b) * H, a.tape.inner + row * H,
                            hnext + static_cast<std::size_t>(b) * H);
      }
    });
    cells::finish_step(a.seq, t, H, hcur, hnext, H, nullptr, nullptr, a.y, a.ldy);
  }
}

void gru_cho_forward(const ForwardArgs& a) {
  const int H = a.dims->H, B = a.seq.B, T = a.seq.T, G3 = 3 * H;
  const std::size_t rows = cells::rows_of(a.seq), BH = static_cast<std::size_t>(B) * H;
  float* gates = a.tape.gates;
  // Every bias is outside r.
  cells::input_projection(rows, a.in, G3, a.x, a.w.weight_ih, a.w.bias_ih, a.w.bias_hh, G3, a.packs, gates, a.flip);
  if (!a.packs->ready) {
    a.packs->a.pack(Trans::Yes, H, 2 * H, a.w.weight_hh, H);                                 // W_hr, W_hz
    a.packs->b.pack(Trans::Yes, H, H, a.w.weight_hh + 2 * static_cast<std::size_t>(H) * H, H);  // W_hn
  }

  const KernelTable* kt = kernels();
  Carver cv(a.step);
  float* rec = cv.take(static_cast<std::size_t>(B) * 2 * H);
  float* recn = cv.take(BH);
  std::memcpy(a.tape.hprev + time_at(0, T, a.reverse) * BH, a.h0, sizeof(float) * BH);
  for (int s = 0; s < T; s++) {
    const int t = time_at(s, T, a.reverse);
    const float* hcur = a.tape.hprev + t * BH;
    float* hnext = s + 1 < T ? a.tape.hprev + time_at(s + 1, T, a.reverse) * BH : a.hn;
    float* inner = a.tape.inner + t * BH;  // r*h for the whole batch: the second product's input
    sgemm_packed(B, hcur, H, a.packs->a, 0.0f, rec, 2 * H, cells::reverse_step(a, s));
    cells::for_rows(B, 2 * G3, [&](int b0, int b1) {
      for (int b = b0; b < b1; b++) {
        float* g = gates + (static_cast<std::size_t>(t) * B + b) * G3;
        kt->gru_cho_gates_row(H, g, rec + static_cast<std::size_t>(b) * 2 * H, hcur + static_cast<std::size_t>(b) * H,
                              inner + static_cast<std::size_t>(b) * H);
      }
    });
    sgemm_packed(B, inner, H, a.packs->b, 0.0f, recn, H, cells::reverse_step(a, s));
    cells::for_rows(B, 2 * G3, [&](int b0, int b1) {
      for (int b = b0; b < b1; b++) {
        float* g = gates + (static_cast<std::size_t>(t) * B + b) * G3;
        kt->gru_cho_update_row(H, g, recn + static_cast<std::size_t>(b) * H, hcur + static_cast<std::size_t>(b) * H,
                               hnext + static_cast<std::size_t>(b) * H);
      }
    });
    cells::finish_step(a.seq, t, H, hcur, hnext, H, nullptr, nullptr, a.y, a.ldy);
  }
}

void gru_lbr_backward(const BackwardArgs& a) {
  const int H = a.dims->H, B = a.seq.B, T = a.seq.T, G3 = 3 * H;
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  if (!a.packs->ready) a.packs->a.pack(Trans::No, G3, H, a.w.weight_hh, H);
  const KernelTable* kt = kernels();

  Carver cv(a.step);
  float* dh = cv.take(BH);
  float* next = cv.take(BH);
  if (a.dhn != nullptr) std::memcpy(dh, a.dhn, sizeof(float) * BH);
  else std::memset(dh, 0, sizeof(float) * BH);

  for (int s = T - 1; s >= 0; s--) {
    const int t = time_at(s, T, a.reverse);
    cells::for_rows(B, 4 * G3, [&](int b0, int b1) {
      for (int b = b0; b < b1; b++) {
        const std::size_t row = static_cast<std::size_t>(t) * B + b;
        float* dai = a.da + row * G3;   // input side: [daR, daZ, daN]
        float* dah = a.da2 + row * G3;  // recurrent side: [daR, daZ, daN*r]
        const float* dhb = dh + static_cast<std::size_t>(b) * H;
        float* nb = next + static_cast<std::size_t>(b) * H;
        if (!a.seq.valid(t, b)) {
          std::memset(dai, 0, sizeof(float) * G3);
          std::memset(dah, 0, sizeof(float) * G3);
          std::memcpy(nb, dhb, sizeof(float) * H);
          continue;
        }
        const float* g = a.tape.gates + row * G3;
        const float* inner = a.tape.inner + row * H;
        const float* hc = a.tape.hprev + row * H;
        kt->gru_backward_row(H, g, inner, hc, dhb, a.dy + row * a.lddy, dai, dah, nb);
      }
    });
    sgemm_packed(B, a.da2 + static_cast<std::size_t>(t) * B * G3, G3, a.packs->a, 1.0f, next, H);
    std::swap(dh, next);
  }
  if (a.dh0 != nullptr) std::memcpy(a.dh0, dh, sizeof(float) * BH);
  cells::plain_param_grads(a, G3, H, a.da, a.da2);
}

void gru_cho_backward(const BackwardArgs& a) {
  const int H = a.dims->H, B = a.seq.B, T = a.seq.T, G3 = 3 * H;
  const std::size_t rows = cells::rows_of(a.seq), BH = static_cast<std::size_t>(B) * H;
  const float* W_hn = a.w.weight_hh + 2 * static_cast<std::size_t>(H) * H;
  if (!a.packs->ready) a.packs->a.pack(Trans::No, 2 * H, H, a.w.weight_hh, H);  // [W_hr; W_hz]
  if (!a.packs->ready) a.packs->b.pack(Trans::No, H, H, W_hn, H);
  const KernelTable* kt = kernels();

  Carver cv(a.step);
  float* dh = cv.take(BH);
  float* next = cv.take(BH);
  float* dinner = cv.take(BH);  // dL/d(r*h)
  if (a.dhn != nullptr) std::memcpy(dh, a.dhn, sizeof(float) * BH);
  else std::memset(dh, 0, sizeof(float) * BH);

  for (int s = T - 1; s >= 0; s--) {
    const int t = time_at(s, T, a.reverse);
    float* dat = a.da + static_cast<std::size_t>(t) * B * G3;
    cells::for_rows(B, 3 * G3, [&](int b0, int b1) {
      for (int b = b0; b < b1; b++) {
        const std::size_t row = static_cast<std::size_t>(t) * B + b;
        float* da = a.da + row * G3;
        const float* dhb = dh + static_cast<std::size_t>(b) * H;
        float* nb = next + static_cast<std::size_t>(b) * H;
        if (!a.seq.valid(t, b)) {
          std::memset(da, 0, sizeof(float) * G3);
          std::memcpy(nb, dhb, sizeof(float) * H);
          continue;
        }
        const float* g = a.tape.gates + row * G3;
        const float* hc = a.tape.hprev + row * H;
        kt->gru_cho_backward1_row(H, g, hc, dhb, a.dy + row * a.lddy, da, nb);
      }
    });
    sgemm_packed(B, dat + 2 * H, G3, a.packs->b, 0.0f, dinner, H);  // daN · W_hn
    cells::for_rows(B, 2 * G3, [&](int b0, int b1) {
      for (int b = b0; b < b1; b++) {
        if (!a.seq.valid(t, b)) continue;  // its da row is already 0, dh passed through
        const std::size_t row = static_cast<std::size_t>(t) * B + b;
        const float* g = a.tape.gates + row * G3;
        const float* hc = a.tape.hprev + row * H;
        kt->gru_cho_backward2_row(H, g, hc, dinner + static_cast<std::size_t>(b) * H, a.da + row * G3,
                                  next + static_cast<std::size_t>(b) * H);
      }
    });
    sgemm_packed(B, dat, G3, a.packs->a, 1.0f, next, H);  // + [daR, daZ] · [W_hr; W_hz]
    std::swap(dh, next);
  }
  if (a.dh0 != nullptr) std::memcpy(a.dh0, dh, sizeof(float) * BH);

  const int n = static_cast<int>(rows);
  sgemm(Trans::Yes, Trans::No, G3, a.in, n, a.da, G3, a.x, a.in, 1.0f, a.g.weight_ih, a.in);
  sgemm(Trans::Yes, Trans::No, 2 * H, H, n, a.da, G3, a.tape.hprev, H, 1.0f, a.g.weight_hh, H);
  sgemm(Trans::Yes, Trans::No, H, H, n, a.da + 2 * H, G3, a.tape.inner, H, 1.0f,
        a.g.weight_hh + 2 * static_cast<std::size_t>(H) * H, H);
  cells::add_column_sums(rows, G3, a.da, G3, a.g.bias_ih);
  cells::add_column_sums(rows, G3, a.da, G3, a.g.bias_hh);
  cells::input_grad(a, G3, a.da);
}

}  // namespace

void gru_forward(const ForwardArgs& a) {
  if (a.dims->cell == RK_CELL_GRU_CHO) gru_cho_forward(a);
  else gru_lbr_forward(a);
}

void gru_backward(const BackwardArgs& a) {
  if (a.dims->cell == RK_CELL_GRU_CHO) gru_cho_backward(a);
  else gru_lbr_backward(a);
}

}  // namespace rk
