# Shared by the benchmark scripts: a fresh database (SQLite in a temporary directory, or the PostgreSQL
# database named by DATABASE_URL, dropped and created again), the release build, and starting, measuring
# and stopping the service. Source it after `set -euo pipefail` and `cd` to the repository.
#
# Sets: PORT, BASE, DATA, NONCE, BIN, BACKEND, SERVER. Defines: sql, header, seed_listings, start, stop, rss,
# log_tail.

PORT=${PORT:-18080}
BASE="http://127.0.0.1:$PORT"
DATA=$(mktemp -d)
NONCE="$(date +%s)-$$"
export NONGSAN_DATA_DIR="$DATA" NONGSAN_ADDR="127.0.0.1:$PORT" RUST_LOG=${RUST_LOG:-warn}
# One load generator on one address is a flood to the throttles; the login lockout still holds.
export NONGSAN_THROTTLE=off

cargo build --release --quiet
# A copy: another build into a shared CARGO_TARGET_DIR must not swap the binary under a running benchmark.
cp "${CARGO_TARGET_DIR:-target}/release/nongsan" "$DATA/nongsan"
BIN="$DATA/nongsan"

BACKEND=sqlite
if [[ "${DATABASE_URL:-}" == postgres* ]]; then
    BACKEND=postgresql
    db_name="${DATABASE_URL##*/}"
    admin="${DATABASE_URL%/*}/postgres"
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" -c "CREATE DATABASE $db_name"
    if [[ -n "${REDIS_URL:-}" ]]; then
        redis-cli -u "$REDIS_URL" --scan --pattern 'nongsan:*' | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null
        BACKEND="postgresql + redis"
    fi
fi

sql() { # one value from the service's database (read-only cross-checks, and benchmark setup)
    if [[ "${DATABASE_URL:-}" == postgres* ]]; then psql -qAt "$DATABASE_URL" -c "$1"; else sqlite3 "$DATA/nongsan.db" "$1"; fi
}

header() {
    echo "== $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml migrations || echo ' + uncommitted changes in src/')"
}

SERVER=
start() {
    "$BIN" serve >>"$DATA/server.log" 2>&1 &
    SERVER=$!
    # Up to 3 minutes: the catalogue's index is built before the service answers (~20 s at 1,000,000 listings).
    for _ in $(seq 1 1800); do curl -sf "$BASE/readyz" >/dev/null && return; sleep 0.1; done
    echo "server did not start" >&2; tail -n 40 "$DATA/server.log" >&2; exit 1
}
stop() { [[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; }
log_tail() { # what the server logged, when something went wrong
    echo "-- server log: $(wc -l < "$DATA/server.log") lines; $(grep -c ERROR "$DATA/server.log" || true) ERROR, $(grep -c WARN "$DATA/server.log" || true) WARN; last 30:"
    tail -n 30 "$DATA/server.log"
}
trap 'stop; rm -rf "$DATA"' EXIT
rss() { echo "$(( $(ps -o rss= -p "$SERVER") / 1024 )) MiB"; }
seed_listings() { # demo farmers and $1 listings, through the service's own seeder
    echo "== seeding $1 demo listings ($BACKEND)"
    /usr/bin/time -f "seeded in %es, peak RSS %M KiB" "$BIN" seed --demo --listings "$1"
}
