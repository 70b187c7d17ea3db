//! The REST API's refusals as OpenAPI response sets, written once: an operation lists the
//! ones it can answer with beside its success (`responses((status = 200, ..), Invalid,
//! Unauthenticated, OtherRefusals)`). Every body is the one error shape.

use utoipa::IntoResponses;

use crate::http::error::ErrorBody;

/// 401.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "Missing, malformed or expired credentials"
)]
pub struct Unauthenticated(#[allow(dead_code)] ErrorBody);

/// 403.
#[derive(IntoResponses)]
#[response(status = 403, description = "Not the caller's to change")]
pub struct NotYours(#[allow(dead_code)] ErrorBody);

/// 404.
#[derive(IntoResponses)]
#[response(status = 404, description = "No such resource")]
pub struct Missing(#[allow(dead_code)] ErrorBody);

/// 422.
#[derive(IntoResponses)]
#[response(
    status = 422,
    description = "Invalid input: each failing field with its messages"
)]
pub struct Invalid(#[allow(dead_code)] ErrorBody);

/// Every other status an operation can answer with.
#[derive(IntoResponses)]
#[response(
    status = "default",
    description = "Any other error (413, 415, 429, 503...), in the same shape"
)]
pub struct OtherRefusals(#[allow(dead_code)] ErrorBody);
