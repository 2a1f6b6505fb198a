#include "dropout.h"

#include <cmath>

namespace rk {

namespace {

inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

// One xoshiro128** step on a state held by the caller (in registers inside draw()'s loop:
// the stream is a serial chain, so its speed is the speed of that chain).
inline uint32_t xoshiro_next(uint32_t& s0, uint32_t& s1, uint32_t& s2, uint32_t& s3) {
  const uint32_t result = rotl(s1 * 5u, 7) * 9u;
  const uint32_t t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl(s3, 11);
  return result;
}

}  // namespace

DropoutStream::DropoutStream(uint32_t seed) {
  uint32_t x = seed;
  for (uint32_t& s : s_) {
    // SplitMix32 over a Weyl sequence (random.ts's constructor).
    x += 0x9e3779b9u;
    uint32_t z = x;
    z = (z ^ (z >> 16)) * 0x85ebca6bu;
    z = (z ^ (z >> 13)) * 0xc2b2ae35u;
    s = z ^ (z >> 16);
  }
  if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
}

void DropoutStream::draw(double p, int64_t N, int width, int stride, float* mask) {
  const float keep = static_cast<float>(1.0 / (1.0 - p));
  // uniform() >= p in integers: uniform() is X / 2^53 for the 53-bit X = hi·2^26 + lo, and
  // p·2^53 is exact in double, so the test is X >= ceil(p·2^53) -- the same elements kept,
  // without two conversions to double per draw.
  const uint64_t threshold = static_cast<uint64_t>(std::ceil(p * 9007199254740992.0));
  uint32_t s0 = s_[0], s1 = s_[1], s2 = s_[2], s3 = s_[3];
  for (int64_t n = 0; n < N; n++) {
    float* row = mask + n * stride;
    for (int k = 0; k < width; k++) {
      const uint64_t hi = xoshiro_next(s0, s1, s2, s3) >> 5;
      const uint64_t lo = xoshiro_next(s0, s1, s2, s3) >> 6;
      // A select, not a branch: the outcome is random, a branch would mispredict at rate ~p.
      row[k] = ((hi << 26) | lo) >= threshold ? keep : 0.0f;
    }
  }
  s_[0] = s0;
  s_[1] = s1;
  s_[2] = s2;
  s_[3] = s3;
}

}  // namespace rk
