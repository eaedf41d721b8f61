//! The few pieces every page is made of: text made safe to put in HTML,
//! times in words, the emergency line, and the page compressed.

use std::io::Write;

use axum::http::{header, HeaderMap};
use beatbook_core::words::EMERGENCY;
use chrono::{DateTime, Datelike, Timelike, Utc};

/// `value` as HTML text or an attribute's value (in double quotes): what
/// a resident typed is shown as typed, never read as markup.
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Who to call in danger, as on the app's residents' pages.
pub fn emergency() -> String {
    let [before_999, before_101, after] = EMERGENCY;
    format!(
        "<p class=\"emergency\">{}<a href=\"tel:999\">999</a>{}<a href=\"tel:101\">101</a>{}</p>",
        text(before_999),
        text(before_101),
        text(after)
    )
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// "Sat 5 Dec 2026, 21:40 UTC": the server does not know the phone's time
/// zone, so it says which it uses.
pub fn when(at: DateTime<Utc>) -> String {
    format!(
        "{} {} {} {}, {:02}:{:02} UTC",
        DAYS[at.weekday().num_days_from_monday() as usize],
        at.day(),
        MONTHS[at.month0() as usize],
        at.year(),
        at.hour(),
        at.minute()
    )
}

/// The page compressed as the browser accepts (brotli, else gzip), with the
/// encoding to name; a page is about 25 KB, mostly the app's style sheet.
pub fn compressed(page: String, request: &HeaderMap) -> (Vec<u8>, Option<&'static str>) {
    let accepts = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let offered = |name: &str| {
        accepts.split(',').any(|part| {
            let mut bits = part.split(';');
            let coding = bits.next().unwrap_or("").trim();
            let refused = bits.any(|q| matches!(q.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            coding.eq_ignore_ascii_case(name) && !refused
        })
    };
    if offered("br") {
        let mut out = Vec::with_capacity(page.len() / 3);
        // Quality 5: about a millisecond for a page, most of brotli's gain.
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        if writer.write_all(page.as_bytes()).is_ok() {
            drop(writer);
            return (out, Some("br"));
        }
    } else if offered("gzip") {
        let mut writer = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        if writer.write_all(page.as_bytes()).is_ok() {
            if let Ok(out) = writer.finish() {
                return (out, Some("gzip"));
            }
        }
    }
    (page.into_bytes(), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use chrono::TimeZone;
    use std::io::Read;

    #[test]
    fn typed_text_is_never_markup() {
        assert_eq!(
            text(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(text("Café underpass"), "Café underpass");
    }

    #[test]
    fn times_say_their_zone() {
        let at = Utc.with_ymd_and_hms(2026, 12, 5, 21, 4, 9).unwrap();
        assert_eq!(when(at), "Sat 5 Dec 2026, 21:04 UTC");
    }

    #[test]
    fn a_page_is_compressed_as_the_browser_accepts() {
        let page = "<p>Feel unsafe somewhere?</p>".repeat(100);
        let mut request = HeaderMap::new();
        request.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br, zstd"),
        );
        let (bytes, encoding) = compressed(page.clone(), &request);
        assert_eq!(encoding, Some("br"));
        let mut back = String::new();
        brotli::Decompressor::new(&bytes[..], 4096)
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, page);

        request.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br;q=0, gzip"),
        );
        let (bytes, encoding) = compressed(page.clone(), &request);
        assert_eq!(encoding, Some("gzip"));
        let mut back = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, page);

        request.remove(header::ACCEPT_ENCODING);
        assert_eq!(
            compressed(page.clone(), &request),
            (page.into_bytes(), None)
        );
    }
}
