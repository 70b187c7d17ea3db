//! Bearer tokens with refresh: rotation, reuse detection, logout, logout everywhere, and
//! revocation by a password change seen by every instance.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestApp};

async fn token_pair(app: &TestApp, username: &str) -> Value {
    let response = app
        .post(
            "/api/auth/token",
            None,
            json!({"email": format!("{username}@example.com"), "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.body
}

async fn refresh(app: &TestApp, refresh_token: &Value) -> crate::support::Response {
    app.post(
        "/api/auth/refresh",
        None,
        json!({ "refreshToken": refresh_token }),
    )
    .await
}

/// The status of `GET /api/user` with `Authorization: Bearer <token>`.
async fn bearer_status(app: &TestApp, token: &Value) -> StatusCode {
    let request = app.client.get(app.url("/api/user")).header(
        "authorization",
        format!("Bearer {}", token.as_str().unwrap()),
    );
    app.raw(request).await.status
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_family() {
    // A one-second reuse window, so that "later" comes soon.
    let app = TestApp::spawn_with(&[("refresh_reuse_seconds", "1")]).await;
    let (username, _) = app.user().await;
    let pair = token_pair(&app, &username).await;
    assert_eq!(pair["tokenType"], "Bearer");
    assert!(pair["expiresIn"].as_u64().unwrap() <= 900);
    assert_eq!(
        bearer_status(&app, &pair["accessToken"]).await,
        StatusCode::OK
    );

    let renewed = refresh(&app, &pair["refreshToken"]).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    assert_ne!(renewed.body["refreshToken"], pair["refreshToken"]);
    assert_eq!(
        bearer_status(&app, &renewed.body["accessToken"]).await,
        StatusCode::OK
    );

    // The spent token again after the reuse window: a stolen copy. The whole family goes,
    // the newest token too.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let reused = refresh(&app, &pair["refreshToken"]).await;
    reused.assert_error(StatusCode::UNAUTHORIZED);
    assert!(reused.text.contains("already used"), "{}", reused.text);
    refresh(&app, &renewed.body["refreshToken"])
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    // Another login is another family, untouched.
    let other = token_pair(&app, &username).await;
    assert_eq!(
        refresh(&app, &other["refreshToken"]).await.status,
        StatusCode::OK
    );

    // Bad requests are clear.
    app.post("/api/auth/refresh", None, json!({}))
        .await
        .assert_field_error("refreshToken");
    refresh(&app, &json!("not-a-token"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    app.post(
        "/api/auth/token",
        None,
        json!({"email": format!("{username}@example.com"), "password": "wrong-password"}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED);
}

/// Two tabs refreshing at once (or a retry after a lost answer): every attempt within the
/// reuse window gets the same successor, and the login stays alive.
#[tokio::test]
async fn concurrent_refreshes_with_one_token_all_get_the_same_successor() {
    let app = TestApp::spawn().await;
    let (username, _) = app.user().await;
    let pair = token_pair(&app, &username).await;
    let attempts = (0..8).map(|_| refresh(&app, &pair["refreshToken"]));
    let responses = join_all(attempts).await;
    for response in &responses {
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        assert_eq!(
            response.body["refreshToken"], responses[0].body["refreshToken"],
            "every retry gets the one successor"
        );
        assert_eq!(
            bearer_status(&app, &response.body["accessToken"]).await,
            StatusCode::OK
        );
    }
    // The successor works: the family was not revoked.
    let next = refresh(&app, &responses[0].body["refreshToken"]).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.text);
}

#[tokio::test]
async fn logout_revokes_the_family_and_logout_all_every_token() {
    let app = TestApp::spawn().await;
    let (username, realworld_token) = app.user().await;
    let first = token_pair(&app, &username).await;
    let second = token_pair(&app, &username).await;

    let out = app
        .post(
            "/api/auth/logout",
            None,
            json!({"refreshToken": first["refreshToken"]}),
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    refresh(&app, &first["refreshToken"])
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    assert_eq!(
        bearer_status(&app, &second["accessToken"]).await,
        StatusCode::OK
    );

    let everywhere = app
        .post("/api/auth/logout-all", Some(&realworld_token), json!({}))
        .await;
    assert_eq!(
        everywhere.status,
        StatusCode::NO_CONTENT,
        "{}",
        everywhere.text
    );
    app.get("/api/user", Some(&realworld_token))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    assert_eq!(
        bearer_status(&app, &second["accessToken"]).await,
        StatusCode::UNAUTHORIZED
    );
    refresh(&app, &second["refreshToken"])
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    app.post("/api/auth/logout-all", None, json!({}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);

    // Signing in again works at once.
    let fresh = token_pair(&app, &username).await;
    assert_eq!(
        bearer_status(&app, &fresh["accessToken"]).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_password_change_revokes_older_tokens_on_every_instance() {
    let (a, b) = TestApp::spawn_pair(&[]).await;
    let (username, old_token) = a.user().await;
    let pair = token_pair(&a, &username).await;
    assert_eq!(
        b.get("/api/user", Some(&old_token)).await.status,
        StatusCode::OK
    );

    let changed = a
        .put(
            "/api/user",
            Some(&old_token),
            json!({"user": {"password": "a-new-password-1"}}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let new_token = changed.body["user"]["token"].as_str().unwrap().to_owned();

    for instance in [&a, &b] {
        instance
            .get("/api/user", Some(&old_token))
            .await
            .assert_error(StatusCode::UNAUTHORIZED);
        assert_eq!(
            bearer_status(instance, &pair["accessToken"]).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            instance.get("/api/user", Some(&new_token)).await.status,
            StatusCode::OK
        );
    }
    refresh(&b, &pair["refreshToken"])
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    // A profile edit that keeps the password revokes nothing.
    let edited = b
        .put(
            "/api/user",
            Some(&new_token),
            json!({"user": {"bio": "still here"}}),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK);
    assert_eq!(
        a.get("/api/user", Some(&new_token)).await.status,
        StatusCode::OK
    );
}
