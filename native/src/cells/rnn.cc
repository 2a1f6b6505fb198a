// rnn_tanh: h' = tanh(W_ih x + b_ih + W_hh h + b_hh);  rnn_relu: h' = max(0, same).
#include <utility>

#include "cells/common.h"
#include "dispatch.h"

namespace rk {

using cells::time_at;

void rnn_forward(const ForwardArgs& a) {
  const int H = a.dims->H, B = a.seq.B, T = a.seq.T;
  const int relu = a.dims->cell == RK_CELL_RNN_RELU ? 1 : 0;
  const KernelTable* kt = kernels();
  const std::size_t rows = cells::rows_of(a.seq), BH = static_cast<std::size_t>(B) * H;
  float* gates = a.tape.gates;
  cells::input_projection(rows, a.in, H, a.x, a.w.weight_ih, a.w.bias_ih, a.w.bias_hh, H, a.packs, gates, a.flip);
  if (!a.packs->ready) a.packs->a.pack(Trans::Yes, H, H, a.w.weight_hh, H);

  Carver cv(a.step);
  float* rec = cv.take(BH);
  std::memcpy(a.tape.hprev + time_at(0, T, a.reverse) * BH, a.h0, sizeof(float) * BH);
  for (int s = 0; s < T; s++) {
    const int t = time_at(s, T, a.reverse);
    const float* hcur = a.tape.hprev + t * BH;
    float* hnext = s + 1 < T ? a.tape.hprev + time_at(s + 1, T, a.reverse) * BH : a.hn;
    sgemm_packed(B, hcur, H, a.packs->a, 0.0f, rec, H, cells::reverse_step(a, s));
    kt->act_add_rows(static_cast<std::ptrdiff_t>(BH), relu, gates + t * BH, rec, hnext);
    cells::finish_step(a.seq, t, H, hcur, hnext, H, nullptr, nullptr, a.y, a.ldy);
  }
}

void rnn_backward(const BackwardArgs& a) {
  const int H = a.dims->H, B = a.seq.B, T = a.seq.T;
  const int relu = a.dims->cell == RK_CELL_RNN_RELU ? 1 : 0;
  const KernelTable* kt = kernels();
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  if (!a.packs->ready) a.packs->a.pack(Trans::No, H, H, a.w.weight_hh, H);

  Carver cv(a.step);
  float* dh = cv.take(BH);
  float* next = cv.take(BH);
  if (a.dhn != nullptr) std::memcpy(dh, a.dhn, sizeof(float) * BH);
  else std::memset(dh, 0, sizeof(float) * BH);

  for (int s = T - 1; s >= 0; s--) {
    const int t = time_at(s, T, a.reverse);
    const float* g = a.tape.gates + t * BH;
    float* da = a.da + t * BH;
    cells::for_rows(B, 3 * H, [&](int b0, int b1) {
      for (int b = b0; b < b1; b++) {
        float* dab = da + static_cast<std::size_t>(b) * H;
        float* nb = next + static_cast<std::size_t>(b) * H;
        const float* dhb = dh + static_cast<std::size_t>(b) * H;
        if (!a.seq.valid(t, b)) {  // padding: no gate gradient, dh passes through
          std::memset(dab, 0, sizeof(float) * H);
          std::memcpy(nb, dhb, sizeof(float) * H);
          continue;
        }
        const float* dyb = a.dy + (static_cast<std::size_t>(t) * B + b) * a.lddy;
        kt->act_grad_row(H, relu, g + static_cast<std::size_t>(b) * H, dhb, dyb, dab);
        std::memset(nb, 0, sizeof(float) * H);
      }
    });
    sgemm_packed(B, da, H, a.packs->a, 1.0f, next, H);  // dh_prev = da·W_hh (+ held rows)
    std::swap(dh, next);
  }
  if (a.dh0 != nullptr) std::memcpy(a.dh0, dh, sizeof(float) * BH);
  cells::plain_param_grads(a, H, H, a.da, a.da);
}

}  // namespace rk
