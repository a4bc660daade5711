#!/usr/bin/env bash
# Team server tests: starts PostgreSQL and Ceph RGW on loopback (installing them when missing),
# runs test/server/*.test.ts against real `trove serve` processes, and stops the services.
set -uo pipefail
cd "$(dirname "$0")/../.."
SVC=$PWD/.services/stage20
cleanup() { bash test/services/down.sh "$SVC"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
node esbuild.js || { echo "RESULT 0 1 (build)"; exit 1; }
if ! bash test/services/up.sh "$SVC"; then echo "RESULT 0 1 (services)"; exit 1; fi
set -a; . "$SVC/services.env"; set +a
out=$(mktemp)
node --import tsx --test --test-timeout=300000 --test-concurrency=2 --test-reporter=spec test/server/*.test.ts 2>&1 | tee "$out"
pass=$(sed -n 's/^ℹ pass \([0-9]*\)/\1/p' "$out" | tail -1); fail=$(sed -n 's/^ℹ fail \([0-9]*\)/\1/p' "$out" | tail -1)
# Tests cancelled because a before() hook failed (a server that did not start) count as failures.
cancelled=$(sed -n 's/^ℹ cancelled \([0-9]*\)/\1/p' "$out" | tail -1)
fail=$(( ${fail:-1} + ${cancelled:-0} ))
echo "RESULT ${pass:-0} ${fail}"
rm -f "$out"
[ "$fail" = 0 ]
