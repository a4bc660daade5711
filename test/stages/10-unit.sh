#!/usr/bin/env bash
# Build, type-check, then the unit and integration tests of the core, store, SDK and CLI (plain Node).
set -uo pipefail
cd "$(dirname "$0")/../.."
node esbuild.js || { echo "RESULT 0 1"; exit 1; }
if npx tsc --noEmit -p .; then echo "RESULT 1 0 (typecheck)"; else echo "RESULT 0 1 (typecheck)"; fi
out=$(mktemp)
node --import tsx --test --test-timeout=300000 --test-concurrency=2 --test-reporter=spec test/unit/*.test.ts test/integration/*.test.ts 2>&1 | tee "$out"
pass=$(sed -n 's/^ℹ pass \([0-9]*\)/\1/p' "$out" | tail -1); fail=$(sed -n 's/^ℹ fail \([0-9]*\)/\1/p' "$out" | tail -1)
# Tests cancelled because a before() hook failed count as failures.
cancelled=$(sed -n 's/^ℹ cancelled \([0-9]*\)/\1/p' "$out" | tail -1); fail=$(( ${fail:-1} + ${cancelled:-0} ))
echo "RESULT ${pass:-0} ${fail:-1}"
rm -f "$out"
