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
 * the same layout.
 */
#ifndef RNNKIT_H
#define RNNKIT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

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
  int32_t input_size;    /* I >= 1 */
  int32_t hidden_size;   /* H >= 1 */
  int32_t output_size;   /* O >= 1 for jordan; ignored (= H) otherwise */
  int32_t layers;        /* L >= 1 */
  int32_t bidirectional; /* 0 or 1 */
} rk_stack_spec;

typedef struct rk_stack rk_stack;

/* Message of the last failure on the calling thread ("" if none). Never NULL. */
const char* rk_last_error(void);

/* --- runtime ------------------------------------------------------------------- */

/* The ISA path in use: "scalar", "avx2", "avx512", "neon", "wasm-simd128". */
const char* rk_isa(void);
/* Force an ISA path by name (for tests); RK_EINVAL if unknown or unsupported by this CPU. */
rk_status rk_force_isa(const char* name);
/* Threads used by the compute calls: n >= 1; 0 means every core. */
rk_status rk_set_threads(int32_t n);
int32_t rk_get_threads(void);

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

#ifdef __cplusplus
}
#endif

#endif /* RNNKIT_H */
