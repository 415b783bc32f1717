//! Layer (c): the widget's wasm-bindgen tests in headless Chromium and headless Firefox, against
//! the reference backend and testkit's fault server.
//!
//! The servers start on ports they choose themselves (port 0). The tests learn where they are at
//! run time: this writes `target/wasm-test/servers.json` under the repository root, which
//! wasm-bindgen-test-runner serves on the tests' own origin (it serves any file under its working
//! directory, which cargo sets to the package root), and tests/common fetches it once per page.
//! So the test crates compile once, whatever the ports. Only the runner's port is chosen ahead:
//! the backend must allow its origin by CORS.

use super::cargo_tests;
use crate::console::{info, note, show_tail, warn};
use crate::ctx::{which, Ctx, Profile};
use crate::ports;
use crate::process::{keep_at_exit, remove_at_exit, run_logged, words, LogOpts, TempDir};
use crate::servers::{start, start_backend, Server};
use crate::tally::Tally;
use anyhow::{Context, Result};
use clap::ValueEnum;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// A browser the wasm tests run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Browser {
    /// Debian's Chromium through chromedriver.
    #[value(alias = "chrome")]
    Chromium,
    /// Firefox ESR through geckodriver.
    Firefox,
}

impl Browser {
    /// Its name in logs and layer names.
    pub fn name(self) -> &'static str {
        match self {
            Browser::Chromium => "chromium",
            Browser::Firefox => "firefox",
        }
    }

    /// What the runner prints when it really drives this browser.
    fn expected_banner(self) -> &'static str {
        match self {
            Browser::Chromium => "Running headless tests in Chrome",
            Browser::Firefox => "Running headless tests in Firefox",
        }
    }
}

/// What a wasm test run may be told.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The browsers, in order (none: Chromium then Firefox).
    pub browsers: Vec<Browser>,
    /// Extra `cargo test` arguments (e.g. a test name filter).
    pub cargo_args: Vec<String>,
    /// Preferred ports (0: any free one).
    pub backend_port: u16,
    /// Preferred fault server port.
    pub faults_port: u16,
    /// Preferred runner port.
    pub runner_port: u16,
}

/// Where the tests fetch the servers' addresses from, relative to the repository root (the
/// runner's working directory) and so also the path on the runner's origin.
pub const SERVERS_JSON: &str = "target/wasm-test/servers.json";

/// `target/wasm-test/servers.json`, removed when dropped or on a signal (a stale one would send a
/// later manual run to servers that are gone).
struct ServersFile(PathBuf);

impl ServersFile {
    /// Writes the servers' URLs where the tests look for them.
    fn write(ctx: &Ctx, backend: &str, faults: &str) -> Result<ServersFile> {
        let path = ctx.root.join(SERVERS_JSON);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let json = serde_json::json!({ "backend": backend, "faults": faults });
        std::fs::write(&path, format!("{json}\n"))
            .with_context(|| format!("writing {}", path.display()))?;
        remove_at_exit(&path);
        Ok(ServersFile(path))
    }
}

impl Drop for ServersFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        keep_at_exit(&self.0);
    }
}

/// Builds the servers and the tests, starts the servers, runs the tests once per browser.
pub fn run(ctx: &Ctx, tally: &mut Tally, opts: &Options) -> Result<()> {
    let browsers = if opts.browsers.is_empty() {
        vec![Browser::Chromium, Browser::Firefox]
    } else {
        opts.browsers.clone()
    };
    let tmp = TempDir::new("wasm-test")?;

    info("building the backend and the fault server (log: target/logs/wasm-servers-build.log)");
    let mut build = words("cargo build --locked -p connect-ui-backend -p connect-ui-testkit");
    if !run_logged(ctx, "wasm-servers-build", &mut build, LogOpts::default()).ok() {
        tally.record(
            "wasm tests",
            0,
            1,
            "building the backend or the fault server failed",
        );
        return Ok(());
    }

    let cargo_test = |extra: &[&str]| -> Command {
        let mut c = words(
            "cargo test -p connect-ui --target wasm32-unknown-unknown --tests --no-fail-fast --locked",
        );
        c.args(&opts.cargo_args).args(extra).env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        );
        c
    };
    info("compiling the wasm tests (log: target/logs/wasm-build.log)");
    let compiled = run_logged(
        ctx,
        "wasm-build",
        &mut cargo_test(&["--no-run"]),
        LogOpts {
            tail: 60,
            ..LogOpts::default()
        },
    );
    if !compiled.ok() {
        tally.record("wasm tests", 0, 1, "the wasm tests did not compile");
        return Ok(());
    }

    let db = tmp.path().join("connect-ui.sqlite3");
    let faults = start_faults(ctx, opts.faults_port);
    let mut runner_port = ports::pick(opts.runner_port)?;
    let backend = start_wasm_backend(ctx, opts.backend_port, runner_port, &db);
    let (faults, mut backend) = match (faults, backend) {
        (Ok(f), Ok(b)) => (f, b),
        (f, b) => {
            for e in [f.err(), b.err()].into_iter().flatten() {
                eprintln!("{e:#}");
            }
            tally.record(
                "wasm tests",
                0,
                1,
                "the backend or the fault server did not start",
            );
            return Ok(());
        }
    };
    let mut servers = ServersFile::write(ctx, &backend.url, &faults.url)?;
    note(format!(
        "backend: {} (--mode dev), fault server: {}; the tests read both from {SERVERS_JSON}",
        backend.url, faults.url
    ));

    let geckodriver = which("geckodriver");
    for browser in browsers {
        let layer = format!("wasm tests ({})", browser.name());
        let log_name = format!("wasm-{}", browser.name());
        let mut driver_env: Vec<(&str, OsString)> = Vec::new();
        match browser {
            Browser::Chromium => driver_env.push(("CHROMEDRIVER", "/usr/bin/chromedriver".into())),
            Browser::Firefox => match &geckodriver {
                Some(path) => driver_env.push(("GECKODRIVER", path.into())),
                None => {
                    tally.record(
                        &layer,
                        0,
                        1,
                        "geckodriver is not installed (cargo xtask setup --test)",
                    );
                    continue;
                }
            },
        }
        for attempt in 1..=2 {
            // The runner binds its port itself, so it can't be held for it: recheck right before.
            let port = ports::pick(runner_port)?;
            if port != runner_port || !backend.running() {
                runner_port = port;
                drop(backend);
                backend = match start_wasm_backend(ctx, opts.backend_port, runner_port, &db) {
                    Ok(b) => b,
                    Err(e) => {
                        eprintln!("{e:#}");
                        tally.record(&layer, 0, 1, "the backend did not restart");
                        return Ok(());
                    }
                };
                drop(servers);
                servers = ServersFile::write(ctx, &backend.url, &faults.url)?;
            }
            let mut c = cargo_test(&[]);
            // The runner takes the first of *_REMOTE, then GECKODRIVER, SAFARIDRIVER,
            // CHROMEDRIVER, MSEDGEDRIVER, then PATH: clear them all and set exactly the one wanted.
            let drivers = "GECKODRIVER_REMOTE SAFARIDRIVER_REMOTE CHROMEDRIVER_REMOTE \
                MSEDGEDRIVER_REMOTE GECKODRIVER SAFARIDRIVER CHROMEDRIVER MSEDGEDRIVER NO_HEADLESS \
                GECKODRIVER_ARGS CHROMEDRIVER_ARGS";
            for var in drivers.split_whitespace() {
                c.env_remove(var);
            }
            c.envs(driver_env.iter().map(|(k, v)| (k, v)))
                .env(
                    "WASM_BINDGEN_TEST_ADDRESS",
                    format!("127.0.0.1:{runner_port}"),
                )
                .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
                .env("WASM_BINDGEN_TEST_DRIVER_TIMEOUT", "60")
                .env(
                    "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
                    ctx.root
                        .join(format!("xtask/webdriver/{}.json", browser.name())),
                );
            let ok = cargo_tests(ctx, tally, &layer, &log_name, &mut c);
            let log = std::fs::read_to_string(ctx.log(&log_name)).unwrap_or_default();
            // Lost the runner's port between the check and the bind: once more on another port.
            if !ok && attempt == 1 && log.contains("failed to spawn server") {
                tally.forget_last();
                runner_port = 0;
                note("(not counted) the runner's port was taken; running again on another port");
                continue;
            }
            // Make sure the intended browser really ran (a stray driver variable would switch it).
            if log.contains("Running headless tests in") && !log.contains(browser.expected_banner())
            {
                tally.record(
                    &format!("wasm browser check ({})", browser.name()),
                    0,
                    1,
                    &format!("the runner used another browser than {}", browser.name()),
                );
            }
            break;
        }
    }

    if !backend.running() {
        show_tail(&backend.log, &ctx.rel(&backend.log), 40);
        warn("the backend died during the wasm tests");
        tally.record(
            "wasm tests: backend",
            0,
            1,
            "the backend died during the tests",
        );
    }
    drop(servers);
    Ok(())
}

/// Testkit's fault server on PORT (0: any); it has no /health, but any fault's request log
/// answers once it listens.
fn start_faults(ctx: &Ctx, port: u16) -> Result<Server> {
    start(
        ctx,
        &ctx.bin(Profile::Debug, "connect-ui-faultserver"),
        port_or_any(port),
        &[],
        "wasm-faultserver",
        "/ok/requests",
        Duration::from_secs(30),
    )
}

/// The backend in dev mode with a temporary database, allowing the runner's origin by CORS and
/// serving core/locales/*.json (`--static-dir core`).
fn start_wasm_backend(
    ctx: &Ctx,
    port: u16,
    runner_port: u16,
    db: &std::path::Path,
) -> Result<Server> {
    let args: Vec<OsString> = vec![
        "--mode".into(),
        "dev".into(),
        "--db".into(),
        db.into(),
        "--cors-origin".into(),
        format!("http://127.0.0.1:{runner_port}").into(),
        "--static-dir".into(),
        "core".into(),
    ];
    start_backend(
        ctx,
        Profile::Debug,
        port_or_any(port),
        &args,
        "wasm-backend",
    )
}

/// A preferred port if it is free now, else 0 (the server picks).
fn port_or_any(port: u16) -> u16 {
    if port != 0 && ports::is_free(port) {
        port
    } else {
        0
    }
}
