//! Layer (e): the README's first command as a new user runs it. e2e/readme-preview.mjs starts
//! `./scripts/preview.sh` (setup, the backend, `trunk serve` on 127.0.0.1:8080), connects once in
//! headless Chromium, types into a form and stays on the page; the page must not reload and
//! Trunk must not rebuild. Needs ports 3000 and 8080 free; stops everything it started.

use crate::ctx::Ctx;
use crate::node::{self, Suite};
use crate::tally::Tally;
use anyhow::Result;
use std::time::Duration;

/// Runs e2e/readme-preview.mjs with NODE_ARGS.
pub fn run(ctx: &Ctx, tally: &mut Tally, node_args: &[String]) -> Result<()> {
    let mut suite = Suite::new(
        "README preview (chromium)",
        "readme-preview",
        vec!["e2e/readme-preview.mjs"],
    );
    suite.node_args = node_args;
    // The first `trunk serve` build of the preview compiles the wasm in the dev profile: minutes
    // on 2 cores when nothing is cached yet.
    suite.limit = Duration::from_secs(1800);
    suite.test_timeout_ms = 1_700_000;
    node::run(ctx, tally, &suite);
    Ok(())
}
