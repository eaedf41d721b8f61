//! A photo file rebuilt from the parts that draw the picture, and nothing
//! else: allow-lists, not deny-lists, so a name, a place or a time hidden in
//! any kind of metadata (EXIF, XMP, IPTC, comments, C2PA, PNG text and
//! private chunks, bytes after the image's end) is never kept or served,
//! whoever sent the file.
//!
//! - JPEG: the frame, tables, restart interval and scans, a JFIF header
//!   without its thumbnail, an ICC colour profile and Adobe's colour
//!   transform marker, and which way up it is (EXIF's Orientation, written
//!   anew in a block holding nothing else); the scans' data must reach the
//!   end marker.
//! - PNG: the critical chunks and those that only change colours or pixel
//!   size (tRNS, gAMA, cHRM, sRGB, iCCP, pHYs).
//! - WebP: a still image's own chunks (VP8, VP8L, ALPH, VP8X with its
//!   metadata flags cleared, ICCP).
//!
//! A photo from the app's canvas holds nothing else, and comes out byte for
//! byte as it went in.

use super::{ImageType, PhotoProblem};

/// The most bytes a photo may take once decoded, as a browser holds it: a
/// 4,096 px square in 8-bit RGBA. A small file that would decode to more (a
/// decompression bomb) is refused.
pub const MAX_DECODED_BYTES: u64 = 4096 * 4096 * 4;

/// A photo's picture, rebuilt without its metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Rebuilt {
    pub width: u32,
    pub height: u32,
    /// Bytes per pixel once decoded, at the file's own bit depth.
    pub decoded_bytes_per_pixel: u64,
    pub bytes: Vec<u8>,
}

pub(super) fn rebuild(kind: ImageType, b: &[u8]) -> Result<Rebuilt, PhotoProblem> {
    match kind {
        ImageType::Jpeg => jpeg(b),
        ImageType::Png => png(b),
        ImageType::Webp => webp(b),
    }
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    )))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(3)?)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}

/// The JFIF header as a canvas writes it: version, density, no thumbnail.
const JFIF_HEADER_LEN: usize = 14;

/// Which way up a camera's JPEG is, from its EXIF (TIFF) block: the
/// Orientation tag of the first directory, 1 to 8.
fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let big = match tiff.get(..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let two: [u8; 2] = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if big {
            u16::from_be_bytes(two)
        } else {
            u16::from_le_bytes(two)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let four: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(four)
        } else {
            u32::from_le_bytes(four)
        })
    };
    if u16_at(2)? != 42 {
        return None;
    }
    let directory = usize::try_from(u32_at(4)?).ok()?;
    let entries = usize::from(u16_at(directory)?);
    (0..entries.min(256)).find_map(|n| {
        let entry = directory + 2 + n * 12;
        // Orientation, a SHORT, one value.
        (u16_at(entry)? == 0x0112 && u16_at(entry + 2)? == 3)
            .then(|| u16_at(entry + 8))
            .flatten()
            .filter(|o| (1..=8).contains(o))
    })
}

/// An EXIF block that says which way up the picture is, and nothing else.
fn orientation_only(orientation: u16) -> Vec<u8> {
    let mut segment = vec![0xFF, 0xE1, 0, 34];
    segment.extend_from_slice(b"Exif\0\0MM\0\x2A\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01");
    segment.extend_from_slice(&orientation.to_be_bytes());
    segment.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    segment
}

fn jpeg(b: &[u8]) -> Result<Rebuilt, PhotoProblem> {
    let damaged = || PhotoProblem::Damaged(ImageType::Jpeg);
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut frame: Option<(u32, u32, u64)> = None;
    let mut orientation = None;
    let mut scans = 0;
    let mut at = 2;
    loop {
        // Markers may be padded with extra 0xFF bytes.
        while b.get(at) == Some(&0xFF) && b.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if b.get(at) != Some(&0xFF) {
            return Err(damaged());
        }
        let marker = *b.get(at + 1).ok_or_else(damaged)?;
        match marker {
            // The end: whatever follows it is not part of the picture.
            0xD9 if scans > 0 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                // Upright already (1) needs no word; any other way up is
                // kept alone, right after the start, where readers look.
                if let Some(o) = orientation.filter(|&o| o != 1) {
                    out.splice(2..2, orientation_only(o));
                }
                let (width, height, components) = frame.ok_or_else(damaged)?;
                return Ok(Rebuilt {
                    width,
                    height,
                    decoded_bytes_per_pixel: components,
                    bytes: out,
                });
            }
            0xD9 | 0xD8 | 0x00 => return Err(damaged()),
            // Markers with no length: nothing to keep.
            0x01 | 0xD0..=0xD7 => {
                at += 2;
                continue;
            }
            _ => {}
        }
        let length = be16(b, at + 2).ok_or_else(damaged)?;
        if length < 2 {
            return Err(damaged());
        }
        let end = at + 2 + length;
        let segment = b.get(at..end).ok_or_else(damaged)?;
        let body = &segment[4..];
        match marker {
            // A frame header (baseline, progressive, lossless, arithmetic):
            // precision, height, width, components.
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if frame.is_some() {
                    return Err(damaged());
                }
                let height = be16(body, 1).ok_or_else(damaged)?;
                let width = be16(body, 3).ok_or_else(damaged)?;
                let components = *body.get(5).ok_or_else(damaged)?;
                frame = Some((width as u32, height as u32, u64::from(components)));
                out.extend_from_slice(segment);
            }
            // Huffman and arithmetic tables, quantisation tables, the number
            // of lines, the restart interval.
            0xC4 | 0xCC | 0xDB | 0xDC | 0xDD => out.extend_from_slice(segment),
            // JFIF: kept without the thumbnail it may carry (a picture of
            // the uncropped scene).
            0xE0 if body.starts_with(b"JFIF\0") && body.len() >= JFIF_HEADER_LEN => {
                out.extend_from_slice(&[0xFF, 0xE0, 0, 2 + JFIF_HEADER_LEN as u8]);
                out.extend_from_slice(&body[..JFIF_HEADER_LEN - 2]);
                out.extend_from_slice(&[0, 0]);
            }
            // A camera's EXIF: only which way up the picture is, kept
            // above in a block of its own; the rest (the place, the time,
            // the camera) goes.
            0xE1 if body.starts_with(b"Exif\0\0") => {
                orientation = orientation.or_else(|| exif_orientation(&body[6..]));
            }
            // The colours' meaning, which changes how the picture looks.
            0xE2 if body.starts_with(b"ICC_PROFILE\0") => out.extend_from_slice(segment),
            0xEE if body.starts_with(b"Adobe") && body.len() == 12 => {
                out.extend_from_slice(segment)
            }
            // A scan: its header, then entropy-coded data up to the next
            // marker that is not a restart (0xFF00 is a stuffed 0xFF).
            0xDA => {
                if frame.is_none() {
                    return Err(damaged());
                }
                let mut next = end;
                loop {
                    let ff = b
                        .get(next..)
                        .and_then(|rest| rest.iter().position(|&x| x == 0xFF))
                        .ok_or_else(damaged)?;
                    next += ff;
                    match b.get(next + 1) {
                        Some(0x00 | 0xD0..=0xD7) => next += 2,
                        Some(_) => break,
                        // Cut short inside the scan.
                        None => return Err(damaged()),
                    }
                }
                out.extend_from_slice(&b[at..next]);
                scans += 1;
                at = next;
                continue;
            }
            // Every other segment: application data (EXIF, XMP, IPTC, C2PA,
            // maker notes, …), comments and the like.
            _ => {}
        }
        at = end;
    }
}

/// PNG chunks kept beside the critical ones: each only says how to show the
/// pixels.
const PNG_KEPT: [&[u8; 4]; 10] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"pHYs",
];

fn png(b: &[u8]) -> Result<Rebuilt, PhotoProblem> {
    let damaged = || PhotoProblem::Damaged(ImageType::Png);
    if b.get(12..16) != Some(b"IHDR") || be32(b, 8) != Some(13) {
        return Err(damaged());
    }
    let width = be32(b, 16).ok_or_else(damaged)?;
    let height = be32(b, 20).ok_or_else(damaged)?;
    let depth = *b.get(24).ok_or_else(damaged)?;
    let channels: u64 = match b.get(25) {
        Some(0 | 3) => 1,
        Some(4) => 2,
        Some(2) => 3,
        Some(6) => 4,
        _ => return Err(damaged()),
    };
    if !matches!(depth, 1 | 2 | 4 | 8 | 16) {
        return Err(damaged());
    }
    // Sub-byte depths still take a byte a pixel once decoded.
    let decoded_bytes_per_pixel = channels * u64::from(depth.max(8) / 8);
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..8]);
    let mut images = 0;
    let mut at = 8;
    loop {
        let length = be32(b, at).ok_or_else(damaged)? as usize;
        let kind = b.get(at + 4..at + 8).ok_or_else(damaged)?;
        let end = at
            .checked_add(12)
            .and_then(|n| n.checked_add(length))
            .filter(|&end| end <= b.len())
            .ok_or_else(damaged)?;
        if PNG_KEPT.iter().any(|k| k.as_slice() == kind) {
            out.extend_from_slice(&b[at..end]);
        }
        match kind {
            b"IDAT" => images += 1,
            // The end: whatever follows it is not part of the picture.
            b"IEND" if images > 0 => {
                return Ok(Rebuilt {
                    width,
                    height,
                    decoded_bytes_per_pixel,
                    bytes: out,
                })
            }
            b"IEND" => return Err(damaged()),
            _ => {}
        }
        at = end;
    }
}

/// WebP's extended header flags for metadata chunks, cleared when they go.
const VP8X_EXIF: u8 = 0x08;
const VP8X_XMP: u8 = 0x04;
const VP8X_ANIMATION: u8 = 0x02;

fn webp(b: &[u8]) -> Result<Rebuilt, PhotoProblem> {
    let damaged = || PhotoProblem::Damaged(ImageType::Webp);
    let riff_end = le32(b, 4)
        .and_then(|n| (n as usize).checked_add(8))
        .filter(|&end| end <= b.len() && end >= 12)
        .ok_or_else(damaged)?;
    let first = b.get(12..16).ok_or_else(damaged)?;
    let (width, height) = match first {
        // Lossy: a key frame's start code, then 14-bit sizes.
        b"VP8 " if b.get(23..26) == Some(&[0x9D, 0x01, 0x2A]) => {
            let w = le32(b, 26).ok_or_else(damaged)?;
            (w & 0x3FFF, (w >> 16) & 0x3FFF)
        }
        // Lossless: a signature byte, then 14-bit sizes less one.
        b"VP8L" if b.get(20) == Some(&0x2F) => {
            let bits = le32(b, 21).ok_or_else(damaged)?;
            ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        }
        // Extended: flags, then 24-bit sizes less one.
        b"VP8X" => {
            if b.get(20).is_some_and(|flags| flags & VP8X_ANIMATION != 0) {
                return Err(PhotoProblem::Animated);
            }
            (
                le24(b, 24).ok_or_else(damaged)? + 1,
                le24(b, 27).ok_or_else(damaged)? + 1,
            )
        }
        _ => return Err(damaged()),
    };
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..12]);
    let mut images = 0;
    let mut at = 12;
    while at < riff_end {
        let kind = b.get(at..at + 4).ok_or_else(damaged)?;
        let length = le32(b, at + 4).ok_or_else(damaged)? as usize;
        let data_end = at
            .checked_add(8)
            .and_then(|n| n.checked_add(length))
            .filter(|&end| end <= riff_end)
            .ok_or_else(damaged)?;
        // Chunks are padded to an even length; a last pad byte may be missing.
        let end = (data_end + (length & 1)).min(riff_end);
        if kind == b"VP8X" && length != 10 {
            return Err(damaged());
        }
        let kept = match kind {
            b"VP8 " | b"VP8L" => {
                images += 1;
                true
            }
            b"ALPH" | b"ICCP" | b"VP8X" => true,
            // Animation frames, metadata and anything unknown.
            _ => false,
        };
        if kept {
            let start = out.len();
            out.extend_from_slice(&b[at..data_end]);
            if length & 1 == 1 {
                out.push(0);
            }
            if kind == b"VP8X" {
                out[start + 8] &= !(VP8X_EXIF | VP8X_XMP);
            }
        }
        at = end;
    }
    if images != 1 {
        return Err(damaged());
    }
    let riff = u32::try_from(out.len() - 8).map_err(|_| damaged())?;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    Ok(Rebuilt {
        width,
        height,
        decoded_bytes_per_pixel: 4,
        bytes: out,
    })
}

/// [`exif_orientation`], for the tests that read a cleaned file back.
#[cfg(test)]
pub(super) fn exif_orientation_for_tests(tiff: &[u8]) -> Option<u16> {
    exif_orientation(tiff)
}
