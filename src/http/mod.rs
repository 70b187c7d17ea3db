//! HTTP plumbing shared by both APIs: the connection loop, extractors, the viewer, body
//! reading, error bodies, caching, time limits, request ids and the request log (`observe`), and JSON
//! fallbacks for unknown routes, methods and panics. Depends on the domain, never on `api`.

pub mod access;
pub mod answer_cache;
pub mod auth;
pub mod body;
pub mod caching;
pub mod compress;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod observe;
pub mod rate_limit;
pub mod server;
pub mod time_limit;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use self::error::error_response;
use crate::cache::Cache;

pub async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "no such route")
}

pub async fn method_not_allowed() -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this route",
    )
}

pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response()
}

/// This instance's cache counters summed over every kind of entry, for the benchmark's hit
/// ratio (enabled by `QUIRE_BENCH_ENDPOINTS`).
pub async fn bench_cache(State(cache): State<Cache>) -> Response {
    let (mut hits, mut misses, mut errors) = (0, 0, 0);
    for kind in 0..cache.layout().kinds.len() {
        let stats = cache.stats(kind);
        (hits, misses, errors) = (
            hits + stats.hits,
            misses + stats.misses,
            errors + stats.errors,
        );
    }
    axum::Json(serde_json::json!({"hits": hits, "misses": misses, "errors": errors}))
        .into_response()
}

/// The largest body `/bench/ceiling` serves.
const CEILING_MAX_BYTES: usize = 1 << 20;

/// A static JSON body of exactly `?bytes=N` bytes through the full middleware stack: the
/// benchmark's measure of what the machine can serve at all (enabled by `QUIRE_BENCH_ENDPOINTS`).
pub async fn bench_ceiling(params: extract::QueryParams) -> Response {
    const PREFIX: &[u8] = br#"{"pad":""#;
    const SUFFIX: &[u8] = br#""}"#;
    let bytes = params
        .get("bytes")
        .and_then(|b| b.parse::<usize>().ok())
        .unwrap_or(1024);
    let bytes = bytes.clamp(PREFIX.len() + SUFFIX.len(), CEILING_MAX_BYTES);
    let mut body = Vec::with_capacity(bytes);
    body.extend_from_slice(PREFIX);
    body.resize(bytes - SUFFIX.len(), b'x');
    body.extend_from_slice(SUFFIX);
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
