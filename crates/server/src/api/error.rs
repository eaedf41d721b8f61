//! The API's one error type: every failure is a status and a JSON body
//! `{"error": "…"}` that says what to do.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use beatbook_core::protocol::proof::Challenge;
use beatbook_core::protocol::ErrorBody;

use crate::store::StoreError;

/// How long a client is asked to wait when the database could not be
/// reached (a database restarting, a pool busy): long enough not to add to
/// the load, short enough that a phone's records are soon in.
pub const STORE_RETRY_SECONDS: u64 = 5;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
    challenge: Option<Challenge>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
            challenge: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 403: the device is paired, but its person's role does not allow it.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    /// 429, with how many seconds to wait before trying again.
    pub fn too_many(seconds: u64) -> Self {
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many requests; wait {seconds} s"),
            )
        }
    }

    /// 503 for a while: the server is busy with work of this kind, and says
    /// when to try again.
    pub fn busy(seconds: u64, message: impl Into<String>) -> Self {
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
        }
    }

    /// What the answer says.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How many seconds the answer asks the client to wait, if it does.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// The same answer with a puzzle whose answer lets the request in.
    pub fn with_challenge(self, challenge: Challenge) -> Self {
        ApiError {
            challenge: Some(challenge),
            ..self
        }
    }

    /// The same answer with other words.
    pub fn saying(self, message: impl Into<String>) -> Self {
        ApiError {
            message: message.into(),
            ..self
        }
    }

    /// The store could not do its part: logged in full, answered 503 so the
    /// phone keeps its records and tries again, after
    /// [`STORE_RETRY_SECONDS`].
    pub fn unavailable(what: &str) -> Self {
        ApiError::busy(
            STORE_RETRY_SECONDS,
            format!("the server could not {what}; try again shortly"),
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if let StoreError::OverQuota { .. } = e {
            tracing::warn!("a device was refused: {e}");
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "{e}; what it sends now stays on the phone. The server's host can make room"
                ),
            );
        }
        tracing::error!("store: {}", e.chain());
        ApiError::unavailable("reach its database")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ErrorBody {
                error: self.message,
                challenge: self.challenge,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
