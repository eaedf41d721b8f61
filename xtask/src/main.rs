//! Project automation, run as `cargo xtask <command>`: the only prerequisite
//! is cargo itself. Everything the build and the tests need is installed here.
//!
//! `cargo xtask run`        installs what is missing, builds the app, serves it.
//! `cargo xtask test`       installs what is missing, runs every check and test.
//! `cargo xtask e2e [FILE]` runs end-to-end test files on their own.

mod bench;
mod build;
mod csp;
mod dist;
mod setup;
mod tally;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{bail, Context};

use tally::{run_tests, Tally};

const USAGE: &str = "\
usage: cargo xtask <command>

  run [--addr HOST:PORT]   install what is missing, build the app, serve it (default 127.0.0.1:8080)
  pair [NAME]              a one-time code to pair a phone with the server `run` serves
  test                     install what is missing, then run every check and test
  e2e [FILE...] [--NODE-FLAG...]
                           run these end-to-end files (all when none: e2e/*.test.mjs; a
                           name such as `notebook` will do), building only what is
                           missing or older than its sources; flags go to Node's runner
                           (such as --test-name-pattern=Delete)
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
/// The reporter is named (TAP, whose summary the tally reads: Node 23
/// changed the default) and the files are passed one by one (a folder is a
/// glob pattern from Node 21). The files follow.
const E2E_RUNNER: [&str; 5] = [
    "--test",
    "--test-reporter=tap",
    "--test-concurrency=1",
    "--test-timeout=600000",
    "--test-force-exit",
];

/// The end-to-end files named (a path, a file name, or a name such as
/// `notebook`), or every one when none is.
fn e2e_files_named(names: &[&String]) -> Result<Vec<PathBuf>> {
    if names.is_empty() {
        return e2e_files();
    }
    let folder = root().join("e2e");
    names
        .iter()
        .map(|name| {
            let base = Path::new(name.as_str())
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let base = base.trim_end_matches(".mjs").trim_end_matches(".test");
            let file = folder.join(format!("{base}.test.mjs"));
            if file.is_file() {
                Ok(file)
            } else {
                let known = e2e_files()?
                    .iter()
                    .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .collect::<Vec<_>>()
                    .join(", ");
                bail!("no end-to-end file {name:?}; there are: {known}")
            }
        })
        .collect()
}

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
        Some("pair") => pair(&args[1..]),
        Some("test") => test(),
        Some("e2e") => e2e(&args[1..]),
        Some("build") => setup::ensure(setup::Needs::BUILD).and_then(|env| {
            build::app(&env)
                .and_then(|()| build::server(&env))
                .map(|_| ())
        }),
        Some("setup") => setup::ensure(setup::Needs::ALL).map(|_| ()),
        Some("finish-build") => finish_build(&args[1..]),
        Some("bench") => bench::run(),
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

/// [`run_step`] for a command whose output is read as well as shown: each
/// line it prints goes to `each_line` after the terminal.
pub fn run_reading(label: &str, command: &mut Command, mut each_line: impl FnMut(&str)) -> Result {
    use std::io::{BufRead, BufReader};
    println!("\n==> {label}");
    let started = Instant::now();
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("{label}: could not start {:?}", command.get_program()))?;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(std::io::Result::ok) {
            println!("{line}");
            each_line(&line);
        }
    }
    let status = child.wait().with_context(|| label.to_owned())?;
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

/// Where `cargo xtask run` keeps its data.
fn run_data() -> PathBuf {
    root().join("data")
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
    build::app(&env)?;
    let server = build::server(&env)?;
    println!("\nOpen the printed address in a browser. Stop with Ctrl-C.");
    println!("To pair a phone, in another terminal here: cargo xtask pair \"Councillor's phone\"");
    let status = Command::new(server)
        .args(["serve", "--addr", &addr, "--dist"])
        .arg(root().join("dist"))
        .arg("--data")
        .arg(run_data())
        .status()
        .context("could not start the server")?;
    if !status.success() {
        bail!("the server stopped ({status})");
    }
    Ok(())
}

/// A pairing code for the server `cargo xtask run` serves (its data folder).
fn pair(args: &[String]) -> Result {
    let name = match args {
        [] => "Councillor's phone".to_owned(),
        words => words.join(" "),
    };
    let env = setup::ensure(setup::Needs::BUILD)?;
    let server = build::server(&env)?;
    let status = Command::new(server)
        .args(["pair", "--name", &name, "--data"])
        .arg(run_data())
        .status()
        .context("could not run the server's pair command")?;
    if !status.success() {
        bail!("pairing failed ({status})");
    }
    Ok(())
}

/// Runs end-to-end files on their own, with what the full run gives them.
fn e2e(args: &[String]) -> Result {
    let (flags, names): (Vec<&String>, Vec<&String>) =
        args.iter().partition(|a| a.starts_with("--"));
    let files = e2e_files_named(&names)?;
    let env = setup::ensure(setup::Needs::ALL)?;
    let mut tally = Tally::of(&["end-to-end"]);
    let outcome = run_tests(
        "end-to-end",
        "end-to-end tests",
        build::for_e2e(&env, false)?.args(flags).args(files),
        &mut tally,
    );
    println!("{}", tally.closing_line());
    outcome
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

/// The server's API tests that run again on PostgreSQL (the rest look at
/// SQLite's files, or run the binary on its data folder).
const API_TESTS: &[&str] = &[
    "sync_api",
    "revisions_api",
    "roles_api",
    "pairing_api",
    "reports_api",
    "inbox_api",
    "photos_api",
    "recordings_api",
    "exports_api",
    "public_endpoint",
    "fuzz_api",
    "plain_pages",
    "push_api",
];

fn run_test_tiers(env: &setup::Env, tally: &mut Tally) -> Result {
    run_tests(
        "native",
        "native tests",
        &mut cmd(env, "cargo", &["test", "--workspace"]),
        tally,
    )?;
    // The same test binaries as the run above: with `--workspace` their
    // features unify as they did there, and nothing is built again.
    let mut api = vec!["test", "--workspace"];
    for name in API_TESTS {
        api.extend(["--test", name]);
    }
    run_tests(
        "native",
        "the API's tests again, on PostgreSQL",
        cmd(env, "cargo", &api).env("BEATBOOK_TEST_STORE", "postgres"),
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
    run_tests(
        "end-to-end",
        "end-to-end tests (headless Chromium through Playwright, and WebKit through WebKitWebDriver, against the server)",
        build::for_e2e(env, true)?.args(e2e_files()?),
        tally,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_test_run_again_on_postgres_is_a_server_test_file() {
        let tests = root().join("crates/server/tests");
        for name in API_TESTS {
            assert!(tests.join(format!("{name}.rs")).is_file(), "{name}");
        }
    }
}
