//! This phone's pairing with a server: the device token, kept on the phone,
//! and what leaves with it.

use beatbook_core::protocol::{paths, PairRequest, PairResponse};
use beatbook_core::schema::{DEVICE_KEY, INBOX_CACHE_KEY};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::client::{api_url, error_text, post_json};
use crate::cache;

/// This phone's pairing with a server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pairing {
    /// The server's origin, or empty for the origin the app came from.
    pub server: String,
    pub token: String,
    pub device_name: String,
    #[serde(default, with = "beatbook_core::rfc3339::option")]
    pub last_success: Option<DateTime<Utc>>,
}

impl Pairing {
    pub(super) fn load() -> Option<Pairing> {
        cache::read(DEVICE_KEY)
    }

    /// Unpairs this phone: the token goes, and with it what only a paired
    /// phone may keep.
    pub(super) fn forget() {
        cache::remove(DEVICE_KEY);
        forget_private_data();
    }

    pub(super) fn store(&self) {
        let _ = cache::write(DEVICE_KEY, self);
    }

    pub(super) fn url(&self, path: &str) -> String {
        api_url(&self.server, path)
    }
}

/// Removes what only a paired phone may keep: the copy of the inbox, with
/// residents' contact details and private notes. Records made on this phone
/// stay: they are the councillor's own and still wait to be sent.
pub fn forget_private_data() {
    cache::remove(INBOX_CACHE_KEY);
}

/// Said when the server refuses the token, after the private copies are gone.
pub(super) fn token_refused(message: &str) -> String {
    format!("The server refused this phone's token: {message}. The copy of the inbox kept on this phone has been removed. Pair again in Settings; your own notes stay here and will be sent.")
}

/// Trades a pairing code for a device token.
pub async fn pair(server: &str, code: &str) -> Result<Pairing, String> {
    let body = serde_json::to_string(&PairRequest {
        code: code.trim().to_owned(),
    })
    .map_err(|e| e.to_string())?;
    let answer = post_json(&api_url(server, &paths::to(paths::PAIR, "")), None, body)
        .await
        .map_err(|e| format!("Could not reach the server: {e}. Check the address and the connection, then try again."))?;
    if answer.status != 200 {
        return Err(format!("Not paired: {}.", error_text(&answer)));
    }
    let paired: PairResponse = serde_json::from_str(&answer.text)
        .map_err(|e| format!("The server's answer could not be read: {e}"))?;
    let pairing = Pairing {
        server: server.trim().trim_end_matches('/').to_owned(),
        token: paired.token,
        device_name: paired.device_name,
        last_success: None,
    };
    pairing.store();
    Ok(pairing)
}
