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
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"));
                response
            }
            Error::Forbidden(message) => error_response(StatusCode::FORBIDDEN, message),
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
