//! Layer (b): native tests of core, the catalog tool, the backend (on SQLite, then again on a
//! throwaway PostgreSQL cluster), the widget's FormState, and this xtask.

use super::cargo_tests;
use crate::console::info;
use crate::ctx::Ctx;
use crate::postgres;
use crate::process::words;
use crate::tally::Tally;

/// The property tests' seed unless PROPTEST_RNG_SEED is set: a commit that passes keeps passing;
/// set PROPTEST_RNG_SEED (and PROPTEST_CASES) to explore new cases.
pub const PROPTEST_SEED: &str = "20261122";

/// Runs each crate's tests, recording each (all run even if one fails).
pub fn run(ctx: &Ctx, tally: &mut Tally) {
    let seed = std::env::var("PROPTEST_RNG_SEED").unwrap_or_else(|_| PROPTEST_SEED.to_string());
    info(format!("proptest seed {seed}"));
    let runs = [
        (
            "native: connect-ui-core",
            "test-core",
            "cargo test -p connect-ui-core --all-features --no-fail-fast --locked",
        ),
        // The catalog tool, on Nango's real catalog (read from ../shared/data/).
        (
            "native: connect-ui-catalog",
            "test-catalog",
            "cargo test -p connect-ui-catalog --no-fail-fast --locked",
        ),
        (
            "native: connect-ui-backend",
            "test-backend",
            "cargo test -p connect-ui-backend --no-fail-fast --locked",
        ),
        // The widget's logic outside components (FormState), natively: no browser needed.
        (
            "native: connect-ui (form state)",
            "test-widget",
            "cargo test -p connect-ui --lib --locked",
        ),
        // The task runner's own logic: tallies, ports, versions, arguments, processes.
        (
            "native: xtask",
            "test-xtask",
            "cargo test -p xtask --no-fail-fast --locked",
        ),
    ];
    for (layer, name, line) in runs {
        let mut test = words(line);
        test.env("PROPTEST_RNG_SEED", &seed);
        cargo_tests(ctx, tally, layer, name, &mut test);
        if name == "test-backend" {
            backend_on_postgres(ctx, tally, &seed);
        }
    }
}

/// The backend's two runs alone (`cargo xtask backend-test`): SQLite, then PostgreSQL.
pub fn backend(ctx: &Ctx, tally: &mut Tally) {
    let seed = std::env::var("PROPTEST_RNG_SEED").unwrap_or_else(|_| PROPTEST_SEED.to_string());
    let mut test = words("cargo test -p connect-ui-backend --no-fail-fast --locked");
    test.env("PROPTEST_RNG_SEED", &seed);
    cargo_tests(
        ctx,
        tally,
        "native: connect-ui-backend",
        "test-backend",
        &mut test,
    );
    backend_on_postgres(ctx, tally, &seed);
}

/// The layer name of the backend's run on PostgreSQL, counted apart from the SQLite run.
pub const POSTGRES_LAYER: &str = "native: connect-ui-backend on PostgreSQL";

/// The backend's tests again, each test on its own database of a throwaway cluster
/// (`CONNECT_UI_TEST_POSTGRES`), including the two-instance tests that only run there; the
/// cluster is stopped and deleted afterwards (also on Ctrl-C). A cluster that cannot start
/// counts one failure.
pub fn backend_on_postgres(ctx: &Ctx, tally: &mut Tally, seed: &str) {
    let cluster = postgres::ensure_installed(ctx).and_then(|bin| postgres::start(ctx, &bin, false));
    let mut cluster = match cluster {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ERROR: {e:#}");
            let first = format!("{e:#}");
            tally.record(
                POSTGRES_LAYER,
                0,
                1,
                first.lines().next().unwrap_or_default(),
            );
            return;
        }
    };
    let mut test = words("cargo test -p connect-ui-backend --no-fail-fast --locked");
    test.env("PROPTEST_RNG_SEED", seed)
        .env("CONNECT_UI_TEST_POSTGRES", &cluster.url);
    cargo_tests(
        ctx,
        tally,
        POSTGRES_LAYER,
        "test-backend-postgres",
        &mut test,
    );
    cluster.stop();
}
