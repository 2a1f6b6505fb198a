// Flush-to-zero / denormals-are-zero for the threads that compute.
//
// Long sequences drive states and gradients into subnormal floats, which x86 processes
// up to ~100x slower. Every C ABI entry that computes holds a ScopedFlushDenormals for
// its duration (restoring the caller's mode on exit, so JavaScript's own float behaviour
// is untouched); pool workers set the mode once for their lifetime. Results differ from
// IEEE only for magnitudes below FLT_MIN (~1.2e-38).
// x86: MXCSR FTZ (bit 15) + DAZ (bit 6). aarch64: FPCR.FZ (bit 24). WebAssembly cannot
// change the mode: there the kernels flush explicitly where states are stored.
#ifndef RNNKIT_DENORMALS_H
#define RNNKIT_DENORMALS_H

#include <cstdint>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#include <xmmintrin.h>
#define RK_DENORMALS_X86 1
#elif defined(__aarch64__) && defined(__GNUC__)
#define RK_DENORMALS_ARM64 1
#endif

namespace rk {

inline std::uint64_t fp_mode_get() {
#if defined(RK_DENORMALS_X86)
  return _mm_getcsr();
#elif defined(RK_DENORMALS_ARM64)
  std::uint64_t v;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(v));
  return v;
#else
  return 0;
#endif
}

inline void fp_mode_set(std::uint64_t v) {
#if defined(RK_DENORMALS_X86)
  _mm_setcsr(static_cast<unsigned>(v));
#elif defined(RK_DENORMALS_ARM64)
  __asm__ __volatile__("msr fpcr, %0" : : "r"(v));
#else
  (void)v;
#endif
}

inline std::uint64_t fp_mode_with_flush(std::uint64_t v) {
#if defined(RK_DENORMALS_X86)
  return v | 0x8040u;
#elif defined(RK_DENORMALS_ARM64)
  return v | (std::uint64_t{1} << 24);
#else
  return v;
#endif
}

// Sets FTZ/DAZ on the calling thread for good (pool workers).
inline void flush_denormals_on_this_thread() { fp_mode_set(fp_mode_with_flush(fp_mode_get())); }

// Sets FTZ/DAZ for the scope, restores the previous mode at exit.
class ScopedFlushDenormals {
 public:
  ScopedFlushDenormals() : saved_(fp_mode_get()) {
    const std::uint64_t want = fp_mode_with_flush(saved_);
    if (want != saved_) fp_mode_set(want);
  }
  ~ScopedFlushDenormals() {
    if (fp_mode_get() != saved_) fp_mode_set(saved_);
  }
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

 private:
  std::uint64_t saved_;
};

}  // namespace rk

#endif
