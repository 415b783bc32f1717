#!/usr/bin/env bash
# The widget's wasm-bindgen browser tests (`cargo test -p connect-ui --target wasm32-unknown-unknown`)
# against a live backend, in headless Chromium and/or headless Firefox.
#
#   scripts/wasm-test.sh [chromium] [firefox] [-- extra cargo test args]
#
# With no browser named, runs both. The backend listens on a free loopback port with a temporary
# database and allows CORS from the test runner's fixed origin (WASM_BINDGEN_TEST_ADDRESS).
# The widget's tests read CONNECT_UI_TEST_BACKEND at compile time (option_env!).
# Env: SKIP_SETUP=1 (test.sh sets it), WASM_TEST_BACKEND_PORT, WASM_TEST_RUNNER_PORT.

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

install_cleanup
new_tmp_dir wasm-test
own_summary=false
if [ -z "${RESULTS_FILE:-}" ]; then
  RESULTS_FILE="$TMP_DIR/results.tsv"
  own_summary=true
fi

build_backend

# Stable defaults (if free) keep the compile-time CONNECT_UI_TEST_BACKEND unchanged between runs,
# so the test crates are not rebuilt every time.
backend_port=$(pick_port "${WASM_TEST_BACKEND_PORT:-39471}")
runner_port=$(pick_port "${WASM_TEST_RUNNER_PORT:-39472}")
[ "$runner_port" != "$backend_port" ] || runner_port=$(pick_port 0)
origin="http://127.0.0.1:$runner_port"

info "backend for the wasm tests on 127.0.0.1:$backend_port, CORS origin $origin (log: target/logs/wasm-backend.log)"
start_backend "$backend_port" "$LOG_DIR/wasm-backend.log" \
  --db "$TMP_DIR/connect-ui.sqlite3" --cors-origin "$origin"

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
  status=0
  run_cargo_tests "wasm tests ($browser)" "wasm-$browser" \
    env "${driver_env[@]}" \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    WASM_BINDGEN_TEST_ADDRESS="127.0.0.1:$runner_port" \
    WASM_BINDGEN_TEST_TIMEOUT=120 \
    WASM_BINDGEN_TEST_DRIVER_TIMEOUT=60 \
    WASM_BINDGEN_TEST_WEBDRIVER_JSON="$CONNECT_UI_ROOT/scripts/webdriver/$browser.json" \
    CONNECT_UI_TEST_BACKEND="http://127.0.0.1:$backend_port" \
    cargo test -p connect-ui --target wasm32-unknown-unknown --tests --no-fail-fast --locked \
    "${extra[@]}" || status=$?
  # Make sure the intended browser really ran (a stray driver variable would silently switch it).
  if grep -q "Running headless tests in" "$LOG_DIR/wasm-$browser.log" &&
    ! grep -q "$expect" "$LOG_DIR/wasm-$browser.log"; then
    record "wasm browser check ($browser)" 0 1 "the runner used another browser than $browser"
    status=1
  fi
  [ "$status" -eq 0 ] || overall=1
done

if ! kill -0 "$BACKEND_PID" 2>/dev/null; then
  show_tail "$LOG_DIR/wasm-backend.log"
  warn "the backend died during the wasm tests"
  overall=1
fi
if $own_summary; then
  print_summary || overall=1
fi
exit "$overall"
