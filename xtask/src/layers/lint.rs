//! Layer (a): formatting and clippy, natively for the workspace and for wasm32 for the widget.
//! Each check counts as one test.

use crate::console::info;
use crate::ctx::Ctx;
use crate::process::{display, run_logged, words, LogOpts};
use crate::tally::Tally;
use std::process::Command;

/// Runs rustfmt's check and both clippy runs, recording each.
pub fn run(ctx: &Ctx, tally: &mut Tally) {
    let checks = [
        ("rustfmt", "fmt", "cargo fmt --all -- --check"),
        (
            "clippy (native)",
            "clippy",
            "cargo clippy --workspace --all-targets --locked -- -D warnings",
        ),
        (
            "clippy (wasm32, connect-ui)",
            "clippy-wasm",
            "cargo clippy -p connect-ui --all-targets --target wasm32-unknown-unknown --locked -- -D warnings",
        ),
        // The package's form-only module (no picker): its own `cfg`s must compile clean too.
        (
            "clippy (wasm32, connect-ui form-only)",
            "clippy-wasm-form",
            "cargo clippy -p connect-ui --lib --target wasm32-unknown-unknown --no-default-features --features embed --locked -- -D warnings",
        ),
        // A Leptos host with no default features at all (no `mount()`, no picker).
        (
            "clippy (wasm32, connect-ui without features)",
            "clippy-wasm-bare",
            "cargo clippy -p connect-ui --lib --target wasm32-unknown-unknown --no-default-features --locked -- -D warnings",
        ),
    ];
    for (layer, name, line) in checks {
        check(ctx, tally, layer, name, &mut words(line));
    }
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
