//! HTTP caching for GET: ETags with `If-None-Match` → 304, `Cache-Control` by auth state,
//! `Vary`, and a shared cache of rendered anonymous responses.
//!
//! An anonymous response is stored rendered, with its ETag, under a key versioned by the cache
//! generations (see `cache::keys`), so a hit — and a 304 — costs one generations read and no
//! rendering or SQL. Authenticated responses are rendered per viewer and get an ETag from their
//! body.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::cache::{Kind, keys};

const VARY: &str = "Authorization, Cookie, Accept-Encoding";
const ANONYMOUS_POLICY: &str = "public, max-age=5";
const PRIVATE_POLICY: &str = "private, no-cache";
/// Larger bodies are passed through untouched rather than buffered.
const MAX_BUFFERED_BYTES: usize = 4 * 1024 * 1024;

pub async fn http_cache(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET || !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let headers = request.headers();
    let anonymous =
        !headers.contains_key(header::AUTHORIZATION) && !headers.contains_key(header::COOKIE);
    let if_none_match = headers.get(header::IF_NONE_MATCH).cloned();
    let policy = if anonymous {
        ANONYMOUS_POLICY
    } else {
        PRIVATE_POLICY
    };
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();

    let cache = &state.domain.cache;
    let key = match anonymous {
        true => cache
            .generations()
            .await
            .map(|g| keys::anonymous_response(&g, &path_and_query)),
        false => None,
    };
    if let Some(key) = &key
        && let Some(entry) = cache.get(Kind::Response, key).await
        && let Some((etag, body)) = decode(&entry)
    {
        return respond(etag, body, if_none_match.as_ref(), policy);
    }

    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BUFFERED_BYTES).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let etag = etag_of(&body);
    if let Some(key) = key {
        cache.put(&key, encode(&etag, &body)).await;
    }
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
    etag: &str,
    body: Bytes,
    if_none_match: Option<&HeaderValue>,
    policy: &'static str,
) -> Response {
    let not_modified = if_none_match
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches(v, etag));
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Response::new(Body::from(body));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    };
    set_caching_headers(response.headers_mut(), etag, policy);
    response
}

fn set_caching_headers(headers: &mut HeaderMap, etag: &str, policy: &'static str) {
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    headers.insert(header::VARY, HeaderValue::from_static(VARY));
}

/// A weak validator: the same JSON whatever the content coding the client negotiates.
fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

/// `If-None-Match` with weak comparison, as RFC 9110 prescribes for it.
fn matches(if_none_match: &str, etag: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    if_none_match.trim() == "*"
        || if_none_match
            .split(',')
            .any(|candidate| bare(candidate) == bare(etag))
}

fn encode(etag: &str, body: &[u8]) -> Bytes {
    let mut entry = Vec::with_capacity(etag.len() + 1 + body.len());
    entry.extend_from_slice(etag.as_bytes());
    entry.push(b'\n');
    entry.extend_from_slice(body);
    entry.into()
}

fn decode(entry: &Bytes) -> Option<(&str, Bytes)> {
    let split = entry.iter().position(|b| *b == b'\n')?;
    let etag = std::str::from_utf8(&entry[..split]).ok()?;
    Some((etag, entry.slice(split + 1..)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_uses_weak_comparison() {
        let etag = etag_of(b"{}");
        assert!(matches(&etag, &etag));
        assert!(matches(etag.trim_start_matches("W/"), &etag));
        assert!(matches(&format!("\"other\", {etag}"), &etag));
        assert!(matches("*", &etag));
        assert!(!matches("W/\"other\"", &etag));
    }

    #[test]
    fn entries_round_trip() {
        let entry = encode("W/\"abc\"", b"{\"a\":\"\\n\"}\n");
        let (etag, body) = decode(&entry).unwrap();
        assert_eq!(etag, "W/\"abc\"");
        assert_eq!(&body[..], b"{\"a\":\"\\n\"}\n");
    }
}
