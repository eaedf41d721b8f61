//! Walking a recording's container: WebM's EBML elements and MP4's boxes.
//!
//! Each walk reads only sizes and the few elements that say what the file
//! holds (its tracks' kind and codec), skipping the sound itself, and
//! blanks in place every element that carries words rather than sound: a
//! WebM's Tags, Chapters and Attachments become Void elements, an MP4's
//! `udta` and `meta` boxes become `free` ones, each of the same length and
//! zeroed. Nothing moves, so no offset inside the file changes.
//!
//! A recording whose last element runs past the end of the file (a phone
//! killed while recording keeps what it wrote up to then) is accepted once
//! its tracks have been read; anything cut short before that is damaged.

use super::{Codec, Container, RecordingProblem};

/// The most elements or boxes one file may have before it is refused: far
/// more than a five-minute recording's (about one a second), and a bound on
/// the work a crafted file can ask for.
const MAX_PARTS: usize = 100_000;

// -- WebM ------------------------------------------------------------------

const EBML: u32 = 0x1A45_DFA3;
const DOC_TYPE: u32 = 0x4282;
const SEGMENT: u32 = 0x1853_8067;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_TYPE: u32 = 0x83;
const CODEC_ID: u32 = 0x86;
const CLUSTER: u32 = 0x1F43_B675;
const VOID: u8 = 0xEC;
/// Elements that carry words about the recording, not its sound.
const WORDS: [u32; 3] = [
    0x1254_C367, // Tags
    0x1043_A770, // Chapters
    0x1941_A469, // Attachments
];
/// What a Cluster holds: anything else after a Cluster of unknown size
/// begins the Segment's next element.
const CLUSTER_CHILDREN: [u32; 6] = [0xE7, 0xA3, 0xA0, 0xA7, 0xAB, 0x5854];
/// A Track's type for sound.
const AUDIO_TRACK: u64 = 2;
/// The longest element header: a four-byte id and an eight-byte size.
const MAX_HEADER: usize = 12;

/// One EBML element's header: its id, where its content starts, and its
/// size (`None`: unknown, running to the end of its parent).
struct Element {
    id: u32,
    start: usize,
    size: Option<usize>,
}

/// Reads an EBML variable-length integer at `at`: its length and its value
/// with (for an id) or without (for a size) the length marker.
fn vint(bytes: &[u8], at: usize, keep_marker: bool, most: usize) -> Option<(usize, u64)> {
    let first = *bytes.get(at)?;
    let length = first.leading_zeros() as usize + 1;
    if length > most {
        return None;
    }
    let tail = bytes.get(at + 1..at + length)?;
    let marked = if keep_marker {
        u64::from(first)
    } else {
        u64::from(first) & (0xFF >> length)
    };
    Some((
        length,
        tail.iter().fold(marked, |v, b| (v << 8) | u64::from(*b)),
    ))
}

/// The element whose header starts at `at`, if its header is whole.
fn element(bytes: &[u8], at: usize) -> Option<Element> {
    let (id_length, id) = vint(bytes, at, true, 4)?;
    let (size_length, size) = vint(bytes, at + id_length, false, 8)?;
    let unknown = size == (1u64 << (7 * size_length)) - 1;
    Some(Element {
        id: u32::try_from(id).ok()?,
        start: at + id_length + size_length,
        size: if unknown {
            None
        } else {
            Some(usize::try_from(size).ok()?)
        },
    })
}

/// Turns the element at `at` (header and content) into a zeroed Void
/// element of the same length: a one-byte id, and a size written as long as
/// it must be to cover the rest.
fn blank_webm(bytes: &mut [u8], at: usize, end: usize) -> bool {
    let total = end - at;
    // The id is one byte; the size takes the next 8 (the longest form), so
    // any element of nine bytes or more can be blanked.
    if total < 9 {
        return false;
    }
    let content = (total - 9) as u64;
    bytes[at] = VOID;
    bytes[at + 1] = 0x01;
    bytes[at + 2..at + 9].copy_from_slice(&content.to_be_bytes()[1..]);
    bytes[at + 9..end].fill(0);
    true
}

/// Checks a WebM recording and blanks its words; its codec.
pub(super) fn webm(bytes: &mut [u8]) -> Result<Codec, RecordingProblem> {
    let damaged = RecordingProblem::Damaged(Container::Webm);
    let header = element(bytes, 0).ok_or(damaged.clone())?;
    let header_end = header
        .size
        .map(|s| header.start + s)
        .filter(|end| *end <= bytes.len())
        .ok_or(damaged.clone())?;
    let mut doc_type = None;
    let mut at = header.start;
    while at < header_end {
        let child = element(bytes, at).ok_or(damaged.clone())?;
        let end = child
            .size
            .map(|s| child.start + s)
            .filter(|end| *end <= header_end)
            .ok_or(damaged.clone())?;
        if child.id == DOC_TYPE {
            doc_type = Some(bytes[child.start..end].to_vec());
        }
        at = end;
    }
    if header.id != EBML || doc_type.as_deref().map(trim_nul) != Some(b"webm".as_slice()) {
        return Err(RecordingProblem::NotARecording);
    }
    let segment = element(bytes, header_end).ok_or(damaged.clone())?;
    if segment.id != SEGMENT {
        return Err(damaged);
    }
    // Nothing after the Segment: a second one could hold anything.
    let segment_end = match segment.size {
        None => bytes.len(),
        Some(size) => {
            let end = segment.start.saturating_add(size);
            if end < bytes.len() {
                return Err(damaged);
            }
            end.min(bytes.len())
        }
    };
    let cut = segment_end == bytes.len();
    let mut codec = None;
    let mut at = segment.start;
    let mut parts = 0;
    while at < segment_end {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(damaged);
        }
        let Some(child) = element(bytes, at) else {
            // Only a header cut off by the end of the file, once the
            // tracks are known; anything else unreadable is damage.
            if codec.is_some() && bytes.len() - at < MAX_HEADER {
                break;
            }
            return Err(damaged);
        };
        let end = match child.size {
            Some(size) => child.start.saturating_add(size),
            None if child.id == CLUSTER => {
                cluster_end(bytes, child.start, segment_end).ok_or(damaged.clone())?
            }
            None => return Err(damaged),
        };
        if end > segment_end {
            // Only the sound itself may be cut short, once the tracks are
            // read.
            if cut && codec.is_some() && child.id == CLUSTER {
                break;
            }
            return Err(damaged);
        }
        if child.id == TRACKS {
            if codec.is_some() {
                return Err(damaged);
            }
            codec = Some(webm_tracks(&bytes[child.start..end])?);
        } else if WORDS.contains(&child.id) && !blank_webm(bytes, at, end) {
            return Err(damaged);
        } else if child.id == CLUSTER && codec.is_none() {
            // Sound before any track says what it is.
            return Err(damaged);
        }
        at = end;
    }
    codec.ok_or(damaged)
}

fn trim_nul(text: &[u8]) -> &[u8] {
    let end = text.iter().position(|b| *b == 0).unwrap_or(text.len());
    &text[..end]
}

/// Where a Cluster of unknown size ends: at the first element that a
/// Cluster does not hold, or at `limit` (the file's end, or a header cut off
/// by it). `None`: something unreadable inside it.
fn cluster_end(bytes: &[u8], start: usize, limit: usize) -> Option<usize> {
    let mut at = start;
    while at < limit {
        let Some(child) = element(bytes, at) else {
            return (limit == bytes.len() && limit - at < MAX_HEADER).then_some(limit);
        };
        if !CLUSTER_CHILDREN.contains(&child.id) {
            return Some(at);
        }
        at = child.start.saturating_add(child.size?);
    }
    Some(limit)
}

/// Reads the Tracks element's content: every track sound, in Opus.
fn webm_tracks(tracks: &[u8]) -> Result<Codec, RecordingProblem> {
    let damaged = || RecordingProblem::Damaged(Container::Webm);
    let mut found = None;
    for entry in children(tracks).ok_or_else(damaged)? {
        if entry.0 != TRACK_ENTRY {
            continue;
        }
        let mut kind = None;
        let mut codec = None;
        for (id, content) in children(entry.1).ok_or_else(damaged)? {
            match id {
                TRACK_TYPE => {
                    kind = Some(content.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)))
                }
                CODEC_ID => codec = Some(String::from_utf8_lossy(trim_nul(content)).into_owned()),
                _ => {}
            }
        }
        if kind != Some(AUDIO_TRACK) {
            return Err(RecordingProblem::NotSound(Container::Webm));
        }
        match codec.as_deref() {
            Some("A_OPUS") => found = Some(Codec::Opus),
            other => {
                return Err(RecordingProblem::Codec {
                    container: Container::Webm,
                    codec: other.unwrap_or("not named").chars().take(40).collect(),
                })
            }
        }
    }
    found.ok_or(RecordingProblem::NoSound(Container::Webm))
}

/// The child elements of an element's content, each whole and of known size.
fn children(content: &[u8]) -> Option<Vec<(u32, &[u8])>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < content.len() {
        let child = element(content, at)?;
        let end = child.start.checked_add(child.size?)?;
        out.push((child.id, content.get(child.start..end)?));
        at = end;
        if out.len() > MAX_PARTS {
            return None;
        }
    }
    Some(out)
}

// -- MP4 -------------------------------------------------------------------

/// One box: its type, where its content starts and where it ends (past the
/// end of the file when it is cut short).
struct Mp4Box {
    kind: [u8; 4],
    header_at: usize,
    start: usize,
    end: usize,
}

/// The boxes laid end to end in `bytes[from..to]`.
fn boxes(bytes: &[u8], from: usize, to: usize) -> Option<Vec<Mp4Box>> {
    laid_out(bytes, from, to, false)
}

/// [`boxes`], where the last box's header may be cut off by the end of the
/// file (the top level of a recording cut short): that part is left out.
fn laid_out(bytes: &[u8], from: usize, to: usize, cut_ok: bool) -> Option<Vec<Mp4Box>> {
    let to = to.min(bytes.len());
    let mut out = Vec::new();
    let mut at = from;
    while at < to {
        // A header cut off by the end of the file ends the list; inside a
        // box, a header that does not fit is damage.
        if to - at < 8 {
            return cut_ok.then_some(out);
        }
        let head = bytes.get(at..at + 8)?;
        let size = u64::from(u32::from_be_bytes(head[..4].try_into().ok()?));
        let kind: [u8; 4] = head[4..8].try_into().ok()?;
        let (start, length) = match size {
            0 => (at + 8, (to - at) as u64),
            1 => {
                if to - at < 16 {
                    return cut_ok.then_some(out);
                }
                let large = bytes.get(at + 8..at + 16)?;
                (at + 16, u64::from_be_bytes(large.try_into().ok()?))
            }
            n => (at + 8, n),
        };
        let end = at.checked_add(usize::try_from(length).ok()?)?;
        // Every box inside its parent; only the file's last may run past
        // its end (cut short).
        if end < start || (end > to && !cut_ok) {
            return None;
        }
        out.push(Mp4Box {
            kind,
            header_at: at,
            start,
            end,
        });
        at = end;
        if out.len() > MAX_PARTS {
            return None;
        }
    }
    Some(out)
}

/// Boxes that carry words about the recording, not its sound: user data,
/// metadata, and `uuid` boxes (XMP, a maker's own).
fn is_words(kind: &[u8; 4]) -> bool {
    matches!(kind, b"udta" | b"meta" | b"uuid")
}

/// Turns a box into a zeroed `free` box of the same length (one that does
/// not lie whole in the file is left to the caller to refuse).
fn blank_mp4(bytes: &mut [u8], found: &Mp4Box) {
    if let Some(kind) = bytes.get_mut(found.header_at + 4..found.header_at + 8) {
        kind.copy_from_slice(b"free");
    }
    if let Some(content) = bytes.get_mut(found.start..found.end) {
        content.fill(0);
    }
}

/// Blanks the words among a box's children, and their children's, down
/// `depth` levels (a fragment's `traf` inside its `moof`).
fn blank_words_in(bytes: &mut [u8], parent: &Mp4Box, depth: u8) -> Option<()> {
    for found in boxes(bytes, parent.start, parent.end)? {
        if is_words(&found.kind) {
            blank_mp4(bytes, &found);
        } else if depth > 0 && &found.kind == b"traf" {
            blank_words_in(bytes, &found, depth - 1)?;
        }
    }
    Some(())
}

/// Checks an MP4 recording and blanks its words; its codec.
pub(super) fn mp4(bytes: &mut [u8]) -> Result<Codec, RecordingProblem> {
    let damaged = RecordingProblem::Damaged(Container::Mp4);
    let top = laid_out(bytes, 0, bytes.len(), true).ok_or(damaged.clone())?;
    let mut codec = None;
    for (i, found) in top.iter().enumerate() {
        let cut_short = found.end > bytes.len();
        if cut_short {
            // Only the sound itself may be cut short, once the tracks are read.
            let sound = matches!(&found.kind, b"mdat" | b"moof");
            if i + 1 != top.len() || !sound || codec.is_none() {
                return Err(damaged);
            }
            continue;
        }
        match &found.kind {
            b"moov" if codec.is_some() => return Err(damaged),
            b"moov" => codec = Some(moov(bytes, found.start, found.end)?),
            kind if is_words(kind) => blank_mp4(bytes, found),
            b"moof" if codec.is_none() => {
                // Fragments before the tracks: not a recording's layout.
                return Err(damaged);
            }
            b"moof" => blank_words_in(bytes, found, 1).ok_or(damaged.clone())?,
            _ => {}
        }
    }
    if top.first().map(|b| &b.kind) != Some(b"ftyp") {
        return Err(RecordingProblem::NotARecording);
    }
    codec.ok_or(RecordingProblem::NoSound(Container::Mp4))
}

/// Reads a `moov` box: every track sound, in AAC or Opus; its words blanked.
fn moov(bytes: &mut [u8], start: usize, end: usize) -> Result<Codec, RecordingProblem> {
    let damaged = || RecordingProblem::Damaged(Container::Mp4);
    let mut codec = None;
    for found in boxes(bytes, start, end).ok_or_else(damaged)? {
        match &found.kind {
            kind if is_words(kind) => blank_mp4(bytes, &found),
            b"trak" => codec = Some(trak(bytes, &found)?),
            // A compressed movie header could hold anything, unread.
            b"cmov" => return Err(damaged()),
            _ => {}
        }
    }
    codec.ok_or(RecordingProblem::NoSound(Container::Mp4))
}

/// The one box of `kind` among `parent`'s children.
fn child(bytes: &[u8], parent: &Mp4Box, kind: &[u8; 4]) -> Option<Mp4Box> {
    boxes(bytes, parent.start, parent.end)?
        .into_iter()
        .find(|b| &b.kind == kind)
}

fn trak(bytes: &mut [u8], trak: &Mp4Box) -> Result<Codec, RecordingProblem> {
    let damaged = || RecordingProblem::Damaged(Container::Mp4);
    for found in boxes(bytes, trak.start, trak.end).ok_or_else(damaged)? {
        if is_words(&found.kind) {
            blank_mp4(bytes, &found);
        }
    }
    let mdia = child(bytes, trak, b"mdia").ok_or_else(damaged)?;
    // Every handler of the track says sound (a reader may take any one).
    // hdlr: version and flags (4), pre_defined (4), then the handler type.
    let handlers: Vec<Mp4Box> = boxes(bytes, mdia.start, mdia.end)
        .ok_or_else(damaged)?
        .into_iter()
        .filter(|b| &b.kind == b"hdlr")
        .collect();
    if handlers.is_empty() {
        return Err(damaged());
    }
    if handlers
        .iter()
        .any(|h| bytes.get(h.start + 8..h.start + 12) != Some(b"soun".as_slice()))
    {
        return Err(RecordingProblem::NotSound(Container::Mp4));
    }
    let stsd = child(bytes, &mdia, b"minf")
        .and_then(|minf| child(bytes, &minf, b"stbl"))
        .and_then(|stbl| child(bytes, &stbl, b"stsd"))
        .ok_or_else(damaged)?;
    // stsd: version and flags (4), the entry count (4), then the entries:
    // exactly one.
    let count = bytes
        .get(stsd.start + 4..stsd.start + 8)
        .and_then(|c| c.try_into().ok())
        .map(u32::from_be_bytes);
    let entries = boxes(bytes, stsd.start + 8, stsd.end).ok_or_else(damaged)?;
    let [entry] = entries.as_slice() else {
        return Err(damaged());
    };
    if count != Some(1) {
        return Err(damaged());
    }
    match &entry.kind {
        b"mp4a" => Ok(Codec::Aac),
        b"Opus" => Ok(Codec::Opus),
        other => Err(RecordingProblem::Codec {
            container: Container::Mp4,
            codec: String::from_utf8_lossy(other).into_owned(),
        }),
    }
}
