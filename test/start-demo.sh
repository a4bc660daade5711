#!/usr/bin/env bash
# `npm start`: builds Trove, creates a demo workspace with an embedded store holding a small ML
# pipeline (demo/, git-ignored; made with the real CLI inside a git repository), then opens VS Code
# on it with the extension loaded: the desktop `code` when it is on PATH and there is a display,
# otherwise code-server (the real VS Code the tests install into .harness/) on 127.0.0.1, whose URL
# is printed; it serves until Ctrl+C. In VS Code's terminals the extension puts `trove` on PATH,
# with the demo store and project of the workspace settings.
# Env: TROVE_DEMO_PORT (default 8080).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. test/stages/lib/fetch-step.sh
[ -x node_modules/.bin/esbuild ] || fetch_step "the npm packages of package-lock.json (npm ci)" npm ci --no-audit --no-fund --loglevel=error
node esbuild.js
bash test/e2e/make-demo.sh "$ROOT/demo"
WS=$ROOT/demo/workspace

VERSION=$(node -p 'require("./package.json").version')

if command -v code >/dev/null 2>&1 && { [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "$(uname)" = Darwin ]; }; then
  echo "Opening VS Code on $WS with the extension from $ROOT"
  exec code --new-window --extensionDevelopmentPath="$ROOT" "$WS"
fi

bash test/e2e/install-harness.sh
PORT=${TROVE_DEMO_PORT:-8080}
RUN=$ROOT/.harness/demo-run
bash test/e2e/code-server.sh stop "$RUN" 2>/dev/null || true
rm -rf "$RUN"
mkdir -p "$RUN/exts"
# An extension folder linked into the extensions folder is loaded as if installed.
ln -s "$ROOT" "$RUN/exts/trove.trove-$VERSION"
trap 'bash "$ROOT/test/e2e/code-server.sh" stop "$RUN"; echo "code-server stopped"' EXIT
trap 'exit 0' INT TERM
bash test/e2e/code-server.sh start "$PORT" "$RUN"
echo
echo "Trove demo: open http://127.0.0.1:$PORT/?folder=$WS"
echo "(the Trove icon is in the activity bar; Ctrl+C here stops code-server)"
PGID=$(cat "$RUN/server.pid")
while kill -0 -- "-$PGID" 2>/dev/null; do sleep 2; done
