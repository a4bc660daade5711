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
# Tests cancelled because a before() hook failed (a server that did not start) count as failures.
bash test/stages/lib/node-tests.sh "team server tests" --test-timeout=300000 --test-concurrency=2 test/server/*.test.ts
