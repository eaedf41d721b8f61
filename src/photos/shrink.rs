//! Shrinking a picked photo with the browser's own decoder and canvas, so
//! the wasm carries no image codec.

use beatbook_core::photo::SHRINK_TO_SIDE;
use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

/// JPEG quality: a number plate stays readable at 1,600 px.
const QUALITY: f64 = 0.82;

/// A photo file made small enough to keep and send: at most
/// [`SHRINK_TO_SIDE`] on its longest side, upright, as a JPEG (which drops
/// EXIF, and any location with it).
pub struct Shrunk {
    pub blob: Blob,
    pub width: u32,
    pub height: u32,
    pub sha256: String,
}

async fn awaited<T: JsCast>(promise: Promise) -> Result<T, String> {
    JsFuture::from(promise)
        .await
        .map_err(|e| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .or_else(|| e.as_string())
                .unwrap_or_else(|| "no reason given".into())
        })?
        .dyn_into()
        .map_err(|_| "the browser answered with something else".to_owned())
}

/// Shrinks a photo with the browser's decoder and canvas.
pub async fn shrink(file: &Blob) -> Result<Shrunk, String> {
    let window = web_sys::window().ok_or("no window")?;
    let options = web_sys::ImageBitmapOptions::new();
    options.set_image_orientation(web_sys::ImageOrientation::FromImage);
    let bitmap: web_sys::ImageBitmap = awaited(
        window
            .create_image_bitmap_with_blob_and_image_bitmap_options(file, &options)
            .map_err(|_| "this file is not a picture the browser can open")?,
    )
    .await
    .map_err(|_| "this file is not a picture the browser can open".to_owned())?;
    let longest = bitmap.width().max(bitmap.height()).max(1);
    let scale = (f64::from(SHRINK_TO_SIDE) / f64::from(longest)).min(1.0);
    let width = ((f64::from(bitmap.width()) * scale).round() as u32).max(1);
    let height = ((f64::from(bitmap.height()) * scale).round() as u32).max(1);
    let canvas: web_sys::HtmlCanvasElement = window
        .document()
        .ok_or("no document")?
        .create_element("canvas")
        .map_err(|_| "no canvas")?
        .unchecked_into();
    canvas.set_width(width);
    canvas.set_height(height);
    let context: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .ok_or("no canvas")?
        .unchecked_into();
    context
        .draw_image_with_image_bitmap_and_dw_and_dh(
            &bitmap,
            0.0,
            0.0,
            f64::from(width),
            f64::from(height),
        )
        .map_err(|_| "the browser could not draw the photo")?;
    bitmap.close();
    let encoded = Promise::new(&mut |resolve, reject| {
        let done = Closure::once_into_js(move |blob: JsValue| {
            if blob.is_null() {
                let _ = reject.call1(
                    &JsValue::NULL,
                    &"the browser could not encode the photo".into(),
                );
            } else {
                let _ = resolve.call1(&JsValue::NULL, &blob);
            }
        });
        let _ = canvas.to_blob_with_type_and_encoder_options(
            done.unchecked_ref(),
            "image/jpeg",
            &QUALITY.into(),
        );
    });
    let blob: Blob = awaited(encoded).await?;
    let bytes: js_sys::ArrayBuffer = awaited(blob.array_buffer()).await?;
    let sha256 = sha256_hex(&bytes)
        .await
        .map_err(|_| "the browser could not hash the photo")?;
    Ok(Shrunk {
        blob,
        width,
        height,
        sha256,
    })
}

/// The SHA-256 of `bytes`, in lower-case hex, by the browser's own crypto
/// (a photo's, a recording's: the server knows a resend by it).
pub async fn sha256_hex(bytes: &js_sys::ArrayBuffer) -> Result<String, JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let subtle = window.crypto()?.subtle();
    let digest: js_sys::ArrayBuffer = wasm_bindgen_futures::JsFuture::from(
        subtle.digest_with_str_and_buffer_source("SHA-256", bytes)?,
    )
    .await?
    .unchecked_into();
    Ok(Uint8Array::new(&digest)
        .to_vec()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
