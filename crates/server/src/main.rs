//! beatbook-server: serves the app and the sync API, and manages paired
//! devices and backups. `beatbook-server --help` lists the commands;
//! `BEATBOOK_ADDR`, `BEATBOOK_DIST`, `BEATBOOK_DATA` and `BEATBOOK_DATABASE`
//! set the defaults of `--addr`, `--dist`, `--data` and `--database`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use beatbook_server::api::{ApiState, Cidr};
use beatbook_server::serve::{self, Acme, Transport};
use beatbook_server::store::sqlite::backup;
use beatbook_server::store::{Postgres, Store};
use beatbook_server::{data, Sqlite};
use clap::{Args, Parser, Subcommand};

/// The release this server is (docs/releases.md).
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Serves the Beatbook app, the residents' pages and the sync API from one
/// origin, and manages paired devices, reports and backups. With no command,
/// it serves.
#[derive(Debug, Parser)]
#[command(
    name = "beatbook-server",
    version,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    serve: Serve,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Serve the app and its API (the default).
    Serve(Box<Serve>),
    /// Make a one-time pairing code for a phone: the first ward's first
    /// councillor's (made if the server has no ward yet), or with --person,
    /// another phone of someone `people` lists.
    Pair {
        /// The phone, as `devices` will list it.
        #[arg(long)]
        name: String,
        /// Whose phone it is: a person's id, as `people` lists it.
        #[arg(long, value_name = "ID")]
        person: Option<i64>,
        #[command(flatten)]
        site: Site,
        #[command(flatten)]
        data: Data,
    },
    /// Add, rename, bound or list the wards this server holds.
    Ward {
        #[command(subcommand)]
        action: WardCmd,
    },
    /// Add a person to a ward's team, and make a one-time pairing code for
    /// their first phone.
    Invite {
        /// The ward, by name, as `ward list` shows it.
        #[arg(long)]
        ward: String,
        /// councillor, officer (police) or viewer (the ward panel).
        #[arg(long, value_parser = parse_role)]
        role: beatbook_server::store::Role,
        /// The person, as the team will see them named.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        site: Site,
        #[command(flatten)]
        data: Data,
    },
    /// List the people of every ward, their roles and their phones.
    People {
        #[command(flatten)]
        data: Data,
    },
    /// List the paired devices.
    Devices {
        #[command(flatten)]
        data: Data,
    },
    /// Revoke a device's token (it can no longer sync), or with --person,
    /// a person and every phone of theirs.
    #[command(group(clap::ArgGroup::new("whom").required(true).args(["device", "person"])))]
    Revoke {
        /// The device's id, as `devices` lists it.
        device: Option<i64>,
        /// A person's id, as `people` lists it.
        #[arg(long, value_name = "ID")]
        person: Option<i64>,
        #[command(flatten)]
        data: Data,
    },
    /// Erase a report's personal data: contact details, description, exact
    /// location and private notes (its code and status history stay).
    EraseReport {
        /// The report's reference code, such as K7QF2-M3XDA.
        code: String,
        #[command(flatten)]
        data: Data,
    },
    /// Copy the data to one file while the server runs, and check it restores.
    Backup {
        /// The file to write.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        #[command(flatten)]
        data: Data,
    },
    /// Put a backup back, with the server stopped (the database it replaces
    /// is kept beside it).
    Restore {
        /// The backup to restore.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        #[command(flatten)]
        data: Data,
    },
}

#[derive(Debug, Subcommand)]
enum WardCmd {
    /// Add a ward.
    Add {
        /// Its name, unique on this server.
        name: String,
        /// Its area: a GeoJSON Polygon or MultiPolygon (or a Feature or
        /// FeatureCollection of them), as councils publish ward boundaries.
        #[arg(long, value_name = "FILE.geojson")]
        boundary: Option<PathBuf>,
        #[command(flatten)]
        data: Data,
    },
    /// Rename a ward, or give it a boundary.
    Change {
        /// The ward's name now.
        name: String,
        /// Its new name.
        #[arg(long)]
        rename: Option<String>,
        /// Its area, as for `ward add`.
        #[arg(long, value_name = "FILE.geojson")]
        boundary: Option<PathBuf>,
        #[command(flatten)]
        data: Data,
    },
    /// List the wards.
    List {
        #[command(flatten)]
        data: Data,
    },
}

fn parse_role(text: &str) -> Result<beatbook_server::store::Role, String> {
    beatbook_server::store::Role::from_slug(text)
        .ok_or_else(|| "a role is councillor, officer or viewer".to_owned())
}

/// A ward's boundary, read from a GeoJSON file.
fn read_boundary(file: &Path) -> Result<beatbook_server::store::Boundary> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    beatbook_server::store::Boundary::from_geojson(&text)
        .with_context(|| format!("{} is not a ward boundary", file.display()))
}

/// A name given on the command line, checked as core checks every name.
fn checked(what: &str, name: &str) -> Result<String> {
    beatbook_core::team::checked_name(what, name).map_err(|e| anyhow!(e))
}

/// Where the server keeps its database, photos, certificates and log.
#[derive(Debug, Args)]
struct Data {
    /// The data folder.
    #[arg(
        long = "data",
        value_name = "FOLDER",
        env = "BEATBOOK_DATA",
        default_value = "data"
    )]
    folder: PathBuf,
    /// Keep the records and photos in this PostgreSQL database
    /// (postgres://USER:PASS@HOST/DB), which several servers may share,
    /// instead of SQLite in the data folder.
    #[arg(long, value_name = "URL", env = "BEATBOOK_DATABASE")]
    database: Option<String>,
}

/// Where phones open Beatbook, for the pairing link and its QR code.
#[derive(Debug, Args)]
struct Site {
    /// The address phones open Beatbook at (https://beatbook.example.org):
    /// with it, a link that opens the pairing screen with the code filled
    /// in is printed too, and that link as a QR code to scan.
    #[arg(long = "site", value_name = "URL", env = "BEATBOOK_SITE")]
    url: Option<String>,
}

#[derive(Debug, Args)]
struct Serve {
    /// Plain HTTP on this address, loopback only unless --insecure-http (for
    /// a reverse proxy that gives the HTTPS); BEATBOOK_ADDR sets the default.
    /// With HTTPS, --https-addr says where it listens.
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<SocketAddr>,
    /// Serve plain HTTP off loopback, for a reverse proxy on another address.
    #[arg(long)]
    insecure_http: bool,
    /// HTTPS with a certificate from Let's Encrypt for this name (repeatable).
    #[arg(long = "domain", value_name = "NAME", conflicts_with = "tls_cert")]
    domains: Vec<String>,
    /// Where the certificate authority writes about expiring certificates.
    #[arg(long, value_name = "EMAIL", requires = "domains")]
    acme_email: Option<String>,
    /// Another ACME certificate authority than Let's Encrypt.
    #[arg(long, value_name = "URL", requires = "domains")]
    acme_directory: Option<String>,
    /// A root certificate to trust for the ACME authority's own address.
    #[arg(long, value_name = "FILE", requires = "domains")]
    acme_root: Option<PathBuf>,
    /// HTTPS with the certificate in this file (reloaded when it changes).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Where HTTPS listens, with --domain or --tls-cert [default: [::]:443].
    #[arg(long, value_name = "HOST:PORT")]
    https_addr: Option<SocketAddr>,
    /// Where plain HTTP answers the certificate challenge and redirects to
    /// HTTPS, with --domain or --tls-cert [default: [::]:80].
    #[arg(long, value_name = "HOST:PORT")]
    http_addr: Option<SocketAddr>,
    /// The built app to serve.
    #[arg(
        long,
        value_name = "FOLDER",
        env = "BEATBOOK_DIST",
        default_value = "dist"
    )]
    dist: PathBuf,
    #[command(flatten)]
    data: Data,
    /// Believe X-Forwarded-For from this proxy (repeatable).
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    proxies: Vec<Cidr>,
    /// Erase residents' contact details this many days after their report is closed.
    #[arg(long, value_name = "N", default_value_t = beatbook_server::api::KEEP_CONTACT_DAYS)]
    keep_contact_days: u32,
    /// Disk residents' photos may take together; past it, their photos wait
    /// on their phones (507).
    #[arg(long = "resident-photos-mb", value_name = "N", default_value_t = beatbook_server::api::RESIDENT_PHOTO_MB)]
    resident_photo_mb: u64,
    /// Notes and records one paired device may store; past it, what it
    /// sends waits on the phone (413).
    #[arg(long, value_name = "N", default_value_t = beatbook_server::store::DEVICE_QUOTA_BYTES / (1024 * 1024))]
    device_quota_mb: u64,
    /// Note photos one paired device may store; past it, its photos wait on
    /// the phone (507).
    #[arg(long, value_name = "N", default_value_t = beatbook_server::store::DEVICE_PHOTO_QUOTA_BYTES / (1024 * 1024))]
    device_photos_mb: u64,
    /// Answer only apps of this protocol level and later (docs/releases.md);
    /// older ones are told to update.
    #[arg(long, value_name = "N", default_value_t = beatbook_core::protocol::level::OLDEST)]
    oldest_app_level: u32,
    /// Whom push services may contact about this server's notifications to
    /// residents: a mailto: or https: address (Apple's push service refuses
    /// notifications without a real one).
    #[arg(long, value_name = "ADDRESS", env = "BEATBOOK_PUSH_CONTACT")]
    push_contact: Option<String>,
    /// A root certificate to trust for a private push service (one on this
    /// network, whose address is then allowed).
    #[arg(long, value_name = "FILE")]
    push_root: Option<PathBuf>,
}

/// How to serve, from the options: HTTPS by ACME or from files, or plain
/// HTTP where that is safe. A flag for the other kind is refused, saying
/// which flag applies instead.
fn transport(options: &Serve) -> Result<Transport> {
    let https = options.tls_cert.is_some() || !options.domains.is_empty();
    if https {
        if options.addr.is_some() {
            bail!(
                "--addr is for plain HTTP. With --domain or --tls-cert, --https-addr says where \
                 HTTPS listens (default [::]:443) and --http-addr where plain HTTP answers the \
                 certificate challenge and redirects (default [::]:80)."
            );
        }
        if options.insecure_http {
            bail!(
                "--insecure-http is for plain HTTP behind a proxy; with --domain or --tls-cert \
                 the server gives HTTPS itself."
            );
        }
    } else if options.https_addr.is_some() || options.http_addr.is_some() {
        bail!(
            "--https-addr and --http-addr apply to HTTPS: add --domain NAME (a certificate from \
             Let's Encrypt) or --tls-cert FILE --tls-key FILE. For plain HTTP, --addr says \
             where it listens."
        );
    }
    let listen = |given: Option<SocketAddr>, port: u16| {
        given.unwrap_or_else(|| SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port)))
    };
    let (https, http) = (
        listen(options.https_addr, 443),
        listen(options.http_addr, 80),
    );
    if let (Some(cert), Some(key)) = (&options.tls_cert, &options.tls_key) {
        return Ok(Transport::Files {
            https,
            http: Some(http),
            cert: cert.clone(),
            key: key.clone(),
        });
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
                cache: options.data.folder.join(data::CERTIFICATES),
            },
        });
    }
    let addr = match options.addr {
        Some(addr) => addr,
        None => {
            let text = std::env::var("BEATBOOK_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());
            text.parse().with_context(|| {
                format!("BEATBOOK_ADDR {text:?} is not HOST:PORT (such as 127.0.0.1:8080)")
            })?
        }
    };
    serve::check_plain(addr, options.insecure_http)?;
    Ok(Transport::Plain { addr })
}

fn open_sqlite(folder: &Path) -> Result<Sqlite> {
    let path = data::prepare(folder)?;
    Sqlite::open(&path).with_context(|| format!("cannot open {}", path.display()))
}

fn open_postgres(url: &str) -> Result<Postgres> {
    Postgres::open(url).map_err(|e| anyhow!("cannot open the PostgreSQL database: {}", e.chain()))
}

/// The store the data options name, for the commands.
fn open_store(data: &Data) -> Result<Box<dyn Store>> {
    Ok(match &data.database {
        Some(url) => Box::new(open_postgres(url)?),
        None => Box::new(open_sqlite(&data.folder)?),
    })
}

/// Serves on the store the options name. A PostgreSQL store is opened
/// (and in the end dropped) here, outside the runtime: its client blocks,
/// and the runtime's own threads must never.
fn serve(options: Serve) -> Result<()> {
    let postgres = match &options.data.database {
        Some(url) => Some(Arc::new(open_postgres(url)?)),
        None => None,
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the server's runtime")?;
    runtime.block_on(serve_app(options, postgres.clone()))?;
    drop(runtime);
    drop(postgres);
    Ok(())
}

async fn serve_app(options: Serve, postgres: Option<Arc<Postgres>>) -> Result<()> {
    let transport = transport(&options)?;
    if !options.dist.join("index.html").is_file() {
        bail!(
            "{} has no index.html: build the app first (`cargo xtask run` does both)",
            options.dist.display()
        );
    }
    if !options.dist.join(beatbook_server::POLICY_FILE).is_file() {
        bail!(
            "{} has no {}: build the app with this release's `cargo xtask build`, which \
             writes the page's security policy beside it",
            options.dist.display(),
            beatbook_server::POLICY_FILE
        );
    }
    let folder = &options.data.folder;
    data::prepare(folder)?;
    let device_quota = options.device_quota_mb.saturating_mul(1024 * 1024);
    let photo_quota = options.device_photos_mb.saturating_mul(1024 * 1024);
    if let Some(store) = postgres {
        store.set_device_quota(device_quota);
        store.set_device_photo_quota(photo_quota);
        serve_store(options, store, transport).await?;
        println!("Stopped.");
        return Ok(());
    }
    // One server at a time on a data folder's SQLite database.
    let _lock = data::lock(folder)?;
    let store = Arc::new(open_sqlite(folder)?);
    store.set_device_quota(device_quota);
    store.set_device_photo_quota(photo_quota);
    // Photos an earlier release kept with metadata: rebuilt once. A failure
    // here (a full disk) is said and tried again at the next start; the
    // server starts all the same.
    if let Err(e) = store.clean_kept_photos() {
        tracing::warn!(
            "could not clean the photos an earlier release kept: {}",
            e.chain()
        );
    }
    let store = serve_store(options, store, transport).await?;
    // Every request is finished: close the database cleanly.
    let store = serve::last_holder(store).await;
    store.close().context("cannot close the database cleanly")?;
    println!("Stopped; the database is closed.");
    Ok(())
}

/// Serves on `store` until told to stop, and gives the store back.
async fn serve_store<S: Store>(
    options: Serve,
    store: Arc<S>,
    transport: Transport,
) -> Result<Arc<S>> {
    let folder = &options.data.folder;
    let state = ApiState::new(store.clone())
        .trusting(options.proxies.clone())
        .keeping_contacts(options.keep_contact_days)
        .answering_from_level(options.oldest_app_level)
        .with_resident_photo_room(options.resident_photo_mb.saturating_mul(1_000_000));
    let expiry = tokio::spawn(expire_contacts(store.clone(), options.keep_contact_days));
    let sender = beatbook_server::push::send::Sender::new(
        options.push_contact.clone(),
        options.push_root.as_deref(),
    )?;
    let pushes = tokio::spawn(sender.run(store.clone(), state.push_wake()));
    let notifications = match &options.push_contact {
        Some(contact) => {
            format!("Notifications to residents: push services may write to {contact}.")
        }
        None => {
            "Notifications to residents: set --push-contact (BEATBOOK_PUSH_CONTACT) to a \
                 mailto: or https: address of yours; Apple's push service refuses them without one."
                .to_owned()
        }
    };
    let app = beatbook_server::app_with_api(&options.dist, state);
    let pair = pairing_command(&options.data);
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
    let kept = match options.data.database {
        Some(_) => format!("{} (records in PostgreSQL)", folder.display()),
        None => folder.display().to_string(),
    };
    serve::serve_with(transport, app, limits, |listening| {
        println!("Beatbook is running at {}", listening.url);
        println!("Release {VERSION} (docs/releases.md).");
        println!("{doors}");
        println!("Data: {kept}. To pair a phone: {pair}");
        println!("{notifications}");
    })
    .await?;
    for task in [expiry, pushes] {
        task.abort();
        let _ = task.await;
    }
    Ok(store)
}

/// Forgets residents' contact details `days` after their report was
/// closed: at start, then every hour.
async fn expire_contacts<S: Store>(store: Arc<S>, days: u32) {
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

/// The command that pairs a phone with this server, to paste as it is (a
/// database's address, which may hold a password, is left to the
/// environment, as BEATBOOK_DATABASE).
fn pairing_command(data: &Data) -> String {
    let program = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "beatbook-server".to_owned());
    if data.database.is_some() {
        return format!(
            "{} pair --name \"Councillor's phone\" (with BEATBOOK_DATABASE set)",
            quoted(&program)
        );
    }
    let folder = &data.folder;
    let folder = std::path::absolute(folder).unwrap_or_else(|_| folder.to_owned());
    format!(
        "{} pair --name \"Councillor's phone\" --data {}",
        quoted(&program),
        quoted(&folder.display().to_string())
    )
}

/// A word for a POSIX shell: as it is when it is safe, or in single quotes.
fn quoted(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// What to do with a pairing code, printed beside it.
const PAIRING_STEPS: &str = "On the phone, open Beatbook and tap \"Councillor? Pair this phone\" (on a phone already paired: Settings), then enter the code within 15 minutes. It works once.";

impl Site {
    /// Refuses an address that is not one, before any code is made.
    fn check(&self) -> Result<()> {
        match self.url.as_deref() {
            Some(url) if !(url.starts_with("https://") || url.starts_with("http://")) => bail!(
                "--site is the address phones open Beatbook at, such as https://beatbook.example.org"
            ),
            _ => Ok(()),
        }
    }
}

/// How a pairing code reaches the phone: typed, or (with `--site`) by a
/// link that fills it in, shown as a QR code to scan.
fn print_pairing(code: &str, site: &Site) -> Result<()> {
    let Some(url) = site.url.as_deref() else {
        println!("{PAIRING_STEPS}");
        println!("With --site (or BEATBOOK_SITE) set to the address phones open Beatbook at, a link and a QR code that fill the code in are printed too.");
        return Ok(());
    };
    let link = beatbook_core::pairing::link(url, code);
    println!("Or open this link on the phone, or scan the code below with its camera, and tap \"Pair this phone\" within 15 minutes:");
    println!("{link}");
    let qr = qrcode::QrCode::new(link.as_bytes()).context("cannot draw the link as a QR code")?;
    // Light modules drawn as blocks: the code reads as dark on light on a
    // terminal with a dark background, the usual one.
    use qrcode::render::unicode::Dense1x2;
    let drawn = qr
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    println!("{drawn}");
    Ok(())
}

fn ward(action: WardCmd) -> Result<()> {
    match action {
        WardCmd::Add {
            name,
            boundary,
            data,
        } => {
            let name = checked("ward", &name)?;
            let boundary = boundary.as_deref().map(read_boundary).transpose()?;
            let ward = open_store(&data)?
                .add_ward(&name, boundary.as_ref())
                .context("cannot add the ward")?;
            println!(
                "Added ward {} ({}).",
                ward.name,
                if ward.boundary.is_some() {
                    "with its boundary"
                } else {
                    "no boundary: give one with `ward change --boundary` so reports find it"
                }
            );
            Ok(())
        }
        WardCmd::Change {
            name,
            rename,
            boundary,
            data,
        } => {
            let rename = rename.map(|n| checked("ward", &n)).transpose()?;
            let boundary = boundary.as_deref().map(read_boundary).transpose()?;
            if rename.is_none() && boundary.is_none() {
                bail!("say what changes: --rename NEW-NAME, or --boundary FILE.geojson");
            }
            let ward = open_store(&data)?
                .change_ward(name.trim(), rename.as_deref(), boundary.as_ref())
                .context("cannot change the ward")?;
            println!("Ward {} is changed.", ward.name);
            Ok(())
        }
        WardCmd::List { data } => {
            let wards = open_store(&data)?
                .wards()
                .context("cannot list the wards")?;
            if wards.is_empty() {
                println!("No wards yet: `ward add NAME` adds one (`pair` makes a first one).");
            }
            for w in wards {
                let bounded = if w.boundary.is_some() {
                    "bounded"
                } else {
                    "no boundary"
                };
                println!("{}\t{}\t{bounded}\tadded {}", w.id, w.name, w.created_at);
            }
            Ok(())
        }
    }
}

/// What `backup` and `restore` say of a PostgreSQL database.
const POSTGRES_BACKUPS: &str = "a PostgreSQL database is backed up with PostgreSQL's own pg_dump \
     and restored with pg_restore, while the servers run (the README's Deploy section)";

fn run(command: Cmd) -> Result<()> {
    match command {
        Cmd::Pair {
            name,
            person,
            site,
            data,
        } => {
            let name = name.trim();
            if name.is_empty() {
                bail!("--name needs words: who the phone is for");
            }
            site.check()?;
            let store = open_store(&data)?;
            let code = match person {
                Some(person) => store.pairing_code_for(person, name),
                None => store.create_pairing_code(name),
            }
            .context("cannot make a pairing code")?;
            println!("Pairing code for {name:?}: {code}");
            print_pairing(&code, &site)
        }
        Cmd::Ward { action } => ward(action),
        Cmd::Invite {
            ward,
            role,
            name,
            site,
            data,
        } => {
            let name = checked("person", &name)?;
            site.check()?;
            let store = open_store(&data)?;
            let person = store
                .add_person(ward.trim(), role, &name)
                .context("cannot add the person")?;
            let code = store
                .pairing_code_for(person.id, &format!("{name}'s phone"))
                .context("cannot make a pairing code")?;
            println!(
                "{name} is person {}, {} of {}.",
                person.id,
                role.label().to_lowercase(),
                person.ward
            );
            println!("Pairing code for {name}'s phone: {code}");
            print_pairing(&code, &site)?;
            println!(
                "Another phone of theirs: pair --person {} --name \"{name}'s tablet\".",
                person.id
            );
            Ok(())
        }
        Cmd::People { data } => {
            let people = open_store(&data)?
                .people()
                .context("cannot list the people")?;
            if people.is_empty() {
                println!("No one yet: `invite` adds a person to a ward (`ward add` makes one).");
            }
            for p in people {
                let state = p
                    .revoked_at
                    .map(|at| format!("revoked {at}"))
                    .unwrap_or_else(|| "active".into());
                println!(
                    "{}\t{}\t{}\t{}\t{} phones\t{state}",
                    p.id,
                    p.name,
                    p.role.slug(),
                    p.ward,
                    p.devices
                );
            }
            Ok(())
        }
        Cmd::Devices { data } => {
            let devices = open_store(&data)?
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
        Cmd::Revoke {
            device,
            person,
            data,
        } => {
            let store = open_store(&data)?;
            if let Some(person) = person {
                if !store
                    .revoke_person(person)
                    .context("cannot revoke the person")?
                {
                    bail!("no active person {person} (see `people`)");
                }
                println!("Person {person} is revoked, with every phone of theirs: none can sync.");
                return Ok(());
            }
            let device = device.ok_or_else(|| anyhow!("give a device's id, or --person"))?;
            if store.revoke(device).context("cannot revoke the device")? {
                println!("Device {device} is revoked; its token no longer works.");
                Ok(())
            } else {
                bail!("no active device {device} (see `devices`)")
            }
        }
        Cmd::EraseReport { code: typed, data } => {
            let code = beatbook_core::code::normalise(&typed).ok_or_else(|| {
                anyhow!("{typed:?} is not a reference code: codes look like K7QF2-M3XDA")
            })?;
            if !open_store(&data)?
                .erase_report(&code)
                .context("cannot erase the report")?
            {
                bail!("no report has the code {code}");
            }
            println!("Erased the contact details, description and exact location of report {code}, and the private notes on it. Its code and status history are kept.");
            Ok(())
        }
        Cmd::Backup { to, data } => {
            if data.database.is_some() {
                bail!("{POSTGRES_BACKUPS}");
            }
            let db = data.folder.join(data::DATABASE);
            if !db.is_file() {
                bail!("{} holds no database to back up", data.folder.display());
            }
            let summary = backup::backup(&db, &to)
                .with_context(|| format!("cannot back up to {}", to.display()))?;
            println!(
                "Backed up to {}: {summary}. Checked: it restores.",
                to.display()
            );
            Ok(())
        }
        Cmd::Restore { from, data } => {
            if data.database.is_some() {
                bail!("{POSTGRES_BACKUPS}");
            }
            let folder = data.folder;
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
        Cmd::Serve(options) => serve(*options),
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
    let cli = Cli::parse();
    match run(cli.command.unwrap_or(Cmd::Serve(Box::new(cli.serve)))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` gives the context and every cause on one line.
            eprintln!("{error:#}");
            ExitCode::from(2)
        }
    }
}
