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
            bytes: MAX_PHOTO_BYTES + 1,
            most: MAX_PHOTO_BYTES
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
            height: 60_000,
            most: MAX_SIDE
        })
    );
    assert_eq!(sized(4096, 8).unwrap_err().status(), 400);
    assert!(sized(MAX_SIDE, MIN_SIDE).is_ok());
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
fn a_record_s_photos_are_picked_on_its_own_form_named_in_words() {
    let id = uuid::Uuid::from_u128(7);
    assert_eq!(PhotoOwner::Note(id).form(), PhotoForm::Note);
    assert_eq!(PhotoOwner::Report(id).form(), PhotoForm::Report);
    assert_eq!(PhotoForm::Note.noun(), "note");
    assert_eq!(PhotoForm::Report.noun(), "report");
}

/// `bytes` rebuilt, as the server keeps it.
fn cleaned(bytes: &[u8], media_type: &str) -> Vec<u8> {
    clean(bytes, media_type)
        .unwrap_or_else(|e| panic!("{media_type}: {e}"))
        .bytes
}

/// A JPEG segment: marker, length, body.
fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let length = u16::try_from(body.len() + 2).unwrap().to_be_bytes();
    [&[0xFF, marker][..], &length, body].concat()
}

/// A PNG chunk: length, type, data and a CRC (not checked, so zero).
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let length = u32::try_from(data.len()).unwrap().to_be_bytes();
    [&length[..], kind, data, &[0; 4]].concat()
}

/// A RIFF chunk, padded to an even length.
fn riff_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let length = u32::try_from(data.len()).unwrap().to_le_bytes();
    let pad: &[u8] = if data.len() % 2 == 1 { &[0] } else { &[] };
    [&kind[..], &length, data, pad].concat()
}

/// A WebP file of `chunks`, with its RIFF size.
fn webp_of(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body = chunks.concat();
    let riff = u32::try_from(body.len() + 4).unwrap().to_le_bytes();
    [b"RIFF".as_slice(), &riff, b"WEBP", &body].concat()
}

/// The canvas's WebP's one image chunk.
fn webp_image() -> Vec<u8> {
    WEBP[12..].to_vec()
}

#[test]
fn the_app_s_own_photos_come_out_byte_for_byte() {
    for (bytes, media_type) in [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (WEBP, "image/webp"),
    ] {
        assert_eq!(cleaned(bytes, media_type), bytes, "{media_type}");
    }
}

#[test]
fn every_kind_of_jpeg_metadata_is_removed_wherever_it_sits() {
    // A camera's EXIF with a GPS position, straight after the start.
    assert_eq!(cleaned(JPEG_WITH_GPS, "image/jpeg"), JPEG);
    let sof = JPEG
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline JPEG");
    let hidden = [
        segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Jane</x:xmpmeta>"),
        // IPTC in Photoshop's block: by-line and a street.
        segment(
            0xED,
            b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\x20\x1c\x02\x50\0\x0cJane Resident\x1c\x02\x5c\0\x0c12 Mill Lane",
        ),
        segment(0xFE, b"taken by Jane Resident at 12 Mill Lane"),
        // C2PA's JUMBF box.
        segment(0xEB, b"JP\0\x01\0\0\0\x01\0\0\0\x20jumbc2pa"),
        segment(0xE1, b"Exif\0\0MM\0*\0\0\0\x08"),
        segment(0xE5, b"a maker's private data"),
    ];
    for extra in &hidden {
        // Before the frame and between the tables.
        let early = [&JPEG[..2], extra.as_slice(), &JPEG[2..]].concat();
        assert_eq!(cleaned(&early, "image/jpeg"), JPEG);
        let late = [&JPEG[..sof], extra.as_slice(), &JPEG[sof..]].concat();
        assert_eq!(cleaned(&late, "image/jpeg"), JPEG);
    }
    // After the end: text, or a whole second file.
    for after in [b"Jane Resident, 12 Mill Lane".as_slice(), JPEG_WITH_GPS] {
        assert_eq!(cleaned(&[JPEG, after].concat(), "image/jpeg"), JPEG);
    }
}

#[test]
fn a_jfif_thumbnail_goes_and_a_colour_profile_stays() {
    let app0 = JPEG
        .windows(2)
        .position(|w| w == [0xFF, 0xE0])
        .expect("the canvas writes JFIF");
    let length = usize::from(u16::from_be_bytes([JPEG[app0 + 2], JPEG[app0 + 3]]));
    // The same JFIF header with a 2×1 thumbnail of six bytes.
    let mut body = JPEG[app0 + 4..app0 + 2 + length].to_vec();
    body.truncate(12);
    body.extend_from_slice(&[2, 1, 9, 9, 9, 9, 9, 9]);
    let thumbed = [
        &JPEG[..app0],
        &segment(0xE0, &body),
        &JPEG[app0 + 2 + length..],
    ]
    .concat();
    assert_eq!(cleaned(&thumbed, "image/jpeg"), JPEG);

    let icc = segment(0xE2, b"ICC_PROFILE\0\x01\x01a profile");
    let coloured = [&JPEG[..2], icc.as_slice(), &JPEG[2..]].concat();
    assert_eq!(cleaned(&coloured, "image/jpeg"), coloured);
}

#[test]
fn a_jpeg_cut_short_inside_its_picture_is_refused() {
    let eoi = JPEG.len() - 2;
    assert_eq!(&JPEG[eoi..], [0xFF, 0xD9]);
    for end in [eoi, eoi - 100, JPEG.len() / 2] {
        assert_eq!(
            clean(&JPEG[..end], "image/jpeg").unwrap_err(),
            PhotoProblem::Damaged(ImageType::Jpeg),
            "cut at {end}"
        );
    }
}

#[test]
fn png_chunks_that_only_describe_go_and_the_colour_ones_stay() {
    let ihdr_end = 8 + 12 + 13;
    for extra in [
        chunk(b"eXIf", b"MM\0*\0\0\0\x08"),
        chunk(b"exIf", b"MM\0*\0\0\0\x08GPS"),
        chunk(b"tEXt", b"Author\0Jane Resident"),
        chunk(b"zTXt", b"Raw profile type exif\0\0abcd"),
        chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>"),
        chunk(b"tIME", b"\x07\xea\x0c\x05\x02\0\0"),
        chunk(b"prIv", b"12 Mill Lane"),
        chunk(b"caBX", b"jumbc2pa"),
    ] {
        let hidden = [&PNG[..ihdr_end], extra.as_slice(), &PNG[ihdr_end..]].concat();
        assert_eq!(cleaned(&hidden, "image/png"), PNG);
    }
    let after_end = [PNG, chunk(b"tEXt", b"Author\0Jane").as_slice()].concat();
    assert_eq!(cleaned(&after_end, "image/png"), PNG);

    let colour = [
        &PNG[..ihdr_end],
        &chunk(b"gAMA", &45455u32.to_be_bytes()),
        &chunk(b"pHYs", &[0, 0, 11, 19, 0, 0, 11, 19, 1]),
        &PNG[ihdr_end..],
    ]
    .concat();
    assert_eq!(cleaned(&colour, "image/png"), colour);
}

#[test]
fn webp_keeps_its_image_chunks_only_and_clears_the_metadata_flags() {
    let hidden = webp_of(&[
        webp_image(),
        riff_chunk(b"EXIF", b"MM\0*\0\0\0\x08"),
        riff_chunk(b"exif", b"MM\0*\0\0\0\x08GPS"),
        riff_chunk(b"XMP ", b"<x:xmpmeta>Jane</x:xmpmeta>"),
        riff_chunk(b"JUNK", b"12 Mill Lane"),
    ]);
    assert_eq!(cleaned(&hidden, "image/webp"), WEBP);
    // Bytes past the RIFF's own length are not part of the picture.
    assert_eq!(cleaned(&[WEBP, b"Jane"].concat(), "image/webp"), WEBP);

    // The extended header says which metadata the file holds: those flags
    // go with it, the colour profile's stays.
    assert_eq!(&WEBP[12..16], b"VP8X");
    let mut flagged = WEBP.to_vec();
    flagged[20] |= VP8X_FLAGS_EXIF_XMP;
    let extended = webp_of(&[
        flagged[12..].to_vec(),
        riff_chunk(b"EXIF", b"MM\0*\0\0\0\x08"),
        riff_chunk(b"XMP ", b"<x:xmpmeta/>"),
    ]);
    let kept = clean(&extended, "image/webp").unwrap();
    assert_eq!(kept.bytes, WEBP, "no metadata, no flags for it");
    assert_eq!((kept.inspected.width, kept.inspected.height), (320, 240));

    let size = |n: u32| (n - 1).to_le_bytes()[..3].to_vec();
    let vp8x = riff_chunk(
        b"VP8X",
        &[&[0x02, 0, 0, 0][..], &size(320), &size(240)].concat(),
    );
    let animated = webp_of(&[vp8x, riff_chunk(b"ANIM", &[0; 6])]);
    let problem = clean(&animated, "image/webp").unwrap_err();
    assert_eq!(
        (problem.clone(), problem.status()),
        (PhotoProblem::Animated, 415)
    );
}

/// VP8X's flags for "holds EXIF" and "holds XMP".
const VP8X_FLAGS_EXIF_XMP: u8 = 0x08 | 0x04;

#[test]
fn a_small_file_that_would_decode_huge_is_refused() {
    // The canvas's PNG, declared 4,096 px square in 16-bit RGBA: 128 MiB.
    let mut bomb = PNG.to_vec();
    bomb[16..20].copy_from_slice(&4096u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&4096u32.to_be_bytes());
    bomb[24] = 16;
    bomb[25] = 6;
    let problem = clean(&bomb, "image/png").unwrap_err();
    assert_eq!(problem, PhotoProblem::DecodesTooLarge { megabytes: 128 });
    assert_eq!(problem.status(), 400);
    assert!(problem.to_string().contains("64 MB"), "{problem}");
    // The same square in 8-bit RGBA is the most accepted.
    bomb[24] = 8;
    assert!(clean(&bomb, "image/png").is_ok());
}

/// An EXIF block in `order` ("MM" or "II") holding a camera's make and an
/// Orientation, as a phone writes it.
fn exif_with_orientation(order: &[u8; 2], orientation: u16) -> Vec<u8> {
    let big = order == b"MM";
    let u16b = |v: u16| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u32b = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut tiff = order.to_vec();
    tiff.extend_from_slice(&u16b(42));
    tiff.extend_from_slice(&u32b(8));
    tiff.extend_from_slice(&u16b(2));
    // Make (ASCII, 11 bytes, at offset 38) and Orientation (SHORT).
    tiff.extend_from_slice(&u16b(0x010F));
    tiff.extend_from_slice(&u16b(2));
    tiff.extend_from_slice(&u32b(11));
    tiff.extend_from_slice(&u32b(38));
    tiff.extend_from_slice(&u16b(0x0112));
    tiff.extend_from_slice(&u16b(3));
    tiff.extend_from_slice(&u32b(1));
    tiff.extend_from_slice(&u16b(orientation));
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&u32b(0));
    tiff.extend_from_slice(b"PhoneMaker\0");
    let mut body = b"Exif\0\0".to_vec();
    body.extend_from_slice(&tiff);
    segment(0xE1, &body)
}

fn with_segment_after_start(jpeg: &[u8], segment: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(segment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn a_camera_jpeg_keeps_which_way_up_it_is_and_nothing_else_of_its_exif() {
    for order in [b"MM", b"II"] {
        let turned = with_segment_after_start(JPEG, &exif_with_orientation(order, 6));
        let out = cleaned(&turned, "image/jpeg");
        assert!(
            !out.windows(10).any(|w| w == b"PhoneMaker"),
            "the make goes"
        );
        // Read back as a reader would: orientation 6, alone.
        let at = out
            .windows(6)
            .position(|w| w == b"Exif\0\0")
            .expect("an EXIF block");
        assert_eq!(
            super::clean::exif_orientation_for_tests(&out[at + 6..]),
            Some(6)
        );
        assert_eq!(
            out.len(),
            JPEG.len() + 36,
            "34 bytes of block and its marker"
        );
        assert_eq!(
            inspect(&out, "image/jpeg").unwrap().width,
            320,
            "still a whole JPEG"
        );
    }
    // Upright says nothing: the picture comes out as the canvas made it.
    let upright = with_segment_after_start(JPEG, &exif_with_orientation(b"MM", 1));
    assert_eq!(cleaned(&upright, "image/jpeg"), JPEG);
    // A made-up orientation is no orientation.
    let odd = with_segment_after_start(JPEG, &exif_with_orientation(b"II", 9));
    assert_eq!(cleaned(&odd, "image/jpeg"), JPEG);
}

#[test]
fn a_photo_sent_whole_may_be_larger_but_decodes_no_larger() {
    let mut big = JPEG.to_vec();
    big.resize(MAX_PHOTO_BYTES + 1, 0);
    assert!(matches!(
        clean(&big, "image/jpeg"),
        Err(PhotoProblem::TooLarge { .. })
    ));
    // Past the size a phone's own photo may be, it is read (and found to be
    // a JPEG with bytes after its end, which go).
    assert_eq!(clean_sent_whole(&big, "image/jpeg").unwrap().bytes, JPEG);
    big.resize(MAX_WHOLE_PHOTO_BYTES + 1, 0);
    assert_eq!(
        clean_sent_whole(&big, "image/jpeg").unwrap_err(),
        PhotoProblem::TooLarge {
            bytes: MAX_WHOLE_PHOTO_BYTES + 1,
            most: MAX_WHOLE_PHOTO_BYTES
        }
    );
}
