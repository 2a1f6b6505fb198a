// A recurrent stack: its parameters, gradients, workspace and the stacking logic
// (layers, bidirectional, lengths masking, the tape kept between forward and backward).
//
// Memory: two arenas per stack. The TAPE arena is written only by a training forward
// (keep != 0) and holds what the following backward reads; the WORK arena serves inference
// forwards (keep == 0) and backward's own scratch. So an inference forward between a
// training forward and its backward does not disturb the backward. Both arenas grow only
// when a call needs more than any call before (larger T·B), never inside a time loop.
// An inference forward keeps no tape: it runs each layer-direction in chunks of steps
// with one reused set of arrays, so its memory is bounded by the layer outputs.
//
// Packed weights: each layer-direction's W_ihᵀ and recurrent matrices are packed into the
// GEMM panel layout once and kept across calls (separately for forward and backward) until
// params() hands out the parameter pointer again or the kernel table changes.
//
// Arguments are validated by api.cc; these functions assume shapes are consistent and
// throw std::bad_alloc when memory runs out.
#ifndef RNNKIT_SEQUENCE_H
#define RNNKIT_SEQUENCE_H

#include <cstdint>
#include <vector>

#include "cells/cells.h"
#include "layout.h"
#include "workspace.h"

namespace rk {

struct ForwardCall {
  int T = 0, B = 0;
  const float* x = nullptr;        // [T][B][I]
  const float* h0 = nullptr;       // [L·D][B][S] or null (zeros)
  const float* c0 = nullptr;       // [L·D][B][H] or null (zeros); lstm cells
  const int32_t* lengths = nullptr;  // [B] in 0..T or null
  float* y = nullptr;              // [T][B][D·S] or null (not wanted)
  float* hn = nullptr;             // [L·D][B][S] or null
  float* cn = nullptr;             // [L·D][B][H] or null
  bool keep = false;
};

struct BackwardCall {
  const float* dy = nullptr;   // [T][B][D·S] (T, B of the kept forward) or null (zeros)
  const float* dhn = nullptr;  // or null (zeros)
  const float* dcn = nullptr;  // or null (zeros)
  float* dx = nullptr;         // or null (skip)
  float* dh0 = nullptr;        // or null (skip)
  float* dc0 = nullptr;        // or null (skip)
};

class Stack {
 public:
  explicit Stack(const StackDims& dims);

  const StackDims& dims() const { return dims_; }
  int64_t param_count() const { return layout_.total; }
  // Writable parameters. Handing out the pointer marks the packed copies of the weights
  // stale: the next compute call packs them again (see rnnkit.h, rk_stack_params).
  float* params();
  float* grads() { return grads_.data(); }
  void zero_grads();

  void forward(const ForwardCall& c);
  // Requires has_tape(); adds the parameter gradients into grads().
  void backward(const BackwardCall& c);
  bool has_tape() const { return tape_valid_; }
  int tape_steps() const { return tape_T_; }
  int tape_batch() const { return tape_B_; }

 private:
  // A keep == 0 forward of one layer-direction in chunks of `chunk` steps (see
  // sequence.cc), carrying the state from chunk to chunk through carry_h / carry_c.
  void run_chunked(const ForwardArgs& whole, int chunk, float* const carry_h[2], float* const carry_c[2],
                   const int32_t* lengths);

  struct LayerTape {
    const float* input = nullptr;  // [T·B][in]: x (copied) for layer 0, layer l−1's output above
    DirTape dirs[2];
  };

  StackDims dims_;
  ParamLayout layout_;
  std::vector<float> params_, grads_;
  Arena tape_arena_, work_arena_;
  // Packed weights per layer-direction, for forward and for backward; kept across calls
  // until params() is next called.
  std::vector<Packs> fwd_packs_, bwd_packs_;
  std::vector<int32_t> chunk_lengths_;  // lengths within one inference chunk
  // The kept forward.
  bool tape_valid_ = false;
  unsigned forwards_ = 0;  // calls so far: odd ones stream batch-1 weights reversed (ForwardArgs::flip)
  int tape_T_ = 0, tape_B_ = 0;
  bool tape_has_lengths_ = false;
  std::vector<int32_t> tape_lengths_;
  std::vector<LayerTape> tape_layers_;
};

}  // namespace rk

#endif
