// The rk_model_* part of the C ABI (rnnkit.h "whole-window training models"):
//  - bad arguments (NULL pointers, bad rk_model_spec fields, bad batches, bad optimizers)
//    give RK_EINVAL / RK_ESTATE with a message naming the argument, and never crash;
//  - rk_model_param_count agrees with a bit-exact set_params / get_params round trip;
//  - a plain-SGD train step moves every parameter by exactly -lr * (the gradient of
//    rk_model_loss_and_grads), and reports the same loss;
//  - the gradient of rk_model_loss_and_grads matches central finite differences;
//  - Adam steps on a fixed tiny batch bring the loss down;
//  - the optimizer state (step count, buffers) reads back, refuses a wrong buffer count,
//    NULL pointers and a model without optimizer, and restored on a second model gives the
//    original's next steps bit for bit;
//  - a frozen embedding (freeze_embedding) stays bit for bit what it was through steps of
//    every optimizer with weight decay and clipping, reads a zero gradient, keeps zero
//    optimizer buffers and is not in total_norm, while every other parameter moves;
//  - rk_model_destroy(NULL) is a no-op.
// Exits 0 on success (ctest), prints every failed check.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "expect.h"
#include "rnnkit.h"

// --- the small model every check uses --------------------------------------------------
// embedding (V x E) -> LSTM H -> dense head C, cross-entropy, one output per step.
static const int V = 6, E = 4, H = 8, C = 4;
static const int kIgnore = -100;  // PyTorch's default ignore_index

static rk_model_spec small_spec() {
  rk_model_spec s;
  std::memset(&s, 0, sizeof s);  // every optional field (dropout, encoder, ...) off
  s.input_kind = RK_INPUT_EMBEDDING;
  s.vocab = V;
  s.dim = E;
  s.stack = rk_stack_spec{RK_CELL_LSTM, E, H, H, 1, 0};
  s.outputs = C;
  s.loss = RK_LOSS_CROSS_ENTROPY;
  s.ignore_index = kIgnore;
  s.readout = RK_READOUT_STEPS;
  return s;
}

// A window of token ids and targets; the arrays live in the struct so a test can break one.
struct Window {
  int T, B;
  std::vector<int32_t> tokens, targets, lengths;
  rk_batch batch() const {
    rk_batch b;
    std::memset(&b, 0, sizeof b);
    b.T = T;
    b.B = B;
    b.tokens = tokens.data();
    b.targets = targets.data();
    b.lengths = lengths.empty() ? nullptr : lengths.data();
    return b;
  }
};

// Deterministic, varied ids (no RNG: the same window on every run).
static Window make_window(int T, int B) {
  Window w{T, B, {}, {}, {}};
  for (int i = 0; i < T * B; i++) {
    w.tokens.push_back((i * 5 + 1) % V);
    w.targets.push_back((i * 3 + 2) % C);
  }
  return w;
}

static rk_optimizer plain_sgd(double lr) {
  rk_optimizer o;
  std::memset(&o, 0, sizeof o);  // no momentum, no weight decay, no clipping
  o.kind = RK_OPT_SGD;
  o.lr = lr;
  return o;
}

static rk_optimizer adam(double lr) {
  rk_optimizer o;
  std::memset(&o, 0, sizeof o);
  o.kind = RK_OPT_ADAM;
  o.lr = lr;
  o.beta1 = 0.9;
  o.beta2 = 0.999;
  o.eps = 1e-8;
  return o;
}

// Small varied weights, so no gradient is trivially 0 and the LSTM is not saturated.
static std::vector<float> pattern_params(int64_t P) {
  std::vector<float> p(P);
  for (int64_t i = 0; i < P; i++) p[i] = 0.4f * std::sin(0.37f * static_cast<float>(i) + 0.5f);
  return p;
}

static double loss_at(rk_model* m, const std::vector<float>& params, const rk_batch& b) {
  rk_step_result r{};
  rk_model_set_params(m, params.data());
  if (rk_model_loss_and_grads(m, &b, nullptr, nullptr, &r) != RK_OK) return NAN;
  return r.loss;
}

// loss_and_grads at `params` (checked to succeed, as `what`): the result into *r, the
// gradient returned.
static std::vector<float> grads_at(rk_model* m, const std::vector<float>& params, const rk_batch& b,
                                   rk_step_result* r, const char* what) {
  rk_model_set_params(m, params.data());
  expect(rk_model_loss_and_grads(m, &b, nullptr, nullptr, r) == RK_OK, what);
  std::vector<float> g(params.size());
  rk_model_get_grads(m, g.data());
  return g;
}

// --- 1. argument errors -------------------------------------------------------------------

static void check_create_errors() {
  const rk_model_spec spec = small_spec();
  rk_model* m = nullptr;
  expect_status(rk_model_create(nullptr, &m), RK_EINVAL, "spec", "create(NULL spec)");
  expect_status(rk_model_create(&spec, nullptr), RK_EINVAL, "out", "create(NULL out)");

  struct Case {
    const char* needle;
    const char* what;
    void (*spoil)(rk_model_spec&);
  };
  const Case cases[] = {
      {"input_kind", "create(input_kind 3)", [](rk_model_spec& s) { s.input_kind = 3; }},
      {"vocab", "create(vocab 0)", [](rk_model_spec& s) { s.vocab = 0; }},
      {"dim", "create(embedding dim 0)", [](rk_model_spec& s) { s.dim = 0; }},
      {"size", "create(dense size 0)",
       [](rk_model_spec& s) {
         s.input_kind = RK_INPUT_DENSE;
         s.size = 0;
       }},
      {"stack.cell", "create(stack.cell 9)", [](rk_model_spec& s) { s.stack.cell = 9; }},
      {"stack.hidden_size", "create(stack.hidden_size 0)", [](rk_model_spec& s) { s.stack.hidden_size = 0; }},
      {"stack.layers", "create(stack.layers 0)", [](rk_model_spec& s) { s.stack.layers = 0; }},
      {"input_size", "create(stack.input_size != dim)", [](rk_model_spec& s) { s.stack.input_size = E + 1; }},
      {"outputs", "create(outputs 0)", [](rk_model_spec& s) { s.outputs = 0; }},
      {"loss", "create(loss 2)", [](rk_model_spec& s) { s.loss = 2; }},
      {"condition_size", "create(condition_size -1)", [](rk_model_spec& s) { s.condition_size = -1; }},
      {"readout", "create(readout 2)", [](rk_model_spec& s) { s.readout = 2; }},
      {"dropout_input", "create(dropout_input 1)", [](rk_model_spec& s) { s.dropout_input = 1.0; }},
      {"dropout_between", "create(dropout_between NaN)", [](rk_model_spec& s) { s.dropout_between = NAN; }},
      {"freeze_embedding", "create(freeze_embedding 2)", [](rk_model_spec& s) { s.freeze_embedding = 2; }},
  };
  for (const Case& c : cases) {
    rk_model_spec bad = spec;
    c.spoil(bad);
    // A bogus non-NULL value: a failed create must reset *out, not leave it.
    m = reinterpret_cast<rk_model*>(static_cast<uintptr_t>(0x10));
    expect_status(rk_model_create(&bad, &m), RK_EINVAL, c.needle, c.what);
    if (m != nullptr) {
      std::printf("FAIL: %s left *out non-NULL\n", c.what);
      failures++;
      m = nullptr;
    }
  }
}

static void check_null_model_and_arrays(rk_model* m) {
  std::vector<float> flat(static_cast<size_t>(rk_model_param_count(m)));
  expect(rk_model_param_count(nullptr) == 0, "param_count(NULL) is 0");
  expect_status(rk_model_set_params(nullptr, flat.data()), RK_EINVAL, "model", "set_params(NULL model)");
  expect_status(rk_model_set_params(m, nullptr), RK_EINVAL, "flat", "set_params(NULL flat)");
  expect_status(rk_model_get_params(nullptr, flat.data()), RK_EINVAL, "model", "get_params(NULL model)");
  expect_status(rk_model_get_params(m, nullptr), RK_EINVAL, "flat", "get_params(NULL flat)");
  expect_status(rk_model_get_grads(nullptr, flat.data()), RK_EINVAL, "model", "get_grads(NULL model)");
  expect_status(rk_model_get_grads(m, nullptr), RK_EINVAL, "flat", "get_grads(NULL flat)");

  const Window w = make_window(3, 2);
  const rk_batch b = w.batch();
  rk_step_result r{};
  expect_status(rk_model_loss_and_grads(nullptr, &b, nullptr, nullptr, &r), RK_EINVAL, "model",
                "loss_and_grads(NULL model)");
  expect_status(rk_model_loss_and_grads(m, nullptr, nullptr, nullptr, &r), RK_EINVAL, "batch",
                "loss_and_grads(NULL batch)");
  expect_status(rk_model_loss_and_grads(m, &b, nullptr, nullptr, nullptr), RK_EINVAL, "out",
                "loss_and_grads(NULL out)");
  expect_status(rk_model_evaluate(nullptr, &b, nullptr, nullptr, nullptr, nullptr, &r), RK_EINVAL, "model",
                "evaluate(NULL model)");
  expect_status(rk_model_evaluate(m, nullptr, nullptr, nullptr, nullptr, nullptr, &r), RK_EINVAL, "batch",
                "evaluate(NULL batch)");
  expect_status(rk_model_train_step(nullptr, &b, nullptr, nullptr, &r), RK_EINVAL, "model",
                "train_step(NULL model)");
  expect_status(rk_model_train_step(m, nullptr, nullptr, nullptr, &r), RK_EINVAL, "batch",
                "train_step(NULL batch)");
  // Order: before any rk_model_set_optimizer, train_step and set_lr are out of order.
  expect_status(rk_model_train_step(m, &b, nullptr, nullptr, &r), RK_ESTATE, "optimizer",
                "train_step without an optimizer");
  expect_status(rk_model_set_lr(m, 0.1), RK_ESTATE, "optimizer", "set_lr without an optimizer");
  expect_status(rk_model_set_lr(nullptr, 0.1), RK_EINVAL, "model", "set_lr(NULL model)");
}

static void check_batch_errors(rk_model* m) {
  const int T = 3, B = 2;
  rk_step_result r{};
  // Each case gets a fresh valid window, spoils one thing, and must be refused.
  auto refused = [&](void (*spoil)(Window&, rk_batch&), const char* needle, const char* what) {
    Window w = make_window(T, B);
    rk_batch b = w.batch();
    spoil(w, b);
    expect_status(rk_model_loss_and_grads(m, &b, nullptr, nullptr, &r), RK_EINVAL, needle, what);
  };
  refused([](Window&, rk_batch& b) { b.T = 0; }, "T", "batch T 0");
  refused([](Window&, rk_batch& b) { b.B = 0; }, "B", "batch B 0");
  refused([](Window&, rk_batch& b) { b.tokens = nullptr; }, "tokens", "batch tokens NULL");
  refused([](Window& w, rk_batch&) { w.tokens[4] = V; }, "tokens[4]", "token id == vocab");
  refused([](Window& w, rk_batch&) { w.tokens[0] = -1; }, "tokens[0]", "token id -1");
  refused([](Window&, rk_batch& b) { b.targets = nullptr; }, "targets", "targets NULL (cross-entropy)");
  refused([](Window& w, rk_batch&) { w.targets[5] = C; }, "targets[5]", "target id == outputs");
  refused([](Window& w, rk_batch&) { w.targets[1] = -1; }, "targets[1]", "target id -1 (not the ignore id)");
  refused(
      [](Window& w, rk_batch& b) {
        w.lengths = {T + 1, 1};
        b.lengths = w.lengths.data();
      },
      "lengths[0]", "length T+1");
  refused(
      [](Window& w, rk_batch& b) {
        w.lengths = {2, -1};
        b.lengths = w.lengths.data();
      },
      "lengths[1]", "length -1");

  // Valid edge cases must be accepted: the ignore id as a target, lengths 0 and T.
  Window w = make_window(T, B);
  w.targets[3] = kIgnore;  // (t=1, b=1): a valid position, so the range check does see it
  w.lengths = {0, T};
  rk_batch b = w.batch();
  expect(rk_model_loss_and_grads(m, &b, nullptr, nullptr, &r) == RK_OK, "ignore id target and lengths 0, T accepted");
  // Sequence 0 is all padding; sequence 1 counts its T positions but the ignored one.
  expect(r.count == T - 1, "count = the positions that are neither padding nor ignored");
  // A target out of range at a padding position is not looked at (it never counts).
  w.targets[0] = C + 7;
  b = w.batch();
  expect(rk_model_loss_and_grads(m, &b, nullptr, nullptr, &r) == RK_OK, "out-of-range target at padding accepted");
  // Evaluate works without targets (inference) and then reports no loss.
  Window e = make_window(T, B);
  rk_batch eb = e.batch();
  eb.targets = nullptr;
  std::vector<float> outputs(static_cast<size_t>(T * B * C));
  expect(rk_model_evaluate(m, &eb, outputs.data(), nullptr, nullptr, nullptr, &r) == RK_OK,
         "evaluate without targets");
  expect(std::isnan(r.loss), "evaluate without targets: loss is NaN");
}

static void check_optimizer_errors(rk_model* m) {
  expect_status(rk_model_set_optimizer(nullptr, nullptr), RK_EINVAL, "model", "set_optimizer(NULL model)");
  expect_status(rk_model_set_optimizer(m, nullptr), RK_EINVAL, "opt", "set_optimizer(NULL opt)");
  struct Case {
    const char* needle;
    const char* what;
    rk_optimizer o;
  };
  std::vector<Case> cases;
  rk_optimizer o = plain_sgd(0.1);
  o.kind = 4;
  cases.push_back({"kind", "optimizer kind 4", o});
  o = plain_sgd(0.1);
  o.kind = -1;
  cases.push_back({"kind", "optimizer kind -1", o});
  cases.push_back({"lr", "optimizer lr -0.1", plain_sgd(-0.1)});
  cases.push_back({"lr", "optimizer lr NaN", plain_sgd(NAN)});
  o = plain_sgd(0.1);
  o.weight_decay = -1;
  cases.push_back({"weight_decay", "optimizer weight_decay -1", o});
  o = plain_sgd(0.1);
  o.momentum = -0.5;
  cases.push_back({"momentum", "sgd momentum -0.5", o});
  o = plain_sgd(0.1);
  o.nesterov = 1;  // nesterov without momentum is what torch refuses too
  cases.push_back({"nesterov", "sgd nesterov without momentum", o});
  o = adam(0.01);
  o.beta1 = 1.0;
  cases.push_back({"beta1", "adam beta1 1", o});
  o = adam(0.01);
  o.eps = -1e-8;
  cases.push_back({"eps", "adam eps < 0", o});
  o = adam(0.01);
  o.kind = RK_OPT_RMSPROP;
  o.alpha = 2;
  cases.push_back({"alpha", "rmsprop alpha 2", o});
  o = plain_sgd(0.1);
  o.has_clip_value = 1;
  o.clip_value = 0;
  cases.push_back({"clip_value", "clip_value 0", o});
  o = plain_sgd(0.1);
  o.has_max_norm = 1;
  o.max_norm = -1;
  cases.push_back({"max_norm", "max_norm -1", o});
  for (const Case& c : cases) expect_status(rk_model_set_optimizer(m, &c.o), RK_EINVAL, c.needle, c.what);

  const rk_optimizer good = plain_sgd(0.1);
  expect(rk_model_set_optimizer(m, &good) == RK_OK, "set_optimizer(plain sgd)");
  expect_status(rk_model_set_lr(m, -1), RK_EINVAL, "lr", "set_lr(-1)");
  expect_status(rk_model_set_lr(m, INFINITY), RK_EINVAL, "lr", "set_lr(inf)");
  expect(rk_model_set_lr(m, 0.05) == RK_OK, "set_lr(0.05)");
}

// A refused train step must leave the parameters as they were.
static void check_refused_step_keeps_params(rk_model* m) {
  const int64_t P = rk_model_param_count(m);
  const std::vector<float> before = pattern_params(P);
  rk_model_set_params(m, before.data());
  Window w = make_window(3, 2);
  w.targets[3] = C;
  const rk_batch b = w.batch();
  rk_step_result r{};
  expect_status(rk_model_train_step(m, &b, nullptr, nullptr, &r), RK_EINVAL, "targets[3]", "train_step(bad target)");
  std::vector<float> after(static_cast<size_t>(P));
  rk_model_get_params(m, after.data());
  expect(std::memcmp(before.data(), after.data(), sizeof(float) * P) == 0, "a refused train step changes nothing");

  // All padding: nothing counts, the loss is NaN, and the header says a non-finite loss
  // skips the update (a NaN must never reach the parameters).
  Window pad = make_window(3, 2);
  pad.lengths = {0, 0};
  const rk_batch pb = pad.batch();
  expect(rk_model_train_step(m, &pb, nullptr, nullptr, &r) == RK_OK, "train_step on an all-padding window");
  expect(std::isnan(r.loss) && r.count == 0, "all padding: loss NaN, count 0");
  rk_model_get_params(m, after.data());
  expect(std::memcmp(before.data(), after.data(), sizeof(float) * P) == 0, "all padding: parameters unchanged");
}

// --- 2. parameter count and round trip ----------------------------------------------------

static void check_param_round_trip(rk_model* m) {
  const int64_t P = rk_model_param_count(m);
  // embedding [V][E], LSTM weight_ih [4H][E], weight_hh [4H][H], bias_ih [4H], bias_hh [4H],
  // head.weight [C][H], head.bias [C]: written out, so a layout change is noticed.
  expect(P == V * E + 4 * H * E + 4 * H * H + 8 * H + C * H + C, "param count of embedding -> lstm -> head");
  // Values that float arithmetic would not preserve by accident: odd bit patterns,
  // negative zero, a denormal (the calls flush denormals while computing, not on copies).
  std::vector<float> in(static_cast<size_t>(P)), out(static_cast<size_t>(P), 7.0f);
  for (int64_t i = 0; i < P; i++) in[i] = std::ldexp(static_cast<float>(i % 97) - 48.3f, static_cast<int>(i % 9) - 4);
  in[0] = -0.0f;
  in[1] = 1e-40f;
  expect(rk_model_set_params(m, in.data()) == RK_OK, "set_params");
  expect(rk_model_get_params(m, out.data()) == RK_OK, "get_params");
  expect(std::memcmp(in.data(), out.data(), sizeof(float) * P) == 0, "get_params returns set_params bit for bit");
}

// --- 3. one SGD step is p - lr * grad, with the same loss -----------------------------------

static void check_sgd_step_matches_grads(rk_model* m) {
  const int64_t P = rk_model_param_count(m);
  const float lr = 0.1f;
  Window w = make_window(5, 3);
  w.lengths = {5, 3, 4};  // padding too, so its skipping is part of what must agree
  const rk_batch b = w.batch();
  const std::vector<float> p0 = pattern_params(P);

  rk_step_result lg{};
  const std::vector<float> g = grads_at(m, p0, b, &lg, "loss_and_grads");
  double gnorm = 0;
  for (float v : g) gnorm += static_cast<double>(v) * v;
  expect(gnorm > 1e-6, "the gradient is not ~0 (else the update check would prove nothing)");

  // Plain SGD: no momentum, no weight decay, no clipping (all off in plain_sgd).
  const rk_optimizer o = plain_sgd(lr);
  expect(rk_model_set_optimizer(m, &o) == RK_OK, "set_optimizer(sgd lr 0.1)");
  rk_model_set_params(m, p0.data());
  rk_step_result ts{};
  expect(rk_model_train_step(m, &b, nullptr, nullptr, &ts) == RK_OK, "train_step");
  std::vector<float> p1(static_cast<size_t>(P)), g1(static_cast<size_t>(P));
  rk_model_get_params(m, p1.data());
  rk_model_get_grads(m, g1.data());

  int bad = 0;
  for (int64_t i = 0; i < P; i++) {
    const double want = static_cast<double>(p0[i]) - static_cast<double>(lr) * g[i];
    const double tol = 1e-6 * (std::fabs(p0[i]) + std::fabs(lr * g[i])) + 1e-12;
    if (std::fabs(p1[i] - want) > tol) {
      if (bad++ < 5) std::printf("  param %lld: %.9g after the step, want %.9g (grad %.9g)\n", static_cast<long long>(i), p1[i], want, g[i]);
    }
  }
  expect(bad == 0, "sgd step: new params = old - lr * grad of loss_and_grads");
  expect(std::memcmp(g.data(), g1.data(), sizeof(float) * P) == 0, "train_step's gradient equals loss_and_grads'");
  expect(lg.loss == ts.loss, "train_step reports the loss of loss_and_grads for the same params");
  expect(lg.count == ts.count && lg.count == 5 + 3 + 4, "count = valid positions, the same in both calls");
  expect(std::fabs(ts.total_norm - std::sqrt(gnorm)) <= 1e-5 * std::sqrt(gnorm), "train_step's total_norm = |grad|");
}

// --- 4. finite differences ----------------------------------------------------------------

static void check_finite_differences(rk_model* m) {
  const int64_t P = rk_model_param_count(m);
  Window w = make_window(4, 2);
  w.targets[1] = kIgnore;  // an ignored position must not leak into the gradient either
  const rk_batch b = w.batch();
  const std::vector<float> p0 = pattern_params(P);
  rk_step_result r{};
  const std::vector<float> g = grads_at(m, p0, b, &r, "fd: loss_and_grads");

  // One parameter per block of the flat layout (embedding, weight_ih, weight_hh, biases,
  // head weight, head bias), the one with the largest |grad| there, so none is ~0.
  const int64_t bounds[] = {0,
                            V * E,
                            V * E + 4 * H * E,
                            V * E + 4 * H * E + 4 * H * H,
                            V * E + 4 * H * E + 4 * H * H + 8 * H,
                            V * E + 4 * H * E + 4 * H * H + 8 * H + C * H,
                            P};
  const float eps = 1e-2f;
  for (int k = 0; k + 1 < 7; k++) {
    int64_t at = bounds[k];
    for (int64_t i = bounds[k]; i < bounds[k + 1]; i++)
      if (std::fabs(g[i]) > std::fabs(g[at])) at = i;
    std::vector<float> p = p0;
    p[at] = p0[at] + eps;
    const double up = loss_at(m, p, b);
    p[at] = p0[at] - eps;
    const double down = loss_at(m, p, b);
    const double fd = (up - down) / (2.0 * eps);
    const bool ok = std::fabs(fd - g[at]) <= 2e-2 * std::fabs(fd) + 1e-4 && std::fabs(g[at]) > 1e-3;
    if (!ok) std::printf("  param %lld (block %d): analytic %.6g, finite difference %.6g\n", static_cast<long long>(at), k, g[at], fd);
    expect(ok, "gradient of loss_and_grads matches central differences");
  }
}

// --- 5. training reduces the loss -----------------------------------------------------------

static void check_training_reduces_loss(rk_model* m) {
  const int64_t P = rk_model_param_count(m);
  const std::vector<float> p0 = pattern_params(P);
  rk_model_set_params(m, p0.data());
  const rk_optimizer o = adam(0.05);
  expect(rk_model_set_optimizer(m, &o) == RK_OK, "set_optimizer(adam)");
  const Window w = make_window(5, 2);
  const rk_batch b = w.batch();
  rk_step_result r{};
  double first = NAN, last = NAN;
  for (int step = 0; step < 50; step++) {
    if (rk_model_train_step(m, &b, nullptr, nullptr, &r) != RK_OK) break;
    if (step == 0) first = r.loss;
    last = r.loss;
  }
  // The step reports the loss before its update, so evaluate the final parameters too.
  rk_step_result ev{};
  expect(rk_model_evaluate(m, &b, nullptr, nullptr, nullptr, nullptr, &ev) == RK_OK, "evaluate after training");
  std::printf("  adam: loss %.4f -> %.4f (evaluate %.4f), correct %.0f of %.0f\n", first, last, ev.loss, ev.correct, ev.count);
  expect(std::isfinite(first) && ev.loss < 0.5 * first, "50 adam steps on one batch halve the loss");
}

// --- 6. optimizer state: query, copy out, restore -----------------------------------------

static rk_optimizer with_kind(int kind) {
  rk_optimizer o = adam(0.02);
  o.kind = kind;
  o.alpha = 0.99;
  o.weight_decay = kind == RK_OPT_ADAMW ? 0.01 : 0.001;
  return o;
}

static std::vector<std::vector<float>> read_state(rk_model* m, int64_t* step) {
  int32_t n = -1;
  std::vector<std::vector<float>> out;
  if (rk_model_optimizer_state(m, step, &n) != RK_OK) return out;
  for (int32_t k = 0; k < n; k++) {
    out.emplace_back(static_cast<size_t>(rk_model_param_count(m)));
    rk_model_get_optimizer_buffer(m, k, out.back().data());
  }
  return out;
}

static void check_optimizer_state() {
  const rk_model_spec spec = small_spec();
  rk_model *a = nullptr, *b = nullptr;
  if (rk_model_create(&spec, &a) != RK_OK || rk_model_create(&spec, &b) != RK_OK) {
    expect(false, "optimizer state: create two models");
    rk_model_destroy(a);
    return;
  }
  const int64_t P = rk_model_param_count(a);
  std::vector<float> buf(static_cast<size_t>(P), 0.5f);
  const float* one[1] = {buf.data()};
  int64_t step = -1;
  int32_t n = -1;

  // Argument and order errors.
  expect_status(rk_model_optimizer_state(a, &step, &n), RK_ESTATE, "optimizer", "optimizer_state without an optimizer");
  expect_status(rk_model_get_optimizer_buffer(a, 0, buf.data()), RK_ESTATE, "optimizer",
                "get_optimizer_buffer without an optimizer");
  expect_status(rk_model_set_optimizer_state(a, 1, one, 1), RK_ESTATE, "optimizer",
                "set_optimizer_state without an optimizer");
  expect_status(rk_model_optimizer_state(nullptr, &step, &n), RK_EINVAL, "model", "optimizer_state(NULL model)");
  expect_status(rk_model_get_optimizer_buffer(nullptr, 0, buf.data()), RK_EINVAL, "model",
                "get_optimizer_buffer(NULL model)");
  expect_status(rk_model_set_optimizer_state(nullptr, 1, one, 1), RK_EINVAL, "model", "set_optimizer_state(NULL model)");

  const rk_optimizer sgd = plain_sgd(0.1);
  expect(rk_model_set_optimizer(a, &sgd) == RK_OK, "set_optimizer(plain sgd)");
  expect_status(rk_model_optimizer_state(a, nullptr, &n), RK_EINVAL, "step", "optimizer_state(NULL step)");
  expect_status(rk_model_optimizer_state(a, &step, nullptr), RK_EINVAL, "buffers", "optimizer_state(NULL buffers)");
  expect(rk_model_optimizer_state(a, &step, &n) == RK_OK && step == 0 && n == 0, "plain sgd: step 0, no buffers");
  expect_status(rk_model_get_optimizer_buffer(a, 0, buf.data()), RK_EINVAL, "k", "plain sgd has no buffer 0");
  expect_status(rk_model_set_optimizer_state(a, 1, one, 1), RK_EINVAL, "n must be 0", "plain sgd: one buffer refused");
  expect(rk_model_set_optimizer_state(a, 4, nullptr, 0) == RK_OK, "plain sgd: step only, buffers NULL");
  expect(rk_model_optimizer_state(a, &step, &n) == RK_OK && step == 4 && n == 0, "plain sgd: the step is set");

  // Buffers per kind, zeros before the first step.
  const struct {
    int kind;
    double momentum;
    int32_t buffers;
    const char* what;
  } kinds[] = {{RK_OPT_SGD, 0.9, 1, "sgd momentum: 1 buffer"},
               {RK_OPT_RMSPROP, 0, 1, "rmsprop: 1 buffer"},
               {RK_OPT_ADAM, 0, 2, "adam: 2 buffers"},
               {RK_OPT_ADAMW, 0, 2, "adamw: 2 buffers"}};
  for (const auto& k : kinds) {
    rk_optimizer o = with_kind(k.kind);
    o.momentum = k.momentum;
    expect(rk_model_set_optimizer(a, &o) == RK_OK, k.what);
    const auto st = read_state(a, &step);
    bool zeros = st.size() == static_cast<size_t>(k.buffers) && step == 0;
    for (const auto& v : st)
      for (float x : v) zeros = zeros && x == 0.0f;
    expect(zeros, k.what);
  }

  // Adam: the wrong count, NULL buffers and a negative step are refused and change nothing.
  const rk_optimizer o = with_kind(RK_OPT_ADAM);
  rk_model_set_params(a, pattern_params(P).data());
  expect(rk_model_set_optimizer(a, &o) == RK_OK, "set_optimizer(adam)");
  const Window w = make_window(4, 3);
  const rk_batch batch = w.batch();
  rk_step_result r{};
  for (int i = 0; i < 3; i++) expect(rk_model_train_step(a, &batch, nullptr, nullptr, &r) == RK_OK, "adam step");
  const auto saved = read_state(a, &step);
  expect(step == 3 && saved.size() == 2, "adam after 3 steps: step 3, 2 buffers");
  bool moved = saved.size() == 2;
  for (const auto& v : saved) moved = moved && std::any_of(v.begin(), v.end(), [](float x) { return x != 0; });
  expect(moved, "adam's moments are not zero after steps");
  std::vector<float> params(static_cast<size_t>(P));
  rk_model_get_params(a, params.data());

  const float* two[2] = {buf.data(), buf.data()};
  const float* with_null[2] = {buf.data(), nullptr};
  expect_status(rk_model_set_optimizer_state(a, 3, one, 1), RK_EINVAL, "n must be 2", "adam: 1 buffer refused");
  expect_status(rk_model_set_optimizer_state(a, 3, two, 3), RK_EINVAL, "got 3", "adam: 3 buffers refused");
  expect_status(rk_model_set_optimizer_state(a, 3, nullptr, 2), RK_EINVAL, "buffers must not be NULL",
                "adam: NULL buffers refused");
  expect_status(rk_model_set_optimizer_state(a, 3, with_null, 2), RK_EINVAL, "buffers[1]", "adam: buffers[1] NULL refused");
  expect_status(rk_model_set_optimizer_state(a, -1, two, 2), RK_EINVAL, "step", "adam: step -1 refused");
  expect_status(rk_model_get_optimizer_buffer(a, 2, buf.data()), RK_EINVAL, "k", "adam has no buffer 2");
  expect_status(rk_model_get_optimizer_buffer(a, -1, buf.data()), RK_EINVAL, "k", "buffer -1");
  expect_status(rk_model_get_optimizer_buffer(a, 0, nullptr), RK_EINVAL, "out", "get_optimizer_buffer(NULL out)");
  int64_t after_step = -1;
  const auto after = read_state(a, &after_step);
  expect(after_step == 3 && after == saved, "refused calls change nothing");

  // Restore on a second model: the same next steps, bit for bit.
  rk_model_set_params(b, params.data());
  expect(rk_model_set_optimizer(b, &o) == RK_OK, "second model: set_optimizer(adam)");
  const float* ptrs[2] = {saved[0].data(), saved[1].data()};
  expect(rk_model_set_optimizer_state(b, 3, ptrs, 2) == RK_OK, "set_optimizer_state(adam, step 3)");
  int64_t restored_step = -1;
  expect(read_state(b, &restored_step) == saved && restored_step == 3, "the restored state reads back bit for bit");
  for (int i = 0; i < 2; i++) {
    rk_model_train_step(a, &batch, nullptr, nullptr, &r);
    rk_model_train_step(b, &batch, nullptr, nullptr, &r);
  }
  std::vector<float> pa(static_cast<size_t>(P)), pb(static_cast<size_t>(P));
  rk_model_get_params(a, pa.data());
  rk_model_get_params(b, pb.data());
  expect(std::memcmp(pa.data(), pb.data(), sizeof(float) * P) == 0, "restored model: the next 2 steps are the original's");
  int64_t sa = 0, sb = 0;
  expect(read_state(a, &sa) == read_state(b, &sb) && sa == 5 && sb == 5, "and the states agree after them");

  // Subnormal values are stored as 0, as the updates store them; set_optimizer resets.
  std::vector<float> tiny(static_cast<size_t>(P), 1e-40f);
  const float* tinies[2] = {tiny.data(), tiny.data()};
  expect(rk_model_set_optimizer_state(b, 1, tinies, 2) == RK_OK, "set subnormal buffers");
  const auto flushed = read_state(b, &step);
  expect(flushed.size() == 2 && flushed[0][0] == 0.0f && !std::signbit(flushed[1][P - 1]), "subnormals read back as +0");
  expect(rk_model_set_optimizer(b, &o) == RK_OK, "set_optimizer again");
  const auto reset = read_state(b, &step);
  expect(step == 0 && reset.size() == 2 && reset[0][0] == 0.0f, "set_optimizer resets the step and the buffers");

  rk_model_destroy(a);
  rk_model_destroy(b);
}

// --- 7. a frozen embedding table ----------------------------------------------------------

static void check_frozen_embedding() {
  rk_model_spec spec = small_spec();
  spec.freeze_embedding = 1;
  const int64_t VE = static_cast<int64_t>(V) * E;  // embedding.weight is first in the layout
  Window w = make_window(5, 3);
  w.lengths = {5, 3, 4};
  const rk_batch b = w.batch();
  for (int kind = RK_OPT_SGD; kind <= RK_OPT_ADAMW; kind++) {
    rk_model* m = nullptr;
    if (rk_model_create(&spec, &m) != RK_OK) {
      expect(false, "frozen: create");
      continue;
    }
    const int64_t P = rk_model_param_count(m);
    const std::vector<float> p0 = pattern_params(P);
    rk_model_set_params(m, p0.data());
    rk_optimizer o = with_kind(kind);
    o.momentum = kind == RK_OPT_SGD ? 0.9 : 0;
    o.weight_decay = 0.1;
    o.has_clip_value = 1;
    o.clip_value = 0.05;
    o.has_max_norm = 1;
    o.max_norm = 0.1;
    expect(rk_model_set_optimizer(m, &o) == RK_OK, "frozen: set_optimizer");
    char what[96];
    for (int step = 0; step < 3; step++) {
      rk_step_result r{};
      expect(rk_model_train_step(m, &b, nullptr, nullptr, &r) == RK_OK, "frozen: train_step");
      std::vector<float> g(static_cast<size_t>(P));
      rk_model_get_grads(m, g.data());
      double rest = 0;
      bool zero = true;
      for (int64_t i = 0; i < P; i++) {
        const double gi = i < VE ? 0.0 : std::min(std::max(static_cast<double>(g[i]), -0.05), 0.05);
        rest += gi * gi;
        if (i < VE && g[i] != 0) zero = false;
      }
      std::snprintf(what, sizeof what, "frozen (optimizer %d, step %d): the embedding's gradient reads 0", kind, step);
      expect(zero, what);
      std::snprintf(what, sizeof what, "frozen (optimizer %d, step %d): total_norm leaves the embedding out", kind, step);
      expect(std::fabs(r.total_norm - std::sqrt(rest)) <= 1e-5 * std::sqrt(rest) && rest > 0, what);
    }
    std::vector<float> p1(static_cast<size_t>(P));
    rk_model_get_params(m, p1.data());
    std::snprintf(what, sizeof what, "frozen (optimizer %d): embedding.weight unchanged bit for bit", kind);
    expect(std::memcmp(p0.data(), p1.data(), sizeof(float) * VE) == 0, what);
    int64_t moved = 0;
    for (int64_t i = VE; i < P; i++) moved += p1[i] != p0[i];
    std::snprintf(what, sizeof what, "frozen (optimizer %d): every other parameter moves", kind);
    expect(moved == P - VE, what);
    int64_t step = 0;
    for (const std::vector<float>& buf : read_state(m, &step)) {
      std::snprintf(what, sizeof what, "frozen (optimizer %d): the embedding's optimizer buffers stay 0", kind);
      expect(std::all_of(buf.begin(), buf.begin() + VE, [](float v) { return v == 0; }), what);
    }
    rk_model_destroy(m);
  }
}

int main() {
  rk_model_destroy(nullptr);  // the header: NULL is a no-op
  check_create_errors();

  const rk_model_spec spec = small_spec();
  rk_model* m = nullptr;
  expect(rk_model_create(&spec, &m) == RK_OK && m != nullptr, "create embedding -> lstm -> head");
  if (m == nullptr) {
    std::printf("%d of %d checks failed (no model: stopping)\n", failures, checks);
    return 1;
  }
  check_null_model_and_arrays(m);
  check_param_round_trip(m);
  rk_model_set_params(m, pattern_params(rk_model_param_count(m)).data());
  check_batch_errors(m);
  check_optimizer_errors(m);
  check_refused_step_keeps_params(m);
  check_sgd_step_matches_grads(m);
  check_finite_differences(m);
  check_training_reduces_loss(m);
  rk_model_destroy(m);
  check_optimizer_state();
  check_frozen_embedding();

  if (failures != 0) {
    std::printf("%d of %d checks failed\n", failures, checks);
    return 1;
  }
  std::printf("model_api_test: all %d checks passed\n", checks);
  return 0;
}
