#!/usr/bin/env bash
# Order placement throughput, latency and statements per order (one guest order of one unit per request),
# then the 500-buyer race: 500 concurrent orders of 1 unit each for a listing of exactly 100 units.
# Statements per order: `db_statements_total` from /metrics (every statement the instance sent, BEGIN and
# COMMIT included) over the load, divided by the orders written; it includes the background loops (the
# outbox sending each order's messages). The order's own transaction alone is counted by the test
# `orders::a_guest_order_costs_a_few_statements`.
#
#   bench/orders.sh [listings]        SQLite (embedded default)
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/nongsan_bench_orders REDIS_URL=redis://127.0.0.1:6379 bench/orders.sh
#
# Env: DURATION (wrk seconds, default 15), CONNECTIONS (default 64), THREADS (wrk threads, default 2),
# RACE_BUYERS (default 500), RACE_STOCK (default 100).
# wrk runs on the same machine as the service (the load generator shares the cores). Needs `wrk`, `curl`, `jq`,
# and `sqlite3` or `psql` for the cross-check of what the database holds.
set -euo pipefail
cd "$(dirname "$0")/.."

LISTINGS=${1:-10000}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
RACE_BUYERS=${RACE_BUYERS:-500}
RACE_STOCK=${RACE_STOCK:-100}
source bench/lib.sh

header
seed_listings "$LISTINGS"

start
sleep 1
echo "idle RSS: $(rss)"
statements() { curl -sf "$BASE/metrics" | awk '$1 == "db_statements_total" {print $2}'; }
orders_before=$(sql "SELECT count(*) FROM orders")
statements_before=$(statements)
stock_before=$(sql "SELECT sum(quantity) FROM listings")

# -- 1. one order per request, random listings ------------------------------------------------------------------
echo "== POST /api/v1/orders (1 unit of a random listing in 1..$LISTINGS, guest, fresh Idempotency-Key), wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s"
( while kill -0 "$SERVER" 2>/dev/null; do ps -o rss= -p "$SERVER"; sleep 0.5; done ) > "$DATA/rss.orders" &
sampler=$!
LISTINGS="$LISTINGS" RUN_NONCE="$NONCE" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    -s bench/wrk/orders.lua "$BASE" > "$DATA/wrk.orders"
kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
cat "$DATA/wrk.orders"

W="$DATA/wrk.orders"
created=$(grep '^statuses:' "$W" | tr ' ' '\n' | awk -F= '$1=="201" {print $2}' | grep . || echo 0)
seconds=$(awk '/requests in/ {sub(/s,$/, "", $4); print $4}' "$W")
non2xx=$(awk '/Non-2xx/ {print $5}' "$W" | grep . || echo 0)
sleep 1 # let the requests still in flight when wrk stopped finish before counting
statements_after=$(statements)
orders_after=$(sql "SELECT count(*) FROM orders")
stock_after=$(sql "SELECT sum(quantity) FROM listings")
printf '%-26s %s req/s, %s orders placed (201) = %s orders/s   p50 %s   p99 %s   non-2xx %s   peak RSS %s MiB\n' \
    "orders ($BACKEND)" \
    "$(awk '/Requests\/sec/ {print $2}' "$W")" "$created" "$(awk -v n="$created" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}')" \
    "$(awk '$1=="50%" {print $2}' "$W")" "$(awk '$1=="99%" {print $2}' "$W")" "$non2xx" \
    "$(( $(sort -n "$DATA/rss.orders" | tail -1) / 1024 ))"
printf 'statements per order (%s): %s = %s statements during the load, background loops included / %s orders written\n' \
    "$BACKEND" "$(awk -v s=$((statements_after - statements_before)) -v n=$((orders_after - orders_before)) 'BEGIN {printf "%.1f", s / n}')" \
    "$((statements_after - statements_before))" "$((orders_after - orders_before))"
echo "database: $((orders_after - orders_before)) orders written, $((stock_before - stock_after)) units taken (wrk saw $created × 201; the rest were in flight when wrk stopped), $(sql "SELECT count(DISTINCT listing_id) FROM order_lines") distinct listings, $(sql "SELECT count(DISTINCT buyer_phone) FROM orders") distinct phones"
echo "RSS after the load: $(rss)"
if [[ "$non2xx" != 0 ]] || grep -q 'ERROR\|panicked' "$DATA/server.log"; then log_tail; fi

# -- 2. the race: RACE_BUYERS buyers, one unit each, for RACE_STOCK units ----------------------------------------
echo "== race: $RACE_BUYERS concurrent buyers, 1 unit each, listing of $RACE_STOCK units"
token=$(curl -sf -H 'Content-Type: application/json' -d '{"phone":"+84910000000","pin":"482915"}' \
    "$BASE/api/v1/auth/pin-login" | jq -r .token)
listing=$(curl -sf -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
    -d "{\"title\":\"Sầu riêng Ri6 cuộc đua\",\"price\":\"80k\",\"quantity\":\"$RACE_STOCK kg\"}" \
    "$BASE/api/v1/listings" | jq -r .id)
echo "listing $listing: quantity $(curl -sf "$BASE/api/v1/listings/$listing" | jq .quantity) before the race"
mkdir -p "$DATA/race"
start_ns=$(date +%s%N)
seq -f '%07g' 1 "$RACE_BUYERS" | xargs -P "$RACE_BUYERS" -I{} curl -s -o "$DATA/race/{}.json" -w '%{http_code}\n' \
    -H 'Content-Type: application/json' -H "Idempotency-Key: race-$NONCE-{}" \
    -d "{\"items\":[{\"listing_id\":$listing,\"quantity\":1}],\"buyer\":{\"name\":\"Khách\",\"phone\":\"+8491{}\"},\"address\":{\"ward_code\":24778,\"street\":\"12 Trần Phú\"}}" \
    "$BASE/api/v1/orders" > "$DATA/race.codes"
end_ns=$(date +%s%N)
final=$(curl -sf "$BASE/api/v1/listings/$listing" | jq .quantity)
echo "wall time: $(( (end_ns - start_ns) / 1000000 )) ms for $RACE_BUYERS requests"
start_ns=$(date +%s%N)
seq "$RACE_BUYERS" | xargs -P "$RACE_BUYERS" -I{} curl -s -o /dev/null "$BASE/healthz?{}"
echo "(the same $RACE_BUYERS curl processes against GET /healthz: $(( ($(date +%s%N) - start_ns) / 1000000 )) ms)"
echo "statuses: $(sort "$DATA/race.codes" | uniq -c | awk '{printf "%s×%s ", $1, $2}')"
echo "problem codes: $(cat "$DATA"/race/*.json | jq -r 'select(has("type") and has("title")) | .code' | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')"
echo "final quantity: $final (expected 0); database: $(sql "SELECT count(*) || ' order lines, ' || coalesce(sum(quantity), 0) || ' units' FROM order_lines WHERE listing_id = $listing") ordered"
if [[ "$(grep -c '^201$' "$DATA/race.codes" || true)" != "$RACE_STOCK" || "$final" != 0 ]] || grep -vq '^20[01]$\|^409$' "$DATA/race.codes"; then
    echo "!! race outcome differs from ${RACE_STOCK}×201 / $((RACE_BUYERS - RACE_STOCK))×409 / stock 0"
    for f in "$DATA"/race/*.json; do jq -e 'has("type") and .status != 409' "$f" >/dev/null 2>&1 && { echo "first other answer: $(cat "$f")"; break; }; done
    log_tail
fi
echo "RSS at the end: $(rss)"
