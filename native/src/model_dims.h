// The resolved shape of a training model (input layer, stack, head, optional seq2seq
// encoder): make_model_dims validates an rk_model_spec into it — the one place a model spec
// is bounded (RK_MAX_WIDTH, RK_MAX_PARAMS; the stacks through layout.h's make_dims) — and
// check_model_call bounds a call (RK_MAX_ELEMENTS), both before anything is allocated.
//
// for_each_model_block is the one description of the model's flat parameter order
// (src/backend/layout.ts modelLayout): the parameter count and rk_model_layout's text come
// from it, and Model (model.h) checks its own buffers against it when it is built.
#ifndef RNNKIT_MODEL_DIMS_H
#define RNNKIT_MODEL_DIMS_H

#include <cstdint>
#include <memory>
#include <string>

#include "layout.h"
#include "rnnkit.h"

namespace rk {

struct ModelDims {
  int input_kind = RK_INPUT_DENSE;
  int V = 0;      // vocab (embedding, one-hot)
  int E = 0;      // embedding dim
  bool frozen = false;  // embedding input with a frozen table (rk_model_spec.freeze_embedding)
  int width = 0;  // the input layer's width: E, V or the dense size
  int K = 0;      // conditioning vector width (appended to every step's input)
  int in = 0;     // the stack's input width: width + K
  bool final_state = false;  // readout of the top layer's final states (B head rows)
  double p_input = 0;        // dropout on the input layer's output
  double p_between = 0;      // dropout between recurrent layers
  bool per_layer = false;    // p_between > 0 with L > 1: one Stack per layer
  int C = 0;      // head outputs
  int F = 0;      // head input width D·S
  int loss = RK_LOSS_CROSS_ENTROPY;
  int32_t ignore_index = -100;
  StackDims stack;
  rk_stack_spec stack_spec{};
  // Seq2seq: the encoder's dims (C = 0: no head), else null.
  std::shared_ptr<ModelDims> encoder;
};

// Fills `out` from a spec; nullptr on success or a message naming the bad field.
const char* make_model_dims(const rk_model_spec& spec, ModelDims* out);

// One block of a model's flat parameter array: a tensor [d0][d1] ([d0] when d1 == 0), or,
// when `stack` is set, a recurrent stack's parameters (for_each_param gives its tensors).
struct ModelBlock {
  const char* prefix;  // "encoder." for the encoder's blocks, else ""
  const char* name;    // "embedding.weight", "rnn." (a stack: its tensors' prefix), "head.weight", "head.bias"
  const StackDims* stack;
  int64_t d0, d1;
  int64_t size;  // floats (saturating)
};

// Visits the blocks in flat-array order: the encoder's (seq2seq), then embedding.weight
// (embedding input), the stack, head.weight [C][F] and head.bias [C] (when C > 0).
template <class F>
void for_each_model_block(const ModelDims& d, F&& f, const char* prefix = "") {
  if (d.encoder) for_each_model_block(*d.encoder, f, "encoder.");
  if (d.input_kind == RK_INPUT_EMBEDDING) f(ModelBlock{prefix, "embedding.weight", nullptr, d.V, d.E, sat_mul(d.V, d.E)});
  f(ModelBlock{prefix, "rnn.", &d.stack, 0, 0, param_count(d.stack)});
  if (d.C > 0) {
    f(ModelBlock{prefix, "head.weight", nullptr, d.C, d.F, sat_mul(d.C, d.F)});
    f(ModelBlock{prefix, "head.bias", nullptr, d.C, 0, d.C});
  }
}

// Floats in the model's flat parameter array (saturating).
int64_t model_param_count(const ModelDims& d);

// rk_model_layout's text: one line per tensor, in rk_stack_layout's format.
std::string model_layout_text(const ModelDims& d);

// The size checks of a model call (the compute calls' check_batch, rk_model_shapes):
// nullptr when T, B >= 1, source_T >= 0 and every array of the call — those of rk_batch,
// the outputs, and the stacks' inputs and outputs the model builds inside — is within
// RK_MAX_ELEMENTS; `out` (indexed by rk_model_array) is then set. Else a message.
const char* check_model_call(const ModelDims& d, int32_t T, int32_t B, int32_t source_T, int64_t out[RK_ARRAY_COUNT]);

}  // namespace rk

#endif
