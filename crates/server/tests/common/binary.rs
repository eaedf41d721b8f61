//! The server binary, started as it is deployed, and its commands.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::{request, temp_dir};

pub const BINARY: &str = env!("CARGO_BIN_EXE_beatbook-server");

/// A built app to serve: an index page and its policy are all the server
/// needs.
pub fn dist() -> PathBuf {
    let dist = temp_dir("serving-dist");
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Beatbook</title>",
    )
    .unwrap();
    std::fs::write(dist.join(beatbook_server::POLICY_FILE), super::POLICY).unwrap();
    dist
}

/// The server binary, started and listening.
pub struct Running {
    pub child: Child,
    pub url: String,
    pub stdout: Arc<Mutex<String>>,
}

impl Running {
    pub fn start(data: &Path, args: &[&str]) -> Running {
        Running::serving(&dist(), data, args)
    }

    /// [`Running::start`] serving the app in `dist`.
    pub fn serving(dist: &Path, data: &Path, args: &[&str]) -> Running {
        let mut child = Command::new(BINARY)
            .arg("serve")
            .arg("--dist")
            .arg(dist)
            .arg("--data")
            .arg(data)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let errors = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines
            .next()
            .expect("the server says where it runs")
            .unwrap();
        let url = first
            .strip_prefix("Beatbook is running at ")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .trim_end_matches('/')
            .to_owned();
        let stdout = Arc::new(Mutex::new(String::new()));
        let rest = stdout.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                rest.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        // What it prints on stderr goes to the same place, after a mark.
        let rest = stdout.clone();
        std::thread::spawn(move || {
            for line in errors.map_while(Result::ok) {
                rest.lock().unwrap().push_str(&format!("stderr: {line}\n"));
            }
        });
        Running { child, url, stdout }
    }

    pub fn addr(&self) -> SocketAddr {
        self.url.rsplit("://").next().unwrap().parse().unwrap()
    }

    /// SIGTERM, as systemd sends it, and the exit status.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let out = self.stdout.lock().unwrap().clone();
        (status, out)
    }
}

impl Running {
    /// SIGKILL, as a power cut or the OOM killer stops it: no chance to
    /// finish anything.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn command(data: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(BINARY)
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Pairs a device through the command line and the API: its auth header.
pub fn pair(data: &Path, addr: SocketAddr) -> String {
    pair_with(data, addr, &[])
}

/// [`pair`], with more options for the command (`--database URL`).
pub fn pair_with(data: &Path, addr: SocketAddr, options: &[&str]) -> String {
    let mut args = vec!["pair", "--name", "test phone"];
    args.extend(options);
    let (ok, out) = command(data, &args);
    assert!(ok, "{out}");
    let code = out
        .split(": ")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim();
    let r = request(
        addr,
        "POST",
        "/api/v1/pair",
        &[],
        json!({ "code": code }).to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    format!(
        "Authorization: Bearer {}",
        r.json()["token"].as_str().unwrap()
    )
}
