//! The OAuth2 endpoints' refusals: malformed token requests (RFC 6749 §5.2), authorization
//! requests that cannot be trusted or answered, the forms' CSRF checks, the metadata document,
//! and the sign-in budget on the token endpoint.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::oauth::{REDIRECT, authorization, client, http, in_browser, param, register_app};
use crate::support::{Jar, TestApp};

/// A form's fields.
type Form<'a> = &'a [(&'a str, &'a str)];

async fn form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> crate::support::Response {
    app.raw(app.client.post(app.url(path)).form(fields)).await
}

#[tokio::test]
async fn bad_token_requests_get_rfc_6749_errors() {
    let app = TestApp::spawn().await;
    let registered = register_app(&app, false, "read").await;
    let id = registered.client_id.as_str();
    let cases: &[(Form, u16, &str)] = &[
        (&[("client_id", id)], 400, "invalid_request"),
        (
            &[("client_id", id), ("grant_type", "password")],
            400,
            "unsupported_grant_type",
        ),
        (
            &[("grant_type", "authorization_code")],
            401,
            "invalid_client",
        ),
        (
            &[
                ("client_id", "qc_nobody"),
                ("grant_type", "client_credentials"),
            ],
            401,
            "invalid_client",
        ),
        (
            &[("client_id", id), ("grant_type", "authorization_code")],
            400,
            "invalid_request",
        ),
        (
            &[
                ("client_id", id),
                ("grant_type", "authorization_code"),
                ("code", "qoc_x"),
            ],
            400,
            "invalid_grant",
        ),
        (
            &[
                ("client_id", id),
                ("grant_type", "refresh_token"),
                ("refresh_token", "x"),
            ],
            400,
            "invalid_grant",
        ),
        (
            &[
                ("client_id", id),
                ("client_id", id),
                ("grant_type", "client_credentials"),
            ],
            400,
            "invalid_request",
        ),
        (
            &[("client_id", "a\0b"), ("grant_type", "client_credentials")],
            400,
            "invalid_request",
        ),
    ];
    for (fields, status, error) in cases {
        let response = form(&app, "/oauth/token", fields).await;
        assert_eq!(
            response.status.as_u16(),
            *status,
            "{fields:?}: {}",
            response.text
        );
        assert_eq!(
            response.body["error"], *error,
            "{fields:?}: {}",
            response.text
        );
        assert!(response.body["error_description"].is_string());
        assert_eq!(response.headers["cache-control"], "no-store");
    }
    let json_body = app
        .post(
            "/oauth/token",
            None,
            json!({"grant_type": "client_credentials"}),
        )
        .await;
    assert_eq!(json_body.status, StatusCode::BAD_REQUEST);
    assert_eq!(json_body.body["error"], "invalid_request");
    let unauthenticated = form(
        &app,
        "/oauth/token",
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert!(unauthenticated.headers.contains_key("www-authenticate"));
}

#[tokio::test]
async fn authorization_requests_that_cannot_be_trusted_are_shown_and_others_sent_back() {
    let app = TestApp::spawn().await;
    let (user, _) = app.user().await;
    let registered = register_app(&app, false, "read").await;
    let id = registered.client_id.as_str();
    let get = |query: String| {
        let app = &app;
        async move {
            app.raw(http().get(app.url(&format!("/oauth/authorize?{query}"))))
                .await
        }
    };
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let encoded =
        |value: &str| form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    let redirect = encoded(REDIRECT);
    // Unknown client or unregistered redirect URI: a page, never a redirect.
    for query in [
        format!("response_type=code&client_id=qc_nobody&redirect_uri={redirect}"),
        format!(
            "response_type=code&client_id={id}&redirect_uri={}",
            encoded("https://evil.example/cb")
        ),
        format!("response_type=code&redirect_uri={redirect}"),
    ] {
        let page = get(query.clone()).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(!page.headers.contains_key("location"), "{query}");
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
    // Anything else goes back to the client with the error and the state.
    for (query, error) in [
        (
            format!(
                "client_id={id}&state=s1&code_challenge={challenge}&code_challenge_method=S256"
            ),
            "invalid_request",
        ),
        (
            format!("response_type=token&client_id={id}&state=s1"),
            "unsupported_response_type",
        ),
        (
            format!("response_type=code&client_id={id}&state=s1"),
            "invalid_request",
        ),
        (
            format!(
                "response_type=code&client_id={id}&state=s1&code_challenge={challenge}&code_challenge_method=plain"
            ),
            "invalid_request",
        ),
        (
            format!("response_type=code&client_id={id}&state=s1&code_challenge={challenge}"),
            "invalid_request",
        ),
        (
            format!(
                "response_type=code&client_id={id}&state=s1&code_challenge=short&code_challenge_method=S256"
            ),
            "invalid_request",
        ),
        (
            format!(
                "response_type=code&client_id={id}&state=s1&scope=write&code_challenge={challenge}&code_challenge_method=S256"
            ),
            "invalid_scope",
        ),
        (
            format!(
                "response_type=code&client_id={id}&state=s1&scope=admin&code_challenge={challenge}&code_challenge_method=S256"
            ),
            "invalid_scope",
        ),
    ] {
        let sent = get(query.clone()).await;
        assert_eq!(sent.status, StatusCode::FOUND, "{query}: {}", sent.text);
        let location = sent.headers["location"].to_str().unwrap();
        assert!(location.starts_with(REDIRECT), "{location}");
        assert_eq!(param(location, "error").as_deref(), Some(error), "{query}");
        assert_eq!(param(location, "state").as_deref(), Some("s1"), "{query}");
    }

    // Saying no sends the user back with access_denied.
    let client = client(&app, &registered);
    let (url, _, state) = authorization(&client, &["read"]);
    let location = in_browser(&app, &mut Jar::default(), &url, &user, "deny").await;
    assert_eq!(param(&location, "error").as_deref(), Some("access_denied"));
    assert_eq!(
        param(&location, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert!(param(&location, "code").is_none());
}

#[tokio::test]
async fn the_login_and_consent_forms_need_their_csrf_token_and_the_right_password() {
    let app = TestApp::spawn_with(&[("site_name", "Daily <Quire>")]).await;
    let (user, _) = app.user().await;
    let registered = register_app(&app, false, "read").await;
    let (url, _, _) = authorization(&client(&app, &registered), &["read"]);
    let page = app.raw(http().get(&url)).await;
    assert_eq!(page.status, StatusCode::OK);
    // The page names the site and the application asking, escaped.
    assert!(page.text.contains("Daily &lt;Quire&gt;"), "{}", page.text);
    let app_name = html_escape::encode_text(&registered.name).into_owned();
    assert!(page.text.contains(&app_name), "{}", page.text);
    let cookie = page.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let token = cookie.split_once('=').unwrap().1.to_owned();
    let request = url.split_once('?').unwrap().1.to_owned();
    let email = format!("{user}@example.com");
    let post = |path: &'static str, fields: Vec<(&'static str, String)>, cookie: Option<String>| {
        let app = &app;
        async move {
            let mut request = http().post(app.url(path)).form(&fields);
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie);
            }
            app.raw(request).await
        }
    };
    let login = |token: &str, password: &str| {
        vec![
            ("csrfmiddlewaretoken", token.to_owned()),
            ("request", request.clone()),
            ("email", email.clone()),
            ("password", password.to_owned()),
        ]
    };
    let forged = post(
        "/oauth/login",
        login("forged", crate::support::PASSWORD),
        Some(cookie.clone()),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text);
    let no_cookie = post(
        "/oauth/login",
        login(&token, crate::support::PASSWORD),
        None,
    )
    .await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    let wrong = post(
        "/oauth/login",
        login(&token, "wrong-password-here"),
        Some(cookie.clone()),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text.contains("Wrong e-mail or password"));
    // The address typed stays in its field; the application is still named.
    let kept = format!(r#"value="{}""#, email.to_lowercase());
    assert!(wrong.text.contains(&kept), "{}", wrong.text);
    assert!(wrong.text.contains(&app_name), "{}", wrong.text);
    let signed_in = post(
        "/oauth/login",
        login(&token, crate::support::PASSWORD),
        Some(cookie.clone()),
    )
    .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.text
    );
    assert!(
        signed_in.headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/oauth/authorize?")
    );

    // The consent form with a session but without the token is refused.
    let session: Vec<String> = signed_in
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let decision = vec![
        ("request", request.clone()),
        ("decision", "allow".to_owned()),
    ];
    let refused = post("/oauth/authorize", decision, Some(session.join("; "))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.headers.contains_key("location"));
}

#[tokio::test]
async fn the_metadata_document_names_every_endpoint() {
    let app = TestApp::spawn().await;
    let metadata = app
        .get("/.well-known/oauth-authorization-server", None)
        .await;
    assert_eq!(metadata.status, StatusCode::OK);
    let issuer = metadata.body["issuer"].as_str().unwrap().to_owned();
    assert_eq!(issuer, app.base);
    for (field, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("revocation_endpoint", "/oauth/revoke"),
        ("introspection_endpoint", "/oauth/introspect"),
    ] {
        assert_eq!(metadata.body[field], format!("{issuer}{path}"));
    }
    assert_eq!(
        metadata.body["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(
        metadata.body["scopes_supported"],
        json!(["read", "write", "profile"])
    );
    let grants: Vec<Value> = metadata.body["grant_types_supported"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(grants.len(), 3);
    let configured = TestApp::spawn_with(&[("public_url", "https://quire.example/")]).await;
    let metadata = configured
        .get("/.well-known/oauth-authorization-server", None)
        .await;
    assert_eq!(
        metadata.body["token_endpoint"],
        "https://quire.example/oauth/token"
    );
}

#[tokio::test]
async fn the_token_endpoint_spends_the_sign_in_budget() {
    let app = TestApp::spawn_with(&[
        ("rate_limits_enabled", "true"),
        ("rate_limit_auth", "3/min"),
    ])
    .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = form(
            &app,
            "/oauth/token",
            &[("grant_type", "client_credentials"), ("client_id", "qc_x")],
        )
        .await;
        statuses.push(response.status.as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
}
