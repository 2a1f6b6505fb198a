/*
 * rnnkit C ABI — the only interface the Node-API addon and the WebAssembly exports call.
 *
 * Plain C: opaque handles, int status codes, no C++ types, and no C++ exception ever
 * crosses it (every entry point catches). On failure a function returns a non-zero
 * rk_status and rk_last_error() gives a message for the calling thread.
 *
 * Shapes (all float32, row-major, time-major):
 *   T steps, B batch, I input size, H hidden size, S state size (O for jordan, else H),
 *   L layers, D directions (2 if bidirectional), G gates (lstm 4, gru 3, rnn/jordan 1).
 *   x  [T][B][I]        y  [T][B][D*S]     (forward direction's half first)
 *   h0, hn [L*D][B][S]  c0, cn [L*D][B][H] (LSTM cells only)
 *   lengths [B]         valid steps per sequence, 0..T; NULL = all T. Steps t >= lengths[b]
 *                       are padding: every layer and direction holds its state there and
 *                       outputs 0 (pack_padded_sequence semantics). 0 (the whole sequence
 *                       is padding) is accepted for truncated-BPTT windows.
 *
 * Parameters live in one flat float array per stack, in the order of
 * src/backend/layout.ts (PyTorch's state_dict order); gradients in a second array of
 * the same layout. rk_stack_layout / rk_model_layout give that layout as text.
 *
 * Every size is bounded (the RK_MAX_* limits below): a spec or a call beyond them is
 * refused with RK_EINVAL before anything is allocated, so no size computation overflows.
 */
#ifndef RNNKIT_H
#define RNNKIT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits, one place (the bindings compare them with their own at load time). */
#define RK_MAX_LAYERS 1024
#define RK_MAX_THREADS 1024      /* rk_set_threads */
#define RK_MAX_WIDTH 16777216      /* any one size: input_size, hidden_size, output_size, vocab, dim, size, outputs, condition_size */
#define RK_MAX_PARAMS 268435456    /* floats in one stack's or one model's parameter array (1 GiB) */
#define RK_MAX_ELEMENTS 2147483647 /* elements of any one array of a call (x, y, h, c, tokens, targets, outputs, ...), and T*B */

typedef enum rk_status {
  RK_OK = 0,
  RK_EINVAL = 1,  /* an argument is out of range or inconsistent */
  RK_ENOMEM = 2,  /* an allocation failed */
  RK_ESTATE = 3,  /* call out of order, e.g. backward without a training forward */
  RK_EINTERNAL = 4
} rk_status;

typedef enum rk_cell {
  RK_CELL_RNN_TANH = 0,
  RK_CELL_RNN_RELU = 1,
  RK_CELL_LSTM = 2,
  RK_CELL_LSTM_PEEPHOLE = 3,
  RK_CELL_GRU = 4,
  RK_CELL_GRU_CHO = 5,
  RK_CELL_JORDAN = 6
} rk_cell;

typedef struct rk_stack_spec {
  int32_t cell;          /* rk_cell */
  int32_t input_size;    /* I in 1..RK_MAX_WIDTH */
  int32_t hidden_size;   /* H in 1..RK_MAX_WIDTH */
  int32_t output_size;   /* O in 1..RK_MAX_WIDTH for jordan; ignored (= H) otherwise */
  int32_t layers;        /* L in 1..RK_MAX_LAYERS */
  int32_t bidirectional; /* 0 or 1 */
} rk_stack_spec;

typedef struct rk_stack rk_stack;
typedef struct rk_model rk_model;

/* Message of the last failure on the calling thread ("" if none). Never NULL. */
const char* rk_last_error(void);

/*
 * Every enum, struct and limit that crosses this header, as text, one item per line
 * (each line ends with '\n'):
 *   enum rk_cell RK_CELL_RNN_TANH=0 RK_CELL_RNN_RELU=1 ...
 *   struct rk_stack_spec 24 cell:i32@0 input_size:i32@4 ...   (sizeof, then field:type@offset
 *                                                              for every field in declaration order)
 *   limit RK_MAX_LAYERS 1024
 * Field types: i32 (int32_t), u32 (uint32_t), f64 (double), ptr (any pointer; 4 or 8 bytes),
 * or the name of a nested struct (e.g. stack:rk_stack_spec@16). Built from sizeof/offsetof
 * of this compilation (so it describes the wasm32 build as that build sees it). Never NULL.
 */
const char* rk_abi_describe(void);

/* --- runtime ------------------------------------------------------------------- */

/* The ISA path in use: "scalar", "avx2", "avx512", "neon", "wasm-simd128". */
const char* rk_isa(void);
/* Force an ISA path by name (for tests); RK_EINVAL if unknown or unsupported by this CPU. */
rk_status rk_force_isa(const char* name);
/* Threads used by the compute calls: 1 <= n <= RK_MAX_THREADS; 0 means every core. A pool
 * runs with fewer when the system will not start more threads (or, in the threaded wasm
 * module, past its room for 256 workers); rk_get_threads says how many. */
rk_status rk_set_threads(int32_t n);
int32_t rk_get_threads(void);
/* The thread count rk_set_threads(n) would give: n, or every core of this machine for 0
 * (1 in a build without threads). Lets a binding skip a setting that changes nothing. */
int32_t rk_resolve_threads(int32_t n);

/* --- stacks -------------------------------------------------------------------- */

rk_status rk_stack_create(const rk_stack_spec* spec, rk_stack** out);
/* Frees the stack; NULL is a no-op. */
void rk_stack_destroy(rk_stack* s);

/* Number of floats in the flat parameter array (= gradient array). */
int64_t rk_stack_param_count(const rk_stack* s);
/*
 * The stack's own parameter / gradient arrays (valid until rk_stack_destroy).
 * The stack keeps its weights packed for the GEMM kernels across compute calls, and
 * calling rk_stack_params is what tells it they may change: the next forward / backward
 * packs them again. So write parameters only through a pointer obtained from
 * rk_stack_params AFTER the last compute call (fetch it again before each write; reading
 * through an old pointer is always fine).
 */
float* rk_stack_params(rk_stack* s);
float* rk_stack_grads(rk_stack* s);
void rk_stack_zero_grads(rk_stack* s);

/*
 * The parameter tensors of a stack in flat-array order, as text, one per line (each line
 * ends with '\n'): "<name> <offset> <d0>x<d1>" or "<name> <offset> <d0>" (offset and shape
 * in floats), e.g. "weight_ih_l0 0 32x3". Names are PyTorch's (weight_ih_l0,
 * weight_hh_l0_reverse, bias_ih_l1, peephole_i_l0, weight_yh_l0, weight_ho_l0, bias_ho_l0,
 * ...). Valid until rk_stack_destroy; never NULL ("" for a NULL stack).
 */
const char* rk_stack_layout(const rk_stack* s);

/*
 * Elements of each array of a stack call with T steps and batch B: out[0] x [T][B][I],
 * out[1] y [T][B][D*S], out[2] h0/hn [L*D][B][S], out[3] c0/cn [L*D][B][H] (0 for cells
 * without a cell state). RK_EINVAL when T or B < 1 or a product exceeds RK_MAX_ELEMENTS
 * (rk_stack_forward refuses the same calls).
 */
rk_status rk_stack_shapes(const rk_stack* s, int32_t T, int32_t B, int64_t out[4]);

/*
 * Forward over a whole sequence. h0 / c0 may be NULL (zeros); c0 and cn are ignored for
 * cells without a cell state. y, hn and cn may be NULL when not wanted. With keep != 0
 * the activations are kept in the stack's tape for rk_stack_backward. The tape is
 * separate from the memory of keep == 0 forwards: an inference forward between a
 * training forward and its backward does not disturb it. A training forward that fails
 * leaves no tape (backward then returns RK_ESTATE).
 * Sets FTZ/DAZ on the computing threads for the call's duration (caller's mode restored).
 */
rk_status rk_stack_forward(rk_stack* s, int32_t T, int32_t B, const float* x,
                           const float* h0, const float* c0, const int32_t* lengths,
                           float* y, float* hn, float* cn, int32_t keep);

/*
 * Backward through the last forward made with keep != 0 (RK_ESTATE otherwise).
 * dy, dhn, dcn may be NULL (zeros). Writes dx, dh0 (and dc0 for LSTM cells); each may be
 * NULL to skip it. ADDS the parameter gradients to rk_stack_grads, using the parameters
 * as they are at the time of this call. The tape stays valid: calling backward again
 * adds the same gradients again. Shapes are those of the kept forward (its T, B).
 */
rk_status rk_stack_backward(rk_stack* s, const float* dy, const float* dhn, const float* dcn,
                            float* dx, float* dh0, float* dc0);

/* --- whole-window training models ------------------------------------------------
 *
 * A model is   input layer -> recurrent stack -> dense head -> loss   with its parameters,
 * gradients and optimizer state in native memory. rk_model_train_step runs one whole
 * window in ONE call: forward, loss, backward, clipping and the optimizer update.
 * Formulas: shared/golden/README.md "Training-step cases"; the float64 specification is
 * src/backend/reference/training/.
 *
 * Head rows N: T*B (readout steps; targets [T][B]) or B (readout final_state; targets [B]).
 * Flat parameter order (rk_model_get_params etc.; rk_model_layout gives it as text):
 *   src/backend/layout.ts modelLayout —
 *   embedding.weight [V][E] (embedding input only), the stack's parameters in the order of
 *   rk_stack_params, head.weight [C][D*S], head.bias [C]   (C = outputs).
 * A position (t, b) is padding when t >= lengths[b]: it never counts in the loss.
 */
typedef enum rk_input_kind {
  RK_INPUT_EMBEDDING = 0, /* token ids -> rows of embedding.weight [vocab][dim] */
  RK_INPUT_ONEHOT = 1,    /* token ids -> one-hot vectors of width vocab (no parameters) */
  RK_INPUT_DENSE = 2      /* real-valued vectors x [T][B][size] */
} rk_input_kind;

typedef enum rk_loss_kind {
  RK_LOSS_CROSS_ENTROPY = 0, /* softmax CE, mean over counted positions (ignore_index skipped) */
  RK_LOSS_MSE = 1            /* mean over every element of every counted position */
} rk_loss_kind;

typedef struct rk_model_spec {
  int32_t input_kind;   /* rk_input_kind */
  int32_t vocab;        /* embedding / onehot: V in 1..RK_MAX_WIDTH */
  int32_t dim;          /* embedding: E in 1..RK_MAX_WIDTH */
  int32_t size;         /* dense: width in 1..RK_MAX_WIDTH */
  rk_stack_spec stack;  /* stack.input_size = input width (E, V or size) + condition_size */
  int32_t outputs;      /* C in 1..RK_MAX_WIDTH */
  int32_t loss;         /* rk_loss_kind */
  int32_t ignore_index; /* cross-entropy: targets equal to it do not count */
  int32_t condition_size; /* K in 0..RK_MAX_WIDTH: a vector v [B][K] appended to every step's input (layer 0
                             reads [x_t; v]); stack.input_size = input width + K */
  int32_t readout;      /* rk_readout: what the head reads */
  /* Inverted dropout in training steps (never in evaluate), masks drawn from
   * rk_batch.dropout_seed exactly as src/backend/reference/training/dropout.ts; 0 = none. */
  double dropout_input;   /* on the input layer's output (not the conditioning columns) */
  double dropout_between; /* on the output of every recurrent layer but the last */
  /* Encoder-decoder (seq2seq) when encoder != 0: an encoder (its own input layer and stack,
   * parameters first in the flat array: encoder.embedding.weight, encoder.rnn.*) reads
   * rk_batch.source_*; its final state starts the decoder (the model's stack), and the
   * gradient flows back through it. Same layers, directions, widths and cell-state kind as
   * the decoder's stack; no conditioning vector. Its dropout masks are drawn first. */
  int32_t encoder;
  int32_t encoder_input_kind; /* rk_input_kind */
  int32_t encoder_vocab, encoder_dim, encoder_size;
  rk_stack_spec encoder_stack;
  /* Frozen embedding tables (PyTorch's requires_grad = False), 0 or 1; only with an
   * embedding input. A frozen table takes no part in training: no update and no weight
   * decay by any optimizer, its optimizer buffers are left as they are (zeros unless set),
   * its gradient reads as zeros (rk_model_get_grads) and is not part of the clipping norm
   * (rk_step_result.total_norm). */
  int32_t freeze_embedding;         /* the model's (decoder's) embedding.weight */
  int32_t encoder_freeze_embedding; /* seq2seq: encoder.embedding.weight */
} rk_model_spec;

typedef enum rk_readout {
  RK_READOUT_STEPS = 0,      /* the last layer's output at every step: N = T*B head rows */
  RK_READOUT_FINAL_STATE = 1 /* the top layer's final states [hn fwd; hn rev]: N = B rows */
} rk_readout;

typedef enum rk_optimizer_kind {
  RK_OPT_SGD = 0,
  RK_OPT_RMSPROP = 1,
  RK_OPT_ADAM = 2,
  RK_OPT_ADAMW = 3
} rk_optimizer_kind;

/* Hyper-parameters as in torch 1.13 (every field is read; give PyTorch's defaults). */
typedef struct rk_optimizer {
  int32_t kind;           /* rk_optimizer_kind */
  int32_t nesterov;       /* sgd */
  int32_t has_clip_value; /* clamp every gradient element to [-clip_value, clip_value] first */
  int32_t has_max_norm;   /* then clip_grad_norm_(max_norm), norm_type 2 */
  double lr;
  double momentum;        /* sgd */
  double dampening;       /* sgd */
  double weight_decay;    /* L2 for sgd / rmsprop / adam, decoupled for adamw */
  double alpha;           /* rmsprop */
  double eps;             /* rmsprop / adam / adamw */
  double beta1, beta2;    /* adam / adamw */
  double clip_value;
  double max_norm;
} rk_optimizer;

/* One window, time-major. Arrays the model does not use are ignored; may be NULL otherwise
 * where said. */
typedef struct rk_batch {
  int32_t T, B;
  const int32_t* tokens;        /* [T][B] ids in [0, vocab) (embedding / onehot input) */
  const float* x;               /* [T][B][size] (dense input) */
  const int32_t* targets;       /* [N] class ids in [0, C) or ignore_index (cross-entropy);
                                   positions past a sequence's length neither count nor are checked */
  const float* target_values;   /* [N][C] (mse) */
  const uint8_t* target_mask;   /* [N] 1 = counts (mse); NULL: every valid position counts */
  const int32_t* lengths;       /* [B] in 0..T, or NULL (all T) */
  const float* h0;              /* [L*D][B][S] or NULL (zeros) */
  const float* c0;              /* [L*D][B][H] or NULL (zeros; LSTM cells) */
  const float* condition;       /* [B][K] when condition_size > 0 */
  uint32_t dropout_seed;        /* seed of this step's dropout masks */
  /* Seq2seq: the encoder's input (source_T >= 1 steps, same B); h0 / c0 are then the
   * encoder's initial state. source_T == 0: the decoder alone runs from h0 / c0. */
  int32_t source_T;
  const int32_t* source_tokens; /* [source_T][B] */
  const float* source_x;        /* [source_T][B][encoder_size] */
  const int32_t* source_lengths; /* [B] in 0..source_T, or NULL */
} rk_batch;

/* The arrays of a model call (see rk_model_shapes; the element type of each is rk_batch's:
 * int32 tokens / targets / lengths, uint8 target_mask, float the others). */
typedef enum rk_model_array {
  RK_ARRAY_TOKENS = 0,
  RK_ARRAY_X,
  RK_ARRAY_TARGETS,
  RK_ARRAY_TARGET_VALUES,
  RK_ARRAY_TARGET_MASK,
  RK_ARRAY_LENGTHS,
  RK_ARRAY_H,
  RK_ARRAY_C,
  RK_ARRAY_CONDITION,
  RK_ARRAY_SOURCE_TOKENS,
  RK_ARRAY_SOURCE_X,
  RK_ARRAY_SOURCE_LENGTHS,
  RK_ARRAY_OUTPUTS,
  RK_ARRAY_Y,
  RK_ARRAY_COUNT
} rk_model_array;

typedef struct rk_step_result {
  double loss;       /* mean loss before the update (NaN when nothing counted / no targets) */
  double count;      /* the mean's denominator (positions; x C for mse) */
  double correct;    /* cross-entropy: counted positions whose first arg-max is the target */
  double total_norm; /* train step: global L2 norm of the gradient (after value clipping) */
} rk_step_result;

/* A new model's parameters are all zero: set them (rk_model_set_params) before training;
 * the bindings draw them from the initialisers. */
rk_status rk_model_create(const rk_model_spec* spec, rk_model** out);
/* Frees the model; NULL is a no-op. */
void rk_model_destroy(rk_model* m);
/* Floats in the flat parameter (= gradient) array. */
int64_t rk_model_param_count(const rk_model* m);
/*
 * The parameter tensors of a model in flat-array order, as text, in rk_stack_layout's
 * format; names "encoder.embedding.weight", "encoder.rnn.<stack name>", "embedding.weight",
 * "rnn.<stack name>", "head.weight", "head.bias". Valid until rk_model_destroy; never NULL
 * ("" for a NULL model).
 */
const char* rk_model_layout(const rk_model* m);
/*
 * Elements of every array of a model call with T steps, batch B and (seq2seq) source_T
 * source steps (0 = no source), indexed by rk_model_array; 0 where the model does not
 * read/write that array (e.g. tokens for dense input, x for token input, target_values for
 * cross-entropy, condition when condition_size == 0, source_* without an encoder or with
 * source_T == 0, c for cells without a cell state). targets / target_mask / outputs rows
 * are T*B, or B for RK_READOUT_FINAL_STATE. RK_EINVAL when a product exceeds
 * RK_MAX_ELEMENTS (counting also the arrays the model builds inside: the stacks' inputs
 * [T][B][stack.input_size], the encoder's outputs) or T, B < 1, source_T < 0; the compute
 * calls refuse the same windows.
 */
rk_status rk_model_shapes(const rk_model* m, int32_t T, int32_t B, int32_t source_T, int64_t out[RK_ARRAY_COUNT]);
/* Copies between the model and a flat array of rk_model_param_count floats. */
rk_status rk_model_set_params(rk_model* m, const float* flat);
rk_status rk_model_get_params(const rk_model* m, float* flat);
/* The gradient of the last train step / loss-and-grads call, before any clipping. */
rk_status rk_model_get_grads(const rk_model* m, float* flat);
/* Chooses the optimizer and clipping; resets the optimizer state and the step count. */
rk_status rk_model_set_optimizer(rk_model* m, const rk_optimizer* opt);
/* Changes the learning rate, keeping the state (RK_ESTATE without an optimizer). */
rk_status rk_model_set_lr(rk_model* m, double lr);
/*
 * The optimizer's state, for checkpoints: the step count (updates made; a step skipped for
 * a non-finite loss or norm does not count) and the buffers the optimizer keeps, each
 * rk_model_param_count floats in the flat parameter order, in this order and with
 * PyTorch's meaning (torch.optim state names):
 *   sgd, momentum != 0: momentum_buffer      sgd, momentum 0: none
 *   rmsprop: square_avg                      adam, adamw: exp_avg, then exp_avg_sq
 * (src/backend/reference/training/optimizers.ts keeps the same buffers in float64). They
 * are zeros until the first step. Given the parameters too, a model of the same spec with
 * the same rk_optimizer that receives this state continues exactly as the original would:
 * its next rk_model_train_step is the original's next. rk_model_set_optimizer resets both.
 * Each call is RK_ESTATE on a model without an optimizer.
 */
/* The step count and the number of buffers (0, 1 or 2, as listed above). */
rk_status rk_model_optimizer_state(const rk_model* m, int64_t* step, int32_t* buffers);
/* Copies buffer k (0 <= k < the number of buffers) into out [rk_model_param_count]. */
rk_status rk_model_get_optimizer_buffer(const rk_model* m, int32_t k, float* out);
/*
 * Sets the step count (>= 0) and every buffer: n must be the optimizer's number of buffers
 * and buffers[k], k < n, points to rk_model_param_count floats (buffers may be NULL when n
 * is 0). Magnitudes below FLT_MIN are stored as 0, as the updates store them. A refused
 * call changes nothing.
 */
rk_status rk_model_set_optimizer_state(rk_model* m, int64_t step, const float* const* buffers, int32_t n);
/*
 * Forward, loss, backward, clipping and the optimizer update over one window. hn / cn
 * ([L*D][B][S] / [L*D][B][H]) receive the final state, or may be NULL. When the loss or
 * the gradient norm is not finite the update is skipped (parameters unchanged).
 */
rk_status rk_model_train_step(rk_model* m, const rk_batch* batch, float* hn, float* cn, rk_step_result* out);
/* The same without clipping or update: loss and gradient (read with rk_model_get_grads). */
rk_status rk_model_loss_and_grads(rk_model* m, const rk_batch* batch, float* hn, float* cn, rk_step_result* out);
/*
 * Forward and (when the batch has targets) loss, no gradient. outputs [N][C] head
 * outputs (logits), y [T][B][D*S], hn, cn: each may be NULL. total_norm is 0.
 */
rk_status rk_model_evaluate(rk_model* m, const rk_batch* batch, float* outputs, float* y, float* hn, float* cn,
                            rk_step_result* out);

/* --- generation sessions -----------------------------------------------------------
 *
 * A session keeps a model's recurrent state [L*D][B][S] (and [L*D][B][H] cell state) for
 * B samples between calls, so that generation crosses the boundary once per token:
 * rk_session_step runs T >= 1 steps (a whole prompt, or one token) from the session's
 * state, writes each sample's logits and keeps the new state. It is rk_model_evaluate
 * with h0 / c0 = the session's state and hn / cn written back into it (src/backend/
 * reference/training/session.ts is the float64 specification).
 *
 * Bindings keep the model alive, and use it for one call at a time, while a session is
 * used (the session holds the model's pointer; rk_session_destroy touches only the
 * session's own memory, so it may run after rk_model_destroy). Steps are meaningful for
 * unidirectional stacks with RK_READOUT_STEPS (what generation needs; the bindings refuse
 * other models); C only protects memory for the others.
 */
typedef struct rk_session rk_session;

/* A session of B (1..RK_MAX_ELEMENTS, with the state within limits) samples; its state is zeros. */
rk_status rk_session_create(rk_model* m, int32_t B, rk_session** out);
/* Frees the session; NULL is a no-op. */
void rk_session_destroy(rk_session* s);
/*
 * Elements of the arrays of a step of T steps (and source_T source steps): rk_model_shapes
 * of the model for (T, the session's B, source_T), except out[RK_ARRAY_OUTPUTS] = B*C, the
 * logits a step writes. out[RK_ARRAY_H] / out[RK_ARRAY_C] are the sizes of the state.
 */
rk_status rk_session_shapes(const rk_session* s, int32_t T, int32_t source_T, int64_t out[RK_ARRAY_COUNT]);
/* Replaces the state: h [L*D][B][S], c [L*D][B][H] (LSTM cells; ignored otherwise); NULL = zeros. */
rk_status rk_session_set_state(rk_session* s, const float* h, const float* c);
/* Copies the state out; either may be NULL. */
rk_status rk_session_get_state(const rk_session* s, float* h, float* c);
/*
 * Runs batch->T steps from the session's state and keeps the final state. batch->B must
 * be the session's B. Read: tokens / x, condition, lengths and (seq2seq) source_*; the
 * batch's h0 / c0, targets, target_values, target_mask and dropout_seed are ignored (no
 * loss, no dropout). With batch->source_T > 0 the encoder runs first, starting from the
 * session's state, and its final state starts the decoder (a fresh session: zeros, as
 * rk_model_evaluate without h0). lengths (or NULL: all T) hold a sample's state past its
 * length, so prompts of different lengths go in one call; a length of 0 leaves a sample
 * unchanged (its state and its logits).
 * logits [B][C] (or NULL): each sample's head outputs at its last valid step, i.e. the
 * outputs row (lengths[b] - 1, b) of rk_model_evaluate; a sample with length 0 gets the
 * logits of its previous step (zeros before the first). On failure the state is unchanged.
 */
rk_status rk_session_step(rk_session* s, const rk_batch* batch, float* logits);

#ifdef __cplusplus
}
#endif

#endif /* RNNKIT_H */
