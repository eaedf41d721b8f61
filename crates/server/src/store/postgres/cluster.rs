//! A throwaway PostgreSQL cluster for the tests and the benchmarks (not
//! used by the server itself): made once per test
//! process from the machine's own PostgreSQL (Debian's `postgresql`, which
//! `cargo xtask test` installs), listening only on a socket in a folder of
//! its own, and stopped when the process ends (a later run removes the
//! folders of ended ones). Each test gets a database of its own. PostgreSQL refuses to run as root, so a root process runs it
//! as the `postgres` user. A machine with no PostgreSQL fails these tests,
//! never skips them.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

/// The cluster's superuser, made by `initdb`.
const USER: &str = "beatbook";

struct Cluster {
    /// Where the server's socket is.
    socket_dir: PathBuf,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// A name no other test database has.
fn fresh_name(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        crate::random::hex(&crate::random::random_bytes::<8>())
    )
}

/// The connection string of a new, empty database on the test cluster,
/// and the database's name.
pub fn new_database() -> (String, String) {
    let cluster = CLUSTER
        .get_or_init(start)
        .as_ref()
        .unwrap_or_else(|e| panic!("no PostgreSQL for the tests: {e}"));
    let name = fresh_name("test_");
    admin(cluster)
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("a test database");
    (url(cluster, &name), name)
}

/// The test cluster's data folder (`initdb`'s), whose files a test may
/// read to see what PostgreSQL keeps on disk.
pub fn data_folder() -> PathBuf {
    let cluster = CLUSTER
        .get_or_init(start)
        .as_ref()
        .unwrap_or_else(|e| panic!("no PostgreSQL for the tests: {e}"));
    cluster.socket_dir.join("data")
}

/// Removes a test database, closing whatever still uses it.
pub fn drop_database(name: &str) {
    if let Some(Ok(cluster)) = CLUSTER.get() {
        let _ =
            admin(cluster).batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}

fn url(cluster: &Cluster, database: &str) -> String {
    format!(
        "host={} user={USER} dbname={database}",
        cluster.socket_dir.display()
    )
}

fn admin(cluster: &Cluster) -> postgres::Client {
    postgres::Client::connect(&url(cluster, "postgres"), postgres::NoTls)
        .expect("the test cluster answers")
}

/// One of PostgreSQL's programs (`pg_dump`, `pg_restore`), from the folder
/// the cluster's come from.
pub fn program(name: &str) -> PathBuf {
    binaries()
        .unwrap_or_else(|e| panic!("no PostgreSQL for the tests: {e}"))
        .join(name)
}

/// The folder of PostgreSQL's programs: `BEATBOOK_POSTGRES_BIN`, or the
/// newest of Debian's.
fn binaries() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("BEATBOOK_POSTGRES_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "PostgreSQL is not installed (Debian's postgresql package; cargo xtask test installs it)".to_owned())?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| "no initdb under /usr/lib/postgresql/*/bin".to_owned())
}

/// The user and group to run PostgreSQL as: ours, or `postgres` when we
/// are root.
fn run_as() -> Result<Option<(u32, u32)>, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = std::ffi::CString::new("postgres").expect("no NUL");
    // SAFETY: a NUL-terminated name; the record is read at once, before any
    // other call could reuse it.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    if entry.is_null() {
        return Err("running as root, and there is no postgres user to run PostgreSQL as".into());
    }
    // SAFETY: not null, as checked.
    let entry = unsafe { &*entry };
    Ok(Some((entry.pw_uid, entry.pw_gid)))
}

fn as_user(command: &mut Command, user: Option<(u32, u32)>) -> &mut Command {
    if let Some((uid, gid)) = user {
        command.uid(uid).gid(gid);
    }
    command
}

/// Folders of clusters whose test process has ended.
fn remove_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("beatbook-pg-"))
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn start() -> Result<Cluster, String> {
    let bin = binaries()?;
    let user = run_as()?;
    let parent = std::env::temp_dir();
    remove_stale(&parent);
    let dir = parent.join(fresh_name(&format!("beatbook-pg-{}-", std::process::id())));
    std::fs::create_dir_all(&dir).map_err(|e| format!("making {}: {e}", dir.display()))?;
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("giving {} to postgres: {e}", dir.display()))?;
    }
    let data = dir.join("data");
    let made = as_user(&mut Command::new(bin.join("initdb")), user)
        .args([
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "-U",
            USER,
            "-D",
        ])
        .arg(&data)
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("running initdb: {e}"))?;
    if !made.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&made.stderr)
        ));
    }
    // Started from a thread that lives as long as the process, and told to
    // stop when that thread's process ends (its parent-death signal).
    let (started, outcome) = mpsc::channel();
    let server = bin.join("postgres");
    let socket_dir = dir.clone();
    std::thread::spawn(move || {
        let mut command = Command::new(server);
        as_user(&mut command, user)
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&socket_dir)
            // No TCP. Each commit reaches the disk, as a deployment's does,
            // so that the benchmarks measure what a server would do.
            .args(["-c", "listen_addresses="])
            .args(["-c", "max_connections=200"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl is async-signal-safe; it runs in the child just
        // before exec, after its user is set (which would clear it).
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        match command.spawn() {
            Ok(child) => {
                let _ = started.send(Ok(()));
                let _keep = child;
                loop {
                    std::thread::park();
                }
            }
            Err(e) => {
                let _ = started.send(Err(format!("starting postgres: {e}")));
            }
        }
    });
    outcome
        .recv()
        .map_err(|_| "the thread starting postgres ended".to_owned())??;
    let cluster = Cluster { socket_dir: dir };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match postgres::Client::connect(&url(&cluster, "postgres"), postgres::NoTls) {
            Ok(_) => return Ok(cluster),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(format!("the test cluster did not answer within 30 s: {e}")),
        }
    }
}
