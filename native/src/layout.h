// Flat parameter layout and call shapes of a recurrent stack: the C++ twin of
// src/backend/layout.ts.
//
// One contiguous float array holds every parameter in PyTorch's state_dict order: for each
// layer l, for each direction (forward, then reverse):
//   gated cells  weight_ih [G·H][in]  weight_hh [G·H][H]  bias_ih [G·H]  bias_hh [G·H]
//                (lstm_peephole) peephole_i [H]  peephole_f [H]  peephole_o [H]
//   jordan       weight_ih [H][in]  weight_yh [H][O]  bias_ih [H]  weight_ho [O][H]  bias_ho [O]
// with in = I for layer 0 and D·S above it. for_each_param is the one place this order
// lives: the parameter count, the kernels' offsets (make_layout) and the text of
// rk_stack_layout, which the TypeScript side compares entry by entry, all come from it.
//
// make_dims is also the one place a stack spec is bounded (RK_MAX_WIDTH, RK_MAX_LAYERS,
// RK_MAX_PARAMS) and check_stack_call the one place a stack call is (RK_MAX_ELEMENTS),
// both before anything is allocated.
#ifndef RNNKIT_LAYOUT_H
#define RNNKIT_LAYOUT_H

#include <cstdint>
#include <string>
#include <vector>

#include "checked.h"
#include "rnnkit.h"

namespace rk {

// Resolved shape of a stack (validated by make_dims).
struct StackDims {
  int cell = 0;    // rk_cell
  int I = 0;       // input size of layer 0
  int H = 0;       // hidden size
  int O = 0;       // jordan output size (= H for the other cells)
  int S = 0;       // state width: O for jordan, H otherwise
  int L = 0;       // layers
  int D = 0;       // directions (1 or 2)
  int G = 0;       // gate blocks: lstm 4, gru 3, rnn/jordan 1
  bool has_c = false;     // lstm cells carry a cell state c
  bool peephole = false;  // lstm_peephole
  int in(int layer) const { return layer == 0 ? I : D * S; }
};

// Offsets (in floats) of one layer-direction's parameters in the flat array; -1 = absent.
struct DirOffsets {
  int64_t weight_ih = -1, weight_hh = -1, bias_ih = -1, bias_hh = -1;
  int64_t peephole_i = -1, peephole_f = -1, peephole_o = -1;
  int64_t weight_yh = -1, weight_ho = -1, bias_ho = -1;  // jordan
};

struct ParamLayout {
  std::vector<DirOffsets> dirs;  // index l·D + d
  int64_t total = 0;
};

// One parameter tensor, as for_each_param visits it.
struct ParamTensor {
  const char* name;           // PyTorch's name without the suffix: "weight_ih", "peephole_f", ...
  int64_t DirOffsets::*slot;  // where make_layout records its offset
  int layer, dir;
  int64_t d0, d1;             // shape [d0][d1], or [d0] when d1 == 0
  int64_t size() const { return d1 == 0 ? d0 : sat_mul(d0, d1); }
};

// Visits every parameter tensor of a stack in flat-array order.
template <class F>
void for_each_param(const StackDims& d, F&& f) {
  const int64_t H = d.H, GH = static_cast<int64_t>(d.G) * d.H, O = d.O;
  for (int l = 0; l < d.L; l++) {
    const int64_t in = d.in(l);
    for (int dir = 0; dir < d.D; dir++) {
      auto t = [&](const char* name, int64_t DirOffsets::*slot, int64_t d0, int64_t d1) {
        f(ParamTensor{name, slot, l, dir, d0, d1});
      };
      if (d.cell == RK_CELL_JORDAN) {
        t("weight_ih", &DirOffsets::weight_ih, H, in);
        t("weight_yh", &DirOffsets::weight_yh, H, O);
        t("bias_ih", &DirOffsets::bias_ih, H, 0);
        t("weight_ho", &DirOffsets::weight_ho, O, H);
        t("bias_ho", &DirOffsets::bias_ho, O, 0);
      } else {
        t("weight_ih", &DirOffsets::weight_ih, GH, in);
        t("weight_hh", &DirOffsets::weight_hh, GH, H);
        t("bias_ih", &DirOffsets::bias_ih, GH, 0);
        t("bias_hh", &DirOffsets::bias_hh, GH, 0);
        if (d.peephole) {
          t("peephole_i", &DirOffsets::peephole_i, H, 0);
          t("peephole_f", &DirOffsets::peephole_f, H, 0);
          t("peephole_o", &DirOffsets::peephole_o, H, 0);
        }
      }
    }
  }
}

int gate_count(int cell);

// Fills `out` from a spec; returns nullptr on success or a message naming the bad field
// ("spec->layers must be in 1..1024; got 0"). Refuses every size beyond the RK_MAX_*
// limits, the parameter total included, without allocating.
const char* make_dims(const rk_stack_spec& spec, StackDims* out);

// Floats in the flat array (saturating: exact for any dims make_dims accepts).
int64_t param_count(const StackDims& dims);

// nullptr when a parameter array of `total` floats is within RK_MAX_PARAMS, else the message
// naming the limit (stacks and whole models are held to it alike).
const char* params_over_limit(int64_t total);

ParamLayout make_layout(const StackDims& dims);

// Appends one line per tensor, "<prefix><name>_l<l>[_reverse] <base + offset> <d0>[x<d1>]\n".
void append_layout_text(const StackDims& dims, const char* prefix, int64_t base, std::string* out);

// Elements of the arrays of a stack call with T steps and batch B (saturating).
struct StackShapes {
  int64_t x = 0;  // [T][B][I]
  int64_t y = 0;  // [T][B][D·S]
  int64_t h = 0;  // [L·D][B][S]
  int64_t c = 0;  // [L·D][B][H], 0 without a cell state
};
StackShapes stack_shapes(const StackDims& dims, int64_t T, int64_t B);

// An array of a call, named for messages ("y [T][B][D*S]").
struct NamedSize {
  const char* name;
  int64_t elements;
};
// nullptr when every one of the n arrays is within RK_MAX_ELEMENTS, else a message naming
// the first that is not.
const char* check_elements(const NamedSize* arrays, int n);
// nullptr when `value` (a count of steps or sequences, named `name`) is >= `min`.
const char* check_at_least(const char* name, int32_t value, int32_t min);

// The size checks of a stack call (rk_stack_forward, rk_stack_shapes): nullptr when
// T, B >= 1 and T·B and every array are within RK_MAX_ELEMENTS (*out is then set), else a
// message naming what is not.
const char* check_stack_call(const StackDims& dims, int32_t T, int32_t B, StackShapes* out);

}  // namespace rk

#endif
