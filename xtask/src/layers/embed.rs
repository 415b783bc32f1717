//! Layer (d2): the embedding tests, the four ways into a host page against the real backend:
//! the package (`cargo xtask package`), the Leptos host example (check, fmt, trunk build), then
//! e2e/embed-suite.mjs in Chromium (Playwright) and Firefox (puppeteer-core, WebDriver BiDi) and
//! e2e/embed-memory.mjs and e2e/embed-catalog.mjs (every provider of Nango's catalog through
//! `mount({ catalog })`) in Chromium, every page under a strict CSP (e2e/embed-server.mjs).

use crate::ctx::{Ctx, Profile};
use crate::layers::lint::check;
use crate::node::{self, Suite};
use crate::process::{cmd, words};
use crate::tally::Tally;
use anyhow::{Context, Result};
use std::ffi::OsString;
use std::time::Duration;

/// What the embedding layer may be told.
#[derive(Clone, Debug)]
pub struct Options {
    /// Reuse target/pkg, the backend and the example's dist (EMBED_SKIP_BUILD=1).
    pub skip_build: bool,
    /// The browsers for embed-suite.mjs (EMBED_BROWSERS, default `chromium firefox`).
    pub browsers: Vec<String>,
    /// Arguments for `node --test`.
    pub node_args: Vec<String>,
}

/// Builds (each build a one-test check; the suites then run with whatever is there and fail
/// clearly if something is missing) and runs the suites.
pub fn run(ctx: &Ctx, tally: &mut Tally, opts: &Options) -> Result<()> {
    let example_dist = ctx.out.join("embed/leptos-host");
    let backend_bin: OsString = std::env::var_os("EMBED_BACKEND_BIN")
        .unwrap_or_else(|| ctx.backend_bin(Profile::Debug).into());

    if !opts.skip_build {
        let exe = std::env::current_exe().context("finding the xtask binary")?;
        let mut package = cmd(exe, ["package"]);
        package.env("SKIP_SETUP", "1");
        check(ctx, tally, "embed: package", "embed-package", &mut package);
        // The package's size listing, from its log.
        let log = std::fs::read_to_string(ctx.log("embed-package")).unwrap_or_default();
        let mut listing = false;
        for line in log.lines() {
            listing |= line.contains("target/pkg/");
            if listing {
                println!("  {line}");
            }
        }
        // A debug build, like the other test layers: no fat-LTO release build just for tests.
        check(
            ctx,
            tally,
            "embed: backend build",
            "embed-backend-build",
            &mut words("cargo build -p connect-ui-backend --locked"),
        );
        // The example is its own workspace (the repository's stays as it is). Its lockfile is
        // the repository's, pruned by cargo offline: exactly the versions the widget is tested
        // with. It builds in a target directory of its own (target/leptos-host): beside the
        // workspace's own wasm builds, whose leptos has other features, rustc once found two
        // `leptos` rlibs and stopped with E0277 ("multiple different versions of crate"), and a
        // directory shared with other checkouts would hand it their `libconnect_ui.rlib` (a
        // cdylib crate's rlib has no hash in its name).
        let example_target = ctx.out.join("leptos-host");
        std::fs::copy(
            ctx.root.join("Cargo.lock"),
            ctx.root.join("examples/leptos-host/Cargo.lock"),
        )
        .context("copying Cargo.lock into the example")?;
        let mut check_example = words(
            "cargo check --manifest-path examples/leptos-host/Cargo.toml --target wasm32-unknown-unknown",
        );
        check_example
            .arg("--target-dir")
            .arg(&example_target)
            .env("CARGO_NET_OFFLINE", "true");
        check(
            ctx,
            tally,
            "embed: leptos example check",
            "embed-example-check",
            &mut check_example,
        );
        check(
            ctx,
            tally,
            "embed: leptos example fmt",
            "embed-example-fmt",
            &mut words("cargo fmt --manifest-path examples/leptos-host/Cargo.toml -- --check"),
        );
        let mut trunk = words("trunk build --config examples/leptos-host/Trunk.toml --dist");
        trunk
            .arg(&example_dist)
            .args(["--public-url", "/leptos/"])
            .env("CARGO_NET_OFFLINE", "true")
            .env("CARGO_TARGET_DIR", &example_target);
        check(
            ctx,
            tally,
            "embed: leptos example trunk build",
            "embed-example-trunk",
            &mut trunk,
        );
    }

    std::fs::create_dir_all(ctx.out.join("screenshots"))?;
    let env = |browser: &str| -> Vec<(&'static str, OsString)> {
        vec![
            ("EMBED_BROWSER", browser.into()),
            ("EMBED_LEPTOS_DIST", example_dist.clone().into()),
            ("EMBED_BACKEND_BIN", backend_bin.clone()),
        ]
    };
    for browser in &opts.browsers {
        let layer = format!("embed ({browser})");
        let name = format!("embed-{browser}");
        let mut suite = Suite::new(&layer, &name, vec!["e2e/embed-suite.mjs"]);
        suite.env = env(browser);
        suite.node_args = &opts.node_args;
        suite.test_timeout_ms = 180_000;
        node::run(ctx, tally, &suite);
    }
    let mut memory = Suite::new(
        "embed: memory (chromium)",
        "embed-memory",
        vec!["e2e/embed-memory.mjs"],
    );
    memory.env = env("chromium");
    memory.node_args = &opts.node_args;
    memory.test_timeout_ms = 180_000;
    node::run(ctx, tally, &memory);
    // (g) every provider of Nango's catalog through mount({ catalog }), and a two-mode provider.
    let mut catalog = Suite::new(
        "embed: host catalog (chromium)",
        "embed-catalog",
        vec!["e2e/embed-catalog.mjs"],
    );
    catalog.env = env("chromium");
    catalog.node_args = &opts.node_args;
    catalog.test_timeout_ms = 180_000;
    catalog.limit = Duration::from_secs(1200);
    node::run(ctx, tally, &catalog);
    Ok(())
}
