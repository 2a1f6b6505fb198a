// Whether an allocation lies inside the WebAssembly module's memory (always, natively).
//
// emmalloc (Emscripten 3.1.6), asked for more than the 4 GiB address space has left, can hand
// out a block reaching past the end of memory (seen: 960 MB at 3.68 GB): its first write
// trapped, and the trap ended the module for every model of the process. Allocations check
// their block with this and refuse one outside (std::bad_alloc: RK_ENOMEM) — leaving it
// allocated, so that the allocator never hands it out again.
#ifndef RNNKIT_WASM_MEMORY_H
#define RNNKIT_WASM_MEMORY_H

#include <cstddef>
#include <cstdint>
#include <new>

namespace rk {

// What rnnkit's own allocations throw when memory runs out (a std::bad_alloc).
struct OutOfMemory : std::bad_alloc {
  const char* what() const noexcept override { return "out of memory"; }
};

// Set by an allocation of ours that fails, read by the C ABI entries (error.h guarded): in the
// LTO-linked WebAssembly module the exception reached their catch (...), not the catch of
// std::bad_alloc, and was reported as an internal error. The flag says what it was, however
// the C++ runtime matched it.
inline thread_local bool t_allocation_failed = false;

[[noreturn]] inline void out_of_memory() {
  t_allocation_failed = true;
  throw OutOfMemory();
}

inline bool inside_memory(const void* p, std::size_t size) {
#if defined(__wasm__)
  const std::uint64_t end = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p)) + size;
  return end <= static_cast<std::uint64_t>(__builtin_wasm_memory_size(0)) * 65536u;
#else
  (void)p;
  (void)size;
  return true;
#endif
}

}  // namespace rk

#endif
