#!/bin/sh
# Builds native/test/gemm_test.cc with the sources and per-ISA flags of native/sources.json
# (g++ -O3 as the shipped builds, no CMake) and runs it. Arguments go to the program: `bench [isa...]` for the
# GFLOP/s table. Exit status is the test's (non-zero on any failure).
#   CXX=clang++ OPT=-O2 OUT=/tmp/dir native/test/run-gemm-test.sh
#   native/test/run-gemm-test.sh --wasm [bench]   same test as WebAssembly (em++, node)
#   native/test/run-gemm-test.sh --wasm-relaxed   the relaxed-SIMD build (isa.wasm units with
#     -mrelaxed-simd by clang-16, as wasm/build.mjs; linked without binaryen; run under node
#     --experimental-wasm-relaxed-simd). Needs apt-get install clang-16
#   native/test/run-gemm-test.sh --aarch64          NEON path, cross-compiled and run under
#     qemu (apt-get install g++-aarch64-linux-gnu qemu-user); slow, takes minutes
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-${TMPDIR:-/tmp}/rnnkit-gemm-test}
cxx=${CXX:-g++}
opt=${OPT:--O3}
mkdir -p "$out"

relaxed=""
if [ "${1:-}" = "--wasm" ] || [ "${1:-}" = "--wasm-relaxed" ]; then
  [ "$1" = "--wasm-relaxed" ] && relaxed=1
  shift
  arch=wasm
  cxx=em++
  # Debian's emscripten needs these to find its Python and node modules.
  export EMSDK_PYTHON="${EMSDK_PYTHON:-/usr/bin/python3}" NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
  out="$out-wasm${relaxed:+-relaxed}"
  mkdir -p "$out"
elif [ "${1:-}" = "--aarch64" ]; then
  shift
  arch=aarch64
  cxx=aarch64-linux-gnu-g++
  out="$out-aarch64"
  mkdir -p "$out"
else
  arch=$(uname -m)
fi

case "$arch" in
  wasm) ;;
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) arch=none ;;
esac

# One line per translation unit: "<source> <extra flags...>".
node -e '
const s = require(process.argv[1]);
const arch = process.argv[2];
const defs = ((s.defines || {})[arch] || []).map((d) => "-D" + d);
const lines = [];
// Only the low layer from "common" (the cells and the C ABI are tested elsewhere).
const low = /^native\/src\/((error|dispatch|threadpool)\.cc|gemm\/)/;
for (const f of s.common.filter((f) => low.test(f))) lines.push([f, ...defs].join(" "));
for (const f of s.isa.all) lines.push([f, ...defs].join(" "));
// The relaxed build adds -mrelaxed-simd to the units with -msimd128 (wasm/build.mjs).
const relaxed = process.argv[3] === "1";
for (const v of Object.values(s.isa[arch] || {})) {
  for (const f of v.sources) lines.push([f, ...v.flags, ...(relaxed && v.flags.includes("-msimd128") ? ["-mrelaxed-simd"] : []), ...defs].join(" "));
}
lines.push(["native/test/gemm_test.cc", ...defs].join(" "));
console.log(lines.join("\n"));
' "$root/native/sources.json" "$arch" "$relaxed" > "$out/units.txt"

objs=""
while read -r src flags; do
  obj="$out/$(echo "$src" | tr '/' '_').o"
  objs="$objs $obj"
  # clang-16 for the relaxed-SIMD units: LLVM 14 knows only the pre-standard opcodes.
  case "$flags" in *-mrelaxed-simd*) pre="EM_CLANG_ADD_VERSION=16 EM_LLVM_ADD_VERSION=16 " ;; *) pre="" ;; esac
  echo "$pre$cxx -std=c++17 $opt -Wall -Wextra -I$root/native/include -I$root/native/src $flags -c $root/$src -o $obj"
done < "$out/units.txt" > "$out/compile.txt"
# Two jobs at most: the machine is shared.
xargs -P 2 -I CMD sh -c 'CMD' < "$out/compile.txt"

# An ISA unit must not define weak code (inline/template functions, COMDAT): the linker keeps one
# copy program-wide, and if that is the AVX unit's copy, common code runs AVX instructions
# on CPUs without them. See native/src/isa/kernels.inc.
if [ "$arch" = x64 ] && command -v nm > /dev/null; then
  for obj in "$out"/native_src_isa_*.o; do
    weak=$(nm -C "$obj" | grep -E ' W ' || true)
    if [ -n "$weak" ]; then
      echo "FAIL: $(basename "$obj") defines weak symbols (shared inline code compiled with ISA flags):" >&2
      echo "$weak" >&2
      exit 1
    fi
  done
fi
if [ "$arch" = wasm ] && [ -n "$relaxed" ]; then
  # No binaryen (108 refuses the standard relaxed opcodes): -O0 link, BigInt i64, metadata in Python.
  EMCC_READ_METADATA=python $cxx $objs -o "$out/gemm_test.js" -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=node -sWASM_ASYNC_COMPILATION=0 -sEXIT_RUNTIME=1 -sWASM_BIGINT=1
  echo '{"type": "commonjs"}' > "$out/package.json"
  exec node --experimental-wasm-relaxed-simd "$out/gemm_test.js" "$@"
fi
if [ "$arch" = wasm ]; then
  $cxx $objs -o "$out/gemm_test.js" -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=node -sWASM_ASYNC_COMPILATION=0 -sEXIT_RUNTIME=1
  # Emscripten writes CommonJS; inside the repository (OUT=build-...) the package's
  # "type": "module" would make node load it as an ES module, which fails.
  echo '{"type": "commonjs"}' > "$out/package.json"
  exec node "$out/gemm_test.js" "$@"
fi
if [ "$cxx" = aarch64-linux-gnu-g++ ]; then
  $cxx $opt $objs -o "$out/gemm_test" -pthread -static
  exec qemu-aarch64 "$out/gemm_test" "$@"
fi
$cxx $opt $objs -o "$out/gemm_test" -pthread
exec "$out/gemm_test" "$@"
