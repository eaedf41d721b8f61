//! `beatbook-server [--addr 127.0.0.1:8080] [--dist dist]`
//!
//! Environment variables `BEATBOOK_ADDR` and `BEATBOOK_DIST` set the same.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

const DEFAULT_ADDR: &str = "127.0.0.1:8080";
const DEFAULT_DIST: &str = "dist";
const USAGE: &str = "usage: beatbook-server [--addr HOST:PORT] [--dist FOLDER]";

fn parse_args() -> Result<(SocketAddr, PathBuf), String> {
    let mut addr = std::env::var("BEATBOOK_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_owned());
    let mut dist = std::env::var("BEATBOOK_DIST").unwrap_or_else(|_| DEFAULT_DIST.to_owned());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = |args: &mut dyn Iterator<Item = String>| {
            args.next().ok_or(format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--addr" => addr = value(&mut args)?,
            "--dist" => dist = value(&mut args)?,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let addr = addr
        .parse()
        .map_err(|e| format!("--addr {addr:?} is not HOST:PORT ({e})"))?;
    Ok((addr, PathBuf::from(dist)))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (addr, dist) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if !dist.join("index.html").is_file() {
        eprintln!(
            "{} has no index.html: build the app first (`cargo xtask run` does both)",
            dist.display()
        );
        return ExitCode::from(2);
    }
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    let local = listener.local_addr().unwrap_or(addr);
    println!("Beatbook is running at http://{local}/");
    let app = beatbook_server::app(&dist);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("server stopped: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
