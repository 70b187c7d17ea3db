//! Who is asking: one resolution of the `Authorization` header for every API.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::domain::Domain;
use crate::error::Error;

/// The viewer of a request. A token that fails verification is kept as such, so that an API
/// can decide per operation: REST refuses every request that sends one (401), GraphQL still
/// runs `login` and `register`.
#[derive(Debug, Clone, Copy)]
pub enum Viewer {
    Anonymous,
    User(i64),
    Rejected(&'static str),
}

impl Viewer {
    /// The viewer's id, if signed in; an error if the token was bad.
    pub fn optional(self) -> Result<Option<i64>, Error> {
        match self {
            Viewer::Anonymous => Ok(None),
            Viewer::User(id) => Ok(Some(id)),
            Viewer::Rejected(reason) => Err(Error::Unauthorized(reason)),
        }
    }

    /// The viewer's id; an error unless signed in.
    pub fn required(self) -> Result<i64, Error> {
        self.optional()?.ok_or(Error::Unauthorized(
            "sign in first: send `Authorization: Token <jwt>`",
        ))
    }

    /// Resolves the request's credentials. Only a failure to check them (the database is
    /// down) is an error; a bad token is [`Viewer::Rejected`].
    pub async fn resolve(domain: &Domain, headers: &HeaderMap) -> Result<Viewer, Error> {
        let token = match bearer_token(headers) {
            Ok(None) => return Ok(Viewer::Anonymous),
            Ok(Some(token)) => token,
            Err(reason) => return Ok(Viewer::Rejected(reason)),
        };
        match domain.authenticate(token).await {
            Ok(id) => Ok(Viewer::User(id)),
            Err(Error::Unauthorized(reason)) => Ok(Viewer::Rejected(reason)),
            Err(err) => Err(err),
        }
    }
}

impl<S> FromRequestParts<S> for Viewer
where
    Domain: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Viewer::resolve(&Domain::from_ref(state), &parts.headers).await
    }
}

/// The signed-in user's id; 401 when the header is missing or the token is bad.
pub struct AuthUser(pub i64);

/// The viewer's id when a token is sent; a bad token is still 401.
pub struct MaybeUser(pub Option<i64>);

impl<S> FromRequestParts<S> for MaybeUser
where
    Domain: FromRef<S>,
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
