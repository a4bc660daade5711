#!/usr/bin/env bash
# Installs Debian's neovim package (0.7.2 on Debian 12) when `nvim` is missing: the language
# server's Neovim test (test/lsp/neovim.test.ts) drives it. Tries twice (apt's lock may be held by
# another install for a while); on failure prints one line naming what could not be fetched and
# exits 1.
set -uo pipefail
command -v nvim >/dev/null && exit 0
if ! command -v apt-get >/dev/null; then
  echo "Neovim could not be installed: could not fetch the Debian package neovim (no apt-get on this machine; install Neovim 0.7 or later)"
  exit 1
fi
log=$(mktemp)
for attempt in 1 2; do
  echo "installing Debian's neovim package (attempt $attempt)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends neovim; } > "$log" 2>&1
  command -v nvim >/dev/null && { rm -f "$log"; exit 0; }
  [ "$attempt" = 1 ] && sleep "${TROVE_INSTALL_RETRY_DELAY:-15}"
done
what=$(grep -oE 'Failed to fetch [^ ]+' "$log" | sed 's/^Failed to fetch //' | sort -u | tr '\n' ' ')
[ -n "$what" ] || what=$(grep -m1 -E '^E: ' "$log" | sed 's/^E: //')
[ -n "$what" ] || what='the Debian package neovim'
rm -f "$log"
echo "Neovim could not be installed: could not fetch ${what% }"
exit 1
