//! A throwaway PostgreSQL cluster for the backend's second test run (and the benchmark): Debian's
//! server binaries (installed with apt when missing), `initdb` into a temporary directory, the
//! server on a free loopback port with its socket in that directory and trust authentication,
//! stopped and deleted when dropped, on Ctrl-C/TERM/HUP, or at the end of the command. PostgreSQL
//! refuses to run as root, so as root it runs as `nobody` (std's `Command::uid`, which also drops
//! the supplementary groups).

use crate::console::{info, show_tail};
use crate::ctx::{which, Ctx};
use crate::ports;
use crate::process::{capture, cmd, display, spawn_logged, Group, TempDir};
use anyhow::{bail, Context, Result};
use std::ffi::CString;
use std::net::{Ipv4Addr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The server programs a cluster needs.
pub const PROGRAMS: [&str; 3] = ["initdb", "postgres", "pg_isready"];

/// How long `initdb` and the server's start may each take.
const START_LIMIT: Duration = Duration::from_secs(120);

/// The user the cluster runs as when this command runs as root.
const UNPRIVILEGED_USER: &str = "nobody";

/// The directory holding all of [`PROGRAMS`]: PATH first, then Debian's
/// `/usr/lib/postgresql/<version>/bin` (newest version first).
pub fn bin_dir() -> Option<PathBuf> {
    let has_all = |dir: &Path| PROGRAMS.iter().all(|p| dir.join(p).is_file());
    if let Some(initdb) = which("initdb") {
        // Through a symlink (Debian's /usr/local/bin links) to the real directory.
        let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        if let Some(dir) = real.parent().filter(|d| has_all(d)) {
            return Some(dir.to_path_buf());
        }
    }
    debian_bin_dirs(Path::new("/usr/lib/postgresql"))
        .into_iter()
        .find(|d| has_all(d))
}

/// `ROOT/<version>/bin` for each numeric version under ROOT, newest first.
pub fn debian_bin_dirs(root: &Path) -> Vec<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let v: u32 = e.file_name().to_str()?.parse().ok()?;
                    Some((v, e.path().join("bin")))
                })
                .collect()
        })
        .unwrap_or_default();
    versions.sort_by_key(|v| std::cmp::Reverse(v.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

/// The server's binaries, installing Debian's `postgresql` with apt (at most 15 min) if they
/// are missing.
pub fn ensure_installed(ctx: &Ctx) -> Result<PathBuf> {
    if let Some(dir) = bin_dir() {
        return Ok(dir);
    }
    // SAFETY: getuid has no preconditions.
    let root = unsafe { libc::getuid() } == 0;
    let sudo = if root { "" } else { "sudo " };
    info("installing Debian's postgresql with apt (log: target/logs/setup-postgresql.log)");
    let script = format!(
        "set -e; {sudo}apt-get update -q; {sudo}apt-get install -y -q --no-install-recommends postgresql"
    );
    let mut c = cmd("sh", ["-c", &script]);
    c.env("DEBIAN_FRONTEND", "noninteractive");
    let log = ctx.log("setup-postgresql");
    let mut apt = spawn_logged(&log, &display(&c), &mut c)?;
    match apt.wait_for(Duration::from_secs(15 * 60)) {
        Some(status) if status.success() => {}
        _ => {
            apt.stop();
            show_tail(&log, &ctx.rel(&log), 30);
            bail!("apt-get install postgresql failed (log: target/logs/setup-postgresql.log)");
        }
    }
    bin_dir().context("postgresql is installed but initdb/postgres/pg_isready are not found")
}

/// A running throwaway cluster; dropping it stops the server and deletes its files.
pub struct Cluster {
    /// The server (its own process group, stopped on drop and on signals).
    server: Group,
    /// Data directory and socket; declared after `server`, so it goes after the server stopped.
    _dir: TempDir,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`: the superuser, trust authentication.
    pub url: String,
}

impl Cluster {
    /// Stops the server now (fast shutdown via TERM, KILL after the grace period).
    pub fn stop(&mut self) {
        self.server.stop();
    }
}

/// uid and gid to run the cluster as: `None` when not root (run as ourselves).
fn run_as() -> Result<Option<(u32, u32)>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = CString::new(UNPRIVILEGED_USER)?;
    // SAFETY: getpwnam gets a valid C string; the result is read at once, before any other
    // passwd call could reuse its buffer.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        bail!("running as root, and there is no user {UNPRIVILEGED_USER} to run PostgreSQL as");
    }
    // SAFETY: pw is non-null and points to the passwd entry getpwnam returned.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Ok(Some((uid, gid)))
}

/// `program` in `bin`, run as `user` when given, with a plain environment.
fn pg_command(bin: &Path, program: &str, user: Option<(u32, u32)>) -> std::process::Command {
    let mut c = std::process::Command::new(bin.join(program));
    c.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C")
        .current_dir("/");
    if let Some((uid, gid)) = user {
        c.uid(uid).gid(gid);
    }
    c
}

/// Starts a cluster: `initdb` into a new temporary directory (owned by the unprivileged user as
/// root), the server on a free loopback port, then waits until it accepts connections.
/// `durable` keeps fsync on (benchmarks); tests run without it.
pub fn start(ctx: &Ctx, bin: &Path, durable: bool) -> Result<Cluster> {
    let user = run_as()?;
    let dir = TempDir::new_in_system_tmp("postgres")?;
    if let Some((uid, gid)) = user {
        let path = CString::new(dir.path().as_os_str().as_encoded_bytes())?;
        // SAFETY: a valid C path; chown has no other preconditions.
        if unsafe { libc::chown(path.as_ptr(), uid, gid) } != 0 {
            bail!(
                "cannot hand {} to {UNPRIVILEGED_USER}: {}",
                dir.path().display(),
                std::io::Error::last_os_error()
            );
        }
    }
    let data = dir.path().join("data");
    let log = ctx.log("postgres-initdb");
    let mut initdb = pg_command(bin, "initdb", user);
    initdb.arg("-D").arg(&data).args([
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
    ]);
    let mut group = spawn_logged(&log, &display(&initdb), &mut initdb)?;
    match group.wait_for(START_LIMIT) {
        Some(status) if status.success() => {}
        _ => {
            group.stop();
            show_tail(&log, &ctx.rel(&log), 30);
            bail!("initdb failed (log: target/logs/postgres-initdb.log)");
        }
    }
    let port = ports::pick(0)?;
    let mut server = pg_command(bin, "postgres", user);
    server.arg("-D").arg(&data).arg("-p").arg(port.to_string());
    server.args(["-c", "listen_addresses=127.0.0.1"]);
    server
        .arg("-c")
        .arg(format!("unix_socket_directories={}", dir.path().display()));
    // Two test binaries' pools (16 each) per test, tests in parallel.
    server.args(["-c", "max_connections=400", "-c", "shared_buffers=64MB"]);
    if !durable {
        server.args(["-c", "fsync=off", "-c", "synchronous_commit=off"]);
    }
    let log = ctx.log("postgres");
    let mut server = spawn_logged(&log, &display(&server), &mut server)?;
    let deadline = Instant::now() + START_LIMIT;
    loop {
        if let Some(status) = server.poll() {
            show_tail(&log, &ctx.rel(&log), 30);
            bail!("postgres exited at start ({status}; log: target/logs/postgres.log)");
        }
        let ready = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok()
            && capture(
                pg_command(bin, "pg_isready", None).args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-U",
                    "postgres",
                ]),
                Duration::from_secs(10),
            )
            .is_some();
        if ready {
            break;
        }
        if Instant::now() >= deadline {
            server.stop();
            bail!("postgres did not accept connections within 2 minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    info(format!(
        "PostgreSQL cluster on 127.0.0.1:{port} (data in {}, log: target/logs/postgres.log)",
        dir.path().display()
    ));
    Ok(Cluster {
        server,
        _dir: dir,
        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_versions_are_tried_newest_first() {
        let root = TempDir::new("pg-versions").unwrap();
        for v in ["13", "16", "9", "common"] {
            std::fs::create_dir_all(root.path().join(v).join("bin")).unwrap();
        }
        let dirs = debian_bin_dirs(root.path());
        assert_eq!(
            dirs,
            ["16", "13", "9"].map(|v| root.path().join(v).join("bin"))
        );
        assert!(debian_bin_dirs(&root.path().join("missing")).is_empty());
    }
}
