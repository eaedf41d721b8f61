//! The Content-Security-Policy of a build, written beside its `index.html`
//! as `content-security-policy`, which the server sends with every answer
//! (`crates/server/src/web.rs`). The page's inline scripts and style sheet
//! are allowed by their hashes, worked out here once per build from the page
//! as built; nothing else inline may run.

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::Result;

/// The file the server reads the policy from.
pub const FILE: &str = "content-security-policy";

/// Writes the policy for the built `index.html` in `dir`.
pub fn write(dir: &Path) -> Result {
    let index = dir.join("index.html");
    let html = std::fs::read_to_string(&index)
        .with_context(|| format!("cannot read {}", index.display()))?;
    let path = dir.join(FILE);
    std::fs::write(&path, content_security_policy(&html))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The two elements whose text the CSP names by hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Inline {
    Script,
    Style,
}

impl Inline {
    fn open(self) -> &'static str {
        match self {
            Inline::Script => "<script",
            Inline::Style => "<style",
        }
    }

    fn close(self) -> &'static str {
        match self {
            Inline::Script => "</script",
            Inline::Style => "</style",
        }
    }
}

fn starts_with_ignoring_case(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn find_ignoring_case(text: &str, needle: &str) -> Option<usize> {
    text.as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The page's inline `<script>` and `<style>` elements, in order, as a
/// browser's parser finds them: comments are skipped, a name must end where
/// the tag's name ends (`<style-guide>` is another element), and each body
/// runs to its own end tag, so a tag written inside a comment, a script or
/// a style sheet is not taken for an element. A script with a `src` is not
/// inline.
fn inline_elements(html: &str) -> Vec<(Inline, &str)> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = html[at..].find('<') {
        let start = at + offset;
        let rest = &html[start..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            let Some(end) = comment.find("-->") else {
                break;
            };
            at = start + "<!--".len() + end + "-->".len();
            continue;
        }
        let kind = [Inline::Script, Inline::Style].into_iter().find(|kind| {
            starts_with_ignoring_case(rest, kind.open())
                && rest[kind.open().len()..]
                    .starts_with(|c: char| c == '>' || c == '/' || c.is_ascii_whitespace())
        });
        let Some(kind) = kind else {
            at = start + 1;
            continue;
        };
        let Some(open_end) = rest.find('>') else {
            break;
        };
        let attributes = &rest[kind.open().len()..open_end];
        let body_start = open_end + 1;
        let Some(end) = find_ignoring_case(&rest[body_start..], kind.close()) else {
            break;
        };
        let external = attributes
            .split(|c: char| c.is_ascii_whitespace())
            .any(|attribute| starts_with_ignoring_case(attribute, "src="));
        if !external {
            found.push((kind, &rest[body_start..body_start + end]));
        }
        at = start + body_start + end + kind.close().len();
    }
    found
}

/// The CSP source for an inline element's text: its SHA-256, of the text
/// as the browser reads it (line ends made `\n`).
fn hash_source(body: &str) -> String {
    let text = body.replace("\r\n", "\n").replace('\r', "\n");
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The hash sources of the page's inline scripts and style sheets, for the
/// CSP: Trunk starts the app with small inline scripts, and the style sheet
/// is inlined so that the first screen is drawn without a second round trip.
#[derive(Debug, Default)]
struct InlineHashes {
    scripts: Vec<String>,
    styles: Vec<String>,
}

fn inline_hashes(html: &str) -> InlineHashes {
    let mut hashes = InlineHashes::default();
    for (kind, body) in inline_elements(html) {
        let list = match kind {
            Inline::Script => &mut hashes.scripts,
            Inline::Style => &mut hashes.styles,
        };
        list.push(hash_source(body));
    }
    hashes
}

/// Only the app's own scripts and style (and the page's inline ones, by
/// hash) and its WebAssembly may run; nothing may frame the app.
fn content_security_policy(index_html: &str) -> String {
    let hashes = inline_hashes(index_html);
    let (scripts, styles) = (hashes.scripts.join(" "), hashes.styles.join(" "));
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {scripts}; \
         style-src 'self' {styles}; img-src 'self' data: blob:; media-src 'self' blob:; \
         connect-src 'self'; \
         worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(body: &[u8]) -> String {
        let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
        format!("'sha256-{digest}'")
    }

    #[test]
    fn the_policy_names_only_inline_scripts_and_styles_by_hash() {
        let html = r#"<head><script>var a = 1;</script><style>p { color: red; }</style>
            <script type="module">import init from '/a.js';</script><script src="/b.js"></script>
            <link rel="stylesheet" href="/c.css"></head><body></body>"#;
        let InlineHashes { scripts, styles } = inline_hashes(html);
        assert_eq!(
            scripts,
            [hash(b"var a = 1;"), hash(b"import init from '/a.js';")]
        );
        assert_eq!(styles, [hash(b"p { color: red; }")]);
        let csp = content_security_policy(html);
        let script_src = format!(
            "script-src 'self' 'wasm-unsafe-eval' {};",
            scripts.join(" ")
        );
        assert!(csp.contains(&script_src), "{csp}");
        let style_src = format!("style-src 'self' {};", hash(b"p { color: red; }"));
        assert!(csp.contains(&style_src), "{csp}");
        assert!(!csp.contains("unsafe-inline"));
        // The app talks to its own origin only, and nothing may frame it.
        assert!(csp.contains("connect-src 'self';"), "{csp}");
        assert!(!csp.contains("https:"), "{csp}");
        assert!(csp.ends_with("frame-ancestors 'none'"), "{csp}");
    }

    #[test]
    fn inline_elements_are_found_as_a_browser_parses_them() {
        let html = concat!(
            "<!-- the <style> below, and a <script> -->",
            "<style-guide>x</style-guide>",
            "<STYLE media=\"screen\">a { b: c }</Style>",
            "<script>const s = '<style>not a sheet</style>';</SCRIPT >",
            "<style>\r\nd { e: f }\r\n</style>",
            "<script\tSRC=\"/x.js\"></script>",
            "<scripts>no</scripts>",
        );
        let InlineHashes { scripts, styles } = inline_hashes(html);
        assert_eq!(styles, [hash(b"a { b: c }"), hash(b"\nd { e: f }\n")]);
        assert_eq!(scripts, [hash(b"const s = '<style>not a sheet</style>';")]);
    }
}
