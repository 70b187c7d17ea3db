//! The one domain error type. Each API maps it exactly once (REST in `api::rest::error`).

use std::collections::BTreeMap;

/// Field name -> messages, as RealWorld's `{"errors": {"field": ["message"]}}`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that parsed but breaks a rule: 422 with per-field messages.
    #[error("validation failed: {0:?}")]
    Validation(FieldErrors),
    /// Missing, malformed, expired or forged credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// An OAuth2 application's access token that is invalid, expired or revoked: 401 that
    /// challenges with `Bearer error="invalid_token"` (RFC 6750 §3.1).
    #[error("unauthorized: {INVALID_ACCESS_TOKEN}")]
    InvalidAccessToken,
    /// Authenticated, but the resource belongs to someone else.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// An unsafe request authenticated by the session cookie failed the CSRF check.
    #[error("csrf: {0}")]
    Csrf(&'static str),
    /// An OAuth2 access token without the scope (named) an operation needs: 403 with
    /// `WWW-Authenticate: Bearer error="insufficient_scope"` (RFC 6750 §3.1).
    #[error("insufficient scope: needs {0}")]
    InsufficientScope(&'static str),
    /// A request of the OAuth2 protocol itself refused, with its registered error code
    /// (RFC 6749 §4.1.2.1, §5.2; RFC 7009, RFC 7662).
    #[error("oauth2 {code}: {description}", code = .0.as_str(), description = .1)]
    OAuth(OAuthCode, std::borrow::Cow<'static, str>),
    /// The named thing does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The thing exists but is not in a state that allows this (a report not ready yet).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Over a rate limit: 429 with `Retry-After` and the `RateLimit` headers.
    #[error("rate limited: {}", .0.class.name())]
    RateLimited(crate::limits::Decision),
    /// A dependency (the database) cannot be reached right now: 503, worth retrying.
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
    /// Anything unexpected; details go to the log, never to the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What an [`Error::InvalidAccessToken`] says.
pub const INVALID_ACCESS_TOKEN: &str = "invalid, expired or revoked access token";

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error codes of the OAuth2 endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
}

impl OAuthCode {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthCode::InvalidRequest => "invalid_request",
            OAuthCode::InvalidClient => "invalid_client",
            OAuthCode::InvalidGrant => "invalid_grant",
            OAuthCode::UnauthorizedClient => "unauthorized_client",
            OAuthCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthCode::UnsupportedResponseType => "unsupported_response_type",
            OAuthCode::InvalidScope => "invalid_scope",
            OAuthCode::AccessDenied => "access_denied",
        }
    }
}

impl Error {
    pub fn oauth(code: OAuthCode, description: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Error::OAuth(code, description.into())
    }

    /// The database's error this one was made from, if it was (and the database was reached).
    pub fn database_error(&self) -> Option<&sea_orm::DbErr> {
        match self {
            Error::Internal(err) => err.downcast_ref(),
            _ => None,
        }
    }

    /// A validation error on one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), vec![message.into()]);
        Error::Validation(errors)
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        if database_unreachable(&err) {
            if pool_timed_out(&err) {
                metrics::counter!("quire_db_pool_acquire_timeouts_total").increment(1);
            }
            tracing::warn!(error = %err, "the database is unreachable");
            Error::Unavailable("the database is unavailable; try again shortly")
        } else {
            Error::Internal(err.into())
        }
    }
}

/// No connection could be had or kept: the pool timed out, or the server went away mid-query.
pub(crate) fn database_unreachable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    match err {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => matches!(
            e.as_ref(),
            Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::Tls(_) | Sqlx::Protocol(_)
        ),
        DbErr::Conn(_) => true,
        _ => false,
    }
}

/// Every connection stayed busy for the whole acquire timeout.
fn pool_timed_out(err: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
    match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => matches!(e.as_ref(), Sqlx::PoolTimedOut),
        _ => false,
    }
}

/// Collects field errors so that one response reports every bad field at once.
#[derive(Default)]
pub struct Violations(FieldErrors);

impl Violations {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    /// Records the error of a parse step and returns its value if it succeeded.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.0))
        }
    }

    /// [`Violations::finish`], then the parsed values: `values` gathers them
    /// (`|| Some((a?, b?))`), `None` only when a step failed, which was then reported.
    pub fn finish_with<T>(self, values: impl FnOnce() -> Option<T>) -> Result<T> {
        self.finish()?;
        values().ok_or_else(|| Error::Internal(anyhow::anyhow!("a parse step failed silently")))
    }
}
