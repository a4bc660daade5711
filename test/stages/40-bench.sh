#!/usr/bin/env bash
# The embedded store's benchmark against restic and cp -r (test/bench/registry-bench.ts), last so
# that nothing else runs beside it. It prints its table of figures and ratios for the record but
# does not count as a test: this machine's disk swings by a factor of ten from one minute to the
# next (see the README), and a figure that depends on it must not decide whether CI is green.
set -uo pipefail
cd "$(dirname "$0")/../.."
echo "NOT-A-TEST (the registry benchmark's figures are printed for the record; test/run-all.sh does not score this stage)"
if ! command -v restic >/dev/null; then
  echo "installing restic (the benchmark's peer)"
  . test/stages/lib/fetch-step.sh
  fetch_step "the Debian package restic" bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends restic'
fi
command -v restic >/dev/null || { echo "restic could not be installed; benchmark skipped"; exit 0; }
node esbuild.js --production >/dev/null || { echo "build failed; benchmark skipped"; exit 0; }
BENCH_REPEAT=${BENCH_REPEAT:-3} node --import tsx test/bench/registry-bench.ts || true
exit 0
