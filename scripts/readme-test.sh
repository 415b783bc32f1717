#!/usr/bin/env bash
# The README's first command as a new user runs it: e2e/readme-preview.mjs starts
# ./scripts/preview.sh (setup, the backend, `trunk serve` on 127.0.0.1:8080), connects once in
# headless Chromium, types into a form and stays on the page; the page must not reload and
# Trunk must not rebuild. It stops everything it started. Needs ports 3000 and 8080 free.
#
#   scripts/readme-test.sh [node --test args]
# Env: SKIP_SETUP=1 (test.sh sets it), PREVIEW_STAY_SECONDS (default 35).

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "${SKIP_SETUP:-}" = 1 ] || "$CONNECT_UI_ROOT/scripts/setup.sh" --test

start_layer readme

status=0
NODE_TEST_ARGS=("$@")
# The first `trunk serve` build of the preview compiles the wasm in the dev profile: minutes on
# 2 cores when nothing is cached yet.
NODE_SUITE_TIMEOUT=1800 NODE_TEST_TIMEOUT=1700000 \
  node_suite "README preview (chromium)" readme-preview -- e2e/readme-preview.mjs || status=1

if $OWN_SUMMARY; then
  print_summary || exit 1
fi
exit "$status"
