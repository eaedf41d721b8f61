//! The closing line of a test run: what each tier counted, read from its
//! runner's own summary lines, and how each tier ended, run or not.

use std::process::Command;

use crate::{run_reading, Result};

/// Test counts gathered from the runners' own summary lines.
#[derive(Clone, Copy, Default)]
pub struct Counts {
    passed: u64,
    failed: u64,
    /// Node's cancelled tests (a timeout, or a failed hook before them).
    cancelled: u64,
    /// Node's skipped and todo tests, and cargo's ignored ones.
    skipped: u64,
}

impl Counts {
    /// Reads cargo's `test result: ok. 6 passed; 0 failed; 1 ignored; …`
    /// and node's TAP summary (`# pass 12`, `# fail 0`, `# cancelled 0`,
    /// `# skipped 0`, `# todo 0`).
    fn read(&mut self, line: &str) {
        let number = |s: &str| {
            s.trim()
                .split(' ')
                .next()
                .and_then(|n| n.parse::<u64>().ok())
        };
        if let Some(rest) = line.strip_prefix("test result: ") {
            for part in rest.split(';') {
                let part = part
                    .trim()
                    .trim_start_matches("ok. ")
                    .trim_start_matches("FAILED. ");
                if let Some(n) = part.strip_suffix(" passed").and_then(number) {
                    self.passed += n;
                } else if let Some(n) = part.strip_suffix(" failed").and_then(number) {
                    self.failed += n;
                } else if let Some(n) = part.strip_suffix(" ignored").and_then(number) {
                    self.skipped += n;
                }
            }
            return;
        }
        let Some(rest) = line.strip_prefix("# ") else {
            return;
        };
        let (name, n) = rest.split_once(' ').unwrap_or((rest, ""));
        let Some(n) = number(n) else { return };
        match name {
            "pass" => self.passed += n,
            "fail" => self.failed += n,
            "cancelled" => self.cancelled += n,
            "skipped" | "todo" => self.skipped += n,
            _ => {}
        }
    }

    fn add(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.cancelled += other.cancelled;
        self.skipped += other.skipped;
    }
}

/// Each test tier, in order, with what it counted and how it ended: the
/// closing line says the truth about every one, run or not.
pub struct Tally {
    tiers: Vec<(&'static str, Counts, TierEnd)>,
}

#[derive(Clone, Copy, PartialEq)]
pub enum TierEnd {
    Passed,
    Failed,
    NotRun,
}

/// The tiers, as the closing line names them.
pub const TIERS: [&str; 3] = ["native", "browser", "end-to-end"];

impl Tally {
    pub fn new() -> Tally {
        Tally::of(&TIERS)
    }

    /// A tally of only these tiers, for a run of some.
    pub fn of(names: &[&'static str]) -> Tally {
        Tally {
            tiers: names
                .iter()
                .map(|name| (*name, Counts::default(), TierEnd::NotRun))
                .collect(),
        }
    }

    pub fn tier(&mut self, name: &str) -> &mut (&'static str, Counts, TierEnd) {
        self.tiers
            .iter_mut()
            .find(|(n, _, _)| *n == name)
            .expect("a known tier")
    }

    /// `tests: 399 passed, 0 failed, 0 cancelled, 0 skipped (native 250,
    /// browser 59, end-to-end 90); every tier ran`, or which did not, or
    /// which failed with no test counted as failed (a build, a crash).
    pub fn closing_line(&self) -> String {
        let mut total = Counts::default();
        for (_, counts, _) in &self.tiers {
            total.add(*counts);
        }
        let per_tier = self
            .tiers
            .iter()
            .map(|(name, c, _)| format!("{name} {}", c.passed + c.failed + c.cancelled + c.skipped))
            .collect::<Vec<_>>()
            .join(", ");
        let named = |end: TierEnd| {
            self.tiers
                .iter()
                .filter(|(_, _, e)| *e == end)
                .map(|(name, _, _)| *name)
                .collect::<Vec<_>>()
        };
        let not_run = named(TierEnd::NotRun);
        let failed = named(TierEnd::Failed);
        let mut said = format!(
            "tests: {} passed, {} failed, {} cancelled, {} skipped ({per_tier}); ",
            total.passed, total.failed, total.cancelled, total.skipped
        );
        if not_run.is_empty() {
            said.push_str("every tier ran");
        } else {
            said.push_str(&format!("NOT RUN: {}", not_run.join(", ")));
        }
        if !failed.is_empty() {
            said.push_str(&format!("; FAILED: {}", failed.join(", ")));
        }
        said
    }
}

/// Runs a test tier, echoing its output and counting its tests.
pub fn run_tests(tier: &str, label: &str, command: &mut Command, tally: &mut Tally) -> Result {
    let slot = tally.tier(tier);
    slot.2 = TierEnd::Failed;
    run_reading(label, command, |line| slot.1.read(line))?;
    slot.2 = TierEnd::Passed;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closing_line_counts_every_outcome_and_names_tiers_not_run() {
        let mut tally = Tally::new();
        let native = tally.tier("native");
        for line in [
            "test result: ok. 6 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out",
            "test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
        ] {
            native.1.read(line);
        }
        native.2 = TierEnd::Failed;
        assert_eq!(
            tally.closing_line(),
            "tests: 9 passed, 1 failed, 0 cancelled, 2 skipped (native 12, browser 0, end-to-end 0); \
             NOT RUN: browser, end-to-end; FAILED: native"
        );
        let mut tally = Tally::new();
        for name in TIERS {
            tally.tier(name).2 = TierEnd::Passed;
        }
        let e2e = tally.tier("end-to-end");
        for line in [
            "# tests 5",
            "# pass 3",
            "# fail 0",
            "# cancelled 1",
            "# skipped 1",
            "# todo 0",
        ] {
            e2e.1.read(line);
        }
        assert_eq!(
            tally.closing_line(),
            "tests: 3 passed, 0 failed, 1 cancelled, 1 skipped (native 0, browser 0, end-to-end 5); every tier ran"
        );
    }
}
