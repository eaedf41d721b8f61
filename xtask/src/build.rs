//! The builds the tests and the server need: the release app (and a second,
//! different one for the update test), the server, and the previous release
//! from its own sources.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;

use crate::{cmd, root, run_step, setup, Result};

/// The release before this one (docs/releases.md): its tag, and the commit
/// the tag names, which a clone of main always has (a clone may not fetch
/// tags).
pub const PREVIOUS_RELEASE: (&str, &str) = ("v0.1.0", "a6b1133edc07b7ff0d5f29da5a0ea1038f7fb8cc");

/// The previous release as it was deployed, built from its own sources.
pub struct Built {
    pub server: PathBuf,
    pub dist: PathBuf,
}

/// Builds the previous release's server and app from its commit, in a work
/// tree and a target folder of their own under `target/previous/`, once:
/// the end-to-end tests run phones on that app against this server.
pub fn previous_release(env: &setup::Env) -> Result<Built> {
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

pub fn app(env: &setup::Env) -> Result {
    run_step(
        "build the release app with Trunk",
        cmd(env, "trunk", &["build", "--release", "--offline"]),
    )
}

pub fn server(env: &setup::Env) -> Result<PathBuf> {
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

/// A second, different build of the app: the update test serves it after the
/// first, as a newer release.
pub fn next_app(env: &setup::Env) -> Result<PathBuf> {
    let next = root().join("target/dist-next");
    run_step(
        "build a second release for the update test",
        cmd(env, "trunk", &["build", "--release", "--offline", "--dist"])
            .arg(&next)
            .env("BEATBOOK_BUILD_LABEL", "next"),
    )?;
    Ok(next)
}

/// What the app is built from: a change to any of these makes a build older.
const APP_SOURCES: [&str; 10] = [
    "Cargo.lock",
    "Cargo.toml",
    "Trunk.toml",
    "index.html",
    "src",
    "crates/core",
    "style",
    "public",
    "assets",
    "xtask/src",
];

/// The newest change under `path` (a file, or a folder walked whole).
fn newest(path: &Path) -> SystemTime {
    let Ok(meta) = std::fs::metadata(path) else {
        return SystemTime::UNIX_EPOCH;
    };
    let own = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    if !meta.is_dir() {
        return own;
    }
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| newest(&entry.path()))
        .fold(own, SystemTime::max)
}

/// Whether a built app in `dist` is newer than everything it is built from.
fn is_current(dist: &Path) -> bool {
    let Ok(built) = std::fs::metadata(dist.join("index.html")).and_then(|m| m.modified()) else {
        return false;
    };
    APP_SOURCES
        .iter()
        .all(|source| newest(&root().join(source)) <= built)
}

/// Everything the end-to-end tests run, built once: what is missing or older
/// than its sources is built, the rest reused. Returns the runner's command
/// with the environment every test file reads.
pub fn for_e2e(env: &setup::Env, always: bool) -> Result<std::process::Command> {
    let dist = root().join("dist");
    let next_dist = root().join("target/dist-next");
    if always || !is_current(&dist) {
        app(env)?;
    }
    let next = if always || !is_current(&next_dist) {
        next_app(env)?
    } else {
        next_dist
    };
    let server = server(env)?;
    let previous = previous_release(env)?;
    let mut command = cmd(env, "node", &crate::E2E_RUNNER);
    command
        .env("BEATBOOK_SERVER", &server)
        .env("BEATBOOK_DIST", &dist)
        .env("BEATBOOK_DIST_NEXT", &next)
        .env("BEATBOOK_PREVIOUS_SERVER", &previous.server)
        .env("BEATBOOK_PREVIOUS_DIST", &previous.dist)
        .env("BEATBOOK_PREVIOUS_RELEASE", PREVIOUS_RELEASE.0)
        .env("CHROMIUM", &env.chromium);
    Ok(command)
}
