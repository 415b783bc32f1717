//! `node --test` suites (e2e, embedding, the README's preview): run bounded, their spec report
//! shown in short, their TAP totals recorded.

use crate::console::{info, show_tail};
use crate::ctx::Ctx;
use crate::process::{display, exit_code, spawn_logged};
use crate::tally::{spec_lines, tap_totals, SpecFilter, Tally};
use std::ffi::OsString;
use std::process::Command;
use std::time::Duration;

/// One `node --test` run and how to report it.
pub struct Suite<'a> {
    /// The summary's name for it.
    pub layer: &'a str,
    /// `target/logs/NAME.log` (spec report) and `NAME.tap`.
    pub name: &'a str,
    /// Extra environment (on top of `E2E_ARTIFACTS`).
    pub env: Vec<(&'a str, OsString)>,
    /// Arguments for `node --test` given on the command line (e.g. `--test-name-pattern=…`).
    pub node_args: &'a [String],
    /// The test files (or directory).
    pub files: Vec<&'a str>,
    /// The whole run's limit (then TERM, and KILL after `kill_after`).
    pub limit: Duration,
    /// Grace between TERM and KILL at the limit.
    pub kill_after: Duration,
    /// node's `--test-timeout` in ms (node 20 applies it to each file as well as each test).
    pub test_timeout_ms: u64,
    /// Which spec lines to show.
    pub filter: SpecFilter,
}

impl<'a> Suite<'a> {
    /// A suite with the usual limits: 900 s in all, 30 s grace, 300 s per test.
    pub fn new(layer: &'a str, name: &'a str, files: Vec<&'a str>) -> Self {
        Suite {
            layer,
            name,
            env: Vec::new(),
            node_args: &[],
            files,
            limit: Duration::from_secs(900),
            kill_after: Duration::from_secs(30),
            test_timeout_ms: 300_000,
            filter: SpecFilter::ResultsAndSuites,
        }
    }
}

/// Runs SUITE, prints its test lines and reported figures, records its totals (a cancelled test
/// counts as failed; a non-zero exit without a failed test counts one). Returns whether all passed.
pub fn run(ctx: &Ctx, tally: &mut Tally, suite: &Suite) -> bool {
    let log = ctx.log(suite.name);
    let tap = ctx.logs.join(format!("{}.tap", suite.name));
    let _ = std::fs::remove_file(&tap);
    info(format!("{} (log: {})", suite.layer, ctx.rel(&log)));
    let mut cmd = Command::new("node");
    cmd.env("E2E_ARTIFACTS", ctx.out.join("screenshots"));
    for (k, v) in &suite.env {
        cmd.env(k, v);
    }
    cmd.arg("--test")
        .arg("--test-concurrency=1")
        .arg(format!("--test-timeout={}", suite.test_timeout_ms))
        .args(["--test-reporter=spec", "--test-reporter-destination=stdout"])
        .arg("--test-reporter=tap")
        .arg(format!("--test-reporter-destination={}", tap.display()))
        .args(suite.node_args)
        .args(&suite.files);
    let code = match spawn_logged(&log, &display(&cmd), &mut cmd) {
        Ok(mut group) => match group.wait_for(suite.limit) {
            Some(status) => exit_code(status),
            None => {
                group.stop_with_grace(suite.kill_after);
                124
            }
        },
        Err(e) => {
            eprintln!("cannot start node: {e}");
            127
        }
    };
    let report = String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).into_owned();
    for line in spec_lines(&report, suite.filter) {
        println!("{line}");
    }
    let t = tap_totals(&std::fs::read_to_string(&tap).unwrap_or_default());
    let mut failed = t.fail + t.cancelled;
    let mut note = if t.todo > 0 {
        format!("{} todo: known Rust-side bugs, see the test names", t.todo)
    } else {
        String::new()
    };
    if code != 0 {
        show_tail(&log, &ctx.rel(&log), 80);
        if failed == 0 {
            failed = 1;
            note = if code == 124 {
                format!("node --test stopped after {} s", suite.limit.as_secs())
            } else {
                format!("node --test exited {code} without a failed test")
            };
        }
    }
    tally.record(suite.layer, t.pass, failed, &note);
    code == 0 && failed == 0
}
