// Saturating int64 arithmetic for sizes: a product or sum past INT64_MAX reads INT64_MAX, so
// comparing the result with a limit (RK_MAX_PARAMS, RK_MAX_ELEMENTS) is always right, on
// every target, whatever the caller's numbers. Operands are sizes: never negative.
#ifndef RNNKIT_CHECKED_H
#define RNNKIT_CHECKED_H

#include <cstdint>

namespace rk {

constexpr int64_t kSizeSaturated = INT64_MAX;

constexpr int64_t sat_mul(int64_t a, int64_t b) {
  return a != 0 && b > kSizeSaturated / a ? kSizeSaturated : a * b;
}

constexpr int64_t sat_add(int64_t a, int64_t b) { return a > kSizeSaturated - b ? kSizeSaturated : a + b; }

template <typename... Rest>
constexpr int64_t sat_mul(int64_t a, int64_t b, Rest... rest) {
  return sat_mul(sat_mul(a, b), rest...);
}

}  // namespace rk

#endif
