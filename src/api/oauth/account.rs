//! The pages the links in Quire's mail open: confirming an address (`/verify-email`), choosing
//! a new password (`/reset-password`) and freeing an address an account claimed without
//! proving it (`/release-email`), plus the form that asks for a reset link.
//! A GET only shows a form (a mail scanner following the link spends nothing); the POST does
//! the work. The forms carry no CSRF token: the mailed token they post is itself the secret a
//! forged request would need.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use html_escape::encode_text as text;

use super::Params;
use super::answers::{failure, html_page, problem};
use super::html::{hidden, page};
use crate::config::Settings;
use crate::domain::accounts::Accounts;
use crate::error::Error;
use crate::http::body::read_form;
use crate::http::extract::QueryParams;

/// `GET /verify-email?token=...`: names the account and the address, with a button that
/// confirms it (so that nobody confirms their address for someone else's account unawares).
pub async fn verify_form(
    State(accounts): State<Accounts>,
    State(settings): State<Arc<Settings>>,
    params: QueryParams,
) -> Response {
    let Some(token) = params.get("token").filter(|t| !t.is_empty()) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "this link has no token: open the link from the mail whole",
        );
    };
    let target = match accounts.verification_target(token).await {
        Ok(Some(target)) => target,
        Ok(None) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "This link is invalid, expired or already used: ask for a new one from your account.",
            );
        }
        Err(err) => return failure(err),
    };
    let body = format!(
        r#"<h1>Confirm your e-mail address</h1>
<p>Confirm that <strong id="email">{email}</strong> is yours, for the {site} account <strong id="username">{username}</strong>. If that account is not yours, close this page.</p>
<form method="post" action="/verify-email">
{token}
<button type="submit">Confirm my address</button>
</form>"#,
        email = text(&target.email),
        username = text(&target.username),
        site = text(&settings.mail.site_name),
        token = hidden("token", token),
    );
    shown(&settings, StatusCode::OK, "Confirm your address", &body)
}

/// `POST /verify-email`.
pub async fn verify(
    State(accounts): State<Accounts>,
    State(settings): State<Arc<Settings>>,
    request: Request,
) -> Response {
    let form = match read(request, &settings).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let site = &settings.mail.site_name;
    match accounts
        .verify_email(form.owned("token").ok().flatten())
        .await
    {
        Ok(verified) => {
            let body = format!(
                r#"<h1>Address confirmed</h1>
<p role="status"><strong id="email">{}</strong> is confirmed for your {} account. You can close this page.</p>"#,
                text(&verified.email),
                text(site)
            );
            shown(&settings, StatusCode::OK, "Address confirmed", &body)
        }
        Err(err) => refused(
            err,
            "This link is invalid, expired or already used: ask for a new one from your account.",
        ),
    }
}

/// `GET /release-email?token=...`: a button that frees the address from the account that
/// only claims it.
pub async fn release_form(State(settings): State<Arc<Settings>>, params: QueryParams) -> Response {
    let Some(token) = params.get("token").filter(|t| !t.is_empty()) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "this link has no token: open the link from the mail whole",
        );
    };
    let site = &settings.mail.site_name;
    let body = format!(
        r#"<h1>Free your e-mail address</h1>
<p>A {site} account gave your address without ever confirming it. Free the address to sign up or sign in with it yourself; that account keeps everything else.</p>
<form method="post" action="/release-email">
{token}
<button type="submit">Free my address</button>
</form>"#,
        site = text(site),
        token = hidden("token", token),
    );
    shown(&settings, StatusCode::OK, "Free your address", &body)
}

/// `POST /release-email`.
pub async fn release(
    State(accounts): State<Accounts>,
    State(settings): State<Arc<Settings>>,
    request: Request,
) -> Response {
    let form = match read(request, &settings).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    match accounts
        .release_email(form.owned("token").ok().flatten())
        .await
    {
        Ok(email) => {
            let body = format!(
                r#"<h1>Address freed</h1>
<p role="status"><strong id="email">{}</strong> is yours to use: sign up or sign in with it.</p>"#,
                text(&email)
            );
            shown(&settings, StatusCode::OK, "Address freed", &body)
        }
        Err(err) => refused(
            err,
            "This link is invalid, expired or already used, or the address was confirmed since.",
        ),
    }
}

/// `GET /reset-password[?token=...]`: the new-password form for a live token; without one (or
/// for a dead one) the form that asks for a link.
pub async fn reset_form(
    State(accounts): State<Accounts>,
    State(settings): State<Arc<Settings>>,
    params: QueryParams,
) -> Response {
    let Some(token) = params.get("token").filter(|t| !t.is_empty()) else {
        return request_form(&settings, None, StatusCode::OK);
    };
    match accounts.reset_token_is_live(token).await {
        Ok(true) => password_form(&settings, token, None, StatusCode::OK),
        Ok(false) => request_form(
            &settings,
            Some("This link is invalid, expired or already used: ask for a new one."),
            StatusCode::BAD_REQUEST,
        ),
        Err(err) => failure(err),
    }
}

/// `POST /reset-password`: sets the password.
pub async fn reset(
    State(accounts): State<Accounts>,
    State(settings): State<Arc<Settings>>,
    request: Request,
) -> Response {
    let form = match read(request, &settings).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let token = form.owned("token").ok().flatten().unwrap_or_default();
    let password = form.owned("password").ok().flatten();
    match accounts.reset_password(Some(token.clone()), password).await {
        Ok(()) => {
            let body = r#"<h1>Password reset</h1>
<p role="status">Your new password is set, and every device that was signed in is signed out. Sign in again with the new password.</p>"#;
            shown(&settings, StatusCode::OK, "Password reset", body)
        }
        Err(Error::Validation(fields)) if fields.contains_key("password") => {
            let reason = format!("The password {}.", fields["password"].join(", "));
            password_form(&settings, &token, Some(&reason), StatusCode::BAD_REQUEST)
        }
        Err(err) => refused(
            err,
            "This link is invalid, expired or already used: ask for a new one.",
        ),
    }
}

/// `POST /reset-password/request`: mails a link, answering alike whether or not the address
/// has an account.
pub async fn request_link(
    State(accounts): State<Accounts>,
    State(settings): State<Arc<Settings>>,
    request: Request,
) -> Response {
    let form = match read(request, &settings).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    match accounts
        .request_password_reset(form.owned("email").ok().flatten())
        .await
    {
        Ok(()) => {
            let body = r#"<h1>Check your mail</h1>
<p role="status">If this address is the verified address of an account, a link to choose a new password is on its way. It works once, within an hour.</p>"#;
            shown(&settings, StatusCode::ACCEPTED, "Check your mail", body)
        }
        Err(Error::Validation(_)) => request_form(
            &settings,
            Some("Enter the e-mail address of your account."),
            StatusCode::BAD_REQUEST,
        ),
        Err(err) => failure(err),
    }
}

fn request_form(settings: &Settings, problem: Option<&str>, status: StatusCode) -> Response {
    let body = format!(
        r#"<h1>Forgot your password?</h1>
{problem}<p>Enter your account's e-mail address: if it is verified, we mail it a link to choose a new password.</p>
<form method="post" action="/reset-password/request">
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus>
<button type="submit">Mail me a link</button>
</form>"#,
        problem = alert(problem),
    );
    shown(settings, status, "Reset your password", &body)
}

fn password_form(
    settings: &Settings,
    token: &str,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let body = format!(
        r#"<h1>Choose a new password</h1>
{problem}<form method="post" action="/reset-password">
{token}
<label for="password">New password (at least 8 characters)</label>
<input id="password" name="password" type="password" autocomplete="new-password" minlength="8" maxlength="128" required autofocus>
<button type="submit">Set my password</button>
</form>"#,
        problem = alert(problem),
        token = hidden("token", token),
    );
    shown(settings, status, "Choose a new password", &body)
}

/// A page titled `title` and this site's name.
fn shown(settings: &Settings, status: StatusCode, title: &str, body: &str) -> Response {
    let title = format!("{title} · {}", settings.mail.site_name);
    html_page(status, page(&title, body), None)
}

fn alert(problem: Option<&str>) -> String {
    problem
        .map(|p| format!(r#"<p class="problem" role="alert">{}</p>"#, text(p)))
        .unwrap_or_default()
}

/// The posted form, or the page that refuses it.
async fn read(request: Request, settings: &Settings) -> Result<Params, Response> {
    let body = read_form(request, settings.body_timeout)
        .await
        .map_err(|err| problem(err.status(), err.message()))?;
    Ok(Params::parse(&body))
}

/// A refusal as a page: a bad token in the words of `invalid`, a rate limit or an outage as
/// every page says them.
fn refused(err: Error, invalid: &str) -> Response {
    match err {
        Error::Validation(_) => problem(StatusCode::BAD_REQUEST, invalid),
        err => failure(err),
    }
}
