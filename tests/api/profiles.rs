use reqwest::StatusCode;

use crate::support::TestApp;

#[tokio::test]
async fn profile_shows_public_fields_only_and_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let (username, _) = app.user().await;
    let response = app
        .get(&format!("/api/profiles/{}", username.to_uppercase()), None)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let profile = &response.body["profile"];
    assert_eq!(profile["username"], username.as_str());
    assert_eq!(profile["following"], false);
    let mut keys: Vec<&str> = profile
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["bio", "following", "image", "username"]);
    assert!(
        !response.text.contains("@example.com"),
        "a profile must not show an e-mail"
    );
}

#[tokio::test]
async fn missing_profile_is_404() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    app.get("/api/profiles/nobody-here-at-all", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    app.post(
        "/api/profiles/nobody-here-at-all/follow",
        Some(&token),
        serde_json::json!({}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn follow_and_unfollow_are_per_viewer_and_idempotent() {
    let app = TestApp::spawn().await;
    let (celeb, _) = app.user().await;
    let (_, fan) = app.user().await;
    let (_, other) = app.user().await;
    let path = format!("/api/profiles/{celeb}/follow");

    for _ in 0..2 {
        let followed = app.post(&path, Some(&fan), serde_json::json!({})).await;
        assert_eq!(followed.status, StatusCode::OK, "{}", followed.text);
        assert_eq!(followed.body["profile"]["following"], true);
    }
    let seen_by_fan = app.get(&format!("/api/profiles/{celeb}"), Some(&fan)).await;
    assert_eq!(seen_by_fan.body["profile"]["following"], true);
    let seen_by_other = app
        .get(&format!("/api/profiles/{celeb}"), Some(&other))
        .await;
    assert_eq!(seen_by_other.body["profile"]["following"], false);
    let anonymous = app.get(&format!("/api/profiles/{celeb}"), None).await;
    assert_eq!(anonymous.body["profile"]["following"], false);

    for _ in 0..2 {
        let unfollowed = app.delete(&path, Some(&fan)).await;
        assert_eq!(unfollowed.status, StatusCode::OK);
        assert_eq!(unfollowed.body["profile"]["following"], false);
    }
    let seen_by_fan = app.get(&format!("/api/profiles/{celeb}"), Some(&fan)).await;
    assert_eq!(seen_by_fan.body["profile"]["following"], false);
}

#[tokio::test]
async fn following_needs_a_token_and_another_user() {
    let app = TestApp::spawn().await;
    let (me, token) = app.user().await;
    app.post(
        &format!("/api/profiles/{me}/follow"),
        None,
        serde_json::json!({}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED);
    app.delete(&format!("/api/profiles/{me}/follow"), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    app.post(
        &format!("/api/profiles/{me}/follow"),
        Some(&token),
        serde_json::json!({}),
    )
    .await
    .assert_field_error("username");
}
