use super::*;

/// Recordings made by Chromium's MediaRecorder from its fake microphone
/// (`e2e/make-recording-fixtures.mjs`).
const WEBM: &[u8] = include_bytes!("../../tests/fixtures/recordings/chromium-opus.webm");
const MP4_OPUS: &[u8] = include_bytes!("../../tests/fixtures/recordings/chromium-opus.mp4");

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the fixture holds it")
}

fn mp4_box(kind: &[u8; 4], content: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(content.len() + 8)
        .unwrap()
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(content);
    out
}

/// An MP4 laid out as Safari's recorder lays it out (a sound track in AAC,
/// then fragments), with `handler` as its track's kind and user data
/// holding a place, as a phone's camera app writes it.
fn mp4_aac(handler: &[u8; 4]) -> Vec<u8> {
    let hdlr = [&[0u8; 8][..], handler, &[0u8; 12][..]].concat();
    let stsd = [
        &[0u8, 0, 0, 0, 0, 0, 0, 1][..],
        &mp4_box(b"mp4a", &[0u8; 28]),
    ]
    .concat();
    let stbl = mp4_box(b"stbl", &mp4_box(b"stsd", &stsd));
    let minf = mp4_box(b"minf", &stbl);
    let mdia = mp4_box(b"mdia", &[mp4_box(b"hdlr", &hdlr), minf].concat());
    let udta = mp4_box(b"udta", &mp4_box(b"\xa9xyz", b"+51.5074-000.1278/"));
    let moov = mp4_box(
        b"moov",
        &[mp4_box(b"mvhd", &[0u8; 100]), udta, mp4_box(b"trak", &mdia)].concat(),
    );
    [
        mp4_box(b"ftyp", b"mp42\0\0\0\0isommp42"),
        moov,
        mp4_box(b"moof", &[0u8; 40]),
        mp4_box(b"mdat", &[0x21; 300]),
    ]
    .concat()
}

#[test]
fn chromium_s_recordings_are_accepted_as_they_are() {
    let webm = clean(WEBM, "audio/webm;codecs=opus").unwrap();
    assert_eq!((webm.container, webm.codec), (Container::Webm, Codec::Opus));
    assert_eq!(webm.bytes, WEBM, "nothing in it to blank");
    let mp4 = clean(MP4_OPUS, "audio/mp4;codecs=opus").unwrap();
    assert_eq!((mp4.container, mp4.codec), (Container::Mp4, Codec::Opus));
    assert_eq!(mp4.bytes, MP4_OPUS);
}

#[test]
fn an_mp4_in_aac_is_accepted_and_its_user_data_blanked_in_place() {
    let sent = mp4_aac(b"soun");
    let cleaned = clean(&sent, "audio/mp4").unwrap();
    assert_eq!(cleaned.codec, Codec::Aac);
    assert_eq!(cleaned.bytes.len(), sent.len(), "nothing moves");
    assert!(
        !cleaned.bytes.windows(7).any(|w| w == b"+51.507"),
        "the place is gone"
    );
    assert_eq!(find(&cleaned.bytes, b"free"), find(&sent, b"udta"));
    assert_eq!(
        clean(&cleaned.bytes, "audio/mp4").unwrap().bytes,
        cleaned.bytes,
        "cleaning twice changes nothing more"
    );
    assert_eq!(
        clean(&mp4_aac(b"vide"), "audio/mp4"),
        Err(RecordingProblem::NotSound(Container::Mp4))
    );
}

#[test]
fn a_webm_s_tags_are_blanked_in_place() {
    let mut sent = WEBM.to_vec();
    // Tags, at the end of the Segment (whose size Chromium leaves open).
    let words = b"Jane Resident, 12 Mill Lane";
    sent.extend_from_slice(&[0x12, 0x54, 0xC3, 0x67, 0x80 | words.len() as u8]);
    sent.extend_from_slice(words);
    let cleaned = clean(&sent, "audio/webm").unwrap();
    assert_eq!(cleaned.bytes.len(), sent.len());
    assert!(!cleaned.bytes.windows(4).any(|w| w == b"Jane"));
    assert_eq!(&cleaned.bytes[..WEBM.len()], WEBM, "the sound is untouched");
    assert_eq!(cleaned.bytes[WEBM.len()], 0xEC, "a Void element");
}

#[test]
fn what_is_not_a_sound_recording_is_refused_with_the_reason() {
    assert_eq!(clean(&[], "audio/webm"), Err(RecordingProblem::Empty));
    assert_eq!(
        clean(b"\xFF\xD8\xFF\xE0 a JPEG", "audio/webm"),
        Err(RecordingProblem::NotARecording)
    );
    assert!(matches!(
        clean(WEBM, "audio/mp4"),
        Err(RecordingProblem::WrongType {
            found: Container::Webm,
            ..
        })
    ));
    assert!(matches!(
        clean(MP4_OPUS, "image/jpeg"),
        Err(RecordingProblem::WrongType {
            found: Container::Mp4,
            ..
        })
    ));
    let huge = [WEBM, &vec![0u8; MAX_RECORDING_BYTES]].concat();
    assert_eq!(clean(&huge, "audio/webm").unwrap_err().status(), 413);

    let mut video = WEBM.to_vec();
    let track_type = find(&video, &[0x83, 0x81, 0x02]);
    video[track_type + 2] = 0x01;
    assert_eq!(
        clean(&video, "audio/webm"),
        Err(RecordingProblem::NotSound(Container::Webm))
    );
    let mut vorbis = WEBM.to_vec();
    let codec = find(&vorbis, b"A_OPUS");
    vorbis[codec..codec + 6].copy_from_slice(b"A_VORB");
    let refused = clean(&vorbis, "audio/webm").unwrap_err();
    assert_eq!(refused.status(), 415);
    assert!(refused.to_string().contains("A_VORB"), "{refused}");
}

#[test]
fn a_recording_cut_short_keeps_what_was_recorded_but_not_before_its_sound() {
    for (bytes, claimed) in [(WEBM, "audio/webm"), (MP4_OPUS, "audio/mp4")] {
        let cut = &bytes[..bytes.len() - 700];
        assert!(
            clean(cut, claimed).is_ok(),
            "{claimed} cut inside its sound"
        );
        assert!(
            matches!(
                clean(&bytes[..30], claimed),
                Err(RecordingProblem::Damaged(_))
            ),
            "{claimed} cut before its tracks"
        );
    }
}

#[test]
fn what_a_crafted_file_hides_past_a_break_or_in_a_second_part_is_refused() {
    // A box claiming more than its parent holds.
    let huge_words = [
        mp4_box(b"ftyp", b"mp42\0\0\0\0"),
        mp4_box(b"moov", &[0xFF, 0xFF, 0xFF, 0x00, b'u', b'd', b't', b'a']),
    ]
    .concat();
    assert_eq!(
        clean(&huge_words, "audio/mp4"),
        Err(RecordingProblem::Damaged(Container::Mp4))
    );
    // A stray byte, then tags, after the sound: not taken for a cut.
    let mut hidden = WEBM.to_vec();
    hidden.push(0x00);
    hidden.extend_from_slice(&[0x12, 0x54, 0xC3, 0x67, 0x85]);
    hidden.extend_from_slice(b"Jane ");
    hidden.extend_from_slice(&[0u8; 16]);
    assert_eq!(
        clean(&hidden, "audio/webm"),
        Err(RecordingProblem::Damaged(Container::Webm))
    );
    // A second handler that is not sound (after the first, which a reader
    // may skip), or a second sample entry.
    let hdlr = [&[0u8; 8][..], b"vide", &[0u8; 12][..]].concat();
    let second = mp4_box(b"hdlr", &hdlr);
    let mut grown = mp4_aac(b"soun");
    let mdia = find(&grown, b"mdia") - 4;
    let mdia_end = mdia + u32::from_be_bytes(grown[mdia..mdia + 4].try_into().unwrap()) as usize;
    grown.splice(mdia_end..mdia_end, second.iter().copied());
    for parent in [b"moov", b"trak", b"mdia"] {
        let at = find(&grown, parent) - 4;
        let size = u32::from_be_bytes(grown[at..at + 4].try_into().unwrap()) + second.len() as u32;
        grown[at..at + 4].copy_from_slice(&size.to_be_bytes());
    }
    assert_eq!(
        clean(&grown, "audio/mp4"),
        Err(RecordingProblem::NotSound(Container::Mp4))
    );
    let mut two_entries = mp4_aac(b"soun");
    let count = find(&two_entries, b"stsd") + 4 + 4;
    two_entries[count + 3] = 2;
    assert_eq!(
        clean(&two_entries, "audio/mp4"),
        Err(RecordingProblem::Damaged(Container::Mp4))
    );
}

#[test]
fn no_cut_and_no_changed_byte_makes_the_check_panic() {
    let aac = mp4_aac(b"soun");
    for (bytes, claimed) in [
        (WEBM, "audio/webm"),
        (MP4_OPUS, "audio/mp4"),
        (&aac[..], "audio/mp4"),
    ] {
        for end in 0..bytes.len() {
            let _ = clean(&bytes[..end], claimed);
        }
        for at in 0..bytes.len().min(1200) {
            for value in [0x00, 0x01, 0x7F, 0x80, 0xFF] {
                let mut changed = bytes.to_vec();
                changed[at] = value;
                let _ = clean(&changed, claimed);
            }
        }
    }
    let _ = clean(&mp4_aac(b"soun")[..60], "audio/mp4");
}
