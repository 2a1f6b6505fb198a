// Dropout masks of one training step, drawn exactly as src/backend/reference/training/
// dropout.ts does, so that every backend drops the same elements: one xoshiro128** stream
// (seeded through SplitMix32 like src/init/random.ts) per step; first the input mask
// (one draw per element of the input rows, conditioning columns excluded), then one mask
// per layer output below the last; an element is kept when uniform() >= p (uniform with 53
// bits, compared in double) and then scaled by 1/(1 − p).
#ifndef RNNKIT_DROPOUT_H
#define RNNKIT_DROPOUT_H

#include <cstdint>

namespace rk {

class DropoutStream {
 public:
  explicit DropoutStream(uint32_t seed);
  // mask[n·stride + k] = keep or 0 for n < N, k < width (drawn in that order).
  void draw(double p, int64_t N, int width, int stride, float* mask);

 private:
  uint32_t s_[4];
};

}  // namespace rk

#endif
