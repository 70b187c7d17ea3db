//! Cookies and Django-style CSRF protection for requests authenticated by the session cookie:
//! an unsafe request must send the `csrftoken` cookie's value in `X-CSRFToken` (a site that
//! cannot read the cookie cannot forge the header), must not come from another site
//! (`Sec-Fetch-Site`), and its `Origin`, when sent, must be this server or an allowed origin.
//! Requests authenticated by an `Authorization` header are exempt: it is not ambient.

use axum::http::{HeaderMap, HeaderValue, Method, header};
use cookie::{Cookie, SameSite};
use subtle::ConstantTimeEq;

use crate::config::{Environment, Settings};
use crate::error::Error;

pub const SESSION_COOKIE: &str = "quire_session";
pub const CSRF_COOKIE: &str = "csrftoken";
pub const CSRF_HEADER: &str = "x-csrftoken";

/// The value of cookie `name` among the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .filter(|value| !value.is_empty())
}

/// Methods that may change something.
pub fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Refuses a cross-site or tokenless unsafe request (403 `{"errors": {"csrf": [...]}}`).
pub fn check(headers: &HeaderMap, settings: &Settings) -> Result<(), Error> {
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    check_form(headers, settings, sent)
}

/// The name of the form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrfmiddlewaretoken";

/// The same check for an HTML form, which sends the token as a field ([`CSRF_FIELD`], as
/// Django's forms do) instead of a header.
pub fn check_form(
    headers: &HeaderMap,
    settings: &Settings,
    sent: Option<&str>,
) -> Result<(), Error> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if text("sec-fetch-site") == Some("cross-site") {
        return Err(Error::Csrf("cross-site requests are refused"));
    }
    if let Some(origin) = text("origin")
        && !origin_allowed(origin, text("host"), settings)
    {
        return Err(Error::Csrf("the request's Origin is not allowed"));
    }
    let Some(expected) = cookie(headers, CSRF_COOKIE) else {
        return Err(Error::Csrf(
            "CSRF cookie not set: GET /api/session/csrf first",
        ));
    };
    let Some(sent) = sent else {
        return Err(Error::Csrf(
            "CSRF token missing: send the csrftoken cookie's value in X-CSRFToken",
        ));
    };
    if bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(Error::Csrf("CSRF token incorrect"))
    }
}

/// This server itself (the `Host` it was asked as), or an origin of `QUIRE_CORS_ORIGINS`.
fn origin_allowed(origin: &str, host: Option<&str>, settings: &Settings) -> bool {
    let same_host = origin
        .split_once("://")
        .is_some_and(|(_, authority)| Some(authority) == host);
    same_host
        || settings
            .cors_origins
            .as_ref()
            .is_some_and(|allowed| allowed.iter().any(|a| a == origin))
}

/// The CSRF token of the request's cookie, if it is one we could have issued: URL-safe text of
/// a sane length (anything else is replaced).
pub fn issued_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, CSRF_COOKIE).filter(|token| {
        token.len() <= 64
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// Cookies are marked `Secure` except in development, which may run on plain HTTP.
pub fn secure_cookies(settings: &Settings) -> bool {
    settings.env == Environment::Production
}

/// `Set-Cookie` for the session id: invisible to scripts, not sent on cross-site subrequests.
pub fn session_cookie(id: &str, secure: bool) -> HeaderValue {
    set_cookie(
        Cookie::build((SESSION_COOKIE, id.to_owned())).http_only(true),
        secure,
    )
}

/// The cookies of a new sign-in on `headers`: the session's, and a new CSRF token with it (as
/// Django rotates the token at sign-in).
pub fn set_signed_in(headers: &mut HeaderMap, session: &str, secure: bool) {
    headers.append(header::SET_COOKIE, session_cookie(session, secure));
    headers.append(
        header::SET_COOKIE,
        csrf_cookie(&crate::auth::refresh::random_text(32), secure),
    );
}

/// `Set-Cookie` for the CSRF token: readable by the site's scripts, which echo it in a header.
pub fn csrf_cookie(token: &str, secure: bool) -> HeaderValue {
    set_cookie(Cookie::build((CSRF_COOKIE, token.to_owned())), secure)
}

/// `Set-Cookie` for a sign-in attempt at an OpenID Connect provider: invisible to scripts,
/// sent back on the provider's top-level redirect (`Lax`), gone after `max_age`.
pub fn attempt_cookie(
    name: &'static str,
    value: &str,
    max_age_seconds: i64,
    secure: bool,
) -> HeaderValue {
    set_cookie(
        Cookie::build((name, value.to_owned()))
            .http_only(true)
            .max_age(cookie::time::Duration::seconds(max_age_seconds)),
        secure,
    )
}

/// `Set-Cookie` that removes cookie `name`.
pub fn removal(name: &'static str, secure: bool) -> HeaderValue {
    set_cookie(
        Cookie::build((name, "")).max_age(cookie::time::Duration::ZERO),
        secure,
    )
}

fn set_cookie(builder: cookie::CookieBuilder<'static>, secure: bool) -> HeaderValue {
    let cookie = builder
        .path("/")
        .same_site(SameSite::Lax)
        .secure(secure)
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("cookie values are URL-safe text")
}
