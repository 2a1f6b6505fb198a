// A whole training model in native memory: input layer → recurrent stack → dense head →
// loss, with its parameters, gradients and optimizer state, and the one-call training step
// (forward, loss, backward, clipping, optimizer update) behind rk_model_train_step.
//
// The stack is an rk::Stack (sequence.h): its forward with keep = true records the tape, its
// backward adds the stack's gradients. Around it this file only moves arrays between
// heads.h (input layer, head GEMMs, losses) and optim.h (clipping, optimizers); the math
// lives in those files. What is fused here (embedding, one-hot or dense input, with an
// optional conditioning vector; readout of every step or of the final states; cross-entropy
// or MSE; dropout on the input and between layers; a seq2seq encoder, which is a Model
// without head whose final state starts this one) is listed in src/backend/fused-training.ts.
//
// With dropout between layers the stack runs as one single-layer rk::Stack per layer (the
// masks go between them); their parameter arrays, concatenated, are the whole stack's
// (the flat layout is layer by layer).
//
// Memory: one workspace arena per model, grown only when a window needs more than any
// window before (larger T·B); nothing is allocated per time step or per training step
// after the first.
//
// Arguments are validated by check_batch / make_model_dims (model_dims.h; called from
// model_api.cc), sizes before anything is allocated.
#ifndef RNNKIT_MODEL_H
#define RNNKIT_MODEL_H

#include <cstdint>
#include <memory>
#include <vector>

#include "dropout.h"
#include "heads.h"
#include "layout.h"
#include "model_dims.h"
#include "optim.h"
#include "rnnkit.h"
#include "sequence.h"
#include "workspace.h"

namespace rk {

struct StepOut {
  LossOut loss;
  double total_norm = 0;
};

class Model {
 public:
  explicit Model(const ModelDims& dims);

  const ModelDims& dims() const { return d_; }
  int64_t param_count() const;
  void set_params(const float* flat);
  void get_params(float* flat);
  void get_grads(float* flat);
  Optimizer& optimizer() { return opt_; }
  const Optimizer& optimizer() const { return opt_; }

  // nullptr when `b` is consistent with the model (ids, targets and lengths in range;
  // required arrays present: targets when `need_targets`), else a message.
  const char* check_batch(const rk_batch& b, bool need_targets) const;

  // Forward, loss, backward; then, when `update`, clipping and the optimizer step (skipped
  // when the loss or the norm is not finite). Requires a configured optimizer for update.
  StepOut train(const rk_batch& b, float* hn, float* cn, bool update);

  // Forward and loss (when the batch has targets); every output may be null.
  StepOut evaluate(const rk_batch& b, float* outputs, float* y, float* hn, float* cn);

  // ---- as the encoder of a seq2seq model (no head) --------------------------------
  // Forward over `src` into hn / cn ([L·D][B][S] / [L·D][B][H]); with `rng` (training),
  // its dropout masks are drawn from it and the tape is kept for encode_backward.
  void encode(const rk_batch& src, DropoutStream* rng, float* hn, float* cn);
  // Backward of the last training encode from the gradients of its final state.
  void encode_backward(const rk_batch& src, const float* dhn, const float* dcn);
  // Gradients to 0 (a step without source leaves the encoder out of the loss).
  void zero_grads();
 private:
  template <class F>
  void for_each_block(F&& f);  // f(params, grads, n) per block, in layout order

  // R = head rows: T·B, or B for the final-state readout.
  struct Work {
    float* x = nullptr;     // [T·B][in] input layer output (token input or conditioning)
    float* y = nullptr;     // [T·B][F] stack output
    float* head = nullptr;  // final state: [B][F] head input
    float* z = nullptr;     // [R][C] logits, then (training) ∂loss/∂z in place
    float* dy = nullptr;    // [R][F] gradient of the head input
    float* dz_sums = nullptr;  // cross-entropy training: the softmax's partial column sums
    float* dx = nullptr;    // [T·B][in] (embedding only)
    float* hn = nullptr;    // final state: [L·D][B][S] when the caller does not want hn
    float* dhn = nullptr;   // final state: [L·D][B][S]
    float* in_mask = nullptr;  // input dropout: [T·B][width]
    // Per-layer stacks, for l < L−1: raw outputs, masked outputs (the next layer's input)
    // and masks, [T·B][D·S] each; dl: two [T·B][D·S] gradients passed down in backward.
    std::vector<float*> layer_y, layer_in, masks;
    float* dl[2] = {nullptr, nullptr};
    // Seq2seq: the encoder's final state (the decoder's initial one) and its gradient.
    float* eh = nullptr;
    float* ec = nullptr;
    float* dh0 = nullptr;
    float* dc0 = nullptr;
  };
  Work carve(int T, int B, bool training, bool want_y, bool want_hn);
  void draw_masks(DropoutStream& rng, const rk_batch& b, Work& w);
  // The encoder's batch: source_* of `b`, with b's initial state.
  static rk_batch source_of(const rk_batch& b);
  // Appends the gradient (and, for an update, parameter) segments in layout order.
  void collect(std::vector<Segment>& out, bool for_update);
  // The recurrent stack over x [T·B][in] (one call, or layer by layer with the masks).
  void stack_forward(const rk_batch& b, const float* x, float* y, float* hn, float* cn, bool keep, const Work& w);
  // Its backward (after zeroing its gradients); dy, dhn, dcn may be null (zeros), dx
  // [T·B][in], dh0, dc0 (initial-state gradients) null when not wanted.
  void stack_backward(const rk_batch& b, const float* dy, const float* dhn, const float* dcn, float* dx, float* dh0,
                      float* dc0, const Work& w);
  int64_t stack_params() const;
  int head_rows(const rk_batch& b) const { return d_.final_state ? b.B : b.T * b.B; }
  void gather_final(const float* hn, int B, float* head) const;
  void scatter_final(const float* dhead, int B, float* dhn) const;
  const float* input_rows(const rk_batch& b, const Work& w) const;
  LossOut loss(const rk_batch& b, float* z, float* dz, ColumnSums dz_cols) const;
  // Embedding gradient from the stack's dx (through the input dropout mask).
  void embedding_backward(const rk_batch& b, const Work& w);

  ModelDims d_;
  std::vector<std::unique_ptr<Stack>> stacks_;  // the whole stack, or one per layer
  std::vector<float> emb_, emb_grad_;    // [V][E]
  // The rows of emb_grad_ that may be non-zero (the last embedding_backward's tokens, with
  // repeats); every other row is 0.
  std::vector<int32_t> emb_grad_rows_;
  std::vector<float> head_, head_grad_;  // weight [C][F] then bias [C]
  Optimizer opt_;
  Arena work_;
  std::unique_ptr<Model> encoder_;  // seq2seq
  Work enc_work_;                   // as an encoder: the arrays of the last training encode
};

}  // namespace rk

#endif
