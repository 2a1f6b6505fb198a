#include "error.h"

#include <cstdarg>
#include <cstdio>

namespace rk {
namespace {
// Fixed buffer: setting an error never allocates (it may run after a failed allocation).
thread_local char g_message[512] = "";

void vset(const char* fmt, va_list ap) {
  std::vsnprintf(g_message, sizeof g_message, fmt, ap);
}
}  // namespace

void set_error(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vset(fmt, ap);
  va_end(ap);
}

rk_status fail(rk_status code, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vset(fmt, ap);
  va_end(ap);
  return code;
}

void clear_error() { g_message[0] = '\0'; }
const char* last_error() { return g_message; }

}  // namespace rk

extern "C" const char* rk_last_error(void) { return rk::last_error(); }
