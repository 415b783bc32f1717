//! `cargo xtask <command>`: Connect UI's setup, tests, preview, package and benchmark, in Rust
//! (typed, unit-tested) instead of bash. See xtask/README.md.

// Every item says why it exists (with clippy's -D warnings, a missing doc comment fails the lint).
#![warn(clippy::missing_docs_in_private_items)]

mod bench;
mod cli;
mod console;
mod ctx;
mod disk;
mod http;
mod layers;
mod node;
mod package;
mod ports;
mod postgres;
mod preview;
mod process;
mod servers;
mod setup;
mod shrink;
mod tally;
mod test;
mod toolchain;
mod versions;

use clap::Parser;
use cli::{Cli, Command};
use ctx::Ctx;
use layers::{standalone, wasm};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = Ctx::detect().and_then(|ctx| {
        if cli.command.starts_browsers() {
            // Before any thread exists (setting the environment is not thread-safe).
            process::private_tmpdir(&ctx.out.join("tmp"))?;
        }
        // Before any other thread: from here on Ctrl-C/TERM/HUP stop what was started.
        process::handle_signals();
        run(&ctx, cli.command)
    });
    process::stop_everything();
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("\nERROR: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs COMMAND; Ok(false) when tests (or benchmark steps) failed.
fn run(ctx: &Ctx, command: Command) -> anyhow::Result<bool> {
    match command {
        Command::Setup { test } => setup::run(ctx, test).map(|()| true),
        Command::Test => test::run(ctx),
        Command::Preview(a) => {
            preview::run(ctx, a.backend_port, a.db, &a.trunk_args).map(|()| true)
        }
        Command::Package(a) => {
            if !a.setup.skip_setup {
                setup::run(ctx, false)?;
            }
            let out = a.out.unwrap_or_else(|| ctx.out.join("pkg"));
            package::run(ctx, &ctx.root.join(out)).map(|()| true)
        }
        Command::Bench(a) => {
            if !a.setup.skip_setup {
                setup::run(ctx, true)?;
            }
            let opts = bench::Options {
                skip_build: a.skip_build,
                no_write: a.no_write,
                backend_args: a.backend_args,
            };
            bench::run(ctx, &opts)
        }
        Command::Lint => standalone(ctx, true, "lint", |ctx, tally| {
            layers::lint::run(ctx, tally);
            Ok(())
        }),
        Command::Native => standalone(ctx, true, "native", |ctx, tally| {
            layers::native::run(ctx, tally);
            Ok(())
        }),
        Command::BackendTest => standalone(ctx, true, "native", |ctx, tally| {
            layers::native::backend(ctx, tally);
            Ok(())
        }),
        Command::WasmTest(a) => {
            let opts = wasm::Options {
                browsers: a.browsers,
                cargo_args: a.cargo_args,
                backend_port: a.backend_port,
                faults_port: a.faults_port,
                runner_port: a.runner_port,
            };
            standalone(ctx, a.setup.skip_setup, "wasm tests", |ctx, tally| {
                wasm::run(ctx, tally, &opts)
            })
        }
        Command::E2e(a) => standalone(ctx, a.setup.skip_setup, "e2e", |ctx, tally| {
            layers::e2e::run(ctx, tally, cli::BuildSkip::skip(&a.build), &a.node_args)
        }),
        Command::EmbedTest(a) => {
            let opts = layers::embed::Options {
                skip_build: a.skip_build,
                browsers: a.browsers.split_whitespace().map(str::to_string).collect(),
                node_args: a.node_args,
            };
            standalone(ctx, a.setup.skip_setup, "embed", |ctx, tally| {
                layers::embed::run(ctx, tally, &opts)
            })
        }
        Command::ReadmeTest(a) => {
            standalone(ctx, a.setup.skip_setup, "README preview", |ctx, tally| {
                layers::readme::run(ctx, tally, &a.node_args)
            })
        }
        Command::Env => {
            ctx::print_env();
            Ok(true)
        }
    }
}
