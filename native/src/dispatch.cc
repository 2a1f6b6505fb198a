// Chooses the kernel table once: RNNKIT_ISA (if set) or the best ISA this CPU and OS
// support (avx512 > avx2 > scalar on x86-64; neon on arm64; wasm-simd128 in wasm). rk_force_isa switches later (tests).
#include "dispatch.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "error.h"
#include "rnnkit.h"

#if defined(__x86_64__) || defined(_M_X64)
#define RK_X64 1
#if defined(_MSC_VER) && !defined(__clang__)
#include <immintrin.h>
#include <intrin.h>
#endif
#endif

namespace rk {
namespace {

#if defined(RK_X64)
#if defined(_MSC_VER) && !defined(__clang__)
// cpuid leaf 7 bits and the OS's XCR0 state mask (AVX needs XMM|YMM = 0x6; AVX-512 also
// opmask|ZMM_Hi256|Hi16_ZMM = 0xe0).
bool x64_feature(int which) {
  int r1[4], r7[4];
  __cpuid(r1, 1);
  const bool osxsave = (r1[2] >> 27) & 1;
  if (!osxsave) return false;
  const unsigned long long xcr0 = _xgetbv(0);
  __cpuidex(r7, 7, 0);
  const bool fma = (r1[2] >> 12) & 1;
  const bool avx2 = (r7[1] >> 5) & 1;
  const bool os_avx = (xcr0 & 0x6) == 0x6;
  if (which == 2) return os_avx && avx2 && fma;
  const bool f = (r7[1] >> 16) & 1, dq = (r7[1] >> 17) & 1, vl = (r7[1] >> 31) & 1;
  return os_avx && avx2 && fma && (xcr0 & 0xe6) == 0xe6 && f && dq && vl;
}
bool has_avx2() { return x64_feature(2); }
bool has_avx512() { return x64_feature(512); }
#else
// libgcc's __builtin_cpu_supports also checks that the OS saves the AVX / AVX-512 state.
bool has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
bool has_avx512() {
  __builtin_cpu_init();
  return has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512dq");
}
#endif
#endif

bool always() { return true; }

struct Entry {
  const char* name;  // null: the table's own name (only for tables safe to build on any CPU)
  const KernelTable* (*table)();
  bool (*supported)();
};

// Best first.
const Entry kEntries[] = {
#if defined(RK_X64)
    {"avx512", rk_kernels_avx512, has_avx512},
    {"avx2", rk_kernels_avx2, has_avx2},
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
    {"neon", rk_kernels_neon, always},
#endif
// Every wasm build compiles isa/wasm.cc with -msimd128 (sources.json), whatever flags
// this file gets; a module cannot probe for SIMD at run time (an engine without it
// rejects the whole module), so a build for such engines defines RNNKIT_NO_WASM_SIMD and
// leaves isa/wasm.cc out.
#if defined(__wasm__) && !defined(RNNKIT_NO_WASM_SIMD)
    // "wasm-simd128", or "wasm-relaxed-simd" in the module whose isa/wasm.cc is compiled
    // with -mrelaxed-simd (simd/f32-wasm.h); this file is the same object in both.
    {nullptr, rk_kernels_wasm, always},
#endif
    {"scalar", rk_kernels_scalar, always},
};

std::atomic<const KernelTable*> g_table{nullptr};
std::once_flag g_init;

const char* name_of(const Entry& e) { return e.name != nullptr ? e.name : e.table()->name; }

const Entry* find(const char* name) {
  for (const Entry& e : kEntries)
    if (std::strcmp(name_of(e), name) == 0) return &e;
  return nullptr;
}

const KernelTable* best() {
  for (const Entry& e : kEntries)
    if (e.supported()) return e.table();
  return rk_kernels_scalar();
}

void init() {
  const char* env = std::getenv("RNNKIT_ISA");
  if (env != nullptr && env[0] != '\0' && std::strcmp(env, "auto") != 0) {
    const Entry* e = find(env);
    if (e != nullptr && e->supported()) {
      g_table.store(e->table(), std::memory_order_release);
      return;
    }
#if !defined(RNNKIT_NODE_ADDON)
    // Not in the Node addon: its TypeScript side checks RNNKIT_ISA itself and refuses the
    // addon (rnnkit then runs on wasm), so "using <isa>" would be wrong there.
    std::fprintf(stderr, "rnnkit: RNNKIT_ISA=%s is %s; using %s\n", env,
                 e == nullptr ? "not an ISA built into this binary" : "not supported by this CPU",
                 best()->name);
#endif
  }
  g_table.store(best(), std::memory_order_release);
}

}  // namespace

const KernelTable* kernels() {
  const KernelTable* t = g_table.load(std::memory_order_acquire);
  if (t != nullptr) return t;
  std::call_once(g_init, init);
  return g_table.load(std::memory_order_acquire);
}

bool isa_supported(const char* name) {
  const Entry* e = name != nullptr ? find(name) : nullptr;
  return e != nullptr && e->supported();
}

bool force_isa(const char* name) {
  if (name == nullptr) return false;
  kernels();  // settle the initial choice first, so it never overwrites a forced one
  if (std::strcmp(name, "auto") == 0) {
    g_table.store(best(), std::memory_order_release);
    return true;
  }
  const Entry* e = find(name);
  if (e == nullptr || !e->supported()) return false;
  g_table.store(e->table(), std::memory_order_release);
  return true;
}

}  // namespace rk

extern "C" const char* rk_isa(void) { return rk::kernels()->name; }

extern "C" rk_status rk_force_isa(const char* name) {
  if (name == nullptr) return rk::fail(RK_EINVAL, "rk_force_isa: name is NULL");
  if (rk::force_isa(name)) return RK_OK;
  // Say what this binary and CPU offer, e.g. "avx512 (unsupported), avx2, scalar".
  char offer[160] = "";
  for (const auto& e : rk::kEntries) {
    const std::size_t used = std::strlen(offer);
    std::snprintf(offer + used, sizeof offer - used, "%s%s%s", used ? ", " : "", rk::name_of(e),
                  e.supported() ? "" : " (unsupported by this CPU)");
  }
  return rk::fail(RK_EINVAL, "rk_force_isa: '%s' is %s; available: %s", name,
                  rk::find(name) == nullptr ? "unknown" : "not supported by this CPU", offer);
}
