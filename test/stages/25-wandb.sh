#!/usr/bin/env bash
# The W&B door with the real `wandb` client: creates .cache/wandb-venv with the pinned client
# from PyPI (kept between runs), then runs test/wandb/*.test.ts against real `trove serve`
# processes on the embedded store.
set -uo pipefail
cd "$(dirname "$0")/../.."
node esbuild.js || { echo "RESULT 0 1 (build)"; exit 1; }
bash test/wandb/setup-venv.sh || { echo "RESULT 0 1 (W&B client)"; exit 1; }
unset TROVE_TEST_DATABASE_URL
bash test/stages/lib/node-tests.sh "W&B door with the real wandb client" --test-timeout=600000 --test-concurrency=2 test/wandb/*.test.ts
