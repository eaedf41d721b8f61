//! A photo as the phone keeps it: what it belongs to, its file's facts, and
//! how far it has got towards the server. The bytes themselves are a Blob
//! beside this in the browser's IndexedDB; this part is plain data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::record::{RecordKey, RecordKind};

/// Where a photo stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "is", rename_all = "snake_case")]
pub enum PhotoState {
    /// Kept on this phone, waiting to be sent.
    OnPhone,
    /// The server holds it.
    Sent,
    /// The server refused it, for this reason: the person may retry,
    /// download or remove it.
    Refused { reason: String },
}

/// A kept photo's facts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct KeptPhoto {
    /// Made on the phone; the server recognises a resend by it.
    pub id: Uuid,
    /// The note or report it belongs to; `None` while it is on a form not
    /// saved yet (it comes back with the form after a crash).
    pub of: Option<PhotoOwner>,
    /// The form it was taken on.
    pub form: PhotoForm,
    pub media_type: String,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    #[serde(with = "crate::rfc3339")]
    pub taken_at: DateTime<Utc>,
    pub state: PhotoState,
}

/// The forms that take photos.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoForm {
    Note,
    Report,
}

impl PhotoForm {
    /// The record the form makes, in words: "note" or "report".
    pub fn noun(self) -> &'static str {
        match self {
            PhotoForm::Note => "note",
            PhotoForm::Report => "report",
        }
    }
}

impl KeptPhoto {
    /// Whether the photo shows on `form` (not saved with a record yet):
    /// picked there, or given to a record that `exists` says is not on the
    /// phone (a crash came between), so that it is never lost.
    pub fn on_form(&self, form: PhotoForm, exists: impl Fn(RecordKey) -> bool) -> bool {
        self.form == form && self.of.is_none_or(|owner| !exists(owner.key()))
    }
}

/// A record that can carry photos.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum PhotoOwner {
    Note(Uuid),
    Report(Uuid),
}

impl PhotoOwner {
    pub fn key(self) -> RecordKey {
        match self {
            PhotoOwner::Note(id) => RecordKey::new(RecordKind::Note, id),
            PhotoOwner::Report(id) => RecordKey::new(RecordKind::Report, id),
        }
    }

    /// The form a record's photos are picked on.
    pub fn form(self) -> PhotoForm {
        match self {
            PhotoOwner::Note(_) => PhotoForm::Note,
            PhotoOwner::Report(_) => PhotoForm::Report,
        }
    }

    /// `note` or `report`: the upload's query names the record by it, and
    /// the server's database keeps it.
    pub fn kind(self) -> &'static str {
        match self {
            PhotoOwner::Note(_) => "note",
            PhotoOwner::Report(_) => "report",
        }
    }

    pub fn id(self) -> Uuid {
        match self {
            PhotoOwner::Note(id) | PhotoOwner::Report(id) => id,
        }
    }
}

/// The query of a photo's upload (`POST` [`crate::protocol::paths::PHOTO`]):
/// the record it belongs to, by one of `note` or `report`, and the SHA-256
/// of its bytes in lower-case hex. The app writes it, the server reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct UploadQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Uuid>,
    pub sha256: String,
}

impl UploadQuery {
    pub fn new(owner: PhotoOwner, sha256: &str) -> UploadQuery {
        let (note, report) = match owner {
            PhotoOwner::Note(id) => (Some(id), None),
            PhotoOwner::Report(id) => (None, Some(id)),
        };
        UploadQuery {
            note,
            report,
            sha256: sha256.to_owned(),
        }
    }

    /// The record named, if exactly one is.
    pub fn owner(&self) -> Option<PhotoOwner> {
        match (self.note, self.report) {
            (Some(note), None) => Some(PhotoOwner::Note(note)),
            (None, Some(report)) => Some(PhotoOwner::Report(report)),
            _ => None,
        }
    }

    /// As a URL's query, without the `?`: `note=<id>&sha256=<hex>`. Ids and
    /// hex need no escaping; a hash that is not hex is sent as it is and
    /// refused by the server.
    pub fn to_query(&self) -> String {
        let owner = self.owner().map(|o| (o.kind(), o.id()));
        match owner {
            Some((kind, id)) => format!("{kind}={id}&sha256={}", self.sha256),
            None => format!("sha256={}", self.sha256),
        }
    }
}

/// What the server's answer to an upload means for the photo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UploadVerdict {
    /// Stored, or already held: sent.
    Sent,
    /// Refused for good, for this reason.
    Refused(String),
    /// Not now (no signal, the server busy, or the record's words not there
    /// yet): try again later, as it is.
    Later,
}

/// Reads an upload's HTTP status (and the server's message).
pub fn verdict(status: u16, message: &str) -> UploadVerdict {
    match status {
        200 | 201 => UploadVerdict::Sent,
        // The token, the record's words, timing and the server's health are
        // all things that change by themselves.
        401 | 404 | 408 | 429 => UploadVerdict::Later,
        400..=499 => UploadVerdict::Refused(message.to_owned()),
        _ => UploadVerdict::Later,
    }
}

/// The photos to send now, oldest first: kept, belonging to a record the
/// server already holds (its words go first), and not refused.
pub fn to_send<'a>(
    photos: impl IntoIterator<Item = &'a KeptPhoto>,
    record_sent: impl Fn(RecordKey) -> bool,
) -> Vec<&'a KeptPhoto> {
    let mut ready: Vec<&KeptPhoto> = photos
        .into_iter()
        .filter(|p| p.state == PhotoState::OnPhone)
        .filter(|p| p.of.is_some_and(|of| record_sent(of.key())))
        .collect();
    ready.sort_unstable_by_key(|p| (p.taken_at, p.id));
    ready
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn photo(id: u128, of: Option<PhotoOwner>, minute: u32) -> KeptPhoto {
        KeptPhoto {
            id: Uuid::from_u128(id),
            of,
            media_type: "image/jpeg".into(),
            sha256: "ab".repeat(32),
            bytes: 250_000,
            width: 1600,
            height: 1200,
            form: PhotoForm::Note,
            taken_at: Utc.with_ymd_and_hms(2026, 11, 26, 1, minute, 0).unwrap(),
            state: PhotoState::OnPhone,
        }
    }

    #[test]
    fn photos_go_after_their_record_s_words_oldest_first_and_never_twice() {
        let sent_note = PhotoOwner::Note(Uuid::from_u128(100));
        let waiting_note = PhotoOwner::Note(Uuid::from_u128(101));
        let mut photos = vec![
            photo(1, Some(sent_note), 9),
            photo(2, Some(waiting_note), 1),
            photo(3, None, 0),
            photo(4, Some(sent_note), 3),
            photo(5, Some(sent_note), 2),
        ];
        photos[4].state = PhotoState::Sent;
        let ready = to_send(&photos, |key| key == sent_note.key());
        let ids: Vec<u128> = ready.iter().map(|p| p.id.as_u128()).collect();
        assert_eq!(
            ids,
            [4, 1],
            "the waiting note's photo, the form's, and the sent one wait"
        );
        photos[0].state = PhotoState::Refused {
            reason: "no".into(),
        };
        assert_eq!(to_send(&photos, |key| key == sent_note.key()).len(), 1);
    }

    #[test]
    fn a_photo_stays_on_its_form_until_its_record_is_on_the_phone() {
        let note = PhotoOwner::Note(Uuid::from_u128(1));
        let mut picked = photo(1, None, 0);
        assert!(picked.on_form(PhotoForm::Note, |_| true));
        assert!(
            !picked.on_form(PhotoForm::Report, |_| true),
            "not on the other form"
        );
        picked.of = Some(note);
        assert!(
            !picked.on_form(PhotoForm::Note, |_| true),
            "saved with its note"
        );
        assert!(
            picked.on_form(PhotoForm::Note, |_| false),
            "its note never got saved"
        );
    }

    #[test]
    fn answers_sort_into_sent_refused_and_later() {
        assert_eq!(verdict(201, ""), UploadVerdict::Sent);
        assert_eq!(verdict(200, ""), UploadVerdict::Sent);
        assert_eq!(
            verdict(415, "not an image"),
            UploadVerdict::Refused("not an image".into())
        );
        assert_eq!(
            verdict(409, "id taken"),
            UploadVerdict::Refused("id taken".into())
        );
        for later in [401, 404, 429, 500, 503, 0] {
            assert_eq!(verdict(later, ""), UploadVerdict::Later, "{later}");
        }
    }

    #[test]
    fn a_kept_photo_round_trips_and_its_state_reads_plainly() {
        let mut kept = photo(1, Some(PhotoOwner::Report(Uuid::from_u128(9))), 0);
        kept.state = PhotoState::Refused {
            reason: "too big".into(),
        };
        let json = serde_json::to_value(&kept).unwrap();
        assert_eq!(json["state"]["is"], "refused");
        assert_eq!(json["state"]["reason"], "too big");
        assert_eq!(json["of"]["kind"], "report");
        assert_eq!(serde_json::from_value::<KeptPhoto>(json).unwrap(), kept);
    }

    #[test]
    fn an_upload_s_query_names_one_record_and_the_hash() {
        let id = Uuid::from_u128(7);
        let hash = "ab".repeat(32);
        let note = UploadQuery::new(PhotoOwner::Note(id), &hash);
        assert_eq!(note.to_query(), format!("note={id}&sha256={hash}"));
        assert_eq!(note.owner(), Some(PhotoOwner::Note(id)));
        let report = UploadQuery::new(PhotoOwner::Report(id), &hash);
        assert_eq!(report.to_query(), format!("report={id}&sha256={hash}"));
        // The server reads it as it is written (the same names, through
        // serde, as a query decoder hands them over).
        let read: UploadQuery = serde_json::from_value(serde_json::json!({
            "report": id, "sha256": hash
        }))
        .unwrap();
        assert_eq!(read, report);
        let both = UploadQuery {
            note: Some(id),
            ..report
        };
        assert_eq!(both.owner(), None, "one record, not two");
    }
}
