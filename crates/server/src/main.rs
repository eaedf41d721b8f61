//! beatbook-server: serves the app and the sync API, and manages paired
//! devices and backups. See `USAGE`; `BEATBOOK_ADDR`, `BEATBOOK_DIST` and
//! `BEATBOOK_DATA` set the defaults of `--addr`, `--dist` and `--data`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use beatbook_server::api::{ApiState, Cidr};
use beatbook_server::serve::{self, Acme, Transport};
use beatbook_server::store::sqlite::backup;
use beatbook_server::store::Devices;
use beatbook_server::{data, Sqlite};

const USAGE: &str = "usage:
  beatbook-server [serve] [--data FOLDER] [--dist FOLDER] ...   serve the app and its API
      --addr HOST:PORT        plain HTTP (default 127.0.0.1:8080; loopback only unless
                              --insecure-http, for a reverse proxy that gives the HTTPS)
      --domain NAME           HTTPS with a certificate from Let's Encrypt (repeatable),
                              on --https-addr (default [::]:443) and --http-addr
                              (default [::]:80, for the challenge and redirects)
      --acme-email EMAIL      where the authority writes about expiring certificates
      --acme-directory URL    another ACME authority than Let's Encrypt
      --acme-root FILE        a root to trust for the authority's own address
      --tls-cert FILE --tls-key FILE
                              HTTPS with a certificate from files (reloaded when they change)
      --trusted-proxy CIDR    believe X-Forwarded-For from this proxy (repeatable)
  beatbook-server pair --name NAME [--data FOLDER]      make a one-time pairing code
  beatbook-server devices [--data FOLDER]               list paired devices
  beatbook-server revoke DEVICE_ID [--data FOLDER]      revoke a device's token
  beatbook-server backup --to FILE [--data FOLDER]      copy the data while the server runs
  beatbook-server restore --from FILE [--data FOLDER]   put a backup back (server stopped)";

#[derive(Debug, Default)]
struct Options {
    command: String,
    addr: String,
    dist: PathBuf,
    data: PathBuf,
    name: Option<String>,
    device: Option<i64>,
    domains: Vec<String>,
    acme_email: Option<String>,
    acme_directory: Option<String>,
    acme_root: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    https_addr: Option<String>,
    http_addr: Option<String>,
    proxies: Vec<Cidr>,
    insecure_http: bool,
    to: Option<PathBuf>,
    from: Option<PathBuf>,
}

/// The options, or the usage when asked for it or given something wrong.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options> {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let mut options = Options {
        command: "serve".into(),
        addr: env("BEATBOOK_ADDR", "127.0.0.1:8080"),
        dist: env("BEATBOOK_DIST", "dist").into(),
        data: env("BEATBOOK_DATA", "data").into(),
        ..Options::default()
    };
    let mut args = args.into_iter().peekable();
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
            "--domain" => options.domains.push(value()?),
            "--acme-email" => options.acme_email = Some(value()?),
            "--acme-directory" => options.acme_directory = Some(value()?),
            "--acme-root" => options.acme_root = Some(value()?.into()),
            "--tls-cert" => options.tls_cert = Some(value()?.into()),
            "--tls-key" => options.tls_key = Some(value()?.into()),
            "--https-addr" => options.https_addr = Some(value()?),
            "--http-addr" => options.http_addr = Some(value()?),
            "--trusted-proxy" => options.proxies.push(value()?.parse()?),
            "--insecure-http" => options.insecure_http = true,
            "--to" => options.to = Some(value()?.into()),
            "--from" => options.from = Some(value()?.into()),
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

fn socket(flag: &str, text: &str) -> Result<SocketAddr> {
    text.parse().with_context(|| {
        format!("{flag} {text:?} is not HOST:PORT (such as 0.0.0.0:443 or [::]:443)")
    })
}

/// How to serve, from the options: HTTPS by ACME or from files, or plain
/// HTTP where that is safe.
fn transport(options: &Options) -> Result<Transport> {
    let https = socket(
        "--https-addr",
        options.https_addr.as_deref().unwrap_or("[::]:443"),
    )?;
    let http = socket(
        "--http-addr",
        options.http_addr.as_deref().unwrap_or("[::]:80"),
    )?;
    match (&options.tls_cert, &options.tls_key) {
        (Some(cert), Some(key)) => {
            if !options.domains.is_empty() {
                bail!("give either --domain (a certificate from ACME) or --tls-cert and --tls-key, not both");
            }
            return Ok(Transport::Files {
                https,
                http: Some(http),
                cert: cert.clone(),
                key: key.clone(),
            });
        }
        (None, None) => {}
        _ => bail!("--tls-cert and --tls-key go together"),
    }
    if !options.domains.is_empty() {
        return Ok(Transport::Acme {
            https,
            http,
            acme: Acme {
                domains: options.domains.clone(),
                directory: options
                    .acme_directory
                    .clone()
                    .unwrap_or_else(|| serve::acme::LETS_ENCRYPT.to_owned()),
                email: options.acme_email.clone(),
                extra_root: options.acme_root.clone(),
                cache: options.data.join(data::CERTIFICATES),
            },
        });
    }
    let addr = socket("--addr", &options.addr)?;
    serve::check_plain(addr, options.insecure_http)?;
    Ok(Transport::Plain { addr })
}

fn open_store(folder: &Path) -> Result<Sqlite> {
    let path = data::prepare(folder)?;
    Sqlite::open(&path).with_context(|| format!("cannot open {}", path.display()))
}

async fn serve_app(options: Options) -> Result<()> {
    let transport = transport(&options)?;
    if !options.dist.join("index.html").is_file() {
        bail!(
            "{} has no index.html: build the app first (`cargo xtask run` does both)",
            options.dist.display()
        );
    }
    data::prepare(&options.data)?;
    let _lock = data::lock(&options.data)?;
    let store = Arc::new(open_store(&options.data)?);
    let state = ApiState::new(store.clone()).trusting(options.proxies.clone());
    let app = beatbook_server::app_with_api(&options.dist, state);
    let data = options.data.display().to_string();
    serve::serve(transport, app, |listening| {
        println!("Beatbook is running at {}", listening.url);
        println!("Data: {data}. To pair a phone: beatbook-server pair --name \"Councillor's phone\" --data {data}");
    })
    .await?;
    // Every request is finished: close the database cleanly.
    let store = serve::last_holder(store).await;
    store.close().context("cannot close the database cleanly")?;
    println!("Stopped; the database is closed.");
    Ok(())
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
        "backup" => {
            let to = options
                .to
                .ok_or_else(|| anyhow!("backup needs --to FILE\n{USAGE}"))?;
            let db = options.data.join(data::DATABASE);
            if !db.is_file() {
                bail!("{} holds no database to back up", options.data.display());
            }
            let summary = backup::backup(&db, &to)
                .with_context(|| format!("cannot back up to {}", to.display()))?;
            println!(
                "Backed up to {}: {summary}. Checked: it restores.",
                to.display()
            );
            Ok(())
        }
        "restore" => {
            let from = options
                .from
                .ok_or_else(|| anyhow!("restore needs --from FILE\n{USAGE}"))?;
            let folder = options.data;
            data::prepare(&folder)?;
            let _lock = data::lock(&folder)?;
            let (summary, kept) = backup::restore(&from, &folder.join(data::DATABASE))
                .with_context(|| format!("cannot restore from {}", from.display()))?;
            data::prepare(&folder)?;
            println!("Restored from {}: {summary}.", from.display());
            if let Some(kept) = kept {
                println!("The database it replaced is kept as {}.", kept.display());
            }
            Ok(())
        }
        "serve" => tokio::runtime::Runtime::new()
            .context("cannot start the server's runtime")?
            .block_on(serve_app(options)),
        other => bail!("unknown command {other:?}\n{USAGE}"),
    }
}

fn main() -> ExitCode {
    // Everything the server writes (the database, its logs, certificates,
    // backups) is readable by its own user only.
    // SAFETY: umask only sets this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    tracing_subscriber::fmt().with_target(false).init();
    match parse_args(std::env::args().skip(1)).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` gives the context and every cause on one line.
            eprintln!("{error:#}");
            ExitCode::from(2)
        }
    }
}
