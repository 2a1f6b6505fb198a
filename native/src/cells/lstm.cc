// lstm and lstm_peephole, gate rows i, f, g, o (PyTorch's order):
//   i = σ(a_i [+ p_i*c]), f = σ(a_f [+ p_f*c]), g = tanh(a_g), c' = f*c + i*g,
//   o = σ(a_o [+ p_o*c']), h' = o*tanh(c'),  a = W_ih x + b_ih + W_hh h + b_hh.
// The peepholes of i and f look at the previous cell state, the one of o at the new one.
#include <utility>

#include "cells/common.h"
#include "dispatch.h"

namespace rk {

using cells::time_at;

void lstm_forward(const ForwardArgs& a) {
  const int H = a.dims->H, B = a.seq.B, T = a.seq.T, G4 = 4 * H;
  const std::size_t rows = cells::rows_of(a.seq), BH = static_cast<std::size_t>(B) * H;
  const KernelTable* kt = kernels();
  float* gates = a.tape.gates;
  cells::fill_bias(rows, G4, gates, G4, a.w.bias_ih, a.w.bias_hh, G4);
  cells::input_projection(rows, a.in, G4, a.x, a.w.weight_ih, a.packs, gates, a.flip);
  if (!a.packs->ready) a.packs->a.pack(Trans::Yes, H, G4, a.w.weight_hh, H);

  Carver cv(a.step);
  float* rec = cv.take(static_cast<std::size_t>(B) * G4);
  const int t0 = time_at(0, T, a.reverse);
  std::memcpy(a.tape.hprev + t0 * BH, a.h0, sizeof(float) * BH);
  std::memcpy(a.tape.cprev + t0 * BH, a.c0, sizeof(float) * BH);
  for (int s = 0; s < T; s++) {
    const int t = time_at(s, T, a.reverse);
    const bool last = s + 1 == T;
    const int tn = last ? 0 : time_at(s + 1, T, a.reverse);
    const float* hcur = a.tape.hprev + t * BH;
    const float* ccur = a.tape.cprev + t * BH;
    float* hnext = last ? a.hn : a.tape.hprev + tn * BH;
    float* cnext = last ? a.cn : a.tape.cprev + tn * BH;
    sgemm_packed(B, hcur, H, a.packs->a, 0.0f, rec, G4, cells::reverse_step(a, s));
    cells::for_rows(B, 6 * G4, [&](int b0, int b1) {
      for (int b = b0; b < b1; b++) {
        float* g = gates + (static_cast<std::size_t>(t) * B + b) * G4;
        const float* r = rec + static_cast<std::size_t>(b) * G4;
        const std::size_t o = static_cast<std::size_t>(t) * BH + static_cast<std::size_t>(b) * H;
        const float* c = ccur + static_cast<std::size_t>(b) * H;
        float* cn = a.tape.cnew + o;
        float* ct = a.tape.ctanh + o;
        float* h = hnext + static_cast<std::size_t>(b) * H;
        float* cx = cnext + static_cast<std::size_t>(b) * H;
        kt->lstm_forward_row(H, g, r, c, a.w.peephole_i, a.w.peephole_f, a.w.peephole_o, cn, ct, h, cx);
      }
    });
    cells::finish_step(a.seq, t, H, hcur, hnext, H, ccur, cnext, a.y, a.ldy);
  }
}

void lstm_backward(const BackwardArgs& a) {
  const int H = a.dims->H, B = a.seq.B, T = a.seq.T, G4 = 4 * H;
  const std::size_t BH = static_cast<std::size_t>(B) * H;
  const KernelTable* kt = kernels();
  if (!a.packs->ready) a.packs->a.pack(Trans::No, G4, H, a.w.weight_hh, H);

  Carver cv(a.step);
  float* dh = cv.take(BH);
  float* dhx = cv.take(BH);
  float* dc = cv.take(BH);
  float* dcx = cv.take(BH);
  if (a.dhn != nullptr) std::memcpy(dh, a.dhn, sizeof(float) * BH);
  else std::memset(dh, 0, sizeof(float) * BH);
  if (a.dcn != nullptr) std::memcpy(dc, a.dcn, sizeof(float) * BH);
  else std::memset(dc, 0, sizeof(float) * BH);

  for (int s = T - 1; s >= 0; s--) {
    const int t = time_at(s, T, a.reverse);
    cells::for_rows(B, a.dims->peephole ? 0 : 6 * G4, [&](int b0, int b1) {
      for (int b = b0; b < b1; b++) {
        const std::size_t row = static_cast<std::size_t>(t) * B + b;
        const std::size_t o = row * H;
        float* da = a.da + row * G4;
        const float* dhb = dh + static_cast<std::size_t>(b) * H;
        const float* dcb = dc + static_cast<std::size_t>(b) * H;
        float* dhn = dhx + static_cast<std::size_t>(b) * H;
        float* dcn = dcx + static_cast<std::size_t>(b) * H;
        if (!a.seq.valid(t, b)) {  // padding: state held, gradients pass through
          std::memset(da, 0, sizeof(float) * G4);
          std::memcpy(dhn, dhb, sizeof(float) * H);
          std::memcpy(dcn, dcb, sizeof(float) * H);
          continue;
        }
        const float* g = a.tape.gates + row * G4;
        const float* c = a.tape.cprev + o;
        const float* cnew = a.tape.cnew + o;
        const float* ct = a.tape.ctanh + o;
        const float* dyb = a.dy + row * a.lddy;
        kt->lstm_backward_row(H, g, c, cnew, ct, dhb, dyb, dcb, a.w.peephole_i, a.w.peephole_f, a.w.peephole_o,
                              a.g.peephole_i, a.g.peephole_f, a.g.peephole_o, da, dcn);
        std::memset(dhn, 0, sizeof(float) * H);
      }
    });
    sgemm_packed(B, a.da + static_cast<std::size_t>(t) * B * G4, G4, a.packs->a, 1.0f, dhx, H,
                 /*reverse_columns=*/(s & 1) != 0);
    std::swap(dh, dhx);
    std::swap(dc, dcx);
  }
  if (a.dh0 != nullptr) std::memcpy(a.dh0, dh, sizeof(float) * BH);
  if (a.dc0 != nullptr) std::memcpy(a.dc0, dc, sizeof(float) * BH);
  cells::plain_param_grads(a, G4, H, a.da, a.da);
}

}  // namespace rk
