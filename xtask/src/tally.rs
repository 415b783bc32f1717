//! Test results: each layer's passed and failed counts, read from cargo's and node's output, the
//! summary table and the closing `N passed, M failed` line.

/// One layer's (or one check's) totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// What ran, as the summary names it.
    pub layer: String,
    /// Tests that passed.
    pub passed: u32,
    /// Tests that failed (or one for a step that broke before reporting any).
    pub failed: u32,
    /// Why the counts are what they are, when that needs saying.
    pub note: String,
}

/// Every total recorded in this run, in order.
#[derive(Default, Debug)]
pub struct Tally {
    /// The entries, in the order recorded.
    entries: Vec<Entry>,
}

impl Tally {
    /// Records LAYER's counts and prints them (`    LAYER: P passed, F failed (NOTE)`).
    pub fn record(&mut self, layer: &str, passed: u32, failed: u32, note: &str) {
        let entry = Entry {
            layer: layer.to_string(),
            passed,
            failed,
            note: note.to_string(),
        };
        println!("    {}", entry_line(&entry));
        self.entries.push(entry);
    }

    /// A pass/fail check counted as one test.
    pub fn check(&mut self, layer: &str, ok: bool) {
        self.record(layer, u32::from(ok), u32::from(!ok), "");
    }

    /// How many entries there are (to see whether a layer recorded anything).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Forgets the last entry (a run that is repeated and must not be counted twice).
    pub fn forget_last(&mut self) {
        self.entries.pop();
    }

    /// The sums of passed and failed.
    pub fn totals(&self) -> (u32, u32) {
        self.entries
            .iter()
            .fold((0, 0), |(p, f), e| (p + e.passed, f + e.failed))
    }

    /// Whether everything passed (and something ran).
    pub fn all_passed(&self) -> bool {
        !self.entries.is_empty() && self.totals().1 == 0
    }

    /// The per-layer table and the closing line; nothing recorded counts as one failure.
    pub fn summary(&self) -> String {
        if self.entries.is_empty() {
            return "\nno results recorded\n0 passed, 1 failed\n".to_string();
        }
        let mut out = String::from("\nSummary\n");
        for e in &self.entries {
            let note = if e.note.is_empty() {
                String::new()
            } else {
                format!("   ({})", e.note)
            };
            out += &format!(
                "  {:<42} {:>5} passed {:>5} failed{note}\n",
                e.layer, e.passed, e.failed
            );
        }
        let (p, f) = self.totals();
        out += &format!("\n{p} passed, {f} failed\n");
        out
    }
}

/// `LAYER: P passed, F failed (NOTE)`.
fn entry_line(e: &Entry) -> String {
    let note = if e.note.is_empty() {
        String::new()
    } else {
        format!(" ({})", e.note)
    };
    format!(
        "{}: {} passed, {} failed{note}",
        e.layer, e.passed, e.failed
    )
}

/// Passed and failed summed over every libtest `test result:` line (cargo test and
/// wasm-bindgen-test-runner both print them).
pub fn libtest_totals(output: &str) -> (u32, u32) {
    let (mut passed, mut failed) = (0, 0);
    for line in output.lines().filter(|l| l.contains("test result: ")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        for pair in words.windows(2) {
            let Ok(n) = pair[0].parse::<u32>() else {
                continue;
            };
            match pair[1].trim_end_matches(';') {
                "passed" => passed += n,
                "failed" => failed += n,
                _ => {}
            }
        }
    }
    (passed, failed)
}

/// The `test NAME ... FAILED` lines of libtest output (at most 30), to show which failed.
pub fn failed_tests(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|l| {
            l.starts_with("test ") && (l.ends_with(" ... FAILED") || l.ends_with(" ... FAIL"))
        })
        .take(30)
        .collect()
}

/// The counts at the end of node's TAP report.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Tap {
    /// `# pass`.
    pub pass: u32,
    /// `# fail`.
    pub fail: u32,
    /// `# cancelled` (a test cut off by a timeout; counted as failed).
    pub cancelled: u32,
    /// `# todo` (known bugs, reported in the note).
    pub todo: u32,
}

/// The last `# pass|fail|cancelled|todo N` lines of a TAP report (missing ones are 0).
pub fn tap_totals(tap: &str) -> Tap {
    let mut t = Tap::default();
    for line in tap.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some("#") {
            continue;
        }
        let (Some(key), Some(n), None) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        let Ok(n) = n.parse() else { continue };
        match key {
            "pass" => t.pass = n,
            "fail" => t.fail = n,
            "cancelled" => t.cancelled = n,
            "todo" => t.todo = n,
            _ => {}
        }
    }
    t
}

/// Which lines of node's spec report to show with the test list.
#[derive(Clone, Copy)]
pub enum SpecFilter {
    /// Test results and the figures tests report (`» `): the e2e suite.
    Results,
    /// Also suite headings (`▶`) and `events`/`csp`/`memory` lines: the embedding suites.
    ResultsAndSuites,
}

/// The lines of a spec report worth showing, up to its closing totals (`ℹ tests`), indented.
pub fn spec_lines(report: &str, filter: SpecFilter) -> Vec<String> {
    let mut marks = vec!["✔", "✖", "﹣", "» "];
    if let SpecFilter::ResultsAndSuites = filter {
        marks.push("▶");
    }
    report
        .lines()
        .take_while(|l| !l.starts_with("ℹ tests"))
        .filter(|l| {
            let trimmed = l.trim_start();
            marks.iter().any(|m| trimmed.starts_with(m))
                || (matches!(filter, SpecFilter::ResultsAndSuites)
                    && ["events", "csp", "memory"].iter().any(|p| l.starts_with(p)))
        })
        .map(|l| format!("    {l}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARGO: &str = "\
running 3 tests
test a ... ok
test b ... FAILED
test c ... ok
test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s

running 0 tests
test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out
   Doc-tests x
test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 1.2s
";

    #[test]
    fn libtest_lines_are_summed() {
        assert_eq!(libtest_totals(CARGO), (14, 1));
        assert_eq!(libtest_totals("error[E0425]: cannot find value"), (0, 0));
        // wasm-bindgen-test-runner's form.
        assert_eq!(
            libtest_totals("test result: ok. 129 passed; 0 failed; 0 ignored; 0 filtered out; finished in 31.20s"),
            (129, 0)
        );
    }

    #[test]
    fn failed_tests_are_listed() {
        assert_eq!(failed_tests(CARGO), ["test b ... FAILED"]);
    }

    #[test]
    fn tap_totals_take_the_last_counts() {
        let tap = "TAP version 13\n# Subtest: x\nok 1 - x\n# tests 5\n# suites 1\n# pass 3\n# fail 1\n# cancelled 1\n# skipped 0\n# todo 2\n# duration_ms 12.5\n";
        assert_eq!(
            tap_totals(tap),
            Tap {
                pass: 3,
                fail: 1,
                cancelled: 1,
                todo: 2
            }
        );
        assert_eq!(tap_totals(""), Tap::default());
        assert_eq!(tap_totals("# pass 1\n# pass 7\n").pass, 7);
    }

    #[test]
    fn spec_lines_keep_results_and_figures_before_the_totals() {
        let spec = "▶ suite\n  ✔ one (1ms)\n  ✖ two (2ms)\n  » a figure\nevents: 3\nnoise\nℹ tests 2\n✖ two (repeated in the failure list)\n";
        assert_eq!(
            spec_lines(spec, SpecFilter::Results),
            ["      ✔ one (1ms)", "      ✖ two (2ms)", "      » a figure"]
        );
        assert_eq!(spec_lines(spec, SpecFilter::ResultsAndSuites).len(), 5);
    }

    #[test]
    fn the_summary_has_a_row_per_entry_and_the_closing_line() {
        let mut t = Tally::default();
        assert!(!t.all_passed());
        assert!(t.summary().ends_with("0 passed, 1 failed\n"));
        t.check("rustfmt", true);
        t.record("wasm tests (chromium)", 129, 0, "");
        t.record("e2e", 0, 1, "trunk build --release failed");
        assert_eq!(t.totals(), (130, 1));
        assert!(!t.all_passed());
        let s = t.summary();
        assert!(
            s.contains("  rustfmt                                        1 passed     0 failed\n"),
            "{s}"
        );
        assert!(
            s.contains("    0 passed     1 failed   (trunk build --release failed)\n"),
            "{s}"
        );
        assert!(s.ends_with("\n130 passed, 1 failed\n"));
        t.forget_last();
        assert!(t.all_passed());
        assert_eq!(t.len(), 2);
    }
}
