//! This phone's pairing with a server: the device token, kept on the phone,
//! and what leaves with it.

use beatbook_core::protocol::{paths, Member, PairRequest, PairResponse};
use beatbook_core::team::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::client::{api_url, encode, post_json, read, refused, ClientError};
use crate::store::cache;
use crate::store::journal::{self, PAIRING_COPY};
use crate::store::JournalError;

/// What the journal holds for a phone that was unpaired.
const UNPAIRED: &str = "unpaired";

/// What start-up made of the journal's copy of the pairing.
pub(super) enum Reconciled {
    /// localStorage was right.
    Kept,
    /// localStorage had lost this pairing, or held an older one.
    Restored(Pairing),
    /// The phone had been unpaired; localStorage still held the token.
    Removed,
}

/// This phone's pairing with a server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pairing {
    /// The server's origin, or empty for the origin the app came from (every
    /// pairing made now: the page's policy lets the app reach no other
    /// origin; a value is kept as earlier releases stored it).
    pub server: String,
    pub token: String,
    pub device_name: String,
    #[serde(default, with = "beatbook_core::rfc3339::option")]
    pub last_success: Option<DateTime<Utc>>,
    /// Whose phone it is, as the server said when it paired (or, for a
    /// pairing made by an earlier release, when it was first asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<Member>,
}

impl Pairing {
    /// What this phone's person does. A pairing the server has not named
    /// yet was made before wards, when every phone was the councillor's.
    pub fn role(&self) -> Role {
        self.member.as_ref().map_or(Role::Councillor, |m| m.role)
    }

    pub(super) fn load() -> Option<Pairing> {
        cache::DEVICE.read()
    }

    /// Unpairs this phone: the token goes, and with it what only a paired
    /// phone may keep. The journal records the unpairing first, durably, so
    /// that a phone killed before localStorage reaches the disk is unpaired
    /// at its next start too; if it cannot, the phone stays paired. A browser
    /// with no journal at all keeps no copy to undo.
    pub(super) async fn forget() -> Result<(), JournalError> {
        match journal::put_draft(PAIRING_COPY, UNPAIRED).await {
            Ok(()) | Err(JournalError::Unavailable) => {}
            Err(e) => return Err(e),
        }
        drop_token();
        Ok(())
    }

    pub(super) fn store(&self) {
        let _ = cache::DEVICE.write(self);
    }

    /// Keeps the pairing in the crash-proof journal too: Chromium writes
    /// localStorage to disk only every few seconds.
    pub(super) async fn keep_crash_proof(&self) {
        if let Ok(json) = serde_json::to_string(self) {
            let _ = journal::put_draft(PAIRING_COPY, &json).await;
        }
    }

    /// At start, the journal's word is final: its pairing is written back
    /// to localStorage if that lost it (or holds an older one), and an
    /// unpairing it recorded removes a token localStorage still has. With no
    /// word from it (a pairing made by an earlier release), the pairing in
    /// localStorage is journalled now.
    pub(super) async fn reconcile(stored: Option<&Pairing>) -> Reconciled {
        let kept = match journal::get_draft(PAIRING_COPY).await {
            Ok(kept) => kept,
            Err(_) => return Reconciled::Kept,
        };
        match kept.as_deref() {
            None => {
                if let Some(pairing) = stored {
                    pairing.keep_crash_proof().await;
                }
                Reconciled::Kept
            }
            Some(UNPAIRED) if stored.is_some() => {
                drop_token();
                Reconciled::Removed
            }
            Some(UNPAIRED) => Reconciled::Kept,
            Some(json) => match serde_json::from_str::<Pairing>(json) {
                Ok(journalled) if stored.is_none_or(|s| s.token != journalled.token) => {
                    journalled.store();
                    Reconciled::Restored(journalled)
                }
                _ => Reconciled::Kept,
            },
        }
    }

    pub(super) fn url(&self, path: &str) -> String {
        api_url(&self.server, path)
    }
}

/// The token goes from localStorage, and what only a paired phone may keep
/// with it.
fn drop_token() {
    cache::DEVICE.remove();
    forget_private_data();
}

/// Removes what only a paired phone may keep: the copy of the inbox, with
/// residents' contact details and private notes, and the team's shared
/// shifts, and who in the team changed each concern. Records made on this
/// phone stay: they are its person's own and still wait to be sent.
pub fn forget_private_data() {
    cache::INBOX.remove();
    cache::TEAM_SHIFTS.remove();
    cache::TEAM_CONCERNS.remove();
}

/// Why pairing failed, as a sentence for the Settings screen.
pub(super) fn not_paired_text(why: &ClientError) -> String {
    match why {
        ClientError::Refused { .. } => format!("Not paired: {why}."),
        ClientError::Unreadable(e) => format!("The server's answer could not be read: {e}"),
        _ => format!(
            "Could not reach the server: {why}. Check the address and the connection, then try again."
        ),
    }
}

/// Trades a pairing code for a device token.
pub async fn pair(server: &str, code: &str) -> Result<Pairing, ClientError> {
    let not_paired = |why| ClientError::NotPaired(Box::new(why));
    let body = encode(&PairRequest {
        code: code.trim().to_owned(),
    })?;
    let answer = post_json(&api_url(server, &paths::to(paths::PAIR, "")), None, body)
        .await
        .map_err(not_paired)?;
    if answer.status != 200 {
        return Err(not_paired(refused(&answer)));
    }
    let paired: PairResponse = read(&answer).map_err(not_paired)?;
    let pairing = Pairing {
        server: server.trim().trim_end_matches('/').to_owned(),
        token: paired.token,
        device_name: paired.device_name,
        last_success: None,
        member: paired.member,
    };
    pairing.store();
    pairing.keep_crash_proof().await;
    Ok(pairing)
}
