//! Project automation, run as `cargo xtask <command>`: the only prerequisite
//! is cargo itself. Everything the build and the tests need is installed here.
//!
//! `cargo xtask run`   installs what is missing, builds the app, serves it.
//! `cargo xtask test`  installs what is missing, runs every check and test.

mod dist;
mod setup;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{bail, Context};

const USAGE: &str = "\
usage: cargo xtask <command>

  run [--addr HOST:PORT]   install what is missing, build the app, serve it (default 127.0.0.1:8080)
  test                     install what is missing, then run every check and test
  build                    build the release app into dist/ and the server into target/server/
  bench                    print download sizes, start-up, save, ingest, photo and delivery timings
  icons                    redraw the PNG icons from their SVG sources (Chromium, pngquant)
  setup                    install what is missing, and nothing else
  finish-build [DIR]       (run by Trunk) fill in the service worker, precompress; DIR
                           defaults to $TRUNK_STAGING_DIR";

/// Every step's result: an error carries what was being done, outermost first.
pub type Result<T = ()> = anyhow::Result<T>;

/// Node's test runner, one file at a time. A test that hangs fails after ten
/// minutes, and a file whose tests are over exits even if something it
/// started is still running, so a failure can never stall the whole run.
/// Node's test runner, its reporter named (TAP, whose summary the tally
/// reads: Node 23 changed the default) and the files passed one by one (a
/// folder is a glob pattern from Node 21). The files follow.
const E2E_RUNNER: [&str; 5] = [
    "--test",
    "--test-reporter=tap",
    "--test-concurrency=1",
    "--test-timeout=600000",
    "--test-force-exit",
];

/// Every end-to-end test file, in order.
fn e2e_files() -> Result<Vec<PathBuf>> {
    let mut files = std::fs::read_dir(root().join("e2e"))
        .context("reading e2e/")?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    files.retain(|p| p.to_string_lossy().ends_with(".test.mjs"));
    files.sort();
    if files.is_empty() {
        bail!("no end-to-end test files in e2e/");
    }
    Ok(files)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(),
        Some("build") => setup::ensure(setup::Needs::BUILD).and_then(|env| {
            build_app(&env)
                .and_then(|()| build_server(&env))
                .map(|_| ())
        }),
        Some("setup") => setup::ensure(setup::Needs::ALL).map(|_| ()),
        Some("finish-build") => finish_build(&args[1..]),
        Some("bench") => bench(),
        Some("icons") => icons(),
        _ => Err(anyhow::anyhow!(USAGE)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\nxtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn bench() -> Result {
    let env = setup::ensure(setup::Needs::ALL)?;
    build_app(&env)?;
    let server = build_server(&env)?;
    let dist = root().join("dist");
    println!("\nEvery file the service worker keeps (bytes)");
    println!("{:<52} {:>9} {:>9} {:>9}", "file", "raw", "gzip", "brotli");
    let (mut raw_total, mut gz_total, mut br_total) = (0, 0, 0);
    // What each entry's first visit downloads before it is usable: the page,
    // the style sheet, and the entry's script and wasm.
    let (mut residents_first, mut notebook_first) = (0, 0);
    for file in dist::built_files(&dist)? {
        let path = dist.join(&file);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let (gz, br) = if dist::is_compressible(&file) {
            (dist::gzip(&bytes).len(), dist::brotli(&bytes).len())
        } else {
            (bytes.len(), bytes.len())
        };
        println!(
            "{:<52} {:>9} {:>9} {:>9}",
            file.display(),
            bytes.len(),
            gz,
            br
        );
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
    println!(
        "{:<52} {:>9} {:>9} {:>9}",
        "total", raw_total, gz_total, br_total
    );
    println!(
        "a resident's first visit, before usable: {residents_first} bytes brotli; \
         target at most 150 KB (153,600 bytes): {}",
        if residents_first <= 153_600 {
            "met"
        } else {
            "MISSED"
        }
    );
    println!(
        "a councillor's first visit (the notebook's entry): {notebook_first} bytes brotli; \
         the rest comes from the service worker in the background"
    );
    run_step(
        "server ingest: 32 clients, 50-note batches, over HTTP and HTTPS",
        cmd(
            &env,
            "cargo",
            &["bench", "-p", "beatbook-server", "--bench", "ingest"],
        ),
    )?;
    run_step(
        "a flood of junk reports: what is accepted, and look-ups meanwhile",
        cmd(
            &env,
            "cargo",
            &["bench", "-p", "beatbook-server", "--bench", "flood"],
        ),
    )?;
    run_step(
        "photo uploads: 32 clients, one 250 KB photo per request",
        cmd(
            &env,
            "cargo",
            &["bench", "-p", "beatbook-server", "--bench", "photos"],
        ),
    )?;
    run_step(
        "start-up, save and delivery timings in headless Chromium",
        cmd(&env, "node", &["e2e/bench.mjs"])
            .env("BEATBOOK_SERVER", &server)
            .env("BEATBOOK_DIST", &dist)
            .env("CHROMIUM", &env.chromium),
    )
}

/// Renders each PNG icon from its SVG in headless Chromium, then shrinks it to
/// a palette PNG with pngquant (the icons are flat colours).
fn icons() -> Result {
    let env = setup::ensure(setup::Needs::ALL)?;
    let icons = root().join("public/icons");
    let sources = [
        ("public/icons/icon.svg", 192, "icon-192.png"),
        ("public/icons/icon.svg", 512, "icon-512.png"),
        ("assets/maskable.svg", 512, "maskable-512.png"),
        ("assets/maskable.svg", 180, "apple-touch-icon.png"),
    ];
    let scratch = std::env::temp_dir().join(format!("beatbook-icons-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("cannot create {}", scratch.display()))?;
    for (svg, size, png) in sources {
        let page = scratch.join("icon.html");
        std::fs::write(
            &page,
            format!(
                "<style>html,body{{margin:0;background:transparent}}</style><img src=\"file://{}\" width={size} height={size}>",
                root().join(svg).display()
            ),
        )
        .with_context(|| format!("cannot write {}", page.display()))?;
        let out = icons.join(png);
        run_step(
            &format!("draw {png}"),
            Command::new(&env.chromium)
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--hide-scrollbars",
                    "--default-background-color=00000000",
                ])
                .arg(format!(
                    "--user-data-dir={}",
                    scratch.join("profile").display()
                ))
                .arg(format!("--window-size={size},{size}"))
                .arg(format!("--screenshot={}", out.display()))
                .arg(format!("file://{}", page.display())),
        )?;
        run_step(
            &format!("shrink {png}"),
            Command::new("pngquant")
                .args(["--force", "--strip", "--quality=70-95", "--output"])
                .arg(&out)
                .arg(&out),
        )
        .context("shrinking the icons needs pngquant: install Debian's pngquant")?;
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

fn finish_build(args: &[String]) -> Result {
    let dir = match args.first() {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("TRUNK_STAGING_DIR")
            .map(PathBuf::from)
            .context("finish-build needs a folder, or TRUNK_STAGING_DIR from Trunk")?,
    };
    dist::finish(&dir)
}

/// The workspace root (this crate's parent folder).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Runs a command in the workspace with the tool paths set, failing on a non-zero exit.
pub fn cmd(env: &setup::Env, program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(root())
        .env("PATH", &env.path);
    command
}

pub fn run_step(label: &str, mut command: impl std::borrow::BorrowMut<Command>) -> Result {
    let command = command.borrow_mut();
    println!("\n==> {label}");
    let started = Instant::now();
    let status = command
        .status()
        .with_context(|| format!("{label}: could not start {:?}", command.get_program()))?;
    finish_step(label, started, status)
}

/// Prints how a step ended and turns its exit status into a result.
fn finish_step(label: &str, started: Instant, status: std::process::ExitStatus) -> Result {
    println!(
        "==> {label}: {} in {:.1}s",
        if status.success() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if !status.success() {
        bail!("{label} failed ({status})");
    }
    Ok(())
}

/// Test counts gathered from the runners' own summary lines.
#[derive(Clone, Copy, Default)]
struct Counts {
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
struct Tally {
    tiers: Vec<(&'static str, Counts, TierEnd)>,
}

#[derive(Clone, Copy, PartialEq)]
enum TierEnd {
    Passed,
    Failed,
    NotRun,
}

/// The tiers, as the closing line names them.
const TIERS: [&str; 3] = ["native", "browser", "end-to-end"];

impl Tally {
    fn new() -> Tally {
        Tally {
            tiers: TIERS
                .iter()
                .map(|name| (*name, Counts::default(), TierEnd::NotRun))
                .collect(),
        }
    }

    fn tier(&mut self, name: &str) -> &mut (&'static str, Counts, TierEnd) {
        self.tiers
            .iter_mut()
            .find(|(n, _, _)| *n == name)
            .expect("a known tier")
    }

    /// `tests: 399 passed, 0 failed, 0 cancelled, 0 skipped (native 250,
    /// browser 59, end-to-end 90); every tier ran`, or which did not, or
    /// which failed with no test counted as failed (a build, a crash).
    fn closing_line(&self) -> String {
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
fn run_tests(tier: &str, label: &str, command: &mut Command, tally: &mut Tally) -> Result {
    use std::io::{BufRead, BufReader};
    println!("\n==> {label}");
    let started = Instant::now();
    let slot = tally.tier(tier);
    slot.2 = TierEnd::Failed;
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("{label}: could not start {:?}", command.get_program()))?;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(std::io::Result::ok) {
            println!("{line}");
            slot.1.read(&line);
        }
    }
    let status = child.wait().with_context(|| label.to_owned())?;
    finish_step(label, started, status)?;
    slot.2 = TierEnd::Passed;
    Ok(())
}

/// The release before this one (docs/releases.md): its tag, and the commit
/// the tag names, which a clone of main always has (a clone may not fetch
/// tags).
const PREVIOUS_RELEASE: (&str, &str) = ("v0.1.0", "a6b1133edc07b7ff0d5f29da5a0ea1038f7fb8cc");

/// The previous release as it was deployed, built from its own sources.
struct Built {
    server: PathBuf,
    dist: PathBuf,
}

/// Builds the previous release's server and app from its commit, in a work
/// tree and a target folder of their own under `target/previous/`, once:
/// the end-to-end tests run phones on that app against this server.
fn build_previous_release(env: &setup::Env) -> Result<Built> {
    let (tag, commit) = PREVIOUS_RELEASE;
    let home = root().join("target/previous").join(tag);
    let built = Built {
        server: home.join("target/server/beatbook-server"),
        dist: home.join("dist"),
    };
    let stamp = home.join("built-from");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == commit)
        && built.server.exists()
        && built.dist.join("index.html").exists()
    {
        return Ok(built);
    }
    let tree = home.join("src");
    if !tree.join("Cargo.toml").exists() {
        let _ = std::fs::remove_dir_all(&tree);
        run_step(
            &format!("check out the previous release ({tag})"),
            cmd(env, "git", &["worktree", "add", "--force", "--detach"])
                .arg(&tree)
                .arg(commit),
        )?;
    }
    let in_tree = |program: &str, args: &[&str]| {
        let mut command = cmd(env, program, args);
        command
            .current_dir(&tree)
            .env("CARGO_TARGET_DIR", home.join("target"));
        command
    };
    run_step(
        &format!("build the previous release's app ({tag})"),
        in_tree("trunk", &["build", "--release", "--offline", "--dist"]).arg(&built.dist),
    )?;
    run_step(
        &format!("build the previous release's server ({tag})"),
        in_tree(
            "cargo",
            &["build", "--profile", "server", "-p", "beatbook-server"],
        ),
    )?;
    std::fs::write(&stamp, commit).context("noting the previous release's build")?;
    Ok(built)
}

fn build_app(env: &setup::Env) -> Result {
    run_step(
        "build the release app with Trunk",
        cmd(env, "trunk", &["build", "--release", "--offline"]),
    )
}

fn build_server(env: &setup::Env) -> Result<PathBuf> {
    run_step(
        "build the server",
        cmd(
            env,
            "cargo",
            &["build", "--profile", "server", "-p", "beatbook-server"],
        ),
    )?;
    Ok(root().join("target/server/beatbook-server"))
}

fn run(args: &[String]) -> Result {
    let mut addr = "127.0.0.1:8080".to_owned();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--addr" => addr = rest.next().context("--addr needs HOST:PORT")?.clone(),
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    let env = setup::ensure(setup::Needs::BUILD)?;
    build_app(&env)?;
    let server = build_server(&env)?;
    println!("\nOpen the printed address in a browser. Stop with Ctrl-C.");
    let dist = root().join("dist");
    let status = Command::new(server)
        .args(["serve", "--addr", &addr, "--dist"])
        .arg(&dist)
        .arg("--data")
        .arg(root().join("data"))
        .status()
        .context("could not start the server")?;
    if !status.success() {
        bail!("the server stopped ({status})");
    }
    Ok(())
}

fn test() -> Result {
    let started = Instant::now();
    let env = setup::ensure(setup::Needs::ALL)?;
    run_step(
        "format check",
        cmd(&env, "cargo", &["fmt", "--all", "--check"]),
    )?;
    run_step(
        "clippy (native)",
        cmd(
            &env,
            "cargo",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
    )?;
    run_step(
        "clippy (wasm32)",
        cmd(
            &env,
            "cargo",
            &[
                "clippy",
                "-p",
                "beatbook",
                "-p",
                "beatbook-core",
                "--all-targets",
                "--target",
                "wasm32-unknown-unknown",
                "--",
                "-D",
                "warnings",
            ],
        ),
    )?;
    let mut tally = Tally::new();
    let outcome = run_test_tiers(&env, &mut tally);
    println!("\nxtask test took {:.0}s", started.elapsed().as_secs_f64());
    println!("{}", tally.closing_line());
    outcome
}

fn run_test_tiers(env: &setup::Env, tally: &mut Tally) -> Result {
    run_tests(
        "native",
        "native tests",
        &mut cmd(env, "cargo", &["test", "--workspace"]),
        tally,
    )?;
    run_tests(
        "browser",
        "browser tests (wasm-bindgen-test in headless Chromium)",
        cmd(
            env,
            "cargo",
            &[
                "test",
                "-p",
                "beatbook",
                "--target",
                "wasm32-unknown-unknown",
            ],
        )
        .env("CHROMEDRIVER", &env.chromedriver)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
        tally,
    )?;
    build_app(env)?;
    // A second, different build: the update test serves it after the first.
    let next = root().join("target/dist-next");
    run_step(
        "build a second release for the update test",
        cmd(env, "trunk", &["build", "--release", "--offline", "--dist"])
            .arg(&next)
            .env("BEATBOOK_BUILD_LABEL", "next"),
    )?;
    let server = build_server(env)?;
    let previous = build_previous_release(env)?;
    run_tests(
        "end-to-end",
        "end-to-end tests (headless Chromium through Playwright, and WebKit through WebKitWebDriver, against the server)",
        cmd(env, "node", &E2E_RUNNER)
            .args(e2e_files()?)
            .env("BEATBOOK_SERVER", &server)
            .env("BEATBOOK_DIST", root().join("dist"))
            .env("BEATBOOK_DIST_NEXT", &next)
            .env("BEATBOOK_PREVIOUS_SERVER", &previous.server)
            .env("BEATBOOK_PREVIOUS_DIST", &previous.dist)
            .env("BEATBOOK_PREVIOUS_RELEASE", PREVIOUS_RELEASE.0)
            .env("CHROMIUM", &env.chromium),
        tally,
    )
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
