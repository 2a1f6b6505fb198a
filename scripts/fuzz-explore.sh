#!/usr/bin/env bash
# Looks for new fuzz failures: runs the fuzz suite (test/robustness/fuzz.test.ts) in its
# replay mode with N random seeds on each backend given — the same child, runs and checks as
# the suite's fixed seeds — and prints each failing seed with its replay command. The suite
# itself runs fixed seeds only, so that CI's verdict is repeatable.
#   bash scripts/fuzz-explore.sh [N=10] [backends=native,wasm,reference]
# Needs a fresh dist/ (npx tsc -p tsconfig.build.json). Exit status 1 if any seed failed.
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
IFS=, read -r -a backends <<< "${2:-native,wasm,reference}"
failed=0
for backend in "${backends[@]}"; do
  for _ in $(seq 1 "$n"); do
    seed=$(node -e 'console.log(Math.floor(Math.random() * 2 ** 31))')
    replay="RNNKIT_FUZZ_SEED=$seed RNNKIT_BACKENDS=$backend npx vitest run test/robustness/fuzz.test.ts"
    if out=$(RNNKIT_FUZZ_SEED=$seed RNNKIT_BACKENDS=$backend npx vitest run test/robustness/fuzz.test.ts 2>&1); then
      echo "ok $backend seed $seed"
    else
      failed=1
      echo "FAILED $backend seed $seed: replay with $replay"
      grep -m3 -E 'property failed|AssertionError|Error:' <<< "$out"
    fi
  done
done
exit $failed
