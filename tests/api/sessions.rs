//! Browser sessions with Django-style CSRF protection.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Jar, PASSWORD, Response, TestApp};

/// Sends a request with the jar's cookies; `csrf` adds `X-CSRFToken` with the jar's token.
async fn send(
    app: &TestApp,
    jar: &mut Jar,
    method: Method,
    path: &str,
    body: Option<Value>,
    csrf: bool,
    extra: &[(&str, &str)],
) -> Response {
    let mut request = app.client.request(method, app.url(path));
    if !jar.0.is_empty() {
        request = request.header("cookie", jar.header());
    }
    if csrf && let Some(token) = jar.get("csrftoken") {
        request = request.header("x-csrftoken", token.to_owned());
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = app.raw(request).await;
    jar.take(&response);
    response
}

/// A fresh browser that has fetched its CSRF token.
async fn with_csrf_token(app: &TestApp) -> Jar {
    let mut jar = Jar::default();
    let csrf = send(
        app,
        &mut jar,
        Method::GET,
        "/api/session/csrf",
        None,
        false,
        &[],
    )
    .await;
    assert_eq!(csrf.body["csrfToken"], jar.get("csrftoken").unwrap());
    jar
}

/// Signs `username` in with a cookie; returns the browser's jar.
async fn sign_in(app: &TestApp, username: &str) -> Jar {
    let mut jar = with_csrf_token(app).await;
    let credentials =
        json!({"user": {"email": format!("{username}@example.com"), "password": PASSWORD}});
    let signed_in = send(
        app,
        &mut jar,
        Method::POST,
        "/api/session",
        Some(credentials),
        true,
        &[],
    )
    .await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    jar
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_token_for_every_unsafe_request() {
    let app = TestApp::spawn().await;
    let (username, token) = app.user().await;
    let credentials =
        json!({"user": {"email": format!("{username}@example.com"), "password": PASSWORD}});

    // Login CSRF: no token, a wrong one, or no cookie at all are refused.
    let mut jar = with_csrf_token(&app).await;
    for (csrf, extra) in [(false, vec![]), (false, vec![("x-csrftoken", "forged")])] {
        let refused = send(
            &app,
            &mut jar.clone(),
            Method::POST,
            "/api/session",
            Some(credentials.clone()),
            csrf,
            &extra,
        )
        .await;
        let errors = refused.assert_error(StatusCode::FORBIDDEN);
        assert!(errors["csrf"].is_array(), "{}", refused.text);
    }
    let before = jar.get("csrftoken").unwrap().to_owned();
    let signed_in = send(
        &app,
        &mut jar,
        Method::POST,
        "/api/session",
        Some(credentials.clone()),
        true,
        &[],
    )
    .await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    assert_eq!(signed_in.body["user"]["username"], username.as_str());
    assert!(signed_in.body["user"].get("token").is_none());
    let session_cookie = signed_in
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("quire_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session_cookie.contains(attribute), "{session_cookie}");
    }
    assert_ne!(
        jar.get("csrftoken").unwrap(),
        before,
        "the CSRF token is rotated at sign-in"
    );

    // Safe requests need no token.
    let me = send(
        &app,
        &mut jar,
        Method::GET,
        "/api/session",
        None,
        false,
        &[],
    )
    .await;
    assert_eq!(me.body["user"]["username"], username.as_str());
    let user = send(&app, &mut jar, Method::GET, "/api/user", None, false, &[]).await;
    assert_eq!(user.status, StatusCode::OK);

    // Unsafe ones do, and must not come from another site.
    let article = json!({"article": {"title": "By cookie", "description": "d", "body": "b"}});
    for (csrf, extra) in [
        (false, vec![]),
        (true, vec![("origin", "https://evil.example")]),
        (true, vec![("sec-fetch-site", "cross-site")]),
    ] {
        let refused = send(
            &app,
            &mut jar.clone(),
            Method::POST,
            "/api/articles",
            Some(article.clone()),
            csrf,
            &extra,
        )
        .await;
        assert!(
            refused.assert_error(StatusCode::FORBIDDEN)["csrf"].is_array(),
            "{}",
            refused.text
        );
    }
    let host = app.base.trim_start_matches("http://").to_owned();
    let same_origin = format!("http://{host}");
    let created = send(
        &app,
        &mut jar,
        Method::POST,
        "/api/articles",
        Some(article.clone()),
        true,
        &[
            ("origin", same_origin.as_str()),
            ("sec-fetch-site", "same-origin"),
        ],
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);

    // A header token is not ambient: exempt, even beside the cookie.
    let by_token = app
        .post("/api/articles", Some(&token), article.clone())
        .await;
    assert_eq!(by_token.status, StatusCode::CREATED);

    // GraphQL: mutations (any POST) by cookie need the token; queries by GET do not.
    let mutation = json!({"query": "mutation { createArticle(input: {title: \"G\", description: \"d\", body: \"b\"}) { slug } }"});
    let refused = send(
        &app,
        &mut jar.clone(),
        Method::POST,
        "/graphql",
        Some(mutation.clone()),
        false,
        &[],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert_eq!(
        refused.body["errors"][0]["extensions"]["code"],
        "CSRF_FAILED"
    );
    let done = send(
        &app,
        &mut jar,
        Method::POST,
        "/graphql",
        Some(mutation),
        true,
        &[],
    )
    .await;
    assert!(
        done.body["data"]["createArticle"]["slug"].is_string(),
        "{}",
        done.text
    );
    let query = send(
        &app,
        &mut jar,
        Method::GET,
        "/graphql?query=%7B%20me%20%7B%20username%20%7D%20%7D",
        None,
        false,
        &[],
    )
    .await;
    assert_eq!(
        query.body["data"]["me"]["username"],
        username.as_str(),
        "{}",
        query.text
    );

    // Signing out needs the token too, then the cookie authenticates nothing.
    let stale = jar.clone();
    send(
        &app,
        &mut jar.clone(),
        Method::DELETE,
        "/api/session",
        None,
        false,
        &[],
    )
    .await
    .assert_error(StatusCode::FORBIDDEN);
    let out = send(
        &app,
        &mut jar,
        Method::DELETE,
        "/api/session",
        None,
        true,
        &[],
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(jar.get("quire_session").is_none(), "the cookie is removed");
    let mut stale = stale;
    send(
        &app,
        &mut stale,
        Method::GET,
        "/api/session",
        None,
        false,
        &[],
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED);
    send(&app, &mut stale, Method::GET, "/api/user", None, false, &[])
        .await
        .assert_error(StatusCode::UNAUTHORIZED);

    // Wrong credentials are 401, as for tokens.
    let mut jar = with_csrf_token(&app).await;
    let wrong =
        json!({"user": {"email": format!("{username}@example.com"), "password": "wrong-password"}});
    send(
        &app,
        &mut jar,
        Method::POST,
        "/api/session",
        Some(wrong),
        true,
        &[],
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logging_out_everywhere_ends_sessions_too() {
    let app = TestApp::spawn().await;
    let (username, token) = app.user().await;
    let mut jar = sign_in(&app, &username).await;
    assert_eq!(
        send(
            &app,
            &mut jar,
            Method::GET,
            "/api/session",
            None,
            false,
            &[]
        )
        .await
        .status,
        StatusCode::OK
    );
    app.post("/api/auth/logout-all", Some(&token), json!({}))
        .await;
    send(
        &app,
        &mut jar,
        Method::GET,
        "/api/session",
        None,
        false,
        &[],
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_session_is_shared_by_instances_over_redis_and_ends_everywhere() {
    // In-process sessions belong to one instance: sharing them needs Redis.
    let Some(redis) = crate::support::required_redis() else {
        return;
    };
    let (a, b) = TestApp::spawn_pair(&[("redis_url", redis.as_str())]).await;
    let (username, _) = a.user().await;
    let mut jar = sign_in(&a, &username).await;
    let on_b = send(&b, &mut jar, Method::GET, "/api/user", None, false, &[]).await;
    assert_eq!(on_b.status, StatusCode::OK, "{}", on_b.text);
    let stale = jar.clone();
    let out = send(
        &a,
        &mut jar,
        Method::DELETE,
        "/api/session",
        None,
        true,
        &[],
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let mut stale = stale;
    send(&b, &mut stale, Method::GET, "/api/user", None, false, &[])
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
}
