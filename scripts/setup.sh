#!/usr/bin/env bash
# Installs what building (and, with --test, testing) Connect UI needs. Idempotent: each step
# runs only if its result is missing or of the wrong version. Fails loudly on the first error.
#
#   scripts/setup.sh           build tools: wasm32 target, crates, trunk, wasm-bindgen-cli, npm tools
#   scripts/setup.sh --test    also Chromium + ChromeDriver + Firefox ESR (apt) and geckodriver
#
# Logs of every step are in target/logs/setup-*.log.

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TRUNK_VERSION=0.21.14
GECKODRIVER_VERSION=0.37.1
# fonts-ipafont-gothic: Japanese glyphs for the e2e screenshots (the README's Japanese one).
APT_PACKAGES=(chromium chromium-driver firefox-esr fonts-ipafont-gothic)

with_test=false
for arg in "$@"; do
  case "$arg" in
    --test) with_test=true ;;
    -h | --help)
      sed -n '2,9p' "$0"
      exit 0
      ;;
    *) die "setup.sh: unknown argument '$arg' (expected --test)" ;;
  esac
done

# Tool builds are throwaway binaries: bg_install skips the fat LTO / single codegen unit that
# their own manifests ask for (trunk: lto = "fat"), which roughly halves install time on 2 cores.

# first_word_version CMD: "<name> <version> ..." -> version ("" if CMD is missing or fails).
tool_version() {
  command -v "$1" >/dev/null 2>&1 || return 0
  "$@" 2>/dev/null | head -n 1 | awk '{print $2}' || true
}

# ---------------------------------------------------------------------------
# Background installs (bg_install) are stopped if this script ends early.
install_cleanup
info "checking the base toolchain"
for tool in cargo rustup rustc node npm curl setsid; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed; it is part of the machine image this project expects"
done

# apt runs in the background while cargo compiles (it is network- and disk-bound).
APT_PID=
apt_missing=()
if $with_test; then
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || apt_missing+=("$pkg")
  done
  if [ "${#apt_missing[@]}" -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null || die "installing ${apt_missing[*]} needs root (or sudo)"
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    info "installing ${apt_missing[*]} with apt in the background (log: target/logs/setup-apt.log)"
    (
      set -e
      export DEBIAN_FRONTEND=noninteractive
      $SUDO apt-get update -q
      $SUDO apt-get install -y -q "${apt_missing[@]}"
    ) >"$LOG_DIR/setup-apt.log" 2>&1 </dev/null &
    APT_PID=$!
  fi
fi

# ---------------------------------------------------------------------------
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  note "rust target wasm32-unknown-unknown: present"
else
  info "adding rust target wasm32-unknown-unknown"
  must setup-rustup "rustup target add wasm32-unknown-unknown" rustup target add wasm32-unknown-unknown
fi

info "cargo fetch (log: target/logs/setup-fetch.log)"
must setup-fetch "cargo fetch" cargo fetch --locked

# ---------------------------------------------------------------------------
wb_lock=$(cargo_lock_version wasm-bindgen)
[ -n "$wb_lock" ] || die "no wasm-bindgen entry in Cargo.lock"
wb_pin=$(trunk_tool_pin wasm_bindgen)
[ "$wb_pin" = "$wb_lock" ] || die "Trunk.toml pins wasm_bindgen = \"$wb_pin\" but Cargo.lock has wasm-bindgen $wb_lock: set [tools] wasm_bindgen = \"$wb_lock\" in Trunk.toml"

# The cargo installs run side by side: one `cargo install` leaves a core idle for much of its
# time (crates that depend on each other in a line, linking), so on 2 cores all of them at once
# finish minutes before the same installs in turn.
INSTALL_PIDS=()
INSTALL_WHAT=()
INSTALL_LOGS=()
# bg_install LOGNAME WHAT CARGO-INSTALL-ARGS...: start one install in the background, in its
# own process group (start_bg), so Ctrl-C or a failure stops it with this script.
bg_install() {
  local name=$1 what=$2
  shift 2
  info "installing $what in the background (log: target/logs/$name.log)"
  start_bg "$LOG_DIR/$name.log" env CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install "$@"
  INSTALL_PIDS+=("$BG_PID")
  INSTALL_WHAT+=("$what")
  INSTALL_LOGS+=("$LOG_DIR/$name.log")
}
# wait_installs: wait for every background install; die naming those that failed.
wait_installs() {
  local i failed=()
  [ "${#INSTALL_PIDS[@]}" -gt 0 ] || return 0
  info "waiting for ${INSTALL_WHAT[*]} (about 10-15 min on 2 cores from nothing)"
  for i in "${!INSTALL_PIDS[@]}"; do
    if ! wait "${INSTALL_PIDS[$i]}"; then
      failed+=("${INSTALL_WHAT[$i]}")
      show_tail "${INSTALL_LOGS[$i]}"
    fi
  done
  INSTALL_PIDS=()
  INSTALL_WHAT=()
  INSTALL_LOGS=()
  BG_PIDS=()
  [ "${#failed[@]}" -eq 0 ] || die "installing ${failed[*]} failed (logs: target/logs/setup-*.log)"
}

have=$(tool_version trunk --version)
if [ "$have" = "$TRUNK_VERSION" ]; then
  note "trunk $TRUNK_VERSION: present"
else
  bg_install setup-trunk "trunk $TRUNK_VERSION${have:+ (found $have)}" \
    trunk --version "$TRUNK_VERSION" --locked --force
fi

have=$(tool_version wasm-bindgen --version)
have_runner=$(tool_version wasm-bindgen-test-runner --version)
if [ "$have" = "$wb_lock" ] && [ "$have_runner" = "$wb_lock" ]; then
  note "wasm-bindgen-cli $wb_lock: present"
  wb_installing=false
else
  # Not --locked: the CLI's own lockfile pins crates that no longer build with current Rust.
  bg_install setup-wasm-bindgen "wasm-bindgen-cli $wb_lock${have:+ (found $have)}" \
    wasm-bindgen-cli --version "$wb_lock" --force
  wb_installing=true
fi

if $with_test; then
  have=$(tool_version geckodriver --version)
  if [ "$have" = "$GECKODRIVER_VERSION" ]; then
    note "geckodriver $GECKODRIVER_VERSION: present"
  else
    bg_install setup-geckodriver "geckodriver $GECKODRIVER_VERSION${have:+ (found $have)}" \
      geckodriver --version "$GECKODRIVER_VERSION" --locked --force
  fi
fi

# ---------------------------------------------------------------------------
# npm tools (binaryen's wasm-opt, playwright-core): npm ci when the lockfile changed.
lock_sum=$(sha256sum tools/package-lock.json | cut -d' ' -f1)
stamp=tools/node_modules/.connect-ui-lock.sha256
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; then
  note "npm tools (tools/node_modules): present"
else
  info "installing npm tools with npm ci (log: target/logs/setup-npm.log)"
  must setup-npm "npm ci in tools/" npm ci --prefix tools --no-audit --no-fund
  printf '%s\n' "$lock_sum" >"$stamp"
fi

wo_pin=$(trunk_tool_pin wasm_opt)
wo_path=$(command -v wasm-opt || true)
[ "$wo_path" = "$CONNECT_UI_ROOT/tools/node_modules/.bin/wasm-opt" ] ||
  die "wasm-opt on PATH is '$wo_path', expected tools/node_modules/.bin/wasm-opt (source scripts/env.sh)"
wo_have=$(wasm-opt --version | awk '{print "version_" $3}')
[ "$wo_have" = "$wo_pin" ] ||
  die "npm wasm-opt reports $wo_have but Trunk.toml pins wasm_opt = \"$wo_pin\": keep tools/package.json's binaryen and the pin in step"
note "wasm-opt $wo_have from npm binaryen: ok"

# ---------------------------------------------------------------------------
wait_installs
if $wb_installing; then
  have=$(tool_version wasm-bindgen --version)
  [ "$have" = "$wb_lock" ] || die "wasm-bindgen reports '$have' after installing $wb_lock (is another one earlier on PATH? $(command -v wasm-bindgen))"
fi

if $with_test; then
  if [ -n "$APT_PID" ]; then
    info "waiting for apt (at most 15 min)"
    deadline=$((SECONDS + 900))
    while kill -0 "$APT_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 1; done
    if kill -0 "$APT_PID" 2>/dev/null; then
      kill "$APT_PID" 2>/dev/null || true
      show_tail "$LOG_DIR/setup-apt.log"
      die "apt-get did not finish within 15 minutes"
    fi
    if ! wait "$APT_PID"; then
      show_tail "$LOG_DIR/setup-apt.log"
      die "apt-get install ${apt_missing[*]} failed (full log: target/logs/setup-apt.log)"
    fi
  else
    note "apt packages ${APT_PACKAGES[*]}: present"
  fi
  for bin in /usr/bin/chromium /usr/bin/chromedriver /usr/bin/firefox-esr; do
    [ -x "$bin" ] || die "$bin is missing after installing ${APT_PACKAGES[*]}"
  done
fi

info "setup done"
