//! A recording as the phone keeps it: the note it belongs to, how much of it
//! is kept, and how far it has got towards the server. The sound itself is
//! in the browser's IndexedDB beside this, chunk by chunk as it was
//! recorded; this part is plain data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::photo::PhotoState;

/// A kept recording's facts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct KeptRecording {
    /// Made on the phone; the server recognises a resend by it.
    pub id: Uuid,
    /// The note it belongs to; `None` while it is on the capture form (it
    /// comes back with the form after a crash).
    pub note: Option<Uuid>,
    /// As the recorder made it (`audio/webm;codecs=opus`, `audio/mp4`).
    pub media_type: String,
    #[serde(with = "crate::rfc3339")]
    pub started_at: DateTime<Utc>,
    /// How long it is, as far as it is kept, in milliseconds.
    pub millis: u64,
    /// How many chunks of it are kept, in order from 0.
    pub chunks: u32,
    pub bytes: u64,
    /// Stop was tapped: every chunk is kept. A recording the phone lost
    /// mid-way (a crash, the app killed) is whole up to its last chunk.
    pub finished: bool,
    /// SHA-256 of the whole file, lower-case hex, once it is put together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub state: PhotoState,
}

impl KeptRecording {
    /// Whether it shows on the capture form (not saved with a note yet):
    /// made there, or given to a note that `note_exists` says is not on the
    /// phone (a crash came between), so that it is never lost.
    pub fn on_form(&self, note_exists: impl Fn(Uuid) -> bool) -> bool {
        self.note.is_none_or(|note| !note_exists(note))
    }

    /// "1:05": how long it is, in minutes and seconds.
    pub fn length(&self) -> String {
        length_words(self.millis)
    }
}

/// "1:05": a length in minutes and seconds.
pub fn length_words(millis: u64) -> String {
    let seconds = millis / 1000;
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// The words of a note saved with a recording and nothing typed: "Spoken
/// note (0:42)". They can be changed later, as any note's.
pub fn spoken_words(millis: u64) -> String {
    format!("Spoken note ({})", length_words(millis))
}

/// The query of a recording's upload (`POST`
/// [`crate::protocol::paths::RECORDING`]): the note it belongs to and the
/// SHA-256 of its bytes in lower-case hex. The app writes it, the server
/// reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct RecordingQuery {
    pub note: Uuid,
    pub sha256: String,
}

impl RecordingQuery {
    /// As a URL's query, without the `?`. Ids and hex need no escaping.
    pub fn to_query(&self) -> String {
        format!("note={}&sha256={}", self.note, self.sha256)
    }
}

/// The recordings to send now, oldest first: put together, belonging to a
/// note the server already holds (its words go first), and not refused.
pub fn to_send<'a>(
    recordings: impl IntoIterator<Item = &'a KeptRecording>,
    note_sent: impl Fn(Uuid) -> bool,
) -> Vec<&'a KeptRecording> {
    let mut ready: Vec<&KeptRecording> = recordings
        .into_iter()
        .filter(|r| r.state == PhotoState::OnPhone && r.sha256.is_some())
        .filter(|r| r.note.is_some_and(&note_sent))
        .collect();
    ready.sort_unstable_by_key(|r| (r.started_at, r.id));
    ready
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn kept(id: u128, note: Option<u128>, minute: u32) -> KeptRecording {
        KeptRecording {
            id: Uuid::from_u128(id),
            note: note.map(Uuid::from_u128),
            media_type: "audio/webm;codecs=opus".into(),
            started_at: Utc.with_ymd_and_hms(2026, 12, 6, 2, minute, 0).unwrap(),
            millis: 65_400,
            chunks: 66,
            bytes: 260_000,
            finished: true,
            sha256: Some("ab".repeat(32)),
            state: PhotoState::OnPhone,
        }
    }

    #[test]
    fn recordings_go_after_their_note_s_words_oldest_first_once_put_together() {
        let mut all = vec![
            kept(1, Some(100), 9),
            kept(2, Some(101), 1),
            kept(3, None, 0),
            kept(4, Some(100), 3),
            kept(5, Some(100), 2),
        ];
        all[4].state = PhotoState::Sent;
        let ids =
            |ready: Vec<&KeptRecording>| ready.iter().map(|r| r.id.as_u128()).collect::<Vec<_>>();
        let sent = |note: Uuid| note == Uuid::from_u128(100);
        assert_eq!(ids(to_send(&all, sent)), [4, 1]);
        all[3].sha256 = None;
        assert_eq!(ids(to_send(&all, sent)), [1], "not yet put together");
    }

    #[test]
    fn a_recording_stays_on_the_form_until_its_note_is_on_the_phone() {
        let mut made = kept(1, None, 0);
        assert!(made.on_form(|_| true));
        made.note = Some(Uuid::from_u128(7));
        assert!(!made.on_form(|_| true), "saved with its note");
        assert!(made.on_form(|_| false), "its note never got saved");
    }

    #[test]
    fn a_kept_recording_round_trips_and_says_its_length() {
        let recording = kept(1, Some(2), 0);
        assert_eq!(recording.length(), "1:05");
        assert_eq!(spoken_words(299_999), "Spoken note (4:59)");
        let json = serde_json::to_value(&recording).unwrap();
        assert_eq!(json["state"]["is"], "on_phone");
        assert_eq!(
            serde_json::from_value::<KeptRecording>(json).unwrap(),
            recording
        );
        let query = RecordingQuery {
            note: Uuid::from_u128(2),
            sha256: "cd".repeat(32),
        };
        assert_eq!(
            query.to_query(),
            format!("note={}&sha256={}", Uuid::from_u128(2), "cd".repeat(32))
        );
    }
}
