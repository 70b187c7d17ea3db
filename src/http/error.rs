//! The domain error as HTTP: RealWorld's `{"errors": {"field": ["message"]}}`. The REST API and
//! every HTTP-level refusal (unknown route, time-out, bad media type) answer in this one shape.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::error::{Error, FieldErrors};

/// Every error: the failing fields (or `body` for the request as a whole), each with its
/// messages.
#[derive(Serialize, ToSchema)]
#[schema(as = GenericErrorModel, example = json!({"errors": {"email": ["has already been taken"]}}))]
pub struct ErrorBody {
    #[schema(value_type = std::collections::HashMap<String, Vec<String>>)]
    pub errors: FieldErrors,
}

/// A JSON error body under the key `body`, for errors that belong to no single field.
pub fn error_response(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "errors": { "body": [message] } }))).into_response()
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Validation(errors) => {
                (StatusCode::UNPROCESSABLE_ENTITY, Json(ErrorBody { errors })).into_response()
            }
            Error::Unauthorized(message) => {
                let mut response = error_response(StatusCode::UNAUTHORIZED, message);
                let challenge = if message == crate::domain::oauth::access::INVALID {
                    "Bearer error=\"invalid_token\""
                } else {
                    "Token"
                };
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(challenge),
                );
                response
            }
            Error::Forbidden(message) => error_response(StatusCode::FORBIDDEN, message),
            Error::InsufficientScope(scope) => {
                let mut response = (
                    StatusCode::FORBIDDEN,
                    Json(json!({ "errors": { "scope": [format!(
                        "insufficient_scope: this token was not granted the `{scope}` scope"
                    )] } })),
                )
                    .into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    insufficient_scope_challenge(scope),
                );
                response
            }
            Error::OAuth(code, description) => (
                StatusCode::BAD_REQUEST,
                Json(json!({ "errors": { code.as_str(): [description] } })),
            )
                .into_response(),
            Error::Csrf(message) => (
                StatusCode::FORBIDDEN,
                Json(json!({ "errors": { "csrf": [message] } })),
            )
                .into_response(),
            Error::NotFound(what) => {
                error_response(StatusCode::NOT_FOUND, &format!("{what} not found"))
            }
            Error::Conflict(message) => error_response(StatusCode::CONFLICT, message),
            Error::RateLimited(decision) => super::rate_limit::refusal(&decision),
            Error::Unavailable(message) => {
                let mut response = error_response(StatusCode::SERVICE_UNAVAILABLE, message);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                response
            }
            Error::Internal(err) => {
                tracing::error!(error = %format!("{err:#}"), "internal error");
                error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
            }
        }
    }
}

/// `WWW-Authenticate` of a token that lacks `scope` (RFC 6750 §3).
pub fn insufficient_scope_challenge(scope: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "Bearer error=\"insufficient_scope\", scope=\"{scope}\""
    ))
    .expect("scope names are plain words")
}
