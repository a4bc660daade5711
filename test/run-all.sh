#!/usr/bin/env bash
# The whole test suite (the README's test command): installs what it needs, then runs each stage
# in test/stages/ (TROVE_STAGE_DIR) in name order. A stage prints lines
# "RESULT <passed> <failed> [<skipped>] [(label)]"; this script sums them and ends with
# "N passed, N failed, N skipped". A stage passes only when it exits 0, reports no failure and ran
# at least one test: a stage that exits non-zero without counting a failure, or that reports no
# test at all (unless it says "NOT-A-TEST <why>", as the benchmark stage does), counts as one
# failure. Exit code 0 only when nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.."
T0=$(date +%s)
if [ ! -x node_modules/.bin/esbuild ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  . test/stages/lib/fetch-step.sh
  fetch_step "the npm packages of package-lock.json (npm ci)" npm ci --no-audit --no-fund --loglevel=error \
    || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
fi
passed=0; failed=0; skipped=0
for stage in "${TROVE_STAGE_DIR:-test/stages}"/*.sh; do
  [ -n "${TROVE_STAGES:-}" ] && ! [[ "$(basename "$stage")" =~ ${TROVE_STAGES} ]] && continue
  echo "=== [$(( $(date +%s) - T0 ))s] stage $(basename "$stage")"
  out=$(mktemp)
  bash "$stage" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  p=$(awk '$1=="RESULT"{s+=$2} END{print s+0}' "$out"); f=$(awk '$1=="RESULT"{s+=$3} END{print s+0}' "$out")
  s=$(awk '$1=="RESULT" && $4 ~ /^[0-9]+$/ {s+=$4} END{print s+0}' "$out")
  # A stage that exits non-zero without counting a failure (it died, or a hook failed) counts as
  # one failure; so does a stage that ran no test at all.
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "stage $(basename "$stage") exited with $rc without reporting a failure: counted as one"; fi
  if [ $((p + f)) -eq 0 ] && ! grep -q '^NOT-A-TEST' "$out"; then f=1; echo "stage $(basename "$stage") ran no test: counted as one failure"; fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s)); rm -f "$out"
done
echo "=== [$(( $(date +%s) - T0 ))s] done"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
