//! `cargo xtask setup [--test]`: installs what building (and testing) needs, each step only if
//! its result is missing or of the wrong version. apt runs in the background and the cargo
//! installs side by side, each in its own process group, while the rest goes on.

use crate::console::{info, note, show_tail, warn};
use crate::ctx::{which, Ctx};
use crate::process::{
    capture, cmd, display, first_line, must, spawn_logged, words, Group, DEFAULT_LIMIT,
};
use crate::versions::{cargo_lock_version, second_word, trunk_tool_pin, wasm_opt_version};
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::Duration;

/// The trunk the project builds with (Trunk.toml's format and `[tools]` checks are this version's).
pub const TRUNK_VERSION: &str = "0.21.14";
/// The geckodriver the Firefox wasm tests drive.
pub const GECKODRIVER_VERSION: &str = "0.37.1";
/// Debian's browsers and drivers, and Japanese glyphs for the e2e screenshots.
pub const APT_PACKAGES: [&str; 4] = [
    "chromium",
    "chromium-driver",
    "firefox-esr",
    "fonts-ipafont-gothic",
];
/// How long apt may take.
const APT_LIMIT: Duration = Duration::from_secs(15 * 60);

/// Installs what is missing (with TEST: the browsers, geckodriver and PostgreSQL's server too). Fails on the first
/// broken step, after waiting for apt if it was started.
pub fn run(ctx: &Ctx, with_test: bool) -> Result<()> {
    info("checking the base toolchain");
    for tool in ["cargo", "rustup", "rustc", "node", "npm"] {
        if which(tool).is_none() {
            bail!(
                "'{tool}' is not installed; it is part of the machine image this project expects"
            );
        }
    }
    // apt is network- and disk-bound: it runs while cargo compiles.
    let mut apt_missing = Vec::new();
    let mut apt = None;
    if with_test {
        apt_missing = APT_PACKAGES
            .iter()
            .copied()
            .filter(|p| !dpkg_installed(p))
            .collect();
        // The backend's second test run needs a PostgreSQL server (see postgres.rs).
        if crate::postgres::bin_dir().is_none() {
            apt_missing.push("postgresql");
        }
        if !apt_missing.is_empty() {
            apt = Some(start_apt(ctx, &apt_missing)?);
        }
    }
    let tools = install_tools(ctx, with_test);
    let apt_result = match apt {
        Some(group) => wait_apt(ctx, group, &apt_missing),
        None => {
            if with_test {
                note(format!("apt packages {}: present", APT_PACKAGES.join(" ")));
            }
            Ok(())
        }
    };
    tools?;
    apt_result?;
    if with_test {
        for bin in [
            "/usr/bin/chromium",
            "/usr/bin/chromedriver",
            "/usr/bin/firefox-esr",
        ] {
            if !std::path::Path::new(bin).is_file() {
                bail!(
                    "{bin} is missing after installing {}",
                    APT_PACKAGES.join(" ")
                );
            }
        }
    }
    info("setup done");
    Ok(())
}

/// Whether Debian package PACKAGE is installed.
fn dpkg_installed(package: &str) -> bool {
    capture(
        &mut cmd("dpkg-query", ["-W", "-f=${Status}", package]),
        Duration::from_secs(30),
    )
    .is_some_and(|s| s.contains("install ok installed"))
}

/// Starts `apt-get update && apt-get install MISSING` in the background (sudo unless root).
fn start_apt(ctx: &Ctx, missing: &[&str]) -> Result<Group> {
    // SAFETY: getuid has no preconditions.
    let root = unsafe { libc::getuid() } == 0;
    if !root && which("sudo").is_none() {
        bail!("installing {} needs root (or sudo)", missing.join(" "));
    }
    let sudo = if root { "" } else { "sudo " };
    info(format!(
        "installing {} with apt in the background (log: target/logs/setup-apt.log)",
        missing.join(" ")
    ));
    let script = format!(
        "set -e; {sudo}apt-get update -q; {sudo}apt-get install -y -q {}",
        missing.join(" ")
    );
    let mut c = cmd("sh", ["-c", &script]);
    c.env("DEBIAN_FRONTEND", "noninteractive");
    let shown = display(&c);
    Ok(spawn_logged(&ctx.log("setup-apt"), &shown, &mut c)?)
}

/// Waits for apt, at most 15 min, and fails with its log's tail if it failed.
fn wait_apt(ctx: &Ctx, mut apt: Group, missing: &[&str]) -> Result<()> {
    info("waiting for apt (at most 15 min)");
    let log = ctx.log("setup-apt");
    match apt.wait_for(APT_LIMIT) {
        None => {
            apt.stop();
            show_tail(&log, &ctx.rel(&log), 40);
            bail!("apt-get did not finish within 15 minutes")
        }
        Some(status) if !status.success() => {
            show_tail(&log, &ctx.rel(&log), 40);
            bail!(
                "apt-get install {} failed (full log: target/logs/setup-apt.log)",
                missing.join(" ")
            )
        }
        Some(_) => Ok(()),
    }
}

/// A `cargo install` running in the background.
struct Install {
    /// What is installed, for messages.
    what: String,
    /// Its log.
    log: PathBuf,
    /// The running `cargo install`.
    group: Group,
}

/// Starts `cargo install ARGS` in its own process group, output in `target/logs/NAME.log`.
/// Tool builds are throwaway binaries: no fat LTO, 16 codegen units (trunk's manifest asks for
/// fat LTO), which roughly halves their install time on 2 cores.
fn start_install(ctx: &Ctx, name: &str, what: String, args: &[&str]) -> Result<Install> {
    info(format!(
        "installing {what} in the background (log: target/logs/{name}.log)"
    ));
    let log = ctx.log(name);
    let mut c = cmd("cargo", ["install"]);
    c.args(args)
        .env("CARGO_PROFILE_RELEASE_LTO", "off")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
    let group = spawn_logged(&log, &display(&c), &mut c)
        .with_context(|| format!("starting the install of {what}"))?;
    Ok(Install { what, log, group })
}

/// The version `PROGRAM --version` reports (second word of its first line), if it runs.
fn tool_version(program: &str) -> Option<String> {
    which(program)?;
    first_line(&mut cmd(program, ["--version"])).and_then(|l| second_word(&l))
}

/// ` (found VERSION)` when another version is installed, for the install message.
fn found(have: &Option<String>) -> String {
    have.as_ref()
        .map(|v| format!(" (found {v})"))
        .unwrap_or_default()
}

/// Everything but apt: the wasm target, crates, cargo-installed tools, npm tools, pins.
fn install_tools(ctx: &Ctx, with_test: bool) -> Result<()> {
    let rustup_targets = capture(
        &mut words("rustup target list --installed"),
        Duration::from_secs(60),
    )
    .unwrap_or_default();
    if rustup_targets
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        note("rust target wasm32-unknown-unknown: present");
    } else {
        info("adding rust target wasm32-unknown-unknown");
        must(
            ctx,
            "setup-rustup",
            "rustup target add wasm32-unknown-unknown",
            &mut words("rustup target add wasm32-unknown-unknown"),
        )?;
    }

    // The pinned nightly that builds the shipped wasm (toolchain.rs); without it the package
    // falls back to stable, so a failed install is a warning, not a stop.
    if crate::toolchain::nightly_ready() {
        note(format!(
            "rust toolchain {}: present",
            crate::toolchain::NIGHTLY
        ));
    } else {
        info(format!(
            "installing rust toolchain {} (minimal, rust-src, wasm32; log: target/logs/setup-nightly.log)",
            crate::toolchain::NIGHTLY
        ));
        if let Err(e) = must(
            ctx,
            "setup-nightly",
            "rustup toolchain install (pinned nightly)",
            &mut crate::toolchain::install_command(),
        ) {
            warn(format!("{e:#}; the release wasm will be built with stable"));
        }
    }

    info("cargo fetch (log: target/logs/setup-fetch.log)");
    must(
        ctx,
        "setup-fetch",
        "cargo fetch",
        &mut words("cargo fetch --locked"),
    )?;

    let lock =
        std::fs::read_to_string(ctx.root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let trunk_toml =
        std::fs::read_to_string(ctx.root.join("Trunk.toml")).context("reading Trunk.toml")?;
    let wb_lock =
        cargo_lock_version(&lock, "wasm-bindgen").context("no wasm-bindgen entry in Cargo.lock")?;
    let wb_pin = trunk_tool_pin(&trunk_toml, "wasm_bindgen").unwrap_or_default();
    if wb_pin != wb_lock {
        bail!("Trunk.toml pins wasm_bindgen = \"{wb_pin}\" but Cargo.lock has wasm-bindgen {wb_lock}: set [tools] wasm_bindgen = \"{wb_lock}\" in Trunk.toml");
    }

    // The cargo installs run side by side: one `cargo install` leaves a core idle for much of
    // its time (crates that depend on each other in a line, linking), so on 2 cores all of them
    // at once finish minutes before the same installs in turn.
    let mut installs = Vec::new();
    let have = tool_version("trunk");
    if have.as_deref() == Some(TRUNK_VERSION) {
        note(format!("trunk {TRUNK_VERSION}: present"));
    } else {
        installs.push(start_install(
            ctx,
            "setup-trunk",
            format!("trunk {TRUNK_VERSION}{}", found(&have)),
            &["trunk", "--version", TRUNK_VERSION, "--locked", "--force"],
        )?);
    }

    let have = tool_version("wasm-bindgen");
    let have_runner = tool_version("wasm-bindgen-test-runner");
    let wb_installing =
        if have.as_deref() == Some(&wb_lock) && have_runner.as_deref() == Some(&wb_lock) {
            note(format!("wasm-bindgen-cli {wb_lock}: present"));
            false
        } else {
            // Not --locked: the CLI's own lockfile pins crates that no longer build with current Rust.
            installs.push(start_install(
                ctx,
                "setup-wasm-bindgen",
                format!("wasm-bindgen-cli {wb_lock}{}", found(&have)),
                &["wasm-bindgen-cli", "--version", &wb_lock, "--force"],
            )?);
            true
        };

    if with_test {
        let have = tool_version("geckodriver");
        if have.as_deref() == Some(GECKODRIVER_VERSION) {
            note(format!("geckodriver {GECKODRIVER_VERSION}: present"));
        } else {
            installs.push(start_install(
                ctx,
                "setup-geckodriver",
                format!("geckodriver {GECKODRIVER_VERSION}{}", found(&have)),
                &[
                    "geckodriver",
                    "--version",
                    GECKODRIVER_VERSION,
                    "--locked",
                    "--force",
                ],
            )?);
        }
    }

    // An error here drops `installs`, which stops them.
    npm_tools(ctx)?;
    check_wasm_opt(ctx, &trunk_toml)?;
    wait_installs(ctx, installs)?;
    if wb_installing {
        let have = tool_version("wasm-bindgen");
        if have.as_deref() != Some(&wb_lock) {
            bail!(
                "wasm-bindgen reports '{}' after installing {wb_lock} (is another one earlier on PATH? {})",
                have.unwrap_or_default(),
                which("wasm-bindgen").map(|p| p.display().to_string()).unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// The npm tools (binaryen's wasm-opt, playwright-core, axe-core, puppeteer-core): `npm ci` when
/// tools/package-lock.json changed since the last one (a stamp in node_modules holds its hash).
fn npm_tools(ctx: &Ctx) -> Result<()> {
    let lock = std::fs::read(ctx.root.join("tools/package-lock.json"))
        .context("reading tools/package-lock.json")?;
    let sum = hex(&Sha256::digest(&lock));
    let stamp = ctx.root.join("tools/node_modules/.connect-ui-lock.sha256");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == sum) {
        note("npm tools (tools/node_modules): present");
        return Ok(());
    }
    info("installing npm tools with npm ci (log: target/logs/setup-npm.log)");
    must(
        ctx,
        "setup-npm",
        "npm ci in tools/",
        &mut words("npm ci --prefix tools --no-audit --no-fund"),
    )?;
    std::fs::write(&stamp, format!("{sum}\n")).context("writing the npm stamp")?;
    Ok(())
}

/// Checks that the `wasm-opt` on PATH is npm binaryen's at Trunk.toml's pin (trunk, offline,
/// accepts only that).
fn check_wasm_opt(ctx: &Ctx, trunk_toml: &str) -> Result<()> {
    let pin = trunk_tool_pin(trunk_toml, "wasm_opt").unwrap_or_default();
    let path = which("wasm-opt");
    if path.as_deref() != Some(ctx.npm_wasm_opt().as_path()) {
        bail!(
            "wasm-opt on PATH is '{}', expected tools/node_modules/.bin/wasm-opt",
            path.map(|p| p.display().to_string()).unwrap_or_default()
        );
    }
    let have = first_line(&mut words("wasm-opt --version"))
        .and_then(|l| wasm_opt_version(&l))
        .unwrap_or_default();
    if have != pin {
        bail!("npm wasm-opt reports {have} but Trunk.toml pins wasm_opt = \"{pin}\": keep tools/package.json's binaryen and the pin in step");
    }
    note(format!("wasm-opt {have} from npm binaryen: ok"));
    Ok(())
}

/// Waits for every install (each bounded); fails naming those that failed, with their logs' tails.
fn wait_installs(ctx: &Ctx, installs: Vec<Install>) -> Result<()> {
    if installs.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = installs.iter().map(|i| i.what.as_str()).collect();
    info(format!(
        "waiting for {} (about 10-15 min on 2 cores from nothing)",
        names.join(", ")
    ));
    let mut failed = Vec::new();
    for mut install in installs {
        let ok = match install.group.wait_for(DEFAULT_LIMIT) {
            Some(status) => status.success(),
            None => {
                install.group.stop();
                false
            }
        };
        if !ok {
            show_tail(&install.log, &ctx.rel(&install.log), 40);
            failed.push(install.what);
        }
    }
    if !failed.is_empty() {
        bail!(
            "installing {} failed (logs: target/logs/setup-*.log)",
            failed.join(", ")
        );
    }
    Ok(())
}

/// Lower-case hex, as `sha256sum` prints it (so stamps written by the old setup.sh still match).
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_matches_sha256sum() {
        // printf abc | sha256sum
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
