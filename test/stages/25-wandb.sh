#!/usr/bin/env bash
# The W&B door with the real `wandb` client: creates .cache/wandb-venv with the pinned client
# from PyPI (kept between runs), then runs test/wandb/*.test.ts against real `trove serve`
# processes on the embedded store and on PostgreSQL + Ceph RGW (started here on loopback, ports
# from PGPORT, RGW_PORT, MON_V2_PORT, MON_V1_PORT like stage 20).
set -uo pipefail
cd "$(dirname "$0")/../.."
SVC=$PWD/.services/stage25
cleanup() { bash test/services/down.sh "$SVC"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
node esbuild.js || { echo "RESULT 0 1 (build)"; exit 1; }
bash test/wandb/setup-venv.sh || { echo "RESULT 0 1 (W&B client)"; exit 1; }
if ! bash test/services/up.sh "$SVC"; then echo "RESULT 0 1 (services)"; exit 1; fi
set -a; . "$SVC/services.env"; set +a
bash test/stages/lib/node-tests.sh "W&B door with the real wandb client" --test-timeout=600000 --test-concurrency=2 test/wandb/*.test.ts
