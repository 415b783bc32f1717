//! `cargo xtask test` (the README's `./scripts/test.sh`, and CI): setup --test, then every layer
//! in order, each running even if an earlier one failed, then the setup and test times, the
//! per-layer table and `N passed, M failed`.

use crate::console::{info, minutes};
use crate::ctx::Ctx;
use crate::disk;
use crate::layers::{self, run_layer, wasm};
use crate::setup;
use crate::tally::Tally;
use anyhow::Result;
use std::time::Instant;

/// Runs everything; Ok(false) if any test or check failed.
pub fn run(ctx: &Ctx) -> Result<bool> {
    let started = Instant::now();
    if let Some(free) = disk::free_bytes(&ctx.out) {
        info(format!("disk: {} free at start", disk::gib(free)));
    }
    info("setup (cargo xtask setup --test)");
    setup::run(ctx, true)?;
    let setup_time = started.elapsed();
    let mut tally = Tally::default();

    println!();
    info("(a) formatting and lints");
    layers::lint::run(ctx, &mut tally);

    println!();
    info("(b) native tests");
    layers::native::run(ctx, &mut tally);

    println!();
    info("(c) wasm browser tests");
    let port = |var: &str| env(var).and_then(|v| v.parse().ok()).unwrap_or(0);
    let wasm_opts = wasm::Options {
        backend_port: port("WASM_TEST_BACKEND_PORT"),
        faults_port: port("WASM_TEST_FAULTS_PORT"),
        runner_port: port("WASM_TEST_RUNNER_PORT"),
        ..wasm::Options::default()
    };
    run_layer(ctx, &mut tally, "wasm tests", |ctx, tally| {
        wasm::run(ctx, tally, &wasm_opts)
    });

    println!();
    info("(d) end-to-end");
    run_layer(ctx, &mut tally, "e2e", |ctx, tally| {
        layers::e2e::run(ctx, tally, is_one("E2E_SKIP_BUILD"), &[])
    });
    run_layer(ctx, &mut tally, "embed", |ctx, tally| {
        let browsers = env("EMBED_BROWSERS").unwrap_or_else(|| "chromium firefox".into());
        let opts = layers::embed::Options {
            skip_build: is_one("EMBED_SKIP_BUILD"),
            browsers: browsers.split_whitespace().map(str::to_string).collect(),
            node_args: Vec::new(),
        };
        layers::embed::run(ctx, tally, &opts)
    });

    println!();
    info("(e) the README's preview command, as a new user runs it");
    run_layer(ctx, &mut tally, "README preview", |ctx, tally| {
        layers::readme::run(ctx, tally, &[])
    });

    let total = started.elapsed();
    println!(
        "\n(setup {}, tests {}, total {}; logs in target/logs/)",
        minutes(setup_time),
        minutes(total - setup_time),
        minutes(total)
    );
    report_disk(ctx);
    print!("{}", tally.summary());
    Ok(tally.all_passed())
}

/// The disk after the run (free space, what the target directories hold) and, if a step ran out
/// of space, which one: otherwise that shows only as a linker crash or a truncated file.
fn report_disk(ctx: &Ctx) {
    let mut line = format!(
        "disk: target/ holds {}",
        disk::gib(disk::dir_bytes(&ctx.out))
    );
    if ctx.target != ctx.out {
        line += &format!(
            ", {} {}",
            ctx.rel(&ctx.target),
            disk::gib(disk::dir_bytes(&ctx.target))
        );
    }
    if let Some(free) = disk::free_bytes(&ctx.out) {
        line += &format!("; {} free", disk::gib(free));
    }
    println!("{line}");
    let full = disk::logs_with_full_disk(&ctx.logs);
    if !full.is_empty() {
        println!(
            "THE DISK WAS FULL: \"No space left on device\" in target/logs/{}. Free some space \
             (a fresh run needs the figure above) and run again.",
            full.join(", target/logs/")
        );
    }
}

/// An environment variable, if set and not empty.
fn env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

/// Whether VAR is `1` (the layers' `*_SKIP_BUILD` switches, as the bash scripts read them).
fn is_one(var: &str) -> bool {
    env(var).as_deref() == Some("1")
}
