#include "layout.h"

#include <climits>

namespace rk {

int gate_count(int cell) {
  switch (cell) {
    case RK_CELL_LSTM:
    case RK_CELL_LSTM_PEEPHOLE:
      return 4;
    case RK_CELL_GRU:
    case RK_CELL_GRU_CHO:
      return 3;
    default:
      return 1;
  }
}

const char* make_dims(const rk_stack_spec& spec, StackDims* out) {
  if (spec.cell < RK_CELL_RNN_TANH || spec.cell > RK_CELL_JORDAN) return "spec->cell must be an rk_cell (0..6)";
  if (spec.input_size < 1) return "spec->input_size must be >= 1";
  if (spec.hidden_size < 1) return "spec->hidden_size must be >= 1";
  if (spec.cell == RK_CELL_JORDAN && spec.output_size < 1) return "spec->output_size must be >= 1 for a jordan cell";
  if (spec.layers < 1) return "spec->layers must be >= 1";
  if (spec.bidirectional != 0 && spec.bidirectional != 1) return "spec->bidirectional must be 0 or 1";
  StackDims d;
  d.cell = spec.cell;
  d.I = spec.input_size;
  d.H = spec.hidden_size;
  d.O = spec.cell == RK_CELL_JORDAN ? spec.output_size : spec.hidden_size;
  d.S = d.O;
  d.L = spec.layers;
  d.D = spec.bidirectional ? 2 : 1;
  d.G = gate_count(spec.cell);
  d.has_c = spec.cell == RK_CELL_LSTM || spec.cell == RK_CELL_LSTM_PEEPHOLE;
  d.peephole = spec.cell == RK_CELL_LSTM_PEEPHOLE;
  // Every matrix dimension reaches the GEMM layer as an int; keep products of two of them
  // (row widths such as G·H and D·S) representable too.
  const int64_t kMax = INT_MAX / 8;
  if (static_cast<int64_t>(d.G) * d.H > kMax) return "spec->hidden_size is too large";
  if (static_cast<int64_t>(d.D) * d.S > kMax) return "spec->output_size is too large";
  if (d.I > kMax) return "spec->input_size is too large";
  *out = d;
  return nullptr;
}

double param_count_bound(const StackDims& d) {
  const double H = d.H, O = d.O, G = d.G;
  double total = 0;
  for (int l = 0; l < 2 && l < d.L; l++) {  // every layer above 0 has the same size
    const double in = d.in(l);
    const double per_dir = d.cell == RK_CELL_JORDAN ? H * in + H * O + H + O * H + O
                                                    : G * H * (in + H + 2) + (d.peephole ? 3 * H : 0);
    total += per_dir * d.D * (l == 0 ? 1.0 : static_cast<double>(d.L - 1));
  }
  return total;
}

ParamLayout make_layout(const StackDims& d) {
  ParamLayout p;
  int64_t off = 0;
  const int64_t H = d.H, GH = static_cast<int64_t>(d.G) * d.H, O = d.O;
  auto take = [&off](int64_t size) {
    int64_t at = off;
    off += size;
    return at;
  };
  for (int l = 0; l < d.L; l++) {
    const int64_t in = d.in(l);
    for (int dir = 0; dir < d.D; dir++) {
      DirOffsets o;
      if (d.cell == RK_CELL_JORDAN) {
        o.weight_ih = take(H * in);
        o.weight_yh = take(H * O);
        o.bias_ih = take(H);
        o.weight_ho = take(O * H);
        o.bias_ho = take(O);
      } else {
        o.weight_ih = take(GH * in);
        o.weight_hh = take(GH * H);
        o.bias_ih = take(GH);
        o.bias_hh = take(GH);
        if (d.peephole) {
          o.peephole_i = take(H);
          o.peephole_f = take(H);
          o.peephole_o = take(H);
        }
      }
      p.dirs.push_back(o);
    }
  }
  p.total = off;
  return p;
}

}  // namespace rk
