//! The domain error as GraphQL errors with `extensions.code`, and codes for the errors
//! async-graphql raises itself (syntax, validation, limits, argument coercion).

use async_graphql::{ErrorExtensions, ServerError, Value};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response as HttpResponse};
use serde_json::json;

use crate::config::GraphqlSettings;
use crate::error::Error;
use crate::http::rate_limit;

const INTERNAL_MESSAGE: &str = "internal server error";

impl ErrorExtensions for Error {
    fn extend(&self) -> async_graphql::Error {
        let (message, code) = match self {
            Error::Validation(fields) => {
                let summary = fields
                    .iter()
                    .map(|(field, messages)| format!("{field} {}", messages.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; ");
                (format!("invalid input: {summary}"), "BAD_USER_INPUT")
            }
            Error::Unauthorized(reason) => ((*reason).to_owned(), "UNAUTHENTICATED"),
            Error::Forbidden(reason) => ((*reason).to_owned(), "FORBIDDEN"),
            Error::InsufficientScope(scope) => (
                format!("this token was not granted the `{scope}` scope"),
                "INSUFFICIENT_SCOPE",
            ),
            Error::OAuth(code, description) => {
                (format!("{}: {description}", code.as_str()), "BAD_REQUEST")
            }
            Error::Csrf(reason) => ((*reason).to_owned(), "CSRF_FAILED"),
            Error::NotFound(what) => (format!("{what} not found"), "NOT_FOUND"),
            Error::Conflict(reason) => ((*reason).to_owned(), "CONFLICT"),
            Error::Unavailable(reason) => ((*reason).to_owned(), "SERVICE_UNAVAILABLE"),
            Error::RateLimited(decision) => (
                format!(
                    "too many {} requests: try again later",
                    decision.class.name()
                ),
                "RATE_LIMITED",
            ),
            Error::Internal(err) => {
                tracing::error!(error = %format!("{err:#}"), "internal error");
                (INTERNAL_MESSAGE.to_owned(), "INTERNAL_SERVER_ERROR")
            }
        };
        async_graphql::Error::new(message).extend_with(|_, extensions| {
            extensions.set("code", code);
            if let Error::RateLimited(decision) = self {
                extensions.set("retryAfterSeconds", decision.retry_after_seconds());
            }
            if let Error::Validation(fields) = self {
                let fields: async_graphql::indexmap::IndexMap<_, _> = fields
                    .iter()
                    .map(|(field, messages)| {
                        let messages = messages.iter().cloned().map(Value::from).collect();
                        (async_graphql::Name::new(field), Value::List(messages))
                    })
                    .collect();
                extensions.set("fields", Value::Object(fields));
            }
        })
    }
}

/// A failure before or after execution (the viewer could not be checked, the answer could not
/// be rendered): 403 for a failed CSRF check, 503 when the database is unreachable, else 500.
pub(super) fn request_failure(err: Error) -> HttpResponse {
    match err {
        Error::Csrf(reason) => request_error(StatusCode::FORBIDDEN, "CSRF_FAILED", reason),
        Error::InsufficientScope(scope) => {
            let mut response = request_error(
                StatusCode::FORBIDDEN,
                "INSUFFICIENT_SCOPE",
                &format!("this token was not granted the `{scope}` scope"),
            );
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                crate::http::error::insufficient_scope_challenge(scope),
            );
            response
        }
        Error::Forbidden(reason) => request_error(StatusCode::FORBIDDEN, "FORBIDDEN", reason),
        Error::Unavailable(reason) => request_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            reason,
        ),
        Error::RateLimited(decision) => {
            let mut response = request_error(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                &format!(
                    "too many {} requests: try again later",
                    decision.class.name()
                ),
            );
            rate_limit::add_refusal_headers(response.headers_mut(), &decision);
            response
        }
        err => {
            tracing::error!(error = %format!("{err:#}"), "internal error");
            request_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                INTERNAL_MESSAGE,
            )
        }
    }
}

/// The refusal of an answer over `QUIRE_GRAPHQL_MAX_RESPONSE_BYTES`.
pub(super) fn too_large(limits: &GraphqlSettings) -> ServerError {
    with_code(
        ServerError::new(too_large_message(limits.max_response_bytes), None),
        "RESPONSE_TOO_LARGE",
    )
}

pub(super) fn too_large_message(limit: usize) -> String {
    format!(
        "the answer would be larger than {limit} bytes (QUIRE_GRAPHQL_MAX_RESPONSE_BYTES): ask \
         for smaller pages, fewer aliases or leave out bodies"
    )
}

/// An answer to a request that did not get as far as execution, in the GraphQL error shape so
/// that clients read one format.
pub(super) fn request_error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, axum::Json(body)).into_response()
}

pub(super) fn with_code(mut error: ServerError, code: &str) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
    error
}

/// The refusal of a query whose cost is over the limit.
pub(super) fn too_complex(limits: &GraphqlSettings) -> ServerError {
    let message = format!(
        "the query costs more than {} (QUIRE_GRAPHQL_MAX_COMPLEXITY): every field costs 1 and a \
         list multiplies its fields by its `first`; ask for fewer fields, fewer aliases or \
         smaller pages",
        limits.max_complexity
    );
    with_code(ServerError::new(message, None), "QUERY_TOO_COMPLEX")
}

/// Gives every error async-graphql raised on its own a code, as resolvers' errors have.
/// Syntax errors never get here (the handler parses first). Errors without a path were found
/// by validation: `QUERY_TOO_DEEP` and `QUERY_TOO_COMPLEX` (with a message naming the limit),
/// otherwise `GRAPHQL_VALIDATION_FAILED` (unknown fields, wrong argument types). Errors with a
/// path were raised while executing: an argument value that does not fit its type,
/// `BAD_USER_INPUT`. Done here rather than in an async-graphql extension, which would wrap
/// the resolution of every single field.
pub(super) fn add_codes(errors: Vec<ServerError>, limits: &GraphqlSettings) -> Vec<ServerError> {
    errors
        .into_iter()
        .map(|mut error| {
            if !error.path.is_empty() {
                return with_code(error, "BAD_USER_INPUT");
            }
            match error.message.as_str() {
                "Query is nested too deep." => {
                    error.message = format!(
                        "the query is nested deeper than {} levels (QUIRE_GRAPHQL_MAX_DEPTH)",
                        limits.max_depth
                    );
                    with_code(error, "QUERY_TOO_DEEP")
                }
                "Query is too complex." => too_complex(limits),
                _ => with_code(error, "GRAPHQL_VALIDATION_FAILED"),
            }
        })
        .collect()
}
