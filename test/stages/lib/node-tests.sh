#!/usr/bin/env bash
# Runs `node --import tsx --test <args>` with the spec reporter, shows its output, and prints the
# stage's score as "RESULT <passed> <failed> <skipped> (<label>)". Exit code 0 only when the score
# has no failure. The score does not trust the summary alone:
#   - tests cancelled (a before() hook that failed) are failures;
#   - a runner that exits non-zero (a failing after() hook at the top of a file, a crash) is at
#     least one failure even when its summary counts none;
#   - a test file that registers no test (node counts the file itself as one passing test) is a
#     failure, and so is a run in which no test passed or failed at all;
#   - skipped and todo tests are counted as skipped (shown by test/run-all.sh, never as passed).
# Usage: bash test/stages/lib/node-tests.sh <label> <node --test arguments and files...>
set -uo pipefail
label=$1; shift
out=$(mktemp)
node --import tsx --test --test-reporter=spec "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
num() { sed -n "s/^ℹ $1 \([0-9]*\)/\1/p" "$out" | tail -1; }
pass=$(num pass); fail=$(num fail); cancelled=$(num cancelled); skipped=$(num skipped); todo=$(num todo)
pass=${pass:-0}; fail=$(( ${fail:-0} + ${cancelled:-0} )); skipped=$(( ${skipped:-0} + ${todo:-0} ))
notes=()
# With the spec reporter a file shows up as a top-level "✔ /path/to/x.test.ts" line only when it
# ran no test of its own (its tests are listed instead of it otherwise).
empty=$(grep -cE '^✔ .*\.test\.(ts|mts|js|mjs)( \([0-9.]+m?s\))?$' "$out")
if [ "$empty" -gt 0 ]; then
  grep -E '^✔ .*\.test\.(ts|mts|js|mjs)( \([0-9.]+m?s\))?$' "$out" | sed 's/^✔ \(.*\) (.*$/\1/; s/^/registers no test: /'
  pass=$(( pass > empty ? pass - empty : 0 )); fail=$(( fail + empty )); notes+=("$empty file(s) with no test")
fi
if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
  fail=1; notes+=("the test runner exited with $rc although no test failed: a hook or the runner itself failed")
fi
if [ $(( pass + fail )) -eq 0 ]; then
  fail=1; notes+=("no test ran")
fi
rm -f "$out"
for n in "${notes[@]+"${notes[@]}"}"; do echo "$label: $n"; done
echo "RESULT $pass $fail $skipped ($label)"
[ "$fail" -eq 0 ]
