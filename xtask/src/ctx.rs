//! Where things are: the checkout, cargo's target directory, the logs, and the environment every
//! command runs in (the project's tools first on PATH).

use anyhow::{bail, Context, Result};
use std::env;
use std::path::{Path, PathBuf};

/// The paths every command needs, found once at start.
pub struct Ctx {
    /// The repository root (the workspace with `xtask/`); every command runs there.
    pub root: PathBuf,
    /// Cargo's target directory (`CARGO_TARGET_DIR` if set, else `<root>/target`): built binaries.
    pub target: PathBuf,
    /// `<root>/target`: what the tasks write themselves (logs, package, screenshots, preview DB).
    pub out: PathBuf,
    /// `<root>/target/logs`: one log per step.
    pub logs: PathBuf,
}

/// The backend build a command runs: tests and the preview share the debug build's dependencies
/// with `cargo test` and skip the release profile's fat LTO; the benchmark measures release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// `target/debug`.
    Debug,
    /// `target/release`.
    Release,
}

impl Ctx {
    /// Finds the checkout, makes it the working directory and sets up the tools' environment.
    pub fn detect() -> Result<Ctx> {
        let root = find_root()?;
        env::set_current_dir(&root).with_context(|| format!("cd {}", root.display()))?;
        let target = match env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if !dir.is_empty() => root.join(dir),
            _ => root.join("target"),
        };
        let out = root.join("target");
        let logs = out.join("logs");
        std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
        set_tool_environment(&root);
        Ok(Ctx {
            root,
            target,
            out,
            logs,
        })
    }

    /// The log file of step NAME (`target/logs/NAME.log`).
    pub fn log(&self, name: &str) -> PathBuf {
        self.logs.join(format!("{name}.log"))
    }

    /// PATH shown relative to the repository root when it lies inside it (for messages).
    pub fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// A binary cargo built for the host in PROFILE.
    pub fn bin(&self, profile: Profile, name: &str) -> PathBuf {
        let dir = match profile {
            Profile::Debug => "debug",
            Profile::Release => "release",
        };
        self.target.join(dir).join(name)
    }

    /// The reference backend's binary in PROFILE.
    pub fn backend_bin(&self, profile: Profile) -> PathBuf {
        self.bin(profile, "connect-ui-backend")
    }

    /// The npm `wasm-opt` (binaryen), the only one the project accepts.
    pub fn npm_wasm_opt(&self) -> PathBuf {
        self.root.join("tools/node_modules/.bin/wasm-opt")
    }
}

/// The repository root: where `cargo run` says the xtask's manifest is (its parent), else the
/// first ancestor of the working directory holding `xtask/Cargo.toml`. Never a path compiled in:
/// two checkouts may share one target directory, and so one xtask binary.
fn find_root() -> Result<PathBuf> {
    if let Some(dir) = env::var_os("CARGO_MANIFEST_DIR") {
        let dir = PathBuf::from(dir);
        if dir.join("src/main.rs").is_file() && dir.file_name() == Some("xtask".as_ref()) {
            if let Some(parent) = dir.parent() {
                return Ok(parent.to_path_buf());
            }
        }
    }
    let cwd = env::current_dir().context("reading the working directory")?;
    for dir in cwd.ancestors() {
        if dir.join("xtask/Cargo.toml").is_file() && dir.join("Cargo.toml").is_file() {
            return Ok(dir.to_path_buf());
        }
    }
    bail!(
        "not inside a Connect UI checkout (no xtask/Cargo.toml above {})",
        cwd.display()
    )
}

/// The directory cargo installs binaries into (trunk, wasm-bindgen, geckodriver).
pub fn cargo_bin_dir() -> PathBuf {
    match env::var_os("CARGO_HOME") {
        Some(home) if !home.is_empty() => PathBuf::from(home).join("bin"),
        _ => PathBuf::from(env::var_os("HOME").unwrap_or_default()).join(".cargo/bin"),
    }
}

/// Puts `tools/node_modules/.bin` (npm binaryen's wasm-opt, never Debian's) and then cargo's bin
/// directory first on PATH, and stops Trunk from looking for updates, for this process and
/// every child. Under CI (`CI=true`) cargo also keeps no incremental state: a fresh clone
/// never reuses it, and it is gigabytes of a disk that once ran out. Called once, before any
/// thread starts.
fn set_tool_environment(root: &Path) {
    let path = env::var("PATH").unwrap_or_default();
    let path = prepend_path(&path, &cargo_bin_dir().to_string_lossy());
    let path = prepend_path(
        &path,
        &root.join("tools/node_modules/.bin").to_string_lossy(),
    );
    env::set_var("PATH", path);
    env::set_var("TRUNK_SKIP_VERSION_CHECK", "true");
    if env::var("CI").is_ok_and(|v| v == "true") && env::var_os("CARGO_INCREMENTAL").is_none() {
        env::set_var("CARGO_INCREMENTAL", "0");
    }
}

/// PATH with DIR first and any other copy of DIR removed.
pub fn prepend_path(path: &str, dir: &str) -> String {
    let rest: Vec<&str> = path
        .split(':')
        .filter(|p| !p.is_empty() && *p != dir)
        .collect();
    if rest.is_empty() {
        dir.to_string()
    } else {
        format!("{dir}:{}", rest.join(":"))
    }
}

/// Where PROGRAM is found on PATH, like `command -v`.
pub fn which(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| {
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// A shell-safe single-quoted word (for `cargo xtask env`'s `export` lines).
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `cargo xtask env`: the `export` lines that give a shell the same tools (`eval "$(cargo xtask env)"`).
pub fn print_env() {
    println!(
        "export PATH={}",
        shell_quote(&env::var("PATH").unwrap_or_default())
    );
    println!("export TRUNK_SKIP_VERSION_CHECK=true");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepend_path_puts_the_dir_first_once() {
        assert_eq!(prepend_path("/usr/bin:/a:/bin", "/a"), "/a:/usr/bin:/bin");
        assert_eq!(prepend_path("/usr/bin", "/a"), "/a:/usr/bin");
        assert_eq!(prepend_path("", "/a"), "/a");
        assert_eq!(prepend_path("/a:/a::/b", "/a"), "/a:/b");
    }

    #[test]
    fn shell_quote_survives_quotes() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
