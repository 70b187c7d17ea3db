//! Response compression for the clients that ask for it. Requests without `Accept-Encoding`
//! (API clients, load balancers' probes, server-to-server calls) skip the compression layer
//! entirely instead of paying for its negotiation and an identity body wrapper on every
//! answer; those that send one get `tower-http`'s negotiation (gzip, brotli) unchanged.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::response::Response;
use futures::future::{BoxFuture, Either};
use tower::{Layer, Service};
use tower_http::compression::{Compression, CompressionLayer};

#[derive(Clone, Default)]
pub struct CompressWhenAskedLayer;

impl<S: Clone> Layer<S> for CompressWhenAskedLayer {
    type Service = CompressWhenAsked<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CompressWhenAsked {
            compressing: CompressionLayer::new().layer(inner.clone()),
            plain: inner,
        }
    }
}

#[derive(Clone)]
pub struct CompressWhenAsked<S> {
    plain: S,
    compressing: Compression<S>,
}

impl<S> Service<Request> for CompressWhenAsked<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        match self.plain.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.compressing.poll_ready(cx),
            pending => pending,
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let asks = request
            .headers()
            .get(header::ACCEPT_ENCODING)
            .is_some_and(|value| !value.is_empty() && value != "identity");
        if !asks {
            return Either::Left(self.plain.call(request));
        }
        let compressed = self.compressing.call(request);
        Either::Right(Box::pin(async move {
            let Ok(response) = compressed.await;
            Ok(response.map(Body::new))
        }))
    }
}
