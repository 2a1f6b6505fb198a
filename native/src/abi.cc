// rk_abi_describe: every enum, struct and limit of rnnkit.h as text, so that the bindings
// (src/backend/abi/) can check at load time that their one description of the header is
// the compiled one — sizes and offsets included, on every target (wasm32 pointers are 4
// bytes).
//
// Each enum, struct and limit is listed once in a table below. The compiler checks the
// struct tables against the header: every RK_FIELD's type code must match the field's C
// type and size; the fields must be listed in declaration order with nothing left out
// (each starts where the previous one ends, rounded up to its alignment; the last one's end
// rounded up to the struct's alignment is sizeof; and the table has as many fields as the
// struct has members). So a field added to rnnkit.h but not here does not compile.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>

#include "rnnkit.h"

namespace rk {
namespace abi {

// ---- field type codes: i32, u32, f64, ptr, or a nested struct's own type ----------------
struct i32 {};
struct u32 {};
struct f64 {};
struct ptr {};

template <class Code, class T>
struct Fits : std::is_same<Code, T> {};  // a nested struct: exactly that struct
template <class T>
struct Fits<i32, T> : std::is_same<T, int32_t> {};
template <class T>
struct Fits<u32, T> : std::is_same<T, uint32_t> {};
template <class T>
struct Fits<f64, T> : std::is_same<T, double> {};
template <class T>
struct Fits<ptr, T> : std::is_pointer<T> {};

template <class Code>
struct CodeSize : std::integral_constant<size_t, sizeof(Code)> {};
template <>
struct CodeSize<i32> : std::integral_constant<size_t, 4> {};
template <>
struct CodeSize<u32> : std::integral_constant<size_t, 4> {};
template <>
struct CodeSize<f64> : std::integral_constant<size_t, 8> {};
template <>
struct CodeSize<ptr> : std::integral_constant<size_t, sizeof(void*)> {};

struct Field {
  const char* name;
  const char* type;  // the code as text: "i32", ..., or the nested struct's name
  size_t offset, size, align;
};

template <class Code, class T>
constexpr Field field(const char* name, const char* type, size_t offset) {
  static_assert(Fits<Code, T>::value, "an RK_FIELD's type code does not match the field's C type");
  static_assert(sizeof(T) == CodeSize<Code>::value, "an RK_FIELD's size does not match its type code");
  return Field{name, type, offset, sizeof(T), alignof(T)};
}

#define RK_FIELD(S, f, code) field<code, decltype(S::f)>(#f, #code, offsetof(S, f))

constexpr size_t round_up(size_t n, size_t align) { return (n + align - 1) / align * align; }

// The fields lie one after another in declaration order and fill the struct.
template <size_t N>
constexpr bool tiles(const Field (&f)[N], size_t size, size_t align) {
  size_t end = 0;
  for (size_t i = 0; i < N; i++) {
    if (f[i].offset != round_up(end, f[i].align)) return false;
    end = f[i].offset + f[i].size;
  }
  return round_up(end, align) == size;
}

// Members of an aggregate: the most initializers S{...} accepts. tiles() alone would miss a
// new field that fits in padding (rk_model_spec has some).
struct AnyValue {
  template <class T>
  constexpr operator T() const;  // only in unevaluated operands
};
template <class S, class... A>
constexpr auto accepts(int) -> decltype(S{std::declval<A>()...}, true) {
  return true;
}
template <class S, class... A>
constexpr bool accepts(...) {
  return false;
}
template <class S, class... A>
constexpr size_t member_count() {
  if constexpr (accepts<S, A..., AnyValue>(0)) {
    return member_count<S, A..., AnyValue>();
  } else {
    return sizeof...(A);
  }
}

#define RK_CHECK_STRUCT(S, table)                                                              \
  static_assert(tiles(table, sizeof(S), alignof(S)), #S ": fields missing or out of order"); \
  static_assert(member_count<S>() == sizeof(table) / sizeof(table[0]), #S ": a member is not listed")

constexpr Field kStackSpec[] = {
    RK_FIELD(rk_stack_spec, cell, i32),
    RK_FIELD(rk_stack_spec, input_size, i32),
    RK_FIELD(rk_stack_spec, hidden_size, i32),
    RK_FIELD(rk_stack_spec, output_size, i32),
    RK_FIELD(rk_stack_spec, layers, i32),
    RK_FIELD(rk_stack_spec, bidirectional, i32),
};
RK_CHECK_STRUCT(rk_stack_spec, kStackSpec);

constexpr Field kModelSpec[] = {
    RK_FIELD(rk_model_spec, input_kind, i32),
    RK_FIELD(rk_model_spec, vocab, i32),
    RK_FIELD(rk_model_spec, dim, i32),
    RK_FIELD(rk_model_spec, size, i32),
    RK_FIELD(rk_model_spec, stack, rk_stack_spec),
    RK_FIELD(rk_model_spec, outputs, i32),
    RK_FIELD(rk_model_spec, loss, i32),
    RK_FIELD(rk_model_spec, ignore_index, i32),
    RK_FIELD(rk_model_spec, condition_size, i32),
    RK_FIELD(rk_model_spec, readout, i32),
    RK_FIELD(rk_model_spec, dropout_input, f64),
    RK_FIELD(rk_model_spec, dropout_between, f64),
    RK_FIELD(rk_model_spec, encoder, i32),
    RK_FIELD(rk_model_spec, encoder_input_kind, i32),
    RK_FIELD(rk_model_spec, encoder_vocab, i32),
    RK_FIELD(rk_model_spec, encoder_dim, i32),
    RK_FIELD(rk_model_spec, encoder_size, i32),
    RK_FIELD(rk_model_spec, encoder_stack, rk_stack_spec),
    RK_FIELD(rk_model_spec, freeze_embedding, i32),
    RK_FIELD(rk_model_spec, encoder_freeze_embedding, i32),
};
RK_CHECK_STRUCT(rk_model_spec, kModelSpec);

constexpr Field kOptimizer[] = {
    RK_FIELD(rk_optimizer, kind, i32),
    RK_FIELD(rk_optimizer, nesterov, i32),
    RK_FIELD(rk_optimizer, has_clip_value, i32),
    RK_FIELD(rk_optimizer, has_max_norm, i32),
    RK_FIELD(rk_optimizer, lr, f64),
    RK_FIELD(rk_optimizer, momentum, f64),
    RK_FIELD(rk_optimizer, dampening, f64),
    RK_FIELD(rk_optimizer, weight_decay, f64),
    RK_FIELD(rk_optimizer, alpha, f64),
    RK_FIELD(rk_optimizer, eps, f64),
    RK_FIELD(rk_optimizer, beta1, f64),
    RK_FIELD(rk_optimizer, beta2, f64),
    RK_FIELD(rk_optimizer, clip_value, f64),
    RK_FIELD(rk_optimizer, max_norm, f64),
};
RK_CHECK_STRUCT(rk_optimizer, kOptimizer);

constexpr Field kBatch[] = {
    RK_FIELD(rk_batch, T, i32),
    RK_FIELD(rk_batch, B, i32),
    RK_FIELD(rk_batch, tokens, ptr),
    RK_FIELD(rk_batch, x, ptr),
    RK_FIELD(rk_batch, targets, ptr),
    RK_FIELD(rk_batch, target_values, ptr),
    RK_FIELD(rk_batch, target_mask, ptr),
    RK_FIELD(rk_batch, lengths, ptr),
    RK_FIELD(rk_batch, h0, ptr),
    RK_FIELD(rk_batch, c0, ptr),
    RK_FIELD(rk_batch, condition, ptr),
    RK_FIELD(rk_batch, dropout_seed, u32),
    RK_FIELD(rk_batch, source_T, i32),
    RK_FIELD(rk_batch, source_tokens, ptr),
    RK_FIELD(rk_batch, source_x, ptr),
    RK_FIELD(rk_batch, source_lengths, ptr),
};
RK_CHECK_STRUCT(rk_batch, kBatch);

constexpr Field kStepResult[] = {
    RK_FIELD(rk_step_result, loss, f64),
    RK_FIELD(rk_step_result, count, f64),
    RK_FIELD(rk_step_result, correct, f64),
    RK_FIELD(rk_step_result, total_norm, f64),
};
RK_CHECK_STRUCT(rk_step_result, kStepResult);

struct Struct {
  const char* name;
  size_t size;
  const Field* fields;
  size_t count;
};
#define RK_STRUCT(S, table) Struct{#S, sizeof(S), table, sizeof(table) / sizeof(table[0])}
const Struct kStructs[] = {
    RK_STRUCT(rk_stack_spec, kStackSpec), RK_STRUCT(rk_model_spec, kModelSpec),    RK_STRUCT(rk_optimizer, kOptimizer),
    RK_STRUCT(rk_batch, kBatch),          RK_STRUCT(rk_step_result, kStepResult),
};

// ---- enums --------------------------------------------------------------------------
struct Enumerator {
  const char* name;
  long long value;
};
#define RK_ENUMERATOR(e) Enumerator{#e, e}

// Every enum of the header numbers its members 0, 1, 2, ... (the tables list them in order).
template <size_t N>
constexpr bool counts_up(const Enumerator (&e)[N]) {
  for (size_t i = 0; i < N; i++) {
    if (e[i].value != static_cast<long long>(i)) return false;
  }
  return true;
}
#define RK_CHECK_ENUM(table) static_assert(counts_up(table), #table ": enumerators missing or out of order")

constexpr Enumerator kStatus[] = {RK_ENUMERATOR(RK_OK), RK_ENUMERATOR(RK_EINVAL), RK_ENUMERATOR(RK_ENOMEM),
                                  RK_ENUMERATOR(RK_ESTATE), RK_ENUMERATOR(RK_EINTERNAL)};
RK_CHECK_ENUM(kStatus);
constexpr Enumerator kCell[] = {RK_ENUMERATOR(RK_CELL_RNN_TANH), RK_ENUMERATOR(RK_CELL_RNN_RELU),
                                RK_ENUMERATOR(RK_CELL_LSTM),     RK_ENUMERATOR(RK_CELL_LSTM_PEEPHOLE),
                                RK_ENUMERATOR(RK_CELL_GRU),      RK_ENUMERATOR(RK_CELL_GRU_CHO),
                                RK_ENUMERATOR(RK_CELL_JORDAN)};
RK_CHECK_ENUM(kCell);
constexpr Enumerator kInputKind[] = {RK_ENUMERATOR(RK_INPUT_EMBEDDING), RK_ENUMERATOR(RK_INPUT_ONEHOT),
                                     RK_ENUMERATOR(RK_INPUT_DENSE)};
RK_CHECK_ENUM(kInputKind);
constexpr Enumerator kLossKind[] = {RK_ENUMERATOR(RK_LOSS_CROSS_ENTROPY), RK_ENUMERATOR(RK_LOSS_MSE)};
RK_CHECK_ENUM(kLossKind);
constexpr Enumerator kReadout[] = {RK_ENUMERATOR(RK_READOUT_STEPS), RK_ENUMERATOR(RK_READOUT_FINAL_STATE)};
RK_CHECK_ENUM(kReadout);
constexpr Enumerator kOptimizerKind[] = {RK_ENUMERATOR(RK_OPT_SGD), RK_ENUMERATOR(RK_OPT_RMSPROP),
                                         RK_ENUMERATOR(RK_OPT_ADAM), RK_ENUMERATOR(RK_OPT_ADAMW)};
RK_CHECK_ENUM(kOptimizerKind);
constexpr Enumerator kModelArray[] = {
    RK_ENUMERATOR(RK_ARRAY_TOKENS),      RK_ENUMERATOR(RK_ARRAY_X),
    RK_ENUMERATOR(RK_ARRAY_TARGETS),     RK_ENUMERATOR(RK_ARRAY_TARGET_VALUES),
    RK_ENUMERATOR(RK_ARRAY_TARGET_MASK), RK_ENUMERATOR(RK_ARRAY_LENGTHS),
    RK_ENUMERATOR(RK_ARRAY_H),           RK_ENUMERATOR(RK_ARRAY_C),
    RK_ENUMERATOR(RK_ARRAY_CONDITION),   RK_ENUMERATOR(RK_ARRAY_SOURCE_TOKENS),
    RK_ENUMERATOR(RK_ARRAY_SOURCE_X),    RK_ENUMERATOR(RK_ARRAY_SOURCE_LENGTHS),
    RK_ENUMERATOR(RK_ARRAY_OUTPUTS),     RK_ENUMERATOR(RK_ARRAY_Y),
    RK_ENUMERATOR(RK_ARRAY_COUNT)};
RK_CHECK_ENUM(kModelArray);
static_assert(sizeof kModelArray / sizeof kModelArray[0] == RK_ARRAY_COUNT + 1, "kModelArray: every rk_model_array");

struct Enum {
  const char* name;
  const Enumerator* items;
  size_t count;
};
#define RK_ENUM(E, table) Enum{#E, table, sizeof(table) / sizeof(table[0])}
const Enum kEnums[] = {
    RK_ENUM(rk_status, kStatus),         RK_ENUM(rk_cell, kCell),
    RK_ENUM(rk_input_kind, kInputKind),  RK_ENUM(rk_loss_kind, kLossKind),
    RK_ENUM(rk_readout, kReadout),       RK_ENUM(rk_optimizer_kind, kOptimizerKind),
    RK_ENUM(rk_model_array, kModelArray),
};

// ---- limits ---------------------------------------------------------------------------
#define RK_LIMIT(n) Enumerator{#n, n}
const Enumerator kLimits[] = {RK_LIMIT(RK_MAX_LAYERS), RK_LIMIT(RK_MAX_WIDTH), RK_LIMIT(RK_MAX_PARAMS),
                              RK_LIMIT(RK_MAX_ELEMENTS), RK_LIMIT(RK_MAX_THREADS)};

std::string describe() {
  std::string out;
  char item[160];
  for (const Enum& e : kEnums) {
    out += "enum ";
    out += e.name;
    for (size_t i = 0; i < e.count; i++) {
      std::snprintf(item, sizeof item, " %s=%lld", e.items[i].name, e.items[i].value);
      out += item;
    }
    out += '\n';
  }
  for (const Struct& s : kStructs) {
    std::snprintf(item, sizeof item, "struct %s %zu", s.name, s.size);
    out += item;
    for (size_t i = 0; i < s.count; i++) {
      std::snprintf(item, sizeof item, " %s:%s@%zu", s.fields[i].name, s.fields[i].type, s.fields[i].offset);
      out += item;
    }
    out += '\n';
  }
  for (const Enumerator& l : kLimits) {
    std::snprintf(item, sizeof item, "limit %s %lld\n", l.name, l.value);
    out += item;
  }
  return out;
}

}  // namespace abi
}  // namespace rk

extern "C" const char* rk_abi_describe(void) {
  // Built once; a failed allocation (the only possible failure) leaves "" rather than let
  // an exception cross the C ABI.
  static const std::string text = []() -> std::string {
    try {
      return rk::abi::describe();
    } catch (...) {
      return std::string();
    }
  }();
  return text.c_str();
}
