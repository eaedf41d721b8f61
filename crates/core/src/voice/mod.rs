//! Spoken notes: what the server accepts as a recording, checked from the
//! file's own bytes and never from what the sender claims.
//!
//! Browsers record in one of two containers: WebM with Opus (Chromium,
//! Firefox) and MP4 with AAC (Safari) or Opus (Chromium, asked for MP4).
//! The server reads the container's structure far enough to know it holds
//! one sound track in one of those codecs and nothing else, and blanks in
//! place any part that can carry words about the recording (tags, user
//! data, attachments), so a recording keeps no name, place or device
//! ([`container`]).

use std::fmt;

use thiserror::Error;

mod container;
mod kept;
pub use kept::{length_words, spoken_words, to_send, KeptRecording, RecordingQuery};

/// The longest recording the phone makes, in seconds.
pub const MAX_RECORDING_SECONDS: u32 = 5 * 60;
/// The largest recording file accepted: five minutes of AAC at 128 kbit/s
/// (Safari's rate) is 4.8 MB; the phone asks for far less (Opus at 32
/// kbit/s, about 1.2 MB).
pub const MAX_RECORDING_BYTES: usize = 6 * 1024 * 1024;
/// At most this many recordings on one note.
pub const MAX_RECORDINGS: usize = 3;

/// The containers accepted, by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    Webm,
    Mp4,
}

/// The sound codecs accepted inside them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    Opus,
    Aac,
}

impl Container {
    /// The container the file's first bytes announce, if it is one accepted.
    pub fn sniff(bytes: &[u8]) -> Option<Container> {
        if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
            Some(Container::Webm)
        } else if bytes.len() >= 8 && &bytes[4..8] == b"ftyp" {
            Some(Container::Mp4)
        } else {
            None
        }
    }

    /// The media type a recording in this container is served as.
    pub fn media_type(self) -> &'static str {
        match self {
            Container::Webm => "audio/webm",
            Container::Mp4 => "audio/mp4",
        }
    }

    /// The file name extension: `webm` or `m4a`.
    pub fn extension(self) -> &'static str {
        match self {
            Container::Webm => "webm",
            Container::Mp4 => "m4a",
        }
    }

    /// The container a media type names, its parameters (`;codecs=opus`)
    /// aside.
    pub fn from_media_type(media_type: &str) -> Option<Container> {
        let essence = media_type.split(';').next().unwrap_or("").trim();
        match essence.to_ascii_lowercase().as_str() {
            "audio/webm" | "video/webm" => Some(Container::Webm),
            "audio/mp4" | "video/mp4" | "audio/x-m4a" => Some(Container::Mp4),
            _ => None,
        }
    }
}

impl fmt::Display for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Container::Webm => "WebM",
            Container::Mp4 => "MP4",
        })
    }
}

/// Why a recording is refused, in words for the person who sent it.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum RecordingProblem {
    #[error("the recording is empty")]
    Empty,
    #[error("the recording is {bytes} bytes; the most accepted is {most} bytes")]
    TooLarge { bytes: usize, most: usize },
    #[error("the file is not a WebM or MP4 recording")]
    NotARecording,
    #[error("the file says it is {claimed} but its bytes are {found}")]
    WrongType { claimed: String, found: Container },
    #[error("the {0} recording is damaged or cut short before its sound begins")]
    Damaged(Container),
    #[error("the {0} file holds no sound track")]
    NoSound(Container),
    #[error("the {0} file holds a track that is not sound; send a sound recording")]
    NotSound(Container),
    #[error("the {container} recording's sound is {codec}; Opus or AAC is accepted")]
    Codec { container: Container, codec: String },
}

impl RecordingProblem {
    /// The HTTP status the server answers with: 415 for what is not an
    /// accepted recording, 413 for a file too large, 400 for the rest.
    pub fn status(&self) -> u16 {
        match self {
            RecordingProblem::NotARecording
            | RecordingProblem::WrongType { .. }
            | RecordingProblem::NotSound(_)
            | RecordingProblem::Codec { .. } => 415,
            RecordingProblem::TooLarge { .. } => 413,
            _ => 400,
        }
    }
}

/// A recording accepted: its container and codec, and its bytes with every
/// part that could carry words about it blanked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cleaned {
    pub container: Container,
    pub codec: Codec,
    pub bytes: Vec<u8>,
}

/// Checks a recording: its size, its container from its first bytes (and
/// that it matches `claimed`, the media type it was sent as), that it holds
/// sound tracks only, in Opus or AAC, and that its structure is whole up to
/// its sound (a recording cut short by a crash keeps what was recorded);
/// then blanks its tags, user data and attachments.
pub fn clean(bytes: &[u8], claimed: &str) -> Result<Cleaned, RecordingProblem> {
    if bytes.is_empty() {
        return Err(RecordingProblem::Empty);
    }
    if bytes.len() > MAX_RECORDING_BYTES {
        return Err(RecordingProblem::TooLarge {
            bytes: bytes.len(),
            most: MAX_RECORDING_BYTES,
        });
    }
    let container = Container::sniff(bytes).ok_or(RecordingProblem::NotARecording)?;
    if Container::from_media_type(claimed) != Some(container) {
        return Err(RecordingProblem::WrongType {
            claimed: claimed.chars().take(60).collect(),
            found: container,
        });
    }
    let mut bytes = bytes.to_vec();
    let codec = match container {
        Container::Webm => container::webm(&mut bytes)?,
        Container::Mp4 => container::mp4(&mut bytes)?,
    };
    Ok(Cleaned {
        container,
        codec,
        bytes,
    })
}

#[cfg(test)]
mod tests;
