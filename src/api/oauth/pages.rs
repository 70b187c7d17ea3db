//! `/oauth/authorize`: the authorization request shown to its user (sign-in first if no
//! session), the consent decision, and the sign-in form's POST (`/oauth/login`). The forms are
//! CSRF-protected as Django's are: the `csrftoken` cookie's value must come back as a field.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use super::answers::{failure, html_page, problem, redirect};
use super::{Params, html};
use crate::auth::refresh::random_text;
use crate::config::Settings;
use crate::domain::Domain;
use crate::domain::oauth::authorize::{AuthorizationParams, Refusal, ValidRequest};
use crate::domain::users::Credentials;
use crate::error::{Error, Result};
use crate::http::body::read_form;
use crate::http::csrf::{self, CSRF_FIELD, SESSION_COOKIE};
use crate::http::rate_limit;

/// `GET /oauth/authorize`.
#[utoipa::path(
    get,
    path = "/oauth/authorize",
    tag = "OAuth2",
    operation_id = "OAuthAuthorize",
    summary = "The authorization endpoint: sign-in and consent pages (HTML), then a redirect with the code",
    params(
        ("response_type" = String, Query, description = "`code`"),
        ("client_id" = String, Query, description = "The registered client"),
        ("redirect_uri" = Option<String>, Query, description = "One of the client's registered URIs, exactly"),
        ("scope" = Option<String>, Query, description = "Space-separated: `read`, `write`, `profile`"),
        ("state" = Option<String>, Query, description = "Returned as given"),
        ("code_challenge" = Option<String>, Query, description = "PKCE (RFC 7636), S256"),
        ("code_challenge_method" = Option<String>, Query, description = "`S256`"),
    ),
    responses(
        (status = 200, description = "The sign-in or consent page (text/html)"),
        (status = 303, description = "Back to the client's redirect URI with `code` and `state`, or an `error`"),
        (status = 400, description = "A request the page cannot show (unknown client, a redirect URI not registered): an HTML page, never a redirect"),
        (status = "default", description = "Any other refusal (429, 503), as an HTML page"),
    ),
)]
pub async fn authorize(
    State(domain): State<Domain>,
    State(settings): State<Arc<Settings>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let query = uri.query().unwrap_or_default();
    let request = match check(&domain, &settings, query).await {
        Ok(request) => request,
        Err(refused) => return refused,
    };
    match signed_in(&domain, &headers).await {
        Ok(Some(user_id)) => {
            ask_or_approve(&domain, &settings, &headers, user_id, &request, query).await
        }
        Ok(None) => {
            let page = Login::new(&request, query);
            login_page(&settings, &headers, page, StatusCode::OK)
        }
        Err(err) => failure(err),
    }
}

/// `POST /oauth/authorize`: the user's answer on the consent page.
#[utoipa::path(
    post,
    path = "/oauth/authorize",
    tag = "OAuth2",
    operation_id = "OAuthDecide",
    summary = "The consent page's answer (a form with its CSRF token)",
    request_body(content_type = "application/x-www-form-urlencoded", description = "The request's parameters, `decision` (`allow` or `deny`) and `csrf_token`"),
    responses(
        (status = 303, description = "Back to the client's redirect URI with `code`, or `error=access_denied`"),
        (status = 400, description = "A request the page cannot show (unknown client, a redirect URI not registered): an HTML page, never a redirect"),
        (status = 403, description = "A missing or wrong CSRF token"),
        (status = "default", description = "Any other refusal (413, 415 for a body that is no form, 429, 503), as an HTML page"),
    ),
)]
pub async fn decide(
    State(domain): State<Domain>,
    State(settings): State<Arc<Settings>>,
    request: Request,
) -> Response {
    let Posted {
        headers,
        form,
        query,
    } = match Posted::read(request, &settings).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let request = match check(&domain, &settings, &query).await {
        Ok(request) => request,
        Err(refused) => return refused,
    };
    let user_id = match signed_in(&domain, &headers).await {
        Ok(Some(user_id)) => user_id,
        Ok(None) => {
            let page = Login::new(&request, &query);
            return login_page(&settings, &headers, page, StatusCode::OK);
        }
        Err(err) => return failure(err),
    };
    match form.one("decision").ok().flatten() {
        Some("allow") => match domain.oauth.approve(user_id, &request).await {
            Ok(location) => redirect(StatusCode::SEE_OTHER, &location),
            Err(err) => failure(err),
        },
        Some("deny") => redirect(StatusCode::SEE_OTHER, &request.denied()),
        _ => problem(StatusCode::BAD_REQUEST, "choose Allow or Deny"),
    }
}

/// `POST /oauth/login`: signs in with a session cookie, then back to the request.
#[utoipa::path(
    post,
    path = "/oauth/login",
    tag = "OAuth2",
    operation_id = "OAuthLogin",
    summary = "The sign-in page's form: starts a cookie session, then back to the authorization request",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`email`, `password`, `csrf_token` and the authorization request's parameters"),
    responses(
        (status = 303, description = "Signed in: back to /oauth/authorize"),
        (status = 200, description = "The page again, saying why (wrong e-mail or password)"),
        (status = 403, description = "A missing or wrong CSRF token"),
        (status = "default", description = "Any other refusal (413, 415 for a body that is no form, 429, 503), as an HTML page"),
    ),
)]
pub async fn login(
    State(domain): State<Domain>,
    State(settings): State<Arc<Settings>>,
    request: Request,
) -> Response {
    let Posted {
        headers,
        form,
        query,
    } = match Posted::read(request, &settings).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let request = match check(&domain, &settings, &query).await {
        Ok(request) => request,
        Err(refused) => return refused,
    };
    let email = form.owned("email").ok().flatten();
    let credentials = Credentials {
        email: email.clone(),
        password: form.owned("password").ok().flatten(),
    };
    let again = |problem| Login {
        email: email.as_deref(),
        problem: Some(problem),
        ..Login::new(&request, &query)
    };
    let session = match domain.accounts.start_session(credentials).await {
        Ok((_, session)) => session,
        Err(Error::Unauthorized(_) | Error::Validation(_)) => {
            let page = again("Wrong e-mail or password.");
            return login_page(&settings, &headers, page, StatusCode::UNAUTHORIZED);
        }
        Err(Error::RateLimited(decision)) => {
            let page = again("Too many attempts: wait a minute and try again.");
            let mut page = login_page(&settings, &headers, page, StatusCode::TOO_MANY_REQUESTS);
            rate_limit::add_refusal_headers(page.headers_mut(), &decision);
            return page;
        }
        Err(err) => return failure(err),
    };
    if let Some(previous) = csrf::cookie(&headers, SESSION_COOKIE)
        && let Err(err) = domain.accounts.end_session(&previous).await
    {
        return failure(err);
    }
    let secure = csrf::secure_cookies(&settings);
    let mut response = redirect(StatusCode::SEE_OTHER, &format!("/oauth/authorize?{query}"));
    csrf::set_signed_in(response.headers_mut(), &session, secure);
    response
}

/// The authorization request in `query`, checked; or the page or redirect that refuses it.
async fn check(
    domain: &Domain,
    settings: &Settings,
    query: &str,
) -> Result<ValidRequest, Response> {
    if !settings.sessions_enabled {
        return Err(problem(
            StatusCode::NOT_FOUND,
            "signing in here needs cookie sessions, which this server has turned off",
        ));
    }
    let params = parameters(&Params::parse(query.as_bytes()))
        .map_err(|err| problem(StatusCode::BAD_REQUEST, &err.to_string()))?;
    domain
        .oauth
        .check_authorization(&params)
        .await
        .map_err(|refusal| match refusal {
            Refusal::Shown(message) => problem(StatusCode::BAD_REQUEST, &message),
            Refusal::Redirected(location) => redirect(StatusCode::FOUND, &location),
            Refusal::Failed(err) => failure(err),
        })
}

fn parameters(params: &Params) -> Result<AuthorizationParams> {
    Ok(AuthorizationParams {
        response_type: params.owned("response_type")?,
        client_id: params.owned("client_id")?,
        redirect_uri: params.owned("redirect_uri")?,
        scope: params.owned("scope")?,
        state: params.owned("state")?,
        code_challenge: params.owned("code_challenge")?,
        code_challenge_method: params.owned("code_challenge_method")?,
    })
}

/// The query re-encoded from its parameters: what goes back into a page or a `Location` is
/// plain form encoding, whatever was sent.
fn canonical_query(query: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form_urlencoded::parse(query.as_bytes()))
        .finish()
}

async fn ask_or_approve(
    domain: &Domain,
    settings: &Settings,
    headers: &HeaderMap,
    user_id: i64,
    request: &ValidRequest,
    query: &str,
) -> Response {
    let remembered = match domain.oauth.consent_remembered(user_id, request).await {
        Ok(remembered) => remembered,
        Err(err) => return failure(err),
    };
    if remembered {
        return match domain.oauth.approve(user_id, request).await {
            Ok(location) => redirect(StatusCode::FOUND, &location),
            Err(err) => failure(err),
        };
    }
    let username = match domain.accounts.current_user(user_id).await {
        Ok(user) => user.username,
        Err(err) => return failure(err),
    };
    let (csrf_token, new_cookie) = page_csrf_token(headers);
    let body = html::consent(
        &settings.mail.site_name,
        &request.client.name,
        &username,
        &request.scopes.list(),
        (&canonical_query(query), &csrf_token),
    );
    let secure = csrf::secure_cookies(settings);
    html_page(
        StatusCode::OK,
        body,
        new_cookie.then_some((&csrf_token, secure)),
    )
}

/// The user of the request's session cookie, if any.
async fn signed_in(domain: &Domain, headers: &HeaderMap) -> Result<Option<i64>> {
    match csrf::cookie(headers, SESSION_COOKIE) {
        Some(session) => domain.accounts.session_user(&session).await,
        None => Ok(None),
    }
}

/// A form posted by one of the pages, having passed the CSRF check, with the authorization
/// request it carries (its query, re-encoded).
struct Posted {
    headers: HeaderMap,
    form: Params,
    query: String,
}

impl Posted {
    async fn read(request: Request, settings: &Settings) -> Result<Posted, Response> {
        let headers = request.headers().clone();
        let body = read_form(request, settings.body_timeout)
            .await
            .map_err(|err| problem(err.status(), err.message()))?;
        let form = Params::parse(&body);
        let sent = form.one(CSRF_FIELD).ok().flatten();
        csrf::check_form(&headers, settings, sent).map_err(|err| match err {
            Error::Csrf(reason) => problem(
                StatusCode::FORBIDDEN,
                &format!("{reason}. Go back, reload the page and try again."),
            ),
            err => failure(err),
        })?;
        let query = canonical_query(form.one("request").ok().flatten().unwrap_or_default());
        Ok(Posted {
            headers,
            form,
            query,
        })
    }
}

/// The token a page's form sends back: the cookie's, or a new one (then also set as the
/// cookie).
pub(crate) fn page_csrf_token(headers: &HeaderMap) -> (String, bool) {
    match csrf::issued_token(headers) {
        Some(token) => (token, false),
        None => (random_text(32), true),
    }
}

/// The sign-in page of one authorization request.
struct Login<'a> {
    app: &'a str,
    query: &'a str,
    email: Option<&'a str>,
    problem: Option<&'a str>,
}

impl<'a> Login<'a> {
    fn new(request: &'a ValidRequest, query: &'a str) -> Self {
        Login {
            app: &request.client.name,
            query,
            email: None,
            problem: None,
        }
    }
}

fn login_page(
    settings: &Settings,
    headers: &HeaderMap,
    login: Login<'_>,
    status: StatusCode,
) -> Response {
    let (csrf_token, new_cookie) = page_csrf_token(headers);
    let providers: Vec<&str> = settings
        .oidc_providers
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let request = canonical_query(login.query);
    let body = html::login(&html::LoginPage {
        site: &settings.mail.site_name,
        app: login.app,
        email: login.email,
        request: &request,
        csrf: &csrf_token,
        problem: login.problem,
        providers: &providers,
    });
    let secure = csrf::secure_cookies(settings);
    html_page(status, body, new_cookie.then_some((&csrf_token, secure)))
}
