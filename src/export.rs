//! Hands exported files to the person: a download (text made on the phone,
//! or a ZIP the server made), or the phone's share sheet where the browser
//! has the Web Share API. Text made on the phone works offline.

use js_sys::{Array, Function, Object, Reflect};
use thiserror::Error;
use wasm_bindgen::{JsCast, JsValue};

pub use beatbook_core::protocol::{CSV_MIME, GEOJSON_MIME};

/// Why a file did not reach the person, in words for them.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ExportError {
    /// The browser refused to make the file or its link, in its own words.
    #[error("The export could not be made: {0}")]
    NotMade(String),
    #[error("No page to download from.")]
    NoPage,
    #[error("Sharing is not available here.")]
    CannotShare,
    #[error("The file could not be prepared.")]
    NotPrepared,
    /// The share sheet refused, in the browser's words.
    #[error("Sharing failed: {0}")]
    ShareFailed(String),
}

fn blob_parts(content: &str) -> Array {
    Array::of1(&JsValue::from_str(content))
}

fn not_made(e: JsValue) -> ExportError {
    ExportError::NotMade(format!("{e:?}"))
}

/// Saves `content` as a file through a temporary link.
pub fn download(filename: &str, mime: &str, content: &str) -> Result<(), ExportError> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&blob_parts(content), &options)
        .map_err(not_made)?;
    download_blob(filename, &blob)
}

/// How long a download's temporary address outlives the tap: the browser
/// has begun reading it by then, however large the file.
const REVOKE_AFTER: std::time::Duration = std::time::Duration::from_secs(40);

/// Saves `blob` (a ZIP from the server, or text made here) as `filename`
/// through a temporary link: an object URL clicked as `<a download>`, and
/// revoked a little later, so the browser lets go of the Blob.
pub fn download_blob(filename: &str, blob: &web_sys::Blob) -> Result<(), ExportError> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or(ExportError::NoPage)?;
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(not_made)?;
    let link: web_sys::HtmlAnchorElement = match document.create_element("a") {
        Ok(link) => link.unchecked_into(),
        Err(e) => {
            let _ = web_sys::Url::revoke_object_url(&url);
            return Err(not_made(e));
        }
    };
    link.set_href(&url);
    link.set_download(filename);
    link.click();
    leptos::prelude::set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        REVOKE_AFTER,
    );
    Ok(())
}

/// The address this app was opened from (`https://beat.example.org`), which
/// is its server's: links in a file made here are whole addresses.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

fn navigator_method(name: &str) -> Option<(JsValue, Function)> {
    let navigator: JsValue = web_sys::window()?.navigator().into();
    let method = Reflect::get(&navigator, &JsValue::from_str(name)).ok()?;
    method.dyn_into::<Function>().ok().map(|f| (navigator, f))
}

fn share_data(filename: &str, mime: &str, content: &str) -> Option<Object> {
    let options = web_sys::FilePropertyBag::new();
    options.set_type(mime);
    let file =
        web_sys::File::new_with_str_sequence_and_options(&blob_parts(content), filename, &options)
            .ok()?;
    let data = Object::new();
    Reflect::set(&data, &"files".into(), &Array::of1(&file)).ok()?;
    Reflect::set(&data, &"title".into(), &filename.into()).ok()?;
    Some(data)
}

/// Whether this browser can share a file of this kind.
pub fn can_share_files() -> bool {
    let Some((navigator, can_share)) = navigator_method("canShare") else {
        return false;
    };
    if navigator_method("share").is_none() {
        return false;
    }
    let Some(data) = share_data("notes.csv", CSV_MIME, "") else {
        return false;
    };
    can_share
        .call1(&navigator, &data)
        .map(|v| v.is_truthy())
        .unwrap_or(false)
}

/// Opens the share sheet with the file. The person may cancel; that is fine.
pub fn share(filename: &str, mime: &str, content: &str) -> Result<(), ExportError> {
    let (navigator, share) = navigator_method("share").ok_or(ExportError::CannotShare)?;
    let data = share_data(filename, mime, content).ok_or(ExportError::NotPrepared)?;
    share
        .call1(&navigator, &data)
        .map(|_| ())
        .map_err(|e| ExportError::ShareFailed(format!("{e:?}")))
}
