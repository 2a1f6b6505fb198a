#!/usr/bin/env bash
# Proves what the npm package ships and that it installs and runs without a compiler
# (npm run test:pack):
#
#   1. copies the working tree (without node_modules, build/, dist/, prebuilds/, wasm/dist/)
#      to a scratch directory and runs `npm pack` there: its prepack builds the TypeScript,
#      the prebuild (prebuildify) and the wasm. The tarball must contain
#      prebuilds/<platform>-<arch>/*.node, wasm/dist/rnnkit.wasm and dist/, and must not
#      contain native/test/, CMakeLists.txt or source maps;
#   2. installs it into an empty project with a PATH that has node, npm and a shell but NO
#      compiler, make or python → the native backend loads from node_modules/rnnkit/prebuilds/
#      and nothing was compiled (no node_modules/rnnkit/build/);
#   3. packs again WITHOUT prebuilds/ and installs that the same way → npm install exits 0
#      (with rnnkit's one-line notice) and rnnkit runs on wasm;
#   4. installs the first tarball with `npm install --ignore-scripts` (rnnkit's install
#      script never runs, as when a user's npm policy blocks it) → native from the prebuild;
#   5. then overwrites that prebuild with a file that cannot load (as on a system older than
#      the prebuild's glibc/libstdc++) → rnnkit runs on wasm.
#   In each project a small model trains one step and `npx rnnkit info` runs.
#
# Works in a scratch directory (RNNKIT_PACK_DIR, default a mktemp dir, removed on success
# unless RNNKIT_PACK_KEEP=1), so the checkout's build/, dist/ and prebuilds/ are untouched.
# Needs g++/make/python3 and em++ (Emscripten) for step 1, and the npm registry or cache for
# the runtime dependencies. Takes 2½–5 minutes on 2 shared cores (one addon build, one wasm
# build, three npm installs; measured 140 s and 261 s).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${RNNKIT_PACK_DIR:-$(mktemp -d /tmp/rnnkit-pack.XXXXXX)}"
start=$SECONDS
echo "== verify-pack in $work"
mkdir -p "$work"/{src,out,out-noprebuild,app,app-noprebuild,app-noscripts,nocc}
fail() { echo "verify-pack: $*" >&2; exit 1; }
export JOBS="${JOBS:-2}" # node-gyp's compile jobs (prebuildify runs node-gyp rebuild)

# 1. source copy, npm pack (prepack: TypeScript, prebuild, wasm), contents
(cd "$repo" && tar --exclude=./node_modules --exclude=./build --exclude='./build-*' --exclude=./dist \
  --exclude=./prebuilds --exclude=./wasm/dist --exclude='./rnnkit-model*' --exclude=./.git -cf - .) |
  tar -xf - -C "$work/src"
ln -s "$repo/node_modules" "$work/src/node_modules"
pack() { # destination [npm pack options]
  local dest=$1; shift
  (cd "$work/src" && npm pack --pack-destination "$dest" "$@" >"$dest.log" 2>&1) || {
    tail -30 "$dest.log"; fail "npm pack failed (log: $dest.log)"; }
  ls "$dest"/rnnkit-*.tgz
}
tgz="$(pack "$work/out")"
tar -tzf "$tgz" | sort >"$work/out.files"
echo "tarball: $(basename "$tgz"), $(du -k "$tgz" | cut -f1) KB, $(wc -l <"$work/out.files") files"
platform="$(node -p 'process.platform + "-" + process.arch')"
must() { grep -Eq "$1" "$work/out.files" || fail "the tarball has no $2"; }
must_not() { ! grep -Eq "$1" "$work/out.files" || fail "the tarball contains $2: $(grep -E "$1" "$work/out.files" | head -3 | tr '\n' ' ')"; }
must "^package/prebuilds/$platform/[^/]+\.node$" "prebuilds/$platform/*.node"
must '^package/wasm/dist/rnnkit\.wasm$' 'wasm/dist/rnnkit.wasm'
must '^package/wasm/dist/rnnkit-threads\.wasm$' 'wasm/dist/rnnkit-threads.wasm (what Node runs on wasm with several cores)'
must '^package/dist/src/backend/wasm/thread-worker\.js$' 'dist/src/backend/wasm/thread-worker.js (its workers)'
must '^package/dist/src/index\.js$' 'dist/src/index.js'
must '^package/dist/src/cli/main\.js$' 'dist/src/cli/main.js (the rnnkit command)'
must '^package/binding\.gyp$' 'binding.gyp (compiling where no prebuild matches)'
must '^package/scripts/native-sources\.cjs$' 'scripts/native-sources.cjs (binding.gyp needs it)'
must_not '^package/native/test/' 'native/test/'
must_not '\.map$' 'source maps (their .ts sources are not shipped)'
# A sourceMappingURL to a map that is not shipped: Vite's dev server prints a stack trace for each.
mapped="$(tar -xzOf "$tgz" --wildcards 'package/dist/*.js' | grep -c '^//# sourceMappingURL=' || true)"
[ "$mapped" = 0 ] || fail "$mapped shipped .js files end in a sourceMappingURL comment to a map the package does not have"

must_not '^package/(CMakeLists\.txt|test/|bench/|examples/|wasm/[^/]+\.mjs)' 'development files'
prebuild="$(grep -E "^package/prebuilds/$platform/" "$work/out.files" | sed 's|^package/||' | paste -sd' ')"
echo "contents: OK ($prebuild, wasm/dist/rnnkit.wasm, dist/; no native/test/, no maps)"
if command -v objdump >/dev/null; then
  need="$(objdump -T "$work/src/prebuilds/$platform/"*.node | grep -oE '\((GLIBC|GLIBCXX)_[0-9.]+\)' | tr -d '()' | sort -V | awk -F_ '{m[$1]=$0} END {print m["GLIBC"], m["GLIBCXX"]}')"
  echo "prebuild needs at least: $need"
fi

tgz_noprebuild="$(mv "$work/src/prebuilds" "$work/prebuilds.aside" && pack "$work/out-noprebuild" --ignore-scripts)"
mv "$work/prebuilds.aside" "$work/src/prebuilds"
! tar -tzf "$tgz_noprebuild" | grep -q '^package/prebuilds/' || fail "the second tarball still has prebuilds/"

# A PATH with node, npm and basic tools but no compiler, make or python.
for c in node sh env ls cat grep head tail; do ln -sf "$(command -v "$c")" "$work/nocc/$c"; done
ln -sf "$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js" "$work/nocc/npm"
ln -sf "$(dirname "$(readlink -f "$(command -v npm)")")/npx-cli.js" "$work/nocc/npx"
for c in cc c++ gcc g++ clang make python3 python em++; do
  if PATH="$work/nocc" command -v "$c" >/dev/null 2>&1; then fail "$c is still on the restricted PATH"; fi
done

# The backend in use, the addon file node-gyp-build resolves, and one training step.
cat >"$work/check.mjs" <<'EOF'
import { backendInfo, createModel } from 'rnnkit';
const info = await backendInfo();
const { resolveAddonPath } = await import('./node_modules/rnnkit/dist/src/backend/native/addon.js');
let addon = null;
try { addon = resolveAddonPath().replace(process.cwd() + '/', ''); } catch {}
const model = await createModel({ input: { kind: 'onehot', vocab: 5 }, cell: 'lstm', hiddenSize: 8, outputs: 5 });
const x = Array.from({ length: 40 }, (_, i) => i % 5);
const fit = await model.fit({ inputs: [x.slice(0, -1)], targets: [x.slice(1)] }, { epochs: 1, batchSize: 1, window: 8 });
const loss = fit.epochs.at(-1).loss;
if (!Number.isFinite(loss)) throw new Error(`training gave loss ${loss}`);
console.log(JSON.stringify({ backend: info.backend, isa: info.isa, addon, loss: Number(loss.toFixed(4)) }));
EOF

install() { # dir tarball [npm install options]
  local dir=$1 tarball=$2; shift 2
  cp "$work/check.mjs" "$dir/"
  echo '{"name":"app","version":"1.0.0","type":"module","private":true}' >"$dir/package.json"
  (cd "$dir" && PATH="$work/nocc" npm install --foreground-scripts --prefer-offline --no-audit --no-fund "$@" "$tarball" \
    >"$dir/install.log" 2>&1) || { cat "$dir/install.log"; fail "npm install $* failed in $dir"; }
}
result=''
run_checks() { # dir label expected-backend; leaves check.mjs's output in $result
  local dir=$1 cli
  result="$(cd "$dir" && PATH="$work/nocc" node check.mjs)" || fail "check.mjs failed in $dir"
  cli="$(cd "$dir" && PATH="$work/nocc" npx --no-install rnnkit info)" || fail "npx rnnkit info failed in $dir"
  printf '%-26s %s\n%-26s rnnkit info: %s\n' "$2:" "$result" "" "$cli"
  echo "$result" | grep -q "\"backend\":\"$3\"" || fail "$2: expected the $3 backend"
  echo "$cli" | grep -q "\"backend\":\"$3\"" || fail "$2: rnnkit info does not report $3"
}
script_notices() { grep -iE '^rnnkit: |allowScripts|install script|approve-scripts' "$1/install.log" | sed 's/^/    install log: /' || true; }

# 2. with the prebuild and no compiler: the prebuild loads, nothing is compiled
install "$work/app" "$tgz"
run_checks "$work/app" "2. prebuild, no compiler" native
script_notices "$work/app"
[ ! -e "$work/app/node_modules/rnnkit/build" ] || fail "node_modules/rnnkit/build/ exists: something was compiled"
echo "$result" | grep -q '"addon":"node_modules/rnnkit/prebuilds/' || fail "the addon that loads is not the shipped prebuild"

# 3. without the prebuild and without a compiler: install exits 0 with a notice, wasm runs
install "$work/app-noprebuild" "$tgz_noprebuild"
grep -q '^rnnkit: ' "$work/app-noprebuild/install.log" || fail "no rnnkit notice in the install log"
run_checks "$work/app-noprebuild" "3. no prebuild, no compiler" wasm
script_notices "$work/app-noprebuild"

# 4. install scripts disabled: the prebuild is found at run time by node-gyp-build
install "$work/app-noscripts" "$tgz" --ignore-scripts
! grep -q '^rnnkit: ' "$work/app-noscripts/install.log" || fail "rnnkit's install script ran despite --ignore-scripts"
run_checks "$work/app-noscripts" "4. --ignore-scripts" native
echo "$result" | grep -q '"addon":"node_modules/rnnkit/prebuilds/' || fail "--ignore-scripts: the addon is not the shipped prebuild"
[ ! -e "$work/app-noscripts/node_modules/rnnkit/build" ] || fail "build/ exists after --ignore-scripts"

# 5. a prebuild that matches but does not load (as on a system with an older glibc or
#    libstdc++ than it needs): rnnkit falls back to wasm at run time
for f in "$work/app-noscripts/node_modules/rnnkit/prebuilds/$platform/"*.node; do echo 'not an ELF file' >"$f"; done
run_checks "$work/app-noscripts" "5. prebuild fails to load" wasm

echo "verify-pack: OK in $((SECONDS - start)) s"
if [ -z "${RNNKIT_PACK_DIR:-}" ] && [ "${RNNKIT_PACK_KEEP:-}" != 1 ]; then rm -rf "$work"; fi
