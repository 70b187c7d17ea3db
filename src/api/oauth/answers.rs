//! How the OAuth pages answer: an HTML page under a strict policy, a problem page (for every
//! domain error, with the status REST would give it), a redirect.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::html;
use crate::error::{Error, INVALID_ACCESS_TOKEN};
use crate::http::csrf;
use crate::http::error::status_of;
use crate::http::rate_limit;

const SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

pub(crate) fn html_page(
    status: StatusCode,
    body: String,
    set_csrf: Option<(&str, bool)>,
) -> Response {
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(SECURITY_POLICY),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Under the default `no-referrer` a browser posts these forms with `Origin: null`, which
    // the CSRF check refuses; `same-origin` still tells other sites nothing.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if let Some((token, secure)) = set_csrf {
        headers.append(header::SET_COOKIE, csrf::csrf_cookie(token, secure));
    }
    response
}

pub(crate) fn problem(status: StatusCode, message: &str) -> Response {
    html_page(status, html::problem(message), None)
}

/// An error as a page, with the status REST would give it; what the page says is chosen for
/// every variant (a new one does not compile until it has its words).
pub(crate) fn failure(err: Error) -> Response {
    let status = status_of(&err);
    let message = match &err {
        Error::Validation(fields) => fields
            .iter()
            .flat_map(|(field, messages)| messages.iter().map(move |m| format!("{field} {m}.")))
            .collect::<Vec<_>>()
            .join(" "),
        Error::Unauthorized(reason)
        | Error::Forbidden(reason)
        | Error::Csrf(reason)
        | Error::Conflict(reason)
        | Error::Unavailable(reason) => format!("{reason}."),
        Error::InvalidAccessToken => format!("{INVALID_ACCESS_TOKEN}."),
        Error::InsufficientScope(scope) => format!("This needs the `{scope}` scope."),
        Error::OAuth(_, description) => format!("{description}."),
        Error::NotFound(what) => format!("The {what} was not found."),
        Error::RateLimited(_) => "Too many requests: wait a minute.".to_owned(),
        Error::Internal(err) => {
            tracing::error!(error = %format!("{err:#}"), "internal error");
            "Something went wrong on our side.".to_owned()
        }
    };
    let mut page = problem(status, &message);
    if let Error::RateLimited(decision) = &err {
        rate_limit::add_refusal_headers(page.headers_mut(), decision);
    }
    page
}

pub(super) fn redirect(status: StatusCode, location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => {
            let mut response = status.into_response();
            response.headers_mut().insert(header::LOCATION, location);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => problem(StatusCode::BAD_REQUEST, "the redirect URI cannot be used"),
    }
}
