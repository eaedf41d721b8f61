//! Photos on notes and reports: what the server accepts, checked from the
//! file's own bytes and never from what the sender claims.
//!
//! The phone re-encodes every photo with the browser's canvas (longest side
//! about 1,600 px), which writes no EXIF. The server still reads each file's
//! first bytes for its type and size, and refuses one that carries EXIF or
//! XMP, so no GPS position, camera serial or time is ever stored, whatever
//! sent it.

use std::fmt;

use thiserror::Error;

mod kept;
pub use kept::{to_send, verdict, KeptPhoto, PhotoForm, PhotoOwner, PhotoState, UploadVerdict};

/// At most this many photos on one note or report.
pub const MAX_PHOTOS: usize = 4;
/// The largest photo file accepted. A re-encoded phone photo is typically
/// 150–400 KB.
pub const MAX_PHOTO_BYTES: usize = 2 * 1024 * 1024;
/// The longest side the phone shrinks a photo to.
pub const SHRINK_TO_SIDE: u32 = 1600;
/// The largest side accepted: more than any re-encoded photo, less than a
/// decompression bomb.
pub const MAX_SIDE: u32 = 4096;
/// The smallest side accepted: anything smaller shows nothing.
pub const MIN_SIDE: u32 = 16;

/// `GET /api/v1/reports/{code}/photos`: a report's photos (only those the
/// councillor made public, unless asked with a device token).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoListing {
    pub photos: Vec<ListedPhoto>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListedPhoto {
    pub id: uuid::Uuid,
    pub width: u32,
    pub height: u32,
    /// Shown on the public status page.
    pub public: bool,
}

/// The image formats accepted, by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageType {
    Jpeg,
    Png,
    Webp,
}

impl ImageType {
    /// The format the file's first bytes announce, if it is one accepted.
    pub fn sniff(bytes: &[u8]) -> Option<ImageType> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageType::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageType::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageType::Webp)
        } else {
            None
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Png => "image/png",
            ImageType::Webp => "image/webp",
        }
    }

    /// The file name extension for this format: `jpg`, `png` or `webp`.
    pub fn extension(self) -> &'static str {
        match self {
            ImageType::Jpeg => "jpg",
            ImageType::Png => "png",
            ImageType::Webp => "webp",
        }
    }

    pub fn from_media_type(media_type: &str) -> Option<ImageType> {
        match media_type {
            "image/jpeg" => Some(ImageType::Jpeg),
            "image/png" => Some(ImageType::Png),
            "image/webp" => Some(ImageType::Webp),
            _ => None,
        }
    }
}

impl fmt::Display for ImageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImageType::Jpeg => "JPEG",
            ImageType::Png => "PNG",
            ImageType::Webp => "WebP",
        })
    }
}

/// Why a photo file is refused, in words for the person who sent it.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PhotoProblem {
    #[error("the file is empty")]
    Empty,
    #[error("the photo is {bytes} bytes; the most accepted is {MAX_PHOTO_BYTES} bytes")]
    TooLarge { bytes: usize },
    #[error("the file is not a JPEG, PNG or WebP image")]
    NotAnImage,
    #[error("the file says it is {claimed} but its bytes are {found}")]
    WrongType { claimed: String, found: ImageType },
    #[error("the {0} file is damaged or cut short")]
    Damaged(ImageType),
    #[error("the photo is {width}×{height} pixels; each side must be {MIN_SIDE} to {MAX_SIDE}")]
    Dimensions { width: u32, height: u32 },
    #[error("the photo carries {0} metadata (it can hold a location); send it through Beatbook, which removes it")]
    Metadata(&'static str),
}

impl PhotoProblem {
    /// The HTTP status the server answers with: 415 for what is not an
    /// accepted image, 413 for a file too large, 400 for the rest.
    pub fn status(&self) -> u16 {
        match self {
            PhotoProblem::NotAnImage | PhotoProblem::WrongType { .. } => 415,
            PhotoProblem::TooLarge { .. } => 413,
            _ => 400,
        }
    }
}

/// What the server learned from a photo's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inspected {
    pub kind: ImageType,
    pub width: u32,
    pub height: u32,
}

/// Checks a photo file: its size, its format from its first bytes (and that
/// it matches `claimed`, the media type it was sent as), its dimensions, and
/// that it carries no EXIF or XMP.
pub fn inspect(bytes: &[u8], claimed: &str) -> Result<Inspected, PhotoProblem> {
    if bytes.is_empty() {
        return Err(PhotoProblem::Empty);
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(PhotoProblem::TooLarge { bytes: bytes.len() });
    }
    let kind = ImageType::sniff(bytes).ok_or(PhotoProblem::NotAnImage)?;
    if ImageType::from_media_type(claimed) != Some(kind) {
        return Err(PhotoProblem::WrongType {
            claimed: claimed.chars().take(60).collect(),
            found: kind,
        });
    }
    let (width, height) = match kind {
        ImageType::Jpeg => jpeg(bytes),
        ImageType::Png => png(bytes),
        ImageType::Webp => webp(bytes),
    }?;
    // Metadata can hide where no parser looks (after the image's end, in
    // the compressed data's neighbours): its markers are refused anywhere.
    // A chance match inside image data is about one in 2^48 per place.
    for (marker, what) in METADATA_MARKERS {
        if bytes.windows(marker.len()).any(|w| w == marker) {
            return Err(PhotoProblem::Metadata(what));
        }
    }
    if !(MIN_SIDE..=MAX_SIDE).contains(&width) || !(MIN_SIDE..=MAX_SIDE).contains(&height) {
        return Err(PhotoProblem::Dimensions { width, height });
    }
    Ok(Inspected {
        kind,
        width,
        height,
    })
}

/// Byte strings that only metadata carries, and what they are.
const METADATA_MARKERS: [(&[u8], &str); 4] = [
    (b"Exif\0\0", "EXIF"),
    (b"http://ns.adobe.com/xap/", "XMP"),
    (b"<x:xmpmeta", "XMP"),
    // How some tools write EXIF into a PNG's text chunks.
    (b"Raw profile type", "EXIF"),
];

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes(
        b.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}

/// Walks a JPEG's marker segments up to the image data: the frame header
/// gives its size, and any APP1 segment (where EXIF and XMP live) refuses it.
fn jpeg(b: &[u8]) -> Result<(u32, u32), PhotoProblem> {
    let damaged = PhotoProblem::Damaged(ImageType::Jpeg);
    let mut size = None;
    let mut at = 2;
    loop {
        // Markers may be padded with extra 0xFF bytes.
        while b.get(at) == Some(&0xFF) && b.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if b.get(at) != Some(&0xFF) {
            return Err(damaged);
        }
        let marker = *b.get(at + 1).ok_or(damaged.clone())?;
        let length = be16(b, at + 2).ok_or(damaged.clone())? as usize;
        if length < 2 {
            return Err(damaged);
        }
        let body = b.get(at + 4..at + 2 + length).ok_or(damaged.clone())?;
        match marker {
            0xE1 if body.starts_with(b"Exif\0") => return Err(PhotoProblem::Metadata("EXIF")),
            0xE1 => return Err(PhotoProblem::Metadata("XMP")),
            // Start of frame (baseline, progressive, …), not DHT/JPG/DAC.
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let height = be16(body, 1).ok_or(damaged.clone())?;
                let width = be16(body, 3).ok_or(damaged.clone())?;
                size = Some((width, height));
                at += 2 + length;
            }
            // The image data starts: it needs a frame header before it.
            0xDA => return size.ok_or(damaged),
            0xD9 => return Err(damaged),
            _ => at += 2 + length,
        }
    }
}

/// Reads a PNG's header chunk, then its chunks up to the image data for the
/// metadata ones (eXIf, and XMP in an iTXt chunk).
fn png(b: &[u8]) -> Result<(u32, u32), PhotoProblem> {
    let damaged = PhotoProblem::Damaged(ImageType::Png);
    if b.get(12..16) != Some(b"IHDR") {
        return Err(damaged);
    }
    let width = be32(b, 16).ok_or(damaged.clone())?;
    let height = be32(b, 20).ok_or(damaged.clone())?;
    let mut at = 8;
    loop {
        let length = be32(b, at).ok_or(damaged.clone())? as usize;
        let kind = b.get(at + 4..at + 8).ok_or(damaged.clone())?;
        let end = at
            .checked_add(12)
            .and_then(|n| n.checked_add(length))
            .filter(|&end| end <= b.len())
            .ok_or(damaged.clone())?;
        match kind {
            b"eXIf" => return Err(PhotoProblem::Metadata("EXIF")),
            // A canvas writes no text; a camera's or an editor's text can
            // hold anything (XMP, EXIF, a name).
            b"tEXt" | b"zTXt" | b"iTXt" => return Err(PhotoProblem::Metadata("text")),
            // Nothing may follow the end.
            b"IEND" if end == b.len() => return Ok((width, height)),
            b"IEND" => return Err(damaged),
            _ => at = end,
        }
    }
}

/// Reads a WebP's first chunk for its size (lossy, lossless or extended),
/// and every chunk for EXIF and XMP.
fn webp(b: &[u8]) -> Result<(u32, u32), PhotoProblem> {
    let damaged = PhotoProblem::Damaged(ImageType::Webp);
    let first = b.get(12..16).ok_or(damaged.clone())?;
    let size = match first {
        // Lossy: a key frame's start code, then 14-bit sizes.
        b"VP8 " if b.get(23..26) == Some(&[0x9D, 0x01, 0x2A]) => {
            let w = le32(b, 26).ok_or(damaged.clone())?;
            (w & 0x3FFF, (w >> 16) & 0x3FFF)
        }
        // Lossless: a signature byte, then 14-bit sizes less one.
        b"VP8L" if b.get(20) == Some(&0x2F) => {
            let bits = le32(b, 21).ok_or(damaged.clone())?;
            ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        }
        // Extended: 24-bit sizes less one.
        b"VP8X" => (
            le24(b, 24).ok_or(damaged.clone())? + 1,
            le24(b, 27).ok_or(damaged.clone())? + 1,
        ),
        _ => return Err(damaged),
    };
    let mut at = 12;
    while at < b.len() {
        let kind = b.get(at..at + 4).ok_or(damaged.clone())?;
        let length = le32(b, at + 4).ok_or(damaged.clone())? as usize;
        match kind {
            b"EXIF" => return Err(PhotoProblem::Metadata("EXIF")),
            b"XMP " => return Err(PhotoProblem::Metadata("XMP")),
            _ => {}
        }
        // Chunks are padded to an even length, and end inside the file.
        at = at
            .checked_add(8)
            .and_then(|n| n.checked_add(length))
            .and_then(|n| n.checked_add(length & 1))
            .filter(|&end| end <= b.len() + 1)
            .ok_or(damaged.clone())?;
    }
    Ok(size)
}

#[cfg(test)]
mod tests;
