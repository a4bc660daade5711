#!/usr/bin/env bash
# The W&B door with the real `wandb` client: creates .cache/wandb-venv with the pinned client
# from PyPI (kept between runs), then runs test/wandb/*.test.ts against real `trove serve`
# processes on the embedded store.
set -uo pipefail
cd "$(dirname "$0")/../.."
node esbuild.js || { echo "RESULT 0 1 (build)"; exit 1; }
bash test/wandb/setup-venv.sh || { echo "RESULT 0 1 (W&B client)"; exit 1; }
unset TROVE_TEST_DATABASE_URL
out=$(mktemp)
node --import tsx --test --test-timeout=600000 --test-concurrency=2 --test-reporter=spec test/wandb/*.test.ts 2>&1 | tee "$out"
pass=$(sed -n 's/^ℹ pass \([0-9]*\)/\1/p' "$out" | tail -1); fail=$(sed -n 's/^ℹ fail \([0-9]*\)/\1/p' "$out" | tail -1)
cancelled=$(sed -n 's/^ℹ cancelled \([0-9]*\)/\1/p' "$out" | tail -1)
fail=$(( ${fail:-1} + ${cancelled:-0} ))
echo "RESULT ${pass:-0} ${fail}"
rm -f "$out"
[ "$fail" = 0 ]
