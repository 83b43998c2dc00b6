#!/usr/bin/env bash
# The impact report at a million orders: seeds a fresh database with SQL bulk inserts (10,000 farmers in the
# communes of six provinces, 40% enrolled by 200 helpers, 50,000 listings, ORDERS orders over the past year,
# each with its shipment and, once accepted, its carrier job: 5% rejected, 5% expired, 10% under way, 80%
# delivered with cash collected), brings the rollups current (`nongsan rollups`, timed), then times the report
# for the past twelve months (and 365 days) by every group, and `/healthz` beside it, with sequential curl requests.
#
#   bench/report.sh [orders]             SQLite (embedded default)
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/nongsan_bench bench/report.sh
#
# Env: REQUESTS (per case, default 50). Needs sqlite3 or psql, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

ORDERS=${1:-1000000}
REQUESTS=${REQUESTS:-50}
FARMERS=10000
HELPERS=200
LISTINGS=50000
source bench/lib.sh

header
echo "== migrating and loading the reference data ($BACKEND)"
"$BIN" seed

# The first instant of the seeded year, and SQL snippets that differ between the backends.
T0=$(date -u -d '365 days ago' '+%Y-%m-%d %H:%M:%S')
if [[ "$BACKEND" == sqlite ]]; then
    ts() { echo "datetime('$T0', '+' || ($1) || ' seconds')"; }
    series() { echo "(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < $1 - 1) SELECT i FROM s) s"; }
    run_sql() { sqlite3 "$DATA/nongsan.db"; }
    analyze() { sqlite3 "$DATA/nongsan.db" 'ANALYZE;'; }
else
    ts() { echo "(TIMESTAMP '$T0' + ($1) * INTERVAL '1 second')"; }
    series() { echo "(SELECT generate_series(0::bigint, $1 - 1) AS i) s"; }
    run_sql() { psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL"; }
    analyze() { psql -q "$DATABASE_URL" -c 'ANALYZE;'; }
fi

echo "== seeding $ORDERS orders"
started=$SECONDS
run_sql <<SQL
BEGIN;
CREATE TABLE bench_wards AS SELECT row_number() OVER (ORDER BY code) - 1 AS n, code, province_code FROM wards
    WHERE province_code IN (SELECT code FROM provinces ORDER BY code LIMIT 6);
INSERT INTO teams (name, created_at) SELECT 'Tổ hỗ trợ ' || i, $(ts 0) FROM $(series 100);
INSERT INTO users (role, name, phone, email, ward_code, team_id, secret_hash, enrolled_by, consent_version, consent_at,
        created_at, updated_at, auto_accept, email_messages, text_messages, zalo_messages)
    SELECT 'helper', 'Cán bộ ' || i, NULL, 'bench-helper-' || i || '@nongsan.test', NULL,
        (SELECT MIN(id) FROM teams) + i % 100, 'x', NULL, NULL, NULL, $(ts 0), $(ts 0), FALSE, TRUE, TRUE, FALSE
    FROM $(series $HELPERS);
INSERT INTO users (role, name, phone, email, ward_code, team_id, secret_hash, enrolled_by, consent_version, consent_at,
        created_at, updated_at, auto_accept, email_messages, text_messages, zalo_messages)
    SELECT 'farmer', 'Nông dân ' || i, '+8498' || (1000000 + i), NULL, w.code, NULL, 'x',
        CASE WHEN i % 5 < 2 THEN (SELECT MIN(id) FROM users WHERE role = 'helper') + i % $HELPERS END,
        NULL, NULL, $(ts "(i * 3153) % 31536000"), $(ts "(i * 3153) % 31536000"), FALSE, TRUE, TRUE, FALSE
    FROM $(series $FARMERS) JOIN bench_wards w ON w.n = i % (SELECT COUNT(*) FROM bench_wards);
CREATE TABLE bench_farmers AS SELECT row_number() OVER (ORDER BY u.id) - 1 AS n, u.id, u.ward_code, w.province_code
    FROM users u JOIN wards w ON w.code = u.ward_code WHERE u.role = 'farmer';
INSERT INTO listings (farmer_id, title, title_search, category_code, unit, unit_weight_g, price_vnd, quantity, status,
        ward_code, province_code, vietgap, organic, version, created_at, updated_at, paused_by_suspension)
    SELECT f.id, 'Sản phẩm ' || i, 'san pham ' || i, (SELECT MIN(code) FROM categories), 'kg', 1000, 50000,
        CASE WHEN i % 5 = 0 THEN 0 ELSE 100 END, 'active', f.ward_code, f.province_code, FALSE, FALSE, 1,
        $(ts "(i * 631) % 31536000"), $(ts "(i * 631) % 31536000"), FALSE
    FROM $(series $LISTINGS) JOIN bench_farmers f ON f.n = i % $FARMERS;
INSERT INTO partners (name, created_at) VALUES ('Bưu điện', $(ts 0));
-- Order i (its code BENCH<i>; ids may come in another order): placed at 31 s * i, its farmer (i * 7919) mod farmers, its fate i mod 20: 0 rejected, 1 expired,
-- 2-3 accepted and under way, 4-19 delivered.
INSERT INTO orders (code, buyer_name, buyer_phone, ward_code, province_code, street, payment_method, payment_status,
        status, items_total_vnd, shipping_total_vnd, total_vnd, lang, created_at, updated_at)
    SELECT 'BENCH' || i, 'Khách', '+84900000000', f.ward_code, f.province_code, '1 Trần Phú', 'cod', 'cod',
        CASE WHEN i % 20 < 2 THEN 'cancelled' WHEN i % 20 < 4 THEN 'confirmed' ELSE 'completed' END,
        50000 * (1 + i % 5), 20000, 50000 * (1 + i % 5) + 20000, 'vi', $(ts "i * 31"), $(ts "i * 31")
    FROM $(series $ORDERS) JOIN bench_farmers f ON f.n = (i * 7919) % $FARMERS;
INSERT INTO shipments (order_id, farmer_id, status, weight_g, items_total_vnd, fee_vnd, reject_reason, stock_restored,
        respond_by, created_at, updated_at, reason_code, accepted_at, withdrawn_at)
    SELECT o.id, f.id,
        CASE WHEN i % 20 = 0 THEN 'rejected' WHEN i % 20 = 1 THEN 'cancelled' ELSE 'accepted' END,
        1000, o.items_total_vnd, 20000, CASE WHEN i % 20 = 0 THEN 'Hết hàng' END, i % 20 < 2,
        $(ts "i * 31 + 86400"), o.created_at, $(ts "i * 31 + 86400"), CASE WHEN i % 20 = 1 THEN 'expired' END,
        CASE WHEN i % 20 >= 2 THEN $(ts "i * 31 + ((i * 37) % 2400) * 36") END,
        CASE WHEN i % 20 = 0 THEN $(ts "i * 31 + ((i * 37) % 2400) * 36")
             WHEN i % 20 = 1 THEN $(ts "i * 31 + 86400") END
    FROM (SELECT o.*, CAST(substr(o.code, 6) AS BIGINT) AS i FROM orders o) o
    JOIN bench_farmers f ON f.n = (i * 7919) % $FARMERS;
INSERT INTO fulfilment_jobs (shipment_id, order_id, pickup_province_code, pickup_ward_code, dropoff_province_code,
        dropoff_ward_code, weight_g, cod_vnd, declared_value_vnd, item_summary, status, partner_id, attempts,
        needs_operator, cod_collected_vnd, delivered_at, created_at, updated_at)
    SELECT s.id, s.order_id, o.province_code, o.ward_code, o.province_code, o.ward_code, 1000, o.total_vnd,
        s.items_total_vnd, 'Sản phẩm', CASE WHEN i % 20 < 4 THEN 'available' ELSE 'delivered' END,
        CASE WHEN i % 20 >= 4 THEN (SELECT MIN(id) FROM partners) END, 0, FALSE,
        CASE WHEN i % 20 >= 4 THEN o.total_vnd END,
        CASE WHEN i % 20 >= 4 THEN $(ts "i * 31 + 86400 + ((i * 53) % 2880) * 60") END,
        s.accepted_at, s.accepted_at
    FROM shipments s JOIN (SELECT o.*, CAST(substr(o.code, 6) AS BIGINT) AS i FROM orders o) o ON o.id = s.order_id WHERE s.status = 'accepted';
DROP TABLE bench_farmers;
DROP TABLE bench_wards;
COMMIT;
SQL
echo "seeded in $((SECONDS - started)) s: $(sql 'SELECT COUNT(*) FROM orders') orders, \
$(sql 'SELECT COUNT(*) FROM shipments') shipments, $(sql 'SELECT COUNT(*) FROM fulfilment_jobs') jobs, \
$(sql "SELECT COUNT(*) FROM users WHERE role = 'farmer'") farmers, $(sql 'SELECT COUNT(*) FROM listings') listings"
analyze

echo "== rollups from nothing"
"$BIN" rollups
echo "rollup rows: $(sql 'SELECT COUNT(*) FROM report_days') day figures, \
$(sql 'SELECT COUNT(*) FROM report_durations') duration buckets, $(sql 'SELECT COUNT(*) FROM report_seller_days') seller days; \
$(sql 'SELECT COUNT(*) FROM report_months') month figures, $(sql 'SELECT COUNT(*) FROM report_month_durations') month histograms, \
$(sql 'SELECT COUNT(*) FROM report_seller_months') seller months"
echo "== rollups again, nothing changed"
"$BIN" rollups
analyze

printf 'bench-operator-password\n' | "$BIN" admin create-operator --name Bench --email bench-ops@nongsan.test --password-stdin
start
TOKEN=$(curl -sf "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"login": "bench-ops@nongsan.test", "password": "bench-operator-password"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

# The past twelve months (this one so far and the eleven before: whole months, as operators report), and the
# past 365 days to the day (its first days are read from the daily rollups).
MONTH=$(date -u -d '+7 hours' +%Y-%m-01)
FROM=$(date -u -d "$MONTH -11 months" +%F)
DAYS_FROM=$(date -u -d '+7 hours 365 days ago' +%F)
TO=$(date -u -d '+7 hours 1 day' +%F)
time_requests() { # name, path: p50 and p99 of REQUESTS sequential requests (after 3 to warm up)
    local name=$1 path=$2
    for _ in 1 2 3; do curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE$path"; done
    for _ in $(seq 1 "$REQUESTS"); do
        curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" "$BASE$path"
    done | python3 -c '
import sys
name, times = sys.argv[1], sorted(float(line) * 1000 for line in sys.stdin)
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"{name:44} n={len(times):3}  p50 {pick(0.5):7.1f} ms  p99 {pick(0.99):7.1f} ms  max {times[-1]:7.1f} ms")
' "$name"
}
echo "== past twelve months ($FROM to $TO), $REQUESTS sequential requests each"
curl -sf -o "$DATA/province.json" -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/admin/reports/impact?from=$FROM&to=$TO"
python3 -c '
import json, sys
report = json.load(open(sys.argv[1]))
total = report["total"]
print("total row:", len(report["rows"]), "provinces;", {k: total[k] for k in ("households_enrolled", "active_sellers",
      "listings_live", "orders", "delivered_shipments", "cod_collected_vnd", "median_hours_to_accept", "median_hours_to_deliver")})
' "$DATA/province.json"
REPORT="/api/v1/admin/reports/impact?from=$FROM&to=$TO"
PROVINCE=$(sql 'SELECT MIN(code) FROM provinces')
time_requests "/healthz" "/healthz"
time_requests "report by province" "$REPORT&group=province"
time_requests "report by commune" "$REPORT&group=ward"
time_requests "report by month" "$REPORT&group=month"
time_requests "report by team" "$REPORT&group=team"
time_requests "report by helper" "$REPORT&group=helper"
time_requests "report by province, CSV" "$REPORT&format=csv"
time_requests "report by commune, one province" "$REPORT&group=ward&province=$PROVINCE"
echo "== past 365 days to the day ($DAYS_FROM to $TO)"
time_requests "report by province, 365 days" "/api/v1/admin/reports/impact?from=$DAYS_FROM&to=$TO&group=province"
time_requests "report by commune, 365 days" "/api/v1/admin/reports/impact?from=$DAYS_FROM&to=$TO&group=ward"
stop
