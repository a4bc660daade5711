#!/usr/bin/env bash
# Trove the way people install it: the VSIX (`npm run package`: its contents, size, icon and
# marketplace README) and the npm package (`npm pack`, installed globally into a temporary prefix
# and into a new TypeScript project). Stage 30 installs the same VSIX into code-server.
set -uo pipefail
cd "$(dirname "$0")/../.."
bash test/stages/lib/node-tests.sh "VSIX and npm package" --test-timeout=600000 --test-concurrency=1 test/package/*.test.ts
