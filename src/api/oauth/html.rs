//! The authorization server's pages: sign in, consent, and what went wrong. Server-rendered,
//! no script; every value written into them is escaped.

use html_escape::{encode_double_quoted_attribute as attribute, encode_text as text};

use crate::domain::oauth_clients::Scope;
use crate::http::csrf::CSRF_FIELD;

/// What a scope lets an application do, in the consent page's words.
fn describe(scope: Scope) -> &'static str {
    match scope {
        Scope::Read => "read everything you can see, including your feed",
        Scope::Write => {
            "publish, edit and delete articles and comments, follow and favorite as you"
        }
        Scope::Profile => "see your e-mail address",
    }
}

/// A whole page; `title` is the document's title as the browser shows it.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; color: #222; }}
h1 {{ font-size: 1.4rem; }}
label {{ display: block; margin: .8rem 0 .2rem; }}
input[type=email], input[type=password] {{ width: 100%; padding: .5rem; box-sizing: border-box; }}
button {{ padding: .5rem 1.2rem; margin: 1rem .5rem 0 0; font-size: 1rem; }}
.problem {{ color: #a00; }}
li {{ margin: .3rem 0; }}
</style>
</head>
<body>
{body}
</body>
</html>
"#,
        title = text(title),
    )
}

pub(crate) fn hidden(name: &str, value: &str) -> String {
    format!(
        r#"<input type="hidden" name="{}" value="{}">"#,
        attribute(name),
        attribute(value)
    )
}

/// What the sign-in page shows.
pub struct LoginPage<'a> {
    /// This site's name (`QUIRE_SITE_NAME`).
    pub site: &'a str,
    /// The application the user signs in for.
    pub app: &'a str,
    /// The address typed last time (kept after a wrong password).
    pub email: Option<&'a str>,
    /// The authorization request's query, carried through.
    pub request: &'a str,
    pub csrf: &'a str,
    pub problem: Option<&'a str>,
    /// The OpenID Connect providers one may sign in with instead.
    pub providers: &'a [&'a str],
}

/// The sign-in form, naming the site and the application that asks.
pub fn login(form: &LoginPage<'_>) -> String {
    let problem = form
        .problem
        .map(|p| format!(r#"<p class="problem" role="alert">{}</p>"#, text(p)))
        .unwrap_or_default();
    let back = format!("/oauth/authorize?{}", form.request);
    let back: String = form_urlencoded::byte_serialize(back.as_bytes()).collect();
    let providers: String = form
        .providers
        .iter()
        .map(|name| {
            format!(
                r#"<p><a class="provider" href="/auth/oidc/{name}/start?return_to={back}">Sign in with {name}</a></p>
"#,
                name = attribute(name),
                back = attribute(&back),
            )
        })
        .collect();
    let (email, focus_email, focus_password) = match form.email {
        Some(email) => (attribute(email).into_owned(), "", " autofocus"),
        None => (String::new(), " autofocus", ""),
    };
    page(
        &format!("Sign in · {}", form.site),
        &format!(
            r#"<h1>Sign in to <span id="site">{site}</span></h1>
<p><strong id="app">{app}</strong> wants to use your {site} account. Sign in to continue.</p>
{problem}<form method="post" action="/oauth/login">
{csrf}{request}
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="username" value="{email}" required{focus_email}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required{focus_password}>
<button type="submit" name="action" value="sign-in">Sign in</button>
</form>
<p><a href="/reset-password">Forgot your password?</a></p>
{providers}"#,
            site = text(form.site),
            app = text(form.app),
            csrf = hidden(CSRF_FIELD, form.csrf),
            request = hidden("request", form.request),
        ),
    )
}

/// The consent form: the application, the account, and what it asks to do.
pub fn consent(
    site: &str,
    app: &str,
    username: &str,
    scopes: &[Scope],
    (request, csrf): (&str, &str),
) -> String {
    let items: String = scopes
        .iter()
        .map(|scope| {
            format!(
                "<li><strong>{}</strong>: {}</li>\n",
                scope.name(),
                text(describe(*scope))
            )
        })
        .collect();
    page(
        &format!("Allow access · {site}"),
        &format!(
            r#"<h1><span id="app">{app}</span> wants to use your <span id="site">{site}</span> account</h1>
<p>Signed in as <strong id="username">{username}</strong>. If you allow it, {app} may:</p>
<ul id="scopes">
{items}</ul>
<form method="post" action="/oauth/authorize">
{csrf}{request}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
<p>You can revoke this at any time; the app's tokens stop working at once.</p>"#,
            site = text(site),
            app = text(app),
            username = text(username),
            csrf = hidden(CSRF_FIELD, csrf),
            request = hidden("request", request),
        ),
    )
}

/// A request that cannot go on, said to the user (never sent to an unverified client).
pub fn problem(message: &str) -> String {
    page(
        "Cannot continue",
        &format!(
            r#"<h1>This request cannot continue</h1>
<p class="problem" role="alert">{}</p>"#,
            text(message)
        ),
    )
}
