#include "layout.h"

#include <climits>
#include <cstdio>

#include "error.h"

namespace rk {

// Every matrix dimension reaches the GEMM layer as an int, and so do row widths such as
// G·H and D·S and their sum with I: the width limit keeps them all representable.
static_assert(static_cast<int64_t>(RK_MAX_WIDTH) * 4 * 3 <= INT_MAX, "RK_MAX_WIDTH too large for int GEMM sizes");
static_assert(RK_MAX_ELEMENTS <= INT_MAX, "T*B must stay an int row count");
static_assert(RK_MAX_PARAMS <= RK_MAX_ELEMENTS, "a parameter array is one array of a call");

namespace {

template <typename... A>
const char* msg(const char* fmt, A... a) {
  return message<kLayoutMessages>(fmt, a...);  // error.h
}

// nullptr when v is in 1..max, else "spec-><field> must be in 1..max; got v".
const char* in_range(const char* field, int32_t v, int32_t max) {
  return v >= 1 && v <= max ? nullptr : msg("spec->%s must be in 1..%d; got %d", field, max, v);
}

}  // namespace

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
  if (spec.cell < RK_CELL_RNN_TANH || spec.cell > RK_CELL_JORDAN) {
    return msg("spec->cell must be an rk_cell (0..6); got %d", spec.cell);
  }
  if (const char* bad = in_range("input_size", spec.input_size, RK_MAX_WIDTH)) return bad;
  if (const char* bad = in_range("hidden_size", spec.hidden_size, RK_MAX_WIDTH)) return bad;
  if (spec.cell == RK_CELL_JORDAN) {
    if (const char* bad = in_range("output_size", spec.output_size, RK_MAX_WIDTH)) return bad;
  }
  if (const char* bad = in_range("layers", spec.layers, RK_MAX_LAYERS)) return bad;
  if (spec.bidirectional != 0 && spec.bidirectional != 1) {
    return msg("spec->bidirectional must be 0 or 1; got %d", spec.bidirectional);
  }
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
  if (const char* err = params_over_limit(param_count(d))) return err;
  *out = d;
  return nullptr;
}

const char* params_over_limit(int64_t total) {
  if (total <= RK_MAX_PARAMS) return nullptr;
  return msg("the parameters would need %lld floats; the limit is RK_MAX_PARAMS = %d", static_cast<long long>(total),
             RK_MAX_PARAMS);
}

int64_t param_count(const StackDims& d) {
  int64_t total = 0;
  for_each_param(d, [&](const ParamTensor& t) { total = sat_add(total, t.size()); });
  return total;
}

ParamLayout make_layout(const StackDims& d) {
  ParamLayout p;
  p.dirs.assign(static_cast<size_t>(d.L) * d.D, DirOffsets{});
  for_each_param(d, [&](const ParamTensor& t) {
    p.dirs[static_cast<size_t>(t.layer) * d.D + t.dir].*t.slot = p.total;
    p.total += t.size();
  });
  return p;
}

void append_layout_text(const StackDims& d, const char* prefix, int64_t base, std::string* out) {
  int64_t off = base;
  for_each_param(d, [&](const ParamTensor& t) {
    char line[160];
    int n = std::snprintf(line, sizeof line, "%s%s_l%d%s %lld %lld", prefix, t.name, t.layer, t.dir == 1 ? "_reverse" : "",
                          static_cast<long long>(off), static_cast<long long>(t.d0));
    if (t.d1 != 0) n += std::snprintf(line + n, sizeof line - n, "x%lld", static_cast<long long>(t.d1));
    out->append(line, n);
    out->push_back('\n');
    off += t.size();
  });
}

StackShapes stack_shapes(const StackDims& d, int64_t T, int64_t B) {
  const int64_t states = sat_mul(d.L, d.D, B);
  StackShapes s;
  s.x = sat_mul(T, B, d.I);
  s.y = sat_mul(T, B, d.D, d.S);
  s.h = sat_mul(states, d.S);
  s.c = d.has_c ? sat_mul(states, d.H) : 0;
  return s;
}

const char* check_elements(const NamedSize* arrays, int n) {
  for (int i = 0; i < n; i++) {
    const int64_t e = arrays[i].elements;
    if (e <= RK_MAX_ELEMENTS) continue;
    if (e == kSizeSaturated) {
      return msg("%s would have more than %lld elements; the limit is RK_MAX_ELEMENTS = %d", arrays[i].name,
                 static_cast<long long>(kSizeSaturated - 1), RK_MAX_ELEMENTS);
    }
    return msg("%s would have %lld elements; the limit is RK_MAX_ELEMENTS = %d", arrays[i].name,
               static_cast<long long>(e), RK_MAX_ELEMENTS);
  }
  return nullptr;
}

const char* check_at_least(const char* name, int32_t value, int32_t min) {
  return value >= min ? nullptr : msg("%s must be >= %d; got %d", name, min, value);
}

const char* check_stack_call(const StackDims& d, int32_t T, int32_t B, StackShapes* out) {
  if (const char* bad = check_at_least("T (steps)", T, 1)) return bad;
  if (const char* bad = check_at_least("B (batch)", B, 1)) return bad;
  const StackShapes s = stack_shapes(d, T, B);
  const NamedSize arrays[] = {{"T*B (rows)", sat_mul(T, B)},
                              {"x [T][B][I]", s.x},
                              {"y [T][B][D*S]", s.y},
                              {"h0/hn [L*D][B][S]", s.h},
                              {"c0/cn [L*D][B][H]", s.c}};
  if (const char* bad = check_elements(arrays, sizeof arrays / sizeof arrays[0])) return bad;
  *out = s;
  return nullptr;
}

}  // namespace rk
