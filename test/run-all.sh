#!/usr/bin/env bash
# The whole test suite (the README's test command): installs what it needs, then runs each stage
# in test/stages/ in name order. A stage prints lines "RESULT <passed> <failed>"; this script sums
# them and ends with "N passed, N failed". Exit code 0 only when nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.."
T0=$(date +%s)
if [ ! -x node_modules/.bin/esbuild ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
fi
passed=0; failed=0
for stage in test/stages/*.sh; do
  [ -n "${TROVE_STAGES:-}" ] && ! [[ "$(basename "$stage")" =~ ${TROVE_STAGES} ]] && continue
  echo "=== [$(( $(date +%s) - T0 ))s] stage $(basename "$stage")"
  out=$(mktemp)
  bash "$stage" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  p=$(awk '$1=="RESULT"{s+=$2} END{print s+0}' "$out"); f=$(awk '$1=="RESULT"{s+=$3} END{print s+0}' "$out")
  # A stage that died without reporting counts as one failure.
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f)); rm -f "$out"
done
echo "=== [$(( $(date +%s) - T0 ))s] done"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
