use reqwest::StatusCode;

use crate::support::TestApp;

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let app = TestApp::spawn().await;
    app.get("/api/nothing-here", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    app.get("/nothing-here", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    let response = app.raw(app.client.patch(app.url("/api/articles"))).await;
    response.assert_error(StatusCode::METHOD_NOT_ALLOWED);
    let response = app.raw(app.client.delete(app.url("/api/tags"))).await;
    response.assert_error(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers["content-type"], "application/json");
}

#[tokio::test]
async fn oversized_bodies_are_413_json() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    let huge = format!(
        "{{\"article\": {{\"title\": \"t\", \"description\": \"d\", \"body\": \"{}\"}}}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let response = app
        .raw(
            app.client
                .post(app.url("/api/articles"))
                .header("Authorization", format!("Token {token}"))
                .header("content-type", "application/json")
                .body(huge),
        )
        .await;
    response.assert_error(StatusCode::PAYLOAD_TOO_LARGE);
    // Under the request limit but over the field limit: a field error, not a 413.
    let long = serde_json::json!({"article": {"title": "t", "description": "d", "body": "x".repeat(100_001)}});
    app.post("/api/articles", Some(&token), long)
        .await
        .assert_field_error("body");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/tags", None).await;
    assert!(!response.headers["x-request-id"].is_empty());
    let response = app
        .raw(
            app.client
                .get(app.url("/api/tags"))
                .header("x-request-id", "abc-123"),
        )
        .await;
    assert_eq!(response.headers["x-request-id"], "abc-123");
    // An id that would bloat or break log lines is replaced by a fresh one.
    for unfit in ["x".repeat(129), "with space".to_owned()] {
        let response = app
            .raw(
                app.client
                    .get(app.url("/api/tags"))
                    .header("x-request-id", unfit.as_str()),
            )
            .await;
        let given = response.headers["x-request-id"].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(given).is_ok(), "{given}");
    }
}

#[tokio::test]
async fn health_probes_answer() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/health/live", None).await.status, StatusCode::OK);
    let ready = app.get("/health/ready", None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["database"], "ok");
}

#[tokio::test]
async fn cors_preflight_is_answered_for_browser_frontends() {
    let app = TestApp::spawn().await;
    let response = app
        .raw(
            app.client
                .request(reqwest::Method::OPTIONS, app.url("/api/articles"))
                .header("Origin", "http://localhost:4200")
                .header("Access-Control-Request-Method", "POST")
                .header(
                    "Access-Control-Request-Headers",
                    "authorization,content-type",
                ),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.headers.contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn nul_characters_are_refused_cleanly_everywhere() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    let body = serde_json::json!({"user": {"username": "nul\u{0}name", "email": "nul@example.com", "password": "password-ok"}});
    app.post("/api/users", None, body)
        .await
        .assert_field_error("username");
    let article = serde_json::json!({"article": {"title": "t\u{0}", "description": "d", "body": "b", "tagList": ["a\u{0}"]}});
    let response = app.post("/api/articles", Some(&token), article).await;
    response.assert_field_error("title");
    response.assert_field_error("tagList");
    app.get("/api/profiles/a%00b", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    app.get("/api/articles/a%00b", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    app.get("/api/articles?tag=a%00b", None)
        .await
        .assert_field_error("tag");
    app.get("/api/articles?author=a%00b", None)
        .await
        .assert_field_error("author");
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/tags", None).await;
    assert_eq!(response.headers["x-content-type-options"], "nosniff");
    assert_eq!(response.headers["x-frame-options"], "DENY");
    assert_eq!(response.headers["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn the_bench_ceiling_route_exists_only_when_enabled() {
    let app = TestApp::spawn().await;
    app.get("/bench/ceiling?bytes=5000", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    let bench = TestApp::spawn_with(&[("bench_endpoints", "true")]).await;
    let response = bench.get("/bench/ceiling?bytes=5000", None).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.text.len(), 5000);
    assert!(response.body["pad"].is_string());
}

#[tokio::test]
async fn production_tells_browsers_to_keep_to_https() {
    let production = TestApp::spawn_with(&[
        ("env", "production"),
        ("cors_origins", "https://app.example"),
    ])
    .await;
    let response = production.get("/api/tags", None).await;
    let hsts = response.headers["strict-transport-security"]
        .to_str()
        .unwrap();
    assert!(hsts.starts_with("max-age=31536000"), "{hsts}");
    let development = TestApp::spawn().await;
    let response = development.get("/api/tags", None).await;
    assert!(response.headers.get("strict-transport-security").is_none());
}
