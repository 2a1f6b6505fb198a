// Gradient clipping and the four optimizers of a training model, exactly torch 1.13's
// single-tensor paths (formulas: shared/golden/README.md "Optimizer updates" and
// "Gradient clipping"; float64 specification: src/backend/reference/training/optimizers.ts
// and clip.ts).
//
// A model keeps its parameters in a few separate arrays (embedding, stack, head), so every
// function here takes a list of segments; optimizer state is one flat array per moment over
// all segments in model-layout order. Clipping is folded into the update: the gradient
// arrays are never modified, so the model can still report the gradient before clipping.
#ifndef RNNKIT_OPTIM_H
#define RNNKIT_OPTIM_H

#include <cstdint>
#include <vector>

#include "dispatch.h"
#include "rnnkit.h"

namespace rk {

// One parameter array and its gradient. A frozen segment (a frozen embedding table) takes
// no part: it is left out of the norm, and the update skips it (parameters and its part of
// the optimizer state untouched).
struct Segment {
  float* param;
  const float* grad;
  int64_t n;
  bool frozen = false;
};

// How the gradient enters the update: g' = min(max(g, -limit), limit) · scale.
struct GradTransform {
  bool clamp = false;
  float limit = 0;
  float scale = 1;
};

// √(Σ g'²) over every segment but the frozen ones (g' clamped when t.clamp; scale
// ignored), accumulated in double.
double global_norm(const std::vector<Segment>& segs, const GradTransform& t);

class Optimizer {
 public:
  // Validates and stores the hyper-parameters; nullptr on success, else what is wrong.
  const char* configure(const rk_optimizer& o, int64_t total);
  bool configured() const { return configured_; }
  const rk_optimizer& spec() const { return o_; }
  void set_lr(double lr) { o_.lr = lr; }

  // The gradient transform of clipping for gradients whose norm (after value clipping) is
  // `norm`: coef = max_norm / (norm + 1e-6), applied only when coef < 1.
  GradTransform clip_transform(double norm) const;

  // One update of every segment but the frozen ones (step count t = previous + 1).
  void step(const std::vector<Segment>& segs, const GradTransform& t);

  // The state a checkpoint holds (rk_model_optimizer_state): completed steps, and the
  // buffers the kind keeps, in the order of rnnkit.h — sgd with momentum: the momentum
  // buffer; rmsprop: the square average; adam / adamw: m, then v. Zeros before step 1.
  int64_t steps() const { return t_; }
  int buffer_count() const { return (m_.empty() ? 0 : 1) + (v_.empty() ? 0 : 1); }
  // Buffer k in 0..buffer_count()-1: `total` floats (configure's).
  const float* buffer(int k) const;
  // Sets the step count and each of the buffer_count() buffers from `buffers[k]` (`total`
  // floats each); magnitudes below FLT_MIN are stored as 0, as step() stores them.
  void set_state(int64_t t, const float* const* buffers);

 private:
  std::vector<float>& buffer_ref(int k) { return k == 0 && !m_.empty() ? m_ : v_; }
  // The SGD / RMSprop update of n consecutive elements (m, v: their slices of the state, or
  // null where the kind keeps none), at step t_. Adam and AdamW run the adam_update kernel
  // with the constants of adam_step, computed once per step.
  void update(float* p, const float* g, float* m, float* v, int64_t n, const GradTransform& t) const;
  AdamStep adam_step(const GradTransform& t) const;

  rk_optimizer o_{};
  bool configured_ = false;
  int64_t t_ = 0;
  std::vector<float> m_, v_;  // momentum buffer / Adam's m, and the second moment v
};

}  // namespace rk

#endif
