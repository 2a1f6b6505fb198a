#include "sequence.h"

#include <algorithm>
#include <cstring>

#include "dispatch.h"

namespace rk {

namespace {

// An inference forward (keep == 0) needs no tape, only each step's working arrays: it runs
// each layer-direction in chunks of about this many rows (steps × batch), reusing one set
// of arrays, so its memory stays bounded however long the sequence. A chunk still makes
// the input projection one large GEMM.
constexpr int64_t kInferChunkRows = 2048;

// Steps per chunk of a forward: all T for a training forward (the tape keeps every step).
int chunk_steps(const ForwardCall& c) {
  if (c.keep) return c.T;
  const int64_t steps = std::max<int64_t>(1, kInferChunkRows / c.B);
  return static_cast<int>(std::min<int64_t>(c.T, steps));
}

// Every array one forward call uses, carved from one arena.
struct ForwardPlan {
  int chunk = 0;                       // steps per chunk (T when keep)
  float* x_copy = nullptr;             // keep: the layer-0 input, for backward
  std::vector<float*> layer_out;       // [T·B][D·S] outputs of layers below the last
                                       // (keep: one per layer; inference: two, alternating)
  std::vector<DirTape> tapes;          // keep: per layer-direction l·D + d, T·B rows;
                                       // inference: one set of chunk·B rows, reused
  float* zeros = nullptr;              // [B][max(S, H)] stands in for absent h0 / c0
  float* y_sink = nullptr;             // when the caller does not want y
  float* hn_sink = nullptr;            // when the caller does not want hn
  float* cn_sink = nullptr;            // ... or cn
  float* carry_h[2] = {nullptr, nullptr};  // state between chunks [B][S]
  float* carry_c[2] = {nullptr, nullptr};  // [B][H]
  float* step = nullptr;               // per-step scratch of the cells
};

void plan_forward(Carver& cv, const StackDims& d, int T, int B, const ForwardCall& c, ForwardPlan& p) {
  const uint64_t rows = static_cast<uint64_t>(T) * B;
  const uint64_t DS = static_cast<uint64_t>(d.D) * d.S;
  p.chunk = chunk_steps(c);
  p.x_copy = c.keep ? cv.take(rows * d.I) : nullptr;
  const int outs = c.keep ? d.L - 1 : std::min(d.L - 1, 2);
  p.layer_out.assign(outs, nullptr);
  for (int l = 0; l < outs; l++) p.layer_out[l] = cv.take(rows * DS);
  const TapeSizes ts = tape_sizes(d, static_cast<int64_t>(p.chunk) * B);
  p.tapes.assign(c.keep ? static_cast<std::size_t>(d.L) * d.D : 1, DirTape{});
  for (DirTape& t : p.tapes) {
    t.gates = cv.take(ts.gates);
    t.hprev = cv.take(ts.hprev);
    if (ts.cprev) t.cprev = cv.take(ts.cprev);
    if (ts.cnew) t.cnew = cv.take(ts.cnew);
    if (ts.ctanh) t.ctanh = cv.take(ts.ctanh);
    if (ts.inner) t.inner = cv.take(ts.inner);
    if (ts.ynew) t.ynew = cv.take(ts.ynew);
  }
  p.zeros = cv.take(static_cast<uint64_t>(B) * std::max(d.S, d.H));
  p.y_sink = c.y ? nullptr : cv.take(rows * DS);
  p.hn_sink = cv.take(static_cast<uint64_t>(B) * d.S);
  p.cn_sink = d.has_c ? cv.take(static_cast<uint64_t>(B) * d.H) : nullptr;
  if (p.chunk < T) {
    for (int i = 0; i < 2; i++) {
      p.carry_h[i] = cv.take(static_cast<uint64_t>(B) * d.S);
      if (d.has_c) p.carry_c[i] = cv.take(static_cast<uint64_t>(B) * d.H);
    }
  }
  p.step = cv.take(step_scratch_floats(d, B));
}

struct BackwardPlan {
  float* da = nullptr;
  float* da2 = nullptr;
  float* din[2] = {nullptr, nullptr};  // gradients of layer inputs above layer 0 (ping-pong)
  float* dy_zeros = nullptr;
  float* step = nullptr;
};

void plan_backward(Carver& cv, const StackDims& d, int T, int B, const BackwardCall& c, BackwardPlan& p) {
  const uint64_t rows = static_cast<uint64_t>(T) * B;
  const uint64_t GH = static_cast<uint64_t>(d.G) * d.H;
  const uint64_t DS = static_cast<uint64_t>(d.D) * d.S;
  p.da = cv.take(rows * GH);
  const bool gru = d.cell == RK_CELL_GRU || d.cell == RK_CELL_GRU_CHO;
  if (gru) p.da2 = cv.take(rows * GH);
  if (d.cell == RK_CELL_JORDAN) p.da2 = cv.take(rows * d.O);
  if (d.L > 1) {
    p.din[0] = cv.take(rows * DS);
    p.din[1] = cv.take(rows * DS);
  }
  p.dy_zeros = c.dy ? nullptr : cv.take(rows * DS);
  p.step = cv.take(step_scratch_floats(d, B));
}

void run_forward(const ForwardArgs& a) {
  switch (a.dims->cell) {
    case RK_CELL_RNN_TANH:
    case RK_CELL_RNN_RELU: rnn_forward(a); break;
    case RK_CELL_LSTM:
    case RK_CELL_LSTM_PEEPHOLE: lstm_forward(a); break;
    case RK_CELL_GRU:
    case RK_CELL_GRU_CHO: gru_forward(a); break;
    default: jordan_forward(a); break;
  }
}

void run_backward(const BackwardArgs& a) {
  switch (a.dims->cell) {
    case RK_CELL_RNN_TANH:
    case RK_CELL_RNN_RELU: rnn_backward(a); break;
    case RK_CELL_LSTM:
    case RK_CELL_LSTM_PEEPHOLE: lstm_backward(a); break;
    case RK_CELL_GRU:
    case RK_CELL_GRU_CHO: gru_backward(a); break;
    default: jordan_backward(a); break;
  }
}

}  // namespace

Stack::Stack(const StackDims& dims) : dims_(dims), layout_(make_layout(dims)) {
  params_.assign(static_cast<std::size_t>(layout_.total), 0.0f);
  grads_.assign(static_cast<std::size_t>(layout_.total), 0.0f);
  fwd_packs_.resize(static_cast<std::size_t>(dims.L) * dims.D);
  bwd_packs_.resize(static_cast<std::size_t>(dims.L) * dims.D);
}

float* Stack::params() {
  for (Packs& p : fwd_packs_) p.ready = false;
  for (Packs& p : bwd_packs_) p.ready = false;
  return params_.data();
}

void Stack::zero_grads() { std::fill(grads_.begin(), grads_.end(), 0.0f); }

void Stack::forward(const ForwardCall& c) {
  const StackDims& d = dims_;
  const int T = c.T, B = c.B, D = d.D, S = d.S, H = d.H;
  Arena& arena = c.keep ? tape_arena_ : work_arena_;
  if (c.keep) tape_valid_ = false;  // a failed training forward leaves no tape behind

  ForwardPlan plan;
  {
    Carver count(nullptr);
    plan_forward(count, d, T, B, c, plan);
    arena.reserve(count.used());
  }
  Carver carve(arena.data());
  plan_forward(carve, d, T, B, c, plan);

  const std::size_t rows = static_cast<std::size_t>(T) * B;
  SeqShape q;
  q.T = T;
  q.B = B;
  q.lengths = c.lengths;
  if (c.keep) {
    tape_has_lengths_ = c.lengths != nullptr;
    if (c.lengths) {
      tape_lengths_.assign(c.lengths, c.lengths + B);
      q.lengths = tape_lengths_.data();
    }
    std::memcpy(plan.x_copy, c.x, sizeof(float) * rows * d.I);
    tape_layers_.assign(d.L, LayerTape{});
  }
  std::memset(plan.zeros, 0, sizeof(float) * static_cast<std::size_t>(B) * std::max(S, H));

  const float* input = c.keep ? plan.x_copy : c.x;
  const bool flip = (forwards_++ & 1) != 0;
  for (int l = 0; l < d.L; l++) {
    float* out = l + 1 < d.L ? plan.layer_out[c.keep ? l : l % 2] : (c.y ? c.y : plan.y_sink);
    for (int dir = 0; dir < D; dir++) {
      const std::size_t idx = static_cast<std::size_t>(l) * D + dir;
      ForwardArgs a;
      a.dims = &d;
      a.seq = q;
      a.reverse = dir == 1;
      a.w = dir_params<const float>(params_.data(), layout_.dirs[idx]);
      a.x = input;
      a.in = d.in(l);
      a.y = out + static_cast<std::size_t>(dir) * S;
      a.ldy = D * S;
      a.h0 = c.h0 ? c.h0 + idx * B * S : plan.zeros;
      a.c0 = d.has_c ? (c.c0 ? c.c0 + idx * B * H : plan.zeros) : nullptr;
      a.hn = c.hn ? c.hn + idx * B * S : plan.hn_sink;
      a.cn = d.has_c ? (c.cn ? c.cn + idx * B * H : plan.cn_sink) : nullptr;
      a.tape = plan.tapes[c.keep ? idx : 0];
      a.step = plan.step;
      a.packs = &fwd_packs_[idx];
      a.flip = flip;
      if (a.packs->table != kernels()) a.packs->ready = false;
      if (plan.chunk == T) {
        run_forward(a);
      } else {
        run_chunked(a, plan.chunk, plan.carry_h, plan.carry_c, c.lengths);
      }
      a.packs->ready = true;
      a.packs->table = kernels();
      if (c.keep) tape_layers_[l].dirs[dir] = plan.tapes[idx];
    }
    if (c.keep) tape_layers_[l].input = input;
    input = out;
  }
  if (c.keep) {
    tape_T_ = T;
    tape_B_ = B;
    tape_valid_ = true;
  }
}

void Stack::run_chunked(const ForwardArgs& whole, int chunk, float* const carry_h[2], float* const carry_c[2],
                        const int32_t* lengths) {
  const int T = whole.seq.T, B = whole.seq.B, Tc = chunk;
  const int n = (T + Tc - 1) / Tc;
  if (lengths) chunk_lengths_.resize(B);
  const float* h_in = whole.h0;
  const float* c_in = whole.c0;
  for (int k = 0; k < n; k++) {
    // The reverse direction meets the chunks last to first, and each one backwards.
    const int ci = whole.reverse ? n - 1 - k : k;
    const int t0 = ci * Tc, steps = std::min(T, t0 + Tc) - t0;
    ForwardArgs a = whole;
    a.seq.T = steps;
    if (lengths) {
      for (int b = 0; b < B; b++) chunk_lengths_[b] = std::max(0, std::min(lengths[b] - t0, steps));
      a.seq.lengths = chunk_lengths_.data();
    }
    a.x = whole.x + static_cast<std::size_t>(t0) * B * whole.in;
    a.y = whole.y + static_cast<std::size_t>(t0) * B * whole.ldy;
    a.h0 = h_in;
    a.c0 = c_in;
    const bool last = k + 1 == n;
    a.hn = last ? whole.hn : carry_h[k % 2];
    a.cn = dims_.has_c ? (last ? whole.cn : carry_c[k % 2]) : nullptr;
    run_forward(a);
    a.packs->ready = true;  // packed by the first chunk, reused by the others
    h_in = a.hn;
    c_in = a.cn;
  }
}

void Stack::backward(const BackwardCall& c) {
  const StackDims& d = dims_;
  const int T = tape_T_, B = tape_B_, D = d.D, S = d.S, H = d.H;
  BackwardPlan plan;
  {
    Carver count(nullptr);
    plan_backward(count, d, T, B, c, plan);
    work_arena_.reserve(count.used());
  }
  Carver carve(work_arena_.data());
  plan_backward(carve, d, T, B, c, plan);

  const std::size_t rows = static_cast<std::size_t>(T) * B;
  SeqShape q;
  q.T = T;
  q.B = B;
  q.lengths = tape_has_lengths_ ? tape_lengths_.data() : nullptr;
  const float* dout = c.dy;
  if (dout == nullptr) {
    std::memset(plan.dy_zeros, 0, sizeof(float) * rows * D * S);
    dout = plan.dy_zeros;
  }
  for (int l = d.L - 1; l >= 0; l--) {
    float* din = l == 0 ? c.dx : plan.din[l % 2];
    for (int dir = 0; dir < D; dir++) {
      const std::size_t idx = static_cast<std::size_t>(l) * D + dir;
      BackwardArgs a;
      a.dims = &d;
      a.seq = q;
      a.reverse = dir == 1;
      a.w = dir_params<const float>(params_.data(), layout_.dirs[idx]);
      a.g = dir_params<float>(grads_.data(), layout_.dirs[idx]);
      a.x = tape_layers_[l].input;
      a.in = d.in(l);
      a.dy = dout + static_cast<std::size_t>(dir) * S;
      a.lddy = D * S;
      a.dhn = c.dhn ? c.dhn + idx * B * S : nullptr;
      a.dcn = d.has_c && c.dcn ? c.dcn + idx * B * H : nullptr;
      a.dh0 = c.dh0 ? c.dh0 + idx * B * S : nullptr;
      a.dc0 = d.has_c && c.dc0 ? c.dc0 + idx * B * H : nullptr;
      a.dx = din;
      a.dx_accumulate = dir > 0;
      a.tape = tape_layers_[l].dirs[dir];
      a.da = plan.da;
      a.da2 = plan.da2;
      a.step = plan.step;
      a.packs = &bwd_packs_[idx];
      if (a.packs->table != kernels()) a.packs->ready = false;
      run_backward(a);
      a.packs->ready = true;
      a.packs->table = kernels();
    }
    dout = din;
  }
}

}  // namespace rk
