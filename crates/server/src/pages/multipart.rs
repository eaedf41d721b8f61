//! A `multipart/form-data` body as a browser sends a form with a file
//! (RFC 7578): its parts, each with its name, its file name and type if it
//! is a file, and its bytes. Only what a browser's own form sends is read:
//! a boundary from the body's Content-Type, parts with a
//! `Content-Disposition: form-data` header; anything else is refused as a
//! malformed body, never guessed at.

/// One part of the form.
#[derive(Debug, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: String,
    /// Set for a file input's part (empty when no file was chosen).
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: &'a [u8],
}

/// The most parts a form may have: the report form has a dozen.
const MAX_PARTS: usize = 32;

/// The boundary named by a `multipart/form-data` Content-Type.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let media = params.next()?.trim();
    if !media.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim().trim_matches('"');
        (1..=70).contains(&value.len()).then(|| value.to_owned())
    })
}

/// The body's parts, in order; `None` if it is not a whole multipart body
/// with this boundary.
pub fn parts<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<Part<'a>>> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    // The body starts with the first delimiter (a preamble is allowed).
    let mut at = find(body, delimiter)? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        let rest = body.get(at..)?;
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        let rest = rest.strip_prefix(b"\r\n")?;
        let start = body.len() - rest.len();
        // The part runs to the next CRLF and delimiter.
        let mut close = b"\r\n".to_vec();
        close.extend_from_slice(delimiter);
        let end = start + find(rest, &close)?;
        parts.push(part(&body[start..end])?);
        if parts.len() > MAX_PARTS {
            return None;
        }
        at = end + close.len();
    }
}

fn part(raw: &[u8]) -> Option<Part<'_>> {
    let split = find(raw, b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let data = &raw[split + 4..];
    let mut name = None;
    let mut filename = None;
    let mut content_type = None;
    for line in head.split("\r\n") {
        let (field, value) = line.split_once(':')?;
        let field = field.trim();
        if field.eq_ignore_ascii_case("content-disposition") {
            let mut params = value.split(';');
            if !params.next()?.trim().eq_ignore_ascii_case("form-data") {
                return None;
            }
            for param in params {
                let (key, value) = param.split_once('=')?;
                let value = unquote(value.trim())?;
                match key.trim().to_ascii_lowercase().as_str() {
                    "name" => name = Some(value),
                    "filename" => filename = Some(value),
                    _ => {}
                }
            }
        } else if field.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_ascii_lowercase());
        }
    }
    Some(Part {
        name: name?,
        filename,
        content_type,
        data,
    })
}

/// A parameter's value: quoted as browsers send it (with `"` escaped as
/// `%22`, per the HTML standard), or a plain token.
fn unquote(value: &str) -> Option<String> {
    match value.strip_prefix('"') {
        Some(quoted) => Some(quoted.strip_suffix('"')?.replace("%22", "\"")),
        None => Some(value.to_owned()),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: &str = "----WebKitFormBoundary7MA4YWxkTrZu0gW";

    /// A field to send: its name, its file name and type if a file, its bytes.
    type Sent<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [u8]);

    fn body(parts: &[Sent]) -> Vec<u8> {
        let mut out = b"ignored preamble\r\n".to_vec();
        for (name, file, data) in parts {
            out.extend_from_slice(format!("--{B}\r\n").as_bytes());
            match file {
                Some((filename, media)) => out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {media}\r\n\r\n").as_bytes(),
                ),
                None => out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{B}--\r\n").as_bytes());
        out
    }

    #[test]
    fn a_browser_s_form_reads_as_it_was_filled() {
        let photo = b"\xff\xd8 not text \r\n--almost a boundary\r\n\xff\xd9";
        let sent = body(&[
            ("place", None, "Under the bridge\r\nby the canal".as_bytes()),
            ("photo", Some(("IMG 1.jpg", "image/jpeg")), photo),
            ("empty", Some(("", "application/octet-stream")), b""),
        ]);
        let read = parts(&sent, B).unwrap();
        assert_eq!(read.len(), 3);
        assert_eq!(read[0].name, "place");
        assert_eq!(read[0].data, b"Under the bridge\r\nby the canal");
        assert_eq!(read[0].filename, None);
        assert_eq!(read[1].filename.as_deref(), Some("IMG 1.jpg"));
        assert_eq!(read[1].content_type.as_deref(), Some("image/jpeg"));
        assert_eq!(read[1].data, photo);
        assert_eq!(read[2].filename.as_deref(), Some(""));
        assert_eq!(read[2].data, b"");
    }

    #[test]
    fn the_boundary_comes_from_the_content_type() {
        assert_eq!(
            boundary(&format!("multipart/form-data; boundary={B}")).as_deref(),
            Some(B)
        );
        assert_eq!(
            boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        assert_eq!(boundary("multipart/form-data"), None);
        assert_eq!(
            boundary(&format!("multipart/form-data; boundary={}", "x".repeat(71))),
            None
        );
    }

    #[test]
    fn a_body_cut_short_or_made_up_is_refused_not_guessed() {
        let sent = body(&[("place", None, b"Here")]);
        assert!(
            parts(&sent[..sent.len() - 10], B).is_none(),
            "no closing delimiter"
        );
        assert!(parts(&sent, "other").is_none());
        let no_disposition = format!("--{B}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{B}--");
        assert!(parts(no_disposition.as_bytes(), B).is_none());
        let not_form_data =
            format!("--{B}\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--{B}--");
        assert!(parts(not_form_data.as_bytes(), B).is_none());
        let many: Vec<Sent> = (0..40).map(|_| ("a", None, &b"x"[..])).collect();
        assert!(
            parts(&body(&many), B).is_none(),
            "no form of ours has forty fields"
        );
        assert_eq!(parts(format!("--{B}--").as_bytes(), B), Some(vec![]));
    }
}
