#!/usr/bin/env bash
# End-to-end check of the language client in a real VS Code: code-server's extension host runs
# a test extension that calls startLanguageClient, and mocha checks diagnostics, hover,
# completion, code lens, definition and notebook cells. Needs the code-server harness that the
# extension's e2e set-up installs (test/e2e/install-harness.sh): CS_HOME (default
# $TROVE_HARNESS, else .harness/) holds node24/ and cs/node_modules/code-server.
# Prints "RESULT <passed> <failed>".
set -uo pipefail
cd "$(dirname "$0")/../../.."
CS_HOME=${CS_HOME:-${TROVE_HARNESS:-$PWD/.harness}}
if [ ! -x "$CS_HOME/node24/bin/node" ] || [ ! -f "$CS_HOME/cs/node_modules/code-server/out/node/entry.js" ]; then
  echo "No code-server harness in $CS_HOME (node24/, cs/node_modules/code-server); install it with test/e2e/install-harness.sh."
  echo "RESULT 0 1 (language client in code-server: no harness)"
  exit 1
fi
PORT=${CS_PORT:-8793}
if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then echo "RESULT 0 1 (port $PORT is already in use; set CS_PORT)"; exit 1; fi
H=$PWD/.harness/lsp-exthost
RUN=$(mktemp -d /tmp/trove-lsp-cs-XXXXXX)
node esbuild.js && node --import tsx test/lsp/exthost/prepare.ts "$H" || { echo "RESULT 0 1 (lsp e2e set-up)"; exit 1; }
mkdir -p "$RUN"/{ud/User,exts,xdg-config,xdg-data}
printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$PORT" > "$RUN/config.yaml"
cat > "$RUN/ud/User/settings.json" <<'JSON'
{ "workbench.startupEditor": "none", "chat.disableAIFeatures": true, "extensions.autoCheckUpdates": false,
  "update.mode": "none", "telemetry.telemetryLevel": "off", "security.workspace.trust.enabled": false, "git.enabled": false }
JSON
XDG_CONFIG_HOME=$RUN/xdg-config XDG_DATA_HOME=$RUN/xdg-data setsid "$CS_HOME/node24/bin/node" "$CS_HOME/cs/node_modules/code-server/out/node/entry.js" \
  --config "$RUN/config.yaml" --bind-addr "127.0.0.1:$PORT" --auth none --user-data-dir "$RUN/ud" --extensions-dir "$RUN/exts" \
  --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
  --reconnection-grace-time 10 --vscode-option enable-smoke-test-driver > "$RUN/server.log" 2>&1 < /dev/null &
CS_PID=$!
stop() { kill -- "-$CS_PID" 2>/dev/null; [ -n "${KEEP_RUN:-}" ] && echo "code-server files kept in $RUN" || rm -rf "$RUN"; }
trap stop EXIT
up=0
for _ in $(seq 1 240); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && { up=1; break; }; sleep 0.25; done
[ "$up" = 1 ] || { cat "$RUN/server.log"; echo "RESULT 0 1 (code-server did not start)"; exit 1; }
# The workbench's start-up chatter is noise here; the mocha report and the RESULT line stay.
CS_PORT=$PORT RESULT_LABEL="language client in code-server" node test/e2e/run-exthost.mjs "$H/ext" "$H/ext/out/test/index" "$H/workspace" 2>&1 \
  | grep --line-buffered -v -E '^\s+at |Creating a socket|connection token|AccountPolicyGate|AgentHost|Service Worker|builtin extensions cache|reconnection-grace'
exit "${PIPESTATUS[0]}"
