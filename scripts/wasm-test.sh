#!/usr/bin/env bash
# The widget's wasm-bindgen browser tests (`cargo test -p connect-ui --target wasm32-unknown-unknown`)
# against live servers, in headless Chromium and/or headless Firefox.
#
#   scripts/wasm-test.sh [chromium] [firefox] [-- extra cargo test args]
#
# With no browser named, runs both. Servers, on loopback ports:
#   - the reference backend (--mode dev, temporary database), allowing CORS from the test
#     runner's fixed origin (WASM_BINDGEN_TEST_ADDRESS): CONNECT_UI_TEST_BACKEND;
#   - testkit's fault server (connect-ui-faultserver): CONNECT_UI_TEST_FAULTS.
# The widget's tests read both URLs at compile time (option_env!).
# Env: SKIP_SETUP=1 (test.sh sets it); WASM_TEST_BACKEND_PORT, WASM_TEST_FAULTS_PORT,
#      WASM_TEST_RUNNER_PORT (preferred ports; defaults are derived from the checkout's path).

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

browsers=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    chromium | chrome) browsers+=(chromium) ;;
    firefox) browsers+=(firefox) ;;
    --)
      shift
      extra=("$@")
      break
      ;;
    *) die "wasm-test.sh: unknown argument '$1' (expected chromium, firefox, or -- cargo args)" ;;
  esac
  shift
done
[ "${#browsers[@]}" -gt 0 ] || browsers=(chromium firefox)

[ "${SKIP_SETUP:-}" = 1 ] || "$CONNECT_UI_ROOT/scripts/setup.sh" --test

start_layer wasm-test
finish() {
  if $OWN_SUMMARY; then print_summary || exit 1; fi
  exit "$1"
}

BACKEND_BIN=$TEST_BACKEND_BIN
FAULTS_BIN="$CONNECT_UI_ROOT/target/debug/connect-ui-faultserver"
info "building the backend and the fault server (log: target/logs/wasm-servers-build.log)"
if ! run_logged wasm-servers-build cargo build --locked -p connect-ui-backend -p connect-ui-testkit; then
  record "wasm tests" 0 1 "building the backend or the fault server failed"
  finish 1
fi

# Test cargo runs get the same environment each time: stable (preferred) ports keep the
# compile-time URLs unchanged, so the test crates are not rebuilt on every run.
CARGO_TEST=(cargo test -p connect-ui --target wasm32-unknown-unknown --tests --no-fail-fast --locked "${extra[@]}")
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner

FAULTS_PID=
BACKEND_PID=
BACKEND_ORIGIN=
start_faults() {
  start_bg "$LOG_DIR/wasm-faultserver.log" "$FAULTS_BIN" --addr "127.0.0.1:$faults_port"
  FAULTS_PID=$BG_PID
  # No /health: any fault's request log answers once it listens.
  wait_http "$CONNECT_UI_TEST_FAULTS/ok/requests" 30 "$FAULTS_PID" && return 0
  show_tail "$LOG_DIR/wasm-faultserver.log"
  return 1
}
# ensure_backend ORIGIN: the backend on backend_port allowing ORIGIN, restarted if it changes.
ensure_backend() {
  if [ "$BACKEND_ORIGIN" = "$1" ] && [ -n "$BACKEND_PID" ] && kill -0 "$BACKEND_PID" 2>/dev/null; then
    return 0
  fi
  [ -z "$BACKEND_PID" ] || stop_bg "$BACKEND_PID"
  BACKEND_ORIGIN=$1
  try_start_backend "$backend_port" "$LOG_DIR/wasm-backend.log" --mode dev \
    --db "$TMP_DIR/connect-ui.sqlite3" --cors-origin "$1" --static-dir core # core/locales/*.json
}

# 1. Choose ports, compile with the servers' URLs, then start the servers. Ports can't be held
#    during the build, so if one was taken meanwhile choose others and rebuild (3 tries).
backend_pref=${WASM_TEST_BACKEND_PORT:-$(preferred_port 0)}
faults_pref=${WASM_TEST_FAULTS_PORT:-$(preferred_port 1)}
runner_pref=${WASM_TEST_RUNNER_PORT:-$(preferred_port 2)}
servers_ok=false
for attempt in 1 2 3; do
  backend_port=$(pick_port "$backend_pref")
  faults_port=$(pick_port "$faults_pref")
  [ "$faults_port" != "$backend_port" ] || faults_port=$(pick_port 0)
  export CONNECT_UI_TEST_BACKEND="http://127.0.0.1:$backend_port"
  export CONNECT_UI_TEST_FAULTS="http://127.0.0.1:$faults_port"
  info "compiling the wasm tests (log: target/logs/wasm-build.log)"
  if ! TAIL_LINES=60 run_logged wasm-build "${CARGO_TEST[@]}" --no-run; then
    record "wasm tests" 0 1 "the wasm tests did not compile"
    finish 1
  fi
  runner_port=$(pick_port "$runner_pref")
  if start_faults && ensure_backend "http://127.0.0.1:$runner_port"; then
    servers_ok=true
    break
  fi
  stop_all_bg
  BACKEND_PID=
  backend_pref=0 faults_pref=0 runner_pref=0
  warn "a server could not start (port taken?); choosing other ports (attempt $attempt of 3)"
done
if ! $servers_ok; then
  record "wasm tests" 0 1 "the backend or the fault server did not start"
  finish 1
fi
note "backend: $CONNECT_UI_TEST_BACKEND (--mode dev), fault server: $CONNECT_UI_TEST_FAULTS"

# 2. One run per browser.
GECKODRIVER_BIN=$(command -v geckodriver || true)
overall=0
for browser in "${browsers[@]}"; do
  # The runner takes the first of *_REMOTE, then GECKODRIVER, SAFARIDRIVER, CHROMEDRIVER,
  # MSEDGEDRIVER, then PATH: clear them all and set exactly the one wanted.
  driver_env=(-u GECKODRIVER_REMOTE -u SAFARIDRIVER_REMOTE -u CHROMEDRIVER_REMOTE -u MSEDGEDRIVER_REMOTE
    -u GECKODRIVER -u SAFARIDRIVER -u CHROMEDRIVER -u MSEDGEDRIVER -u NO_HEADLESS
    -u GECKODRIVER_ARGS -u CHROMEDRIVER_ARGS)
  case "$browser" in
    chromium)
      driver_env+=(CHROMEDRIVER=/usr/bin/chromedriver)
      expect="Running headless tests in Chrome"
      ;;
    firefox)
      [ -n "$GECKODRIVER_BIN" ] || die "geckodriver is not installed (scripts/setup.sh --test)"
      driver_env+=(GECKODRIVER="$GECKODRIVER_BIN")
      expect="Running headless tests in Firefox"
      ;;
  esac
  log="$LOG_DIR/wasm-$browser.log"
  for attempt in 1 2; do
    # The runner binds its port itself, so it can't be held for it: recheck right before the run.
    runner_port=$(pick_port "$runner_port")
    if ! ensure_backend "http://127.0.0.1:$runner_port"; then
      record "wasm tests ($browser)" 0 1 "the backend did not restart"
      status=1
      break
    fi
    status=0
    run_cargo_tests "wasm tests ($browser)" "wasm-$browser" \
      env "${driver_env[@]}" \
      WASM_BINDGEN_TEST_ADDRESS="127.0.0.1:$runner_port" \
      WASM_BINDGEN_TEST_TIMEOUT=120 \
      WASM_BINDGEN_TEST_DRIVER_TIMEOUT=60 \
      WASM_BINDGEN_TEST_WEBDRIVER_JSON="$CONNECT_UI_ROOT/scripts/webdriver/$browser.json" \
      "${CARGO_TEST[@]}" || status=$?
    # Lost the runner's port between the check and the bind: once more on another port.
    if [ "$status" -ne 0 ] && [ "$attempt" -eq 1 ] && grep -q 'failed to spawn server' "$log"; then
      sed -i '$d' "$RESULTS_FILE"
      runner_port=0
      note "(not counted) the runner's port was taken; running again on another port"
      continue
    fi
    break
  done
  # Make sure the intended browser really ran (a stray driver variable would silently switch it).
  if grep -q "Running headless tests in" "$log" && ! grep -q "$expect" "$log"; then
    record "wasm browser check ($browser)" 0 1 "the runner used another browser than $browser"
    status=1
  fi
  [ "$status" -eq 0 ] || overall=1
done

if [ -n "$BACKEND_PID" ] && ! kill -0 "$BACKEND_PID" 2>/dev/null; then
  show_tail "$LOG_DIR/wasm-backend.log"
  warn "the backend died during the wasm tests"
  overall=1
fi
finish "$overall"
