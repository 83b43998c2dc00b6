#!/usr/bin/env bash
# A real PostgreSQL restart under order load (not run by CI: it restarts the machine's PostgreSQL cluster,
# which would break tests running at the same time). The service must answer every request while the
# database is away with a quick 503 problem (never hang, never 500), reconnect by itself, and afterwards the
# database must hold exactly the orders that were acknowledged.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/nongsan_outage REDIS_URL=redis://127.0.0.1:6379 bench/outage-postgres.sh
#
# Env: DURATION (wrk seconds, default 20), RESTART_AFTER (seconds into the load, default 6), CONNECTIONS
# (default 16). Needs `wrk`, `curl`, `psql` and `pg_ctlcluster` (Debian's PostgreSQL), run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-20}
RESTART_AFTER=${RESTART_AFTER:-6}
CONNECTIONS=${CONNECTIONS:-16}
[[ "${DATABASE_URL:-}" == postgres* ]] || { echo "set DATABASE_URL to a PostgreSQL database" >&2; exit 2; }
export DB_TIMEOUT_MS=${DB_TIMEOUT_MS:-1000}
source bench/lib.sh

header
seed_listings 2000
start
pid=$SERVER
orders_before=$(sql "SELECT count(*) FROM orders")

echo "== orders for ${DURATION}s (wrk -t2 -c$CONNECTIONS, 2 s client timeout); PostgreSQL restarted after ${RESTART_AFTER}s"
LISTINGS=2000 RUN_NONCE="$NONCE" wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 2s --latency \
    -s bench/wrk/orders.lua "$BASE" > "$DATA/wrk.outage" &
load=$!
sleep "$RESTART_AFTER"
restart_started=$(date +%s%N)
pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main restart
echo "PostgreSQL restarted in $(( ($(date +%s%N) - restart_started) / 1000000 )) ms"
ready_ms=
for _ in $(seq 1 200); do
    if curl -sf "$BASE/readyz" >/dev/null; then ready_ms=$(( ($(date +%s%N) - restart_started) / 1000000 )); break; fi
    sleep 0.05
done
echo "/readyz 200 again ${ready_ms:-never} ms after the restart began"
wait "$load"
cat "$DATA/wrk.outage"
sleep 1 # requests still in flight when wrk stopped

W="$DATA/wrk.outage"
created=$(grep '^statuses:' "$W" | tr ' ' '\n' | awk -F= '$1=="201" {print $2}' | grep . || echo 0)
orders_after=$(sql "SELECT count(*) FROM orders")
echo "statuses: $(grep '^statuses:' "$W" | cut -d' ' -f2-)   $(grep '^socket errors' "$W")"
echo "max latency: $(awk '/Latency/ {print $4; exit}' "$W")"
echo "database: $((orders_after - orders_before)) orders written, wrk saw $created × 201 (a few more may have been in flight when wrk stopped)"
echo "same server process throughout: $([[ "$(pgrep -f "$BIN serve" | head -1)" == "$pid" ]] && echo yes || echo NO)"
if grep -q 'panicked' "$DATA/server.log" || grep '^statuses:' "$W" | grep -q '500='; then echo "!! 500s or a panic"; log_tail; fi
