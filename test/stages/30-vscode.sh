#!/usr/bin/env bash
# The VS Code extension in a real VS Code: installs the harness (Debian chromium, Node 24 and
# code-server into .harness/, cached between runs), packages the VSIX (`npm run package`) and
# installs it into code-server with --install-extension as a user would, builds, creates fresh
# demo workspaces with the real CLI, starts code-server on 127.0.0.1:8090 with the smoke-test
# driver, then runs
#   (a) the mocha suites inside the extension host (test/exthost/, dist/extension-tests.js; the
#       development path, which loads the test bundle beside the extension), and
#   (b) the UI end-to-end test through Chromium against the installed VSIX (test/e2e/ui.e2e.mjs;
#       screenshots in test/e2e/screenshots/).
# Prints "RESULT <passed> <failed>" per part. code-server's process group is killed on exit.
# TROVE_EXTHOST_GREP=<regexp> runs only the extension-host tests whose title matches (the extension
# host inherits code-server's environment), e.g. TROVE_BIG_FILES=1000000
# TROVE_EXTHOST_GREP='Extension host memory' for the million-file memory test.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PORT=${TROVE_CS_PORT:-8090}
RUN=$ROOT/.harness/run-$$
T0=$(date +%s)
say() { echo "[30-vscode $(( $(date +%s) - T0 ))s] $*"; }

say "harness (cached after the first run)"
bash test/e2e/install-harness.sh || { echo "RESULT 0 1 (harness install)"; exit 1; }

# The 5,000-node lineage (about 5,000 versions) is written in the background, on tmpfs when there
# is one (a slow disk takes minutes for it), while the demo workspaces are made.
SWEEPS=$(mktemp -d /dev/shm/trove-sweeps-XXXXXX 2>/dev/null || mktemp -d)
node --import tsx test/e2e/make-scale-lineage.ts "$SWEEPS/store" --sweeps > "$SWEEPS/make.log" 2>&1 &
SWEEPS_PID=$!
# So is the 10,000-artifact project of 10 versions each (100,000 commits through the Registry API)
# that the tree's scale test opens (test/fixtures/manyArtifacts.ts).
# And one version of 200,000 files (TROVE_BIG_FILES=1000000 for the million) with a successor
# that changes 1% of them, for the extension host's memory budget (test/fixtures/bigVersion.ts).
MANY=$(mktemp -d /dev/shm/trove-many-XXXXXX 2>/dev/null || mktemp -d)
( node --import tsx test/fixtures/manyArtifacts.ts "$MANY/store" 10000 10 &&
  node --import tsx test/fixtures/bigVersion.ts "$MANY/big" "${TROVE_BIG_FILES:-200000}" ) > "$MANY/make.log" 2>&1 &
MANY_PID=$!

cleanup() {
  pkill -P "$MANY_PID" 2>/dev/null; kill "$SWEEPS_PID" "$MANY_PID" 2>/dev/null
  bash test/e2e/code-server.sh stop "$RUN/cs"
  rm -rf "$RUN" "$SWEEPS" "$MANY"
}
trap cleanup EXIT

say "VSIX: npm run package, then code-server --install-extension"
VERSION=$(node -p 'require("./package.json").version')
mkdir -p "$RUN"
npm run package --silent > "$RUN/package.log" 2>&1 || { cat "$RUN/package.log"; echo "RESULT 0 1 (npm run package)"; exit 1; }
grep -E 'DONE|WARNING' "$RUN/package.log"
bash test/e2e/code-server.sh install "$RUN/cs" "$ROOT/trove-$VERSION.vsix" || { echo "RESULT 0 1 (VSIX install)"; exit 1; }
EXT_INSTALLED="$RUN/cs/exts/trove.trove-$VERSION"
[ -f "$EXT_INSTALLED/dist/extension.js" ] || { echo "the VSIX did not install into $EXT_INSTALLED"; echo "RESULT 0 1 (VSIX install)"; exit 1; }

say "build (development bundles for the extension-host tests)"
node esbuild.js || { echo "RESULT 0 1 (build)"; exit 1; }

say "demo workspaces"
bash test/e2e/make-demo.sh "$RUN/exthost" > /dev/null || { echo "RESULT 0 1 (demo workspace)"; exit 1; }
node --import tsx test/e2e/make-scale-lineage.ts "$RUN/exthost/store" || { echo "RESULT 0 1 (scale lineage)"; exit 1; }
bash test/e2e/make-demo.sh "$RUN/ui" > /dev/null || { echo "RESULT 0 1 (demo workspace)"; exit 1; }
node --import tsx test/e2e/make-scale-lineage.ts "$RUN/ui/store" || { echo "RESULT 0 1 (scale lineage)"; exit 1; }
wait "$SWEEPS_PID" || { cat "$SWEEPS/make.log"; echo "RESULT 0 1 (5,000-node lineage)"; exit 1; }
cat "$SWEEPS/make.log"
ln -s "$SWEEPS/store" "$RUN/exthost/store-sweeps"
wait "$MANY_PID" || { cat "$MANY/make.log"; echo "RESULT 0 1 (10,000-artifact project, big version)"; exit 1; }
cat "$MANY/make.log"
ln -s "$MANY/store" "$RUN/exthost/store-many"
ln -s "$MANY/big" "$RUN/exthost/store-big"

# "Run Python File with Trove" runs python3 in a terminal: the pinned wandb client's, quiet, with
# its files under the run folder.
bash test/wandb/setup-venv.sh || { echo "RESULT 0 1 (W&B client)"; exit 1; }
mkdir -p "$RUN/wandb"
export VIRTUAL_ENV=$ROOT/.cache/wandb-venv PATH=$ROOT/.cache/wandb-venv/bin:$PATH WANDB_SILENT=true WANDB_ERROR_REPORTING=false WANDB_DIR=$RUN/wandb \
  WANDB_CACHE_DIR=$RUN/wandb/cache WANDB_CONFIG_DIR=$RUN/wandb/config WANDB_DATA_DIR=$RUN/wandb/data

say "code-server on 127.0.0.1:$PORT"
bash test/e2e/code-server.sh start "$PORT" "$RUN/cs" --vscode-option enable-smoke-test-driver || { echo "RESULT 0 1 (code-server start)"; exit 1; }

status=0
say "extension-host tests"
CS_PORT=$PORT SHOTS=$ROOT/test/e2e/screenshots node test/e2e/run-exthost.mjs "$ROOT" "$ROOT/dist/extension-tests" "$RUN/exthost/workspace" > "$RUN/exthost.log" 2>&1
rc=$?
# The workbench's own start-up chatter is noise here; the mocha report and RESULT line stay.
grep -v -E '^\s+at |Creating a socket|connection token|AccountPolicyGate|AgentHost|Service Worker|builtin extensions cache|reconnection-grace|authentication provider' "$RUN/exthost.log"
[ "$rc" -eq 0 ] || status=1

say "UI end-to-end test"
mkdir -p test/e2e/screenshots
rm -f test/e2e/screenshots/fail-*.png
CS_PORT=$PORT WS_FOLDER="$RUN/ui/workspace" STORE="$RUN/ui/store" EXT_INSTALLED="$EXT_INSTALLED" SHOTS="$ROOT/test/e2e/screenshots" \
  node test/e2e/ui.e2e.mjs || status=1
say "done (screenshots in test/e2e/screenshots/)"
exit $status
