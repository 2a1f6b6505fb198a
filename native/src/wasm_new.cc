// The global operator new / delete of the WebAssembly module (empty natively, where the C++
// runtime's throw std::bad_alloc as they should).
//
// Why: the module is compiled with -fwasm-exceptions, but the precompiled C++ runtime that
// Emscripten links does not throw through them: its operator new, out of memory, called
// abort(), which ends in the host's proc_exit (src/backend/wasm/module.ts) as a JavaScript
// exception. The entry's catch (...) (error.h) took that for an internal error — after an
// abort, with the module's state undefined: a session of 45M samples trapped ("memory access
// out of bounds") and broke every model of the process. Replaced here (the standard lets a
// program replace them), an allocation that fails throws rk::OutOfMemory (a std::bad_alloc) in the module's own
// exception handling: every entry reports RK_ENOMEM and the module stays usable. Each block
// is also checked to lie inside the memory (wasm_memory.h).
#if defined(__EMSCRIPTEN__)

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "wasm_memory.h"

namespace {


// Not inlined: under LTO, malloc next to a vector's zero-fill became a call to calloc, which
// the module does not link.
__attribute__((noinline)) void* allocate(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr || !rk::inside_memory(p, size)) rk::out_of_memory();
  return p;
}

__attribute__((noinline)) void* allocate_aligned(std::size_t size, std::align_val_t align) {
  std::size_t a = static_cast<std::size_t>(align);
  if (a < sizeof(void*)) a = sizeof(void*);
  // aligned_alloc wants a multiple of the alignment; rounding up must not wrap around.
  if (size > SIZE_MAX - a) rk::out_of_memory();
  std::size_t rounded = (size + a - 1) / a * a;
  void* p = std::aligned_alloc(a, rounded == 0 ? a : rounded);
  if (p == nullptr || !rk::inside_memory(p, rounded)) rk::out_of_memory();
  return p;
}

}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void* operator new(std::size_t size, std::align_val_t align) { return allocate_aligned(size, align); }
void* operator new[](std::size_t size, std::align_val_t align) { return allocate_aligned(size, align); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return std::malloc(size == 0 ? 1 : size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return std::malloc(size == 0 ? 1 : size); }

void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

#endif
