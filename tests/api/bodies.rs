//! A request body is exactly one JSON object in its envelope, sent as JSON: anything else is a
//! clear JSON 4xx, on REST and GraphQL alike.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{PASSWORD, TestApp, unique};

/// A raw POST with the given content type (none when `None`) and body.
async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: &str,
    token: Option<&str>,
) -> crate::support::Response {
    let mut request = app.client.post(app.url(path)).body(body.to_owned());
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(token) = token {
        request = request.header("authorization", format!("Token {token}"));
    }
    app.raw(request).await
}

#[tokio::test]
async fn only_json_media_types_are_read() {
    let app = TestApp::spawn().await;
    let username = unique("media");
    let email = format!("{username}@example.com");
    app.post(
        "/api/users",
        None,
        json!({"user": {"username": username, "email": email, "password": PASSWORD}}),
    )
    .await;
    let login = json!({"user": {"email": email, "password": PASSWORD}}).to_string();
    // A cross-site form or `fetch` may send these without a preflight: never accepted.
    for content_type in [
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/xml"),
        Some("application/jsonx"),
        None,
    ] {
        let response = post_raw(&app, "/api/users/login", content_type, &login, None).await;
        response.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    for content_type in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.api+json",
    ] {
        let response = post_raw(&app, "/api/users/login", Some(content_type), &login, None).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{content_type}: {}",
            response.text
        );
    }
    let (_, token) = app.user().await;
    let article = json!({"article": {"title": "t", "description": "d", "body": "b"}}).to_string();
    post_raw(
        &app,
        "/api/articles",
        Some("text/plain"),
        &article,
        Some(&token),
    )
    .await
    .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // GraphQL: the same rule, in GraphQL's error shape.
    let query = json!({"query": "{ tags }"}).to_string();
    for content_type in [Some("text/plain"), Some("application/graphql"), None] {
        let response = post_raw(&app, "/graphql", content_type, &query, None).await;
        assert_eq!(
            response.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{}",
            response.text
        );
        assert_eq!(
            response.body["errors"][0]["extensions"]["code"],
            "UNSUPPORTED_MEDIA_TYPE"
        );
    }
}

#[tokio::test]
async fn a_body_is_exactly_one_object_in_its_envelope() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    let email = format!("{}@example.com", unique("shape"));
    let valid =
        json!({"user": {"username": unique("shape"), "email": email, "password": PASSWORD}});
    let json_type = Some("application/json");
    for (body, field) in [
        (format!("{valid} garbage"), "body"),
        (format!("{valid}{valid}"), "body"),
        (format!("{valid} 1"), "body"),
        (format!("[{valid}]"), "body"),
        ("[]".to_owned(), "body"),
        ("\"user\"".to_owned(), "body"),
        ("null".to_owned(), "body"),
        ("42".to_owned(), "body"),
        (
            r#"{"user": ["name", "a@example.com", "password123"]}"#.to_owned(),
            "user",
        ),
        (r#"{"user": "name"}"#.to_owned(), "user"),
        (
            r#"{"user": {"username": ["a"], "email": "a@example.com", "password": "password123"}}"#
                .to_owned(),
            "username",
        ),
        (
            r#"{"user": {"username": "a", "email": 5, "password": "password123"}}"#.to_owned(),
            "email",
        ),
        (r#"{"user": "#.to_owned(), "body"),
    ] {
        let response = post_raw(&app, "/api/users", json_type, &body, None).await;
        response.assert_field_error(field);
    }
    // Nothing of the refused bodies was written: the valid one registers now.
    let response = post_raw(&app, "/api/users", json_type, &valid.to_string(), None).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);

    for (path, body, field) in [
        (
            "/api/articles",
            r#"{"article": ["t", "d", "b"]}"#,
            "article",
        ),
        (
            "/api/articles",
            r#"{"article": {"title": "t", "description": "d", "body": "b", "tagList": "x"}}"#,
            "tagList",
        ),
        (
            "/api/articles",
            r#"{"article": {"title": "t", "description": "d", "body": "b"}} {}"#,
            "body",
        ),
    ] {
        let response = post_raw(&app, path, json_type, body, Some(&token)).await;
        response.assert_field_error(field);
    }
    let slug = app.article(&token, "Shapes", &[]).await;
    let response = post_raw(
        &app,
        &format!("/api/articles/{slug}/comments"),
        json_type,
        r#"{"comment": ["hello"]}"#,
        Some(&token),
    )
    .await;
    response.assert_field_error("comment");
    let comments = app
        .get(&format!("/api/articles/{slug}/comments"), None)
        .await;
    assert_eq!(comments.body["comments"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_graphql_body_is_one_request() {
    let app = TestApp::spawn().await;
    let json_type = Some("application/json");
    for body in [
        r#"[{"query": "{ tags }"}]"#,
        r#"[{"query": "{ tags }"}, {"query": "{ tags }"}]"#,
        r#"["{ tags }"]"#,
        r#"{"query": "{ tags }"} garbage"#,
        r#"{"query": "{ tags }"}{"query": "{ tags }"}"#,
        r#""{ tags }""#,
    ] {
        let response = post_raw(&app, "/graphql", json_type, body, None).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            response.text
        );
        assert_eq!(
            response.body["errors"][0]["extensions"]["code"],
            "BAD_REQUEST"
        );
        assert!(response.body.get("data").is_none(), "{}", response.text);
    }
}
