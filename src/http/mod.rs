//! HTTP middleware: request ids, the request log, JSON fallbacks for unknown routes, methods
//! and panics.

use std::time::Instant;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::rest::error::error_response;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// One JSON log line per request, carrying the request id (never headers or bodies, which may
/// hold tokens and passwords).
pub async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(target: "quire::http", %method, %path, status, latency_ms, request_id, "request");
    response
}

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
