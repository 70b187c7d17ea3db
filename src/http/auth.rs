//! Who is asking: one resolution of the credentials — an `Authorization` header (a JWT or an
//! OAuth2 application's access token), or the session cookie (with its CSRF check) — for every
//! API, and what an application's token may do on REST.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};

use super::access::Access;
use super::csrf;
use crate::config::Settings;
use crate::domain::Domain;
use crate::domain::oauth::access::AppGrant;
use crate::domain::oauth::store::ACCESS_PREFIX;
use crate::domain::oauth_clients::Scope;
use crate::error::Error;

/// The viewer of a request. A token that fails verification is kept as such, so that an API
/// can decide per operation: REST refuses every request that sends one (401), GraphQL still
/// runs `login` and `register`.
#[derive(Debug, Clone, Copy)]
pub enum Viewer {
    Anonymous,
    User(i64),
    /// A third-party application's OAuth2 access token: it acts for its user (or for no one,
    /// a client's own token) within its scopes.
    App(AppGrant),
    Rejected(Refusal),
}

/// Why the credentials sent were refused, kept until an operation needs them.
#[derive(Debug, Clone, Copy)]
pub enum Refusal {
    /// A malformed header, or a JWT that is bad, expired or revoked.
    Credential(&'static str),
    /// An application's access token that is bad, expired or revoked.
    AccessToken,
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Credential(reason) => Error::Unauthorized(reason),
            Refusal::AccessToken => Error::InvalidAccessToken,
        }
    }
}

impl Viewer {
    /// The viewer's id, if signed in; an error if the token was bad.
    pub fn optional(self) -> Result<Option<i64>, Error> {
        match self {
            Viewer::Anonymous => Ok(None),
            Viewer::User(id) => Ok(Some(id)),
            Viewer::App(grant) => Ok(grant.user_id),
            Viewer::Rejected(refusal) => Err(refusal.into()),
        }
    }

    /// The viewer's id; an error unless signed in.
    pub fn required(self) -> Result<i64, Error> {
        if let Viewer::App(AppGrant { user_id: None, .. }) = self {
            return Err(Error::Forbidden(
                "a client's own token (client_credentials) acts for no user",
            ));
        }
        self.optional()?.ok_or(Error::Unauthorized(
            "sign in first: send `Authorization: Token <jwt>`",
        ))
    }

    /// Refuses an application's token that lacks `scope` (any other viewer passes).
    pub fn needs(self, scope: Scope) -> Result<(), Error> {
        match self {
            Viewer::App(grant) if !grant.scopes.contains(scope) => {
                Err(Error::InsufficientScope(scope.name()))
            }
            _ => Ok(()),
        }
    }

    /// Refuses this viewer when a route of `access` is not for it: an application's token
    /// only ever gets what the access grants it (`read` to GET, `write` for anything else).
    fn may_call(self, access: Access, method: &Method) -> Result<(), Error> {
        if !matches!(self, Viewer::App(_)) {
            return Ok(());
        }
        match access {
            Access::UserOnly => {
                return Err(Error::Forbidden(
                    "an application's token cannot manage the account's sign-ins or \
                     authorizations",
                ));
            }
            Access::Account => self.needs(Scope::Profile)?,
            Access::Content => {}
        }
        match *method {
            Method::GET | Method::HEAD => self.needs(Scope::Read),
            _ => self.needs(Scope::Write),
        }
    }

    /// Resolves the request's credentials: the `Authorization` header if sent, else the
    /// session cookie. A bad token is [`Viewer::Rejected`]; a session that ended is no
    /// session (anonymous, as Django does). An unsafe request the session cookie authenticates
    /// must pass the CSRF check (an error); so must a failure to check credentials at all.
    pub async fn resolve(
        domain: &Domain,
        settings: &Settings,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<Viewer, Error> {
        match bearer_token(headers) {
            Ok(Some(token)) if token.starts_with(ACCESS_PREFIX) => {
                return match domain.oauth.app_grant(token).await {
                    Ok(grant) => Ok(Viewer::App(grant)),
                    Err(Error::InvalidAccessToken) => Ok(Viewer::Rejected(Refusal::AccessToken)),
                    Err(err) => Err(err),
                };
            }
            Ok(Some(token)) => {
                return match domain.accounts.authenticate(token).await {
                    Ok(id) => Ok(Viewer::User(id)),
                    Err(Error::Unauthorized(reason)) => {
                        Ok(Viewer::Rejected(Refusal::Credential(reason)))
                    }
                    Err(err) => Err(err),
                };
            }
            Err(reason) => return Ok(Viewer::Rejected(Refusal::Credential(reason))),
            Ok(None) => {}
        }
        let Some(session) =
            csrf::cookie(headers, csrf::SESSION_COOKIE).filter(|_| settings.sessions_enabled)
        else {
            return Ok(Viewer::Anonymous);
        };
        match domain.accounts.session_user(&session).await? {
            Some(id) => {
                if csrf::is_unsafe(method) {
                    csrf::check(headers, settings)?;
                }
                Ok(Viewer::User(id))
            }
            None => Ok(Viewer::Anonymous),
        }
    }
}

impl<S> FromRequestParts<S> for Viewer
where
    Domain: FromRef<S>,
    Arc<Settings>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let settings = Arc::<Settings>::from_ref(state);
        let viewer = Viewer::resolve(
            &Domain::from_ref(state),
            &settings,
            &parts.method,
            &parts.headers,
        )
        .await?;
        let access = parts.extensions.get::<Access>().copied().ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "{} {} reads the viewer but its route declares no access",
                parts.method,
                parts.uri.path()
            ))
        })?;
        viewer.may_call(access, &parts.method)?;
        Ok(viewer)
    }
}

/// The signed-in user's id (by token or session cookie); 401 when there are no credentials or
/// the token is bad.
pub struct AuthUser(pub i64);

/// The viewer's id when credentials are sent; a bad token is still 401.
pub struct MaybeUser(pub Option<i64>);

impl<S> FromRequestParts<S> for MaybeUser
where
    Domain: FromRef<S>,
    Arc<Settings>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(
            Viewer::from_request_parts(parts, state).await?.optional()?,
        ))
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    Domain: FromRef<S>,
    Arc<Settings>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(AuthUser(
            Viewer::from_request_parts(parts, state).await?.required()?,
        ))
    }
}

/// Whether the request carries no credentials at all: its answer depends on the data alone.
pub fn is_anonymous(headers: &HeaderMap) -> bool {
    !headers.contains_key(header::AUTHORIZATION) && !headers.contains_key(header::COOKIE)
}

/// The application access token the request was sent with, if that is its credential: the
/// account's `token` field echoes it to an application instead of minting a JWT, which would
/// carry every right the application was not granted.
pub fn app_token(headers: &HeaderMap) -> Option<&str> {
    bearer_token(headers)
        .ok()
        .flatten()
        .filter(|token| token.starts_with(ACCESS_PREFIX))
}

/// The token of an `Authorization: Token <jwt>` (or `Bearer <jwt>`) header, if one is sent.
fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, &'static str> {
    const SHAPE: &str = "authorization header must be `Token <jwt>`";
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| "malformed authorization header")?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(SHAPE)?;
    if scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer") {
        Ok(Some(token.trim()))
    } else {
        Err(SHAPE)
    }
}
