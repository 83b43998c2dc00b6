#!/usr/bin/env bash
# Catalogue, search and listing-detail throughput and latency at N demo listings, plus the service's memory.
#
#   bench/catalogue.sh [listings]        SQLite (embedded default)
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/nongsan_bench REDIS_URL=redis://127.0.0.1:6379 bench/catalogue.sh
#
# Env: DURATION (wrk seconds, default 15), CONNECTIONS (default 64), THREADS (wrk threads, default 2).
# wrk runs on the same machine as the service (the load generator shares the cores). Needs `wrk` (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."

LISTINGS=${1:-100000}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
source bench/lib.sh

header
seed_listings "$LISTINGS"

# Request mixes: a file of paths wrk picks from at random (bench/wrk/paths.lua).
python3 - "$LISTINGS" "$DATA" <<'PY'
import random, sys
n, out = int(sys.argv[1]), sys.argv[2]
random.seed(7)
provinces = [1,4,8,11,12,14,15,19,20,22,24,25,31,33,37,38,40,42,44,46,48,51,52,56,66,68,75,79,80,82,86,91,92,96]
categories = ["trai_cay","rau_la","gao","ca_phe","che_tra","ho_tieu","hat_dieu","thuy_san","gia_cam","trung","mat_ong","nam","duoc_lieu"]
sorts = ["newest","price_asc","price_desc","relevance"]
words = ["xoai","ca phe","gao st25","sau rieng","buoi","tieu","mat ong","nam","rau","trung ga","tom","che","hat dieu","cam","dua","ca","thit","nhan","vai","chuoi"]
def page():
    q = [f"limit=20", f"sort={random.choice(sorts)}"]
    r = random.random()
    if r < 0.4: q.append(f"category={random.choice(categories)}")
    elif r < 0.8: q.append(f"province={random.choice(provinces)}")
    return "/api/v1/listings?" + "&".join(q)
def search():
    return "/api/v1/listings?limit=20&q=" + random.choice(words).replace(" ", "%20") + (f"&province={random.choice(provinces)}" if random.random() < 0.3 else "")
with open(f"{out}/pages.txt","w") as f: f.write("\n".join(page() for _ in range(5000)))
with open(f"{out}/search.txt","w") as f: f.write("\n".join(search() for _ in range(5000)))
with open(f"{out}/detail.txt","w") as f: f.write("\n".join(f"/api/v1/listings/{random.randint(1, n)}" for _ in range(5000)))
PY

run() { # name, paths file or single path
    local name=$1 target=$2 peak=0
    ( while kill -0 "$SERVER" 2>/dev/null; do ps -o rss= -p "$SERVER"; sleep 0.5; done ) > "$DATA/rss.$name" &
    local sampler=$!
    if [[ -f "$target" ]]; then
        PATHS_FILE="$target" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H 'Accept-Encoding: gzip' -s bench/wrk/paths.lua "$BASE" > "$DATA/wrk.$name"
    else
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H 'Accept-Encoding: gzip' "$BASE$target" > "$DATA/wrk.$name"
    fi
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    peak=$(sort -n "$DATA/rss.$name" | tail -1)
    printf '%-34s %12s req/s   p50 %8s   p99 %8s   non-2xx %s   peak RSS %s MiB\n' "$name" \
        "$(awk '/Requests\/sec/ {print $2}' "$DATA/wrk.$name")" \
        "$(awk '$1=="50%" {print $2}' "$DATA/wrk.$name")" \
        "$(awk '$1=="99%" {print $2}' "$DATA/wrk.$name")" \
        "$(awk '/Non-2xx/ {print $5}' "$DATA/wrk.$name" | grep . || echo 0)" \
        "$(( peak / 1024 ))"
}

echo "== cached (NONGSAN_CATALOGUE_CACHE_SECS=30), wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s"
start
sleep 1
echo "idle RSS: $(rss)"
curl -s -o /dev/null -w "first page: %{size_download} bytes gzip, " -H 'Accept-Encoding: gzip' "$BASE/api/v1/listings?limit=20"
curl -s -o /dev/null -w "%{size_download} bytes plain\n" "$BASE/api/v1/listings?limit=20"
run "catalogue page (one hot page)" "/api/v1/listings?limit=20"
run "catalogue pages (5000 mixed)" "$DATA/pages.txt"
run "search (5000 mixed queries)" "$DATA/search.txt"
run "listing detail (random ids)" "$DATA/detail.txt"
stop

echo "== uncached (NONGSAN_CATALOGUE_CACHE_SECS=0)"
NONGSAN_CATALOGUE_CACHE_SECS=0 start
run "catalogue pages, uncached" "$DATA/pages.txt"
run "search, uncached" "$DATA/search.txt"
echo "idle RSS after load: $(rss)"
