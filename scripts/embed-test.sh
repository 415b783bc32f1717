#!/usr/bin/env bash
# The embedding tests: the four ways into a host page, against the real reference backend.
#   - scripts/package.sh builds target/pkg (the ES module, <connect-ui>, the iframe page)
#   - the Leptos host example (examples/leptos-host): cargo check for wasm32, trunk build
#   - e2e/embed-suite.mjs in Chromium (Playwright) and Firefox (puppeteer-core, WebDriver BiDi):
#     (L) Leptos component, (a) mount(), (b) <connect-ui>, (c) iframe across three loopback
#     origins, (d) strict CSP with 0 violations, (e) option validation
#   - e2e/embed-memory.mjs in Chromium: (f) mount/unmount 1,000 times, memory before/after
# Every page is served by e2e/embed-server.mjs under
#   default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'
#
#   scripts/embed-test.sh [node --test args, e.g. --test-name-pattern=iframe]
# Env: SKIP_SETUP=1 (test.sh sets it), EMBED_SKIP_BUILD=1 (reuse target/pkg, the backend and the
#      example's dist), EMBED_BROWSERS (default "chromium firefox"), EMBED_MEMORY_CYCLES (1000).

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "${SKIP_SETUP:-}" = 1 ] || "$CONNECT_UI_ROOT/scripts/setup.sh" --test

start_layer embed
status=0
EXAMPLE=examples/leptos-host
EXAMPLE_DIST="$CONNECT_UI_ROOT/target/embed/leptos-host"

# ---------------------------------------------------------------------------
# Builds. A failed build is recorded as one failure of its layer; the suites then run with
# whatever is there (and fail clearly if it is missing).
build() {
  local layer=$1 name=$2
  shift 2
  info "$layer (log: target/logs/$name.log)"
  if run_logged "$name" "$@"; then
    record "$layer" 1 0
  else
    record "$layer" 0 1
    status=1
  fi
}

export EMBED_BACKEND_BIN="${EMBED_BACKEND_BIN:-$TEST_BACKEND_BIN}"

if [ "${EMBED_SKIP_BUILD:-}" != 1 ]; then
  build "embed: package" embed-package env SKIP_SETUP=1 "$CONNECT_UI_ROOT/scripts/package.sh"
  sed -n '/target\/pkg\//,$p' "$LOG_DIR/embed-package.log" | sed 's/^/  /' || true
  # A debug build, like the other test layers: no fat-LTO release build just for tests.
  build "embed: backend build" embed-backend-build cargo build -p connect-ui-backend --locked
  # The example is its own workspace (the repository's stays as it is). Its lockfile is the
  # repository's, pruned by cargo offline: exactly the versions the widget is tested with, and
  # no drift when the widget's dependencies change. It shares target/, so the dependencies
  # already built for the other layers are reused.
  cp Cargo.lock "$EXAMPLE/Cargo.lock"
  build "embed: leptos example check" embed-example-check \
    env CARGO_NET_OFFLINE=true \
    cargo check --manifest-path "$EXAMPLE/Cargo.toml" --target wasm32-unknown-unknown --target-dir target
  build "embed: leptos example fmt" embed-example-fmt \
    cargo fmt --manifest-path "$EXAMPLE/Cargo.toml" -- --check
  build "embed: leptos example trunk build" embed-example-trunk \
    env CARGO_NET_OFFLINE=true CARGO_TARGET_DIR="$CONNECT_UI_ROOT/target" \
    trunk build --config "$EXAMPLE/Trunk.toml" --dist "$EXAMPLE_DIST" --public-url /leptos/
fi

# ---------------------------------------------------------------------------
# node --test suites; totals from the TAP report, like e2e.sh.

NODE_TEST_ARGS=("$@")
NODE_TEST_TIMEOUT=180000
mkdir -p target/screenshots
for browser in ${EMBED_BROWSERS:-chromium firefox}; do
  node_suite "embed ($browser)" "embed-$browser" EMBED_BROWSER="$browser" EMBED_LEPTOS_DIST="$EXAMPLE_DIST" \
    -- e2e/embed-suite.mjs || status=1
done
node_suite "embed: memory (chromium)" embed-memory EMBED_BROWSER=chromium EMBED_LEPTOS_DIST="$EXAMPLE_DIST" \
  -- e2e/embed-memory.mjs || status=1
# (g) every provider of Nango's catalog through mount({ catalog }), and a two-mode provider.
NODE_SUITE_TIMEOUT=1200 node_suite "embed: host catalog (chromium)" embed-catalog EMBED_BROWSER=chromium \
  EMBED_LEPTOS_DIST="$EXAMPLE_DIST" -- e2e/embed-catalog.mjs || status=1

if $OWN_SUMMARY; then
  print_summary || exit 1
fi
exit "$status"
