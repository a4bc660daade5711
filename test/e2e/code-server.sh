#!/usr/bin/env bash
# Starts or stops code-server (the real VS Code: server + web workbench) from .harness/ on loopback.
#   code-server.sh start <port> <rundir> [extra code-server args…]
#   code-server.sh stop <rundir>
#   code-server.sh install <rundir> <file.vsix>   (as a user does: --install-extension, before start)
# It runs in its own session (setsid), so `stop` kills the whole process group: server, extension
# hosts, file watchers and the agent host. Config and data stay inside <rundir> (XDG_* set).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
H=${TROVE_HARNESS:-$ROOT/.harness}
case "${1:-}" in
  start)
    PORT=${2:?port}; RUN=${3:?rundir}; shift 3
    mkdir -p "$RUN"/{ud/User,exts,xdg-config,xdg-data}
    printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$PORT" > "$RUN/config.yaml"
    [ -f "$RUN/ud/User/settings.json" ] || cat > "$RUN/ud/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "chat.disableAIFeatures": true,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "telemetry.telemetryLevel": "off",
  "security.workspace.trust.enabled": false,
  "git.enabled": false,
  "workbench.colorTheme": "Default Dark Modern",
  "terminal.integrated.gpuAcceleration": "off",
  "remote.autoForwardPorts": false
}
JSON
    if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then echo "port $PORT is already in use"; exit 1; fi
    PATH=$H/node24/bin:$PATH XDG_CONFIG_HOME=$RUN/xdg-config XDG_DATA_HOME=$RUN/xdg-data \
      setsid node "$H/cs/node_modules/code-server/out/node/entry.js" \
      --config "$RUN/config.yaml" --bind-addr "127.0.0.1:$PORT" --auth none \
      --user-data-dir "$RUN/ud" --extensions-dir "$RUN/exts" \
      --disable-telemetry --disable-update-check --disable-workspace-trust \
      --disable-getting-started-override --reconnection-grace-time 10 "$@" \
      > "$RUN/server.log" 2>&1 < /dev/null &
    echo $! > "$RUN/server.pid"
    for i in $(seq 1 240); do
      if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then echo "code-server up on http://127.0.0.1:$PORT after $((i / 4))s (pgid $(cat "$RUN/server.pid"))"; exit 0; fi
      sleep 0.25
    done
    echo "code-server did not come up:"; tail -30 "$RUN/server.log"; exit 1
    ;;
  install)
    RUN=${2:?rundir}; VSIX=${3:?vsix}
    mkdir -p "$RUN"/{ud/User,exts,xdg-config,xdg-data}
    PATH=$H/node24/bin:$PATH XDG_CONFIG_HOME=$RUN/xdg-config XDG_DATA_HOME=$RUN/xdg-data \
      node "$H/cs/node_modules/code-server/out/node/entry.js" --user-data-dir "$RUN/ud" --extensions-dir "$RUN/exts" \
      --install-extension "$VSIX" < /dev/null
    ;;
  stop)
    RUN=${2:?rundir}
    P=$(cat "$RUN/server.pid" 2>/dev/null) || exit 0
    kill -TERM -- "-$P" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8; do kill -0 -- "-$P" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$P" 2>/dev/null || true
    rm -f "$RUN/server.pid"
    ;;
  *) echo "usage: code-server.sh start <port> <rundir> [args…] | stop <rundir> | install <rundir> <file.vsix>"; exit 2 ;;
esac
