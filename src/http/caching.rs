//! HTTP caching for `GET /api/...`: ETags with `If-None-Match` → 304, `Cache-Control` by auth
//! state, `Vary`, and the anonymous answer cache. Authenticated responses are rendered per
//! viewer and get an ETag from their body. A response too large to buffer passes through as it
//! streams, without a validator, rather than failing.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::future::{BoxFuture, Either};
use tower::{Layer, Service};

use super::answer_cache::{AnswerSlot, etag_of};
use super::auth::is_anonymous;
use crate::cache::tracking;
use crate::domain::Domain;

const VARY: &str = "Authorization, Cookie, Accept-Encoding";
const ANONYMOUS_POLICY: &str = "public, max-age=5";
const PRIVATE_POLICY: &str = "private, no-cache";
/// Headers on a cached answer by the time it leaves (ours, security headers, request id).
const RESPONSE_HEADERS: usize = 12;
/// Larger bodies are passed through untouched rather than buffered (and get no ETag).
pub const MAX_BUFFERED_BYTES: u64 = 4 * 1024 * 1024;

/// The layer in front of the routes; requests other than `GET /api/...` pass straight through
/// without an allocation (a layer of its own rather than `middleware::from_fn`, which boxes and
/// clones for every request).
#[derive(Clone)]
pub struct HttpCacheLayer {
    pub domain: Domain,
}

impl<S> Layer<S> for HttpCacheLayer {
    type Service = HttpCache<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpCache {
            inner,
            domain: self.domain.clone(),
        }
    }
}

#[derive(Clone)]
pub struct HttpCache<S> {
    inner: S,
    domain: Domain,
}

impl<S> Service<Request> for HttpCache<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.method() != Method::GET || !request.uri().path().starts_with("/api/") {
            return Either::Left(self.inner.call(request));
        }
        // The clone takes the place of the instance that was made ready.
        let fresh = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, fresh);
        let domain = self.domain.clone();
        Either::Right(Box::pin(
            async move { Ok(answer(domain, request, ready).await) },
        ))
    }
}

async fn answer<S>(domain: Domain, request: Request, mut inner: S) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let headers = request.headers();
    let anonymous = is_anonymous(headers);
    let if_none_match = headers.get(header::IF_NONE_MATCH).cloned();
    let policy = if anonymous {
        ANONYMOUS_POLICY
    } else {
        PRIVATE_POLICY
    };
    let slot = anonymous.then(|| {
        let uri = request.uri();
        let what = uri.path_and_query().map(|p| p.as_str()).unwrap_or_default();
        AnswerSlot::find(&domain.cache, what)
    });
    if let Some(slot) = &slot
        && let Some(answer) = slot.get().await
    {
        for article in answer.viewed {
            domain.views.record(article, None);
        }
        return respond(&answer.etag, answer.body, if_none_match.as_ref(), policy);
    }

    let (response, tracked) = tracking::track(inner.call(request)).await;
    let Ok(response) = response;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    if body
        .size_hint()
        .upper()
        .is_none_or(|upper| upper > MAX_BUFFERED_BYTES)
    {
        set_policy(&mut parts.headers, policy);
        return Response::from_parts(parts, body);
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BUFFERED_BYTES as usize).await else {
        // The body failed while streaming: nothing was sent yet, so say so plainly.
        return super::error::error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal server error",
        );
    };
    let (etag, body) = match slot {
        Some(slot) => {
            let answer = slot.put(body, tracked).await;
            (answer.etag, answer.body)
        }
        None => (etag_of(&body), body),
    };
    let mut response = respond(&etag, body, if_none_match.as_ref(), policy);
    for (name, value) in parts.headers.iter() {
        response
            .headers_mut()
            .entry(name)
            .or_insert_with(|| value.clone());
    }
    response
}

fn respond(
    etag: &HeaderValue,
    body: Bytes,
    if_none_match: Option<&HeaderValue>,
    policy: &'static str,
) -> Response {
    let not_modified = if_none_match
        .and_then(|v| v.to_str().ok())
        .zip(etag.to_str().ok())
        .is_some_and(|(v, etag)| matches(v, etag));
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(body))
    };
    // Room for every header the stack adds on the way out: the map is not regrown per request.
    response.headers_mut().reserve(RESPONSE_HEADERS);
    if !not_modified {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    response.headers_mut().insert(header::ETAG, etag.clone());
    set_policy(response.headers_mut(), policy);
    response
}

fn set_policy(headers: &mut HeaderMap, policy: &'static str) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    headers.insert(header::VARY, HeaderValue::from_static(VARY));
}

/// `If-None-Match` with weak comparison, as RFC 9110 prescribes for it.
fn matches(if_none_match: &str, etag: &str) -> bool {
    fn bare(tag: &str) -> &str {
        tag.trim().trim_start_matches("W/")
    }
    if_none_match.trim() == "*"
        || if_none_match
            .split(',')
            .any(|candidate| bare(candidate) == bare(etag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_uses_weak_comparison() {
        let etag = etag_of(b"{}");
        let etag = etag.to_str().unwrap();
        assert!(matches(etag, etag));
        assert!(matches(etag.trim_start_matches("W/"), etag));
        assert!(matches(&format!("\"other\", {etag}"), etag));
        assert!(matches("*", etag));
        assert!(!matches("W/\"other\"", etag));
    }
}
