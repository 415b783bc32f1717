//! `cargo xtask bench`: the performance benchmark. Builds the release preview into
//! target/bench/dist, the package into target/bench/pkg and the release backend, then prints (and
//! writes to BENCHMARKS.md between its `bench:start` and `bench:end` markers, with the machine,
//! tool versions and date): first-load bytes, browser timings and memory (bench/bench.mjs), the
//! backend's throughput (backend/bench.sh) and twiggy's top 10. It measures, it does not pass or
//! fail: it fails only if a step broke.

use crate::console::{info, warn};
use crate::ctx::{which, Ctx, Profile};
use crate::package::WASM_OPT_FEATURES;
use crate::process::{
    capture, cmd, first_line, must, run_logged, run_teed, words, LogOpts, TempDir,
};
use crate::toolchain::WasmToolchain;
use anyhow::{bail, Result};
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// What the benchmark may be told.
#[derive(Clone, Debug)]
pub struct Options {
    /// Reuse target/bench/{dist,pkg} and the backend binaries (BENCH_SKIP_BUILD=1).
    pub skip_build: bool,
    /// Leave BENCHMARKS.md alone (BENCH_NO_WRITE=1).
    pub no_write: bool,
    /// backend/bench.sh's REQUESTS CONCURRENCY MAX_SECONDS (BENCH_BACKEND_ARGS).
    pub backend_args: String,
}

/// Builds, measures, prints and records. Ok(false) if a measuring step broke.
pub fn run(ctx: &Ctx, opts: &Options) -> Result<bool> {
    let tmp = TempDir::new("bench")?;
    let bench = ctx.out.join("bench");
    let dist = bench.join("dist");
    let pkg = bench.join("pkg");
    let names = bench.join("names");
    let out = tmp.path().join("output.txt");
    std::fs::create_dir_all(&bench)?;

    if !opts.skip_build {
        info("bench: trunk build --release into target/bench/dist (the package's toolchain; log: target/logs/bench-trunk.log)");
        let _ = std::fs::remove_dir_all(&dist);
        let mut trunk = words("trunk build --release --dist");
        trunk.arg(&dist);
        // The release preview is built like the package: the pinned nightly when it is there.
        WasmToolchain::choose()?.apply_env(&mut trunk, &ctx.target);
        must(ctx, "bench-trunk", "trunk build --release", &mut trunk)?;
        info("bench: the package into target/bench/pkg (log: target/logs/bench-package.log)");
        let exe = std::env::current_exe()?;
        let mut package = cmd(exe, ["package"]);
        package.env("SKIP_SETUP", "1").env("PKG_DIR", &pkg);
        must(ctx, "bench-package", "cargo xtask package", &mut package)?;
        // The fixed-provider host page beside the preview, with the package under /pkg/.
        copy_dir(&pkg, &dist.join("pkg"))?;
        std::fs::copy(ctx.root.join("bench/form.html"), dist.join("form.html"))?;
        info("bench: backend and load generator (release; log: target/logs/bench-backend.log)");
        must(
            ctx,
            "bench-backend",
            "building the backend",
            &mut words("cargo build --release --locked -p connect-ui-backend --bin connect-ui-backend --bin connect-ui-loadgen"),
        )?;
    }
    if !dist.join("index.html").is_file() {
        bail!(
            "no {}/index.html (run without BENCH_SKIP_BUILD=1)",
            dist.display()
        );
    }
    if !pkg.join("connect_ui_wasm_bg.wasm").is_file() {
        bail!(
            "no package in {} (run without BENCH_SKIP_BUILD=1)",
            pkg.display()
        );
    }

    let twiggy_ok = twiggy(ctx, &names);

    // Everything printed from here on also goes to OUT, for BENCHMARKS.md.
    let mut ok = true;
    let header = header(ctx);
    print!("{header}");
    std::fs::write(&out, &header)?;
    let section = |title: &str| {
        println!("\n{title}");
        append(&out, &format!("\n{title}\n"));
    };
    let node = |args: &[&str]| -> Command {
        let mut c = cmd("node", ["bench/bench.mjs"]);
        c.args(args)
            .env("E2E_DIST", &dist)
            .env("E2E_BACKEND_BIN", ctx.backend_bin(Profile::Release))
            .env("EMBED_PKG", &pkg);
        c
    };
    let mut part = |c: &mut Command, limit_secs: u64| {
        let code = run_teed(c, &out, Duration::from_secs(limit_secs));
        if code != 0 {
            let line = format!("    (this part failed: exit {code})");
            println!("{line}");
            append(&out, &format!("{line}\n"));
            ok = false;
        }
    };
    let long = 3600;

    section("(1) first load of the release build (trunk build --release; the same files for /?provider=workos and /)");
    part(&mut node(&["sizes", &dist.to_string_lossy()]), long);
    // The issue-14 budgets: the form-only first load <= 90 KiB, the picker's <= 110 KiB.
    for (title, module, budget) in [
        ("    the npm package, fixed provider: what mount({ provider }) loads (the form-only module, cargo xtask package)", "connect_ui_form_wasm", "budget=90"),
        ("    the npm package, picker: what mount() without a provider loads (the full module)", "connect_ui_wasm", "budget=110"),
    ] {
        section(title);
        part(
            &mut node(&[
                "sizes",
                &pkg.to_string_lossy(),
                budget,
                &format!("{module}_bg.wasm"),
                &format!("{module}.js"),
                "connect_ui.js",
                "connect_ui.css",
            ]),
            long,
        );
    }

    section("twiggy top 10 of the package's form-only wasm (connect_ui_form_wasm, what mount() loads for a fixed provider; names kept for twiggy, stripped when shipped)");
    if twiggy_ok {
        let shipped = pkg.join("connect_ui_form_wasm_bg.wasm");
        part(
            &mut node(&[
                "twiggy",
                &names.join("top.csv").to_string_lossy(),
                &names.join("retained.csv").to_string_lossy(),
                &shipped.to_string_lossy(),
            ]),
            long,
        );
    } else {
        let line = "    (skipped: twiggy is not installed or the named build failed; see target/logs/bench-twiggy*.log)";
        println!("{line}");
        append(&out, &format!("{line}\n"));
    }

    section("Browser figures: headless Chromium (Debian), the release build served by the backend (--static-dir)");
    part(&mut node(&["browser"]), 1200);
    part(&mut node(&["memory"]), 600);

    section("(6) backend: POST /connections under bounded loopback load (backend/bench.sh: production mode, verification off, rate limits off, temporary DB)");
    let mut backend = cmd("backend/bench.sh", opts.backend_args.split_whitespace());
    backend
        .env("BENCH_SKIP_BUILD", "1")
        .env("CARGO_TARGET_DIR", &ctx.target);
    part(&mut backend, long);
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    for line in budget_lines(&text) {
        println!("{line}");
        append(&out, &format!("{line}\n"));
    }

    if !opts.no_write {
        let md = ctx.root.join("BENCHMARKS.md");
        let figures = std::fs::read_to_string(&out)?;
        let existing = std::fs::read_to_string(&md).ok();
        std::fs::write(&md, benchmarks_md(existing.as_deref(), &figures))?;
        info("bench: figures written to BENCHMARKS.md");
    }
    Ok(ok)
}

/// Appends TEXT to the figures file (what BENCHMARKS.md gets).
fn append(path: &Path, text: &str) {
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(text.as_bytes());
    }
}

/// twiggy reads the same module as shipped but with its name section: cargo's output (the
/// profile keeps names: strip = false) through wasm-bindgen and wasm-opt -g. twiggy is installed
/// from crates.io if missing; the bench goes on without it. Returns whether its CSVs are there.
fn twiggy(ctx: &Ctx, names: &Path) -> bool {
    if which("twiggy").is_none() {
        info("bench: installing twiggy (a dev tool; the bench goes on without it; log: target/logs/bench-twiggy-install.log)");
        let mut install = words("cargo install twiggy --locked");
        install
            .env("CARGO_PROFILE_RELEASE_LTO", "off")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
        let opts = LogOpts {
            limit: Duration::from_secs(1500),
            ..LogOpts::default()
        };
        if !run_logged(ctx, "bench-twiggy-install", &mut install, opts).ok() {
            warn("twiggy could not be installed; its top 10 is skipped");
        }
    }
    // The form-only module of the package: what a host that names the provider loads.
    let raw = ctx.out.join("pkg-names/connect_ui_form_wasm_bg.wasm");
    if which("twiggy").is_none() || !raw.is_file() {
        return false;
    }
    let _ = std::fs::remove_dir_all(names);
    if std::fs::create_dir_all(names).is_err() {
        return false;
    }
    let named = names.join("named.wasm");
    let mut opt = words("wasm-opt -Oz");
    opt.args(WASM_OPT_FEATURES)
        .arg("-g")
        .arg("-o")
        .arg(&named)
        .arg(&raw);
    if !run_logged(ctx, "bench-twiggy-opt", &mut opt, LogOpts::default()).ok() {
        return false;
    }
    for (file, retained) in [("top.csv", false), ("retained.csv", true)] {
        let mut top = words("twiggy top -n 60");
        if retained {
            top.arg("--retained");
        }
        top.args(["-f", "csv"]).arg(&named);
        match capture(&mut top, Duration::from_secs(300)) {
            Some(csv) => {
                if std::fs::write(names.join(file), csv).is_err() {
                    return false;
                }
            }
            None => {
                warn(format!(
                    "twiggy top{} failed",
                    if retained { " --retained" } else { "" }
                ));
                return false;
            }
        }
    }
    true
}

/// The date, machine, tool versions, commit and load average the figures were taken with.
fn header(ctx: &Ctx) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(": "))
                .map(|(_, m)| m.to_string())
        })
        .unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let version = |program: &str, args: &[&str], word: usize| -> String {
        first_line(&mut cmd(program, args))
            .and_then(|l| l.split_whitespace().nth(word).map(str::to_string))
            .unwrap_or_default()
    };
    let playwright = std::fs::read_to_string(
        ctx.root
            .join("tools/node_modules/playwright-core/package.json"),
    )
    .ok()
    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    .and_then(|v| v["version"].as_str().map(str::to_string))
    .unwrap_or_default();
    let tools = format!(
        "rustc {}, trunk {}, wasm-bindgen {}, wasm-opt {} (npm binaryen), Chromium {}, node {}, playwright-core {playwright}",
        version("rustc", &["--version"], 1),
        version("trunk", &["--version"], 1),
        version("wasm-bindgen", &["--version"], 1),
        version("wasm-opt", &["--version"], 2),
        version("/usr/bin/chromium", &["--version"], 1),
        first_line(&mut words("node --version")).unwrap_or_default(),
    );
    let commit = first_line(&mut words("git rev-parse --short HEAD"))
        .unwrap_or_else(|| "unknown".to_string());
    let clean = capture(
        &mut words("git diff --quiet HEAD -- src core Cargo.toml Cargo.lock index.html style"),
        Duration::from_secs(60),
    )
    .is_some();
    let date = first_line(&mut cmd("date", ["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "date:     {date}\nmachine:  {cores} cores, {model}, {:.1} GiB RAM\ntools:    {tools}\ncommit:   {commit}{}\nload:     {} (1/5/15-min load average before measuring; other work on the machine skews the timings)\n",
        mem_kib / 1_048_576.0,
        if clean { "" } else { " + local changes" },
        load.join(" "),
    )
}

/// The backend budget's verdict for each `POST /connections: … = N req/s; latency ms … p99 X …`
/// line of the output: at least 3000 submits/s with p99 at most 20 ms.
pub fn budget_lines(output: &str) -> Vec<String> {
    output
        .lines()
        .filter(|l| l.starts_with("POST /connections: ") && l.contains(" req/s; latency"))
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let rps = words
                .windows(2)
                .find(|w| w[1] == "req/s;")
                .map_or("", |w| w[0]);
            let p99 = words
                .windows(2)
                .find(|w| w[0] == "p99")
                .map_or("", |w| w[1]);
            let met = rps.parse::<f64>().is_ok_and(|r| r >= 3000.0)
                && p99.parse::<f64>().is_ok_and(|p| p <= 20.0);
            format!(
                "budget: backend >= 3000 submits/s with p99 <= 20 ms: {} ({rps} req/s, p99 {p99} ms)",
                if met { "MET" } else { "NOT MET" }
            )
        })
        .collect()
}

/// BENCHMARKS.md with FIGURES between its markers (the rest, the history, kept), or a new file.
pub fn benchmarks_md(existing: Option<&str>, figures: &str) -> String {
    let block = format!(
        "<!-- bench:start (written by cargo xtask bench; edits here are overwritten) -->\n```text\n{figures}```\n<!-- bench:end -->\n"
    );
    if let Some(md) = existing {
        if md.contains("<!-- bench:start") && md.contains("<!-- bench:end -->") {
            let mut out = String::new();
            let mut skipping = false;
            for line in md.lines() {
                if line.contains("<!-- bench:start") {
                    out += &block;
                    skipping = true;
                } else if line.contains("<!-- bench:end -->") {
                    skipping = false;
                } else if !skipping {
                    out += line;
                    out.push('\n');
                }
            }
            return out;
        }
    }
    format!(
        "# Benchmarks\n\nFigures of the last `cargo xtask bench` run (see the README, \"Performance\").\n\n{block}"
    )
}

/// Copies FROM into TO, folders (the package's `locales/`) and all.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_budget_is_judged_per_line() {
        let out = "x\nPOST /connections: 20000 requests in 1.21 s = 16511 req/s; latency ms p50 1.58 p90 2.24 p99 5.38 max 63.75\nPOST /connections: statuses 201: 20000\nPOST /connections: 100 requests in 1 s = 2000 req/s; latency ms p50 1 p90 2 p99 25.0 max 30\n";
        assert_eq!(
            budget_lines(out),
            [
                "budget: backend >= 3000 submits/s with p99 <= 20 ms: MET (16511 req/s, p99 5.38 ms)",
                "budget: backend >= 3000 submits/s with p99 <= 20 ms: NOT MET (2000 req/s, p99 25.0 ms)",
            ]
        );
    }

    #[test]
    fn benchmarks_md_replaces_only_the_marked_block() {
        let md = "# Benchmarks\n\nintro\n<!-- bench:start (old) -->\n```text\nold\n```\n<!-- bench:end -->\n\n## History\nkept\n";
        let new = benchmarks_md(Some(md), "fresh\n");
        assert!(new
            .starts_with("# Benchmarks\n\nintro\n<!-- bench:start (written by cargo xtask bench"));
        assert!(new.contains("```text\nfresh\n```\n<!-- bench:end -->\n\n## History\nkept\n"));
        assert!(!new.contains("old"));
        let created = benchmarks_md(None, "f\n");
        assert!(created.starts_with("# Benchmarks\n") && created.contains("```text\nf\n```"));
        assert_eq!(benchmarks_md(Some("no markers"), "f\n"), created);
    }
}
