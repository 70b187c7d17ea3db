//! The public APIs. Each maps the domain's one error type exactly once.

pub mod graphql;
pub mod rest;

use axum::http::{HeaderMap, header};
use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::Error;

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-24T20:27:12.123Z`: both APIs render every
/// timestamp this way.
pub fn timestamp(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The token of an `Authorization: Token <jwt>` (or `Bearer <jwt>`) header, if one is sent.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, Error> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| Error::Unauthorized("malformed authorization header"))?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(Error::Unauthorized(
        "authorization header must be `Token <jwt>`",
    ))?;
    if scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer") {
        Ok(Some(token.trim()))
    } else {
        Err(Error::Unauthorized(
            "authorization header must be `Token <jwt>`",
        ))
    }
}
