//! beatbook-server: serves the app and the sync API, and manages paired devices.
//!
//! ```text
//! beatbook-server [serve] [--addr 127.0.0.1:8080] [--dist dist] [--data data]
//! beatbook-server pair --name "Councillor's phone" [--data data]
//! beatbook-server devices [--data data]
//! beatbook-server revoke DEVICE_ID [--data data]
//! ```
//! `BEATBOOK_ADDR`, `BEATBOOK_DIST` and `BEATBOOK_DATA` set the same defaults.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use beatbook_server::store::Devices;
use beatbook_server::Sqlite;

const USAGE: &str = "usage:
  beatbook-server [serve] [--addr HOST:PORT] [--dist FOLDER] [--data FOLDER]
  beatbook-server pair --name NAME [--data FOLDER]     make a one-time pairing code
  beatbook-server devices [--data FOLDER]              list paired devices
  beatbook-server revoke DEVICE_ID [--data FOLDER]     revoke a device's token";

struct Options {
    command: String,
    addr: String,
    dist: PathBuf,
    data: PathBuf,
    name: Option<String>,
    device: Option<i64>,
}

/// The options, or the usage when asked for it or given something wrong.
fn parse_args() -> Result<Options> {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let mut options = Options {
        command: "serve".into(),
        addr: env("BEATBOOK_ADDR", "127.0.0.1:8080"),
        dist: env("BEATBOOK_DIST", "dist").into(),
        data: env("BEATBOOK_DATA", "data").into(),
        name: None,
        device: None,
    };
    let mut args = std::env::args().skip(1).peekable();
    if let Some(first) = args.peek() {
        if !first.starts_with('-') {
            options.command = args.next().unwrap_or_default();
        }
    }
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| anyhow!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--addr" => options.addr = value()?,
            "--dist" => options.dist = value()?.into(),
            "--data" => options.data = value()?.into(),
            "--name" => options.name = Some(value()?),
            "-h" | "--help" => bail!(USAGE),
            other if options.command == "revoke" && options.device.is_none() => {
                options.device =
                    Some(other.parse().with_context(|| {
                        format!("{other:?} is not a device id (see `devices`)")
                    })?);
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    Ok(options)
}

fn open_store(data: &std::path::Path) -> Result<Sqlite> {
    std::fs::create_dir_all(data)
        .with_context(|| format!("cannot create the data folder {}", data.display()))?;
    let path = data.join("beatbook.sqlite3");
    Sqlite::open(&path).with_context(|| format!("cannot open {}", path.display()))
}

async fn serve(options: Options) -> Result<()> {
    let addr: SocketAddr = options
        .addr
        .parse()
        .with_context(|| format!("--addr {:?} is not HOST:PORT", options.addr))?;
    if !options.dist.join("index.html").is_file() {
        bail!(
            "{} has no index.html: build the app first (`cargo xtask run` does both)",
            options.dist.display()
        );
    }
    let store = Arc::new(open_store(&options.data)?);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr().unwrap_or(addr);
    println!("Beatbook is running at http://{local}/");
    println!(
        "Data: {}. To pair a phone: beatbook-server pair --name \"Councillor's phone\" --data {}",
        options.data.display(),
        options.data.display()
    );
    let app = beatbook_server::app(&options.dist, store);
    // The peer address feeds the per-client rate limits (hashed, never kept).
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the server stopped")
}

fn run(options: Options) -> Result<()> {
    match options.command.as_str() {
        "pair" => {
            let name = options
                .name
                .filter(|n| !n.trim().is_empty())
                .ok_or_else(|| anyhow!("pair needs --name\n{USAGE}"))?;
            let code = open_store(&options.data)?
                .create_pairing_code(name.trim())
                .context("cannot make a pairing code")?;
            println!("Pairing code for {name:?}: {code}");
            println!("Enter it in Beatbook's Settings within 15 minutes. It works once.");
            Ok(())
        }
        "devices" => {
            let devices = open_store(&options.data)?
                .devices()
                .context("cannot list the devices")?;
            if devices.is_empty() {
                println!("No paired devices.");
            }
            for d in devices {
                let state = d
                    .revoked_at
                    .map(|at| format!("revoked {at}"))
                    .unwrap_or_else(|| "active".into());
                println!("{}\t{}\tpaired {}\t{state}", d.id, d.name, d.created_at);
            }
            Ok(())
        }
        "revoke" => {
            let id = options
                .device
                .ok_or_else(|| anyhow!("revoke needs a device id\n{USAGE}"))?;
            if open_store(&options.data)?
                .revoke(id)
                .context("cannot revoke the device")?
            {
                println!("Device {id} is revoked; its token no longer works.");
                Ok(())
            } else {
                bail!("no active device {id} (see `devices`)")
            }
        }
        "serve" => tokio::runtime::Runtime::new()
            .context("cannot start the server's runtime")?
            .block_on(serve(options)),
        other => bail!("unknown command {other:?}\n{USAGE}"),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt().with_target(false).init();
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` gives the context and every cause on one line.
            eprintln!("{error:#}");
            ExitCode::from(2)
        }
    }
}
