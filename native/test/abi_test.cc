// The self-description of the C ABI (rnnkit.h):
//  - every RK_MAX_* limit is refused with RK_EINVAL and a message naming the field, by
//    rk_stack_create / rk_model_create and by the compute calls, before anything is
//    allocated (the arrays handed to the refused calls are far too small to be read);
//  - rk_stack_shapes / rk_model_shapes on a few specs, and their errors;
//  - rk_stack_layout / rk_model_layout text (the layout of src/backend/layout.ts and
//    training.ts modelLayout), and that it spans exactly the parameter count;
//  - rk_abi_describe's enum, struct (sizeof and offsets of this build) and limit lines.
// Exits 0 on success (ctest), prints every failed check.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "expect.h"
#include "rnnkit.h"

static rk_model_spec model_spec(int input_kind, int vocab, int dim, int size, rk_stack_spec stack, int outputs,
                                int loss) {
  rk_model_spec s;
  std::memset(&s, 0, sizeof s);  // every optional field (dropout, encoder, ...) off
  s.input_kind = input_kind;
  s.vocab = vocab;
  s.dim = dim;
  s.size = size;
  s.stack = stack;
  s.outputs = outputs;
  s.loss = loss;
  s.ignore_index = -100;
  s.readout = RK_READOUT_STEPS;
  return s;
}

// embedding V 6, E 4 -> lstm H 8 -> 4 classes, cross-entropy.
static rk_model_spec small_model() {
  return model_spec(RK_INPUT_EMBEDDING, 6, 4, 0, rk_stack_spec{RK_CELL_LSTM, 4, 8, 8, 1, 0}, 4, RK_LOSS_CROSS_ENTROPY);
}

static void expect_shapes(const int64_t* got, const std::vector<int64_t>& want, const char* what) {
  bool ok = true;
  for (std::size_t i = 0; i < want.size(); i++) ok = ok && got[i] == want[i];
  if (!ok) {
    std::printf("FAIL: %s: got", what);
    for (std::size_t i = 0; i < want.size(); i++) std::printf(" %lld", static_cast<long long>(got[i]));
    std::printf(", want");
    for (int64_t w : want) std::printf(" %lld", static_cast<long long>(w));
    std::printf("\n");
  }
  checks++;
  failures += ok ? 0 : 1;
}

static void expect_text(const std::string& got, const std::string& want, const char* what) {
  checks++;
  if (got != want) {
    std::printf("FAIL: %s: got\n%s---- want\n%s----\n", what, got.c_str(), want.c_str());
    failures++;
  }
}

// The offset and size of the last line of a layout text: offset + d0 (x d1).
static int64_t layout_end(const std::string& text) {
  std::size_t start = text.rfind('\n', text.size() - 2);
  start = start == std::string::npos ? 0 : start + 1;
  long long off = 0, d0 = 0, d1 = 1;
  char name[128];
  const int n = std::sscanf(text.c_str() + start, "%127s %lld %lldx%lld", name, &off, &d0, &d1);
  return n >= 3 ? off + d0 * d1 : -1;
}

// --- 1. limits ----------------------------------------------------------------------------

static void check_stack_limits() {
  const rk_stack_spec ok{RK_CELL_LSTM, 3, 4, 4, 2, 1};
  rk_stack* s = nullptr;
  rk_stack_spec bad = ok;
  bad.layers = 1000000000;
  expect_status(rk_stack_create(&bad, &s), RK_EINVAL, "layers must be in 1..1024; got 1000000000", "create(layers 1e9)");
  expect(s == nullptr, "a refused create leaves *out NULL");
  bad = ok;
  bad.layers = RK_MAX_LAYERS + 1;
  expect_status(rk_stack_create(&bad, &s), RK_EINVAL, "layers", "create(layers RK_MAX_LAYERS + 1)");
  bad = ok;
  bad.hidden_size = INT32_MAX;
  expect_status(rk_stack_create(&bad, &s), RK_EINVAL, "hidden_size must be in 1..16777216; got 2147483647",
                "create(hidden_size INT32_MAX)");
  bad = ok;
  bad.input_size = RK_MAX_WIDTH + 1;
  expect_status(rk_stack_create(&bad, &s), RK_EINVAL, "input_size", "create(input_size RK_MAX_WIDTH + 1)");
  bad = rk_stack_spec{RK_CELL_JORDAN, 3, 4, RK_MAX_WIDTH + 1, 1, 0};
  expect_status(rk_stack_create(&bad, &s), RK_EINVAL, "output_size", "create(jordan output_size RK_MAX_WIDTH + 1)");
  // Every width within the limit, the total not: 2 directions x 4·4096·(4096 + 4096 + 2).
  bad = rk_stack_spec{RK_CELL_LSTM, 4096, 4096, 0, 1, 1};
  expect_status(rk_stack_create(&bad, &s), RK_EINVAL,
                "the parameters would need 268500992 floats; the limit is RK_MAX_PARAMS = 268435456",
                "create(parameters over RK_MAX_PARAMS)");
  // The largest of everything: the total is computed without overflowing.
  bad = rk_stack_spec{RK_CELL_LSTM_PEEPHOLE, RK_MAX_WIDTH, RK_MAX_WIDTH, 0, RK_MAX_LAYERS, 1};
  expect_status(rk_stack_create(&bad, &s), RK_EINVAL, "RK_MAX_PARAMS", "create(every size at its limit)");
  bad = rk_stack_spec{RK_CELL_JORDAN, RK_MAX_WIDTH, RK_MAX_WIDTH, RK_MAX_WIDTH, RK_MAX_LAYERS, 1};
  expect_status(rk_stack_create(&bad, &s), RK_EINVAL, "RK_MAX_PARAMS", "create(jordan, every size at its limit)");

  // Calls: T*B, then each array, before anything is read or allocated.
  expect(rk_stack_create(&ok, &s) == RK_OK, "create");
  float tiny[8] = {0};
  expect_status(rk_stack_forward(s, 1 << 16, 1 << 16, tiny, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 1),
                RK_EINVAL, "T*B", "forward(T*B = 2^32)");
  expect_status(rk_stack_forward(s, 1 << 20, 1 << 10, tiny, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 0),
                RK_EINVAL, "x [T][B][I] would have 3221225472 elements; the limit is RK_MAX_ELEMENTS = 2147483647",
                "forward(x over RK_MAX_ELEMENTS)");
  int64_t shapes[4];
  expect_status(rk_stack_shapes(s, 1 << 20, 1 << 10, shapes), RK_EINVAL, "x [T][B][I]",
                "shapes(x over RK_MAX_ELEMENTS)");
  expect_status(rk_stack_shapes(s, INT32_MAX, INT32_MAX, shapes), RK_EINVAL, "T*B", "shapes(T*B = (2^31-1)^2)");
  rk_stack_destroy(s);

  // h0/hn [L*D][B][S] alone over the limit (T = 1): 1024 layers x 2 directions x 2^17 x 16.
  const rk_stack_spec deep{RK_CELL_RNN_TANH, 1, 16, 0, RK_MAX_LAYERS, 1};
  expect(rk_stack_create(&deep, &s) == RK_OK, "create a stack of RK_MAX_LAYERS layers");
  if (s != nullptr) {
    expect_status(rk_stack_shapes(s, 1, 1 << 17, shapes), RK_EINVAL, "h0/hn [L*D][B][S] would have 4294967296 elements",
                  "shapes(h over the limit)");
    rk_stack_destroy(s);
  }
}

static void check_model_limits() {
  const rk_model_spec ok = small_model();
  rk_model* m = nullptr;
  struct Case {
    const char* needle;
    const char* what;
    void (*spoil)(rk_model_spec&);
  };
  const Case cases[] = {
      {"vocab must be in 1..16777216; got 1073741824", "create(vocab 2^30)", [](rk_model_spec& s) { s.vocab = 1 << 30; }},
      {"dim must be in 1..16777216; got 2147483647", "create(dim INT32_MAX)",
       [](rk_model_spec& s) { s.dim = INT32_MAX; }},
      {"size", "create(dense size 2^25)",
       [](rk_model_spec& s) {
         s.input_kind = RK_INPUT_DENSE;
         s.size = 1 << 25;
       }},
      {"outputs must be in 1..16777216", "create(outputs 2^24 + 1)", [](rk_model_spec& s) { s.outputs = RK_MAX_WIDTH + 1; }},
      {"condition_size must be in 0..16777216", "create(condition_size 2^24 + 1)",
       [](rk_model_spec& s) { s.condition_size = RK_MAX_WIDTH + 1; }},
      {"stack.layers must be in 1..1024; got 1000000000", "create(stack.layers 1e9)",
       [](rk_model_spec& s) { s.stack.layers = 1000000000; }},
      {"stack.hidden_size", "create(stack.hidden_size INT32_MAX)", [](rk_model_spec& s) { s.stack.hidden_size = INT32_MAX; }},
      // Each part within the limit, the whole model not: embedding 2^24 x 16 = 2^28 floats.
      {"the parameters would need 268436324 floats; the limit is RK_MAX_PARAMS = 268435456",
       "create(model parameters over RK_MAX_PARAMS)",
       [](rk_model_spec& s) {
         s.vocab = RK_MAX_WIDTH;
         s.dim = 16;
         s.stack.input_size = 16;
       }},
      {"encoder: stack.layers must be in 1..1024; got 1000000000", "create(encoder_stack.layers 1e9)",
       [](rk_model_spec& s) {
         s.encoder = 1;
         s.encoder_input_kind = RK_INPUT_EMBEDDING;
         s.encoder_vocab = 5;
         s.encoder_dim = 3;
         s.encoder_stack = rk_stack_spec{RK_CELL_LSTM, 3, 8, 8, 1000000000, 0};
       }},
      {"encoder: vocab must be in 1..16777216; got 1073741824", "create(encoder_vocab 2^30)",
       [](rk_model_spec& s) {
         s.encoder = 1;
         s.encoder_input_kind = RK_INPUT_ONEHOT;
         s.encoder_vocab = 1 << 30;
         s.encoder_stack = rk_stack_spec{RK_CELL_LSTM, 3, 8, 8, 1, 0};
       }},
      // Encoder and decoder each within the limit, together not.
      {"the parameters would need", "create(encoder + decoder over RK_MAX_PARAMS)",
       [](rk_model_spec& s) {
         s.vocab = RK_MAX_WIDTH;
         s.dim = 8;
         s.stack.input_size = 8;
         s.encoder = 1;
         s.encoder_input_kind = RK_INPUT_EMBEDDING;
         s.encoder_vocab = RK_MAX_WIDTH;
         s.encoder_dim = 8;
         s.encoder_stack = rk_stack_spec{RK_CELL_LSTM, 8, 8, 8, 1, 0};
       }},
  };
  for (const Case& c : cases) {
    rk_model_spec bad = ok;
    c.spoil(bad);
    expect_status(rk_model_create(&bad, &m), RK_EINVAL, c.needle, c.what);
    expect(m == nullptr, "a refused model create leaves *out NULL");
  }

  // Calls: the head's outputs [T*B][C] over the limit (checked before the tokens are read).
  expect(rk_model_create(&ok, &m) == RK_OK, "create the small model");
  int32_t tiny[4] = {0};
  rk_batch b;
  std::memset(&b, 0, sizeof b);
  b.T = 1 << 15;
  b.B = 1 << 14;  // T*B = 2^29: outputs 2^31, y 2^32
  b.tokens = tiny;
  b.targets = tiny;
  rk_step_result r{};
  expect_status(rk_model_evaluate(m, &b, nullptr, nullptr, nullptr, nullptr, &r), RK_EINVAL,
                "outputs would have 2147483648 elements", "evaluate(outputs over RK_MAX_ELEMENTS)");
  expect_status(rk_model_loss_and_grads(m, &b, nullptr, nullptr, &r), RK_EINVAL, "outputs",
                "loss_and_grads(outputs over RK_MAX_ELEMENTS)");
  rk_optimizer sgd;
  std::memset(&sgd, 0, sizeof sgd);
  sgd.kind = RK_OPT_SGD;
  sgd.lr = 0.1;
  expect(rk_model_set_optimizer(m, &sgd) == RK_OK, "set_optimizer");
  expect_status(rk_model_train_step(m, &b, nullptr, nullptr, &r), RK_EINVAL, "outputs",
                "train_step(outputs over RK_MAX_ELEMENTS)");
  b.T = 1 << 16;
  b.B = 1 << 16;
  expect_status(rk_model_train_step(m, &b, nullptr, nullptr, &r), RK_EINVAL, "T*B", "train_step(T*B = 2^32)");
  int64_t shapes[RK_ARRAY_COUNT];
  expect_status(rk_model_shapes(m, 1 << 15, 1 << 14, 0, shapes), RK_EINVAL, "outputs", "model_shapes(outputs over)");
  expect_status(rk_model_shapes(m, 1 << 16, 1 << 16, 0, shapes), RK_EINVAL, "T*B", "model_shapes(T*B = 2^32)");
  rk_model_destroy(m);
}

// --- 2. shapes ----------------------------------------------------------------------------

static void check_stack_shapes() {
  int64_t out[4];
  rk_stack* s = nullptr;
  const rk_stack_spec jordan{RK_CELL_JORDAN, 3, 5, 2, 2, 1};
  expect(rk_stack_create(&jordan, &s) == RK_OK, "create jordan");
  expect(rk_stack_shapes(s, 4, 3, out) == RK_OK, "shapes(jordan)");
  // x 4·3·3, y 4·3·(2·2), h (2·2)·3·2, no c
  expect_shapes(out, {36, 48, 24, 0}, "jordan I3 H5 O2 L2 bi, T4 B3");
  expect_status(rk_stack_shapes(s, 0, 3, out), RK_EINVAL, "T", "shapes(T 0)");
  expect_status(rk_stack_shapes(s, 4, 0, out), RK_EINVAL, "B", "shapes(B 0)");
  expect_status(rk_stack_shapes(s, 4, 3, nullptr), RK_EINVAL, "out", "shapes(NULL out)");
  expect_status(rk_stack_shapes(nullptr, 4, 3, out), RK_EINVAL, "stack", "shapes(NULL stack)");
  rk_stack_destroy(s);

  const rk_stack_spec lstm{RK_CELL_LSTM, 3, 4, 0, 2, 1};
  expect(rk_stack_create(&lstm, &s) == RK_OK, "create lstm");
  expect(rk_stack_shapes(s, 5, 2, out) == RK_OK, "shapes(lstm)");
  // x 5·2·3, y 5·2·(2·4), h = c (2·2)·2·4
  expect_shapes(out, {30, 80, 32, 32}, "lstm I3 H4 L2 bi, T5 B2");
  rk_stack_destroy(s);
}

static void check_model_shapes() {
  int64_t out[RK_ARRAY_COUNT];
  rk_model* m = nullptr;
  // Order of rk_model_array: tokens x targets target_values target_mask lengths h c condition
  //                          source_tokens source_x source_lengths outputs y

  // Readout of the final state, bidirectional LSTM: head rows B.
  rk_model_spec fs = model_spec(RK_INPUT_EMBEDDING, 6, 4, 0, rk_stack_spec{RK_CELL_LSTM, 4, 8, 0, 1, 1}, 4,
                                RK_LOSS_CROSS_ENTROPY);
  fs.readout = RK_READOUT_FINAL_STATE;
  expect(rk_model_create(&fs, &m) == RK_OK, "create final_state model");
  expect(rk_model_shapes(m, 5, 3, 0, out) == RK_OK, "model_shapes(final_state)");
  expect_shapes(out, {15, 0, 3, 0, 0, 3, 48, 48, 0, 0, 0, 0, 12, 240}, "final_state bi lstm, T5 B3");
  expect_status(rk_model_shapes(m, 0, 3, 0, out), RK_EINVAL, "T", "model_shapes(T 0)");
  expect_status(rk_model_shapes(m, 5, 0, 0, out), RK_EINVAL, "B", "model_shapes(B 0)");
  expect_status(rk_model_shapes(m, 5, 3, -1, out), RK_EINVAL, "source_T", "model_shapes(source_T -1)");
  expect_status(rk_model_shapes(m, 5, 3, 0, nullptr), RK_EINVAL, "out", "model_shapes(NULL out)");
  expect_status(rk_model_shapes(nullptr, 5, 3, 0, out), RK_EINVAL, "model", "model_shapes(NULL model)");
  rk_model_destroy(m);

  // Seq2seq: dense encoder (size 3), embedding decoder, GRU L2.
  rk_model_spec s2s = model_spec(RK_INPUT_EMBEDDING, 7, 4, 0, rk_stack_spec{RK_CELL_GRU, 4, 5, 0, 2, 0}, 7,
                                 RK_LOSS_CROSS_ENTROPY);
  s2s.encoder = 1;
  s2s.encoder_input_kind = RK_INPUT_DENSE;
  s2s.encoder_size = 3;
  s2s.encoder_stack = rk_stack_spec{RK_CELL_GRU, 3, 5, 0, 2, 0};
  expect(rk_model_create(&s2s, &m) == RK_OK, "create seq2seq model");
  expect(rk_model_shapes(m, 4, 2, 6, out) == RK_OK, "model_shapes(seq2seq)");
  expect_shapes(out, {8, 0, 8, 0, 0, 2, 20, 0, 0, 0, 36, 2, 56, 40}, "seq2seq T4 B2 source_T 6");
  expect(rk_model_shapes(m, 4, 2, 0, out) == RK_OK, "model_shapes(seq2seq, no source)");
  expect_shapes(out, {8, 0, 8, 0, 0, 2, 20, 0, 0, 0, 0, 0, 56, 40}, "seq2seq T4 B2 without source");
  rk_model_destroy(m);

  // Dense input with a conditioning vector and MSE.
  rk_model_spec mse = model_spec(RK_INPUT_DENSE, 0, 0, 3, rk_stack_spec{RK_CELL_RNN_TANH, 5, 6, 0, 1, 0}, 2, RK_LOSS_MSE);
  mse.condition_size = 2;
  expect(rk_model_create(&mse, &m) == RK_OK, "create dense mse model");
  expect(rk_model_shapes(m, 4, 3, 0, out) == RK_OK, "model_shapes(dense mse condition)");
  expect_shapes(out, {0, 36, 0, 24, 12, 3, 18, 0, 6, 0, 0, 0, 24, 72}, "dense mse condition T4 B3");
  rk_model_destroy(m);
}

// --- 3. layouts -----------------------------------------------------------------------------

static void check_layouts() {
  rk_stack* s = nullptr;
  const rk_stack_spec peep{RK_CELL_LSTM_PEEPHOLE, 3, 4, 0, 2, 1};
  expect(rk_stack_create(&peep, &s) == RK_OK, "create lstm_peephole");
  std::string want;
  int64_t off = 0;
  for (int l = 0; l < 2; l++) {
    for (int d = 0; d < 2; d++) {
      const std::string sfx = "_l" + std::to_string(l) + (d ? "_reverse" : "");
      const int in = l == 0 ? 3 : 8;
      auto add = [&](const char* name, int d0, int d1) {
        want += name + sfx + " " + std::to_string(off) + " " + std::to_string(d0);
        if (d1) want += "x" + std::to_string(d1);
        want += "\n";
        off += d1 ? static_cast<int64_t>(d0) * d1 : d0;
      };
      add("weight_ih", 16, in);
      add("weight_hh", 16, 4);
      add("bias_ih", 16, 0);
      add("bias_hh", 16, 0);
      add("peephole_i", 4, 0);
      add("peephole_f", 4, 0);
      add("peephole_o", 4, 0);
    }
  }
  expect_text(rk_stack_layout(s), want, "layout of lstm_peephole I3 H4 L2 bi");
  expect(off == rk_stack_param_count(s), "the lstm_peephole layout spans the parameter count");
  rk_stack_destroy(s);

  const rk_stack_spec jordan{RK_CELL_JORDAN, 3, 5, 2, 1, 0};
  expect(rk_stack_create(&jordan, &s) == RK_OK, "create jordan");
  expect_text(rk_stack_layout(s),
              "weight_ih_l0 0 5x3\n"
              "weight_yh_l0 15 5x2\n"
              "bias_ih_l0 25 5\n"
              "weight_ho_l0 30 2x5\n"
              "bias_ho_l0 40 2\n",
              "layout of jordan I3 H5 O2");
  expect(rk_stack_param_count(s) == 42, "jordan parameter count");
  rk_stack_destroy(s);
  expect(std::strcmp(rk_stack_layout(nullptr), "") == 0, "rk_stack_layout(NULL) is \"\"");

  // A seq2seq model: encoder.embedding, encoder.rnn.*, embedding, rnn.*, head.
  rk_model_spec s2s = model_spec(RK_INPUT_EMBEDDING, 7, 4, 0, rk_stack_spec{RK_CELL_RNN_TANH, 4, 2, 0, 1, 0}, 3,
                                 RK_LOSS_CROSS_ENTROPY);
  s2s.encoder = 1;
  s2s.encoder_input_kind = RK_INPUT_EMBEDDING;
  s2s.encoder_vocab = 5;
  s2s.encoder_dim = 3;
  s2s.encoder_stack = rk_stack_spec{RK_CELL_RNN_TANH, 3, 2, 0, 1, 0};
  rk_model* m = nullptr;
  expect(rk_model_create(&s2s, &m) == RK_OK, "create seq2seq model");
  expect_text(rk_model_layout(m),
              "encoder.embedding.weight 0 5x3\n"
              "encoder.rnn.weight_ih_l0 15 2x3\n"
              "encoder.rnn.weight_hh_l0 21 2x2\n"
              "encoder.rnn.bias_ih_l0 25 2\n"
              "encoder.rnn.bias_hh_l0 27 2\n"
              "embedding.weight 29 7x4\n"
              "rnn.weight_ih_l0 57 2x4\n"
              "rnn.weight_hh_l0 65 2x2\n"
              "rnn.bias_ih_l0 69 2\n"
              "rnn.bias_hh_l0 71 2\n"
              "head.weight 73 3x2\n"
              "head.bias 79 3\n",
              "layout of a seq2seq model");
  expect(rk_model_param_count(m) == 82, "seq2seq parameter count");
  rk_model_destroy(m);
  expect(std::strcmp(rk_model_layout(nullptr), "") == 0, "rk_model_layout(NULL) is \"\"");

  // Dropout between layers runs one stack per layer: the layout is still the whole stack's.
  rk_model_spec drop = model_spec(RK_INPUT_DENSE, 0, 0, 3, rk_stack_spec{RK_CELL_GRU, 3, 4, 0, 3, 1}, 2, RK_LOSS_MSE);
  drop.dropout_between = 0.25;
  expect(rk_model_create(&drop, &m) == RK_OK, "create a model with dropout between layers");
  const std::string text = rk_model_layout(m);
  expect(text.find("rnn.weight_hh_l2_reverse ") != std::string::npos, "per-layer stacks: layer 2 reverse is listed");
  expect(layout_end(text) == rk_model_param_count(m), "the layout of a per-layer model spans its parameter count");
  rk_model_destroy(m);
}

// --- 4. rk_abi_describe ---------------------------------------------------------------------

// "name:type@offset", from this compilation's offsetof.
#define FIELD(S, f, type) (" " #f ":" type "@" + std::to_string(offsetof(S, f)))

static void check_describe() {
  const std::string text = rk_abi_describe();
  auto has_line = [&](const std::string& line, const char* what) {
    checks++;
    const bool first = text.compare(0, line.size() + 1, line + "\n") == 0;
    if (!first && text.find("\n" + line + "\n") == std::string::npos) {
      std::printf("FAIL: rk_abi_describe has no line \"%s\" (%s); it is:\n%s", line.c_str(), what, text.c_str());
      failures++;
    }
  };
  has_line("enum rk_status RK_OK=0 RK_EINVAL=1 RK_ENOMEM=2 RK_ESTATE=3 RK_EINTERNAL=4", "rk_status");
  has_line("enum rk_cell RK_CELL_RNN_TANH=0 RK_CELL_RNN_RELU=1 RK_CELL_LSTM=2 RK_CELL_LSTM_PEEPHOLE=3 RK_CELL_GRU=4 "
           "RK_CELL_GRU_CHO=5 RK_CELL_JORDAN=6",
           "rk_cell");
  has_line("enum rk_input_kind RK_INPUT_EMBEDDING=0 RK_INPUT_ONEHOT=1 RK_INPUT_DENSE=2", "rk_input_kind");
  has_line("enum rk_loss_kind RK_LOSS_CROSS_ENTROPY=0 RK_LOSS_MSE=1", "rk_loss_kind");
  has_line("enum rk_readout RK_READOUT_STEPS=0 RK_READOUT_FINAL_STATE=1", "rk_readout");
  has_line("enum rk_optimizer_kind RK_OPT_SGD=0 RK_OPT_RMSPROP=1 RK_OPT_ADAM=2 RK_OPT_ADAMW=3", "rk_optimizer_kind");
  has_line("enum rk_model_array RK_ARRAY_TOKENS=0 RK_ARRAY_X=1 RK_ARRAY_TARGETS=2 RK_ARRAY_TARGET_VALUES=3 "
           "RK_ARRAY_TARGET_MASK=4 RK_ARRAY_LENGTHS=5 RK_ARRAY_H=6 RK_ARRAY_C=7 RK_ARRAY_CONDITION=8 "
           "RK_ARRAY_SOURCE_TOKENS=9 RK_ARRAY_SOURCE_X=10 RK_ARRAY_SOURCE_LENGTHS=11 RK_ARRAY_OUTPUTS=12 RK_ARRAY_Y=13 "
           "RK_ARRAY_COUNT=14",
           "rk_model_array");
  has_line("struct rk_stack_spec 24 cell:i32@0 input_size:i32@4 hidden_size:i32@8 output_size:i32@12 layers:i32@16 "
           "bidirectional:i32@20",
           "rk_stack_spec");
  has_line("struct rk_model_spec " + std::to_string(sizeof(rk_model_spec)) + FIELD(rk_model_spec, input_kind, "i32") +
               FIELD(rk_model_spec, vocab, "i32") + FIELD(rk_model_spec, dim, "i32") + FIELD(rk_model_spec, size, "i32") +
               FIELD(rk_model_spec, stack, "rk_stack_spec") + FIELD(rk_model_spec, outputs, "i32") +
               FIELD(rk_model_spec, loss, "i32") + FIELD(rk_model_spec, ignore_index, "i32") +
               FIELD(rk_model_spec, condition_size, "i32") + FIELD(rk_model_spec, readout, "i32") +
               FIELD(rk_model_spec, dropout_input, "f64") + FIELD(rk_model_spec, dropout_between, "f64") +
               FIELD(rk_model_spec, encoder, "i32") + FIELD(rk_model_spec, encoder_input_kind, "i32") +
               FIELD(rk_model_spec, encoder_vocab, "i32") + FIELD(rk_model_spec, encoder_dim, "i32") +
               FIELD(rk_model_spec, encoder_size, "i32") + FIELD(rk_model_spec, encoder_stack, "rk_stack_spec") +
               FIELD(rk_model_spec, freeze_embedding, "i32") + FIELD(rk_model_spec, encoder_freeze_embedding, "i32"),
           "rk_model_spec");
  has_line("struct rk_optimizer 96 kind:i32@0 nesterov:i32@4 has_clip_value:i32@8 has_max_norm:i32@12 lr:f64@16 "
           "momentum:f64@24 dampening:f64@32 weight_decay:f64@40 alpha:f64@48 eps:f64@56 beta1:f64@64 beta2:f64@72 "
           "clip_value:f64@80 max_norm:f64@88",
           "rk_optimizer");
  has_line("struct rk_batch " + std::to_string(sizeof(rk_batch)) + FIELD(rk_batch, T, "i32") + FIELD(rk_batch, B, "i32") +
               FIELD(rk_batch, tokens, "ptr") + FIELD(rk_batch, x, "ptr") + FIELD(rk_batch, targets, "ptr") +
               FIELD(rk_batch, target_values, "ptr") + FIELD(rk_batch, target_mask, "ptr") +
               FIELD(rk_batch, lengths, "ptr") + FIELD(rk_batch, h0, "ptr") + FIELD(rk_batch, c0, "ptr") +
               FIELD(rk_batch, condition, "ptr") + FIELD(rk_batch, dropout_seed, "u32") +
               FIELD(rk_batch, source_T, "i32") + FIELD(rk_batch, source_tokens, "ptr") +
               FIELD(rk_batch, source_x, "ptr") + FIELD(rk_batch, source_lengths, "ptr"),
           "rk_batch");
  has_line("struct rk_step_result 32 loss:f64@0 count:f64@8 correct:f64@16 total_norm:f64@24", "rk_step_result");
  has_line("limit RK_MAX_LAYERS 1024", "RK_MAX_LAYERS");
  has_line("limit RK_MAX_WIDTH 16777216", "RK_MAX_WIDTH");
  has_line("limit RK_MAX_PARAMS 268435456", "RK_MAX_PARAMS");
  has_line("limit RK_MAX_ELEMENTS 2147483647", "RK_MAX_ELEMENTS");
  has_line("limit RK_MAX_THREADS 1024", "RK_MAX_THREADS");
  int lines = 0;
  for (char c : text) lines += c == '\n';
  expect(lines == 7 + 5 + 5, "rk_abi_describe: 7 enums, 5 structs, 5 limits, nothing else");
  expect(rk_abi_describe() == rk_abi_describe(), "rk_abi_describe returns the same text every time");
}

int main() {
  check_stack_limits();
  check_model_limits();
  check_stack_shapes();
  check_model_shapes();
  check_layouts();
  check_describe();
  if (failures == 0) std::printf("abi_test: all %d checks passed\n", checks);
  return failures == 0 ? 0 : 1;
}
