#!/usr/bin/env bash
# Bounded load test of POST /connections on loopback: builds the backend and the load generator
# (release), starts the backend on a free port with a temporary database, verification and rate
# limits off, runs connect-ui-loadgen against it, then stops the backend and removes the files.
#
# Usage: backend/bench.sh [REQUESTS [CONCURRENCY [MAX_SECONDS]]]   (defaults 20000 32 60)
# Env: CARGO_TARGET_DIR (default target/), CARGO_PROFILE (default release), BENCH_SKIP_BUILD=1,
# BENCH_DB=postgres://… (an empty PostgreSQL database to measure instead of a temporary SQLite
# file; a random encryption key is used).
set -euo pipefail

requests=${1:-20000}
concurrency=${2:-32}
max_seconds=${3:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
profile=${CARGO_PROFILE:-release}
target=${CARGO_TARGET_DIR:-$root/target}
bin="$target/$profile"

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  (cd "$root" && cargo build --locked --profile "$profile" -p connect-ui-backend \
    --bin connect-ui-backend --bin connect-ui-loadgen)
fi

work=$(mktemp -d)
backend_pid=
cleanup() {
  if [ -n "$backend_pid" ]; then kill "$backend_pid" 2>/dev/null || true; wait "$backend_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

host_key="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
db=${BENCH_DB:-$work/bench.sqlite3}
export CONNECT_UI_ENCRYPTION_KEY
CONNECT_UI_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
CONNECT_UI_HOST_API_KEY="$host_key" RUST_LOG=${RUST_LOG:-warn} "$bin/connect-ui-backend" \
  --mode production --addr 127.0.0.1:0 --db "$db" \
  --verify off --rate-limit off >"$work/stdout" 2>"$work/stderr" &
backend_pid=$!
url=
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/stdout" 2>/dev/null || true)
  [ -n "$url" ] && break
  kill -0 "$backend_pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "the backend did not start" >&2; exit 1; }

engine=SQLite; case "$db" in postgres*) engine=PostgreSQL ;; esac
echo "backend: $bin/connect-ui-backend at $url (production mode, verification off, rate limits off, temp $engine DB)"
CONNECT_UI_HOST_API_KEY="$host_key" timeout $((2 * max_seconds + 60)) "$bin/connect-ui-loadgen" \
  --url "$url" --requests "$requests" --concurrency "$concurrency" --max-seconds "$max_seconds" \
  --server-pid "$backend_pid"
