//! The words the screens show when the server or the browser lets a request
//! down. The end-to-end tests look for some of them, so they change only on
//! purpose.
#![cfg(target_arch = "wasm32")]

use beatbook::export::ExportError;
use beatbook::sync::ClientError;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn refused(message: Option<&str>) -> ClientError {
    ClientError::Refused {
        status: 400,
        message: message.map(str::to_owned),
    }
}

#[wasm_bindgen_test]
fn a_failed_request_says_what_happened() {
    assert_eq!(
        ClientError::Unreachable.to_string(),
        "no answer from the server (no connection, or it is down)"
    );
    assert_eq!(refused(Some("too long")).to_string(), "too long");
    assert_eq!(refused(None).to_string(), "the server answered 400");
    assert_eq!(
        ClientError::Unreadable("expected value".into()).to_string(),
        "the server's answer could not be read: expected value"
    );
    assert!(ClientError::TokenRefused("revoked".into())
        .to_string()
        .starts_with("The server refused this phone's token: revoked. The copy of the inbox"));
}

#[wasm_bindgen_test]
fn a_failed_pairing_is_a_sentence_for_settings() {
    let not_paired = |why| ClientError::NotPaired(Box::new(why)).to_string();
    assert_eq!(
        not_paired(refused(Some("this pairing code is not valid"))),
        "Not paired: this pairing code is not valid."
    );
    assert_eq!(
        not_paired(ClientError::Unreachable),
        "Could not reach the server: no answer from the server (no connection, or it is down). Check the address and the connection, then try again."
    );
    assert_eq!(
        not_paired(ClientError::Unreadable("eof".into())),
        "The server's answer could not be read: eof"
    );
}

#[wasm_bindgen_test]
fn a_failed_export_says_what_to_expect() {
    assert_eq!(
        ExportError::CannotShare.to_string(),
        "Sharing is not available here."
    );
    assert_eq!(
        ExportError::NotMade("quota".into()).to_string(),
        "The export could not be made: quota"
    );
}
