// The global operator new / delete of the WebAssembly module (empty natively, where the C++
// runtime's throw std::bad_alloc as they should).
//
// Why: the runtime's operator new passed on whatever the allocator gave, and Emscripten 3.1.6's
// can give a block past the end of memory (wasm_memory.h): std::vector's fill then trapped and
// the trap ended the module for every model of the process. Replaced here (the standard lets a
// program replace them), every block is checked with rk::inside_memory and a failure goes
// through rk::out_of_memory(), which the entries report as RK_ENOMEM (error.h).
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
