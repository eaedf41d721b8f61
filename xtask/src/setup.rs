//! Installs whatever the build and the tests need and is missing: the wasm32
//! target, Trunk, the wasm-bindgen CLI that matches Cargo.lock, a wasm-opt
//! that works (binaryen from npm), Chromium with chromedriver, and the
//! end-to-end tests' npm packages. Each step checks first, so a second run
//! costs a few seconds.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::{root, run_step, Result};

const TRUNK_VERSION: &str = "0.21.14";
/// Debian's binaryen is too old for Leptos 0.8; this npm release works.
const BINARYEN_NPM: &str = "binaryen@132";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

#[derive(Clone, Copy)]
pub struct Needs {
    browser: bool,
}

impl Needs {
    /// What building and serving the app needs.
    pub const BUILD: Needs = Needs { browser: false };
    /// What the tests need as well.
    pub const ALL: Needs = Needs { browser: true };
}

/// Where the tools are, for the commands that use them.
pub struct Env {
    pub path: std::ffi::OsString,
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

fn tools_dir() -> PathBuf {
    root().join(".tools")
}

fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
        .join("bin")
}

fn output_of(program: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The version of a package as pinned in Cargo.lock.
fn locked_version(package: &str) -> Result<String> {
    let lock =
        std::fs::read_to_string(root().join("Cargo.lock")).context("cannot read Cargo.lock")?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&needle)
        .with_context(|| format!("{package} is not in Cargo.lock"))?
        + needle.len();
    let end = lock[start..].find('"').context("Cargo.lock is malformed")? + start;
    Ok(lock[start..end].to_owned())
}

fn ensure_cargo_tool(binary: &str, crate_name: &str, version: &str, locked: bool) -> Result {
    let path = cargo_bin().join(binary);
    let have = output_of(&path, &["--version"]).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(version) {
        return Ok(());
    }
    let mut args = vec!["install", crate_name, "--version", version, "--force"];
    if locked {
        args.push("--locked");
    }
    run_step(
        &format!("install {crate_name} {version} (takes minutes, once)"),
        Command::new("cargo").args(&args),
    )
}

fn ensure_wasm_target() -> Result {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"))
        .unwrap_or(false);
    if installed {
        return Ok(());
    }
    run_step(
        "add the wasm32 target",
        Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
    )
}

fn ensure_binaryen() -> Result {
    let wasm_opt = tools_dir().join("node_modules/.bin/wasm-opt");
    if output_of(&wasm_opt, &["--version"]).is_some_and(|v| v.contains("132")) {
        return Ok(());
    }
    std::fs::create_dir_all(tools_dir()).context("cannot create .tools")?;
    run_step(
        &format!("install wasm-opt ({BINARYEN_NPM} from npm)"),
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(tools_dir())
            .arg(BINARYEN_NPM),
    )
}

/// What the tests run besides the server, from Debian: Chromium and its
/// driver, WebKitGTK's WebDriver (with its MiniBrowser, the iPhone's
/// engine) and a virtual display for it, a test ACME authority (pebble)
/// and a reverse proxy (Caddy) for the HTTPS tests, NSS's certutil to trust
/// their roots in a browser profile, openssl to make a certificate for the
/// authority, and PostgreSQL, whose throwaway clusters the store's tests
/// start.
const SYSTEM_PACKAGES: &[(&str, &str)] = &[
    (CHROMIUM, "chromium"),
    (CHROMEDRIVER, "chromium-driver"),
    ("/usr/bin/WebKitWebDriver", "webkit2gtk-driver"),
    ("/usr/bin/xvfb-run", "xvfb"),
    ("/usr/bin/pebble", "pebble"),
    ("/usr/bin/caddy", "caddy"),
    ("/usr/bin/certutil", "libnss3-tools"),
    ("/usr/bin/openssl", "openssl"),
    ("/usr/lib/postgresql", "postgresql"),
];

fn ensure_browser() -> Result {
    let missing: Vec<&str> = SYSTEM_PACKAGES
        .iter()
        .filter(|(path, _)| !Path::new(path).exists())
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    run_step("apt-get update", Command::new("apt-get").arg("update"))
        .and_then(|()| {
            run_step(
                &format!("install {}", missing.join(", ")),
                Command::new("apt-get")
                    .args(["install", "-y", "--no-install-recommends"])
                    .args(&missing)
                    .env("DEBIAN_FRONTEND", "noninteractive"),
            )
        })
        .with_context(|| {
            format!(
                "the Debian packages {} are missing: install them as root, then run again",
                missing.join(", ")
            )
        })
}

/// The oldest Node.js whose test runner the end-to-end tests are run with
/// (its TAP reporter named, its files listed), as the README asks.
const NODE_MAJOR_AT_LEAST: u32 = 20;

/// Checks the Node.js on the PATH is one the end-to-end runner works with.
fn ensure_node() -> Result {
    let out = Command::new("node").arg("--version").output().context(
        "Node.js is needed for the end-to-end tests: install Node.js 20 or later (with npm)",
    )?;
    let said = String::from_utf8_lossy(&out.stdout);
    let major = said
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(m) if m >= NODE_MAJOR_AT_LEAST => Ok(()),
        _ => bail!(
            "Node.js {} is too old for the end-to-end tests: install Node.js {NODE_MAJOR_AT_LEAST} or later",
            said.trim()
        ),
    }
}

/// Installs the end-to-end tests' npm packages exactly as the lock file
/// names them (Playwright, axe-core, Lighthouse: none downloads a browser),
/// again whenever the lock file has changed since the last install.
fn ensure_e2e_packages() -> Result {
    let e2e = root().join("e2e");
    let lock =
        std::fs::read(e2e.join("package-lock.json")).context("reading e2e/package-lock.json")?;
    // A copy of the lock the packages were installed from.
    let installed_from = e2e.join("node_modules/.installed-from-lock.json");
    if std::fs::read(&installed_from).is_ok_and(|installed| installed == lock) {
        return Ok(());
    }
    run_step(
        "install the end-to-end tests' npm packages",
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&e2e),
    )?;
    std::fs::write(&installed_from, lock).context("noting which lock the e2e packages came from")
}

pub fn ensure(needs: Needs) -> Result<Env> {
    ensure_wasm_target()?;
    ensure_cargo_tool("trunk", "trunk", TRUNK_VERSION, true)?;
    // The CLI must equal the wasm-bindgen crate in Cargo.lock. Its own lock
    // file names a release the registry no longer serves, so no --locked.
    let bindgen = locked_version("wasm-bindgen")?;
    ensure_cargo_tool("wasm-bindgen", "wasm-bindgen-cli", &bindgen, false)?;
    ensure_binaryen()?;
    if needs.browser {
        ensure_node()?;
        ensure_browser()?;
        ensure_e2e_packages()?;
    }
    let mut paths = vec![tools_dir().join("node_modules/.bin"), cargo_bin()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(paths).context("bad PATH")?;
    Ok(Env {
        path,
        chromium: PathBuf::from(CHROMIUM),
        chromedriver: PathBuf::from(CHROMEDRIVER),
    })
}
