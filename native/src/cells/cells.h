// Whole-sequence forward and backward of ONE layer-direction of every cell.
//
// sequence.cc owns stacking, directions and memory; the functions here get every array
// already carved from the stack's arenas and run the time loop of one direction:
//
//   forward   X·W_ihᵀ + biases for all T steps in one GEMM (into tape.gates), then per
//             step only the recurrent product h·W_hhᵀ (W_hh packed once, kept by the stack
//             across calls: Packs) and the fused pointwise gate math on that [B][G·H] tile
//             (KernelTable's cell kernels, split over batch rows when threads allow).
//   backward  per step the pointwise gradient and one product with W_hh (packed once);
//             then the weight gradients as one GEMM each over all T·B rows, the bias
//             gradients as column sums and the input gradient as one GEMM.
//
// Every array is indexed by time t (row t·B + b), whichever direction reads it, so that the
// reverse direction's tape lines up with X for the whole-sequence GEMMs.
//
// Padding (lengths): at a step t >= lengths[b] the state is held and the output is 0. The
// cells still compute the padded rows (from the held state, so everything on the tape is
// finite) and then overwrite them; backward gives those rows a zero gate gradient and
// passes dh, dc through unchanged.
#ifndef RNNKIT_CELLS_H
#define RNNKIT_CELLS_H

#include <cstdint>
#include <vector>

#include "gemm/gemm.h"
#include "layout.h"

namespace rk {

// One layer-direction's parameters (or gradients): pointers into the flat arrays, null
// where the cell has no such parameter.
template <typename F>
struct DirParamPtrs {
  F* weight_ih = nullptr;
  F* weight_hh = nullptr;
  F* bias_ih = nullptr;
  F* bias_hh = nullptr;
  F* peephole_i = nullptr;
  F* peephole_f = nullptr;
  F* peephole_o = nullptr;
  F* weight_yh = nullptr;
  F* weight_ho = nullptr;
  F* bias_ho = nullptr;
};
using DirWeights = DirParamPtrs<const float>;
using DirGrads = DirParamPtrs<float>;

template <typename F>
DirParamPtrs<F> dir_params(F* base, const DirOffsets& o) {
  DirParamPtrs<F> p;
  auto at = [base](int64_t off) { return off < 0 ? nullptr : base + off; };
  p.weight_ih = at(o.weight_ih);
  p.weight_hh = at(o.weight_hh);
  p.bias_ih = at(o.bias_ih);
  p.bias_hh = at(o.bias_hh);
  p.peephole_i = at(o.peephole_i);
  p.peephole_f = at(o.peephole_f);
  p.peephole_o = at(o.peephole_o);
  p.weight_yh = at(o.weight_yh);
  p.weight_ho = at(o.weight_ho);
  p.bias_ho = at(o.bias_ho);
  return p;
}

// What one layer-direction's forward leaves for its backward; rows t·B + b.
struct DirTape {
  float* gates = nullptr;  // [T·B][G·H] activations: rnn h'; lstm i f g o; gru r z n; jordan hidden
  float* hprev = nullptr;  // [T·B][S]  state entering step t
  float* cprev = nullptr;  // [T·B][H]  lstm: cell state entering step t
  float* cnew = nullptr;   // [T·B][H]  lstm: c'
  float* ctanh = nullptr;  // [T·B][H]  lstm: tanh(c')
  float* inner = nullptr;  // [T·B][H]  gru: W_hn h + b_hn; gru_cho: r * h
  float* ynew = nullptr;   // [T·B][O]  jordan: the step's output y'
};

// Floats of each tape array for T·B rows (0 where the cell does not use it).
struct TapeSizes {
  int64_t gates, hprev, cprev, cnew, ctanh, inner, ynew;
};
TapeSizes tape_sizes(const StackDims& d, int64_t rows);

// The time axis of one call.
struct SeqShape {
  int T = 0, B = 0;
  const int32_t* lengths = nullptr;  // [B] in 0..T, or null (all T)
  bool valid(int t, int b) const { return lengths == nullptr || t < lengths[b]; }
};

// One layer-direction's weights packed into the GEMM panel layout, owned by the stack and
// kept across calls: `ready` says they match the current parameters, so a call skips the
// packing (sequence.cc clears it whenever the parameters may have changed). A forward uses
// one Packs (ih = W_ihᵀ for the input projection; a, b the recurrent matrices), a backward
// another (a, b).
// W_hh of an LSTM cut by hidden units for the per-step split of lstm_forward: slice s
// owns units [units[s], units[s + 1]) and packs the four gate rows (i f g o) of those units
// as one [H][4·width] matrix, so one pool task per slice computes its part of h·W_hhᵀ AND
// the gate math of its units, with one synchronisation per step. Slice s is pinned to
// worker s, so its weights stay in that core's cache for the whole sequence.
struct GateSlices {
  int threads = 0;                  // the thread count the cut was made for (0: none yet)
  std::vector<int> units;           // slices + 1 boundaries
  std::vector<PackedB> packs;
  SplitChoice choice;               // whether the split pays here (measured_split)
};

struct Packs {
  PackedB a, b, ih;
  std::vector<float> ih_bias;  // the biases the input projection adds (cells::input_projection)
  GateSlices slices;  // lstm forward: cut from W_hh when a split may pay (lstm.cc)
  bool ready = false;
  const void* table = nullptr;  // the KernelTable they were packed for (rk_force_isa repacks)
};

struct ForwardArgs {
  const StackDims* dims;
  SeqShape seq;
  bool reverse;
  DirWeights w;
  const float* x;  // [T·B][in]
  int in;
  float* y;  // row t·B + b at y + (t·B + b)·ldy: this direction's S outputs
  int ldy;
  const float* h0;  // [B][S] (never null: zeros are passed instead)
  const float* c0;  // [B][H] lstm
  float* hn;        // [B][S]
  float* cn;        // [B][H] lstm
  DirTape tape;
  float* step;  // per-step scratch, step_scratch_floats() floats
  Packs* packs;
  // Stream the weights of batch-1 products in the other direction from the last call
  // (see Stack::forward): alternates per call, as the time loop alternates per step.
  bool flip = false;
};

struct BackwardArgs {
  const StackDims* dims;
  SeqShape seq;
  bool reverse;
  DirWeights w;
  DirGrads g;       // gradients are ADDED here
  const float* x;   // [T·B][in]: the forward's layer input
  int in;
  const float* dy;  // gradient of this direction's outputs, row stride lddy (S values)
  int lddy;
  const float* dhn;  // [B][S] or null
  const float* dcn;  // [B][H] or null
  float* dh0;        // [B][S] or null (skip)
  float* dc0;        // [B][H] or null (skip)
  float* dx;         // [T·B][in] or null (skip)
  bool dx_accumulate;  // add into dx (second direction) instead of overwriting
  DirTape tape;
  float* da;     // [T·B][G·H] gate pre-activation gradients (jordan: hidden)
  float* da2;    // [T·B][G·H] gru: recurrent-side gradients; jordan: output pre-activation
  float* step;   // per-step scratch, step_scratch_floats() floats
  Packs* packs;
};

// Per-step scratch floats needed by forward or backward for batch B.
int64_t step_scratch_floats(const StackDims& d, int B);

void rnn_forward(const ForwardArgs& a);
void rnn_backward(const BackwardArgs& a);
void lstm_forward(const ForwardArgs& a);
void lstm_backward(const BackwardArgs& a);
void gru_forward(const ForwardArgs& a);
void gru_backward(const BackwardArgs& a);
void jordan_forward(const ForwardArgs& a);
void jordan_backward(const BackwardArgs& a);

}  // namespace rk

#endif
