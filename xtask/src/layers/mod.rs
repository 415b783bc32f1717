//! The test layers `cargo xtask test` runs in order, each also runnable on its own, and what they
//! share: running one so that a broken layer is counted and the next still runs, and recording a
//! cargo test run's totals.

pub mod e2e;
pub mod embed;
pub mod lint;
pub mod native;
pub mod readme;
pub mod wasm;

use crate::console::info;
use crate::ctx::Ctx;
use crate::process::{run_logged, LogOpts};
use crate::setup;
use crate::tally::{failed_tests, libtest_totals, Tally};
use anyhow::Result;
use std::process::Command;

/// Runs LAYER inside a bigger run: an error that recorded nothing counts as one failure of it,
/// and the caller goes on with the next layer.
pub fn run_layer(
    ctx: &Ctx,
    tally: &mut Tally,
    layer: &str,
    f: impl FnOnce(&Ctx, &mut Tally) -> Result<()>,
) {
    let before = tally.len();
    if let Err(e) = f(ctx, tally) {
        eprintln!("\nERROR: {e:#}");
        if tally.len() == before {
            let first = format!("{e:#}");
            let first = first.lines().next().unwrap_or_default();
            tally.record(layer, 0, 1, first);
        }
    }
}

/// Runs one layer on its own (`cargo xtask e2e`, …): `setup --test` first unless SKIP_SETUP,
/// then the layer, then its summary. Returns whether everything passed.
pub fn standalone(
    ctx: &Ctx,
    skip_setup: bool,
    layer: &str,
    f: impl FnOnce(&Ctx, &mut Tally) -> Result<()>,
) -> Result<bool> {
    if !skip_setup {
        setup::run(ctx, true)?;
    }
    let mut tally = Tally::default();
    run_layer(ctx, &mut tally, layer, f);
    print!("{}", tally.summary());
    Ok(tally.all_passed())
}

/// Runs a cargo test command quietly (log `target/logs/NAME.log`), shows the failed tests and
/// records the totals; a command that fails without a failed test (a build error, a crashed
/// runner) counts one failure. Returns whether it passed.
pub fn cargo_tests(
    ctx: &Ctx,
    tally: &mut Tally,
    layer: &str,
    name: &str,
    cmd: &mut Command,
) -> bool {
    info(format!("{layer} (log: target/logs/{name}.log)"));
    let run = run_logged(
        ctx,
        name,
        cmd,
        LogOpts {
            tail: 60,
            ..LogOpts::default()
        },
    );
    let text = String::from_utf8_lossy(&std::fs::read(&run.log).unwrap_or_default()).into_owned();
    let (passed, failed) = libtest_totals(&text);
    for line in failed_tests(&text) {
        println!("    {line}");
    }
    if !run.ok() && failed == 0 {
        let note = format!(
            "command failed with exit {} before reporting a failed test",
            run.code
        );
        tally.record(layer, passed, 1, &note);
    } else {
        tally.record(layer, passed, failed, "");
    }
    run.ok()
}
