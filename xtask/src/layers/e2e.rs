//! Layer (d1): the end-to-end suite (`node --test e2e/`: playwright-core driving Debian's
//! Chromium) against the release build (`trunk build --release` into dist/, wasm-opt applied),
//! each test file starting the debug backend with `--static-dir dist` on a free port.

use crate::console::{info, note};
use crate::ctx::{Ctx, Profile};
use crate::node::{self, Suite};
use crate::process::{run_logged, words, LogOpts};
use crate::tally::{SpecFilter, Tally};
use anyhow::{bail, Result};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Builds (unless SKIP_BUILD) and runs the suite with NODE_ARGS before `e2e/`.
pub fn run(ctx: &Ctx, tally: &mut Tally, skip_build: bool, node_args: &[String]) -> Result<()> {
    let build_started = SystemTime::now();
    if !skip_build {
        info("e2e: trunk build --release (log: target/logs/e2e-trunk-build.log)");
        if !run_logged(
            ctx,
            "e2e-trunk-build",
            &mut words("trunk build --release"),
            LogOpts::default(),
        )
        .ok()
        {
            tally.record("e2e", 0, 1, "trunk build --release failed");
            return Ok(());
        }
        if !run_logged(
            ctx,
            "e2e-backend-build",
            &mut words("cargo build -p connect-ui-backend --locked"),
            LogOpts::default(),
        )
        .ok()
        {
            tally.record("e2e", 0, 1, "building the backend failed");
            return Ok(());
        }
    }
    let dist = ctx.root.join("dist");
    if !dist.join("index.html").is_file() {
        bail!("dist/index.html is missing after trunk build");
    }
    if !skip_build
        && count_newer(
            &ctx.target.join("wasm-opt/release"),
            "_bg.wasm",
            build_started,
        ) == 0
    {
        tally.record("e2e", 0, 1, "trunk build --release did not run wasm-opt");
        return Ok(());
    }
    if let Some((name, size)) = first_wasm(&dist) {
        note(format!("dist: {name} {} KiB", size / 1024));
    }

    let shots = ctx.out.join("screenshots");
    std::fs::create_dir_all(&shots)?;
    let started = SystemTime::now();
    // The outer limit bounds the whole suite; each test also has its own waits. Node 20 applies
    // --test-timeout to each test file as a whole as well as to each test in it, so it is sized
    // for the longest file (e2e/a11y.test.mjs: about a minute on 2 idle cores).
    let mut suite = Suite::new("e2e (chromium)", "e2e", vec!["e2e/"]);
    suite.env = vec![
        ("E2E_BACKEND_BIN", ctx.backend_bin(Profile::Debug).into()),
        ("E2E_DIST", dist.into()),
    ];
    suite.node_args = node_args;
    suite.kill_after = Duration::from_secs(10);
    suite.filter = SpecFilter::Results;
    node::run(ctx, tally, &suite);
    note(format!(
        "screenshots: target/screenshots/ ({} new)",
        count_newer(&shots, ".png", started)
    ));
    Ok(())
}

/// The first `*.wasm` directly in DIR, with its size.
fn first_wasm(dir: &Path) -> Option<(String, u64)> {
    std::fs::read_dir(dir).ok()?.flatten().find_map(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.ends_with(".wasm")
            .then(|| (name, e.metadata().map(|m| m.len()).unwrap_or(0)))
    })
}

/// How many files under DIR (recursively) end in SUFFIX and were modified after SINCE.
pub fn count_newer(dir: &Path, suffix: &str, since: SystemTime) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => count_newer(&path, suffix, since),
                Ok(_) => {
                    let newer = e
                        .metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|m| m > since);
                    usize::from(newer && path.to_string_lossy().ends_with(suffix))
                }
                Err(_) => 0,
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::TempDir;

    #[test]
    fn count_newer_looks_into_subdirectories() {
        let dir = TempDir::new("newer-test").unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("old_bg.wasm"), "").unwrap();
        let since = SystemTime::now() - Duration::from_secs(60);
        std::fs::write(dir.path().join("a/b/x_bg.wasm"), "").unwrap();
        std::fs::write(dir.path().join("a/other.js"), "").unwrap();
        assert_eq!(count_newer(dir.path(), "_bg.wasm", since), 2);
        assert_eq!(
            count_newer(
                dir.path(),
                "_bg.wasm",
                SystemTime::now() + Duration::from_secs(60)
            ),
            0
        );
        assert_eq!(count_newer(&dir.path().join("missing"), ".png", since), 0);
    }
}
