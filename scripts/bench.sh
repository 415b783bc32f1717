#!/usr/bin/env bash
# The performance benchmark: prints, in one run, and writes to BENCHMARKS.md (between its
# "bench:start" and "bench:end" markers, with the machine, tool versions and date):
#   (1) first-load bytes of the release build (wasm, JS glue, CSS, HTML; raw, gzip -9, brotli 11)
#   (2) navigation -> first widget input visible in headless Chromium, cold cache, median and
#       min-max over BENCH_RUNS runs, at normal speed and with 4x CPU throttling, for
#       /?provider=workos and for the picker /
#   (3) validation latency (input event -> error state updated), p50/p99 over 1,000 keystrokes
#   (4) picker filter latency on a generated 1,000-provider catalog, p50/p99 per keystroke
#   (5) wasm linear memory after mount and after 100 mount/unmount cycles (the npm package)
#   (6) the reference backend: POST /connections throughput and p50/p99 (backend/bench.sh)
#   and twiggy's top 10 of the release wasm (built with its name section kept, for names).
# Not part of scripts/test.sh: it measures, it does not pass or fail (exit 1 only if a step broke).
#
#   scripts/bench.sh
# Env: SKIP_SETUP=1 (don't run setup.sh --test first), BENCH_SKIP_BUILD=1 (reuse
#      target/bench/{dist,pkg} and the backend binaries), BENCH_RUNS (default 20),
#      BENCH_KEYSTROKES (1000), BENCH_CYCLES (100), BENCH_BACKEND_ARGS ("20000 32 60":
#      requests, concurrency, max seconds per phase), BENCH_NO_WRITE=1 (leave BENCHMARKS.md alone).

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "${SKIP_SETUP:-}" = 1 ] || "$CONNECT_UI_ROOT/scripts/setup.sh" --test

install_cleanup
new_tmp_dir bench
BENCH_DIR="$CONNECT_UI_ROOT/target/bench"
DIST="$BENCH_DIR/dist"
PKG="$BENCH_DIR/pkg"
NAMES="$BENCH_DIR/names"
OUT="$TMP_DIR/output.txt"
mkdir -p "$BENCH_DIR"
# The same features and optimisation as the release build (index.html), but keeping the names.
WASM_OPT_ARGS=(-Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue)

# ---------------------------------------------------------------------------
# Builds (noise in target/logs/bench-*.log)

if [ "${BENCH_SKIP_BUILD:-}" != 1 ]; then
  info "bench: trunk build --release into target/bench/dist (log: target/logs/bench-trunk.log)"
  rm -rf "$DIST"
  must bench-trunk "trunk build --release" trunk build --release --dist "$DIST"
  info "bench: the package into target/bench/pkg (log: target/logs/bench-package.log)"
  must bench-package "scripts/package.sh" env SKIP_SETUP=1 PKG_DIR="$PKG" "$CONNECT_UI_ROOT/scripts/package.sh"
  info "bench: backend and load generator (release; log: target/logs/bench-backend.log)"
  must bench-backend "building the backend" \
    cargo build --release --locked -p connect-ui-backend --bin connect-ui-backend --bin connect-ui-loadgen
fi
[ -f "$DIST/index.html" ] || die "no $DIST/index.html (run without BENCH_SKIP_BUILD=1)"
[ -f "$PKG/connect_ui_wasm_bg.wasm" ] || die "no package in $PKG (run without BENCH_SKIP_BUILD=1)"

# twiggy reads the same module as shipped but with its name section: cargo's output (the
# profile keeps names: strip = false) through wasm-bindgen and wasm-opt -g.
twiggy_ok=false
if ! command -v twiggy >/dev/null 2>&1; then
  info "bench: installing twiggy (a dev tool; the bench goes on without it; log: target/logs/bench-twiggy-install.log)"
  run_logged bench-twiggy-install env CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    timeout 1500 cargo install twiggy --locked || warn "twiggy could not be installed; its top 10 is skipped"
fi
raw_wasm="$CONNECT_UI_ROOT/target/wasm32-unknown-unknown/release/connect-ui-preview.wasm"
if command -v twiggy >/dev/null 2>&1 && [ -f "$raw_wasm" ]; then
  rm -rf "$NAMES"
  mkdir -p "$NAMES"
  if run_logged bench-twiggy wasm-bindgen --target web --no-typescript --out-dir "$NAMES" "$raw_wasm" &&
    run_logged bench-twiggy-opt wasm-opt "${WASM_OPT_ARGS[@]}" -g -o "$NAMES/named.wasm" "$NAMES/connect-ui-preview_bg.wasm" &&
    run_logged bench-twiggy-top sh -c "twiggy top -n 60 -f csv '$NAMES/named.wasm' >'$NAMES/top.csv' && twiggy top -n 60 --retained -f csv '$NAMES/named.wasm' >'$NAMES/retained.csv'"; then
    twiggy_ok=true
  fi
fi

# ---------------------------------------------------------------------------
# Measurements: everything on stdout also goes to $OUT for BENCHMARKS.md

export E2E_DIST="$DIST" E2E_BACKEND_BIN="$BACKEND_BIN" EMBED_PKG="$PKG"
status=0
section() { printf '\n%s\n' "$*" | tee -a "$OUT"; }
run_part() {
  local part_status=0
  "$@" 2>&1 | tee -a "$OUT" || part_status=$?
  if [ "$part_status" -ne 0 ]; then
    printf '    (this part failed: exit %s)\n' "$part_status" | tee -a "$OUT"
    status=1
  fi
}

machine="$(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/^MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
versions="rustc $(rustc --version | awk '{print $2}'), trunk $(trunk --version | awk '{print $2}'), wasm-bindgen $(wasm-bindgen --version | awk '{print $2}'), wasm-opt $(wasm-opt --version | awk '{print $3}') (npm binaryen), Chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), node $(node --version), playwright-core $(node -p "require('./tools/node_modules/playwright-core/package.json').version")"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src core Cargo.toml Cargo.lock index.html style 2>/dev/null || echo ' + local changes')"
{
  printf 'date:     %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
  printf 'machine:  %s\n' "$machine"
  printf 'tools:    %s\n' "$versions"
  printf 'commit:   %s\n' "$commit"
  printf 'load:     %s (1/5/15-min load average before measuring; other work on the machine skews the timings)\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT"

section "(1) first load of the release build (trunk build --release; the same files for /?provider=workos and /)"
run_part node bench/bench.mjs sizes "$DIST"
section "    the npm package (scripts/package.sh; with the embed feature): what an ES-module host loads for mount()"
run_part node bench/bench.mjs sizes "$PKG" connect_ui_wasm_bg.wasm connect_ui_wasm.js connect_ui.js connect_ui.css

section "twiggy top 10 of the release wasm (connect-ui-preview; names kept for twiggy, stripped when shipped)"
if $twiggy_ok; then
  run_part node bench/bench.mjs twiggy "$NAMES/top.csv" "$NAMES/retained.csv" "$(find "$DIST" -name '*_bg.wasm' | head -n 1)"
else
  echo "    (skipped: twiggy is not installed or the named build failed; see target/logs/bench-twiggy*.log)" | tee -a "$OUT"
fi

section "Browser figures: headless Chromium (Debian), the release build served by the backend (--static-dir)"
run_part timeout 1200 node bench/bench.mjs browser
run_part timeout 600 node bench/bench.mjs memory

section "(6) backend: POST /connections under bounded loopback load (backend/bench.sh: production mode, verification off, rate limits off, temporary DB)"
# shellcheck disable=SC2086
run_part env BENCH_SKIP_BUILD=1 backend/bench.sh ${BENCH_BACKEND_ARGS:-20000 32 60}
awk '/^POST \/connections: .* req\/s; latency/ {
  for (i = 1; i <= NF; i++) { if ($(i + 1) == "req/s;") rps = $i; if ($i == "p99") p99 = $(i + 1) }
  printf "budget: backend >= 3000 submits/s with p99 <= 20 ms: %s (%s req/s, p99 %s ms)\n", (rps >= 3000 && p99 <= 20) ? "MET" : "NOT MET", rps, p99
}' "$OUT" | tee -a "$OUT"

# ---------------------------------------------------------------------------
# BENCHMARKS.md: the figures between the markers; the rest of the file (history) is kept.

if [ "${BENCH_NO_WRITE:-}" != 1 ]; then
  md="$CONNECT_UI_ROOT/BENCHMARKS.md"
  block="$TMP_DIR/block.md"
  {
    echo '<!-- bench:start (written by scripts/bench.sh; edits here are overwritten) -->'
    echo '```text'
    cat "$OUT"
    echo '```'
    echo '<!-- bench:end -->'
  } >"$block"
  if [ -f "$md" ] && grep -q '<!-- bench:start' "$md" && grep -q '<!-- bench:end -->' "$md"; then
    awk -v block="$block" '
      /<!-- bench:start/ { while ((getline line < block) > 0) print line; skip = 1; next }
      /<!-- bench:end -->/ { skip = 0; next }
      !skip { print }
    ' "$md" >"$TMP_DIR/BENCHMARKS.md"
    mv "$TMP_DIR/BENCHMARKS.md" "$md"
  else
    # shellcheck disable=SC2016 # the backquotes are Markdown
    {
      echo '# Benchmarks'
      echo
      echo 'Figures of the last `scripts/bench.sh` run (see the README, "Performance").'
      echo
      cat "$block"
    } >"$md"
  fi
  info "bench: figures written to BENCHMARKS.md"
fi
exit "$status"
