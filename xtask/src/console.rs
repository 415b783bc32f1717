//! What the tasks print: steps, notes, warnings, and the tail of a failed step's log.

use std::path::Path;
use std::time::Duration;

/// A step starting (`==> …`), so a long run reads as a list of what it did.
pub fn info(msg: impl AsRef<str>) {
    println!("==> {}", msg.as_ref());
}

/// A detail under the current step.
pub fn note(msg: impl AsRef<str>) {
    println!("    {}", msg.as_ref());
}

/// Something wrong that does not stop the run.
pub fn warn(msg: impl AsRef<str>) {
    eprintln!("warning: {}", msg.as_ref());
}

/// The last LINES lines of LOG, framed, on stderr: a failing step shows why without opening its log.
pub fn show_tail(log: &Path, shown_as: &str, lines: usize) {
    let text = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    eprintln!("---- last {lines} lines of {shown_as} ----");
    for line in tail(&text, lines) {
        eprintln!("{line}");
    }
    eprintln!("---- end of {shown_as} ----");
}

/// The last N lines of TEXT.
pub fn tail(text: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// A duration as `XmYYs`, the form the test summary uses.
pub fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}m{:02}s", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_pads_seconds() {
        assert_eq!(minutes(Duration::from_secs(0)), "0m00s");
        assert_eq!(minutes(Duration::from_secs(65)), "1m05s");
        assert_eq!(minutes(Duration::from_millis(1_144_900)), "19m04s");
    }

    #[test]
    fn tail_takes_the_end() {
        assert_eq!(tail("a\nb\nc\n", 2), ["b", "c"]);
        assert_eq!(tail("a", 5), ["a"]);
        assert!(tail("", 3).is_empty());
    }
}
