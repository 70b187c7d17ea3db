//! The public APIs. Each maps the domain's one error type exactly once.

pub mod graphql;
pub mod rest;

use chrono::{DateTime, SecondsFormat, Utc};

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-24T20:27:12.123Z`: both APIs render every
/// timestamp this way.
pub fn timestamp(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}
