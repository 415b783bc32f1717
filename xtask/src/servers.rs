//! The servers tasks start (the reference backend, testkit's fault server): built, started on
//! 127.0.0.1 with their output in a log, waited for within a limit, stopped when dropped.

use crate::console::{info, show_tail};
use crate::ctx::{Ctx, Profile};
use crate::http::wait_http;
use crate::ports::listening_url;
use crate::process::{display, must, spawn_logged, Group};
use anyhow::{anyhow, bail, Context, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A running server; its process group is stopped when this is dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its log file.
    pub log: PathBuf,
    /// Its process group.
    group: Group,
}

impl Server {
    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.group.running()
    }
}

/// Builds the backend in PROFILE (`cargo build -p connect-ui-backend --locked`).
pub fn build_backend(ctx: &Ctx, profile: Profile) -> Result<()> {
    let name = match profile {
        Profile::Debug => "debug",
        Profile::Release => "release",
    };
    info(format!(
        "building the backend ({name}; log: target/logs/backend-build.log)"
    ));
    let mut cmd = Command::new("cargo");
    cmd.args(["build", "-p", "connect-ui-backend", "--locked"]);
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    must(
        ctx,
        "backend-build",
        "building connect-ui-backend",
        &mut cmd,
    )
}

/// Starts BIN with `--addr 127.0.0.1:PORT` (0: any free port; the server prints the one it
/// bound) and ARGS, output in `target/logs/LOG_NAME.log`; waits for its address, then for
/// `GET <url>READY_PATH` to answer, LIMIT in all. On failure the log's tail is shown and the
/// server stopped.
pub fn start(
    ctx: &Ctx,
    bin: &Path,
    port: u16,
    args: &[OsString],
    log_name: &str,
    ready_path: &str,
    limit: Duration,
) -> Result<Server> {
    if !bin.is_file() {
        bail!("{} is missing (build it first)", ctx.rel(bin));
    }
    let log = ctx.log(log_name);
    let mut cmd = Command::new(bin);
    cmd.arg("--addr")
        .arg(format!("127.0.0.1:{port}"))
        .args(args);
    let group = spawn_logged(&log, &display(&cmd), &mut cmd)
        .with_context(|| format!("starting {}", bin.display()))?;
    let mut server = Server {
        url: String::new(),
        log,
        group,
    };
    match wait_ready(&mut server, limit, ready_path) {
        Ok(()) => Ok(server),
        Err(e) => {
            show_tail(&server.log, &ctx.rel(&server.log), 40);
            server.group.stop();
            Err(e)
        }
    }
}

/// Waits for the server's `listening on` line, then for READY_PATH to answer.
fn wait_ready(server: &mut Server, limit: Duration, ready_path: &str) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        let text = std::fs::read_to_string(&server.log).unwrap_or_default();
        if let Some(url) = listening_url(&text) {
            server.url = url;
            break;
        }
        if let Some(status) = server.group.poll() {
            bail!("the server exited ({status}) before it listened");
        }
        if Instant::now() >= deadline {
            bail!(
                "the server did not say where it listens within {} s",
                limit.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = deadline.saturating_duration_since(Instant::now());
    wait_http(
        &format!("{}{ready_path}", server.url),
        left.max(Duration::from_secs(1)),
        Some(&mut server.group),
    )
    .map_err(|e| anyhow!("{} did not become ready: {e}", server.url))
}

/// The reference backend on PORT (0: any) with ARGS, ready when `/health` answers (60 s at most).
pub fn start_backend(
    ctx: &Ctx,
    profile: Profile,
    port: u16,
    args: &[OsString],
    log_name: &str,
) -> Result<Server> {
    start(
        ctx,
        &ctx.backend_bin(profile),
        port,
        args,
        log_name,
        "/health",
        Duration::from_secs(60),
    )
}
