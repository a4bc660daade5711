#!/usr/bin/env bash
# Stops what up.sh started in DIR (PostgreSQL by pg_ctl on its data dir, Ceph daemons by their pid files).
HERE=$(cd "$(dirname "$0")" && pwd)
D=${1:?usage: down.sh DIR}
bash "$HERE/pg-down.sh" "$D/pg" 2>/dev/null
bash "$HERE/ceph-down.sh" "$D/ceph" 2>/dev/null
rm -f "$D/services.env"
exit 0
