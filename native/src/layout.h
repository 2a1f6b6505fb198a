// Flat parameter layout of a recurrent stack: the C++ twin of src/backend/layout.ts.
//
// One contiguous float array holds every parameter in PyTorch's state_dict order: for each
// layer l, for each direction (forward, then reverse):
//   gated cells  weight_ih [G·H][in]  weight_hh [G·H][H]  bias_ih [G·H]  bias_hh [G·H]
//                (lstm_peephole) peephole_i [H]  peephole_f [H]  peephole_o [H]
//   jordan       weight_ih [H][in]  weight_yh [H][O]  bias_ih [H]  weight_ho [O][H]  bias_ho [O]
// with in = I for layer 0 and D·S above it. The TypeScript side checks that the totals
// agree when a stack is created, so any drift between the two files fails loudly.
#ifndef RNNKIT_LAYOUT_H
#define RNNKIT_LAYOUT_H

#include <cstdint>
#include <vector>

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

int gate_count(int cell);

// Fills `out` from a spec; returns nullptr on success or a message naming the bad field.
const char* make_dims(const rk_stack_spec& spec, StackDims* out);

// Number of parameters, computed in double so that it cannot overflow: callers check it
// against what memory can hold before make_layout (whose int64 offsets then cannot overflow).
double param_count_bound(const StackDims& dims);

ParamLayout make_layout(const StackDims& dims);

}  // namespace rk

#endif
