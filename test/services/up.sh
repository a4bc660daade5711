#!/usr/bin/env bash
# Starts the scale-out engines for the server tests and benchmark, on loopback only:
# PostgreSQL (Debian's postgresql-15) and a single-node Ceph with its S3 gateway (radosgw).
# Installs the Debian packages first when missing (fresh CI machine). Writes DIR/services.env.
# Usage: test/services/up.sh DIR   (ports from PGPORT, RGW_PORT, MON_V2_PORT, MON_V1_PORT)
# Stop with test/services/down.sh DIR.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
D=${1:?usage: up.sh DIR}
export PGPORT=${PGPORT:-54339} RGW_PORT=${RGW_PORT:-7490} MON_V2_PORT=${MON_V2_PORT:-3310} MON_V1_PORT=${MON_V1_PORT:-6799}
export DEBIAN_FRONTEND=noninteractive
need=()
for cmd in radosgw:radosgw ceph-mon:ceph-mon ceph-osd:ceph-osd ceph:ceph-common; do
  command -v "${cmd%%:*}" >/dev/null || need+=("${cmd##*:}")
done
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ "${WITH_RCLONE:-0}" = 1 ] && ! command -v rclone >/dev/null && need+=(rclone)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  . "$HERE/../stages/lib/fetch-step.sh"
  fetch_step "the Debian packages ${need[*]}" bash -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"' apt "${need[@]}"
fi
# Leftovers of an earlier run into the same folder (killed before its cleanup) hold the ports: stop them.
[ -d "$D" ] && bash "$HERE/down.sh" "$D"
mkdir -p "$D"
t0=$(date +%s)
bash "$HERE/pg-up.sh" "$D/pg" > "$D/pg-up.log" 2>&1 & PG=$!
bash "$HERE/ceph-up.sh" "$D/ceph" > "$D/ceph-up.log" 2>&1 & CE=$!
ok=1
wait $PG || { echo "PostgreSQL did not start:"; tail -20 "$D/pg-up.log"; ok=0; }
wait $CE || { echo "Ceph did not start:"; tail -20 "$D/ceph-up.log"; ok=0; }
[ $ok = 1 ] || exit 1
cat > "$D/services.env" <<ENV
TROVE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PGPORT/artifacts
TROVE_TEST_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
AWS_ACCESS_KEY_ID=${S3_ACCESS_KEY:-testaccess}
AWS_SECRET_ACCESS_KEY=${S3_SECRET_KEY:-testsecret}
AWS_REGION=us-east-1
ENV
echo "services up in $(( $(date +%s) - t0 )) s: PostgreSQL 127.0.0.1:$PGPORT, Ceph RGW http://127.0.0.1:$RGW_PORT"
