//! The domain error as HTTP: RealWorld's `{"errors": {"field": ["message"]}}`. The REST API and
//! every HTTP-level refusal (unknown route, time-out, bad media type) answer in this one shape.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::error::{Error, FieldErrors, INVALID_ACCESS_TOKEN};

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

/// Every error's HTTP status, in one exhaustive match: REST, the OAuth pages and endpoints and
/// GraphQL's request failures all answer with it, and a new variant does not compile until it
/// has one.
pub fn status_of(err: &Error) -> StatusCode {
    match err {
        Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Unauthorized(_) | Error::InvalidAccessToken => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) | Error::InsufficientScope(_) | Error::Csrf(_) => StatusCode::FORBIDDEN,
        Error::OAuth(..) => StatusCode::BAD_REQUEST,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = status_of(&self);
        let header = header_of(&self);
        let mut response = match self {
            Error::Validation(errors) => (status, Json(ErrorBody { errors })).into_response(),
            Error::Unauthorized(message) => error_response(status, message),
            Error::InvalidAccessToken => error_response(status, INVALID_ACCESS_TOKEN),
            Error::Forbidden(message) | Error::Conflict(message) | Error::Unavailable(message) => {
                error_response(status, message)
            }
            Error::InsufficientScope(scope) => field_error(
                status,
                "scope",
                &format!("insufficient_scope: this token was not granted the `{scope}` scope"),
            ),
            Error::OAuth(code, description) => field_error(status, code.as_str(), &description),
            Error::Csrf(message) => field_error(status, "csrf", message),
            Error::NotFound(what) => error_response(status, &format!("{what} not found")),
            Error::RateLimited(decision) => super::rate_limit::refusal(&decision),
            Error::Internal(err) => {
                tracing::error!(error = %format!("{err:#}"), "internal error");
                error_response(status, "internal server error")
            }
        };
        if let Some((name, value)) = header {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// The header an error's status calls for: the challenge of a 401 or of a missing scope, when
/// to retry a 503 (a 429's headers come with its body).
pub fn header_of(err: &Error) -> Option<(HeaderName, HeaderValue)> {
    match err {
        Error::Unauthorized(_) => {
            Some((header::WWW_AUTHENTICATE, HeaderValue::from_static("Token")))
        }
        Error::InvalidAccessToken => Some((
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        )),
        Error::InsufficientScope(scope) => Some((
            header::WWW_AUTHENTICATE,
            insufficient_scope_challenge(scope),
        )),
        Error::Unavailable(_) => Some((header::RETRY_AFTER, HeaderValue::from_static("1"))),
        Error::Validation(_)
        | Error::Forbidden(_)
        | Error::Csrf(_)
        | Error::OAuth(..)
        | Error::NotFound(_)
        | Error::Conflict(_)
        | Error::RateLimited(_)
        | Error::Internal(_) => None,
    }
}

fn field_error(status: StatusCode, field: &str, message: &str) -> Response {
    (status, Json(json!({ "errors": { field: [message] } }))).into_response()
}

/// `WWW-Authenticate` of a token that lacks `scope` (RFC 6750 §3).
pub fn insufficient_scope_challenge(scope: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "Bearer error=\"insufficient_scope\", scope=\"{scope}\""
    ))
    .expect("scope names are plain words")
}
