//! Layer (a): formatting and clippy, natively for the workspace and for wasm32 for the widget.
//! Each check counts as one test.

use crate::console::info;
use crate::ctx::Ctx;
use crate::process::{cmd, display, run_logged, LogOpts};
use crate::tally::Tally;
use std::process::Command;

/// Runs rustfmt's check and both clippy runs, recording each.
pub fn run(ctx: &Ctx, tally: &mut Tally) {
    check(
        ctx,
        tally,
        "rustfmt",
        "fmt",
        &mut cmd("cargo", ["fmt", "--all", "--", "--check"]),
    );
    check(
        ctx,
        tally,
        "clippy (native)",
        "clippy",
        &mut cmd(
            "cargo",
            [
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
        ),
    );
    check(
        ctx,
        tally,
        "clippy (wasm32, connect-ui)",
        "clippy-wasm",
        &mut cmd(
            "cargo",
            [
                "clippy",
                "-p",
                "connect-ui",
                "--all-targets",
                "--target",
                "wasm32-unknown-unknown",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
        ),
    );
}

/// A pass/fail step counted as one test.
pub fn check(ctx: &Ctx, tally: &mut Tally, layer: &str, name: &str, command: &mut Command) {
    info(format!(
        "{layer}: {} (log: target/logs/{name}.log)",
        display(command)
    ));
    let ok = run_logged(ctx, name, command, LogOpts::default()).ok();
    tally.check(layer, ok);
}
