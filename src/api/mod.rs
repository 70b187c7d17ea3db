//! The public APIs. Each maps the domain's one error type exactly once.

pub mod graphql;
pub mod oauth;
pub mod rest;

/// Both APIs (and webhook events) render every timestamp this way.
pub use crate::db::timestamp;
