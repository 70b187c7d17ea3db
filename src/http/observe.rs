//! The outermost layer: every request gets an id (the caller's `x-request-id` when it is a
//! reasonable one, else a fresh UUID), the response carries it back, and one JSON log line
//! records the request with its id (never headers or bodies, which may hold tokens and
//! passwords). One layer with one boxed future instead of three (`SetRequestId`,
//! `PropagateRequestId` and a `from_fn` logger): the stack's fixed cost per request is what
//! the `ceiling` benchmark measures.

use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Response};
use futures::future::BoxFuture;
use tower::{Layer, Service};

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// A longer id from a caller is replaced: it would only bloat every log line.
const MAX_REQUEST_ID_BYTES: usize = 128;

#[derive(Clone, Copy, Default)]
pub struct ObserveLayer;

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Observe { inner }
    }
}

#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
}

impl<S, B> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response<B>, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<B>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let started = Instant::now();
        let request_id = match request.headers().get(&REQUEST_ID_HEADER) {
            Some(id) if acceptable(id) => id.clone(),
            _ => {
                let id = fresh_id();
                request.headers_mut().insert(REQUEST_ID_HEADER, id.clone());
                id
            }
        };
        let log = tracing::enabled!(target: "quire::http", tracing::Level::INFO)
            .then(|| (request.method().clone(), request.uri().path().to_owned()));
        let response = self.inner.call(request);
        Box::pin(async move {
            let Ok(mut response) = response.await;
            if let Some((method, path)) = log {
                let status = response.status().as_u16();
                let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
                let request_id = request_id.to_str().unwrap_or_default();
                // As `&str`s: a `Display` field goes through the slower `fmt` machinery.
                let (method, path) = (method.as_str(), path.as_str());
                tracing::info!(target: "quire::http", method, path, status, latency_ms, request_id, "request");
            }
            response.headers_mut().insert(REQUEST_ID_HEADER, request_id);
            Ok(response)
        })
    }
}

/// Printable ASCII of a sensible length: what a log line or a proxy's id looks like.
fn acceptable(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID_BYTES
        && bytes.iter().all(|b| b.is_ascii_graphic())
}

fn fresh_id() -> HeaderValue {
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
    HeaderValue::from_str(text).expect("a UUID is a valid header value")
}
