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

fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Quire</title>
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

fn hidden(name: &str, value: &str) -> String {
    format!(
        r#"<input type="hidden" name="{}" value="{}">"#,
        attribute(name),
        attribute(value)
    )
}

/// The sign-in form; `request` is the authorization request's query, carried through.
/// `providers` are the OpenID Connect providers one may sign in with instead.
pub fn login(request: &str, csrf: &str, problem: Option<&str>, providers: &[&str]) -> String {
    let problem = problem
        .map(|p| format!(r#"<p class="problem" role="alert">{}</p>"#, text(p)))
        .unwrap_or_default();
    let back = format!("/oauth/authorize?{request}");
    let back: String = form_urlencoded::byte_serialize(back.as_bytes()).collect();
    let providers: String = providers
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
    page(
        "Sign in",
        &format!(
            r#"<h1>Sign in to continue</h1>
{problem}<form method="post" action="/oauth/login">
{csrf}{request}
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" name="action" value="sign-in">Sign in</button>
</form>
{providers}"#,
            csrf = hidden(CSRF_FIELD, csrf),
            request = hidden("request", request),
        ),
    )
}

/// The consent form: the application, the account, and what it asks to do.
pub fn consent(app: &str, username: &str, scopes: &[Scope], request: &str, csrf: &str) -> String {
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
        "Allow access",
        &format!(
            r#"<h1><span id="app">{app}</span> wants to use your Quire account</h1>
<p>Signed in as <strong id="username">{username}</strong>. If you allow it, {app} may:</p>
<ul id="scopes">
{items}</ul>
<form method="post" action="/oauth/authorize">
{csrf}{request}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
<p>You can revoke this at any time; the app's tokens stop working at once.</p>"#,
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
