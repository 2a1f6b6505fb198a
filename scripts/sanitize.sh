#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer (cmake-js, in
# build-sanitize/ — build/Release is left alone, and node-gyp's clean of build/ does not
# remove it) and runs the native conformance and
# addon tests against it. Exits non-zero on any test failure or sanitizer report.
#
#   scripts/sanitize.sh                   build, then test/conformance + test/native
#   scripts/sanitize.sh test/native/…     build, then only the given test paths
#   RNNKIT_SANITIZE_SKIP_BUILD=1          reuse the existing sanitized build
#   RNNKIT_SANITIZE_JOBS=n                compile jobs (default 2)
#
# How it works: node itself is not instrumented, so the sanitizer runtimes are preloaded
# (LD_PRELOAD) into every node process of the run, and the tests load the sanitized addon
# through RNNKIT_NATIVE_PATH (see src/backend/native/backend.ts). Leak detection is off: node
# keeps allocations alive until exit by design, which LeakSanitizer would report. Every
# report halts the process that hit it (halt_on_error, -fno-sanitize-recover=all) and is
# also written under build-sanitize/reports/, which must stay empty: a report in a process
# whose exit status got lost still fails the run. Child processes the tests start (the fuzz
# suite's, test/robustness/fuzz.test.ts) inherit the preload and RNNKIT_NATIVE_PATH, so they
# run the sanitized addon too (RNNKIT_FUZZ_SCALE scales the fuzz runs).
set -euo pipefail
cd "$(dirname "$0")/.."

out=build-sanitize
addon="$out/Release/rnnkit.node"
reports="$out/reports"
jobs="${RNNKIT_SANITIZE_JOBS:-2}"

if [ "${RNNKIT_SANITIZE_SKIP_BUILD:-}" != 1 ] || [ ! -f "$addon" ]; then
  echo "== sanitize: building $addon (address,undefined)"
  npx --no-install cmake-js compile --out "$out" -p "$jobs" \
    --CDRNNKIT_SANITIZE=address,undefined --CDRNNKIT_BUILD_TESTS=OFF >"$out.log" 2>&1 || {
    tail -40 "$out.log"
    echo "sanitize: the sanitized build failed (full log: $out.log)" >&2
    exit 1
  }
fi
[ -f "$addon" ] || { echo "sanitize: $addon was not built" >&2; exit 1; }

libasan="$(${CXX:-g++} -print-file-name=libasan.so)"
libubsan="$(${CXX:-g++} -print-file-name=libubsan.so)"
for lib in "$libasan" "$libubsan"; do
  [ -f "$lib" ] || { echo "sanitize: sanitizer runtime $lib not found (install the compiler's libasan/libubsan)" >&2; exit 1; }
done

rm -rf "$reports"
mkdir -p "$reports"
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(test/conformance test/native)

echo "== sanitize: RNNKIT_BACKENDS=native,reference vitest run ${tests[*]}"
status=0
env \
  LD_PRELOAD="$libasan $libubsan" \
  ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:log_path=$PWD/$reports/asan:detect_odr_violation=0" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$PWD/$reports/ubsan" \
  RNNKIT_NATIVE_PATH="$PWD/$addon" \
  RNNKIT_BACKENDS=native,reference \
  node node_modules/vitest/vitest.mjs run "${tests[@]}" || status=$?

if compgen -G "$reports/*" >/dev/null; then
  for f in "$reports"/*; do
    echo "---- sanitizer report $f"
    head -60 "$f"
  done
  echo "sanitize: FAILED — sanitizer reports above" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "sanitize: FAILED — the test run exited with $status" >&2
  exit "$status"
fi
echo "sanitize: clean (no sanitizer report; tests passed)"
