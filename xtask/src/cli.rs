//! The command line: `cargo xtask <command> [options]`, each option also settable through the
//! environment variable the bash scripts read (switches as `1`/`0`, `true`/`false`, `yes`/`no`).

use crate::layers::wasm::Browser;
use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// `cargo xtask`: Connect UI's setup, tests, preview, package and benchmark.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "Connect UI's task runner: setup, tests, preview, package and benchmark",
    after_help = "Logs: target/logs/. Documentation: xtask/README.md."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Install what building needs (with --test: testing too), each tool only if missing.
    Setup {
        /// Also Chromium, ChromeDriver, Firefox ESR, fonts (apt) and geckodriver.
        #[arg(long)]
        test: bool,
    },
    /// Every check (what CI runs): setup --test, lints, native tests, wasm tests in Chromium and
    /// Firefox, e2e, embedding, the README's preview command. Ends with `N passed, M failed`.
    Test,
    /// The preview page with a live backend: backend on 127.0.0.1:3000, `trunk serve` on :8080.
    Preview(PreviewArgs),
    /// The npm-style package in target/pkg/.
    Package(PackageArgs),
    /// The benchmark (not part of `test`); writes BENCHMARKS.md.
    Bench(BenchArgs),
    /// Layer (a) alone: rustfmt's check and clippy (native and wasm32).
    Lint,
    /// Layer (b) alone: native tests of core, the backend, the widget's FormState and the xtask.
    Native,
    /// The backend's tests alone (part of native): on SQLite, then again on a throwaway
    /// PostgreSQL cluster (installed with apt if missing), counted apart.
    BackendTest,
    /// The widget's wasm-bindgen tests in headless browsers against live servers.
    WasmTest(WasmTestArgs),
    /// The end-to-end suite against the release build.
    E2e(NodeLayerArgs<E2eBuild>),
    /// The embedding tests (package, Leptos example, ES module, element, iframe, memory).
    EmbedTest(EmbedArgs),
    /// The README's preview command, run as a new user would (needs ports 3000 and 8080).
    ReadmeTest(NodeLayerArgs<NoBuild>),
    /// Print `export` lines that put the project's tools first on PATH: eval "$(cargo xtask env)".
    Env,
}

impl Command {
    /// Whether the command drives browsers (and so gets its own temporary directory).
    pub fn starts_browsers(&self) -> bool {
        matches!(
            self,
            Command::Test
                | Command::Bench(_)
                | Command::WasmTest(_)
                | Command::E2e(_)
                | Command::EmbedTest(_)
                | Command::ReadmeTest(_)
        )
    }
}

/// `--skip-setup`, shared by the commands that run setup first.
#[derive(Debug, Args, Clone, Copy)]
pub struct SkipSetup {
    /// Don't run setup first (`test` runs it once for all layers).
    #[arg(long = "skip-setup", env = "SKIP_SETUP", value_parser = BoolishValueParser::new())]
    pub skip_setup: bool,
}

/// Options of `preview`.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The backend's port (Trunk.toml's proxy expects 3000).
    #[arg(long, env = "BACKEND_PORT", default_value_t = 3000)]
    pub backend_port: u16,
    /// The backend's SQLite file (default target/preview/connect-ui.sqlite3).
    #[arg(long, env = "CONNECT_UI_DB")]
    pub db: Option<PathBuf>,
    /// Arguments for `trunk serve` (e.g. --release).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub trunk_args: Vec<String>,
}

/// Options of `package`.
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// Where to put the package (default target/pkg).
    #[arg(long, env = "PKG_DIR")]
    pub out: Option<PathBuf>,
    /// Whether setup runs first.
    #[command(flatten)]
    pub setup: SkipSetup,
}

/// Options of `bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Reuse target/bench/{dist,pkg} and the backend binaries.
    #[arg(long, env = "BENCH_SKIP_BUILD", value_parser = BoolishValueParser::new())]
    pub skip_build: bool,
    /// Leave BENCHMARKS.md alone.
    #[arg(long, env = "BENCH_NO_WRITE", value_parser = BoolishValueParser::new())]
    pub no_write: bool,
    /// backend/bench.sh's REQUESTS CONCURRENCY MAX_SECONDS.
    #[arg(long, env = "BENCH_BACKEND_ARGS", default_value = "20000 32 60")]
    pub backend_args: String,
    /// Whether setup runs first.
    #[command(flatten)]
    pub setup: SkipSetup,
}

/// Options of `wasm-test`.
#[derive(Debug, Args)]
pub struct WasmTestArgs {
    /// Browsers to run in, in order (default: chromium firefox).
    #[arg(value_enum)]
    pub browsers: Vec<Browser>,
    /// Extra `cargo test` arguments, after `--` (e.g. `-- --test faults`).
    #[arg(last = true)]
    pub cargo_args: Vec<String>,
    /// Preferred backend port (default: any free port).
    #[arg(long, env = "WASM_TEST_BACKEND_PORT", default_value_t = 0)]
    pub backend_port: u16,
    /// Preferred fault server port (default: any free port).
    #[arg(long, env = "WASM_TEST_FAULTS_PORT", default_value_t = 0)]
    pub faults_port: u16,
    /// Preferred port for the test runner's page (default: any free port).
    #[arg(long, env = "WASM_TEST_RUNNER_PORT", default_value_t = 0)]
    pub runner_port: u16,
    /// Whether setup runs first.
    #[command(flatten)]
    pub setup: SkipSetup,
}

/// How a node layer's build step is skipped (`E2E_SKIP_BUILD`; the README test has none).
pub trait BuildSkip: Args + std::fmt::Debug {
    /// Whether to reuse what was built before.
    fn skip(&self) -> bool;
}

/// e2e's `--skip-build`.
#[derive(Debug, Args)]
pub struct E2eBuild {
    /// Reuse dist/ and the built backend.
    #[arg(long = "skip-build", env = "E2E_SKIP_BUILD", value_parser = BoolishValueParser::new())]
    pub skip_build: bool,
}

impl BuildSkip for E2eBuild {
    fn skip(&self) -> bool {
        self.skip_build
    }
}

/// No build step.
#[derive(Debug, Args)]
pub struct NoBuild {}

impl BuildSkip for NoBuild {
    fn skip(&self) -> bool {
        false
    }
}

/// Options of a layer run by `node --test`.
#[derive(Debug, Args)]
pub struct NodeLayerArgs<B: BuildSkip> {
    /// Whether the build step is skipped.
    #[command(flatten)]
    pub build: B,
    /// Whether setup runs first.
    #[command(flatten)]
    pub setup: SkipSetup,
    /// Arguments for `node --test` (e.g. --test-name-pattern=Kandji).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub node_args: Vec<String>,
}

/// Options of `embed-test`.
#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// Reuse target/pkg, the backend and the example's dist.
    #[arg(long = "skip-build", env = "EMBED_SKIP_BUILD", value_parser = BoolishValueParser::new())]
    pub skip_build: bool,
    /// Browsers for e2e/embed-suite.mjs, space-separated.
    #[arg(long, env = "EMBED_BROWSERS", default_value = "chromium firefox")]
    pub browsers: String,
    /// Whether setup runs first.
    #[command(flatten)]
    pub setup: SkipSetup,
    /// Arguments for `node --test` (e.g. --test-name-pattern=iframe).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub node_args: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Command {
        Cli::try_parse_from(std::iter::once("cargo xtask").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
            .command
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn wasm_test_takes_browsers_and_cargo_args_after_a_double_dash() {
        let Command::WasmTest(a) =
            parse(&["wasm-test", "chrome", "firefox", "--", "--test", "faults"])
        else {
            panic!()
        };
        assert_eq!(a.browsers, [Browser::Chromium, Browser::Firefox]);
        assert_eq!(a.cargo_args, ["--test", "faults"]);
        let Command::WasmTest(a) = parse(&["wasm-test"]) else {
            panic!()
        };
        assert!(a.browsers.is_empty() && a.cargo_args.is_empty());
        assert!(Cli::try_parse_from(["cargo xtask", "wasm-test", "safari"]).is_err());
    }

    #[test]
    fn node_layers_pass_their_arguments_through() {
        let Command::E2e(a) = parse(&["e2e", "--skip-build", "--test-name-pattern=Kandji"]) else {
            panic!()
        };
        assert!(a.build.skip_build);
        assert_eq!(a.node_args, ["--test-name-pattern=Kandji"]);
        let Command::EmbedTest(a) = parse(&[
            "embed-test",
            "--browsers",
            "firefox",
            "--test-name-pattern",
            "iframe",
        ]) else {
            panic!()
        };
        assert_eq!(a.browsers, "firefox");
        assert_eq!(a.node_args, ["--test-name-pattern", "iframe"]);
    }

    #[test]
    fn preview_passes_trunk_arguments_through() {
        let Command::Preview(a) = parse(&["preview", "--release"]) else {
            panic!()
        };
        assert_eq!(a.trunk_args, ["--release"]);
        let Command::Preview(a) = parse(&["preview", "--backend-port", "3001"]) else {
            panic!()
        };
        assert_eq!(a.backend_port, 3001);
        assert!(a.trunk_args.is_empty());
    }

    #[test]
    fn setup_and_test_take_what_the_scripts_took() {
        assert!(matches!(
            parse(&["setup", "--test"]),
            Command::Setup { test: true }
        ));
        assert!(matches!(parse(&["setup"]), Command::Setup { test: false }));
        assert!(matches!(parse(&["test"]), Command::Test));
        assert!(Cli::try_parse_from(["cargo xtask", "test", "--bogus"]).is_err());
    }
}
