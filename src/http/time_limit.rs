//! A request still running after the limit is abandoned with a JSON 503 (the server was slow; a
//! slow *client* is answered 408 by the body reader first, within its shorter limit). A layer of
//! its own rather than `middleware::from_fn`, which boxes a future and clones the inner service
//! for every request: this one only wraps the handler's future in a timer.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use tower::{Layer, Service};

use super::error::error_response;

#[derive(Clone, Copy)]
pub struct TimeLimitLayer {
    pub limit: Duration,
}

impl<S> Layer<S> for TimeLimitLayer {
    type Service = TimeLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TimeLimit {
            inner,
            limit: self.limit,
        }
    }
}

#[derive(Clone)]
pub struct TimeLimit<S> {
    inner: S,
    limit: Duration,
}

impl<S> Service<Request> for TimeLimit<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Limited<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        Limited {
            inner: tokio::time::timeout(self.limit, self.inner.call(request)),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct Limited<F> {
        #[pin]
        inner: tokio::time::Timeout<F>,
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for Limited<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx).map(|finished| {
            finished.unwrap_or_else(|_| {
                Ok(error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the request took too long to answer",
                ))
            })
        })
    }
}
