//! The domain error as GraphQL errors with `extensions.code`, and codes for the errors
//! async-graphql raises itself (syntax, validation, limits, argument coercion).

use async_graphql::{ErrorExtensions, ServerError, Value};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response as HttpResponse};
use serde_json::json;

use crate::config::GraphqlSettings;
use crate::error::{Error, INVALID_ACCESS_TOKEN};
use crate::http::error::{header_of, status_of};
use crate::http::rate_limit;

const INTERNAL_MESSAGE: &str = "internal server error";

/// The `extensions.code` of every error, in one exhaustive match.
fn code_of(err: &Error) -> &'static str {
    match err {
        Error::Validation(_) => "BAD_USER_INPUT",
        Error::Unauthorized(_) | Error::InvalidAccessToken => "UNAUTHENTICATED",
        Error::Forbidden(_) => "FORBIDDEN",
        Error::InsufficientScope(_) => "INSUFFICIENT_SCOPE",
        Error::OAuth(..) => "BAD_REQUEST",
        Error::Csrf(_) => "CSRF_FAILED",
        Error::NotFound(_) => "NOT_FOUND",
        Error::Conflict(_) => "CONFLICT",
        Error::Unavailable(_) => "SERVICE_UNAVAILABLE",
        Error::RateLimited(_) => "RATE_LIMITED",
        Error::Internal(_) => "INTERNAL_SERVER_ERROR",
    }
}

/// What a client is told of an error; an internal one is logged and told nothing.
fn message_of(err: &Error) -> String {
    match err {
        Error::Validation(fields) => {
            let summary = fields
                .iter()
                .map(|(field, messages)| format!("{field} {}", messages.join(", ")))
                .collect::<Vec<_>>()
                .join("; ");
            format!("invalid input: {summary}")
        }
        Error::Unauthorized(reason)
        | Error::Forbidden(reason)
        | Error::Csrf(reason)
        | Error::Conflict(reason)
        | Error::Unavailable(reason) => (*reason).to_owned(),
        Error::InvalidAccessToken => INVALID_ACCESS_TOKEN.to_owned(),
        Error::InsufficientScope(scope) => {
            format!("this token was not granted the `{scope}` scope")
        }
        Error::OAuth(code, description) => format!("{}: {description}", code.as_str()),
        Error::NotFound(what) => format!("{what} not found"),
        Error::RateLimited(decision) => format!(
            "too many {} requests: try again later",
            decision.class.name()
        ),
        Error::Internal(err) => {
            tracing::error!(error = %format!("{err:#}"), "internal error");
            INTERNAL_MESSAGE.to_owned()
        }
    }
}

impl ErrorExtensions for Error {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(message_of(self)).extend_with(|_, extensions| {
            extensions.set("code", code_of(self));
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
/// be rendered), with the status REST would give it (403 for a failed CSRF check, 503 when the
/// database is unreachable, 500 for the unexpected).
pub(super) fn request_failure(err: Error) -> HttpResponse {
    let mut response = request_error(status_of(&err), code_of(&err), &message_of(&err));
    if let Some((name, value)) = header_of(&err) {
        response.headers_mut().insert(name, value);
    }
    if let Error::RateLimited(decision) = &err {
        rate_limit::add_refusal_headers(response.headers_mut(), decision);
    }
    response
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
