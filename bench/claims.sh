#!/usr/bin/env bash
# Partner claims: 8 concurrent workers (one connection each) of 3 partners drain JOBS open fulfilment jobs with
# POST /api/v1/partner/jobs/claim until nothing is left, then the database is checked: every job claimed once.
#
#   bench/claims.sh                      SQLite (embedded default)
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/nongsan_bench_claims REDIS_URL=redis://127.0.0.1:6379 bench/claims.sh
#
# Env: JOBS (default 10000), WORKERS (default 8), CLAIM_LIMIT (jobs per claim request, default 1).
# Setup: demo farmers and 2,000 listings, every farmer switched to auto-accept (one SQL statement), then guest
# COD orders through the real API (bench/wrk/orders.lua) until JOBS jobs are open. The drain is what is timed.
# The load generators (wrk for the orders, benches/claim_drain.rs for the drain) run on the same machine as the
# service. Needs `wrk`, `curl`, `jq`, and `sqlite3` or `psql`.
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-10000}
WORKERS=${WORKERS:-8}
CLAIM_LIMIT=${CLAIM_LIMIT:-1}
source bench/lib.sh
cargo bench --bench claim_drain --no-run --quiet 2>/dev/null
DRAIN=$(ls -t target/release/deps/claim_drain-* | grep -v '\.d$' | head -1)

header
seed_listings 2000
sql "UPDATE users SET auto_accept = TRUE WHERE role = 'farmer'" >/dev/null
start
echo "idle RSS: $(rss)"

echo "== placing COD orders until $JOBS jobs are open"
while (( $(sql "SELECT count(*) FROM fulfilment_jobs WHERE status = 'available'") < JOBS )); do
    LISTINGS=2000 RUN_NONCE="$NONCE-$RANDOM" wrk -t2 -c16 -d2s -s bench/wrk/orders.lua "$BASE" >/dev/null
done
sleep 1 # orders still in flight when wrk stopped
open_jobs=$(sql "SELECT count(*) FROM fulfilment_jobs WHERE status = 'available'")
echo "open jobs: $open_jobs"

printf 'operator-password\n' | "$BIN" admin create-operator --name Bench --email "bench-$NONCE@nongsan.test" --password-stdin >/dev/null
operator=$(curl -sf -H 'Content-Type: application/json' -d "{\"login\":\"bench-$NONCE@nongsan.test\",\"password\":\"operator-password\"}" \
    "$BASE/api/v1/auth/login" | jq -r .token)
all_provinces=$(curl -sf "$BASE/api/v1/provinces" | jq -c '[.items[].code]')
keys=()
for name in "Bưu điện Việt Nam" "Viettel Post" "GHN"; do
    partner=$(curl -sf -H 'Content-Type: application/json' -H "Authorization: Bearer $operator" \
        -d "{\"name\":\"$name\",\"province_codes\":$all_provinces}" "$BASE/api/v1/admin/partners" | jq -r .id)
    keys+=("$(curl -sf -X POST -H "Authorization: Bearer $operator" "$BASE/api/v1/admin/partners/$partner/keys" | jq -r .key)")
done

echo "== drain: $WORKERS workers of 3 partners, $CLAIM_LIMIT job(s) per claim (benches/claim_drain.rs)"
( while kill -0 "$SERVER" 2>/dev/null; do ps -o rss= -p "$SERVER"; sleep 0.5; done ) > "$DATA/rss.claims" &
sampler=$!
BASE="$BASE" PARTNER_KEYS=$(IFS=,; echo "${keys[*]}") WORKERS="$WORKERS" CLAIM_LIMIT="$CLAIM_LIMIT" \
    "$DRAIN" | tee "$DATA/drain"
kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
claimed=$(awk '/^jobs claimed:/ {print $3}' "$DATA/drain")
echo "peak RSS during the drain: $(( $(sort -n "$DATA/rss.claims" | tail -1) / 1024 )) MiB"
echo "database: $(sql "SELECT count(*) FROM fulfilment_jobs WHERE status = 'claimed'") claimed, $(sql "SELECT count(*) FROM fulfilment_jobs WHERE status = 'available'") still open, by partner: $(sql "SELECT string_agg(n, ' ') FROM (SELECT partner_id || '=' || count(*) AS n FROM fulfilment_jobs WHERE status = 'claimed' GROUP BY partner_id) t" 2>/dev/null || sql "SELECT group_concat(n, ' ') FROM (SELECT partner_id || '=' || count(*) AS n FROM fulfilment_jobs WHERE status = 'claimed' GROUP BY partner_id)")"
if [[ "$claimed" != "$open_jobs" ]] || grep -q 'ERROR\|panicked' "$DATA/server.log"; then
    echo "!! the drain saw $claimed jobs claimed of $open_jobs open"; log_tail
fi
echo "RSS at the end: $(rss)"
