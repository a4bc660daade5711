#!/usr/bin/env bash
# The language server: build the bundle (dist/server.js), run its tests over in-memory streams and
# stdio against real embedded stores and from headless Neovim (Debian's package, installed here
# when missing), then the latency benchmark (10,000 artifacts of 10 versions each, built through the
# Registry API on tmpfs by test/fixtures/manyArtifacts.ts, about two minutes) with its figures.
set -uo pipefail
cd "$(dirname "$0")/../.."
node esbuild.js || { echo "RESULT 0 1 (build)"; exit 1; }
status=0
if ! bash test/lsp/neovim/install.sh; then echo "RESULT 0 1 (neovim install)"; status=1; fi
bash test/stages/lib/node-tests.sh "language server tests" --test-timeout=300000 --test-concurrency=1 test/lsp/*.test.ts || status=1
echo "--- language server benchmark (targets: hover <= 20 ms, completion <= 30 ms, diagnostics of 5,000 lines <= 100 ms)"
if node --import tsx test/bench/lsp-bench.ts; then echo "RESULT 1 0 (lsp benchmark targets)"; else echo "RESULT 0 1 (lsp benchmark targets)"; status=1; fi
exit $status
