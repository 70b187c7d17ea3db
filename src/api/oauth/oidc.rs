//! Signing in with an OpenID Connect provider: `/auth/oidc/{provider}/start` sends the browser
//! to the provider (state, nonce and PKCE sealed in a short-lived cookie), `/callback` verifies
//! what comes back, signs the user in (linking or creating the account, `domain::oidc`) with a
//! cookie session, or hands a single-page app a one-time code for `POST /api/auth/oidc`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use subtle::ConstantTimeEq;

use super::answers::{failure, problem, redirect};
use super::issuer;
use crate::auth::oidc::Attempt;
use crate::config::Settings;
use crate::domain::Domain;
use crate::error::Error;
use crate::http::csrf::{self, SESSION_COOKIE};
use crate::http::extract::{PathParams, QueryParams};

const ATTEMPT_COOKIE: &str = "quire_oidc";
const ATTEMPT_COOKIE_SECONDS: i64 = 600;

/// `GET /auth/oidc/{provider}/start?return_to=...&mode=spa`.
pub async fn start(
    State(domain): State<Domain>,
    State(settings): State<Arc<Settings>>,
    headers: HeaderMap,
    PathParams(provider): PathParams<String>,
    params: QueryParams,
) -> Response {
    let spa = params.get("mode") == Some("spa");
    if !spa && !settings.sessions_enabled {
        return problem(
            StatusCode::NOT_FOUND,
            "cookie sessions are turned off on this server: sign in with mode=spa",
        );
    }
    let Some(return_to) = safe_return(params.get("return_to"), &settings) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "return_to must be a path on this server or a URL of an allowed origin (QUIRE_CORS_ORIGINS)",
        );
    };
    let callback = callback_uri(&settings, &headers, &provider);
    match domain
        .oidc
        .start(&provider, &callback, return_to, spa)
        .await
    {
        Ok((url, sealed)) => {
            let mut response = redirect(StatusCode::FOUND, &url);
            response.headers_mut().append(
                header::SET_COOKIE,
                csrf::attempt_cookie(
                    ATTEMPT_COOKIE,
                    &sealed,
                    ATTEMPT_COOKIE_SECONDS,
                    csrf::secure_cookies(&settings),
                ),
            );
            response
        }
        Err(Error::NotFound(_)) => problem(StatusCode::NOT_FOUND, "no such sign-in provider"),
        Err(err) => failure(err),
    }
}

/// `GET /auth/oidc/{provider}/callback?code=...&state=...`.
pub async fn callback(
    State(domain): State<Domain>,
    State(settings): State<Arc<Settings>>,
    headers: HeaderMap,
    PathParams(provider): PathParams<String>,
    params: QueryParams,
) -> Response {
    let attempt = match spend_attempt(&domain, &headers, &provider, &params).await {
        Ok(attempt) => attempt,
        Err(refusal) => return refusal,
    };
    if params.get("error").is_some() {
        return problem(
            StatusCode::UNAUTHORIZED,
            "the sign-in was not completed at the provider",
        );
    }
    let Some(code) = params.get("code") else {
        return problem(StatusCode::BAD_REQUEST, "the provider sent no code");
    };
    let callback = callback_uri(&settings, &headers, &provider);
    let signed_in = match csrf::cookie(&headers, SESSION_COOKIE) {
        Some(session) if settings.sessions_enabled => {
            match domain.accounts.session_user(&session).await {
                Ok(user) => user,
                Err(err) => return failure(err),
            }
        }
        _ => None,
    };
    let user_id = match domain.oidc.finish(&attempt, &callback, code).await {
        Ok(identity) => domain.accounts.sign_in_with(&identity, signed_in).await,
        Err(err) => Err(err),
    };
    let user_id = match user_id {
        Ok(user_id) => user_id,
        Err(Error::Unauthorized(reason)) => return problem(StatusCode::UNAUTHORIZED, reason),
        Err(Error::Conflict(reason)) => return problem(StatusCode::CONFLICT, reason),
        Err(Error::Validation(fields)) => {
            let reason = fields
                .values()
                .flatten()
                .next()
                .cloned()
                .unwrap_or_default();
            return problem(StatusCode::BAD_REQUEST, &reason);
        }
        Err(err) => return failure(err),
    };
    let secure = csrf::secure_cookies(&settings);
    let mut response = match signed_in_answer(&domain, &headers, &attempt, user_id, secure).await {
        Ok(response) => response,
        Err(err) => return failure(err),
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, csrf::removal(ATTEMPT_COOKIE, secure));
    response
}

/// The sign-in attempt this callback finishes: started here (its sealed cookie), with the
/// state the provider echoed, and spent now so that it cannot be replayed.
async fn spend_attempt(
    domain: &Domain,
    headers: &HeaderMap,
    provider: &str,
    params: &QueryParams,
) -> Result<Attempt, Response> {
    let attempt = csrf::cookie(headers, ATTEMPT_COOKIE)
        .and_then(|sealed| domain.oidc.open(&sealed))
        .filter(|attempt| attempt.provider == *provider);
    let Some(attempt) = attempt else {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "this sign-in was not started here, or took too long: start again",
        ));
    };
    let state_matches = params
        .get("state")
        .is_some_and(|state| bool::from(state.as_bytes().ct_eq(attempt.state.as_bytes())));
    if !state_matches {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "the sign-in's state does not match: start again",
        ));
    }
    // Each attempt is usable once, on every instance: a replayed callback stops here, whatever
    // the provider would make of its code.
    if let Err(err) = domain
        .accounts
        .spend_oidc_attempt(&attempt.state, attempt.expires_at_ms())
        .await
    {
        return Err(match err {
            Error::Unauthorized(reason) => problem(StatusCode::BAD_REQUEST, reason),
            err => failure(err),
        });
    }
    Ok(attempt)
}

/// Back where the sign-in started, signed in: a single-page app gets a one-time code to
/// exchange for tokens, a browser page a new session (replacing the one it had).
async fn signed_in_answer(
    domain: &Domain,
    headers: &HeaderMap,
    attempt: &Attempt,
    user_id: i64,
    secure: bool,
) -> Result<Response, Error> {
    if attempt.spa {
        let code = domain.accounts.hand_off(user_id).await?;
        return Ok(redirect(
            StatusCode::SEE_OTHER,
            &with_code(&attempt.return_to, &code),
        ));
    }
    let session = domain.accounts.start_session_for(user_id).await?;
    if let Some(previous) = csrf::cookie(headers, SESSION_COOKIE) {
        domain.accounts.end_session(&previous).await?;
    }
    let mut response = redirect(StatusCode::SEE_OTHER, &attempt.return_to);
    csrf::set_signed_in(response.headers_mut(), &session, secure);
    Ok(response)
}

fn callback_uri(settings: &Settings, headers: &HeaderMap, provider: &str) -> String {
    format!(
        "{}/auth/oidc/{provider}/callback",
        issuer(settings, headers)
    )
}

/// `return_to` if it is safe to send a signed-in user to: a path on this server (not `//…`,
/// which browsers read as another host), or a URL of an origin on `QUIRE_CORS_ORIGINS`.
fn safe_return(return_to: Option<&str>, settings: &Settings) -> Option<String> {
    let return_to = return_to.unwrap_or("/");
    if return_to.chars().any(|c| c.is_control() || c == '\\') || return_to.len() > 2048 {
        return None;
    }
    if return_to.starts_with('/') && !return_to.starts_with("//") {
        return Some(return_to.to_owned());
    }
    let uri: axum::http::Uri = return_to.parse().ok()?;
    let origin = format!("{}://{}", uri.scheme_str()?, uri.authority()?);
    let allowed = settings.cors_origins.as_ref()?;
    allowed.contains(&origin).then(|| return_to.to_owned())
}

/// `url` with the one-time code added to its query.
fn with_code(url: &str, code: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("code", code)
        .finish();
    format!("{url}{separator}{query}")
}
