//! Disk space around a test run: a fresh run builds tens of gigabytes of targets, and a CI
//! machine whose disk filled up failed with linker crashes that never said why. The test run
//! prints the free space at start and end and, when a step's log says the disk was full, says
//! so in one line.

use crate::process::{capture, cmd};
use std::path::Path;
use std::time::Duration;

/// Bytes free for this user on the filesystem holding PATH (`df -Pk`), if df answers in time.
pub fn free_bytes(path: &Path) -> Option<u64> {
    let mut df = cmd("df", ["-Pk"]);
    df.arg(path);
    parse_df_available(&capture(&mut df, Duration::from_secs(10))?)
}

/// The "Available" column (KiB) of `df -Pk`'s one data line, in bytes.
fn parse_df_available(text: &str) -> Option<u64> {
    let line = text.lines().nth(1)?;
    let kib: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(kib * 1024)
}

/// Total size of the files under DIR (0 if it is missing); symlinks are not followed.
pub fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => dir_bytes(&entry.path()),
            Ok(kind) if kind.is_file() => entry.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

/// The logs in DIR (file names) whose text says a write failed for want of space.
pub fn logs_with_full_disk(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            std::fs::read(entry.path())
                .map(|bytes| says_disk_full(&String::from_utf8_lossy(&bytes)))
                .unwrap_or(false)
        })
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether TEXT has the OS's out-of-space error (ENOSPC), as rustc, lld and the tools print it.
fn says_disk_full(text: &str) -> bool {
    text.contains("No space left on device")
}

/// BYTES as GiB with one decimal, for the run's messages.
pub fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::TempDir;

    #[test]
    fn reads_the_available_column_of_df() {
        let df = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                  /dev/vda         263174212 83886080  12582912      88% /\n";
        assert_eq!(parse_df_available(df), Some(12_582_912 * 1024));
        assert_eq!(parse_df_available("Filesystem\n"), None);
        // And the real df answers for a directory that exists.
        assert!(free_bytes(Path::new(".")).is_some_and(|free| free > 0));
    }

    #[test]
    fn finds_the_logs_that_ran_out_of_space() {
        let tmp = TempDir::new("disk-test").unwrap();
        let dir = tmp.path();
        let full = "LLVM ERROR: IO failure on output stream: No space left on device\n";
        let fine = "warning: unused\n";
        std::fs::write(dir.join("wasm-build.log"), full).unwrap();
        std::fs::write(dir.join("lint.log"), fine).unwrap();
        assert_eq!(logs_with_full_disk(dir), vec!["wasm-build.log".to_string()]);
        assert_eq!(dir_bytes(dir), (full.len() + fine.len()) as u64);
    }
}
