//! `cargo xtask package`: the npm-style package folder (target/pkg/: the ES module, the custom
//! element, the iframe page and host script) from the release library build: cargo build
//! (wasm32; the pinned nightly of `toolchain.rs`, or stable) of two modules, form-only and full,
//! each → wasm-bindgen --target web → wasm-opt -Oz (npm binaryen) → + the hand-written files
//! in js/, the stylesheet and the locales. Prints the file sizes.

use crate::console::{info, note};
use crate::ctx::{which, Ctx};
use crate::process::{capture_bytes, cmd, must, words};
use crate::shrink;
use crate::toolchain::WasmToolchain;
use crate::versions::manifest_version;
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::time::Duration;

/// The wasm features current rustc emits; wasm-opt must accept them all (see index.html).
pub const WASM_OPT_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// The hand-written files copied as they are.
const JS_FILES: [&str; 9] = [
    "connect_ui.js",
    "connect_ui.d.ts",
    "connect_ui_shadow.css",
    "connect_ui_host.js",
    "connect_ui_host.d.ts",
    "connect_ui_embed.js",
    "connect_ui_embed.css",
    "embed.html",
    "README.md",
];

/// The package's two wasm modules: wasm-bindgen's out-name and the cargo features (`None`: the
/// defaults). `mount()` (js/connect_ui.js) loads the form-only one when the host fixes the
/// provider and the full one (with the picker) only when the picker is needed.
pub const MODULES: [(&str, Option<&str>); 2] = [
    ("connect_ui_form_wasm", Some("embed")),
    ("connect_ui_wasm", None),
];

/// Builds the package into OUT (a fresh folder swapped in at the end: a failed run never leaves
/// a half-written package, and an old package never keeps stale files).
pub fn run(ctx: &Ctx, out: &Path) -> Result<()> {
    if which("wasm-opt").as_deref() != Some(ctx.npm_wasm_opt().as_path()) {
        bail!("wasm-opt on PATH is not the npm one in tools/node_modules/.bin (run cargo xtask setup)");
    }
    let toolchain = WasmToolchain::choose()?;
    let stage = out.with_extension("tmp");
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(&stage).with_context(|| format!("creating {}", stage.display()))?;

    for (name, features) in MODULES {
        let log = format!("package-cargo-{name}");
        info(format!(
            "package: {name}: cargo build --release --lib (wasm32, {}, features {}) (log: target/logs/{log}.log)",
            toolchain.label(),
            features.unwrap_or("default")
        ));
        must(
            ctx,
            &log,
            "cargo build (wasm32, release)",
            &mut toolchain.cargo_build(features, &ctx.target),
        )?;
        let wasm_in = toolchain.output(&ctx.target);
        if !wasm_in.is_file() {
            bail!("cargo did not produce {}", wasm_in.display());
        }

        info(format!("package: {name}: wasm-bindgen --target web"));
        let mut bindgen = words("wasm-bindgen --target web --no-typescript --out-name");
        bindgen.arg(name).arg("--out-dir").arg(&stage).arg(&wasm_in);
        must(
            ctx,
            &format!("package-bindgen-{name}"),
            "wasm-bindgen",
            &mut bindgen,
        )?;

        // With its names, for twiggy (`cargo xtask bench`): the same module before wasm-opt.
        let names = ctx.out.join("pkg-names");
        std::fs::create_dir_all(&names)?;
        std::fs::copy(
            stage.join(format!("{name}_bg.wasm")),
            names.join(format!("{name}_bg.wasm")),
        )?;

        let shrunk = shrink::run(
            &stage.join(format!("{name}_bg.wasm")),
            &stage.join(format!("{name}.js")),
            name,
        )?;
        note(format!(
            "shortened {} import names, dropped {} unused exports",
            shrunk.imports, shrunk.exports
        ));

        info(format!("package: {name}: wasm-opt -Oz"));
        let wasm = stage.join(format!("{name}_bg.wasm"));
        let optimized = stage.join(format!("{name}_bg.opt.wasm"));
        let before = file_size(&wasm);
        // The name section (kept by the build, for twiggy) and the producers section are not shipped.
        let mut opt = words("wasm-opt -Oz");
        opt.args(WASM_OPT_FEATURES)
            .args(["--strip-debug", "--strip-producers", "-o"])
            .arg(&optimized)
            .arg(&wasm);
        must(
            ctx,
            &format!("package-wasm-opt-{name}"),
            "wasm-opt -Oz",
            &mut opt,
        )?;
        std::fs::rename(&optimized, &wasm)?;
        note(format!(
            "wasm-opt: {} KiB -> {} KiB",
            before / 1024,
            file_size(&wasm) / 1024
        ));
    }

    for f in JS_FILES {
        std::fs::copy(ctx.root.join("js").join(f), stage.join(f))
            .with_context(|| format!("copying js/{f}"))?;
    }
    std::fs::copy(
        ctx.root.join("style/connect-ui.css"),
        stage.join("connect_ui.css"),
    )?;
    // The catalog format's JSON Schema, so editors validate a host's catalog.
    std::fs::copy(
        ctx.root.join("core/catalog/catalog.schema.json"),
        stage.join("catalog.schema.json"),
    )?;
    // Every locale but English (compiled in), fetched on demand from locales/<code>.json.
    std::fs::create_dir_all(stage.join("locales"))?;
    for entry in std::fs::read_dir(ctx.root.join("core/locales"))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_owned();
        if path.extension().is_some_and(|e| e == "json") && name != "en.json" {
            std::fs::copy(&path, stage.join("locales").join(name))?;
        }
    }
    let manifest = std::fs::read_to_string(ctx.root.join("Cargo.toml"))?;
    let version = manifest_version(&manifest).context("no version in Cargo.toml")?;
    let package_json = std::fs::read_to_string(ctx.root.join("js/package.json"))?;
    std::fs::write(
        stage.join("package.json"),
        package_json.replace("\"0.0.0-template\"", &format!("\"{version}\"")),
    )?;

    // Every file the module graph names must be in the package (a typo would only show in a browser).
    for f in [
        "connect_ui_wasm.js",
        "connect_ui_wasm_bg.wasm",
        "connect_ui_form_wasm.js",
        "connect_ui_form_wasm_bg.wasm",
        "connect_ui.css",
        "connect_ui_shadow.css",
    ] {
        if file_size(&stage.join(f)) == 0 {
            bail!("package is missing {f}");
        }
    }
    for (name, _) in MODULES {
        let glue = std::fs::read_to_string(stage.join(format!("{name}.js")))?;
        if !glue.contains("export function mount")
            || !glue.contains("export function check_options")
        {
            bail!("wasm-bindgen output {name}.js lacks the mount() or check_options() export");
        }
    }

    // Minified: wasm-bindgen's glue and the hand-written modules and stylesheets are shipped
    // as esbuild's `--minify` makes them (same module format, no bundling: every file stays a
    // file of its own), about 6 KiB less for a first load (issue 14).
    let esbuild = ctx.root.join("tools/node_modules/.bin/esbuild");
    if !esbuild.is_file() {
        bail!("no {} (run cargo xtask setup)", esbuild.display());
    }
    for entry in std::fs::read_dir(&stage)? {
        let path = entry?.path();
        if !path.extension().is_some_and(|e| e == "js" || e == "css") {
            continue;
        }
        let mut minify = cmd(
            &esbuild,
            ["--minify", "--log-level=warning", "--allow-overwrite"],
        );
        minify
            .arg(&path)
            .arg(format!("--outfile={}", path.display()));
        must(ctx, "package-esbuild", "esbuild --minify", &mut minify)?;
    }

    let _ = std::fs::remove_dir_all(out);
    std::fs::rename(&stage, out)
        .with_context(|| format!("moving the package to {}", out.display()))?;

    info(format!("package: {}/", ctx.rel(out)));
    let mut files: Vec<String> = Vec::new();
    for dir in ["", "locales/"] {
        let mut names: Vec<String> = std::fs::read_dir(out.join(dir))?
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| format!("{dir}{}", e.file_name().to_string_lossy()))
            .collect();
        names.sort();
        files.extend(names);
    }
    for f in files {
        let path = out.join(&f);
        println!(
            "    {f:<26} {:>9} bytes  (gzip {})",
            file_size(&path),
            gzip_size(&path)
        );
    }
    Ok(())
}

/// PATH's size in bytes (0 if it is missing).
fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The size of `gzip -9` of PATH (0 if gzip fails).
fn gzip_size(path: &Path) -> u64 {
    let mut gzip = words("gzip -9c");
    gzip.arg(path);
    capture_bytes(&mut gzip, Duration::from_secs(60)).map_or(0, |b| b.len() as u64)
}
