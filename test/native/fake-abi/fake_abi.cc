// A test double of the C ABI (rnnkit.h) that fails on request, linked with the real addon
// sources (and native/src/abi.cc, the real rk_abi_describe) by test/native/errors.test.ts.
// The real kernels reject nothing the addon lets through in the ways these tests need, so
// without this double the addon's C-failure paths — above all reading rk_last_error() on
// the thread that failed, inside AsyncWorker::Execute — could not be tested.
//
// Failures are asked for with the value -1 in x[0] (forward), dy[0] (backward) or
// tokens[0] (model runs), hidden_size 999 (stack create), outputs 999 (model create), or
// 999 threads. It computes nothing: outputs are left as they are. Shapes (rk_stack_shapes,
// rk_model_shapes) are those of a one-layer unidirectional stack without a cell state;
// functions not defined here are generated as failing stubs by errors.test.ts.
#include <cstring>
#include <string>
#include <vector>

#include "rnnkit.h"

namespace {
thread_local std::string t_error;  // per thread, like the real one
std::string g_isa = "scalar";
int g_threads = 1;

rk_status fail(rk_status s, const std::string& message) {
  t_error = message;
  return s;
}
}  // namespace

struct rk_stack {
  int32_t I = 0, H = 0;
  std::vector<float> params, grads;
  bool kept = false;
};

struct rk_model {
  int32_t H = 0, C = 0;
  std::vector<float> params;
};

extern "C" {
const char* rk_last_error(void) { return t_error.c_str(); }
const char* rk_isa(void) { return g_isa.c_str(); }
rk_status rk_force_isa(const char* name) {
  if (std::strcmp(name, "scalar") != 0) return fail(RK_EINVAL, std::string("fake: no isa ") + name);
  return RK_OK;
}
rk_status rk_set_threads(int32_t n) {
  if (n == 999) return fail(RK_EINVAL, "fake: 999 threads requested a failure");
  if (n == 998) return fail(RK_ENOMEM, "fake: 998 threads requested an allocation failure");
  g_threads = n == 0 ? 1 : n;
  return RK_OK;
}
int32_t rk_get_threads(void) { return g_threads; }

// --- stacks -----------------------------------------------------------------------

rk_status rk_stack_create(const rk_stack_spec* spec, rk_stack** out) {
  if (spec->hidden_size == 999) return fail(RK_ENOMEM, "fake: hidden_size 999 requested an allocation failure");
  auto* s = new rk_stack;
  s->I = spec->input_size;
  s->H = spec->hidden_size;
  s->params.assign(4, 0.f);
  s->grads.assign(4, 0.f);
  *out = s;
  return RK_OK;
}
void rk_stack_destroy(rk_stack* s) { delete s; }
int64_t rk_stack_param_count(const rk_stack* s) { return static_cast<int64_t>(s->params.size()); }
float* rk_stack_params(rk_stack* s) { return s->params.data(); }
float* rk_stack_grads(rk_stack* s) { return s->grads.data(); }
void rk_stack_zero_grads(rk_stack* s) { s->grads.assign(s->grads.size(), 0.f); }
const char* rk_stack_layout(const rk_stack* s) { return s ? "fake 0 4\n" : ""; }

rk_status rk_stack_shapes(const rk_stack* s, int32_t T, int32_t B, int64_t out[4]) {
  if (T < 1 || B < 1) return fail(RK_EINVAL, "fake: rk_stack_shapes: T and B must be >= 1");
  const int64_t rows = static_cast<int64_t>(T) * B;
  out[0] = rows * s->I;
  out[1] = rows * s->H;
  out[2] = static_cast<int64_t>(B) * s->H;
  out[3] = 0;
  return RK_OK;
}

rk_status rk_stack_forward(rk_stack* s, int32_t T, int32_t B, const float* x, const float*, const float*, const int32_t*,
                           float*, float*, float*, int32_t keep) {
  if (x[0] == -1.f) {
    s->kept = false;
    // T and B in the message tell failures of different calls apart.
    return fail(RK_EINVAL, "fake: x[0] = -1 requested a forward failure (T=" + std::to_string(T) + ", B=" +
                               std::to_string(B) + ")");
  }
  if (keep) s->kept = true;
  return RK_OK;
}

rk_status rk_stack_backward(rk_stack* s, const float* dy, const float*, const float*, float*, float*, float*) {
  if (!s->kept) return fail(RK_ESTATE, "fake: no training forward");
  if (dy[0] == -1.f) return fail(RK_EINTERNAL, "fake: dy[0] = -1 requested a backward failure");
  return RK_OK;
}

// --- models: token input, targets, hn; no cell state ---------------------------------

rk_status rk_model_create(const rk_model_spec* spec, rk_model** out) {
  if (spec->outputs == 999) return fail(RK_ENOMEM, "fake: outputs 999 requested an allocation failure");
  auto* m = new rk_model;
  m->H = spec->stack.hidden_size;
  m->C = spec->outputs;
  m->params.assign(3, 0.f);
  *out = m;
  return RK_OK;
}
void rk_model_destroy(rk_model* m) { delete m; }
int64_t rk_model_param_count(const rk_model* m) { return static_cast<int64_t>(m->params.size()); }
const char* rk_model_layout(const rk_model* m) { return m ? "fake 0 3\n" : ""; }

rk_status rk_model_shapes(const rk_model* m, int32_t T, int32_t B, int32_t source_T, int64_t out[RK_ARRAY_COUNT]) {
  if (T < 1 || B < 1 || source_T < 0) return fail(RK_EINVAL, "fake: rk_model_shapes: T and B must be >= 1");
  const int64_t rows = static_cast<int64_t>(T) * B;
  for (int k = 0; k < RK_ARRAY_COUNT; k++) out[k] = 0;
  out[RK_ARRAY_TOKENS] = rows;
  out[RK_ARRAY_TARGETS] = rows;
  out[RK_ARRAY_H] = static_cast<int64_t>(B) * m->H;
  out[RK_ARRAY_OUTPUTS] = rows * m->C;
  out[RK_ARRAY_Y] = rows * m->H;
  return RK_OK;
}

rk_status rk_model_get_params(const rk_model* m, float* flat) {
  std::memcpy(flat, m->params.data(), m->params.size() * sizeof(float));
  return RK_OK;
}

static rk_status run(const char* what, const rk_batch* b, rk_step_result* out) {
  if (b->tokens == nullptr) return fail(RK_EINVAL, std::string("fake: ") + what + ": tokens must not be NULL");
  if (b->tokens[0] == -1) {
    return fail(RK_EINVAL, std::string("fake: tokens[0] = -1 requested a failure (") + what + ", T=" + std::to_string(b->T) +
                               ", B=" + std::to_string(b->B) + ")");
  }
  out->loss = 1.5;
  out->count = static_cast<double>(b->T) * b->B;
  out->correct = 0;
  out->total_norm = 0;
  return RK_OK;
}

rk_status rk_model_train_step(rk_model*, const rk_batch* batch, float*, float*, rk_step_result* out) {
  return run("train step", batch, out);
}
rk_status rk_model_loss_and_grads(rk_model*, const rk_batch* batch, float*, float*, rk_step_result* out) {
  return run("loss-and-grads", batch, out);
}
rk_status rk_model_evaluate(rk_model*, const rk_batch* batch, float*, float*, float*, float*, rk_step_result* out) {
  return run("evaluate", batch, out);
}
}
