#include "model_dims.h"

#include <cstdio>
#include <cstring>
#include <string>

#include "error.h"

namespace rk {

namespace {

template <typename... A>
const char* msg(const char* fmt, A... a) {
  return message<kModelDimsMessages>(fmt, a...);  // error.h
}

// nullptr when v is in min..RK_MAX_WIDTH, else a message naming the field.
const char* width(const char* field, int32_t v, int32_t min) {
  return v >= min && v <= RK_MAX_WIDTH ? nullptr : msg("%s must be in %d..%d; got %d", field, min, RK_MAX_WIDTH, v);
}

// Names of the rk_model_array arrays in messages (rk_batch's field names).
const char* const kArrayNames[] = {"tokens", "x",         "targets",       "target_values", "target_mask",
                                   "lengths", "h0/hn",    "c0/cn",         "condition",     "source_tokens",
                                   "source_x", "source_lengths", "outputs", "y"};
static_assert(sizeof kArrayNames / sizeof kArrayNames[0] == RK_ARRAY_COUNT, "one name per rk_model_array");

}  // namespace

const char* make_model_dims(const rk_model_spec& s, ModelDims* out) {
  ModelDims d;
  d.input_kind = s.input_kind;
  switch (s.input_kind) {
    case RK_INPUT_EMBEDDING:
      if (const char* bad = width("vocab", s.vocab, 1)) return bad;
      if (const char* bad = width("dim", s.dim, 1)) return bad;
      d.V = s.vocab;
      d.E = s.dim;
      d.width = s.dim;
      break;
    case RK_INPUT_ONEHOT:
      if (const char* bad = width("vocab", s.vocab, 1)) return bad;
      d.V = s.vocab;
      d.width = s.vocab;
      break;
    case RK_INPUT_DENSE:
      if (const char* bad = width("size", s.size, 1)) return bad;
      d.width = s.size;
      break;
    default:
      return msg("input_kind must be 0 (embedding), 1 (onehot) or 2 (dense); got %d", s.input_kind);
  }
  if (s.freeze_embedding != 0 && s.freeze_embedding != 1) {
    return msg("freeze_embedding must be 0 or 1; got %d", s.freeze_embedding);
  }
  d.frozen = s.freeze_embedding == 1 && s.input_kind == RK_INPUT_EMBEDDING;
  if (const char* bad = width("condition_size", s.condition_size, 0)) return bad;
  if (s.readout != RK_READOUT_STEPS && s.readout != RK_READOUT_FINAL_STATE) {
    return msg("readout must be 0 (steps) or 1 (final_state); got %d", s.readout);
  }
  d.K = s.condition_size;
  d.in = d.width + d.K;  // both within RK_MAX_WIDTH: no overflow
  d.final_state = s.readout == RK_READOUT_FINAL_STATE;
  // make_dims names rk_stack_create's fields ("spec->cell ..."): here they are stack.cell etc.
  if (const char* bad = make_dims(s.stack, &d.stack)) {
    return std::strncmp(bad, "spec->", 6) == 0 ? msg("stack.%s", bad + 6) : msg("stack: %s", bad);
  }
  if (s.stack.input_size != d.in) {
    return msg("stack.input_size must equal the input width plus condition_size = %d; got %d", d.in, s.stack.input_size);
  }
  if (const char* bad = width("outputs", s.outputs, 1)) return bad;
  if (s.loss != RK_LOSS_CROSS_ENTROPY && s.loss != RK_LOSS_MSE) {
    return msg("loss must be 0 (cross-entropy) or 1 (mse); got %d", s.loss);
  }
  d.C = s.outputs;
  d.F = d.stack.D * d.stack.S;
  d.loss = s.loss;
  d.ignore_index = s.ignore_index;
  d.stack_spec = s.stack;
  if (!(s.dropout_input >= 0 && s.dropout_input < 1)) return msg("dropout_input must be in [0, 1); got %g", s.dropout_input);
  if (!(s.dropout_between >= 0 && s.dropout_between < 1)) {
    return msg("dropout_between must be in [0, 1); got %g", s.dropout_between);
  }
  d.p_input = s.dropout_input;
  d.p_between = s.dropout_between;
  d.per_layer = d.p_between > 0 && d.stack.L > 1;
  if (s.encoder != 0) {
    // The encoder is a model without head: its own input layer and stack, no conditioning,
    // the same dropout. Built through this function from a spec of its own.
    rk_model_spec e{};
    e.input_kind = s.encoder_input_kind;
    e.vocab = s.encoder_vocab;
    e.dim = s.encoder_dim;
    e.size = s.encoder_size;
    e.stack = s.encoder_stack;
    e.freeze_embedding = s.encoder_freeze_embedding;
    e.outputs = 1;
    e.dropout_input = s.dropout_input;
    e.dropout_between = s.dropout_between;
    ModelDims ed;
    if (const char* bad = make_model_dims(e, &ed)) {
      std::string m = bad;
      return msg("encoder: %s", m.c_str());
    }
    const StackDims& es = ed.stack;
    if (es.L != d.stack.L || es.D != d.stack.D || es.S != d.stack.S || es.H != d.stack.H || es.has_c != d.stack.has_c) {
      return "encoder_stack must have the decoder stack's layers, directions, state widths and cell-state kind";
    }
    ed.C = 0;
    d.encoder = std::make_shared<ModelDims>(ed);
  }
  if (const char* err = params_over_limit(model_param_count(d))) return err;
  *out = d;
  return nullptr;
}

int64_t model_param_count(const ModelDims& d) {
  int64_t total = 0;
  for_each_model_block(d, [&](const ModelBlock& b) { total = sat_add(total, b.size); });
  return total;
}

std::string model_layout_text(const ModelDims& d) {
  std::string out;
  int64_t off = 0;
  for_each_model_block(d, [&](const ModelBlock& b) {
    if (b.stack != nullptr) {
      append_layout_text(*b.stack, (std::string(b.prefix) + b.name).c_str(), off, &out);
    } else {
      char line[160];
      int n = b.d1 != 0 ? std::snprintf(line, sizeof line, "%s%s %lld %lldx%lld", b.prefix, b.name, static_cast<long long>(off),
                                        static_cast<long long>(b.d0), static_cast<long long>(b.d1))
                        : std::snprintf(line, sizeof line, "%s%s %lld %lld", b.prefix, b.name, static_cast<long long>(off),
                                        static_cast<long long>(b.d0));
      out.append(line, n);
      out.push_back('\n');
    }
    off += b.size;
  });
  return out;
}

const char* check_model_call(const ModelDims& d, int32_t T, int32_t B, int32_t source_T, int64_t out[RK_ARRAY_COUNT]) {
  if (const char* bad = check_at_least("T (steps)", T, 1)) return bad;
  if (const char* bad = check_at_least("B (batch)", B, 1)) return bad;
  if (const char* bad = check_at_least("source_T (source steps)", source_T, 0)) return bad;
  const int64_t N = sat_mul(T, B);
  const int64_t R = d.final_state ? B : N;  // head rows
  const bool tokens = d.input_kind != RK_INPUT_DENSE;
  const bool ce = d.loss == RK_LOSS_CROSS_ENTROPY;
  const StackShapes st = stack_shapes(d.stack, T, B);
  const bool seq = d.encoder && source_T > 0;
  const StackShapes es = seq ? stack_shapes(d.encoder->stack, source_T, B) : StackShapes{};
  const bool source_tokens = seq && d.encoder->input_kind != RK_INPUT_DENSE;
  int64_t a[RK_ARRAY_COUNT];
  a[RK_ARRAY_TOKENS] = tokens ? N : 0;
  a[RK_ARRAY_X] = tokens ? 0 : sat_mul(N, d.width);
  a[RK_ARRAY_TARGETS] = ce ? R : 0;
  a[RK_ARRAY_TARGET_VALUES] = ce ? 0 : sat_mul(R, d.C);
  a[RK_ARRAY_TARGET_MASK] = ce ? 0 : R;
  a[RK_ARRAY_LENGTHS] = B;
  a[RK_ARRAY_H] = st.h;
  a[RK_ARRAY_C] = st.c;
  a[RK_ARRAY_CONDITION] = sat_mul(B, d.K);
  a[RK_ARRAY_SOURCE_TOKENS] = source_tokens ? sat_mul(source_T, B) : 0;
  a[RK_ARRAY_SOURCE_X] = seq && !source_tokens ? sat_mul(source_T, B, d.encoder->width) : 0;
  a[RK_ARRAY_SOURCE_LENGTHS] = seq ? B : 0;
  a[RK_ARRAY_OUTPUTS] = sat_mul(R, d.C);
  a[RK_ARRAY_Y] = st.y;
  NamedSize arrays[RK_ARRAY_COUNT + 5];
  int n = 0;
  arrays[n++] = {"T*B (rows)", N};
  arrays[n++] = {"source_T*B (source rows)", sat_mul(source_T, B)};
  for (int i = 0; i < RK_ARRAY_COUNT; i++) arrays[n++] = {kArrayNames[i], a[i]};
  // The arrays the model builds inside: the stacks' inputs (and the encoder's outputs,
  // which only it sees; the decoder's are y).
  arrays[n++] = {"the stack's input [T][B][stack.input_size]", st.x};
  arrays[n++] = {"the encoder stack's input [source_T][B][encoder_stack.input_size]", es.x};
  arrays[n++] = {"the encoder stack's output [source_T][B][D*S]", es.y};
  if (const char* bad = check_elements(arrays, n)) return bad;
  for (int i = 0; i < RK_ARRAY_COUNT; i++) out[i] = a[i];
  return nullptr;
}

}  // namespace rk
