#!/usr/bin/env bash
# The language client in a real VS Code (after 30-vscode, which installs the code-server harness
# into .harness/): a test extension calls startLanguageClient in code-server's extension host and
# mocha checks diagnostics, hover, completion, code lens, definition and notebook cells.
set -uo pipefail
cd "$(dirname "$0")/../.."
H=${TROVE_HARNESS:-$PWD/.harness}
if [ ! -f "$H/cs/node_modules/code-server/out/node/entry.js" ] && [ -f test/e2e/install-harness.sh ]; then
  bash test/e2e/install-harness.sh || { echo "RESULT 0 1 (harness install)"; exit 1; }
fi
# Its own code-server port: TROVE_CS_PORT (as the 30-vscode stage) unless CS_PORT is given.
CS_HOME=$H CS_PORT=${CS_PORT:-${TROVE_CS_PORT:-8793}} bash test/lsp/exthost/run.sh
