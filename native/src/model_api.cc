// The rk_model_* functions of rnnkit.h: argument checks, then model.cc.
//
// Like api.cc: every entry point validates what C can check, catches every exception
// (std::bad_alloc -> RK_ENOMEM, anything else -> RK_EINTERNAL), reports failures through
// rk::fail, and holds ScopedFlushDenormals while it computes. The sizes of the caller's
// arrays cannot be checked here: the bindings check them, against rk_model_shapes. Every
// size limit is checked by model_dims.cc (make_model_dims, check_model_call).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "denormals.h"
#include "error.h"
#include "model.h"
#include "rnnkit.h"

struct rk_model {
  explicit rk_model(const rk::ModelDims& d) : impl(d), layout(rk::model_layout_text(d)) {}
  rk::Model impl;
  std::string layout;  // rk_model_layout
};

namespace {

using rk::guarded;

void write(rk_step_result* out, const rk::StepOut& s) {
  out->loss = s.loss.loss;
  out->count = s.loss.count;
  out->correct = s.loss.correct;
  out->total_norm = s.total_norm;
}

// The common checks of a compute call on a batch.
rk_status check_call(const char* what, rk_model* m, const rk_batch* b, rk_step_result* out, bool need_targets) {
  if (m == nullptr) return rk::fail(RK_EINVAL, "%s: model must not be NULL", what);
  if (b == nullptr) return rk::fail(RK_EINVAL, "%s: batch must not be NULL", what);
  if (out == nullptr) return rk::fail(RK_EINVAL, "%s: out must not be NULL", what);
  if (const char* bad = m->impl.check_batch(*b, need_targets)) return rk::fail(RK_EINVAL, "%s: %s", what, bad);
  return RK_OK;
}

// The NULL checks of a parameter copy, naming the argument that is NULL.
rk_status check_copy(const char* what, const rk_model* m, const float* flat) {
  if (m == nullptr) return rk::fail(RK_EINVAL, "%s: model must not be NULL", what);
  if (flat == nullptr) return rk::fail(RK_EINVAL, "%s: flat must not be NULL", what);
  return RK_OK;
}

// The checks of an optimizer-state call: a model, with an optimizer.
rk_status check_optimizer(const char* what, const rk_model* m) {
  if (m == nullptr) return rk::fail(RK_EINVAL, "%s: model must not be NULL", what);
  if (!m->impl.optimizer().configured()) {
    return rk::fail(RK_ESTATE, "%s: the model has no optimizer (call rk_model_set_optimizer first)", what);
  }
  return RK_OK;
}

}  // namespace

extern "C" {

rk_status rk_model_create(const rk_model_spec* spec, rk_model** out) {
  return guarded("rk_model_create", [&]() -> rk_status {
    if (out == nullptr) return rk::fail(RK_EINVAL, "rk_model_create: out must not be NULL");
    *out = nullptr;
    if (spec == nullptr) return rk::fail(RK_EINVAL, "rk_model_create: spec must not be NULL");
    rk::ModelDims dims;
    // make_model_dims bounds every size (RK_MAX_*) before anything is allocated.
    if (const char* bad = rk::make_model_dims(*spec, &dims)) return rk::fail(RK_EINVAL, "rk_model_create: %s", bad);
    *out = new rk_model(dims);
    return RK_OK;
  });
}

void rk_model_destroy(rk_model* m) { delete m; }

int64_t rk_model_param_count(const rk_model* m) { return m == nullptr ? 0 : m->impl.param_count(); }

const char* rk_model_layout(const rk_model* m) { return m == nullptr ? "" : m->layout.c_str(); }

rk_status rk_model_shapes(const rk_model* m, int32_t T, int32_t B, int32_t source_T, int64_t out[RK_ARRAY_COUNT]) {
  static const char* const what = "rk_model_shapes";
  return guarded(what, [&]() -> rk_status {
    if (m == nullptr) return rk::fail(RK_EINVAL, "%s: model must not be NULL", what);
    if (out == nullptr) return rk::fail(RK_EINVAL, "%s: out must not be NULL", what);
    if (const char* bad = rk::check_model_call(m->impl.dims(), T, B, source_T, out)) {
      return rk::fail(RK_EINVAL, "%s: %s", what, bad);
    }
    return RK_OK;
  });
}

rk_status rk_model_set_params(rk_model* m, const float* flat) {
  return guarded("rk_model_set_params", [&]() -> rk_status {
    if (rk_status st = check_copy("rk_model_set_params", m, flat)) return st;
    m->impl.set_params(flat);
    return RK_OK;
  });
}

rk_status rk_model_get_params(const rk_model* m, float* flat) {
  return guarded("rk_model_get_params", [&]() -> rk_status {
    if (rk_status st = check_copy("rk_model_get_params", m, flat)) return st;
    const_cast<rk_model*>(m)->impl.get_params(flat);
    return RK_OK;
  });
}

rk_status rk_model_get_grads(const rk_model* m, float* flat) {
  return guarded("rk_model_get_grads", [&]() -> rk_status {
    if (rk_status st = check_copy("rk_model_get_grads", m, flat)) return st;
    const_cast<rk_model*>(m)->impl.get_grads(flat);
    return RK_OK;
  });
}

rk_status rk_model_set_optimizer(rk_model* m, const rk_optimizer* opt) {
  return guarded("rk_model_set_optimizer", [&]() -> rk_status {
    if (m == nullptr) return rk::fail(RK_EINVAL, "rk_model_set_optimizer: model must not be NULL");
    if (opt == nullptr) return rk::fail(RK_EINVAL, "rk_model_set_optimizer: opt must not be NULL");
    if (const char* bad = m->impl.optimizer().configure(*opt, m->impl.param_count())) {
      return rk::fail(RK_EINVAL, "rk_model_set_optimizer: %s", bad);
    }
    return RK_OK;
  });
}

rk_status rk_model_set_lr(rk_model* m, double lr) {
  return guarded("rk_model_set_lr", [&]() -> rk_status {
    if (m == nullptr) return rk::fail(RK_EINVAL, "rk_model_set_lr: model must not be NULL");
    if (!m->impl.optimizer().configured()) return rk::fail(RK_ESTATE, "rk_model_set_lr: the model has no optimizer yet");
    if (!(std::isfinite(lr) && lr >= 0)) {
      return rk::fail(RK_EINVAL, "rk_model_set_lr: lr must be a finite number >= 0; got %g", lr);
    }
    m->impl.optimizer().set_lr(lr);
    return RK_OK;
  });
}

rk_status rk_model_optimizer_state(const rk_model* m, int64_t* step, int32_t* buffers) {
  static const char* const what = "rk_model_optimizer_state";
  return guarded(what, [&]() -> rk_status {
    if (rk_status st = check_optimizer(what, m)) return st;
    if (step == nullptr) return rk::fail(RK_EINVAL, "%s: step must not be NULL", what);
    if (buffers == nullptr) return rk::fail(RK_EINVAL, "%s: buffers must not be NULL", what);
    const rk::Optimizer& o = m->impl.optimizer();
    *step = o.steps();
    *buffers = o.buffer_count();
    return RK_OK;
  });
}

rk_status rk_model_get_optimizer_buffer(const rk_model* m, int32_t k, float* out) {
  static const char* const what = "rk_model_get_optimizer_buffer";
  return guarded(what, [&]() -> rk_status {
    if (rk_status st = check_optimizer(what, m)) return st;
    if (out == nullptr) return rk::fail(RK_EINVAL, "%s: out must not be NULL", what);
    const rk::Optimizer& o = m->impl.optimizer();
    if (k < 0 || k >= o.buffer_count()) {
      return rk::fail(RK_EINVAL, "%s: k must be in 0..%d (the optimizer keeps %d buffers); got %d", what,
                      o.buffer_count() - 1, o.buffer_count(), k);
    }
    std::memcpy(out, o.buffer(k), sizeof(float) * static_cast<size_t>(m->impl.param_count()));
    return RK_OK;
  });
}

rk_status rk_model_set_optimizer_state(rk_model* m, int64_t step, const float* const* buffers, int32_t n) {
  static const char* const what = "rk_model_set_optimizer_state";
  return guarded(what, [&]() -> rk_status {
    if (rk_status st = check_optimizer(what, m)) return st;
    rk::Optimizer& o = m->impl.optimizer();
    if (n != o.buffer_count()) {
      return rk::fail(RK_EINVAL, "%s: n must be %d (the buffers this optimizer keeps); got %d", what, o.buffer_count(), n);
    }
    if (n > 0 && buffers == nullptr) return rk::fail(RK_EINVAL, "%s: buffers must not be NULL", what);
    for (int32_t k = 0; k < n; k++) {
      if (buffers[k] == nullptr) return rk::fail(RK_EINVAL, "%s: buffers[%d] must not be NULL", what, k);
    }
    if (step < 0) return rk::fail(RK_EINVAL, "%s: step must be >= 0; got %lld", what, static_cast<long long>(step));
    o.set_state(step, buffers);
    return RK_OK;
  });
}

rk_status rk_model_train_step(rk_model* m, const rk_batch* batch, float* hn, float* cn, rk_step_result* out) {
  static const char* const what = "rk_model_train_step";
  return guarded(what, [&]() -> rk_status {
    if (rk_status st = check_call(what, m, batch, out, true)) return st;
    if (!m->impl.optimizer().configured()) {
      return rk::fail(RK_ESTATE, "%s: the model has no optimizer (call rk_model_set_optimizer first)", what);
    }
    rk::ScopedFlushDenormals ftz;
    write(out, m->impl.train(*batch, hn, cn, true));
    return RK_OK;
  });
}

rk_status rk_model_loss_and_grads(rk_model* m, const rk_batch* batch, float* hn, float* cn, rk_step_result* out) {
  static const char* const what = "rk_model_loss_and_grads";
  return guarded(what, [&]() -> rk_status {
    if (rk_status st = check_call(what, m, batch, out, true)) return st;
    rk::ScopedFlushDenormals ftz;
    write(out, m->impl.train(*batch, hn, cn, false));
    return RK_OK;
  });
}

rk_status rk_model_evaluate(rk_model* m, const rk_batch* batch, float* outputs, float* y, float* hn, float* cn,
                            rk_step_result* out) {
  static const char* const what = "rk_model_evaluate";
  return guarded(what, [&]() -> rk_status {
    if (rk_status st = check_call(what, m, batch, out, false)) return st;
    rk::ScopedFlushDenormals ftz;
    write(out, m->impl.evaluate(*batch, outputs, y, hn, cn));
    return RK_OK;
  });
}

}  // extern "C"
