#!/usr/bin/env bash
# Builds the npm-style package folder target/pkg/ (the ES module, the custom element, the iframe
# page and host script), from the release library build:
#   cargo build --release --lib (wasm32) -> wasm-bindgen --target web -> wasm-opt -Oz (npm
#   binaryen) -> + the hand-written files in js/ and the stylesheet. Prints the file sizes.
#
#   scripts/package.sh
# Env: SKIP_SETUP=1 (don't run setup.sh first), PKG_DIR (default target/pkg).

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "${SKIP_SETUP:-}" = 1 ] || "$CONNECT_UI_ROOT/scripts/setup.sh"

PKG_DIR=${PKG_DIR:-$CONNECT_UI_ROOT/target/pkg}
# The features current rustc emits for wasm32; wasm-opt must accept them all (see index.html).
WASM_OPT_FEATURES=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue)
# The name section (kept by the build, for twiggy) and the producers section are not shipped.
WASM_OPT_STRIP=(--strip-debug --strip-producers)

info "package: cargo build --release --lib (wasm32) (log: target/logs/package-cargo.log)"
must package-cargo "cargo build (wasm32, release)" \
  cargo build --release --lib --target wasm32-unknown-unknown -p connect-ui --locked
wasm_in=target/wasm32-unknown-unknown/release/connect_ui.wasm
[ -f "$wasm_in" ] || die "cargo did not produce $wasm_in"

# Build into a fresh directory next to the old one, then swap: a failed run never leaves a
# half-written package behind, and a package from an old build never keeps stale files.
stage="$PKG_DIR.tmp"
rm -rf "$stage"
mkdir -p "$stage"

info "package: wasm-bindgen --target web (log: target/logs/package-bindgen.log)"
must package-bindgen "wasm-bindgen" \
  wasm-bindgen --target web --out-name connect_ui_wasm --no-typescript --out-dir "$stage" "$wasm_in"

wo=$(command -v wasm-opt || true)
[ "$wo" = "$CONNECT_UI_ROOT/tools/node_modules/.bin/wasm-opt" ] ||
  die "wasm-opt on PATH is '$wo', expected the npm one in tools/node_modules/.bin (run scripts/setup.sh)"
info "package: wasm-opt -Oz (log: target/logs/package-wasm-opt.log)"
before=$(stat -c %s "$stage/connect_ui_wasm_bg.wasm")
must package-wasm-opt "wasm-opt -Oz" \
  wasm-opt -Oz "${WASM_OPT_FEATURES[@]}" "${WASM_OPT_STRIP[@]}" -o "$stage/connect_ui_wasm_bg.opt.wasm" "$stage/connect_ui_wasm_bg.wasm"
mv "$stage/connect_ui_wasm_bg.opt.wasm" "$stage/connect_ui_wasm_bg.wasm"
note "wasm-opt: $((before / 1024)) KiB -> $(($(stat -c %s "$stage/connect_ui_wasm_bg.wasm") / 1024)) KiB"

# Hand-written sources and the widget's stylesheet.
cp js/connect_ui.js js/connect_ui.d.ts js/connect_ui_shadow.css js/connect_ui_host.js js/connect_ui_host.d.ts \
  js/connect_ui_embed.js js/connect_ui_embed.css js/embed.html js/README.md "$stage/"
cp style/connect-ui.css "$stage/connect_ui.css"
# The catalog format's JSON Schema, so editors validate a host's catalog.
cp core/catalog/catalog.schema.json "$stage/catalog.schema.json"
# Every locale but English (compiled in), fetched on demand from locales/<code>.json.
mkdir -p "$stage/locales"
for f in core/locales/*.json; do
  [ "$(basename "$f")" = en.json ] || cp "$f" "$stage/locales/"
done

version=$(awk -F '"' '/^version *=/ { print $2; exit }' Cargo.toml)
sed "s/\"0.0.0-template\"/\"$version\"/" js/package.json >"$stage/package.json"

# Every file the module graph names must be in the package (a typo would only show in a browser).
for f in connect_ui_wasm.js connect_ui_wasm_bg.wasm connect_ui.css connect_ui_shadow.css; do
  [ -s "$stage/$f" ] || die "package is missing $f"
done
grep -q "export function mount" "$stage/connect_ui_wasm.js" || die "wasm-bindgen output has no mount() export"

rm -rf "$PKG_DIR"
mv "$stage" "$PKG_DIR"

info "package: ${PKG_DIR#"$CONNECT_UI_ROOT"/}/"
(
  cd "$PKG_DIR"
  for f in * locales/*; do
    [ -f "$f" ] || continue
    size=$(stat -c %s "$f")
    gz=$(gzip -9c "$f" | wc -c)
    printf '    %-26s %9s bytes  (gzip %s)\n' "$f" "$size" "$gz"
  done
)
