// Check helpers shared by the C ABI test programs (api_test.cc, model_api_test.cc): each
// failed check prints a line and counts; the program exits non-zero if any failed.
#ifndef RNNKIT_TEST_EXPECT_H
#define RNNKIT_TEST_EXPECT_H

#include <cstdio>
#include <cstring>

#include "rnnkit.h"

static int failures = 0;
static int checks = 0;

static void expect(bool ok, const char* what) {
  checks++;
  if (!ok) {
    std::printf("FAIL: %s\n", what);
    failures++;
  }
}

// status == want and the message mentions `needle`.
static void expect_status(rk_status got, rk_status want, const char* needle, const char* what) {
  checks++;
  const char* msg = rk_last_error();
  const bool ok = got == want && msg != nullptr && std::strstr(msg, needle) != nullptr;
  if (!ok) {
    std::printf("FAIL: %s: status %d (want %d), message \"%s\" (want it to mention \"%s\")\n", what, got, want,
                msg ? msg : "(null)", needle);
    failures++;
  }
}

#endif
