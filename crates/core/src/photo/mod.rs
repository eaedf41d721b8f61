//! Photos on notes and reports: what the server accepts, checked from the
//! file's own bytes and never from what the sender claims.
//!
//! The phone re-encodes every photo with the browser's canvas (longest side
//! about 1,600 px), which writes no EXIF. The server still reads each file's
//! bytes for its type, size and wholeness, and keeps only the parts that
//! draw the picture ([`clean`]), so no GPS position, name, camera serial or
//! time is ever stored or served, whatever sent it.

use std::fmt;

use thiserror::Error;

mod clean;
mod kept;
pub use clean::MAX_DECODED_BYTES;
pub use kept::{
    to_send, verdict, KeptPhoto, PhotoForm, PhotoOwner, PhotoState, UploadQuery, UploadVerdict,
};

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
/// The largest photo file a browser may send whole, from a form that
/// cannot shrink it (the residents' plain page, with no script): a
/// camera's own JPEG.
pub const MAX_WHOLE_PHOTO_BYTES: usize = 12 * 1024 * 1024;
/// The largest side of a photo sent whole: a 48-megapixel camera's.
pub const MAX_WHOLE_SIDE: u32 = 8192;

/// `GET /api/v1/reports/{code}/photos`: a report's photos (only those the
/// councillor made public, unless asked with a device token).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct PhotoListing {
    pub photos: Vec<ListedPhoto>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
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
    #[error("the photo is {bytes} bytes; the most accepted is {most} bytes")]
    TooLarge { bytes: usize, most: usize },
    #[error("the file is not a JPEG, PNG or WebP image")]
    NotAnImage,
    #[error("the file says it is {claimed} but its bytes are {found}")]
    WrongType { claimed: String, found: ImageType },
    #[error("the {0} file is damaged or cut short")]
    Damaged(ImageType),
    #[error("the photo is {width}×{height} pixels; each side must be {MIN_SIDE} to {most}")]
    Dimensions { width: u32, height: u32, most: u32 },
    #[error("the photo would take {megabytes} MB of memory to show; the most is {} MB", MAX_DECODED_BYTES / 1024 / 1024)]
    DecodesTooLarge { megabytes: u64 },
    #[error("the file is an animation; send a still photo")]
    Animated,
}

impl PhotoProblem {
    /// The HTTP status the server answers with: 415 for what is not an
    /// accepted image, 413 for a file too large, 400 for the rest.
    pub fn status(&self) -> u16 {
        match self {
            PhotoProblem::NotAnImage | PhotoProblem::WrongType { .. } | PhotoProblem::Animated => {
                415
            }
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

/// A photo accepted: what it is, and its bytes rebuilt without metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cleaned {
    pub inspected: Inspected,
    pub bytes: Vec<u8>,
}

/// Checks a photo file: its size, its format from its first bytes (and that
/// it matches `claimed`, the media type it was sent as), that it is whole,
/// and its dimensions and decoded size; then rebuilds it from the parts that
/// draw the picture ([`clean`](self::clean) module), so no EXIF, XMP, IPTC,
/// comment or other metadata is kept.
pub fn clean(bytes: &[u8], claimed: &str) -> Result<Cleaned, PhotoProblem> {
    clean_within(bytes, claimed, MAX_PHOTO_BYTES, MAX_SIDE)
}

/// [`clean`], for a photo a browser sent whole, as the camera made it (the
/// residents' plain form, which cannot shrink it): larger files and sides
/// are taken, the decoded size is held to the same limit. A JPEG keeps
/// which way up it is (its EXIF orientation, alone) so that it shows as
/// taken.
pub fn clean_sent_whole(bytes: &[u8], claimed: &str) -> Result<Cleaned, PhotoProblem> {
    clean_within(bytes, claimed, MAX_WHOLE_PHOTO_BYTES, MAX_WHOLE_SIDE)
}

fn clean_within(
    bytes: &[u8],
    claimed: &str,
    most_bytes: usize,
    most_side: u32,
) -> Result<Cleaned, PhotoProblem> {
    if bytes.is_empty() {
        return Err(PhotoProblem::Empty);
    }
    if bytes.len() > most_bytes {
        return Err(PhotoProblem::TooLarge {
            bytes: bytes.len(),
            most: most_bytes,
        });
    }
    let kind = ImageType::sniff(bytes).ok_or(PhotoProblem::NotAnImage)?;
    if ImageType::from_media_type(claimed) != Some(kind) {
        return Err(PhotoProblem::WrongType {
            claimed: claimed.chars().take(60).collect(),
            found: kind,
        });
    }
    let rebuilt = clean::rebuild(kind, bytes)?;
    let (width, height) = (rebuilt.width, rebuilt.height);
    if !(MIN_SIDE..=most_side).contains(&width) || !(MIN_SIDE..=most_side).contains(&height) {
        return Err(PhotoProblem::Dimensions {
            width,
            height,
            most: most_side,
        });
    }
    let decoded = u64::from(width) * u64::from(height) * rebuilt.decoded_bytes_per_pixel;
    if decoded > MAX_DECODED_BYTES {
        return Err(PhotoProblem::DecodesTooLarge {
            megabytes: decoded.div_ceil(1024 * 1024),
        });
    }
    Ok(Cleaned {
        inspected: Inspected {
            kind,
            width,
            height,
        },
        bytes: rebuilt.bytes,
    })
}

/// [`clean`], for what the photo is.
pub fn inspect(bytes: &[u8], claimed: &str) -> Result<Inspected, PhotoProblem> {
    clean(bytes, claimed).map(|c| c.inspected)
}

#[cfg(test)]
mod tests;
