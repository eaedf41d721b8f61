//! `cargo xtask bench`: every benchmark, one after another, each printing
//! its figures (beside a floor measured in the same run, where there is one).
//! What they print is also written into `docs/benchmarks.md`, between its
//! two marks, with the commit and the machine: the figures there are always
//! the last run's, and the command that made them is this one.

use std::fmt::Write as _;

use std::process::Command;

use anyhow::Context;

use crate::{build, cmd, dist, root, run_reading, setup, Result};

const BEGIN: &str = "<!-- cargo xtask bench writes from here -->";
const END: &str = "<!-- to here -->";

pub fn run() -> Result {
    let env = setup::ensure(setup::Needs::ALL)?;
    build::app(&env)?;
    let server = build::server(&env)?;
    let mut report = vec![("download sizes".to_owned(), sizes()?)];
    print!("{}", report[0].1);
    // The phone's timings first: a few milliseconds each, beside a floor,
    // they are the most easily skewed by what the server benches leave the
    // machine doing.
    let steps = [
        (
            "start-up, save and delivery timings in headless Chromium",
            {
                let mut node = cmd(&env, "node", &["e2e/bench.mjs"]);
                node.env("BEATBOOK_SERVER", &server)
                    .env("BEATBOOK_DIST", root().join("dist"))
                    .env("CHROMIUM", &env.chromium);
                node
            },
        ),
        (
            "server ingest: 32 clients, 50-note batches, on SQLite and PostgreSQL beside raw SQLite",
            cmd(
                &env,
                "cargo",
                &["bench", "-p", "beatbook-server", "--bench", "ingest"],
            ),
        ),
        (
            "a flood of junk reports: what is accepted, and look-ups meanwhile",
            cmd(
                &env,
                "cargo",
                &["bench", "-p", "beatbook-server", "--bench", "flood"],
            ),
        ),
        (
            "photo uploads: 32 clients, one 250 KB photo per request",
            cmd(
                &env,
                "cargo",
                &["bench", "-p", "beatbook-server", "--bench", "photos"],
            ),
        ),
    ];
    for (label, mut command) in steps {
        settle();
        report.push((label.to_owned(), captured(label, &mut command)?));
    }
    write_report(&report)
}

/// Writes out what earlier steps (and the build) left for the disk, so that
/// a step's own writes, and its durable commits, are not queued behind it.
fn settle() {
    let _ = Command::new("sync").status();
}

/// Runs a step, echoing what it prints, and returns that.
fn captured(label: &str, command: &mut Command) -> Result<String> {
    let mut said = String::new();
    run_reading(label, command, |line| {
        said.push_str(line);
        said.push('\n');
    })?;
    Ok(said)
}

/// Every file the service worker keeps, its size raw and compressed, and
/// what each entry's first visit downloads before it is usable.
fn sizes() -> Result<String> {
    let dist = root().join("dist");
    let mut out = String::new();
    writeln!(out, "Every file the service worker keeps (bytes)")?;
    writeln!(
        out,
        "{:<52} {:>9} {:>9} {:>9}",
        "file", "raw", "gzip", "brotli"
    )?;
    let (mut raw_total, mut gz_total, mut br_total) = (0, 0, 0);
    // What each entry's first visit downloads before it is usable: the page,
    // the style sheet, and the entry's script and wasm.
    let (mut residents_first, mut notebook_first) = (0, 0);
    for file in dist::built_files(&dist)? {
        // A header's text, never downloaded as a file.
        if file == std::path::Path::new(crate::csp::FILE) {
            continue;
        }
        let path = dist.join(&file);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let (gz, br) = if dist::is_compressible(&file) {
            (dist::gzip(&bytes).len(), dist::brotli(&bytes).len())
        } else {
            (bytes.len(), bytes.len())
        };
        writeln!(
            out,
            "{:<52} {:>9} {:>9} {:>9}",
            file.display(),
            bytes.len(),
            gz,
            br
        )?;
        let name = file.to_string_lossy();
        let shared = name == "index.html" || name.ends_with(".css");
        if shared || name.starts_with("entries/residents-") {
            residents_first += br;
        }
        if shared || (name.starts_with("beatbook-") && !name.contains('/')) {
            notebook_first += br;
        }
        raw_total += bytes.len();
        gz_total += gz;
        br_total += br;
    }
    writeln!(
        out,
        "{:<52} {:>9} {:>9} {:>9}",
        "total", raw_total, gz_total, br_total
    )?;
    writeln!(
        out,
        "the residents' app (page, style sheet, the residents' entry): {residents_first} bytes \
         brotli; the server's plain page is usable before it arrives (bytes before usable: the \
         floors part)"
    )?;
    writeln!(
        out,
        "the councillor's app (page, style sheet, the notebook's entry): {notebook_first} bytes \
         brotli"
    )?;
    Ok(out)
}

/// Replaces what `docs/benchmarks.md` holds between its marks with this
/// run's figures, headed by the commit and the machine.
fn write_report(report: &[(String, String)]) -> Result {
    let path = root().join("docs/benchmarks.md");
    let doc = std::fs::read_to_string(&path).context("reading docs/benchmarks.md")?;
    let (Some(begin), Some(end)) = (doc.find(BEGIN), doc.find(END)) else {
        anyhow::bail!("docs/benchmarks.md has lost its marks ({BEGIN} … {END})");
    };
    let commit = Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "an unknown commit".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut figures =
        format!("{BEGIN}\n\nThe last run: commit `{commit}`, on a machine with {cores} cores.\n");
    for (label, said) in report {
        write!(
            figures,
            "\n### {label}\n\n```text\n{}\n```\n",
            said.trim_end()
        )?;
    }
    figures.push('\n');
    let updated = format!("{}{figures}{}", &doc[..begin], &doc[end..]);
    std::fs::write(&path, updated).context("writing docs/benchmarks.md")?;
    println!("\nThe figures are in docs/benchmarks.md.");
    Ok(())
}
