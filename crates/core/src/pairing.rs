//! Pairing a phone with the server: how long a pairing code lasts, and how
//! codes and device tokens are kept: only their hashes, so a copy of the
//! database pairs nothing. Every store keeps them the same way.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::code;

/// How long a pairing code can be traded for a device token.
pub const CODE_MINUTES: i64 = 15;

/// When a pairing code made at `made` stops working.
pub fn code_expires_at(made: DateTime<Utc>) -> DateTime<Utc> {
    made + Duration::minutes(CODE_MINUTES)
}

/// Whether a code that expires at `expires_at` may still be traded at `now`.
pub fn code_usable(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now <= expires_at
}

/// What a store keeps of a secret it must recognise but never show again
/// (a device token).
pub fn secret_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// What a store keeps of a pairing code, and looks a typed one up by: codes
/// are compared without case, spaces or dashes; anything that cannot be a
/// code is hashed as typed (and so matches nothing).
pub fn code_hash(typed: &str) -> [u8; 32] {
    match code::normalise(typed) {
        Some(code) => secret_hash(&code),
        None => secret_hash(typed),
    }
}

/// The link that opens the app's pairing screen at `site` (the address
/// phones open Beatbook at) with `code` filled in. The code rides in the
/// fragment, which the browser never sends: it reaches no server's log.
pub fn link(site: &str, code: &str) -> String {
    format!("{}/pair#code={code}", site.trim().trim_end_matches('/'))
}

/// The pairing code a link made by [`link`] carries, from the page's
/// fragment (`#code=…`), as the pairing screen fills it in.
pub fn code_in_fragment(fragment: &str) -> Option<String> {
    fragment
        .trim_start_matches('#')
        .split('&')
        .find_map(|part| part.strip_prefix("code="))
        .and_then(code::normalise)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_pairing_link_carries_its_code_to_the_pairing_screen() {
        let link = link("https://beatbook.example.org/ ", "K7QF2-M3XDA");
        assert_eq!(link, "https://beatbook.example.org/pair#code=K7QF2-M3XDA");
        let fragment = link.split_once('#').unwrap().1;
        assert_eq!(code_in_fragment(fragment).as_deref(), Some("K7QF2-M3XDA"));
        assert_eq!(
            code_in_fragment("#code=k7qf2m3xda").as_deref(),
            Some("K7QF2-M3XDA")
        );
        assert_eq!(
            code_in_fragment("#x=1&code=K7QF2-M3XDA").as_deref(),
            Some("K7QF2-M3XDA")
        );
        assert_eq!(code_in_fragment(""), None);
        assert_eq!(code_in_fragment("#code=not-a-code"), None);
    }

    #[test]
    fn a_code_works_for_fifteen_minutes() {
        let made = Utc.with_ymd_and_hms(2026, 12, 5, 22, 0, 0).unwrap();
        let expires = code_expires_at(made);
        assert!(code_usable(expires, made));
        assert!(code_usable(expires, made + Duration::minutes(15)));
        assert!(!code_usable(
            expires,
            made + Duration::minutes(15) + Duration::milliseconds(1)
        ));
    }

    #[test]
    fn a_code_is_found_however_it_is_typed_and_a_token_only_as_it_is() {
        let code = code::generate({
            let mut n = 0u8;
            move || {
                n = n.wrapping_add(37);
                n
            }
        });
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(code_hash(&typed), code_hash(&code));
        assert_ne!(code_hash("not a code"), code_hash(&code));
        assert_ne!(secret_hash("Token"), secret_hash("token"));
    }
}
