// jordan: the recurrent state is the previous OUTPUT y (width O), not the hidden layer:
//   h_t = tanh(W_ih x_t + b_ih + W_yh y_{t−1}),  y_t = tanh(W_ho h_t + b_ho)
// Both products depend on the step before, so each step runs two small GEMMs.
#include <utility>

#include "cells/common.h"
#include "dispatch.h"

namespace rk {

using cells::time_at;

void jordan_forward(const ForwardArgs& a) {
  const int H = a.dims->H, O = a.dims->O, B = a.seq.B, T = a.seq.T;
  const std::size_t rows = cells::rows_of(a.seq), BH = static_cast<std::size_t>(B) * H;
  const std::size_t BO = static_cast<std::size_t>(B) * O;
  float* hid = a.tape.gates;  // [T·B][H] hidden activations
  cells::input_projection(rows, a.in, H, a.x, a.w.weight_ih, a.w.bias_ih, nullptr, 0, a.packs, hid, a.flip);
  if (!a.packs->ready) a.packs->a.pack(Trans::Yes, O, H, a.w.weight_yh, O);
  if (!a.packs->ready) a.packs->b.pack(Trans::Yes, H, O, a.w.weight_ho, H);
  const KernelTable* kt = kernels();

  Carver cv(a.step);
  float* rec = cv.take(BH);
  float* out = cv.take(BO);
  std::memcpy(a.tape.hprev + time_at(0, T, a.reverse) * BO, a.h0, sizeof(float) * BO);
  for (int s = 0; s < T; s++) {
    const int t = time_at(s, T, a.reverse);
    const float* ycur = a.tape.hprev + t * BO;
    float* ynext = s + 1 < T ? a.tape.hprev + time_at(s + 1, T, a.reverse) * BO : a.hn;
    float* ht = hid + t * BH;
    sgemm_packed(B, ycur, O, a.packs->a, 0.0f, rec, H);
    kt->act_add_rows(static_cast<std::ptrdiff_t>(BH), 0, ht, rec, ht);
    sgemm_packed(B, ht, H, a.packs->b, 0.0f, out, O);
    float* yn = a.tape.ynew + t * BO;
    for (int b = 0; b < B; b++) {
      kt->tanh_bias_row(O, out + static_cast<std::size_t>(b) * O, a.w.bias_ho, yn + static_cast<std::size_t>(b) * O,
                        ynext + static_cast<std::size_t>(b) * O);
    }
    cells::finish_step(a.seq, t, O, ycur, ynext, H, nullptr, nullptr, a.y, a.ldy);
  }
}

void jordan_backward(const BackwardArgs& a) {
  const int H = a.dims->H, O = a.dims->O, B = a.seq.B, T = a.seq.T;
  const std::size_t rows = cells::rows_of(a.seq), BH = static_cast<std::size_t>(B) * H;
  const std::size_t BO = static_cast<std::size_t>(B) * O;
  float* daH = a.da;   // [T·B][H] gradient of the hidden pre-activation
  float* daY = a.da2;  // [T·B][O] gradient of the output pre-activation
  if (!a.packs->ready) a.packs->a.pack(Trans::No, O, H, a.w.weight_ho, H);
  if (!a.packs->ready) a.packs->b.pack(Trans::No, H, O, a.w.weight_yh, O);
  const KernelTable* kt = kernels();

  Carver cv(a.step);
  float* dy = cv.take(BO);
  float* next = cv.take(BO);
  if (a.dhn != nullptr) std::memcpy(dy, a.dhn, sizeof(float) * BO);
  else std::memset(dy, 0, sizeof(float) * BO);

  for (int s = T - 1; s >= 0; s--) {
    const int t = time_at(s, T, a.reverse);
    float* dyt = daY + t * BO;
    float* dht = daH + t * BH;
    for (int b = 0; b < B; b++) {
      const std::size_t row = static_cast<std::size_t>(t) * B + b;
      float* d = dyt + static_cast<std::size_t>(b) * O;
      const float* dyb = dy + static_cast<std::size_t>(b) * O;
      float* nb = next + static_cast<std::size_t>(b) * O;
      if (!a.seq.valid(t, b)) {
        std::memset(d, 0, sizeof(float) * O);
        std::memcpy(nb, dyb, sizeof(float) * O);
        continue;
      }
      kt->act_grad_row(O, 0, a.tape.ynew + row * O, dyb, a.dy + row * a.lddy, d);
      std::memset(nb, 0, sizeof(float) * O);
    }
    sgemm_packed(B, dyt, O, a.packs->a, 0.0f, dht, H);  // daY · W_ho
    const float* hid = a.tape.gates + t * BH;
    for (int b = 0; b < B; b++) {
      const std::size_t o = static_cast<std::size_t>(b) * H;
      kt->act_grad_row(H, 0, hid + o, dht + o, nullptr, dht + o);
    }
    sgemm_packed(B, dht, H, a.packs->b, 1.0f, next, O);  // + daH · W_yh
    std::swap(dy, next);
  }
  if (a.dh0 != nullptr) std::memcpy(a.dh0, dy, sizeof(float) * BO);

  const int n = static_cast<int>(rows);
  sgemm(Trans::Yes, Trans::No, O, H, n, daY, O, a.tape.gates, H, 1.0f, a.g.weight_ho, H);
  cells::add_column_sums(rows, O, daY, O, a.g.bias_ho);
  sgemm(Trans::Yes, Trans::No, H, a.in, n, daH, H, a.x, a.in, 1.0f, a.g.weight_ih, a.in);
  sgemm(Trans::Yes, Trans::No, H, O, n, daH, H, a.tape.hprev, O, 1.0f, a.g.weight_yh, O);
  cells::add_column_sums(rows, H, daH, H, a.g.bias_ih);
  cells::input_grad(a, H, daH);
}

}  // namespace rk
