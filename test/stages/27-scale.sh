#!/usr/bin/env bash
# Scale: a 200,000-file manifest logged, diffed and downloaded through `trove serve` with the
# server's and the client's heaps capped (test/scale/). Minutes on two cores, so its own timeout.
set -uo pipefail
cd "$(dirname "$0")/../.."
node esbuild.js || { echo "RESULT 0 1 (build)"; exit 1; }
bash test/stages/lib/node-tests.sh "scale tests" --test-timeout=2400000 test/scale/*.test.ts
