# shellcheck shell=bash
# Shared functions for the scripts in this folder. Source it; it sets strict mode,
# puts the project's tools on PATH (env.sh) and cds to the repository root.

set -euo pipefail

# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CONNECT_UI_ROOT"

LOG_DIR="$CONNECT_UI_ROOT/target/logs"
mkdir -p "$LOG_DIR"

# The backend that start_backend runs: release (bench.sh) unless `build_backend debug` chose the
# debug build, which the test scripts and preview.sh run: it shares its dependencies with
# `cargo test` and skips the release profile's fat LTO (minutes on 2 cores).
BACKEND_BIN="$CONNECT_UI_ROOT/target/release/connect-ui-backend"
export TEST_BACKEND_BIN="$CONNECT_UI_ROOT/target/debug/connect-ui-backend"

# ---------------------------------------------------------------------------
# Messages

info() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf '\nERROR: %s\n' "$*" >&2
  exit 1
}

# show_tail LOGFILE [LINES]: print the end of a log, framed, to stderr.
show_tail() {
  local log=$1 lines=${2:-40}
  {
    printf -- '---- last %s lines of %s ----\n' "$lines" "${log#"$CONNECT_UI_ROOT"/}"
    tail -n "$lines" "$log" 2>/dev/null || true
    printf -- '---- end of %s ----\n' "${log#"$CONNECT_UI_ROOT"/}"
  } >&2
}

# run_logged LOGNAME CMD...: run CMD with all output in target/logs/LOGNAME.log.
# Returns CMD's status; on failure prints the log's tail.
run_logged() {
  local name=$1
  shift
  local log="$LOG_DIR/$name.log"
  local status=0
  printf '$ %s\n' "$*" >"$log"
  "$@" >>"$log" 2>&1 </dev/null || status=$?
  if [ "$status" -ne 0 ]; then
    printf 'FAILED (exit %s): %s\n' "$status" "$*" >&2
    show_tail "$log" "${TAIL_LINES:-40}"
  fi
  return "$status"
}

# must LOGNAME WHAT CMD...: like run_logged, but dies with a clear message on failure.
must() {
  local name=$1 what=$2
  shift 2
  run_logged "$name" "$@" || die "$what failed (full log: target/logs/$name.log)"
}

# ---------------------------------------------------------------------------
# Versions pinned in the repository

# cargo_lock_version CRATE: the version of CRATE in Cargo.lock (first entry).
cargo_lock_version() {
  awk -v name="$1" '
    $0 == "[[package]]" { in_pkg = 1; found = 0; next }
    in_pkg && $1 == "name" { gsub(/"/, "", $3); found = ($3 == name); next }
    in_pkg && found && $1 == "version" { gsub(/"/, "", $3); print $3; exit }
  ' "$CONNECT_UI_ROOT/Cargo.lock"
}

# trunk_tool_pin KEY: a value from Trunk.toml's [tools] table (e.g. wasm_bindgen).
trunk_tool_pin() {
  awk -v key="$1" '
    /^\[/ { in_tools = ($0 ~ /^\[tools\]/); next }
    in_tools && $1 == key { sub(/^[^=]*=[ \t]*/, ""); sub(/[ \t]*#.*$/, ""); gsub(/"/, ""); print; exit }
  ' "$CONNECT_UI_ROOT/Trunk.toml"
}

# ---------------------------------------------------------------------------
# Ports and HTTP

# pick_port [PREFERRED]: print PREFERRED if it is free on 127.0.0.1, else any free port.
# (A stable default keeps compile-time env values, and so builds, unchanged between runs.)
pick_port() {
  node -e '
    const net = require("net");
    const attempt = (port, fallback) => {
      const s = net.createServer();
      s.once("error", () => (fallback ? attempt(0, false) : process.exit(1)));
      s.listen(port, "127.0.0.1", () => {
        const p = s.address().port;
        s.close(() => console.log(p));
      });
    };
    const preferred = Number(process.argv[1] || 0);
    attempt(preferred, preferred !== 0);
  ' "${1:-0}"
}

# wait_http URL TIMEOUT_SECS [PID]: wait until URL answers 2xx; fail early if PID exits.
wait_http() {
  local url=$1 timeout=$2 pid=${3:-}
  local deadline=$((SECONDS + timeout))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if curl -fsS --max-time 2 -o /dev/null "$url" 2>/dev/null; then
      return 0
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      printf 'process %s exited before %s answered\n' "$pid" "$url" >&2
      return 1
    fi
    sleep 0.25
  done
  printf 'timed out after %ss waiting for %s\n' "$timeout" "$url" >&2
  return 1
}

# ---------------------------------------------------------------------------
# Background processes: each in its own process group, all stopped on exit.

BG_PIDS=()
BG_PID=

# start_bg LOGFILE CMD...: start CMD in a new session/process group, output to LOGFILE.
# Sets BG_PID (which is also the process group id).
start_bg() {
  local log=$1
  shift
  setsid "$@" >"$log" 2>&1 </dev/null &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
}

# stop_bg PID: TERM the process group, then KILL it if still alive after 10 s.
stop_bg() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_all_bg() {
  local pid
  for pid in "${BG_PIDS[@]}"; do
    stop_bg "$pid"
  done
  BG_PIDS=()
}

# install_cleanup: stop every background process and remove the temporary directories made
# with new_tmp_dir, on exit, Ctrl-C or TERM.
CLEANUP_DIRS=()
_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_all_bg
  if [ "${#CLEANUP_DIRS[@]}" -gt 0 ]; then rm -rf "${CLEANUP_DIRS[@]}"; fi
  exit "$status"
}
install_cleanup() {
  trap _cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# start_layer NAME: what every test script does first: stop what it starts on exit, make TMP_DIR,
# and record into test.sh's results file when test.sh runs it, else into a new one (then
# OWN_SUMMARY=true: the script prints the summary itself).
start_layer() {
  install_cleanup
  new_tmp_dir "$1"
  OWN_SUMMARY=false
  if [ -z "${RESULTS_FILE:-}" ]; then
    export RESULTS_FILE="$TMP_DIR/results.tsv"
    OWN_SUMMARY=true
  fi
}

# new_tmp_dir NAME: sets TMP_DIR to a new temporary directory, removed by the cleanup.
new_tmp_dir() {
  TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/connect-ui-$1.XXXXXX")
  CLEANUP_DIRS+=("$TMP_DIR")
}

# ---------------------------------------------------------------------------
# Backend

# build_backend [release|debug]: build the backend and point BACKEND_BIN at it.
build_backend() {
  local profile=${1:-release}
  info "building the backend ($profile; log: target/logs/backend-build.log)"
  if [ "$profile" = debug ]; then
    must backend-build "building connect-ui-backend" cargo build -p connect-ui-backend --locked
    BACKEND_BIN=$TEST_BACKEND_BIN
  else
    must backend-build "building connect-ui-backend" \
      cargo build -p connect-ui-backend --release --locked
  fi
}

# try_start_backend PORT LOGFILE ARGS...: start the built backend on 127.0.0.1:PORT and wait
# (60 s at most) for GET /health. Sets BACKEND_PID and BACKEND_URL; on failure prints the log's
# tail, stops it and returns 1.
try_start_backend() {
  local port=$1 log=$2
  shift 2
  [ -x "$BACKEND_BIN" ] || die "backend binary missing: $BACKEND_BIN (build_backend first)"
  start_bg "$log" "$BACKEND_BIN" --addr "127.0.0.1:$port" "$@"
  BACKEND_PID=$BG_PID
  BACKEND_URL="http://127.0.0.1:$port"
  if ! wait_http "$BACKEND_URL/health" "${BACKEND_START_TIMEOUT:-60}" "$BACKEND_PID"; then
    show_tail "$log"
    stop_bg "$BACKEND_PID"
    return 1
  fi
}

# start_backend PORT LOGFILE ARGS...: like try_start_backend, but dies on failure.
start_backend() {
  try_start_backend "$@" || die "the backend did not become healthy on 127.0.0.1:$1"
}

# preferred_port OFFSET: a port in 20000-29999 (below Linux's ephemeral range) derived from this
# checkout's path, so two checkouts on one machine don't reach for the same ports.
preferred_port() {
  local sum
  sum=$(printf '%s' "$CONNECT_UI_ROOT" | cksum | cut -d' ' -f1)
  echo $((20000 + (sum % 1990) * 5 + $1))
}

# ---------------------------------------------------------------------------
# Test bookkeeping (used by test.sh, wasm-test.sh, e2e.sh)

RESULTS_FILE=${RESULTS_FILE:-}

# record LAYER PASSED FAILED [NOTE]: remember one layer's totals (in RESULTS_FILE if set).
record() {
  local line
  line=$(printf '%s\t%s\t%s\t%s' "$1" "$2" "$3" "${4:-}")
  if [ -n "$RESULTS_FILE" ]; then
    printf '%s\n' "$line" >>"$RESULTS_FILE"
  fi
  printf '    %s: %s passed, %s failed%s\n' "$1" "$2" "$3" "${4:+ ($4)}"
}

# libtest_totals LOGFILE: print "PASSED FAILED" summed over all libtest-style
# "test result:" lines (cargo test and wasm-bindgen-test-runner both print them).
libtest_totals() {
  awk '
    /test result: / {
      for (i = 1; i <= NF; i++) {
        if ($(i + 1) ~ /^passed;?$/) p += $i
        if ($(i + 1) ~ /^failed;?$/) f += $i
      }
    }
    END { printf "%d %d\n", p, f }
  ' "$1"
}

# run_cargo_tests LAYER LOGNAME CMD...: run a cargo test command quietly and record totals.
# A command that fails without any failed test (a build error, a crashed runner) counts one failure.
run_cargo_tests() {
  local layer=$1 name=$2
  shift 2
  local log="$LOG_DIR/$name.log" status=0 passed failed
  info "$layer (log: target/logs/$name.log)"
  TAIL_LINES=60 run_logged "$name" "$@" || status=$?
  read -r passed failed < <(libtest_totals "$log")
  grep -E '^test .* \.\.\. FAIL(ED)?$' "$log" | head -n 30 | sed 's/^/    /' || true
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
    record "$layer" "$passed" "$failed" "command failed with exit $status before reporting a failed test"
  else
    record "$layer" "$passed" "$failed"
  fi
  return "$status"
}

# print_summary: the per-layer table and the closing "N passed, M failed" line.
# Returns non-zero if anything failed.
print_summary() {
  if [ -z "$RESULTS_FILE" ] || [ ! -s "$RESULTS_FILE" ]; then
    printf '\nno results recorded\n0 passed, 1 failed\n'
    return 1
  fi
  echo
  echo "Summary"
  awk -F '\t' '
    { printf "  %-36s %5d passed %5d failed%s\n", $1, $2, $3, ($4 != "" ? "   (" $4 ")" : ""); p += $2; f += $3 }
    END { printf "\n%d passed, %d failed\n", p, f; exit (f > 0 ? 1 : 0) }
  ' "$RESULTS_FILE"
}

# node_suite LAYER LOGNAME ENV... -- FILE...: run `node --test` on FILEs with ENV (plus the
# NODE_TEST_ARGS array; the whole run bounded by NODE_SUITE_TIMEOUT seconds, default 900, each
# file and test by NODE_TEST_TIMEOUT ms, default 300000), show
# the test lines and what tests print (lines starting "» ", "events", "csp", "memory"), and
# record the TAP totals. Returns non-zero if anything failed.
NODE_TEST_ARGS=()
node_suite() {
  local layer=$1 name=$2
  shift 2
  local envs=()
  while [ "$1" != -- ]; do
    envs+=("$1")
    shift
  done
  shift
  local log="$LOG_DIR/$name.log" tap="$LOG_DIR/$name.tap" st=0 passed failed cancelled todo
  info "$layer (log: target/logs/$name.log)"
  env "${envs[@]}" E2E_ARTIFACTS="$CONNECT_UI_ROOT/target/screenshots" \
    timeout --kill-after=30 "${NODE_SUITE_TIMEOUT:-900}" \
    node --test --test-concurrency=1 --test-timeout="${NODE_TEST_TIMEOUT:-300000}" \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" \
    "${NODE_TEST_ARGS[@]}" "$@" >"$log" 2>&1 </dev/null || st=$?
  sed -n '/^ℹ tests/q; p' "$log" | grep -E '^\s*(▶|✔|✖|﹣|» )|^(events|csp|memory)' | sed 's/^/    /' || true
  passed=$(awk '/^# pass /{print $3}' "$tap" 2>/dev/null | tail -n 1)
  failed=$(awk '/^# fail /{print $3}' "$tap" 2>/dev/null | tail -n 1)
  cancelled=$(awk '/^# cancelled /{print $3}' "$tap" 2>/dev/null | tail -n 1)
  todo=$(awk '/^# todo /{print $3}' "$tap" 2>/dev/null | tail -n 1)
  passed=${passed:-0}
  failed=$((${failed:-0} + ${cancelled:-0}))
  local note=
  [ "${todo:-0}" -gt 0 ] && note="${todo} todo: known Rust-side bugs, see the test names"
  if [ "$st" -ne 0 ]; then
    show_tail "$log" 80
    if [ "$failed" -eq 0 ]; then
      failed=1
      note="node --test exited $st without a failed test"
    fi
  fi
  record "$layer" "$passed" "$failed" "$note"
  [ "$st" -eq 0 ] && [ "$failed" -eq 0 ]
}
