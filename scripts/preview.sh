#!/usr/bin/env bash
# Quick start 1: installs what is missing, starts the reference backend and the preview on
# http://127.0.0.1:8080; Ctrl-C stops both. Extra arguments go to `trunk serve`. The logic lives
# in the Rust task runner: `cargo xtask preview` (xtask/README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The xtask is a native binary: building it needs no wasm32 target (its setup adds that).
unset CARGO_BUILD_TARGET
exec cargo xtask preview "$@"
