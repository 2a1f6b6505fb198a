#include "dropout.h"

#include <cmath>

namespace rk {

namespace {

inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

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

uint32_t DropoutStream::next() {
  const uint32_t result = rotl(s_[1] * 5u, 7) * 9u;
  const uint32_t t = s_[1] << 9;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 11);
  return result;
}

double DropoutStream::uniform() {
  const uint32_t hi = next() >> 5;  // 27 bits
  const uint32_t lo = next() >> 6;  // 26 bits
  return (static_cast<double>(hi) * 67108864.0 + static_cast<double>(lo)) / 9007199254740992.0;
}

void DropoutStream::draw(double p, int64_t N, int width, int stride, float* mask) {
  const float keep = static_cast<float>(1.0 / (1.0 - p));
  // uniform() >= p in integers: uniform() is X / 2^53 for the 53-bit X = hi·2^26 + lo, and
  // p·2^53 is exact in double, so the test is X >= ceil(p·2^53) -- the same elements kept,
  // without two conversions to double per draw.
  const uint64_t threshold = static_cast<uint64_t>(std::ceil(p * 9007199254740992.0));
  for (int64_t n = 0; n < N; n++) {
    for (int k = 0; k < width; k++) {
      const uint64_t hi = next() >> 5;
      const uint64_t lo = next() >> 6;
      mask[n * stride + k] = ((hi << 26) | lo) >= threshold ? keep : 0.0f;
    }
  }
}

}  // namespace rk
