//! Rate limits at the HTTP edge: who a request's budget belongs to, which class of route it
//! spends, and the 429 and `RateLimit` headers (IETF draft-ietf-httpapi-ratelimit-headers).
//! GraphQL classifies its own requests (by operation) with the same helpers.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use serde_json::json;

use super::csrf;
use crate::auth::jwt::TokenIssuer;
use crate::domain::Domain;
use crate::limits::{Class, Decision};
use crate::state::AppState;

const RATE_LIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATE_LIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// The client's address as limits see it, put in the extensions of requests that spend their
/// budget later (GraphQL) by [`limit_requests`] when limits are on.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

/// The client of a request whose peer is not known (only in-process calls have none).
pub const UNKNOWN_CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

/// The routes (all `POST`) that sign someone in, create or try credentials, or send mail about
/// an account: limited per client address.
const AUTH_ROUTES: &[&str] = &[
    "/api/users",
    "/api/users/login",
    "/api/session",
    "/api/auth/token",
    "/api/auth/refresh",
    "/api/auth/oidc",
    "/api/users/verify-email",
    "/api/user/verify-email",
    "/api/users/password-reset",
    "/api/users/password-reset/confirm",
    "/verify-email",
    "/reset-password",
    "/reset-password/request",
    "/release-email",
    "/oauth/login",
    "/oauth/token",
    "/oauth/revoke",
    "/oauth/introspect",
];

/// What the rate-limit layer needs: one `Arc` to clone per request, not the whole state.
pub struct RateLimitState {
    domain: Domain,
    trusted_proxies: Vec<IpNet>,
}

impl RateLimitState {
    pub fn new(state: &AppState) -> Arc<RateLimitState> {
        Arc::new(RateLimitState {
            domain: state.domain.clone(),
            trusted_proxies: state.settings.rate_limits.trusted_proxies.clone(),
        })
    }
}

/// Spends the request's budget before it runs; over the limit it is answered 429 instead.
/// Refusals and admitted requests worth it ([`worth_reporting`]) carry the `RateLimit-Policy`
/// and `RateLimit` headers.
pub async fn limit_requests(
    State(state): State<Arc<RateLimitState>>,
    mut request: Request,
    next: Next,
) -> Response {
    if !state.domain.limiter.is_enabled() {
        return next.run(request).await;
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let client = client_ip(peer, request.headers(), &state.trusted_proxies);
    let Some(class) = classify(request.method(), request.uri().path()) else {
        // GraphQL spends per operation, in its handler.
        request.extensions_mut().insert(ClientIp(client));
        return next.run(request).await;
    };
    let key = match class {
        Class::Auth => address_key(client),
        _ => requester_key(&state.domain.accounts.tokens, request.headers(), client),
    };
    match state.domain.limiter.check(class, key).await {
        None => next.run(request).await,
        Some(decision) if !decision.allowed => refusal(&decision),
        Some(decision) => {
            let mut response = next.run(request).await;
            if worth_reporting(&decision) {
                add_headers(response.headers_mut(), &decision);
            }
            response
        }
    }
}

/// Whether an admitted request's answer states its budget: always for sign-ins and writes;
/// for reads, the most frequent and cheapest requests, once a tenth of the budget is left
/// (formatting the headers on every cached read would cost a measurable share of it).
pub fn worth_reporting(decision: &Decision) -> bool {
    decision.class != Class::Read || decision.remaining.saturating_mul(10) < decision.quota.count
}

/// The class a REST request spends; `None` for what is not limited here (GraphQL decides per
/// operation, health checks and preflights are free).
fn classify(method: &Method, path: &str) -> Option<Class> {
    if path.starts_with("/auth/oidc/") && path.ends_with("/callback") {
        // Exchanges a code at the provider and may create an account: a sign-in.
        return Some(Class::Auth);
    }
    if method == Method::POST && AUTH_ROUTES.contains(&path) {
        return Some(Class::Auth);
    }
    if !["/api/", "/oauth/", "/auth/"]
        .iter()
        .any(|p| path.starts_with(p))
    {
        return None;
    }
    match *method {
        Method::OPTIONS => None,
        Method::GET | Method::HEAD => Some(Class::Read),
        _ => Some(Class::Write),
    }
}

/// The client: the socket peer, unless the peer is a trusted proxy; then the nearest address
/// in `X-Forwarded-For` that is not one (each proxy appends the address it received from, so
/// only the entries added by trusted proxies can be believed).
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let Some(mut client) = peer else {
        return UNKNOWN_CLIENT;
    };
    if !is_trusted(&client) {
        return client;
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // A forged or garbled entry: the last address a trusted proxy vouched for stands.
            Err(_) => break,
        }
    }
    client
}

/// The budget key of an address. IPv6 clients usually hold a whole /64, so it counts as one.
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let s = v6.segments();
                format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The budget key of whoever sends a request: the user of a genuine token (its signature is
/// enough here: revocation is the handler's business), the browser session of a session
/// cookie, else the client's address.
pub fn requester_key(tokens: &TokenIssuer, headers: &HeaderMap, client: IpAddr) -> String {
    if let Some(token) = super::auth::app_token(headers) {
        return format!("app:{}", crate::cache::digest(&[token.as_bytes()]));
    }
    if let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().split_once(' '))
        .map(|(_, token)| token.trim())
        && let Ok(verified) = tokens.verify(token)
    {
        return format!("user:{}", verified.user_id);
    }
    if let Some(session) = csrf::cookie(headers, csrf::SESSION_COOKIE) {
        return format!("session:{}", crate::cache::digest(&[session.as_bytes()]));
    }
    address_key(client)
}

/// The 429 answer for a spent budget.
pub fn refusal(decision: &Decision) -> Response {
    let seconds = decision.retry_after_seconds();
    let message = format!(
        "too many {} requests: try again in {seconds} second{}",
        decision.class.name(),
        if seconds == 1 { "" } else { "s" }
    );
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({ "errors": { "rate_limit": [message] } })),
    )
        .into_response();
    add_refusal_headers(response.headers_mut(), decision);
    response
}

/// `Retry-After` and the `RateLimit` headers of a refusal, in either API's shape.
pub fn add_refusal_headers(headers: &mut HeaderMap, decision: &Decision) {
    headers.insert(
        header::RETRY_AFTER,
        HeaderValue::from(decision.retry_after_seconds()),
    );
    add_headers(headers, decision);
}

/// `RateLimit-Policy: "read";q=1200;w=60` and `RateLimit: "read";r=1187;t=7`, unless an inner
/// check (a sign-in's per-account limit) already set them.
pub fn add_headers(headers: &mut HeaderMap, decision: &Decision) {
    if headers.contains_key(RATE_LIMIT) {
        return;
    }
    let name = decision.class.name();
    let policy = format!(
        "\"{name}\";q={};w={}",
        decision.quota.count,
        decision.quota.window_seconds()
    );
    let state = format!(
        "\"{name}\";r={};t={}",
        decision.remaining,
        whole_seconds(decision.reset)
    );
    for (header, value) in [(RATE_LIMIT_POLICY, policy), (RATE_LIMIT, state)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(header, value);
        }
    }
}

fn whole_seconds(duration: std::time::Duration) -> u64 {
    duration.as_millis().div_ceil(1000) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let headers = forwarded("6.6.6.6, 203.0.113.9, 10.0.0.7");
        assert_eq!(
            client_ip(Some(proxy), &headers, &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(client_ip(Some(stranger), &headers, &trusted), stranger);
        assert_eq!(
            client_ip(Some(proxy), &forwarded("garbage, 10.0.0.9"), &trusted),
            "10.0.0.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(Some(proxy), &HeaderMap::new(), &trusted), proxy);
    }

    #[test]
    fn an_ipv6_client_is_its_64_prefix() {
        let a = address_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = address_key("2001:db8:1:2:bbbb::2".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(address_key("::ffff:1.2.3.4".parse().unwrap()), "ip:1.2.3.4");
    }
}
