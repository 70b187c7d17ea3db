//! HTTP caching of the GET routes that declare it (`route_layer` beside the route): ETags with
//! `If-None-Match` → 304, `Cache-Control` by auth state, `Vary`, and the anonymous answer cache.
//! Authenticated responses are rendered per viewer and get an ETag from their body. A response
//! too large to buffer passes through as it streams, without a validator, rather than failing.
//! A handler that states its own `Cache-Control`, or sets a cookie, keeps its answer as it is:
//! such an answer is never shared (`app` makes every undeclared answer `no-store`).

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
const NOT_STORED: &str = "no-store";
/// Headers on a cached answer by the time it leaves (ours, security headers, request id).
const RESPONSE_HEADERS: usize = 12;
/// Larger bodies are passed through untouched rather than buffered (and get no ETag).
pub const MAX_BUFFERED_BYTES: u64 = 4 * 1024 * 1024;

/// Who may keep a route's answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// Every anonymous reader gets the same answer: public for a few seconds and kept in the
    /// answer cache; a signed-in reader's is private.
    Everyone,
    /// One account's own data: always private, revalidated by its ETag.
    Owner,
}

/// The layer a route declares its caching with; other methods than GET pass straight through
/// without an allocation (a layer of its own rather than `middleware::from_fn`, which boxes and
/// clones for every request).
#[derive(Clone)]
pub struct HttpCacheLayer {
    domain: Domain,
    audience: Audience,
}

impl HttpCacheLayer {
    /// For reads that are the same for every anonymous reader (articles, profiles, tags).
    pub fn shared(domain: Domain) -> Self {
        Self {
            domain,
            audience: Audience::Everyone,
        }
    }

    /// For reads of the caller's own data (their account, webhooks, reports).
    pub fn private(domain: Domain) -> Self {
        Self {
            domain,
            audience: Audience::Owner,
        }
    }
}

impl<S> Layer<S> for HttpCacheLayer {
    type Service = HttpCache<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpCache {
            inner,
            domain: self.domain.clone(),
            audience: self.audience,
        }
    }
}

#[derive(Clone)]
pub struct HttpCache<S> {
    inner: S,
    domain: Domain,
    audience: Audience,
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
        if request.method() != Method::GET {
            return Either::Left(self.inner.call(request));
        }
        // The clone takes the place of the instance that was made ready.
        let fresh = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, fresh);
        let domain = self.domain.clone();
        let audience = self.audience;
        Either::Right(Box::pin(async move {
            Ok(answer(domain, audience, request, ready).await)
        }))
    }
}

async fn answer<S>(domain: Domain, audience: Audience, request: Request, mut inner: S) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let headers = request.headers();
    let shared = audience == Audience::Everyone && is_anonymous(headers);
    let if_none_match = headers.get(header::IF_NONE_MATCH).cloned();
    let policy = if shared {
        ANONYMOUS_POLICY
    } else {
        PRIVATE_POLICY
    };
    let slot = shared.then(|| {
        let uri = request.uri();
        let what = uri.path_and_query().map(|p| p.as_str()).unwrap_or_default();
        AnswerSlot::find(&domain.core.cache, what)
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
    let headers = response.headers();
    if response.status() != StatusCode::OK
        || headers.contains_key(header::CACHE_CONTROL)
        || headers.contains_key(header::SET_COOKIE)
    {
        // Not an answer to keep: an error, or the handler's own policy, which wins.
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
    keep_handler_headers(response.headers_mut(), parts.headers);
    response
}

/// Adds the handler's headers to ours, every value of a repeated one; where both name a header
/// (the validator, the policy, the body's type), ours describe the answer actually sent.
fn keep_handler_headers(ours: &mut HeaderMap, handler: HeaderMap) {
    let mut skipping = false;
    let mut current = None;
    for (name, value) in handler {
        // `None` continues the previous name's values.
        if let Some(name) = name {
            skipping = ours.contains_key(&name) || name == header::CONTENT_LENGTH;
            current = Some(name);
        }
        if let (false, Some(name)) = (skipping, &current) {
            ours.append(name.clone(), value);
        }
    }
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

/// The `Cache-Control` an answer leaves with, when its own must change: none stated is
/// `no-store`, and an answer setting a cookie is never public (a shared cache would hand one
/// visitor's cookie to the next).
pub fn settled_policy<B>(response: &axum::http::Response<B>) -> Option<HeaderValue> {
    let headers = response.headers();
    let public = match headers.get(header::CACHE_CONTROL) {
        None => return Some(HeaderValue::from_static(NOT_STORED)),
        Some(policy) => policy.to_str().map_or(true, |policy| {
            policy.to_ascii_lowercase().contains("public")
        }),
    };
    (public && headers.contains_key(header::SET_COOKIE))
        .then(|| HeaderValue::from_static(NOT_STORED))
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

    #[test]
    fn every_value_of_a_repeated_handler_header_survives() {
        let mut ours = HeaderMap::new();
        ours.insert(header::ETAG, HeaderValue::from_static("W/\"ours\""));
        let mut handler = HeaderMap::new();
        handler.append("x-trace", HeaderValue::from_static("one"));
        handler.append("x-trace", HeaderValue::from_static("two"));
        handler.insert(header::ETAG, HeaderValue::from_static("W/\"theirs\""));
        handler.append("link", HeaderValue::from_static("</a>; rel=next"));
        handler.append("link", HeaderValue::from_static("</b>; rel=prev"));
        keep_handler_headers(&mut ours, handler);
        let values = |name: &str| -> Vec<&str> {
            ours.get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap())
                .collect()
        };
        assert_eq!(values("x-trace"), ["one", "two"]);
        assert_eq!(values("link"), ["</a>; rel=next", "</b>; rel=prev"]);
        assert_eq!(values("etag"), ["W/\"ours\""]);
    }
}
