// The rk_stack_* functions of rnnkit.h: argument checks, then sequence.cc.
//
// Every entry point validates what C can check (null pointers where none is allowed,
// sizes, lengths), catches every exception (std::bad_alloc -> RK_ENOMEM, anything else ->
// RK_EINTERNAL) and reports failures through rk::fail, which sets rk_last_error(). The
// sizes of the caller's arrays cannot be checked here: the bindings check them, against
// rk_stack_shapes. Every size limit is checked by layout.cc (make_dims, check_stack_call).
#include <cstdint>
#include <exception>
#include <new>
#include <string>

#include "denormals.h"
#include "error.h"
#include "layout.h"
#include "rnnkit.h"
#include "sequence.h"

struct rk_stack {
  explicit rk_stack(const rk::StackDims& d) : impl(d) { rk::append_layout_text(d, "", 0, &layout); }
  rk::Stack impl;
  std::string layout;  // rk_stack_layout
};

namespace {

using rk::guarded;

rk_status check_call(const char* what, const rk_stack* s, int32_t T, int32_t B, rk::StackShapes* shapes) {
  if (s == nullptr) return rk::fail(RK_EINVAL, "%s: stack must not be NULL", what);
  if (const char* bad = rk::check_stack_call(s->impl.dims(), T, B, shapes)) return rk::fail(RK_EINVAL, "%s: %s", what, bad);
  return RK_OK;
}

}  // namespace

extern "C" {

rk_status rk_stack_create(const rk_stack_spec* spec, rk_stack** out) {
  return guarded("rk_stack_create", [&]() -> rk_status {
    if (out == nullptr) return rk::fail(RK_EINVAL, "rk_stack_create: out must not be NULL");
    *out = nullptr;
    if (spec == nullptr) return rk::fail(RK_EINVAL, "rk_stack_create: spec must not be NULL");
    rk::StackDims dims;
    // make_dims bounds every size (RK_MAX_*) before anything is allocated.
    if (const char* bad = rk::make_dims(*spec, &dims)) return rk::fail(RK_EINVAL, "rk_stack_create: %s", bad);
    *out = new rk_stack(dims);
    return RK_OK;
  });
}

void rk_stack_destroy(rk_stack* s) { delete s; }

int64_t rk_stack_param_count(const rk_stack* s) { return s == nullptr ? 0 : s->impl.param_count(); }

const char* rk_stack_layout(const rk_stack* s) { return s == nullptr ? "" : s->layout.c_str(); }

rk_status rk_stack_shapes(const rk_stack* s, int32_t T, int32_t B, int64_t out[4]) {
  static const char* const what = "rk_stack_shapes";
  return guarded(what, [&]() -> rk_status {
    if (out == nullptr) return rk::fail(RK_EINVAL, "%s: out must not be NULL", what);
    rk::StackShapes sh;
    if (rk_status st = check_call(what, s, T, B, &sh)) return st;
    out[0] = sh.x;
    out[1] = sh.y;
    out[2] = sh.h;
    out[3] = sh.c;
    return RK_OK;
  });
}

float* rk_stack_params(rk_stack* s) { return s == nullptr ? nullptr : s->impl.params(); }

float* rk_stack_grads(rk_stack* s) { return s == nullptr ? nullptr : s->impl.grads(); }

void rk_stack_zero_grads(rk_stack* s) {
  if (s != nullptr) s->impl.zero_grads();
}

rk_status rk_stack_forward(rk_stack* s, int32_t T, int32_t B, const float* x, const float* h0, const float* c0,
                           const int32_t* lengths, float* y, float* hn, float* cn, int32_t keep) {
  static const char* const what = "rk_stack_forward";
  return guarded(what, [&]() -> rk_status {
    rk::StackShapes shapes;
    if (rk_status st = check_call(what, s, T, B, &shapes)) return st;
    const rk::StackDims& d = s->impl.dims();
    if (x == nullptr) return rk::fail(RK_EINVAL, "%s: x must not be NULL", what);
    if (lengths != nullptr) {
      for (int32_t b = 0; b < B; b++) {
        if (lengths[b] < 0 || lengths[b] > T) {
          return rk::fail(RK_EINVAL, "%s: lengths[%d] must be in 0..%d (T); got %d", what, b, T, lengths[b]);
        }
      }
    }
    rk::ForwardCall c;
    c.T = T;
    c.B = B;
    c.x = x;
    c.h0 = h0;
    c.c0 = d.has_c ? c0 : nullptr;
    c.lengths = lengths;
    c.y = y;
    c.hn = hn;
    c.cn = d.has_c ? cn : nullptr;
    c.keep = keep != 0;
    rk::ScopedFlushDenormals ftz;
    s->impl.forward(c);
    return RK_OK;
  });
}

rk_status rk_stack_backward(rk_stack* s, const float* dy, const float* dhn, const float* dcn, float* dx, float* dh0,
                            float* dc0) {
  static const char* const what = "rk_stack_backward";
  return guarded(what, [&]() -> rk_status {
    if (s == nullptr) return rk::fail(RK_EINVAL, "%s: stack must not be NULL", what);
    // The shapes are the kept forward's, which check_call bounded.
    if (!s->impl.has_tape()) {
      return rk::fail(RK_ESTATE, "%s: no training forward to go back through (call rk_stack_forward with keep = 1 first)",
                      what);
    }
    rk::BackwardCall c;
    c.dy = dy;
    c.dhn = dhn;
    c.dcn = s->impl.dims().has_c ? dcn : nullptr;
    c.dx = dx;
    c.dh0 = dh0;
    c.dc0 = s->impl.dims().has_c ? dc0 : nullptr;
    rk::ScopedFlushDenormals ftz;
    s->impl.backward(c);
    return RK_OK;
  });
}

}  // extern "C"
