//! Child processes. Each one leads its own session and process group, so stopping it stops
//! everything it started; each is stopped (TERM, then KILL after a grace period) when its handle
//! is dropped, and all of them, with the temporary directories, on Ctrl-C, TERM or HUP. Every wait
//! has a limit.

use crate::console::{show_tail, warn};
use crate::ctx::Ctx;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// How long a process group gets between TERM and KILL (the bash scripts' 10 s).
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// The limit on a logged step that names none: generous (a cold build on 2 cores), but a hang ends.
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(60 * 60);

/// What is running and what to delete, for the signal handler.
struct Registry {
    /// Process groups started and not yet stopped.
    groups: Vec<i32>,
    /// Temporary files and directories not yet removed.
    paths: Vec<PathBuf>,
    /// Set once a signal is handled: nothing new may start.
    stopping: bool,
}

/// Everything this process started or created that must not outlive it.
static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    groups: Vec::new(),
    paths: Vec::new(),
    stopping: false,
});

/// The registry, even if a thread panicked holding it (cleanup must still run).
fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Handles Ctrl-C, TERM and HUP on a thread of their own: everything started is stopped, the
/// temporary directories removed, and the process exits with 128 + the signal. Call first thing,
/// before any other thread starts (the signals are blocked in every thread but that one).
pub fn handle_signals() {
    // SAFETY: plain libc calls on a local, zero-initialised sigset_t.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    thread::spawn(move || loop {
        let mut sig = 0;
        // SAFETY: `set` is a valid signal set; sigwait writes the signal number to `sig`.
        if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
            let name = match sig {
                libc::SIGINT => "Ctrl-C",
                libc::SIGTERM => "TERM",
                _ => "HUP",
            };
            eprintln!("\n{name}: stopping everything this command started");
            stop_everything();
            std::process::exit(128 + sig);
        }
    });
}

/// Stops every registered process group and removes every registered temporary path; no
/// process starts after it (called on signals and at the end of `main`).
pub fn stop_everything() {
    let (groups, paths) = {
        let mut reg = registry();
        reg.stopping = true;
        (
            std::mem::take(&mut reg.groups),
            std::mem::take(&mut reg.paths),
        )
    };
    terminate(&groups, STOP_GRACE, || {
        for &g in &groups {
            // SAFETY: reaping our own child (the group's leader) if it has exited.
            unsafe { libc::waitpid(g, std::ptr::null_mut(), libc::WNOHANG) };
        }
    });
    for path in paths {
        remove(&path);
    }
}

/// Sends SIG to every process of group PGID.
fn signal_group(pgid: i32, sig: i32) {
    // SAFETY: kill(2) on a negative pid signals that process group; errors are ignored.
    unsafe { libc::kill(-pgid, sig) };
}

/// Whether any live process of group PGID is left. Read from /proc: zombies don't count (they
/// are dead, and a PID 1 that never reaps orphans, as in some containers, keeps them forever).
fn group_alive(pgid: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        // SAFETY: signal 0 only checks for existence.
        return unsafe { libc::kill(-pgid, 0) } == 0;
    };
    entries.flatten().any(|e| {
        let name = e.file_name();
        let Some(name) = name.to_str() else {
            return false;
        };
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        std::fs::read_to_string(format!("/proc/{name}/stat"))
            .ok()
            .and_then(|stat| state_and_group(&stat))
            .is_some_and(|(state, group)| group == pgid && state != 'Z' && state != 'X')
    })
}

/// The state letter and process group from a `/proc/PID/stat` line (`pid (comm) S ppid pgrp …`;
/// comm may hold spaces and parentheses, so fields are counted after its last `)`).
fn state_and_group(stat: &str) -> Option<(char, i32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let group = fields.next()?.parse().ok()?;
    Some((state, group))
}

/// TERM the groups, give them GRACE to go (calling REAP meanwhile, so exited leaders stop
/// counting), then KILL what is left.
fn terminate(pgids: &[i32], grace: Duration, mut reap: impl FnMut()) {
    if pgids.is_empty() {
        return;
    }
    for &g in pgids {
        signal_group(g, libc::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    loop {
        reap();
        if !pgids.iter().any(|&g| group_alive(g)) {
            return;
        }
        if Instant::now() >= deadline {
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    for &g in pgids {
        signal_group(g, libc::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && pgids.iter().any(|&g| group_alive(g)) {
        reap();
        thread::sleep(Duration::from_millis(20));
    }
}

/// A child leading its own session and process group; the whole group is stopped when dropped.
pub struct Group {
    /// The leader.
    child: Child,
    /// The group's id (the leader's pid).
    pgid: i32,
    /// The leader's exit status once reaped.
    status: Option<ExitStatus>,
}

impl Group {
    /// Starts CMD in a new session (as `setsid` did), registered for the signal handler, with
    /// no signal blocked (std keeps the parent's mask, and this process blocks INT/TERM/HUP for
    /// its signal thread: a child inheriting that could not be stopped with TERM).
    pub fn spawn(cmd: &mut Command) -> io::Result<Group> {
        // SAFETY: sigemptyset, pthread_sigmask and setsid are async-signal-safe; nothing else
        // runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                let mut none: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut none);
                libc::pthread_sigmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
                if libc::setsid() == -1 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut reg = registry();
        if reg.stopping {
            // A signal is being handled: the process exits in a moment; start nothing new.
            drop(reg);
            loop {
                thread::park();
            }
        }
        let child = cmd.spawn()?;
        let pgid = child.id() as i32;
        reg.groups.push(pgid);
        Ok(Group {
            child,
            pgid,
            status: None,
        })
    }

    /// The leader's process id (also the group's id).
    pub fn id(&self) -> u32 {
        self.pgid as u32
    }

    /// The child's stdout, if it was piped.
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }

    /// The leader's exit status if it has exited (without waiting).
    pub fn poll(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Whether the leader is still running.
    pub fn running(&mut self) -> bool {
        self.poll().is_none()
    }

    /// Waits for the leader to exit, at most LIMIT; None if it is still running then.
    pub fn wait_for(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        let mut pause = Duration::from_millis(5);
        loop {
            if let Some(status) = self.poll() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    /// Stops the whole group: TERM, STOP_GRACE, KILL. Returns the leader's status.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        self.stop_with_grace(STOP_GRACE)
    }

    /// Stops the whole group: TERM, GRACE to exit, then KILL. Returns the leader's status.
    pub fn stop_with_grace(&mut self, grace: Duration) -> Option<ExitStatus> {
        let pgid = self.pgid;
        let child = &mut self.child;
        let status = &mut self.status;
        terminate(&[pgid], grace, || {
            if status.is_none() {
                *status = child.try_wait().ok().flatten();
            }
        });
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop();
        registry().groups.retain(|&g| g != self.pgid);
    }
}

/// Points TMPDIR (inherited by every child) at a fresh directory under PARENT, removed when the
/// command ends: browsers leave an 85 MB profile in the temporary directory each time a driver
/// is stopped before it can clean up (hundreds of them filled a disk), and so may any child.
pub fn private_tmpdir(parent: &Path) -> io::Result<()> {
    let _ = SYSTEM_TMP.set(std::env::temp_dir());
    let dir = parent.join(format!("run-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    remove_at_exit(&dir);
    std::env::set_var("TMPDIR", &dir);
    Ok(())
}

/// The system's temporary directory as it was before [`private_tmpdir`] replaced TMPDIR.
static SYSTEM_TMP: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Removes PATH on a signal (or at the end of `main`) unless `keep_at_exit` is called first:
/// for files and directories that must not outlive the command.
pub fn remove_at_exit(path: &Path) {
    registry().paths.push(path.to_path_buf());
}

/// Forgets a `remove_at_exit` (the owner removed it, or it should stay).
pub fn keep_at_exit(path: &Path) {
    registry().paths.retain(|p| p != path);
}

/// Removes a file or a directory tree, ignoring errors (it may be gone already).
fn remove(path: &Path) {
    if path.is_dir() {
        let _ = std::fs::remove_dir_all(path);
    } else {
        let _ = std::fs::remove_file(path);
    }
}

/// A temporary directory, removed when dropped (or by the signal handler).
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory `connect-ui-NAME.*` in the system's temporary directory.
    pub fn new(name: &str) -> io::Result<TempDir> {
        Self::new_in(&std::env::temp_dir(), name)
    }

    /// A new empty directory in the system's temporary directory even when TMPDIR points into
    /// the checkout: for a server run as another user (`nobody`), who may not be able to reach
    /// a checkout under a private home directory.
    pub fn new_in_system_tmp(name: &str) -> io::Result<TempDir> {
        let base = SYSTEM_TMP.get().cloned().unwrap_or_else(std::env::temp_dir);
        Self::new_in(&base, name)
    }

    /// A new empty directory `connect-ui-NAME.*` in BASE.
    fn new_in(base: &Path, name: &str) -> io::Result<TempDir> {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        loop {
            let n = COUNT.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!("connect-ui-{name}.{}.{n}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    remove_at_exit(&path);
                    return Ok(TempDir(path));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        remove(&self.0);
        keep_at_exit(&self.0);
    }
}

/// A command line as the logs and messages show it: `NAME=value program args…`.
pub fn display(cmd: &Command) -> String {
    let mut words: Vec<String> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), v?.to_string_lossy())))
        .collect();
    words.push(cmd.get_program().to_string_lossy().into_owned());
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}

/// Convenience: a `Command` from a program and arguments.
pub fn cmd<I, S>(program: impl AsRef<OsStr>, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = Command::new(program);
    c.args(args);
    c
}

/// A command from a line of space-separated words, program first: for fixed arguments only
/// (no quoting; an argument with a space goes through `.arg`).
pub fn words(line: &str) -> Command {
    let mut parts = line.split_whitespace();
    let mut c = Command::new(parts.next().unwrap_or_default());
    c.args(parts);
    c
}

/// A status as the shell would report it (a signal as 128 + its number).
pub fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// How a logged step ended.
pub struct Run {
    /// The exit code (127: could not start; 124: killed at its time limit, like `timeout`).
    pub code: i32,
    /// Its log file.
    pub log: PathBuf,
}

impl Run {
    /// Whether it exited 0.
    pub fn ok(&self) -> bool {
        self.code == 0
    }
}

/// Options of a logged step beyond its name.
#[derive(Clone, Copy)]
pub struct LogOpts {
    /// How many lines of the log a failure shows.
    pub tail: usize,
    /// How long it may take before it is stopped and counted as failed.
    pub limit: Duration,
}

impl Default for LogOpts {
    fn default() -> Self {
        LogOpts {
            tail: 40,
            limit: DEFAULT_LIMIT,
        }
    }
}

/// Runs CMD with all its output in `target/logs/NAME.log` (first line: the command), input from
/// /dev/null, at most OPTS.limit; on failure prints the command and the log's tail.
pub fn run_logged(ctx: &Ctx, name: &str, cmd: &mut Command, opts: LogOpts) -> Run {
    let log = ctx.log(name);
    let shown = display(cmd);
    let code = match spawn_logged(&log, &shown, cmd) {
        Ok(mut group) => match group.wait_for(opts.limit) {
            Some(status) => exit_code(status),
            None => {
                group.stop();
                append(
                    &log,
                    &format!(
                        "\n(stopped: still running after {} s)\n",
                        opts.limit.as_secs()
                    ),
                );
                124
            }
        },
        Err(e) => {
            append(&log, &format!("cannot start: {e}\n"));
            127
        }
    };
    if code != 0 {
        eprintln!("FAILED (exit {code}): {shown}");
        show_tail(&log, &ctx.rel(&log), opts.tail);
    }
    Run { code, log }
}

/// Like run_logged, but a failure is an error naming WHAT and the log.
pub fn must(ctx: &Ctx, name: &str, what: &str, cmd: &mut Command) -> anyhow::Result<()> {
    if run_logged(ctx, name, cmd, LogOpts::default()).ok() {
        Ok(())
    } else {
        anyhow::bail!("{what} failed (full log: target/logs/{name}.log)")
    }
}

/// Starts CMD in the background with its output in LOG (first line: the command).
pub fn spawn_logged(log: &Path, shown: &str, cmd: &mut Command) -> io::Result<Group> {
    let mut file = File::create(log)?;
    writeln!(file, "$ {shown}")?;
    let err = file.try_clone()?;
    cmd.stdin(Stdio::null()).stdout(file).stderr(err);
    Group::spawn(cmd)
}

/// Adds a line of our own to a step's log (why it stopped).
fn append(log: &Path, text: &str) {
    if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(log) {
        let _ = f.write_all(text.as_bytes());
    }
}

/// The first line CMD prints on stdout (stderr discarded), if it runs and exits 0 within 30 s:
/// for `tool --version` probes.
pub fn first_line(cmd: &mut Command) -> Option<String> {
    let out = capture(cmd, Duration::from_secs(30))?;
    out.lines().next().map(str::to_string)
}

/// What CMD prints on stdout if it exits 0 within LIMIT.
pub fn capture(cmd: &mut Command, limit: Duration) -> Option<String> {
    capture_bytes(cmd, limit).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The bytes CMD writes to stdout (stderr discarded) if it exits 0 within LIMIT.
pub fn capture_bytes(cmd: &mut Command, limit: Duration) -> Option<Vec<u8>> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut group = Group::spawn(cmd).ok()?;
    let mut stdout = group.take_stdout()?;
    let reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = io::Read::read_to_end(&mut stdout, &mut buf);
        buf
    });
    let status = group.wait_for(limit);
    if status.is_none() {
        group.stop();
    }
    let out = reader.join().ok()?;
    status.filter(|s| s.success()).map(|_| out)
}

/// Runs CMD with stdout and stderr merged, each line printed and appended to OUT, at most LIMIT
/// (the benchmark's `… 2>&1 | tee -a`). Returns the exit code (124 at the limit, 127 if it could
/// not start).
pub fn run_teed(cmd: &mut Command, out: &Path, limit: Duration) -> i32 {
    let mut file = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)
    {
        Ok(f) => f,
        Err(e) => {
            warn(format!("cannot write {}: {e}", out.display()));
            return 127;
        }
    };
    let (reader, writer) = match io::pipe() {
        Ok(p) => p,
        Err(_) => return 127,
    };
    let Ok(writer2) = writer.try_clone() else {
        return 127;
    };
    cmd.stdin(Stdio::null()).stdout(writer).stderr(writer2);
    let group = Group::spawn(cmd);
    // Our copies of the write end must close, or the reader never sees the end.
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let mut group = match group {
        Ok(g) => g,
        Err(e) => {
            let line = format!("cannot start {}: {e}\n", display(cmd));
            print!("{line}");
            let _ = file.write_all(line.as_bytes());
            return 127;
        }
    };
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left.min(Duration::from_millis(200))) {
            Ok(line) => {
                println!("{line}");
                let _ = writeln!(file, "{line}");
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if left.is_zero() {
                    group.stop();
                    return 124;
                }
            }
        }
    }
    match group.wait_for(STOP_GRACE) {
        Some(status) => exit_code(status),
        None => {
            group.stop();
            124
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_group_takes_its_children_with_it() {
        let dir = TempDir::new("process-test").unwrap();
        let pidfile = dir.path().join("grandchild.pid");
        let script = format!("sleep 60 & echo $! > {}; wait", pidfile.display());
        let group = Group::spawn(&mut cmd("sh", ["-c", &script])).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pidfile.exists() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        thread::sleep(Duration::from_millis(50));
        let grandchild: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let started = Instant::now();
        drop(group);
        assert!(started.elapsed() < STOP_GRACE, "TERM was enough");
        let alive = std::fs::read_to_string(format!("/proc/{grandchild}/stat"))
            .ok()
            .and_then(|s| state_and_group(&s))
            .is_some_and(|(state, _)| state != 'Z' && state != 'X');
        assert!(!alive, "the grandchild (sleep) was stopped with its group");
    }

    #[test]
    fn children_start_with_no_signal_blocked() {
        // What handle_signals does, on this test's thread only.
        // SAFETY: plain libc calls on local signal sets.
        let old = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            old
        };
        let status = capture(
            &mut cmd("grep", ["SigBlk", "/proc/self/status"]),
            Duration::from_secs(10),
        );
        // SAFETY: restores this thread's previous mask.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
        assert_eq!(
            status.as_deref().map(str::trim),
            Some("SigBlk:\t0000000000000000")
        );
    }

    #[test]
    fn wait_for_is_bounded() {
        let mut group = Group::spawn(&mut cmd("sleep", ["30"])).unwrap();
        let started = Instant::now();
        assert!(group.wait_for(Duration::from_millis(200)).is_none());
        assert!(started.elapsed() < Duration::from_secs(5));
        let status = group.stop();
        assert_eq!(status.and_then(|s| s.signal()), Some(libc::SIGTERM));
    }

    #[test]
    fn capture_reads_stdout_and_requires_success() {
        assert_eq!(
            capture(
                &mut cmd("sh", ["-c", "echo hi; echo no >&2"]),
                Duration::from_secs(10)
            )
            .as_deref(),
            Some("hi\n")
        );
        assert_eq!(
            capture(
                &mut cmd("sh", ["-c", "echo hi; exit 3"]),
                Duration::from_secs(10)
            ),
            None
        );
        assert_eq!(first_line(&mut cmd("no-such-program-xtask", [""; 0])), None);
    }

    #[test]
    fn run_teed_copies_both_streams_and_reports_the_code() {
        let dir = TempDir::new("tee-test").unwrap();
        let out = dir.path().join("out.txt");
        let code = run_teed(
            &mut cmd("sh", ["-c", "echo one; echo two >&2; exit 3"]),
            &out,
            Duration::from_secs(10),
        );
        assert_eq!(code, 3);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains("one\n") && text.contains("two\n"), "{text}");
        let code = run_teed(&mut cmd("sleep", ["30"]), &out, Duration::from_millis(300));
        assert_eq!(code, 124);
    }

    #[test]
    fn proc_stat_lines_are_read_after_the_command_name() {
        assert_eq!(state_and_group("42 (sh) S 1 42 42 0 -1"), Some(('S', 42)));
        assert_eq!(state_and_group("7 (a (b) c) Z 1 99 99"), Some(('Z', 99)));
        assert_eq!(state_and_group("garbage"), None);
    }

    #[test]
    fn display_shows_env_program_and_args() {
        let mut c = words("cargo  build -p x");
        c.env("A", "1");
        assert_eq!(display(&c), "A=1 cargo build -p x");
        assert_eq!(display(&cmd("a", ["b c"])), "a b c");
    }

    #[test]
    fn temp_dirs_are_removed_on_drop() {
        let dir = TempDir::new("drop-test").unwrap();
        let path = dir.path().to_path_buf();
        std::fs::write(path.join("f"), "x").unwrap();
        drop(dir);
        assert!(!path.exists());
    }
}
