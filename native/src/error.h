// Per-thread error message behind rk_last_error(): every C ABI entry that fails sets it.
#ifndef RNNKIT_ERROR_H
#define RNNKIT_ERROR_H

#include <cstdio>
#include <exception>
#include <new>

#include "wasm_memory.h"

#include "rnnkit.h"

namespace rk {

// Sets the calling thread's message (printf format; truncated to 511 bytes).
void set_error(const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
// Sets the message and returns code, so that `return rk::fail(RK_EINVAL, "...")` reads well.
rk_status fail(rk_status code, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void clear_error();
const char* last_error();

// Formats a message into per-thread storage of its own: the checks that return a message
// (nullptr = fine) use it, one Slot per source file, since one file's message may be an
// argument of another's ("stack: %s").
template <int Slot, typename... A>
const char* message(const char* fmt, A... a) {
  thread_local char text[256];
  std::snprintf(text, sizeof text, fmt, a...);
  return text;
}
enum MessageSlot { kLayoutMessages, kModelDimsMessages, kModelMessages };

// Runs `body` (returning rk_status) at a C ABI entry, turning any C++ exception into a
// status code and message: no exception ever crosses rnnkit.h.
template <typename F>
rk_status guarded(const char* what, F&& body) {
  t_allocation_failed = false;
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(RK_ENOMEM, "%s: out of memory", what);
  } catch (const std::exception& e) {
    if (t_allocation_failed) return fail(RK_ENOMEM, "%s: out of memory", what);
    return fail(RK_EINTERNAL, "%s: internal error: %s", what, e.what());
  } catch (...) {
    if (t_allocation_failed) return fail(RK_ENOMEM, "%s: out of memory", what);
    return fail(RK_EINTERNAL, "%s: internal error", what);
  }
}

}  // namespace rk

#endif
