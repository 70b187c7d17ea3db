//! The outermost layer: every request gets an id (the caller's `x-request-id` when it is a
//! reasonable one, else a fresh UUID), the response carries it back, one JSON log line
//! records the request with its id (never headers or bodies, which may hold tokens and
//! passwords), the request metric is recorded by route template ([`RouteLabelLayer`] hands the
//! template out from inside the router), and when traces are exported the request runs in a
//! span with its id, route and status. One layer with one boxed future instead of three
//! (`SetRequestId`, `PropagateRequestId` and a `from_fn` logger): the stack's fixed cost per
//! request is what the `ceiling` benchmark measures.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, Response};
use futures::future::BoxFuture;
use tower::{Layer, Service};
use tracing::Instrument;

use crate::telemetry::request;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// A longer id from a caller is replaced: it would only bloat every log line.
const MAX_REQUEST_ID_BYTES: usize = 128;

#[derive(Clone, Copy, Default)]
pub struct ObserveLayer {
    /// Record `quire_http_request_duration_seconds` (off: no metric work per request).
    pub metrics: bool,
    /// Run each request in a `request` span (on when traces are exported).
    pub traces: bool,
    /// Tell code far below which request it serves (on for the slow-statement log).
    pub context: bool,
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Observe {
            inner,
            metrics: self.metrics,
            traces: self.traces,
            context: self.context,
        }
    }
}

#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    metrics: bool,
    traces: bool,
    context: bool,
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
        let method = method_label(request.method());
        let metered = self.metrics.then_some(method);
        let span = self.traces.then(|| request_span(&request, &request_id));
        let response = match &span {
            Some(span) => span.in_scope(|| self.inner.call(request)),
            None => self.inner.call(request),
        };
        let traced = span.clone().map(|span| (span, method));
        let context = self
            .context
            .then(|| request_id.to_str().unwrap_or_default().to_owned());
        let answer = async move {
            let Ok(mut response) = response.await;
            if let Some(method) = metered {
                record_metric(method, &response, started);
            }
            if let Some((span, method)) = traced {
                record_outcome(&span, method, &response);
            }
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
        };
        match (span, context) {
            (Some(span), Some(id)) => Box::pin(request::scope(id, answer).instrument(span)),
            (Some(span), None) => Box::pin(answer.instrument(span)),
            (None, Some(id)) => Box::pin(request::scope(id, answer)),
            (None, None) => Box::pin(answer),
        }
    }
}

/// Named like OpenTelemetry's HTTP server spans (`{method} {route}` once the route is known),
/// continuing the caller's trace when it sent a `traceparent`.
fn request_span(request: &Request, request_id: &HeaderValue) -> tracing::Span {
    let method = method_label(request.method());
    let span = tracing::info_span!(
        target: "quire::http",
        "request",
        otel.name = method,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = method,
        http.route = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        url.path = request.uri().path(),
        request_id = request_id.to_str().unwrap_or_default(),
    );
    crate::telemetry::otlp::continue_callers_trace(&span, request.headers());
    span
}

fn record_outcome<B>(span: &tracing::Span, method: &str, response: &Response<B>) {
    let status = response.status();
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if let Some(route) = response.extensions().get::<MatchedPath>() {
        span.record("http.route", route.as_str());
        crate::telemetry::otlp::rename(span, format!("{method} {}", route.as_str()));
    }
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
}

/// The route template, never the raw path: one series per route, whatever clients send.
fn record_metric<B>(method: &'static str, response: &Response<B>, started: Instant) {
    let route = response
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    // Each thread keeps the handle of every series it has recorded: `histogram!` would build
    // the labels and look the series up in the registry on every request.
    SERIES.with_borrow_mut(|series| {
        if let Some(histogram) = series.get(&(method, route, status)) {
            return histogram.record(seconds);
        }
        let histogram = metrics::histogram!(
            "quire_http_request_duration_seconds",
            "method" => method,
            "route" => route.to_owned(),
            "status" => status.to_string()
        );
        histogram.record(seconds);
        let route: &'static str = Box::leak(route.into());
        series.insert((method, route, status), histogram);
    });
}

thread_local! {
    /// Routes are few and fixed (the router's templates), so leaking their names is bounded.
    static SERIES: std::cell::RefCell<HashMap<(&'static str, &'static str, u16), metrics::Histogram>> =
        std::cell::RefCell::new(HashMap::new());
}

/// The standard methods by name, anything else as `other`: a label's values stay few.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Inside the router (`Router::layer`), where the matched route is known: copies its template
/// onto the response for [`Observe`] outside.
#[derive(Clone, Copy, Default)]
pub struct RouteLabelLayer;

impl<S> Layer<S> for RouteLabelLayer {
    type Service = RouteLabel<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RouteLabel { inner }
    }
}

#[derive(Clone)]
pub struct RouteLabel<S> {
    inner: S,
}

impl<S, B> Service<Request> for RouteLabel<S>
where
    S: Service<Request, Response = Response<B>, Error = Infallible>,
{
    type Response = Response<B>;
    type Error = Infallible;
    type Future = Labelled<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        Labelled {
            matched: request.extensions().get::<MatchedPath>().cloned(),
            inner: self.inner.call(request),
            announced: false,
        }
    }
}

pin_project_lite::pin_project! {
    pub struct Labelled<F> {
        #[pin]
        inner: F,
        matched: Option<MatchedPath>,
        announced: bool,
    }
}

impl<F, B> Future for Labelled<F>
where
    F: Future<Output = Result<Response<B>, Infallible>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if !*this.announced {
            // Polled inside the request's scope: what runs for it from here knows its route.
            *this.announced = true;
            if let Some(matched) = this.matched.as_ref() {
                request::set_route(matched.as_str());
            }
        }
        let Ok(mut response) = std::task::ready!(this.inner.poll(cx));
        if let Some(matched) = this.matched.take() {
            response.extensions_mut().insert(matched);
        }
        Poll::Ready(Ok(response))
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
