#!/usr/bin/env bash
# End-to-end suite (e2e/, node --test + playwright-core + Debian Chromium):
#   - `trunk build --release` into dist/ (wasm-opt from npm binaryen applied),
#   - builds the backend (debug, like the other test servers); each test file starts it on a free port with --static-dir dist
#     and a temporary database,
#   - runs `node --test` on e2e/*.test.mjs. Screenshots land in target/screenshots/.
#
#   scripts/e2e.sh [node --test args, e.g. --test-name-pattern=Kandji]
# Env: SKIP_SETUP=1 (test.sh sets it), E2E_SKIP_BUILD=1 (reuse dist/ and the backend binary).

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "${SKIP_SETUP:-}" = 1 ] || "$CONNECT_UI_ROOT/scripts/setup.sh" --test

start_layer e2e

touch "$TMP_DIR/build-started"
if [ "${E2E_SKIP_BUILD:-}" != 1 ]; then
  info "e2e: trunk build --release (log: target/logs/e2e-trunk-build.log)"
  if ! run_logged e2e-trunk-build trunk build --release; then
    record "e2e" 0 1 "trunk build --release failed"
    $OWN_SUMMARY && print_summary
    exit 1
  fi
  if ! run_logged e2e-backend-build cargo build -p connect-ui-backend --locked; then
    record "e2e" 0 1 "building the backend failed"
    $OWN_SUMMARY && print_summary
    exit 1
  fi
fi
[ -f dist/index.html ] || die "dist/index.html is missing after trunk build"
if [ "${E2E_SKIP_BUILD:-}" != 1 ] &&
  [ -z "$(find target/wasm-opt/release -name '*_bg.wasm' -newer "$TMP_DIR/build-started" 2>/dev/null)" ]; then
  record "e2e" 0 1 "trunk build --release did not run wasm-opt"
  $OWN_SUMMARY && print_summary
  exit 1
fi
wasm=$(find dist -maxdepth 1 -name '*.wasm' | head -n 1)
[ -n "$wasm" ] && note "dist: $(basename "$wasm") $(($(stat -c %s "$wasm") / 1024)) KiB"

mkdir -p target/screenshots
tap="$LOG_DIR/e2e.tap"
log="$LOG_DIR/e2e.log"
info "e2e: node --test e2e/ (log: target/logs/e2e.log)"
status=0
touch "$TMP_DIR/started"
# The outer timeout bounds the whole suite; each test also has its own waits. Node 20 applies
# --test-timeout to each test file as a whole as well as to each test in it, so it is sized for
# the longest file (e2e/a11y.test.mjs: about a minute on 2 idle cores).
E2E_BACKEND_BIN="$TEST_BACKEND_BIN" E2E_DIST="$CONNECT_UI_ROOT/dist" E2E_ARTIFACTS="$CONNECT_UI_ROOT/target/screenshots" \
  timeout --kill-after=10 900 \
  node --test --test-concurrency=1 --test-timeout=300000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  "$@" e2e/ >"$log" 2>&1 </dev/null || status=$?

# The spec report is readable as is: show the per-test lines (without the failure details) and
# the figures tests report on lines starting "» " (a11y.test.mjs: the axe table, picker timings).
sed -n '/^ℹ tests/q; p' "$log" | grep -E '^\s*(✔|✖|﹣|» )' | sed 's/^/    /' || true
passed=$(awk '/^# pass /{print $3}' "$tap" | tail -n 1)
failed=$(awk '/^# fail /{print $3}' "$tap" | tail -n 1)
cancelled=$(awk '/^# cancelled /{print $3}' "$tap" | tail -n 1)
passed=${passed:-0}
failed=$((${failed:-0} + ${cancelled:-0}))
if [ "$status" -ne 0 ]; then
  show_tail "$log" 80
  if [ "$failed" -eq 0 ]; then
    failed=1
    record "e2e (chromium)" "$passed" "$failed" "node --test exited $status without a failed test"
  else
    record "e2e (chromium)" "$passed" "$failed"
  fi
else
  record "e2e (chromium)" "$passed" "$failed"
fi
shots=$(find target/screenshots -maxdepth 1 -name '*.png' -newer "$TMP_DIR/started" 2>/dev/null | wc -l || true)
note "screenshots: target/screenshots/ (${shots:-0} new)"

if $OWN_SUMMARY; then
  print_summary || exit 1
fi
exit "$status"
