#!/usr/bin/env bash
# Catalogue, search, listing-page and storefront throughput and latency at N demo listings, each beside
# `/healthz` measured in the same run (the machine's ceiling), plus the service's memory.
# Throughput at CONNECTIONS (64), p99 latency at TAIL_CONNECTIONS (8): at 64, queueing alone sets the tail.
#
#   bench/catalogue.sh [listings]        SQLite (embedded default)
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/nongsan_bench REDIS_URL=redis://127.0.0.1:6379 bench/catalogue.sh
#
# Env: DURATION (wrk seconds, default 10), CONNECTIONS (default 64), TAIL_CONNECTIONS (default 8), THREADS
# (wrk threads, default 2), CACHED (default 1: also the page-cache-on figures).
# wrk runs on the same machine as the service (the load generator shares the cores). Needs `wrk` (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."

LISTINGS=${1:-100000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
TAIL_CONNECTIONS=${TAIL_CONNECTIONS:-8}
THREADS=${THREADS:-2}
CACHED=${CACHED:-1}
source bench/lib.sh

header
seed_listings "$LISTINGS"

# Request mixes: a file of paths wrk picks from at random (bench/wrk/paths.lua).
FARMERS=$(sql "SELECT MIN(id) || ' ' || MAX(id) FROM users WHERE role = 'farmer'")
python3 - "$LISTINGS" "$DATA" $FARMERS <<'PY'
import random, sys
n, out, first_farmer, last_farmer = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
random.seed(7)
provinces = [1,4,8,11,12,14,15,19,20,22,24,25,31,33,37,38,40,42,44,46,48,51,52,56,66,68,75,79,80,82,86,91,92,96]
categories = ["trai_cay","rau_la","gao","ca_phe","che_tra","ho_tieu","hat_dieu","thuy_san","gia_cam","trung","mat_ong","nam","duoc_lieu"]
sorts = ["newest","price_asc","price_desc","relevance"]
# Single words, two-letter word starts (the long tail: they match many titles), several words.
words = ["xoai","ca phe","gao st25","sau rieng","buoi","tieu","mat ong","nam","rau","trung ga","tom","che","hat dieu",
         "cam","dua","ca","thit","nhan","vai","chuoi","le","ot","ca","ga","xoai cat hoa loc","gao tam thom","rau muong sach",
         "ca phe robusta","nhan long hung yen","buoi da xanh loai 1"]
prices = [(None, 50000), (20000, 100000), (100000, None), (30000, 60000)]
def price_range():
    low, high = random.choice(prices)
    return ([f"min_price={low}"] if low else []) + ([f"max_price={high}"] if high else [])
def page():
    q = ["limit=20", f"sort={random.choice(sorts)}"]
    r = random.random()
    if r < 0.3: q.append(f"category={random.choice(categories)}")
    elif r < 0.6: q.append(f"province={random.choice(provinces)}")
    elif r < 0.8: q += [f"category={random.choice(categories)}", f"province={random.choice(provinces)}"] + price_range()
    elif r < 0.9: q += price_range()
    return "/api/v1/listings?" + "&".join(q)
def search():
    q = ["limit=20", "q=" + random.choice(words).replace(" ", "%20")]
    r = random.random()
    if r < 0.25: q.append(f"sort={random.choice(['price_asc', 'price_desc'])}")
    elif r < 0.45: q.append(f"province={random.choice(provinces)}")
    elif r < 0.6: q += [f"category={random.choice(categories)}"] + price_range()
    return "/api/v1/listings?" + "&".join(q)
with open(f"{out}/pages.txt","w") as f: f.write("\n".join(page() for _ in range(5000)))
with open(f"{out}/search.txt","w") as f: f.write("\n".join(search() for _ in range(5000)))
with open(f"{out}/detail.txt","w") as f: f.write("\n".join(f"/api/v1/listings/{random.randint(1, n)}" for _ in range(5000)))
with open(f"{out}/farmers.txt","w") as f:
    f.write("\n".join(f"/api/v1/farmers/{random.randint(first_farmer, last_farmer)}" for _ in range(5000)))
PY

wrk_run() { # name, connections, paths file or single path: wrk's output in $DATA/wrk.<name>.<connections>
    local name=$1 connections=$2 target=$3
    if [[ -f "$target" ]]; then
        PATHS_FILE="$target" wrk -t"$THREADS" -c"$connections" -d"${DURATION}s" --latency -H 'Accept-Encoding: gzip' \
            -s bench/wrk/paths.lua "$BASE" > "$DATA/wrk.$name.$connections"
    else
        wrk -t"$THREADS" -c"$connections" -d"${DURATION}s" --latency -H 'Accept-Encoding: gzip' "$BASE$target" \
            > "$DATA/wrk.$name.$connections"
    fi
}
figure() { # wrk output file, awk pattern of the line, field
    awk -v want="$2" '$1 == want {print $'"$3"'}' "$1"
}
HEALTHZ_RPS=
run() { # name, paths file or single path: req/s at CONNECTIONS, p99 at TAIL_CONNECTIONS, ratios to /healthz
    local name=$1 target=$2 peak rps p99 errors ratio
    local file
    file=$(tr -c 'a-zA-Z0-9' '_' <<< "$name")
    ( while kill -0 "$SERVER" 2>/dev/null; do ps -o rss= -p "$SERVER"; sleep 0.5; done ) > "$DATA/rss.$file" &
    local sampler=$!
    wrk_run "$file" "$CONNECTIONS" "$target"
    wrk_run "$file" "$TAIL_CONNECTIONS" "$target"
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    peak=$(sort -n "$DATA/rss.$file" | tail -1)
    rps=$(figure "$DATA/wrk.$file.$CONNECTIONS" Requests/sec: 2)
    p99=$(figure "$DATA/wrk.$file.$TAIL_CONNECTIONS" 99% 2)
    errors=$(cat "$DATA/wrk.$file".* | awk '/Non-2xx/ {n += $5} END {print n + 0}')
    [[ -z "$HEALTHZ_RPS" ]] && HEALTHZ_RPS=$rps
    ratio=$(awk -v a="$rps" -v b="$HEALTHZ_RPS" 'BEGIN {printf "%.2f", a / b}')
    printf '%-36s %10s req/s (%s of /healthz)  p99 at %s conn %8s  p50 %8s  non-2xx %s  peak RSS %s MiB\n' "$name" \
        "$rps" "$ratio" "$TAIL_CONNECTIONS" "$p99" "$(figure "$DATA/wrk.$file.$TAIL_CONNECTIONS" 50% 2)" "$errors" \
        "$(( peak / 1024 ))"
}

echo "== wrk -t$THREADS, throughput at -c$CONNECTIONS, latency at -c$TAIL_CONNECTIONS, -d${DURATION}s each"
if [[ "$CACHED" == 1 ]]; then
    echo "== page cache on (NONGSAN_CATALOGUE_CACHE_SECS=30)"
    start
    sleep 1
    echo "idle RSS: $(rss)"
    curl -s -o /dev/null -w "first page: %{size_download} bytes gzip, " -H 'Accept-Encoding: gzip' "$BASE/api/v1/listings?limit=20"
    curl -s -o /dev/null -w "%{size_download} bytes plain\n" "$BASE/api/v1/listings?limit=20"
    HEALTHZ_RPS=
    run "/healthz (ceiling)" "/healthz"
    run "catalogue page (one hot page)" "/api/v1/listings?limit=20"
    run "catalogue pages (5000 mixed)" "$DATA/pages.txt"
    run "search (5000 mixed queries)" "$DATA/search.txt"
    stop
fi

echo "== page cache off (NONGSAN_CATALOGUE_CACHE_SECS=0)"
started=$SECONDS
RUST_LOG="$RUST_LOG,nongsan::listings::index=info" NONGSAN_CATALOGUE_CACHE_SECS=0 start
echo "ready in $((SECONDS - started)) s; $(grep 'catalogue index built' "$DATA/server.log" | tail -1 | sed 's/.*INFO //')"
sleep 1
echo "idle RSS: $(rss)"
HEALTHZ_RPS=
run "/healthz (ceiling)" "/healthz"
run "catalogue pages, uncached" "$DATA/pages.txt"
run "search, uncached" "$DATA/search.txt"
run "listing page (random ids)" "$DATA/detail.txt"
run "storefront (random farmers)" "$DATA/farmers.txt"
echo "idle RSS after load: $(rss)"
