//! Quire's OAuth2 authorization server over HTTP: the authorization endpoint with its login
//! and consent pages ([`pages`], HTML in [`html`]), and the endpoints clients call — token,
//! revocation, introspection, metadata ([`endpoints`]) — which answer errors as RFC 6749 §5.2
//! does, `{"error": "...", "error_description": "..."}`; and signing in with OpenID Connect
//! providers ([`oidc`]); and the pages the links in Quire's mail open ([`account`]). The rules
//! are in `domain::oauth`, `domain::oidc` and `domain::email`.

mod account;
mod answers;
mod endpoints;
mod html;
mod oidc;
mod pages;
mod wire;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};

use crate::config::Settings;
use crate::error::{Error, OAuthCode};
use crate::state::AppState;

/// The OAuth2 endpoints and pages in the OpenAPI document (merged into `/api/openapi.json`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        pages::authorize, pages::decide, pages::login,
        endpoints::token, endpoints::revoke, endpoints::introspect, endpoints::metadata,
    ),
    tags((name = "OAuth2", description = "Quire as an OAuth2 authorization server for third-party apps (RFC 6749 with PKCE; RFC 7009, 7662, 8414)")),
)]
pub struct OAuthDoc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/oauth/authorize",
            get(pages::authorize).post(pages::decide),
        )
        .route("/oauth/login", post(pages::login))
        .route("/oauth/token", post(endpoints::token))
        .route("/oauth/revoke", post(endpoints::revoke))
        .route("/oauth/introspect", post(endpoints::introspect))
        .route(
            "/.well-known/oauth-authorization-server",
            get(endpoints::metadata),
        )
        .route("/auth/oidc/{provider}/start", get(oidc::start))
        .route("/auth/oidc/{provider}/callback", get(oidc::callback))
        .route(
            "/verify-email",
            get(account::verify_form).post(account::verify),
        )
        .route(
            "/reset-password",
            get(account::reset_form).post(account::reset),
        )
        .route("/reset-password/request", post(account::request_link))
        .route(
            "/release-email",
            get(account::release_form).post(account::release),
        )
}

/// The parameters of a query string or form body. Each may be given once (RFC 6749 §3.1);
/// one given with an empty value counts as not given.
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    fn parse(bytes: &[u8]) -> Params {
        Params(form_urlencoded::parse(bytes).into_owned().collect())
    }

    /// The value of `name`; repeated, or holding a NUL, it is an `invalid_request`.
    fn one(&self, name: &str) -> Result<Option<&str>, Error> {
        let mut values = self.0.iter().filter(|(key, _)| key == name);
        let first = values.next().map(|(_, value)| value.as_str());
        if values.next().is_some() {
            return Err(Error::oauth(
                OAuthCode::InvalidRequest,
                format!("`{name}` is given more than once"),
            ));
        }
        if first.is_some_and(|value| value.contains('\0')) {
            return Err(Error::oauth(
                OAuthCode::InvalidRequest,
                format!("`{name}` holds a NUL character"),
            ));
        }
        Ok(first.filter(|value| !value.is_empty()))
    }

    fn owned(&self, name: &str) -> Result<Option<String>, Error> {
        Ok(self.one(name)?.map(str::to_owned))
    }

    fn required(&self, name: &str) -> Result<&str, Error> {
        self.one(name)?
            .ok_or_else(|| Error::oauth(OAuthCode::InvalidRequest, format!("`{name}` is missing")))
    }
}

/// The base of the URLs this server gives out: `QUIRE_PUBLIC_URL`, else the scheme it runs
/// under and the `Host` it was asked as.
fn issuer(settings: &Settings, headers: &HeaderMap) -> String {
    if let Some(url) = &settings.public_url {
        return url.clone();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| settings.listen.to_string(), str::to_owned);
    let scheme = if crate::http::csrf::secure_cookies(settings) {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}
