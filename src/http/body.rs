//! Reading a request body for a JSON API: the media type must be JSON (415), the size is bounded
//! (413), and so is the time the client may take to send it (408), so that a slow sender cannot
//! hold a connection and a handler for the whole request time-out.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};

/// Why a body could not be read; each API renders it in its own error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    NotJson,
    NotForm,
    TooLarge,
    TooSlow,
    Unreadable,
}

impl BodyError {
    pub fn status(self) -> StatusCode {
        match self {
            BodyError::NotJson | BodyError::NotForm => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BodyError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::TooSlow => StatusCode::REQUEST_TIMEOUT,
            BodyError::Unreadable => StatusCode::BAD_REQUEST,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            BodyError::NotJson => "the body must be JSON: send `Content-Type: application/json`",
            BodyError::NotForm => {
                "the body must be a form: send `Content-Type: application/x-www-form-urlencoded`"
            }
            BodyError::TooLarge => "request body is too large",
            BodyError::TooSlow => "the request body was not sent in time",
            BodyError::Unreadable => "could not read the request body",
        }
    }
}

/// `application/json`, or any `application/*+json`, with or without parameters.
pub fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let media_type = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    media_type == "application/json"
        || (media_type.starts_with("application/") && media_type.ends_with("+json"))
}

/// Whether the request's media type is `expected` (parameters aside).
fn media_type_is(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case(expected))
}

/// The whole body of a JSON request, read within `timeout` and the configured size limit.
pub async fn read_json(request: Request, timeout: Duration) -> Result<Bytes, BodyError> {
    if !is_json(request.headers()) {
        return Err(BodyError::NotJson);
    }
    read_within(request, timeout).await
}

/// The whole body of an HTML form or OAuth2 request (`application/x-www-form-urlencoded`),
/// within the same limits.
pub async fn read_form(request: Request, timeout: Duration) -> Result<Bytes, BodyError> {
    if !media_type_is(request.headers(), "application/x-www-form-urlencoded") {
        return Err(BodyError::NotForm);
    }
    read_within(request, timeout).await
}

async fn read_within(request: Request, timeout: Duration) -> Result<Bytes, BodyError> {
    match tokio::time::timeout(timeout, Bytes::from_request(request, &())).await {
        Err(_) => Err(BodyError::TooSlow),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(rejection)) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(BodyError::TooLarge)
        }
        Ok(Err(_)) => Err(BodyError::Unreadable),
    }
}

/// Whether the text is a JSON object at the top level (not an array, string or number).
pub fn starts_as_object(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}
