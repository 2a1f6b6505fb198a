#!/usr/bin/env bash
# Looks for new fuzz failures: runs the fuzz child (test/robustness/fuzz-child.mjs) with N
# random seeds on each backend given, and prints each failing seed with its replay command.
# The test suite itself runs fixed seeds only, so that CI's verdict is repeatable.
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
    result=$(timeout 300 node --max-old-space-size=2048 test/robustness/fuzz-child.mjs "$backend" "$seed" 1500 2>&1)
    status=$?
    if [ $status -ne 0 ] || grep -q '"failure"' <<< "$result"; then
      failed=1
      echo "FAILED $backend seed $seed (exit $status): replay with RNNKIT_FUZZ_SEED=$seed RNNKIT_BACKENDS=$backend npx vitest run test/robustness/fuzz.test.ts"
      grep -m1 '^RESULT' <<< "$result" | cut -c1-2000
    else
      echo "ok $backend seed $seed"
    fi
  done
done
exit $failed
