//! PATCH: a partial update of the user, an article and a webhook; other routes answer 405.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn patch_changes_only_the_fields_it_names() {
    let app = TestApp::spawn().await;
    let (username, token) = app.user().await;
    let patched = app
        .send(
            reqwest::Method::PATCH,
            "/api/user",
            Some(&token),
            Some(json!({"user": {"bio": "patched bio"}})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["user"]["bio"], "patched bio");
    assert_eq!(patched.body["user"]["username"], username.as_str());

    let slug = app.article(&token, "Patched", &["patching"]).await;
    let path = format!("/api/articles/{slug}");
    let patched = app
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(&token),
            Some(json!({"article": {"body": "only the body"}})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    let article = &app.get(&path, None).await.body["article"];
    assert_eq!(article["body"], "only the body");
    assert_eq!(article["title"], "Patched");
    assert_eq!(article["tagList"], json!(["patching"]));
    let (_, stranger) = app.user().await;
    let refused = app
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(&stranger),
            Some(json!({"article": {"body": "mine now"}})),
        )
        .await;
    refused.assert_error(StatusCode::FORBIDDEN);

    let invalid = app
        .send(
            reqwest::Method::PATCH,
            "/api/user",
            Some(&token),
            Some(json!({"user": {"email": "not an address"}})),
        )
        .await;
    invalid.assert_field_error("email");
    // A route without PATCH says so, as JSON.
    let tags = app
        .send(
            reqwest::Method::PATCH,
            "/api/tags",
            Some(&token),
            Some(json!({})),
        )
        .await;
    assert_eq!(tags.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(tags.body.get("errors").is_some(), "{}", tags.text);
}

#[tokio::test]
async fn a_webhook_is_patched_paused_and_taken_back_into_use() {
    let app = TestApp::spawn_with(&[("webhook_allow_hosts", "127.0.0.1")]).await;
    let (_, token) = app.user().await;
    let created = app
        .post(
            "/api/webhooks",
            Some(&token),
            json!({"webhook": {"url": "http://127.0.0.1:9/hook", "events": ["article.published"]}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let path = format!("/api/webhooks/{}", created.body["webhook"]["id"]);
    let patch = |body: serde_json::Value| {
        app.send(
            reqwest::Method::PATCH,
            &path,
            Some(&token),
            Some(json!({"webhook": body})),
        )
    };

    let paused = patch(json!({"enabled": false})).await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    assert_eq!(paused.body["webhook"]["enabled"], false);
    assert!(
        paused.body["webhook"].get("secret").is_none(),
        "the secret is shown once"
    );
    let resumed = patch(json!({"enabled": true, "events": ["comment.created"]})).await;
    assert_eq!(resumed.body["webhook"]["enabled"], true, "{}", resumed.text);
    assert_eq!(
        resumed.body["webhook"]["disabledReason"],
        serde_json::Value::Null
    );
    assert_eq!(
        resumed.body["webhook"]["events"],
        json!(["comment.created"])
    );
    assert_eq!(resumed.body["webhook"]["url"], "http://127.0.0.1:9/hook");

    patch(json!({"events": ["no.such.event"]}))
        .await
        .assert_field_error("events");
    patch(json!({"url": "http://169.254.169.254/"}))
        .await
        .assert_field_error("url");
    let (_, stranger) = app.user().await;
    let theirs = app
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(&stranger),
            Some(json!({"webhook": {"enabled": false}})),
        )
        .await;
    theirs.assert_error(StatusCode::NOT_FOUND);
}
