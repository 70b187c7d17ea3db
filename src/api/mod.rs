//! The public APIs. Each maps the domain's one error type exactly once.

pub mod rest;
