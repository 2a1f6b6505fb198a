// A test double of the C ABI (rnnkit.h) that fails on request, linked with the real addon
// sources by test/native/errors.test.ts. The real kernels reject nothing the addon lets
// through, so without this double the addon's C-failure paths — above all reading
// rk_last_error() on the thread that failed, inside AsyncWorker::Execute — could not be
// tested. Failures are asked for with the value -1 in x[0] (forward) or dy[0] (backward),
// or hidden_size 999 (create). It computes nothing: outputs are left as they are.
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
  std::vector<float> params, grads;
  bool kept = false;
};

extern "C" {
const char* rk_last_error(void) { return t_error.c_str(); }
const char* rk_isa(void) { return g_isa.c_str(); }
rk_status rk_force_isa(const char* name) {
  if (std::strcmp(name, "scalar") != 0) return fail(RK_EINVAL, std::string("fake: no isa ") + name);
  return RK_OK;
}
rk_status rk_set_threads(int32_t n) {
  g_threads = n == 0 ? 1 : n;
  return RK_OK;
}
int32_t rk_get_threads(void) { return g_threads; }

rk_status rk_stack_create(const rk_stack_spec* spec, rk_stack** out) {
  if (spec->hidden_size == 999) return fail(RK_ENOMEM, "fake: hidden_size 999 requested an allocation failure");
  auto* s = new rk_stack;
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
}
