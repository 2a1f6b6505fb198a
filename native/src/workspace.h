// Workspace arena: one aligned float buffer per use (a stack's tape, its scratch), carved
// into the arrays a call needs. A call first plans its arrays with a counting Carver
// (base = nullptr), grows the arena if the total exceeds its capacity — which happens only
// when T·B (or the stack) grows — and then carves the same arrays from the real buffer.
// Nothing is allocated inside the time loops.
#ifndef RNNKIT_WORKSPACE_H
#define RNNKIT_WORKSPACE_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "wasm_memory.h"

namespace rk {

// Every array starts on a 64-byte boundary (a cache line, an AVX-512 vector).
constexpr std::size_t kAlignFloats = 16;

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() { std::free(base_); }

  // Ensures room for `floats` floats. Contents are NOT preserved when it grows.
  void reserve(std::uint64_t floats) {
    if (floats <= cap_) return;
    // Sizes are planned in 64 bits; a 32-bit target (wasm) refuses what it cannot address.
    if (floats > (SIZE_MAX / sizeof(float)) / 2) out_of_memory();
    // Grow by at least half again so that slowly increasing sizes do not reallocate often.
    std::size_t want = floats + floats / 2;
    std::size_t bytes = want * sizeof(float);
    bytes = (bytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes);
    if (p != nullptr && !inside_memory(p, bytes)) p = nullptr;  // left allocated (wasm_memory.h)
    if (p == nullptr) {
      want = floats;
      bytes = (want * sizeof(float) + 63) / 64 * 64;
      p = std::aligned_alloc(64, bytes);
      if (p == nullptr || !inside_memory(p, bytes)) out_of_memory();
    }
    std::free(base_);
    base_ = static_cast<float*>(p);
    cap_ = want;
  }
  float* data() { return base_; }
  std::size_t capacity() const { return cap_; }

 private:
  float* base_ = nullptr;
  std::size_t cap_ = 0;
};

// Hands out consecutive aligned arrays from `base`; with base == nullptr it only counts.
class Carver {
 public:
  explicit Carver(float* base) : base_(base) {}
  float* take(std::uint64_t floats) {
    std::uint64_t at = used_;
    used_ += (floats + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
    return base_ ? base_ + at : nullptr;
  }
  std::uint64_t used() const { return used_; }

 private:
  float* base_;
  std::uint64_t used_ = 0;
};

}  // namespace rk

#endif
