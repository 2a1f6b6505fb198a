#include "optim.h"

#include <cfloat>
#include <cmath>
#include <cstdio>

#include "host_math.h"
#include "dispatch.h"
#include "threadpool.h"

namespace rk {

namespace {

inline float transformed(float g, const GradTransform& t) {
  if (t.clamp) g = g > t.limit ? t.limit : (g < -t.limit ? -t.limit : g);
  return g * t.scale;
}

bool finite_nonneg(double v) { return std::isfinite(v) && v >= 0; }

// Optimizer moments decay geometrically wherever the gradient is 0 (unused embedding rows)
// and would become subnormal after enough steps. Native calls run with FTZ/DAZ, but
// WebAssembly cannot set it (DESIGN.md §3), so the stored moments are flushed explicitly:
// results change only below FLT_MIN.
inline float flush(float v) { return std::fabs(v) < FLT_MIN ? 0.0f : v; }

}  // namespace

namespace {

// The norm and the update run over fixed pieces of kPiece elements on every thread. A
// piece's place never depends on the thread count, so neither does any result: each
// element's update is independent, and the norm adds the pieces' sums in order.
constexpr int64_t kPiece = 1 << 16;

struct Piece {
  int seg;
  int64_t begin, end;
  int64_t state;  // offset of element `begin` in the optimizer's flat buffers
};

// The pieces of every segment but the frozen ones (which take no part in the norm, and no
// update or decay: their slice of the state stays as it is).
std::vector<Piece> pieces_of(const std::vector<Segment>& segs) {
  std::vector<Piece> out;
  int64_t state = 0;
  for (int i = 0; i < static_cast<int>(segs.size()); i++) {
    const Segment& s = segs[i];
    if (!s.frozen) {
      for (int64_t b = 0; b < s.n; b += kPiece) out.push_back({i, b, b + kPiece < s.n ? b + kPiece : s.n, state + b});
    }
    state += s.n;
  }
  return out;
}

}  // namespace

double global_norm(const std::vector<Segment>& segs, const GradTransform& t) {
  const std::vector<Piece> pieces = pieces_of(segs);
  std::vector<double> sums(pieces.size(), 0.0);
  const KernelTable* k = kernels();
  const float limit = t.clamp ? t.limit : 0.0f;  // the norm is taken before any scaling
  parallel_for(static_cast<int>(pieces.size()), [&](int i, int) {
    const Piece& pc = pieces[i];
    sums[i] = k->sum_squares(segs[pc.seg].grad + pc.begin, pc.end - pc.begin, limit);
  });
  double total = 0;
  for (double x : sums) total += x;
  return std::sqrt(total);
}

namespace {
// A refusal message with the value that was given ("lr must be ...; got -0.1"), kept in a
// per-thread buffer until the next refusal on this thread (rk::fail copies it at once).
const char* refuse(const char* rule, double got) {
  thread_local char buf[160];
  std::snprintf(buf, sizeof buf, "%s; got %g", rule, got);
  return buf;
}
}  // namespace

const char* Optimizer::configure(const rk_optimizer& o, int64_t total) {
  if (o.kind < RK_OPT_SGD || o.kind > RK_OPT_ADAMW) {
    return refuse("kind must be 0 (sgd), 1 (rmsprop), 2 (adam) or 3 (adamw)", o.kind);
  }
  if (!finite_nonneg(o.lr)) return refuse("lr must be a finite number >= 0", o.lr);
  if (!finite_nonneg(o.weight_decay)) return refuse("weight_decay must be a finite number >= 0", o.weight_decay);
  if (o.kind == RK_OPT_SGD) {
    if (!finite_nonneg(o.momentum)) return refuse("momentum must be a finite number >= 0", o.momentum);
    if (!std::isfinite(o.dampening)) return refuse("dampening must be finite", o.dampening);
    if (o.nesterov && o.momentum <= 0) return refuse("nesterov needs momentum > 0", o.momentum);
    if (o.nesterov && o.dampening != 0) return refuse("nesterov needs dampening 0", o.dampening);
  }
  if (o.kind == RK_OPT_RMSPROP && !(o.alpha >= 0 && o.alpha <= 1)) return refuse("alpha must be in [0, 1]", o.alpha);
  if (o.kind != RK_OPT_SGD && !(std::isfinite(o.eps) && o.eps >= 0)) return refuse("eps must be a finite number >= 0", o.eps);
  if (o.kind >= RK_OPT_ADAM && !(o.beta1 >= 0 && o.beta1 < 1)) return refuse("beta1 must be in [0, 1)", o.beta1);
  if (o.kind >= RK_OPT_ADAM && !(o.beta2 >= 0 && o.beta2 < 1)) return refuse("beta2 must be in [0, 1)", o.beta2);
  if (o.has_clip_value && !(std::isfinite(o.clip_value) && o.clip_value > 0)) {
    return refuse("clip_value must be a finite number > 0", o.clip_value);
  }
  if (o.has_max_norm && !(std::isfinite(o.max_norm) && o.max_norm > 0)) {
    return refuse("max_norm must be a finite number > 0", o.max_norm);
  }
  o_ = o;
  t_ = 0;
  const bool first = o.kind == RK_OPT_ADAM || o.kind == RK_OPT_ADAMW || (o.kind == RK_OPT_SGD && o.momentum != 0);
  const bool second = o.kind != RK_OPT_SGD;
  m_.assign(first ? total : 0, 0.0f);
  v_.assign(second ? total : 0, 0.0f);
  configured_ = true;
  return nullptr;
}

const float* Optimizer::buffer(int k) const {
  return (k == 0 && !m_.empty() ? m_ : v_).data();
}

void Optimizer::set_state(int64_t t, const float* const* buffers) {
  for (int k = 0; k < buffer_count(); k++) {
    std::vector<float>& b = buffer_ref(k);
    const float* src = buffers[k];
    for (size_t i = 0; i < b.size(); i++) b[i] = flush(src[i]);
  }
  t_ = t;
}

GradTransform Optimizer::clip_transform(double norm) const {
  GradTransform t;
  t.clamp = o_.has_clip_value != 0;
  t.limit = static_cast<float>(o_.clip_value);
  if (o_.has_max_norm) {
    const double coef = o_.max_norm / (norm + 1e-6);
    if (coef < 1) t.scale = static_cast<float>(coef);
  }
  return t;
}

void Optimizer::step(const std::vector<Segment>& segs, const GradTransform& tr) {
  t_ += 1;
  const bool adam = o_.kind == RK_OPT_ADAM || o_.kind == RK_OPT_ADAMW;
  const AdamStep as = adam ? adam_step(tr) : AdamStep{};
  const KernelTable* k = kernels();
  const std::vector<Piece> pieces = pieces_of(segs);
  parallel_for(static_cast<int>(pieces.size()), [&](int i, int) {
    const Piece& pc = pieces[i];
    const Segment& s = segs[pc.seg];
    float* m = m_.empty() ? nullptr : m_.data() + pc.state;
    float* v = v_.empty() ? nullptr : v_.data() + pc.state;
    if (adam) {
      k->adam_update(&as, s.param + pc.begin, s.grad + pc.begin, m, v, pc.end - pc.begin);
    } else {
      update(s.param + pc.begin, s.grad + pc.begin, m, v, pc.end - pc.begin, tr);
    }
  });
}

AdamStep Optimizer::adam_step(const GradTransform& tr) const {
  // Adam: L2 term added to the gradient (enters m and v). AdamW: decoupled decay, θ scaled
  // by (1 − lr·λ) first. ε added after √v is divided by √(1 − β2^t).
  const bool decoupled = o_.kind == RK_OPT_ADAMW;
  AdamStep st;
  st.clamp = tr.clamp ? 1 : 0;
  st.limit = tr.limit;
  st.scale = tr.scale;
  st.l2 = decoupled ? 0.0f : static_cast<float>(o_.weight_decay);
  st.decay = decoupled ? static_cast<float>(1.0 - o_.lr * o_.weight_decay) : 1.0f;
  st.beta1 = static_cast<float>(o_.beta1);
  st.beta2 = static_cast<float>(o_.beta2);
  // Bias corrections in double, as torch computes them.
  st.step_size = static_cast<float>(o_.lr / (1.0 - host_pow(o_.beta1, static_cast<double>(t_))));
  st.inv_bc2 = static_cast<float>(1.0 / std::sqrt(1.0 - host_pow(o_.beta2, static_cast<double>(t_))));
  st.eps = static_cast<float>(o_.eps);
  return st;
}

void Optimizer::update(float* p, const float* g, float* m, float* v, int64_t n, const GradTransform& tr) const {
  const float lr = static_cast<float>(o_.lr);
  const float wd = static_cast<float>(o_.weight_decay);
  switch (o_.kind) {
    case RK_OPT_SGD: {
      const float mu = static_cast<float>(o_.momentum);
      const float damp = 1.0f - static_cast<float>(o_.dampening);
      const bool nesterov = o_.nesterov != 0;
      if (m == nullptr) {
        for (int64_t i = 0; i < n; i++) p[i] -= lr * (transformed(g[i], tr) + wd * p[i]);
      } else {
        for (int64_t i = 0; i < n; i++) {
          float d = transformed(g[i], tr) + wd * p[i];
          // The buffer starts as d itself at the first step (not as 0).
          m[i] = flush(t_ == 1 ? d : mu * m[i] + damp * d);
          d = nesterov ? d + mu * m[i] : m[i];
          p[i] -= lr * d;
        }
      }
      break;
    }
    case RK_OPT_RMSPROP: {
      const float a = static_cast<float>(o_.alpha);
      const float a1 = 1.0f - a;
      const float eps = static_cast<float>(o_.eps);
      for (int64_t i = 0; i < n; i++) {
        const float d = transformed(g[i], tr) + wd * p[i];
        v[i] = flush(a * v[i] + a1 * d * d);
        // ε outside the square root, no bias correction.
        p[i] -= lr * d / (std::sqrt(v[i]) + eps);
      }
      break;
    }
    case RK_OPT_ADAM:
    case RK_OPT_ADAMW:
      break;  // adam_update (step)
  }
}

}  // namespace rk
