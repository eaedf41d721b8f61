use super::*;

// Encoded by Chromium's canvas, as the app encodes photos (e2e/make-photo-fixtures.mjs).
const JPEG: &[u8] = include_bytes!("../../tests/fixtures/photos/street.jpg");
const PNG: &[u8] = include_bytes!("../../tests/fixtures/photos/street.png");
const WEBP: &[u8] = include_bytes!("../../tests/fixtures/photos/street.webp");
// The JPEG with a camera's EXIF block holding a GPS position.
const JPEG_WITH_GPS: &[u8] = include_bytes!("../../tests/fixtures/photos/street-gps.jpg");

#[test]
fn photos_from_the_browsers_encoders_pass_with_their_size() {
    for (bytes, media_type, kind) in [
        (JPEG, "image/jpeg", ImageType::Jpeg),
        (PNG, "image/png", ImageType::Png),
        (WEBP, "image/webp", ImageType::Webp),
    ] {
        assert_eq!(
            inspect(bytes, media_type),
            Ok(Inspected {
                kind,
                width: 320,
                height: 240
            }),
            "{kind}"
        );
    }
}

#[test]
fn a_photo_carrying_exif_is_refused_so_no_location_is_stored() {
    let problem = inspect(JPEG_WITH_GPS, "image/jpeg").unwrap_err();
    assert_eq!(problem, PhotoProblem::Metadata("EXIF"));
    assert_eq!(problem.status(), 400);
    assert!(problem.to_string().contains("location"), "{problem}");
}

#[test]
fn a_file_that_claims_to_be_a_jpeg_and_is_not_gets_415() {
    let text = b"<html><script>alert(1)</script></html>";
    let problem = inspect(text, "image/jpeg").unwrap_err();
    assert_eq!(
        (problem.clone(), problem.status()),
        (PhotoProblem::NotAnImage, 415)
    );
    // A real PNG sent as a JPEG is refused too: the bytes decide.
    let problem = inspect(PNG, "image/jpeg").unwrap_err();
    assert_eq!(problem.status(), 415);
    assert!(problem.to_string().contains("PNG"), "{problem}");
    // Other image formats are not accepted.
    assert_eq!(
        inspect(b"GIF89a\x01\x00\x01\x00", "image/gif")
            .unwrap_err()
            .status(),
        415
    );
}

#[test]
fn an_oversize_file_gets_413_before_anything_else_is_read() {
    let mut big = JPEG.to_vec();
    big.resize(MAX_PHOTO_BYTES + 1, 0);
    let problem = inspect(&big, "image/jpeg").unwrap_err();
    assert_eq!(
        problem,
        PhotoProblem::TooLarge {
            bytes: MAX_PHOTO_BYTES + 1
        }
    );
    assert_eq!(problem.status(), 413);
    assert_eq!(inspect(&[], "image/jpeg"), Err(PhotoProblem::Empty));
}

#[test]
fn a_file_cut_short_is_damaged_not_a_panic() {
    for (bytes, media_type) in [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (WEBP, "image/webp"),
    ] {
        // Every prefix long enough to be recognised: a clear answer each time.
        for end in 12..bytes.len().min(400) {
            if let Err(problem) = inspect(&bytes[..end], media_type) {
                assert_eq!(
                    problem.status(),
                    400,
                    "{media_type} cut at {end}: {problem}"
                );
            }
        }
    }
    assert_eq!(
        inspect(&JPEG[..300], "image/jpeg"),
        Err(PhotoProblem::Damaged(ImageType::Jpeg))
    );
    // Lengths that point past the end, or are nonsense, are damage too.
    let mut lying = PNG.to_vec();
    lying[33..37].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        inspect(&lying, "image/png"),
        Err(PhotoProblem::Damaged(ImageType::Png))
    );
}

#[test]
fn sizes_outside_sane_dimensions_are_refused() {
    // The PNG header's width and height, rewritten.
    let sized = |w: u32, h: u32| {
        let mut png = PNG.to_vec();
        png[16..20].copy_from_slice(&w.to_be_bytes());
        png[20..24].copy_from_slice(&h.to_be_bytes());
        inspect(&png, "image/png")
    };
    assert_eq!(
        sized(60_000, 60_000),
        Err(PhotoProblem::Dimensions {
            width: 60_000,
            height: 60_000
        })
    );
    assert_eq!(sized(4096, 8).unwrap_err().status(), 400);
    assert!(sized(MAX_SIDE, MIN_SIDE).is_ok());
}

#[test]
fn xmp_in_a_jpeg_or_png_and_exif_in_a_webp_are_refused_too() {
    let mut xmp = JPEG[..2].to_vec();
    let body = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>";
    xmp.extend_from_slice(&[0xFF, 0xE1]);
    xmp.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
    xmp.extend_from_slice(body);
    xmp.extend_from_slice(&JPEG[2..]);
    assert_eq!(
        inspect(&xmp, "image/jpeg"),
        Err(PhotoProblem::Metadata("XMP"))
    );
    // EXIF after the frame header is found as well.
    let sof = JPEG
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline JPEG");
    let exif = &JPEG_WITH_GPS[2..JPEG_WITH_GPS.len() - JPEG.len() + 2];
    let late = [&JPEG[..sof], exif, &JPEG[sof..]].concat();
    assert_eq!(
        inspect(&late, "image/jpeg"),
        Err(PhotoProblem::Metadata("EXIF"))
    );

    // A PNG's eXIf chunk goes before the image data.
    let ihdr_end = 8 + 12 + 13;
    let mut png = PNG[..ihdr_end].to_vec();
    png.extend_from_slice(&4u32.to_be_bytes());
    png.extend_from_slice(b"eXIfMM\0*\0\0\0\0");
    png.extend_from_slice(&PNG[ihdr_end..]);
    assert_eq!(
        inspect(&png, "image/png"),
        Err(PhotoProblem::Metadata("EXIF"))
    );

    let mut webp = WEBP.to_vec();
    webp.extend_from_slice(b"EXIF");
    webp.extend_from_slice(&6u32.to_le_bytes());
    webp.extend_from_slice(b"MM\0*\0\0");
    let riff = u32::try_from(webp.len() - 8).unwrap();
    webp[4..8].copy_from_slice(&riff.to_le_bytes());
    assert_eq!(
        inspect(&webp, "image/webp"),
        Err(PhotoProblem::Metadata("EXIF"))
    );
}

#[test]
fn media_types_and_first_bytes_agree() {
    for kind in [ImageType::Jpeg, ImageType::Png, ImageType::Webp] {
        assert_eq!(ImageType::from_media_type(kind.media_type()), Some(kind));
    }
    assert_eq!(ImageType::sniff(JPEG), Some(ImageType::Jpeg));
    assert_eq!(ImageType::sniff(b"RIFF\0\0\0\0WAVE"), None);
}

#[test]
fn metadata_hidden_past_the_image_or_in_text_is_refused_too() {
    // A camera's file appended after a clean JPEG's end.
    let appended = [JPEG, JPEG_WITH_GPS].concat();
    assert_eq!(
        inspect(&appended, "image/jpeg"),
        Err(PhotoProblem::Metadata("EXIF"))
    );
    // An eXIf chunk after a PNG's end; any text chunk.
    let after_end = [PNG, b"\0\0\0\x04eXIfMM\0*\0\0\0\0".as_slice()].concat();
    assert!(inspect(&after_end, "image/png").is_err());
    let ihdr_end = 8 + 12 + 13;
    let text = [
        &PNG[..ihdr_end],
        b"\0\0\0\x1azTXtRaw profile type exif\0\0abcd\0\0\0\0".as_slice(),
        &PNG[ihdr_end..],
    ]
    .concat();
    assert!(matches!(
        inspect(&text, "image/png"),
        Err(PhotoProblem::Metadata(_))
    ));
    // A WebP chunk that claims to run past the file's end hides what follows.
    let mut webp = WEBP.to_vec();
    webp.extend_from_slice(b"JUNK");
    webp.extend_from_slice(&0xFFFF_FFF8u32.to_le_bytes());
    webp.extend_from_slice(b"EXIF\x06\0\0\0MM\0*\0\0");
    assert!(inspect(&webp, "image/webp").is_err());
}

#[test]
fn a_record_s_photos_are_picked_on_its_own_form_named_in_words() {
    let id = uuid::Uuid::from_u128(7);
    assert_eq!(PhotoOwner::Note(id).form(), PhotoForm::Note);
    assert_eq!(PhotoOwner::Report(id).form(), PhotoForm::Report);
    assert_eq!(PhotoForm::Note.noun(), "note");
    assert_eq!(PhotoForm::Report.noun(), "report");
}
