#!/usr/bin/env bash
# The README's quick start from a clean clone in a mode-700 folder, as a newcomer runs it
# (test/quickstart/): `npm start` with no display, and `npm test` limited to its server stage
# (the whole suite cannot run inside itself; CI runs it, as `.ci/run` = `npm test`, from its own
# clean clone). After stage 30, whose code-server harness it reuses.
set -uo pipefail
cd "$(dirname "$0")/../.."
bash test/e2e/install-harness.sh || { echo "RESULT 0 1 (harness install)"; exit 1; }
bash test/stages/lib/node-tests.sh "quick start" --test-timeout=1800000 --test-concurrency=1 test/quickstart/*.test.ts
