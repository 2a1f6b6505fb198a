#!/usr/bin/env bash
# Proves the npm package installs its prebuild without compiling, and that an install
# which cannot compile still succeeds (falling back to wasm):
#
#   1. copies the working tree (without node_modules/build/dist) to a scratch directory,
#      runs `npm run build` and `npm run prebuilds` there, then `npm pack`;
#   2. installs the tarball into an empty project with a PATH that has node, npm and a
#      shell but NO compiler, make or python → the native backend must load from
#      node_modules/rnnkit/prebuilds/, and node_modules/rnnkit/build/ must not exist;
#   3. packs again WITHOUT prebuilds/ and installs that the same way → npm install must
#      still exit 0 (with the one-line notice) and rnnkit must run on wasm.
#
# Works in a scratch directory (RNNKIT_PACK_DIR, default a mktemp dir), so the checkout's
# build/ and prebuilds/ are untouched. Needs the npm registry or cache for the two
# runtime dependencies. Takes about two minutes (one node-gyp build).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${RNNKIT_PACK_DIR:-$(mktemp -d /tmp/rnnkit-pack.XXXXXX)}"
echo "== verify-pack in $work"
mkdir -p "$work"/{src,out,out-noprebuild,app,app-noprebuild,nocc}

# 1. source copy, TypeScript build, prebuild, pack
(cd "$repo" && tar --exclude=./node_modules --exclude=./build --exclude='./build-*' --exclude=./dist \
  --exclude=./prebuilds --exclude=./.git -cf - .) | tar -xf - -C "$work/src"
ln -s "$repo/node_modules" "$work/src/node_modules"
(cd "$work/src" && npm run build >"$work/build.log" 2>&1) || { tail -20 "$work/build.log"; exit 1; }
(cd "$work/src" && npm run prebuilds >"$work/prebuild.log" 2>&1) || { tail -20 "$work/prebuild.log"; exit 1; }
prebuild="$(ls "$work"/src/prebuilds/*/*.node)"
echo "prebuild: ${prebuild#"$work/src/"}"
# npm pack runs the package's prepack script (TypeScript and wasm builds) first.
pack() { # destination
  (cd "$work/src" && npm pack --pack-destination "$1" >"$1.log" 2>&1) || {
    tail -30 "$1.log"; echo "verify-pack: npm pack failed (log: $1.log)" >&2; exit 1; }
}
pack "$work/out"
mv "$work/src/prebuilds" "$work/prebuilds.aside"
pack "$work/out-noprebuild"
mv "$work/prebuilds.aside" "$work/src/prebuilds"

# A PATH with node, npm and basic tools but no compiler, make or python.
for c in node sh env ls cat grep head tail; do ln -sf "$(command -v "$c")" "$work/nocc/$c"; done
ln -sf "$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js" "$work/nocc/npm"
for c in cc c++ gcc g++ make python3; do
  if PATH="$work/nocc" command -v "$c" >/dev/null 2>&1; then echo "verify-pack: $c is still on the restricted PATH" >&2; exit 1; fi
done

cat >"$work/check.mjs" <<'EOF'
import { backendInfo } from 'rnnkit';
const info = await backendInfo();
const { resolveAddonPath } = await import('./node_modules/rnnkit/dist/src/backend/native.js');
let file = null;
try { file = resolveAddonPath(); } catch {}
console.log(JSON.stringify({ ...info, addon: file }));
EOF

install() { # dir tarball
  cp "$work/check.mjs" "$1/"
  echo '{"name":"app","version":"1.0.0","type":"module","private":true}' >"$1/package.json"
  (cd "$1" && PATH="$work/nocc" npm install --foreground-scripts --prefer-offline "$2" >"$1/install.log" 2>&1)
}

# 2. with the prebuild: loads it, compiles nothing
install "$work/app" "$work/out/rnnkit-"*.tgz || { cat "$work/app/install.log"; echo "verify-pack: npm install failed" >&2; exit 1; }
result="$(cd "$work/app" && PATH="$work/nocc" node check.mjs)"
echo "with prebuild:    $result"
[ ! -e "$work/app/node_modules/rnnkit/build" ] || { echo "verify-pack: build/ exists: something was compiled" >&2; exit 1; }
echo "$result" | grep -q '"backend":"native"' || { echo "verify-pack: native backend did not load" >&2; exit 1; }
echo "$result" | grep -q '/node_modules/rnnkit/prebuilds/' || { echo "verify-pack: the addon is not the prebuild" >&2; exit 1; }

# 3. without the prebuild and without a compiler: install succeeds, wasm runs
install "$work/app-noprebuild" "$work/out-noprebuild/rnnkit-"*.tgz || {
  cat "$work/app-noprebuild/install.log"; echo "verify-pack: npm install failed without a prebuild" >&2; exit 1; }
grep '^rnnkit: ' "$work/app-noprebuild/install.log" || { echo "verify-pack: no notice printed" >&2; exit 1; }
result="$(cd "$work/app-noprebuild" && PATH="$work/nocc" node check.mjs)"
echo "without prebuild: $result"
echo "$result" | grep -q '"backend":"wasm"' || { echo "verify-pack: expected the wasm backend" >&2; exit 1; }
echo "verify-pack: OK"
