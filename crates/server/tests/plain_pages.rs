//! The residents' plain pages over real HTTP: the report form answered with
//! its problems or a code, guarded as the API is, and every page whole.

mod common;

use common::serve;

const FROM_HERE: &str = "Sec-Fetch-Site: same-origin";
const FORM: &str = "Content-Type: application/x-www-form-urlencoded";

/// The code of the report a post's answer sends the browser to.
fn code_sent_to(answer: &common::http::Response) -> String {
    let to = answer
        .header("location")
        .expect("sent to the report's page");
    to.strip_prefix("/reports/")
        .and_then(|rest| rest.strip_suffix("?sent"))
        .expect("/reports/<code>?sent")
        .to_owned()
}

/// How many reports the councillor's inbox holds.
fn inbox_len(server: &common::TestServer, auth: &str) -> usize {
    let inbox = server.get("/api/v1/inbox", &[auth]).json();
    inbox["reports"].as_array().unwrap().len()
}

fn filled(place: &str) -> String {
    format!(
        "kind=poor_lighting&place={place}&when=after_dark&description=Two+lamps+out%0D%0Aall+winter&contact_name=&contact_reach=&website="
    )
}

#[test]
fn a_form_with_problems_comes_back_as_typed_and_stores_nothing() {
    let server = serve();
    let r = server.post(
        "/report",
        &[FROM_HERE, FORM],
        b"place=%3Cb%3Edark%3C%2Fb%3E+%22path%22&when=sometimes&website=",
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let page = r.text();
    assert!(page.contains("<title>Report a place · Beatbook</title>"));
    assert!(
        page.contains("value=\"&lt;b&gt;dark&lt;/b&gt; &quot;path&quot;\""),
        "kept, as text"
    );
    assert!(
        page.contains("3 things to fix before sending."),
        "kind, when, description"
    );
    assert!(page.contains("id=\"plain-report-kind-error\""));
    assert!(
        page.contains("id=\"plain-report-when-error\""),
        "a choice not offered is none"
    );
    let auth = server.pair("Phone");
    assert_eq!(inbox_len(&server, &auth), 0);
}

#[test]
fn words_about_a_time_with_another_choice_are_asked_about_and_nothing_is_stored() {
    let server = serve();
    let body = filled("Canal+steps").replace(
        "when=after_dark",
        "when=after_dark&when_detail=Weekday+evenings",
    );
    let r = server.post("/report", &[FROM_HERE, FORM], body.as_bytes());
    assert_eq!(r.status, 422, "{}", r.text());
    let page = r.text();
    assert!(page.contains("value=\"Weekday evenings\""), "kept");
    assert!(page.contains("id=\"plain-report-when-detail-error\""));
    assert!(page.contains(
        "These words go with \u{201c}At a particular time\u{201d}: choose it, or clear them."
    ));
    let auth = server.pair("Phone");
    assert_eq!(inbox_len(&server, &auth), 0);
}

#[test]
fn a_whole_form_is_stored_once_and_its_page_names_the_code_to_its_maker() {
    let server = serve();
    let r = server.post(
        "/report",
        &[FROM_HERE, FORM],
        filled("Canal+steps").as_bytes(),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let to = r.header("location").unwrap().to_owned();
    let code = code_sent_to(&r);
    let cookie = r.header("set-cookie").unwrap().to_owned();
    assert!(cookie.starts_with(&format!("made-{code}=1;")), "{cookie}");

    let made = format!("Cookie: made-{code}=1");
    let page = server.get(&to, &[&made]);
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(text.contains(&format!(
        "<strong class=\"code\" data-testid=\"plain-report-code\">{code}</strong>"
    )));
    assert!(
        text.contains("Ask for my details to be erased"),
        "offered to its maker"
    );
    assert!(!server
        .get(&to, &[])
        .text()
        .contains("Ask for my details to be erased"));

    let auth = server.pair("Phone");
    let inbox = server.get("/api/v1/inbox", &[&auth]).json();
    let reports = inbox["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["code"], code.as_str());
    assert_eq!(
        reports[0]["report"]["description"],
        "Two lamps out\nall winter"
    );

    // Asked from the page: a 303 back to it, and the request is kept.
    let r = server.post(
        &format!("/reports/{code}/erasure"),
        &[FROM_HERE, &made],
        b"",
    );
    assert_eq!(r.status, 303);
    assert!(server
        .get(&format!("/reports/{code}"), &[&made])
        .text()
        .contains("You asked on"));
}

#[test]
fn a_bot_filling_the_hidden_field_gets_a_code_and_stores_nothing() {
    let server = serve();
    let body = filled("Park").replace("website=", "website=spam.example");
    let r = server.post("/report", &[FROM_HERE, FORM], body.as_bytes());
    assert_eq!(r.status, 303);
    let auth = server.pair("Phone");
    assert_eq!(inbox_len(&server, &auth), 0);
}

#[test]
fn posts_from_elsewhere_too_large_or_too_many_get_a_page_that_says_so_and_keeps_the_words() {
    let server = serve();
    for from in [
        "Sec-Fetch-Site: cross-site",
        "Origin: https://elsewhere.example",
        "X-Nothing: 1",
    ] {
        let r = server.post("/report", &[from, FORM], filled("Park").as_bytes());
        assert_eq!(r.status, 403, "{from}");
        assert!(r
            .text()
            .contains("sent from another website, so nothing was stored"));
    }
    // Posted by another site's script rather than its form: the same page.
    let scripted = ["Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: cors", FORM];
    let r = server.post("/report", &scripted, filled("Park").as_bytes());
    assert_eq!(r.status, 403);
    assert!(r.text().contains("so nothing was stored"));
    let big = format!("{}&description={}", filled("Park"), "x".repeat(70 * 1024));
    let r = server.post("/report", &[FROM_HERE, FORM], big.as_bytes());
    assert_eq!(r.status, 413);
    assert!(r.text().contains("too long to send"));

    let mut last = None;
    for n in 0..40 {
        let r = server.post(
            "/report",
            &[FROM_HERE, FORM],
            filled(&format!("Place+{n}")).as_bytes(),
        );
        if r.status != 303 {
            last = Some((n, r));
            break;
        }
    }
    let (n, r) = last.expect("the allowance runs out");
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    let text = r.text();
    assert!(
        text.contains("Everything you typed is still here"),
        "{text}"
    );
    assert!(
        text.contains(&format!("value=\"Place {n}\"")),
        "the words kept"
    );
}

#[test]
fn every_page_is_whole_titled_and_compressed_when_the_browser_asks() {
    let server = serve();
    for (path, title) in [
        ("/", "Beatbook: report a place that feels unsafe"),
        ("/report", "Report a place · Beatbook"),
        ("/reports", "Your reports · Beatbook"),
        ("/meetings", "Meetings · Beatbook"),
        ("/privacy", "Your privacy · Beatbook"),
    ] {
        let r = server.get(path, &[]);
        assert_eq!(r.status, 200, "{path}");
        let text = r.text();
        assert!(text.contains(&format!("<title>{title}</title>")), "{path}");
        assert!(text.contains("<html lang=\"en\" data-page>"), "{path}");
        assert!(text.contains("id=\"first-page\""), "{path}");
        // What a resident typed, or a report, is kept by no cache.
        let cached = if path.starts_with("/report") {
            "no-store"
        } else {
            "no-cache"
        };
        assert_eq!(r.header("cache-control"), Some(cached), "{path}");
        assert!(r.header("content-security-policy").is_some(), "{path}");
        let br = server.get(path, &["Accept-Encoding: gzip, br"]);
        assert_eq!(br.header("content-encoding"), Some("br"), "{path}");
        assert!(br.body.len() < text.len(), "{path}");
    }
    // A code typed loosely goes to its page; one that is no code says so.
    let r = server.get("/reports?code=k7qf2+m3xda", &[]);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/reports/K7QF2-M3XDA"));
    let r = server.get("/reports?code=banana", &[]);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("That is not a reference code"));
    assert!(r.text().contains("value=\"banana\""));
    // Bytes that are no UTF-8, in the query or the path: the page's own
    // answer, never a bare refusal.
    let r = server.get("/reports?code=%FF%FE", &[]);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("That is not a reference code"));
    assert!(r.text().contains("<form class=\"look-up\""));
    let r = server.get("/reports/%FF%FE?sent", &[]);
    assert_eq!(r.status, 404);
    assert!(r.text().contains("That is not a reference code"));
}

/// The form's own id, from the page as served.
fn form_id(page: &str) -> String {
    let at = page.find("name=\"id\" value=\"").unwrap() + "name=\"id\" value=\"".len();
    page[at..at + 36].to_owned()
}

#[test]
fn a_form_sent_twice_is_one_report_with_one_code() {
    let server = serve();
    let id = form_id(&server.get("/report", &[]).text());
    let body = format!("id={id}&{}", filled("Station+car+park"));
    let first = server.post("/report", &[FROM_HERE, FORM], body.as_bytes());
    let again = server.post("/report", &[FROM_HERE, FORM], body.as_bytes());
    assert_eq!(first.status, 303);
    assert_eq!(first.header("location"), again.header("location"));
    // A form with problems keeps its id for when it is sent whole.
    let half = server.post(
        "/report",
        &[FROM_HERE, FORM],
        format!("id={id}&place=x").as_bytes(),
    );
    assert_eq!(form_id(&half.text()), id);
    let auth = server.pair("Phone");
    assert_eq!(inbox_len(&server, &auth), 1);
    // An id this server would not have made is not taken.
    let made_up = "id=0b3c2a1e-59f6-4c7e-9d1a-7f0b6a2c3d4e&".to_owned() + &filled("Elsewhere");
    let r = server.post("/report", &[FROM_HERE, FORM], made_up.as_bytes());
    assert_eq!(r.status, 303);
    let inbox = server.get("/api/v1/inbox", &[&auth]).json();
    let ids: Vec<&str> = inbox["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["report"]["id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.contains(&"0b3c2a1e-59f6-4c7e-9d1a-7f0b6a2c3d4e"),
        "{ids:?}"
    );
}

#[test]
fn the_code_of_a_report_just_sent_is_shown_even_when_look_ups_have_run_out() {
    let server = serve();
    let r = server.post("/report", &[FROM_HERE, FORM], filled("Bridge").as_bytes());
    let to = r.header("location").unwrap().to_owned();
    let code = code_sent_to(&r);
    // Spend this address's look-ups.
    let mut refused = None;
    for _ in 0..200 {
        let r = server.get(&format!("/reports/{code}"), &[]);
        if r.status == 429 {
            refused = Some(r);
            break;
        }
    }
    assert!(refused.is_some(), "the allowance runs out");
    let page = server.get(&to, &[]);
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(
        text.contains(&format!(
            "data-testid=\"plain-report-code\">{code}</strong>"
        )),
        "{text}"
    );
    assert!(text.contains("Keep this code"));
}

const JPEG_WITH_GPS: &[u8] = include_bytes!("../../core/tests/fixtures/photos/street-gps.jpg");

/// The fixture with an EXIF block that also says the picture is turned
/// (Orientation 6), as a phone's camera writes it.
fn turned_camera_jpeg() -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec();
    tiff.extend_from_slice(b"CameraMaker");
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&u16::try_from(2 + 6 + tiff.len()).unwrap().to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    let mut out = JPEG_WITH_GPS[..2].to_vec();
    out.extend_from_slice(&app1);
    out.extend_from_slice(&JPEG_WITH_GPS[2..]);
    out
}

fn multipart_body(fields: &[(&str, &str)], photo: Option<(&[u8], &str)>) -> (String, Vec<u8>) {
    let boundary = "----FormBoundaryPlainPagesTest";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    let (bytes, media) = photo.unwrap_or((b"", "application/octet-stream"));
    let filename = if bytes.is_empty() { "" } else { "IMG_0042.jpg" };
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{filename}\"\r\nContent-Type: {media}\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (
        format!("Content-Type: multipart/form-data; boundary={boundary}"),
        body,
    )
}

const WORDS: [(&str, &str); 4] = [
    ("kind", "poor_lighting"),
    ("place", "Underpass by the ring road"),
    ("when", "after_dark"),
    ("description", "Lights out, photo attached"),
];

#[test]
fn a_photo_sent_whole_with_the_form_is_kept_without_its_place_or_camera_but_the_right_way_up() {
    let server = serve();
    let turned = turned_camera_jpeg();
    let (media, body) = multipart_body(&WORDS, Some((&turned, "image/jpeg")));
    let r = server.post("/report", &[FROM_HERE, &media], &body);
    assert_eq!(r.status, 303, "{}", r.text());
    let code = code_sent_to(&r);

    let auth = server.pair("Phone");
    let listed = server
        .get(&format!("/api/v1/reports/{code}/photos"), &[&auth])
        .json();
    let photos = listed["photos"].as_array().unwrap();
    assert_eq!(photos.len(), 1, "{listed}");
    assert_eq!(
        photos[0]["public"], false,
        "shown to the public only when the councillor says"
    );
    let id = photos[0]["id"].as_str().unwrap();
    let kept = server.get(&format!("/api/v1/photos/{id}"), &[&auth]);
    assert_eq!(kept.status, 200);
    assert!(
        !kept.body.windows(11).any(|w| w == b"CameraMaker"),
        "the camera goes"
    );
    // The picture as the fixture's without its EXIF (and GPS), with a block
    // of its own after the start saying it is turned (Orientation 6).
    let without_exif = beatbook_core::photo::clean(JPEG_WITH_GPS, "image/jpeg")
        .unwrap()
        .bytes;
    assert!(without_exif.len() < JPEG_WITH_GPS.len());
    assert_eq!(
        [&kept.body[..2], &kept.body[2 + 36..]].concat(),
        without_exif
    );
    assert_eq!(&kept.body[2..4], &[0xFF, 0xE1]);
    assert_eq!(&kept.body[6..14], b"Exif\0\0MM");
    assert_eq!(&kept.body[30..32], &[0, 6], "Orientation 6");
}

#[test]
fn a_file_that_is_no_photo_comes_back_with_the_words_kept_and_nothing_stored() {
    let server = serve();
    let (media, body) =
        multipart_body(&WORDS, Some((b"%PDF-1.7 not a picture", "application/pdf")));
    let r = server.post("/report", &[FROM_HERE, &media], &body);
    assert_eq!(r.status, 422);
    let text = r.text();
    assert!(
        text.contains("data-testid=\"plain-report-photo-error\""),
        "{text}"
    );
    assert!(text.contains("This photo cannot be sent"));
    assert!(text.contains("value=\"Underpass by the ring road\""));
    // No file chosen: the form goes as words alone.
    let (media, body) = multipart_body(&WORDS, None);
    let r = server.post("/report", &[FROM_HERE, &media], &body);
    assert_eq!(r.status, 303, "{}", r.text());
    let auth = server.pair("Phone");
    assert_eq!(inbox_len(&server, &auth), 1);
    // A body that is not whole is said so.
    let r = server.post("/report", &[FROM_HERE, &media], &body[..body.len() / 2]);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("did not arrive whole"));
}

#[test]
fn another_site_cannot_spend_a_visitor_s_look_ups_by_loading_a_report_s_page_or_the_api() {
    let server = serve();
    let r = server.post("/report", &[FROM_HERE, FORM], filled("Bridge").as_bytes());
    let code = code_sent_to(&r);
    let page = format!("/reports/{code}");
    let as_image = ["Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: no-cors"];
    let api = format!("/api/v1/reports/{code}");
    for _ in 0..100 {
        assert_eq!(server.get(&page, &as_image).status, 403);
        assert_eq!(server.get("/meetings", &as_image).status, 403);
        assert_eq!(server.get(&api, &as_image).status, 403);
    }
    assert_eq!(server.get(&api, &[]).status, 200, "the API's own look-up");
    // None of those counted: a look-up, and a link from elsewhere, still go.
    assert_eq!(server.get(&page, &[]).status, 200);
    let followed = ["Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: navigate"];
    assert_eq!(server.get(&page, &followed).status, 200);
}
