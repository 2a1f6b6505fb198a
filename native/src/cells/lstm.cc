// lstm and lstm_peephole, gate rows i, f, g, o (PyTorch's order):
//   i = σ(a_i [+ p_i*c]), f = σ(a_f [+ p_f*c]), g = tanh(a_g), c' = f*c + i*g,
//   o = σ(a_o [+ p_o*c']), h' = o*tanh(c'),  a = W_ih x + b_ih + W_hh h + b_hh.
// The peepholes of i and f look at the previous cell state, the one of o at the new one.
#include <cstring>
#include <utility>
#include <vector>

#include "cells/common.h"
#include "dispatch.h"

namespace rk {

using cells::time_at;

namespace {

// The per-step split of the forward (GateSlices): tried when a step's recurrent product has
// at least kSliceMinMacs multiply-adds (then measured_split decides whether it pays on this
// machine), always taken from kSliceAlwaysMacs (it takes >= ~50 us on one core, so a split
// that waits for a late worker still wins, and a cold first measurement cannot make the
// serial choice stick). Larger batches keep the column split of sgemm_packed, two ranges
// per thread (a late worker's second range goes to the caller): at batch 64 the fused
// slices measured no faster on a 2-core Zen 3 (noise of +-15%), at batch 1 about 7% faster.
// Slice widths are multiples of kSliceUnits hidden units (whole vectors).
constexpr double kSliceMinMacs = 64.0 * 1024;
constexpr double kSliceAlwaysMacs = 2.0 * 1024 * 1024;
constexpr int kSliceMaxRows = 16;
constexpr int kSliceUnits = 8;

// Cuts W_hh [4H][H] into one slice per thread (see GateSlices).
void cut_slices(GateSlices& sl, int H, int nt, const float* weight_hh) {
  sl.threads = nt;
  sl.units.assign(static_cast<std::size_t>(nt) + 1, 0);
  const int blocks = H / kSliceUnits;
  for (int s = 1; s < nt; s++) sl.units[s] = blocks * s / nt * kSliceUnits;
  sl.units[nt] = H;
  sl.packs.resize(static_cast<std::size_t>(nt));
  std::vector<float> rows;
  for (int s = 0; s < nt; s++) {
    const int u0 = sl.units[s], n = sl.units[s + 1] - u0;
    rows.resize(static_cast<std::size_t>(4) * n * H);
    for (int gate = 0; gate < 4; gate++) {
      std::memcpy(rows.data() + static_cast<std::size_t>(gate) * n * H,
                  weight_hh + (static_cast<std::size_t>(gate) * H + u0) * H, sizeof(float) * n * H);
    }
    sl.packs[s].pack(Trans::Yes, H, 4 * n, rows.data(), H);
  }
  sl.choice = SplitChoice{};
}

}  // namespace

void lstm_forward(const ForwardArgs& a) {
  const int H = a.dims->H, B = a.seq.B, T = a.seq.T, G4 = 4 * H;
  const std::size_t rows = cells::rows_of(a.seq), BH = static_cast<std::size_t>(B) * H;
  const KernelTable* kt = kernels();
  float* gates = a.tape.gates;
  cells::input_projection(rows, a.in, G4, a.x, a.w.weight_ih, a.w.bias_ih, a.w.bias_hh, G4, a.packs, gates, a.flip);
  if (!a.packs->ready) a.packs->a.pack(Trans::Yes, H, G4, a.w.weight_hh, H);
  const int nt = threads();
  const double macs = static_cast<double>(B) * H * G4;
  const bool may_split = nt > 1 && !in_parallel_task() && B <= kSliceMaxRows && macs >= kSliceMinMacs &&
                         H >= kSliceUnits * nt;
  GateSlices& sl = a.packs->slices;
  if (may_split && (!a.packs->ready || sl.threads != nt)) cut_slices(sl, H, nt, a.w.weight_hh);

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
    const bool reverse_columns = cells::reverse_step(a, s);
    // Units [u0, u0 + n) of rows [b0, b1): their gate pre-activations are in r (a row is
    // 4 blocks of ldr floats), then the gate math -- the same arithmetic however the units
    // and rows are cut.
    auto units = [&](int b0, int b1, int u0, int n, const float* r, int ldr) {
      const float* pi = a.w.peephole_i != nullptr ? a.w.peephole_i + u0 : nullptr;
      const float* pf = a.w.peephole_f != nullptr ? a.w.peephole_f + u0 : nullptr;
      const float* po = a.w.peephole_o != nullptr ? a.w.peephole_o + u0 : nullptr;
      for (int b = b0; b < b1; b++) {
        float* g = gates + (static_cast<std::size_t>(t) * B + b) * G4 + u0;
        const std::size_t bh = static_cast<std::size_t>(b) * H + u0;
        const std::size_t o = static_cast<std::size_t>(t) * BH + bh;
        kt->lstm_forward_row(n, H, ldr, g, r + static_cast<std::size_t>(b) * 4 * ldr, ccur + bh, pi, pf, po,
                             a.tape.cnew + o, a.tape.ctanh + o, hnext + bh, cnext + bh);
      }
    };
    // Whole rows: one product (split by sgemm_packed itself when it pays), then the gate
    // math split over rows.
    auto whole = [&] {
      sgemm_packed(B, hcur, H, a.packs->a, 0.0f, rec, G4, reverse_columns);
      cells::for_rows(B, 6 * G4, [&](int b0, int b1) { units(b0, b1, 0, H, rec, H); });
    };
    if (!may_split) {
      whole();
    } else {
      // One pinned task per slice: its product (on its own thread, inline) and its units.
      auto split = [&] {
        parallel_for(
            sl.threads,
            [&](int k, int) {
              const int u0 = sl.units[k], n = sl.units[k + 1] - u0;
              float* r = rec + static_cast<std::size_t>(B) * 4 * u0;
              sgemm_packed(B, hcur, H, sl.packs[k], 0.0f, r, 4 * n, reverse_columns);
              units(0, B, u0, n, r, n);
            },
            /*pinned=*/true);
      };
      // The serial alternative runs everything on this thread (a one-task job nests).
      auto serial = [&] { parallel_for(1, [&](int, int) { whole(); }); };
      if (macs >= kSliceAlwaysMacs) {
        split();
      } else {
        measured_split(sl.choice, B, split, serial);
      }
    }
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
