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
use beatbook_server::store::{Devices, Reports};
use beatbook_server::{data, Sqlite};

/// The release this server is (docs/releases.md).
const VERSION: &str = env!("CARGO_PKG_VERSION");

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
      --keep-contact-days N   erase residents' contact details N days after their report
                              is closed (default 90)
      --resident-photos-mb N  disk residents' photos may take together (default 2048);
                              past it, their photos wait on their phones (507)
      --device-quota-mb N     notes and records one paired device may store (default
                              256); past it, what it sends waits on the phone (413)
      --device-photos-mb N    note photos one paired device may store (default 4096);
                              past it, its photos wait on the phone (507)
      --oldest-app-level N    answer only apps of this protocol level and later
                              (docs/releases.md); older ones are told to update
  beatbook-server pair --name NAME [--data FOLDER]      make a one-time pairing code
  beatbook-server devices [--data FOLDER]               list paired devices
  beatbook-server revoke DEVICE_ID [--data FOLDER]      revoke a device's token
  beatbook-server erase-report CODE [--data FOLDER]     erase a report's personal data
  beatbook-server backup --to FILE [--data FOLDER]      copy the data while the server runs
  beatbook-server restore --from FILE [--data FOLDER]   put a backup back (server stopped)
  beatbook-server --version                             the release (docs/releases.md)";

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
    code: Option<String>,
    keep_contact_days: u32,
    oldest_app_level: u32,
    resident_photo_mb: u64,
    device_quota_mb: u64,
    device_photos_mb: u64,
}

/// The options, or the usage when asked for it or given something wrong.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options> {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let mut options = Options {
        command: "serve".into(),
        addr: env("BEATBOOK_ADDR", "127.0.0.1:8080"),
        dist: env("BEATBOOK_DIST", "dist").into(),
        data: env("BEATBOOK_DATA", "data").into(),
        keep_contact_days: beatbook_server::api::KEEP_CONTACT_DAYS,
        oldest_app_level: beatbook_core::protocol::level::OLDEST,
        resident_photo_mb: beatbook_server::api::RESIDENT_PHOTO_MB,
        device_quota_mb: beatbook_server::store::DEVICE_QUOTA_BYTES / (1024 * 1024),
        device_photos_mb: beatbook_server::store::DEVICE_PHOTO_QUOTA_BYTES / (1024 * 1024),
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
            "--keep-contact-days" => {
                let days = value()?;
                options.keep_contact_days = days.parse().with_context(|| {
                    format!("--keep-contact-days {days:?} is not a number of days")
                })?;
            }
            "--oldest-app-level" => {
                let level = value()?;
                options.oldest_app_level = level.parse().with_context(|| {
                    format!("--oldest-app-level {level:?} is not a protocol level")
                })?;
            }
            "--resident-photos-mb" => options.resident_photo_mb = megabytes(&arg, value()?)?,
            "--device-quota-mb" => options.device_quota_mb = megabytes(&arg, value()?)?,
            "--device-photos-mb" => options.device_photos_mb = megabytes(&arg, value()?)?,
            "-h" | "--help" => bail!(USAGE),
            "-V" | "--version" => options.command = "version".to_owned(),
            other if options.command == "erase-report" && options.code.is_none() => {
                options.code = Some(other.to_owned());
            }
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

/// A flag's value as a number of megabytes.
fn megabytes(flag: &str, value: String) -> Result<u64> {
    value
        .parse()
        .with_context(|| format!("{flag} {value:?} is not a number of megabytes"))
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
    store.set_device_quota(options.device_quota_mb.saturating_mul(1024 * 1024));
    store.set_device_photo_quota(options.device_photos_mb.saturating_mul(1024 * 1024));
    // Photos an earlier release kept with metadata: rebuilt once. A failure
    // here (a full disk) is said and tried again at the next start; the
    // server starts all the same.
    if let Err(e) = store.clean_kept_photos() {
        tracing::warn!(
            "could not clean the photos an earlier release kept: {}",
            e.chain()
        );
    }
    let state = ApiState::new(store.clone())
        .trusting(options.proxies.clone())
        .keeping_contacts(options.keep_contact_days)
        .answering_from_level(options.oldest_app_level)
        .with_resident_photo_room(options.resident_photo_mb.saturating_mul(1_000_000));
    let expiry = tokio::spawn(expire_contacts(store.clone(), options.keep_contact_days));
    let app = beatbook_server::app_with_api(&options.dist, state);
    let data = options.data.display().to_string();
    let files = serve::raise_descriptor_limit();
    let limits = serve::conn::Limits {
        trusted: options.proxies.clone(),
        ..Default::default()
    }
    .within_descriptors(files.unwrap_or(1024));
    let doors = format!(
        "Connections: up to {} at once, {} from one address; open files: {}",
        limits.connections,
        limits.per_client,
        files.map_or("the limit could not be read".to_owned(), |n| format!(
            "up to {n}"
        ))
    );
    serve::serve_with(transport, app, limits, |listening| {
        println!("Beatbook is running at {}", listening.url);
        println!("Release {VERSION} (docs/releases.md).");
        println!("{doors}");
        println!("Data: {data}. To pair a phone: beatbook-server pair --name \"Councillor's phone\" --data {data}");
    })
    .await?;
    expiry.abort();
    let _ = expiry.await;
    // Every request is finished: close the database cleanly.
    let store = serve::last_holder(store).await;
    store.close().context("cannot close the database cleanly")?;
    println!("Stopped; the database is closed.");
    Ok(())
}

/// Forgets residents' contact details `days` after their report was
/// closed: at start, then every hour.
async fn expire_contacts(store: Arc<Sqlite>, days: u32) {
    loop {
        let store = store.clone();
        let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
        match tokio::task::spawn_blocking(move || store.expire_contacts(cutoff)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(
                "erased the contact details of {n} reports closed more than {days} days ago"
            ),
            Ok(Err(e)) => tracing::warn!("could not erase expired contact details: {}", e.chain()),
            Err(e) => tracing::warn!("the expiry task failed: {e}"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
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
            println!("On the phone, open Beatbook and tap \"Councillor? Pair this phone\" (on a phone already paired: Settings), then enter the code within 15 minutes. It works once.");
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
        "erase-report" => {
            let typed = options
                .code
                .ok_or_else(|| anyhow!("erase-report needs the report's code\n{USAGE}"))?;
            let code = beatbook_core::code::normalise(&typed).ok_or_else(|| {
                anyhow!("{typed:?} is not a reference code: codes look like K7QF2-M3XDA")
            })?;
            if !open_store(&options.data)?
                .erase_report(&code)
                .context("cannot erase the report")?
            {
                bail!("no report has the code {code}");
            }
            println!("Erased the contact details, description and exact location of report {code}, and the private notes on it. Its code and status history are kept.");
            Ok(())
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
        "version" => {
            println!("beatbook-server {VERSION}");
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
