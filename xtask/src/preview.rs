//! `cargo xtask preview` (the README's `./scripts/preview.sh`): the widget's preview page with a
//! live backend. Setup, then the reference backend (debug build, `--mode dev`) on
//! 127.0.0.1:3000 with its data in target/preview/connect-ui.sqlite3 (outside what Trunk
//! watches), then `trunk serve` on http://127.0.0.1:8080 (Trunk.toml proxies /api/ to the
//! backend). Ctrl-C stops both; so does either one stopping.

use crate::console::{info, note, show_tail};
use crate::ctx::{Ctx, Profile};
use crate::http::answers;
use crate::ports::is_free;
use crate::process::{cmd, exit_code, Group};
use crate::servers::{build_backend, start_backend};
use crate::setup;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// The port `trunk serve` uses (Trunk.toml `[serve]`).
pub const TRUNK_PORT: u16 = 8080;

/// Runs the preview until Ctrl-C or until the backend or Trunk stops. PORT is the backend's
/// (Trunk.toml's proxy expects 3000); DB its SQLite file; TRUNK_ARGS go to `trunk serve`.
pub fn run(ctx: &Ctx, port: u16, db: Option<PathBuf>, trunk_args: &[String]) -> Result<()> {
    let db = db.unwrap_or_else(|| ctx.out.join("preview/connect-ui.sqlite3"));
    setup::run(ctx, false)?;

    if answers(&format!("http://127.0.0.1:{port}/health")) || !is_free(port) {
        bail!("port {port} on 127.0.0.1 is already in use (another preview running?)");
    }
    if !is_free(TRUNK_PORT) {
        bail!("port {TRUNK_PORT} on 127.0.0.1 is already in use (another trunk serve running?)");
    }
    if let Some(dir) = db.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    build_backend(ctx, Profile::Debug)?;
    info(format!(
        "starting the backend on 127.0.0.1:{port} (log: target/logs/preview-backend.log)"
    ));
    let mut backend = start_backend(
        ctx,
        Profile::Debug,
        port,
        &["--mode".into(), "dev".into(), "--db".into(), db.into()],
        "preview-backend",
    )
    .with_context(|| format!("the backend did not become healthy on 127.0.0.1:{port}"))?;
    note(format!("backend healthy: {}/health", backend.url));

    info(format!(
        "trunk serve on http://127.0.0.1:{TRUNK_PORT}/ (Ctrl-C stops the preview and the backend)"
    ));
    // Trunk keeps the terminal's output: its log is the preview's build log.
    let mut serve = cmd("trunk", ["serve"]);
    serve.args(trunk_args).stdin(Stdio::null());
    let mut trunk = Group::spawn(&mut serve).context("starting trunk serve")?;

    loop {
        if let Some(status) = trunk.wait_for(Duration::from_secs(1)) {
            if !status.success() {
                bail!("trunk serve stopped (exit {})", exit_code(status));
            }
            return Ok(());
        }
        if !backend.running() {
            drop(trunk);
            show_tail(&backend.log, &ctx.rel(&backend.log), 40);
            bail!("the backend stopped");
        }
    }
}
