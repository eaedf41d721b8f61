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

use beatbook_server::Db;

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

fn parse_args() -> Result<Options, String> {
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
        let mut value = || args.next().ok_or(format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--addr" => options.addr = value()?,
            "--dist" => options.dist = value()?.into(),
            "--data" => options.data = value()?.into(),
            "--name" => options.name = Some(value()?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other if options.command == "revoke" && options.device.is_none() => {
                options.device = Some(
                    other
                        .parse()
                        .map_err(|_| format!("{other:?} is not a device id (see `devices`)"))?,
                );
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(options)
}

fn open_db(data: &std::path::Path) -> Result<Db, String> {
    std::fs::create_dir_all(data)
        .map_err(|e| format!("cannot create the data folder {}: {e}", data.display()))?;
    let path = data.join("beatbook.sqlite3");
    Db::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))
}

async fn serve(options: Options) -> Result<(), String> {
    let addr: SocketAddr = options
        .addr
        .parse()
        .map_err(|e| format!("--addr {:?} is not HOST:PORT ({e})", options.addr))?;
    if !options.dist.join("index.html").is_file() {
        return Err(format!(
            "{} has no index.html: build the app first (`cargo xtask run` does both)",
            options.dist.display()
        ));
    }
    let db = Arc::new(open_db(&options.data)?);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().unwrap_or(addr);
    println!("Beatbook is running at http://{local}/");
    println!(
        "Data: {}. To pair a phone: beatbook-server pair --name \"Councillor's phone\" --data {}",
        options.data.display(),
        options.data.display()
    );
    let app = beatbook_server::app(&options.dist, db);
    // The peer address feeds the per-client rate limits (hashed, never kept).
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| format!("server stopped: {e}"))
}

fn run(options: Options) -> Result<(), String> {
    match options.command.as_str() {
        "pair" => {
            let name = options
                .name
                .filter(|n| !n.trim().is_empty())
                .ok_or(format!("pair needs --name\n{USAGE}"))?;
            let code = open_db(&options.data)?
                .create_pairing_code(name.trim())
                .map_err(|e| e.to_string())?;
            println!("Pairing code for {name:?}: {code}");
            println!("Enter it in Beatbook's Settings within 15 minutes. It works once.");
            Ok(())
        }
        "devices" => {
            let devices = open_db(&options.data)?
                .devices()
                .map_err(|e| e.to_string())?;
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
                .ok_or(format!("revoke needs a device id\n{USAGE}"))?;
            if open_db(&options.data)?
                .revoke(id)
                .map_err(|e| e.to_string())?
            {
                println!("Device {id} is revoked; its token no longer works.");
                Ok(())
            } else {
                Err(format!("no active device {id} (see `devices`)"))
            }
        }
        "serve" => tokio::runtime::Runtime::new()
            .map_err(|e| format!("cannot start: {e}"))?
            .block_on(serve(options)),
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt().with_target(false).init();
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}
