# shellcheck shell=bash
# Source this file (`. scripts/env.sh`) to get the project's tools on PATH:
#   - tools/node_modules/.bin first (npm binaryen's wasm-opt, never Debian's),
#   - then the cargo bin dir (trunk, wasm-bindgen, wasm-bindgen-test-runner, geckodriver).
# Safe to source more than once and from any shell; changes no shell options.

CONNECT_UI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CONNECT_UI_ROOT

_connect_ui_prepend_path() {
  local rest=":${PATH}:"
  while [[ "$rest" == *":$1:"* ]]; do rest=${rest/":$1:"/:}; done
  rest=${rest#:}
  rest=${rest%:}
  PATH="$1${rest:+:$rest}"
}
_connect_ui_prepend_path "${CARGO_HOME:-$HOME/.cargo}/bin"
_connect_ui_prepend_path "${CONNECT_UI_ROOT}/tools/node_modules/.bin"
export PATH
unset -f _connect_ui_prepend_path

# Trunk must never reach out for updates or tools (Trunk.toml also says offline = true).
export TRUNK_SKIP_VERSION_CHECK=true
