#!/usr/bin/env bash
# Creates .cache/wandb-venv with the pinned W&B client (test/wandb/requirements.txt), once: the
# venv is kept in the checkout between runs and rebuilt only when the requirements change.
# A failed download is retried once, then reported in one line naming what could not be fetched.
set -uo pipefail
cd "$(dirname "$0")/../.."
VENV=.cache/wandb-venv
REQ=test/wandb/requirements.txt
STAMP=$VENV/.requirements
pinned=$(grep -v '^#' "$REQ" | tr '\n' ' ' | sed 's/ *$//')
if [ -x "$VENV/bin/python" ] && cmp -s "$REQ" "$STAMP"; then exit 0; fi
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv python3-pip) >/dev/null 2>&1 \
    || { echo "could not install python3-venv (apt) to create the W&B client's virtual environment"; exit 1; }
fi
rm -rf "$VENV"
python3 -m venv "$VENV" || { echo "python3 -m venv $VENV failed"; exit 1; }
log=$(mktemp)
for attempt in 1 2; do
  if "$VENV/bin/pip" install --disable-pip-version-check -q -r "$REQ" >"$log" 2>&1; then
    cp "$REQ" "$STAMP"; rm -f "$log"; exit 0
  fi
  [ $attempt = 1 ] && sleep 5
done
echo "could not fetch $pinned from PyPI: $(grep -iE 'error|could not' "$log" | tail -1 | cut -c1-200)"
rm -f "$log"
exit 1
