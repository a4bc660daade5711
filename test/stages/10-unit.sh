#!/usr/bin/env bash
# Build, type-check, then the unit and integration tests of the core, store, SDK and CLI (plain Node).
set -uo pipefail
cd "$(dirname "$0")/../.."
node esbuild.js || { echo "RESULT 0 1"; exit 1; }
status=0
if npx tsc --noEmit -p .; then echo "RESULT 1 0 (typecheck)"; else echo "RESULT 0 1 (typecheck)"; status=1; fi
bash test/stages/lib/node-tests.sh "unit and integration tests" --test-timeout=300000 --test-concurrency=2 \
  test/unit/*.test.ts test/integration/*.test.ts || status=1
exit $status
