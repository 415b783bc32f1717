//! The toolchain that builds the shipped wasm: a pinned nightly that rebuilds `std` for size
//! (issue 14), or stable when the nightly is missing or asked away. Everything else (tests,
//! the preview, the backend) builds with the project's stable toolchain.
//!
//! ```text
//! cargo xtask package                          # the pinned nightly (stable if it is missing)
//! CONNECT_UI_WASM_TOOLCHAIN=stable cargo xtask package   # the stable path, same files
//! ```

use crate::console::{note, warn};
use crate::process::{capture, cmd, words};
use anyhow::{bail, Result};
use std::process::Command;
use std::time::Duration;

/// The one nightly the release wasm is built with; `cargo xtask setup` installs it (minimal
/// profile, `rust-src`, wasm32) and the README names it. Changing it means measuring again.
pub const NIGHTLY: &str = "nightly-2026-05-20";

/// Flags for the nightly build, and why: `std` rebuilt with `optimize_for_size` and
/// `panic = "immediate-abort"` (a panic is a trap: no formatting machinery, no unwinding
/// strings; js/connect_ui.js turns a trap into an `error` event), no file/line locations in
/// panics and no `Debug` formatting bodies.
const NIGHTLY_RUSTFLAGS: &str = "-Zlocation-detail=none -Zfmt-debug=none";

/// Which toolchain builds the release wasm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WasmToolchain {
    /// [`NIGHTLY`] with `-Zbuild-std` and immediate-abort: the shipped build.
    Nightly,
    /// The project's stable toolchain with `panic = "abort"`: the fallback, same behaviour.
    Stable,
}

impl WasmToolchain {
    /// The toolchain to use: `CONNECT_UI_WASM_TOOLCHAIN` (`nightly`/`stable`) if set (an error if
    /// the nightly asked for is missing), else the nightly when it is installed with what it
    /// needs, else stable (with a warning).
    pub fn choose() -> Result<WasmToolchain> {
        let wanted = std::env::var("CONNECT_UI_WASM_TOOLCHAIN").unwrap_or_default();
        match wanted.as_str() {
            "stable" => {
                note("wasm toolchain: stable (CONNECT_UI_WASM_TOOLCHAIN=stable)");
                Ok(WasmToolchain::Stable)
            }
            "nightly" | "" if nightly_ready() => {
                note(format!(
                    "wasm toolchain: {NIGHTLY} (-Zbuild-std, immediate-abort)"
                ));
                Ok(WasmToolchain::Nightly)
            }
            "nightly" => bail!(
                "CONNECT_UI_WASM_TOOLCHAIN=nightly, but {NIGHTLY} with rust-src and wasm32 is not installed (cargo xtask setup installs it)"
            ),
            "" => {
                warn(format!(
                    "wasm toolchain: {NIGHTLY} with rust-src and wasm32 is not installed (cargo xtask setup installs it); building with stable, which makes a larger module"
                ));
                Ok(WasmToolchain::Stable)
            }
            other => bail!("CONNECT_UI_WASM_TOOLCHAIN must be `nightly` or `stable`, not `{other}`"),
        }
    }

    /// A short name for logs and reports.
    pub fn label(self) -> &'static str {
        match self {
            WasmToolchain::Nightly => NIGHTLY,
            WasmToolchain::Stable => "stable",
        }
    }

    /// `cargo build --release --lib` of the widget for wasm32 with FEATURES (`None`: the
    /// defaults). Each toolchain has its own target directory under TARGET (`std` built from
    /// source is not interchangeable with the prebuilt one).
    pub fn cargo_build(self, features: Option<&str>, target: &std::path::Path) -> Command {
        let mut c = words(
            "cargo build --release --lib --target wasm32-unknown-unknown -p connect-ui --locked",
        );
        if let Some(features) = features {
            c.args(["--no-default-features", "--features", features]);
        }
        self.apply_env(&mut c, target);
        c
    }

    /// The build settings as environment variables, so they reach cargo whoever runs it (this
    /// crate, or Trunk for the bench's release preview): the toolchain, `std` rebuilt for size,
    /// immediate-abort, the flags, and the toolchain's own target directory.
    pub fn apply_env(self, c: &mut Command, target: &std::path::Path) {
        match self {
            WasmToolchain::Nightly => {
                c.env("RUSTUP_TOOLCHAIN", NIGHTLY)
                    .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
                    .env("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size")
                    .env("CARGO_UNSTABLE_PANIC_IMMEDIATE_ABORT", "true")
                    .env("CARGO_PROFILE_RELEASE_PANIC", "immediate-abort")
                    // Replaces any configured rustflags (the workspace sets none for wasm32).
                    .env("RUSTFLAGS", NIGHTLY_RUSTFLAGS);
            }
            WasmToolchain::Stable => {
                // The nightly's flags (`-Z…`) must not leak in from a caller's environment.
                c.env_remove("RUSTFLAGS");
            }
        }
        c.env("CARGO_TARGET_DIR", self.target_dir(target));
    }

    /// Where [`WasmToolchain::cargo_build`] leaves `connect_ui.wasm`.
    pub fn output(self, target: &std::path::Path) -> std::path::PathBuf {
        self.target_dir(target)
            .join("wasm32-unknown-unknown/release/connect_ui.wasm")
    }

    /// The toolchain's target directory under TARGET: `std` built from source is not
    /// interchangeable with the prebuilt one.
    fn target_dir(self, target: &std::path::Path) -> std::path::PathBuf {
        match self {
            WasmToolchain::Nightly => target.join("wasm-nightly"),
            WasmToolchain::Stable => target.to_path_buf(),
        }
    }
}

/// Whether [`NIGHTLY`] runs and has `rust-src` and the wasm32 target.
pub fn nightly_ready() -> bool {
    let t = Duration::from_secs(60);
    let components = capture(
        &mut cmd(
            "rustup",
            ["component", "list", "--installed", "--toolchain", NIGHTLY],
        ),
        t,
    )
    .unwrap_or_default();
    components.lines().any(|l| l.trim() == "rust-src")
        && components
            .lines()
            .any(|l| l.trim() == "rust-std-wasm32-unknown-unknown")
}

/// `rustup toolchain install` of [`NIGHTLY`] (minimal, rust-src, wasm32): about 15 s here.
pub fn install_command() -> Command {
    cmd(
        "rustup",
        [
            "toolchain",
            "install",
            NIGHTLY,
            "--profile",
            "minimal",
            "--component",
            "rust-src",
            "--target",
            "wasm32-unknown-unknown",
        ],
    )
}
