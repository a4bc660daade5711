#!/usr/bin/env bash
# Network steps (apt, npm, PyPI) for the test and demo scripts: source this file, then
#   fetch_step "<what is fetched>" <command> [args…]
# runs the command with its output kept in a log; when it fails it waits and tries once more
# (a mirror's hiccup, apt's lock held by another install), and when that fails too it prints one
# line, "could not fetch <what> (<the first line naming what failed>); log: <file>", and returns 1.
# TROVE_FETCH_RETRY_DELAY (seconds, default 10) sets the wait.
fetch_step() {
  local what=$1 log detail attempt
  shift
  log=$(mktemp "${TMPDIR:-/tmp}/trove-fetch.XXXXXX")
  for attempt in 1 2; do
    if "$@" > "$log" 2>&1; then
      rm -f "$log"
      return 0
    fi
    [ "$attempt" = 1 ] && sleep "${TROVE_FETCH_RETRY_DELAY:-10}"
  done
  # apt: "Failed to fetch URL", "Unable to locate package P"; npm: "npm error 404 … - GET URL",
  # "npm error network …"; pip: "No matching distribution found for P".
  detail=$(grep -m1 -oE 'Failed to fetch [^ ]+|Unable to locate package [^ ]+|npm (error|ERR!) (404|network|code E[A-Z]+).*|No matching distribution found for [^ ]+|Could not (resolve|find)[^.]*' "$log")
  [ -n "$detail" ] || detail=$(grep -v '^\s*$' "$log" | tail -1)
  echo "could not fetch $what (${detail:-exit status $?}); log: $log"
  return 1
}
