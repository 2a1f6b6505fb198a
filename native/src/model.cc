#include "model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include <stdexcept>

#include "dropout.h"
#include "error.h"

namespace rk {

namespace {

template <typename... A>
const char* msg(const char* fmt, A... a) {
  return message<kModelMessages>(fmt, a...);  // error.h
}

}  // namespace

Model::Model(const ModelDims& dims)
    : d_(dims),
      emb_(static_cast<size_t>(dims.V) * dims.E, 0.0f),
      emb_grad_(emb_.size(), 0.0f),
      head_(static_cast<size_t>(dims.C) * dims.F + dims.C, 0.0f),
      head_grad_(head_.size(), 0.0f) {
  if (d_.encoder) encoder_ = std::make_unique<Model>(*d_.encoder);
  if (!d_.per_layer) {
    stacks_.push_back(std::make_unique<Stack>(d_.stack));
  } else {
    for (int l = 0; l < d_.stack.L; l++) {
      rk_stack_spec one = d_.stack_spec;
      one.layers = 1;
      one.input_size = d_.stack.in(l);
      StackDims dims1;
      if (const char* bad = make_dims(one, &dims1)) throw std::logic_error(bad);  // valid by construction
      stacks_.push_back(std::make_unique<Stack>(dims1));
    }
  }
  // The buffers (for_each_block) must be the layout rk_model_layout describes.
  if (param_count() != model_param_count(d_)) throw std::logic_error("the model's buffers differ from its layout");
}

int64_t Model::stack_params() const {
  int64_t n = 0;
  for (const auto& st : stacks_) n += st->param_count();
  return n;
}

int64_t Model::param_count() const {
  return (encoder_ ? encoder_->param_count() : 0) + static_cast<int64_t>(emb_.size()) + stack_params() +
         static_cast<int64_t>(head_.size());
}

namespace {

// memcpy that accepts empty arrays (whose data() may be null: no embedding).
void copy(float* dst, const float* src, size_t n) {
  if (n > 0) std::memcpy(dst, src, sizeof(float) * n);
}

}  // namespace

// Visits every parameter block in the flat layout's order (encoder first, then
// embedding, each stack, head) with its gradient block: the one place that order lives.
template <class F>
void Model::for_each_block(F&& f) {
  if (encoder_) encoder_->for_each_block(f);
  f(emb_.data(), emb_grad_.data(), emb_.size());
  // params() marks the stack's packed weights stale: the next forward repacks them.
  for (auto& st : stacks_) f(st->params(), st->grads(), static_cast<size_t>(st->param_count()));
  f(head_.data(), head_grad_.data(), head_.size());
}

void Model::set_params(const float* flat) {
  for_each_block([&](float* p, float*, size_t n) {
    copy(p, flat, n);
    flat += n;
  });
}

void Model::get_params(float* flat) {
  for_each_block([&](float* p, float*, size_t n) {
    copy(flat, p, n);
    flat += n;
  });
}

void Model::get_grads(float* flat) {
  for_each_block([&](float*, float* g, size_t n) {
    copy(flat, g, n);
    flat += n;
  });
}

const char* Model::check_batch(const rk_batch& b, bool need_targets) const {
  // Every size first (check_model_call, also behind rk_model_shapes), then the contents.
  int64_t shapes[RK_ARRAY_COUNT];
  if (const char* bad = check_model_call(d_, b.T, b.B, b.source_T, shapes)) return bad;
  const int64_t N = static_cast<int64_t>(b.T) * b.B;
  if (d_.input_kind == RK_INPUT_DENSE) {
    if (b.x == nullptr) return "x must not be NULL (dense input)";
  } else {
    if (b.tokens == nullptr) return "tokens must not be NULL (token input)";
    for (int64_t n = 0; n < N; n++) {
      if (b.tokens[n] < 0 || b.tokens[n] >= d_.V) {
        return msg("tokens[%lld] must be in 0..%d (vocab - 1); got %d", static_cast<long long>(n), d_.V - 1, b.tokens[n]);
      }
    }
  }
  if (d_.K > 0 && b.condition == nullptr) return msg("condition must not be NULL (condition_size %d)", d_.K);
  if (encoder_ && b.source_T > 0) {
    if (const char* bad = encoder_->check_batch(source_of(b), false)) {
      std::string m = bad;
      return msg("source: %s", m.c_str());
    }
  }
  if (b.lengths != nullptr) {
    for (int32_t i = 0; i < b.B; i++) {
      if (b.lengths[i] < 0 || b.lengths[i] > b.T) return msg("lengths[%d] must be in 0..%d (T); got %d", i, b.T, b.lengths[i]);
    }
  }
  // The final-state readout has one head row per sequence, all of them valid.
  const LossRows rows = d_.final_state ? LossRows{1, b.B, nullptr} : LossRows{b.T, b.B, b.lengths};
  const int64_t R = head_rows(b);
  if (d_.loss == RK_LOSS_CROSS_ENTROPY) {
    if (b.targets == nullptr) return need_targets ? "targets must not be NULL (cross-entropy)" : nullptr;
    for (int64_t n = 0; n < R; n++) {
      const int32_t t = b.targets[n];
      if (t == d_.ignore_index || !rows.valid(n)) continue;
      if (t < 0 || t >= d_.C) {
        return msg("targets[%lld] must be in 0..%d (outputs - 1) or the ignore index %d; got %d", static_cast<long long>(n),
                   d_.C - 1, d_.ignore_index, t);
      }
    }
  } else if (b.target_values == nullptr && need_targets) {
    return "target_values must not be NULL (mse)";
  }
  return nullptr;
}

Model::Work Model::carve(int T, int B, bool training, bool want_y, bool want_hn) {
  const uint64_t N = static_cast<uint64_t>(T) * B;
  const uint64_t R = d_.final_state ? static_cast<uint64_t>(B) : N;
  const uint64_t H = static_cast<uint64_t>(d_.stack.L) * d_.stack.D * B * d_.stack.S;
  const uint64_t DS = static_cast<uint64_t>(d_.F);
  const bool in_drop = training && d_.p_input > 0;
  const int below = d_.per_layer ? d_.stack.L - 1 : 0;  // layer outputs between stacks
  Work w;
  auto plan = [&](Carver& cv) {
    const bool build_x = d_.input_kind != RK_INPUT_DENSE || d_.K > 0 || in_drop;
    w.in_mask = in_drop ? cv.take(N * d_.width) : nullptr;
    w.layer_y.assign(below, nullptr);
    w.layer_in.assign(below, nullptr);
    w.masks.assign(below, nullptr);
    for (int l = 0; l < below; l++) {
      w.layer_y[l] = cv.take(N * DS);
      w.layer_in[l] = training ? cv.take(N * DS) : w.layer_y[l];
      w.masks[l] = training ? cv.take(N * DS) : nullptr;
    }
    const uint64_t C = static_cast<uint64_t>(d_.stack.L) * d_.stack.D * B * d_.stack.H;
    w.eh = encoder_ ? cv.take(H) : nullptr;
    w.ec = encoder_ && d_.stack.has_c ? cv.take(C) : nullptr;
    w.dh0 = encoder_ && training ? cv.take(H) : nullptr;
    w.dc0 = encoder_ && training && d_.stack.has_c ? cv.take(C) : nullptr;
    w.dl[0] = training && below > 0 ? cv.take(N * DS) : nullptr;
    w.dl[1] = training && below > 0 ? cv.take(N * DS) : nullptr;
    w.x = build_x ? cv.take(N * d_.in) : nullptr;
    w.y = want_y ? cv.take(N * d_.F) : nullptr;
    w.head = d_.final_state ? cv.take(R * d_.F) : nullptr;
    w.z = cv.take(R * d_.C);
    w.dy = training ? cv.take(R * d_.F) : nullptr;
    w.dz_sums = training && d_.loss == RK_LOSS_CROSS_ENTROPY ? cv.take(softmax_sums_scratch(R, d_.C)) : nullptr;
    // A frozen table needs no gradient: the stack's backward then skips dx altogether.
    w.dx = training && d_.input_kind == RK_INPUT_EMBEDDING && !d_.frozen ? cv.take(N * d_.in) : nullptr;
    w.hn = d_.final_state && want_hn ? cv.take(H) : nullptr;
    w.dhn = d_.final_state && training ? cv.take(H) : nullptr;
  };
  Carver count(nullptr);
  plan(count);
  work_.reserve(count.used());
  Carver real(work_.data());
  plan(real);
  return w;
}

const float* Model::input_rows(const rk_batch& b, const Work& w) const {
  const int64_t N = static_cast<int64_t>(b.T) * b.B;
  switch (d_.input_kind) {
    case RK_INPUT_EMBEDDING:
      embedding_gather(emb_.data(), d_.E, d_.in, b.tokens, N, w.x);
      break;
    case RK_INPUT_ONEHOT:
      onehot_encode(b.tokens, d_.V, d_.in, N, w.x);
      break;
    default:
      if (d_.K == 0 && w.in_mask == nullptr) return b.x;
      copy_rows(b.x, d_.width, d_.in, N, w.x);
  }
  if (d_.K > 0) append_condition(b.condition, d_.K, b.B, d_.width, d_.in, N, w.x);
  if (w.in_mask != nullptr) {
    // Input dropout (drawn by draw_masks); the conditioning columns are never dropped.
    for (int64_t n = 0; n < N; n++) {
      for (int k = 0; k < d_.width; k++) w.x[n * d_.in + k] *= w.in_mask[n * d_.width + k];
    }
  }
  return w.x;
}

void Model::draw_masks(DropoutStream& rng, const rk_batch& b, Work& w) {
  const int64_t N = static_cast<int64_t>(b.T) * b.B;
  // The order of dropout.ts: the input mask, then layer 0's output mask, layer 1's, …
  if (w.in_mask != nullptr) rng.draw(d_.p_input, N, d_.width, d_.width, w.in_mask);
  for (float* m : w.masks) rng.draw(d_.p_between, N, d_.F, d_.F, m);
}

void Model::stack_forward(const rk_batch& b, const float* x, float* y, float* hn, float* cn, bool keep, const Work& w) {
  ForwardCall fc;
  fc.T = b.T;
  fc.B = b.B;
  fc.lengths = b.lengths;
  fc.keep = keep;
  const float* c0 = d_.stack.has_c ? b.c0 : nullptr;
  if (!d_.stack.has_c) cn = nullptr;
  if (stacks_.size() == 1) {
    fc.x = x;
    fc.h0 = b.h0;
    fc.c0 = c0;
    fc.y = y;
    fc.hn = hn;
    fc.cn = cn;
    stacks_[0]->forward(fc);
    return;
  }
  // Layer by layer; state arrays [L·D][B][·] are layer-major, so layer l's part is a slice.
  const int64_t N = static_cast<int64_t>(b.T) * b.B;
  const int64_t hs = static_cast<int64_t>(d_.stack.D) * b.B * d_.stack.S;
  const int64_t cs = static_cast<int64_t>(d_.stack.D) * b.B * d_.stack.H;
  const int L = d_.stack.L;
  for (int l = 0; l < L; l++) {
    fc.x = l == 0 ? x : w.layer_in[l - 1];
    fc.h0 = b.h0 != nullptr ? b.h0 + l * hs : nullptr;
    fc.c0 = c0 != nullptr ? c0 + l * cs : nullptr;
    fc.y = l == L - 1 ? y : w.layer_y[l];
    fc.hn = hn != nullptr ? hn + l * hs : nullptr;
    fc.cn = cn != nullptr ? cn + l * cs : nullptr;
    stacks_[l]->forward(fc);
    if (l < L - 1 && w.masks[l] != nullptr) {
      const float* m = w.masks[l];
      float* in = w.layer_in[l];
      const float* out = w.layer_y[l];
      for (int64_t i = 0; i < N * d_.F; i++) in[i] = out[i] * m[i];
    }
  }
}

void Model::stack_backward(const rk_batch& b, const float* dy, const float* dhn, const float* dcn, float* dx, float* dh0,
                           float* dc0, const Work& w) {
  BackwardCall bc;
  if (!d_.stack.has_c) dcn = dc0 = nullptr;
  if (stacks_.size() == 1) {
    stacks_[0]->zero_grads();
    bc.dy = dy;
    bc.dhn = dhn;
    bc.dcn = dcn;
    bc.dx = dx;
    bc.dh0 = dh0;
    bc.dc0 = dc0;
    stacks_[0]->backward(bc);
    return;
  }
  const int64_t N = static_cast<int64_t>(b.T) * b.B;
  const int64_t hs = static_cast<int64_t>(d_.stack.D) * b.B * d_.stack.S;
  const int64_t cs = static_cast<int64_t>(d_.stack.D) * b.B * d_.stack.H;
  const int L = d_.stack.L;
  const float* dout = dy;
  for (int l = L - 1; l >= 0; l--) {
    stacks_[l]->zero_grads();
    bc.dy = dout;
    bc.dhn = dhn != nullptr ? dhn + l * hs : nullptr;
    bc.dcn = dcn != nullptr ? dcn + l * cs : nullptr;
    bc.dh0 = dh0 != nullptr ? dh0 + l * hs : nullptr;
    bc.dc0 = dc0 != nullptr ? dc0 + l * cs : nullptr;
    bc.dx = l > 0 ? w.dl[l % 2] : dx;
    stacks_[l]->backward(bc);
    if (l > 0) {
      // Through the mask of layer l−1's output: the gradient of its raw output.
      float* g = w.dl[l % 2];
      const float* m = w.masks[l - 1];
      for (int64_t i = 0; i < N * d_.F; i++) g[i] *= m[i];
      dout = g;
    }
  }
}

void Model::gather_final(const float* hn, int B, float* head) const {
  const int D = d_.stack.D, S = d_.stack.S;
  for (int dir = 0; dir < D; dir++) {
    const float* top = hn + static_cast<int64_t>((d_.stack.L - 1) * D + dir) * B * S;
    for (int b = 0; b < B; b++) std::memcpy(head + (static_cast<int64_t>(b) * D + dir) * S, top + static_cast<int64_t>(b) * S, sizeof(float) * S);
  }
}

void Model::scatter_final(const float* dhead, int B, float* dhn) const {
  const int D = d_.stack.D, S = d_.stack.S;
  std::memset(dhn, 0, sizeof(float) * static_cast<size_t>(d_.stack.L) * D * B * S);
  for (int dir = 0; dir < D; dir++) {
    float* top = dhn + static_cast<int64_t>((d_.stack.L - 1) * D + dir) * B * S;
    for (int b = 0; b < B; b++) std::memcpy(top + static_cast<int64_t>(b) * S, dhead + (static_cast<int64_t>(b) * D + dir) * S, sizeof(float) * S);
  }
}

LossOut Model::loss(const rk_batch& b, float* z, float* dz, ColumnSums dz_cols) const {
  const LossRows rows = d_.final_state ? LossRows{1, b.B, nullptr} : LossRows{b.T, b.B, b.lengths};
  if (d_.loss == RK_LOSS_CROSS_ENTROPY) return softmax_cross_entropy(rows, z, d_.C, b.targets, d_.ignore_index, dz, dz_cols);
  return mean_squared_error(rows, z, d_.C, b.target_values, b.target_mask, dz, dz_cols.sums);
}

void Model::collect(std::vector<Segment>& out, bool for_update) {
  if (encoder_) encoder_->collect(out, for_update);
  // params() marks the packed weights stale, which an update of them requires; the norm
  // alone must not, so gradient-only segments carry no parameter pointer.
  // A frozen table's segment is skipped by the norm and the update (its gradient stays 0).
  if (!emb_.empty()) {
    out.push_back({for_update ? emb_.data() : nullptr, emb_grad_.data(), static_cast<int64_t>(emb_.size()), d_.frozen});
  }
  for (auto& st : stacks_) out.push_back({for_update ? st->params() : nullptr, st->grads(), st->param_count()});
  if (!head_.empty()) out.push_back({for_update ? head_.data() : nullptr, head_grad_.data(), static_cast<int64_t>(head_.size())});
}

rk_batch Model::source_of(const rk_batch& b) {
  rk_batch sb{};
  sb.T = b.source_T;
  sb.B = b.B;
  sb.tokens = b.source_tokens;
  sb.x = b.source_x;
  sb.lengths = b.source_lengths;
  sb.h0 = b.h0;
  sb.c0 = b.c0;
  return sb;
}

void Model::zero_grads() {
  std::fill(emb_grad_.begin(), emb_grad_.end(), 0.0f);
  emb_grad_rows_.clear();
  for (auto& st : stacks_) st->zero_grads();
  std::fill(head_grad_.begin(), head_grad_.end(), 0.0f);
}

void Model::embedding_backward(const rk_batch& b, const Work& w) {
  // A frozen table gets no gradient: emb_grad_ stays the zeros it was made with.
  if (d_.input_kind != RK_INPUT_EMBEDDING || d_.frozen) return;
  const int64_t N = static_cast<int64_t>(b.T) * b.B;
  if (w.in_mask != nullptr) {  // through the input dropout mask
    for (int64_t n = 0; n < N; n++) {
      for (int k = 0; k < d_.width; k++) w.dx[n * d_.in + k] *= w.in_mask[n * d_.width + k];
    }
  }
  // Only the rows of the previous call's tokens can be non-zero: zeroing those instead of
  // the whole table saves a pass over [V][E] per step (26 MB at 33k words).
  for (int32_t row : emb_grad_rows_) std::fill_n(emb_grad_.data() + static_cast<int64_t>(row) * d_.E, d_.E, 0.0f);
  embedding_scatter_add(w.dx, d_.E, d_.in, b.tokens, N, emb_grad_.data());
  emb_grad_rows_.assign(b.tokens, b.tokens + N);
}

void Model::encode(const rk_batch& src, DropoutStream* rng, float* hn, float* cn) {
  const bool training = rng != nullptr;
  Work w = carve(src.T, src.B, training, false, false);
  if (rng != nullptr) draw_masks(*rng, src, w);
  stack_forward(src, input_rows(src, w), nullptr, hn, cn, training, w);
  if (training) enc_work_ = w;
}

void Model::encode_backward(const rk_batch& src, const float* dhn, const float* dcn) {
  stack_backward(src, nullptr, dhn, dcn, enc_work_.dx, nullptr, nullptr, enc_work_);
  embedding_backward(src, enc_work_);
}

StepOut Model::train(const rk_batch& b, float* hn, float* cn, bool update) {
  const int T = b.T, B = b.B;
  const int R = head_rows(b);
  Work w = carve(T, B, true, !d_.final_state, hn == nullptr);
  DropoutStream rng(b.dropout_seed);
  // Seq2seq: the encoder runs first (its masks are drawn first) and its final state is the
  // decoder's initial state.
  const bool seq = encoder_ && b.source_T > 0;
  const rk_batch src = seq ? source_of(b) : rk_batch{};
  rk_batch dec = b;
  if (seq) {
    encoder_->encode(src, &rng, w.eh, w.ec);
    dec.h0 = w.eh;
    dec.c0 = w.ec;
  }
  draw_masks(rng, b, w);
  const float* x = input_rows(b, w);
  float* hn_out = hn != nullptr ? hn : w.hn;  // the final-state readout needs hn
  // y is null for the final-state readout (the stack then keeps it to itself).
  stack_forward(dec, x, w.y, hn_out, cn, true, w);

  const float* head_in = w.y;
  if (d_.final_state) {
    gather_final(hn_out, B, w.head);
    head_in = w.head;
  }
  const float* W = head_.data();
  const float* bias = W + static_cast<size_t>(d_.C) * d_.F;
  dense_forward(head_in, R, d_.F, W, bias, d_.C, w.z);
  StepOut out;
  float* dW = head_grad_.data();
  float* db = dW + static_cast<size_t>(d_.C) * d_.F;
  out.loss = loss(b, w.z, w.z, ColumnSums{db, w.dz_sums});  // w.z now holds ∂loss/∂z, db its column sums
  dense_backward(head_in, w.z, R, d_.F, W, d_.C, dW, w.dy);
  // dx is null unless the input is an embedding; dh0 / dc0 only for seq2seq.
  if (d_.final_state) {
    scatter_final(w.dy, B, w.dhn);
    // dy stays null: the steps' outputs do not reach the loss.
    stack_backward(dec, nullptr, w.dhn, nullptr, w.dx, seq ? w.dh0 : nullptr, seq ? w.dc0 : nullptr, w);
  } else {
    stack_backward(dec, w.dy, nullptr, nullptr, w.dx, seq ? w.dh0 : nullptr, seq ? w.dc0 : nullptr, w);
  }
  embedding_backward(b, w);
  if (seq) {
    encoder_->encode_backward(src, w.dh0, w.dc0);
  } else if (encoder_) {
    encoder_->zero_grads();  // no source: the encoder takes no part in this loss
  }

  // The norm reads the gradients only; segments() is taken for the update alone, since it
  // marks the stack's packed weights stale.
  std::vector<Segment> grads;
  collect(grads, false);
  GradTransform clamp_only;
  if (update && opt_.spec().has_clip_value) {
    clamp_only.clamp = true;
    clamp_only.limit = static_cast<float>(opt_.spec().clip_value);
  }
  out.total_norm = global_norm(grads, clamp_only);
  if (update && std::isfinite(out.loss.loss) && std::isfinite(out.total_norm)) {
    std::vector<Segment> segs;
    collect(segs, true);
    opt_.step(segs, opt_.clip_transform(out.total_norm));
  }
  return out;
}

StepOut Model::evaluate(const rk_batch& b, float* outputs, float* y, float* hn, float* cn) {
  const int T = b.T, B = b.B;
  const int R = head_rows(b);
  Work w = carve(T, B, false, y == nullptr && !d_.final_state, hn == nullptr);
  float* ys = y != nullptr ? y : w.y;  // null for the final-state readout without y wanted
  float* z = outputs != nullptr ? outputs : w.z;
  float* hn_out = hn != nullptr ? hn : w.hn;
  rk_batch dec = b;
  if (encoder_ && b.source_T > 0) {
    encoder_->encode(source_of(b), nullptr, w.eh, w.ec);
    dec.h0 = w.eh;
    dec.c0 = w.ec;
  }
  stack_forward(dec, input_rows(b, w), ys, hn_out, cn, false, w);  // no dropout
  const float* head_in = ys;
  if (d_.final_state) {
    gather_final(hn_out, B, w.head);
    head_in = w.head;
  }
  const float* W = head_.data();
  dense_forward(head_in, R, d_.F, W, W + static_cast<size_t>(d_.C) * d_.F, d_.C, z);
  StepOut out;
  const bool has_targets = d_.loss == RK_LOSS_CROSS_ENTROPY ? b.targets != nullptr : b.target_values != nullptr;
  if (has_targets) {
    out.loss = loss(b, z, nullptr, ColumnSums{});
  } else {
    out.loss.loss = std::nan("");
  }
  return out;
}

}  // namespace rk
