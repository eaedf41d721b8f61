//! What happens to a build after Trunk: the residents' entry gets hashed
//! names, the page's Content-Security-Policy is written beside it, the
//! service worker learns the build's version and files, and every text file
//! gets brotli and gzip twins that the server sends to browsers that accept
//! them.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::Result;

/// The service worker, which must not list itself.
const SERVICE_WORKER: &str = "sw.js";
const VERSION_LINE: &str = "const VERSION = 'dev';";
const PRECACHE_LINE: &str = "const PRECACHE = [];";
/// File types worth compressing (PNG is compressed already).
const COMPRESSIBLE: [&str; 7] = ["html", "js", "wasm", "css", "webmanifest", "svg", "json"];

/// Every file of the build, relative to `dir`, sorted, without compressed twins.
pub fn built_files(dir: &Path) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) -> Result {
        let cannot_read = || format!("cannot read {}", dir.display());
        for entry in std::fs::read_dir(dir).with_context(cannot_read)? {
            let path = entry.with_context(cannot_read)?.path();
            if path.is_dir() {
                walk(&path, base, out)?;
            } else if !matches!(path.extension().and_then(|e| e.to_str()), Some("br" | "gz")) {
                let relative = path.strip_prefix(base).with_context(|| {
                    format!("{} is not inside {}", path.display(), base.display())
                })?;
                out.push(relative.to_path_buf());
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    files.sort();
    Ok(files)
}

fn url_of(path: &Path) -> String {
    format!("/{}", path.to_string_lossy().replace('\\', "/"))
}

/// FNV-1a, fed piece by piece.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn feed(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// FNV-1a over every file's name and bytes: any change makes a new version.
fn version_of(dir: &Path, files: &[PathBuf]) -> Result<String> {
    let mut hash = Fnv::new();
    for file in files {
        hash.feed(url_of(file).as_bytes());
        hash.feed(&[0]);
        hash.feed(&std::fs::read(dir.join(file)).with_context(|| file.display().to_string())?);
    }
    Ok(format!("{:016x}", hash.0))
}

/// Where Trunk leaves the residents' entry. It builds it as a "worker", whose
/// files it neither hashes nor names in the page; the start-up script names
/// them as they are here (Trunk.toml, pattern_script).
const RESIDENTS_DIR: &str = "entries";
const RESIDENTS_JS: &str = "residents.js";
const RESIDENTS_WASM: &str = "residents_bg.wasm";

/// Gives the residents' entry hashed names, as Trunk gives the notebook's (so
/// the server lets browsers keep them for a year), and writes the names
/// into the page's start-up script and into the glue's default address.
fn hash_residents_entry(dir: &Path) -> Result {
    let folder = dir.join(RESIDENTS_DIR);
    let read = |name: &str| {
        let path = folder.join(name);
        std::fs::read(&path).with_context(|| {
            format!(
                "{} is missing: index.html must build the residents' entry",
                path.display()
            )
        })
    };
    let (js, wasm) = (read(RESIDENTS_JS)?, read(RESIDENTS_WASM)?);
    let mut hash = Fnv::new();
    hash.feed(&js);
    hash.feed(&wasm);
    let js_name = format!("residents-{:016x}.js", hash.0);
    let wasm_name = format!("residents-{:016x}_bg.wasm", hash.0);

    let glue = String::from_utf8(js).context("the residents' glue is not UTF-8")?;
    std::fs::write(
        folder.join(&js_name),
        glue.replace(RESIDENTS_WASM, &wasm_name),
    )?;
    std::fs::rename(folder.join(RESIDENTS_WASM), folder.join(&wasm_name))?;
    std::fs::remove_file(folder.join(RESIDENTS_JS))?;

    let index_path = dir.join("index.html");
    let mut index =
        std::fs::read_to_string(&index_path).with_context(|| index_path.display().to_string())?;
    for (old, new) in [(RESIDENTS_JS, &js_name), (RESIDENTS_WASM, &wasm_name)] {
        let old = format!("/{RESIDENTS_DIR}/{old}'");
        if !index.contains(&old) {
            bail!("index.html's start-up script does not name {old}");
        }
        index = index.replace(&old, &format!("/{RESIDENTS_DIR}/{new}'"));
    }
    std::fs::write(&index_path, index).with_context(|| index_path.display().to_string())?;
    Ok(())
}

pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        writer
            .write_all(bytes)
            .expect("compressing into memory cannot fail");
    }
    out
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(bytes)
        .expect("compressing into memory cannot fail");
    encoder
        .finish()
        .expect("compressing into memory cannot fail")
}

pub fn is_compressible(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| COMPRESSIBLE.contains(&e))
}

/// The line of the page's first script that the build fills in.
const NAMES_LINE: &str = "var NAMES = {};";

/// The storage names the page's first script decides by, before any wasm
/// runs, written in from core so that they are the app's own: which entry
/// starts (the pairing, a notebook's records, the tab's choice) and where a
/// plain-form report is kept.
fn first_script_names() -> String {
    use beatbook_core::report::POSTED_PREFIX;
    use beatbook_core::route::Face;
    use beatbook_core::schema::{DEVICE_KEY, ENTRY_KEY, KEY_PREFIX, NOTEBOOK_ENTRY};
    let kinds: Vec<&str> = Face::NOTEBOOK_KINDS.iter().map(|k| k.slug()).collect();
    let names = [
        ("device", DEVICE_KEY.to_owned()),
        ("entry", ENTRY_KEY.to_owned()),
        ("notebookEntry", NOTEBOOK_ENTRY.to_owned()),
        ("posted", POSTED_PREFIX.to_owned()),
        // A regular expression's source: the key of a notebook's record.
        (
            "notebookRecord",
            format!("^{KEY_PREFIX}({})/", kinds.join("|")),
        ),
    ];
    let fields: Vec<String> = names
        .iter()
        .map(|(name, value)| {
            assert!(
                value
                    .chars()
                    .all(|c| c != '"' && c != '\\' && !c.is_control()),
                "{value:?} needs no escaping in the page"
            );
            format!("{name}: \"{value}\"")
        })
        .collect();
    format!("var NAMES = {{ {} }};", fields.join(", "))
}

/// Fills in the first script's storage names.
fn write_first_script_names(dir: &Path) -> Result {
    let path = dir.join("index.html");
    let html = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    if html.matches(NAMES_LINE).count() != 1 {
        bail!("{} must hold the line `{NAMES_LINE}` once", path.display());
    }
    let html = html.replacen(NAMES_LINE, &first_script_names(), 1);
    std::fs::write(&path, html).with_context(|| path.display().to_string())
}

/// Names the residents' entry by its hash, fills in the first script's
/// names, writes the page's policy, the service worker's version and
/// precache list, then the compressed twins.
pub fn finish(dir: &Path) -> Result {
    hash_residents_entry(dir)?;
    write_first_script_names(dir)?;
    // After the names are written into the page: the policy hashes its
    // inline scripts as they are served.
    crate::csp::write(dir)?;
    // The policy is a header, never fetched by the app.
    let files: Vec<PathBuf> = built_files(dir)?
        .into_iter()
        .filter(|f| f != Path::new(SERVICE_WORKER) && f != Path::new(crate::csp::FILE))
        .collect();
    let version = version_of(dir, &files)?;
    let urls: Vec<String> = files.iter().map(|f| format!("'{}'", url_of(f))).collect();

    let sw_path = dir.join(SERVICE_WORKER);
    let sw = std::fs::read_to_string(&sw_path).with_context(|| sw_path.display().to_string())?;
    if !sw.contains(VERSION_LINE) || !sw.contains(PRECACHE_LINE) {
        bail!(
            "{} lacks the lines `{VERSION_LINE}` and `{PRECACHE_LINE}` to fill in",
            sw_path.display()
        );
    }
    let sw = sw
        .replacen(VERSION_LINE, &format!("const VERSION = '{version}';"), 1)
        .replacen(
            PRECACHE_LINE,
            &format!("const PRECACHE = [\n  {},\n];", urls.join(",\n  ")),
            1,
        );
    std::fs::write(&sw_path, sw).with_context(|| sw_path.display().to_string())?;

    for file in built_files(dir)? {
        if !is_compressible(&file) {
            continue;
        }
        let path = dir.join(&file);
        let raw = std::fs::read(&path).with_context(|| path.display().to_string())?;
        for (ext, packed) in [("br", brotli(&raw)), ("gz", gzip(&raw))] {
            if packed.len() < raw.len() {
                let mut twin = path.clone().into_os_string();
                twin.push(".");
                twin.push(ext);
                std::fs::write(&twin, packed).with_context(|| format!("{twin:?}"))?;
            }
        }
    }
    println!(
        "service worker version {version}: {} files precached, compressed twins written",
        files.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_script_decides_by_core_s_names() {
        use beatbook_core::schema::{RecordKey, DEVICE_KEY, ENTRY_KEY};
        use beatbook_core::RecordKind;
        let names = first_script_names();
        assert!(names.starts_with("var NAMES = { ") && names.ends_with(" };"));
        for value in [DEVICE_KEY, ENTRY_KEY, beatbook_core::report::POSTED_PREFIX] {
            assert!(names.contains(&format!("\"{value}\"")), "{names}");
        }
        // The notebook's records match, by their storage key's start; a
        // resident's report does not.
        let source = names
            .split("notebookRecord: \"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the notebook's record pattern");
        for kind in RecordKind::ALL {
            let key = RecordKey::new(kind, uuid::Uuid::nil()).to_string();
            let alternatives = source.trim_start_matches('^').trim_end_matches('/');
            let (prefix, list) = alternatives.split_once('(').expect("a group");
            let list = list.trim_end_matches(')');
            let matches = key.strip_prefix(prefix).is_some_and(|rest| {
                list.split('|')
                    .any(|slug| rest.starts_with(&format!("{slug}/")))
            });
            assert_eq!(matches, kind != RecordKind::Report, "{kind:?}: {source}");
        }
    }
}
