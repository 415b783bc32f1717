#!/usr/bin/env bash
# Quick start 2, and what CI runs (.ci/run): installs what is missing, then every check; ends with
# "N passed, M failed". The logic lives in the Rust task runner: `cargo xtask test` (xtask/README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The xtask is a native binary: building it needs no wasm32 target (its setup adds that).
unset CARGO_BUILD_TARGET
exec cargo xtask test "$@"
