//! Every resource is reachable: one trailing slash answers as none, no slug is a route's name,
//! and every username is one addressable path segment.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{PASSWORD, TestApp, unique};

#[tokio::test]
async fn one_trailing_slash_answers_as_the_bare_route() {
    let app = TestApp::spawn().await;
    let username = unique("slash");
    let registered = app
        .post(
            "/api/users/",
            None,
            json!({"user": {"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}}),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.text
    );
    let token = registered.body["user"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let login = app
        .post(
            "/api/users/login/",
            None,
            json!({"user": {"email": format!("{username}@example.com"), "password": PASSWORD}}),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);

    // The Angular frontend publishes with a trailing slash: no redirect, the body arrives.
    let created = app
        .post(
            "/api/articles/",
            Some(&token),
            json!({"article": {"title": "Slashed", "description": "d", "body": "b", "tagList": ["slash"]}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let slug = created.body["article"]["slug"].as_str().unwrap().to_owned();

    for (method, path, status) in [
        (Method::GET, "/api/user/".to_owned(), StatusCode::OK),
        (Method::GET, "/api/tags/".to_owned(), StatusCode::OK),
        (Method::GET, "/api/articles/".to_owned(), StatusCode::OK),
        (
            Method::GET,
            "/api/articles/feed/".to_owned(),
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("/api/articles/{slug}/"),
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("/api/articles/{slug}/comments/"),
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("/api/articles/{slug}/favorite/"),
            StatusCode::OK,
        ),
        (
            Method::DELETE,
            format!("/api/articles/{slug}/favorite/"),
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("/api/profiles/{username}/"),
            StatusCode::OK,
        ),
        (Method::GET, "/health/live/".to_owned(), StatusCode::OK),
    ] {
        let response = app.send(method.clone(), &path, Some(&token), None).await;
        assert_eq!(
            response.status, status,
            "{method} {path}: {}",
            response.text
        );
    }
    let listed = app.get("/api/articles/?tag=slash", None).await;
    assert_eq!(listed.body["articlesCount"], 1, "{}", listed.text);
    let updated = app
        .put(
            &format!("/api/articles/{slug}/"),
            Some(&token),
            json!({"article": {"body": "changed"}}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    let commented = app
        .post(
            &format!("/api/articles/{slug}/comments/"),
            Some(&token),
            json!({"comment": {"body": "hi"}}),
        )
        .await;
    assert_eq!(commented.status, StatusCode::OK, "{}", commented.text);
    let id = commented.body["comment"]["id"].as_i64().unwrap();
    let removed = app
        .delete(
            &format!("/api/articles/{slug}/comments/{id}/"),
            Some(&token),
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    let graphql = app
        .post("/graphql/", None, json!({"query": "{ tags }"}))
        .await;
    assert_eq!(graphql.status, StatusCode::OK, "{}", graphql.text);
    let deleted = app
        .delete(&format!("/api/articles/{slug}/"), Some(&token))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    // Unknown routes stay unknown with or without the slash.
    app.get("/api/nowhere/", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn no_slug_is_the_name_of_a_route() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    for title in ["Feed", "feed", " FEED! "] {
        let slug = app.article(&token, title, &[]).await;
        assert_ne!(slug, "feed");
        assert!(slug.starts_with("feed-"), "{slug}");
        let path = format!("/api/articles/{slug}");
        assert_eq!(
            app.get(&path, None).await.body["article"]["title"],
            title.trim()
        );
        let edited = app
            .put(&path, Some(&token), json!({"article": {"body": "edited"}}))
            .await;
        assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
        let deleted = app.delete(&path, Some(&token)).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    }
    // A new title that slugifies to a route's name is moved off it too.
    let slug = app.article(&token, "Renamed later", &[]).await;
    let renamed = app
        .put(
            &format!("/api/articles/{slug}"),
            Some(&token),
            json!({"article": {"title": "Feed"}}),
        )
        .await;
    let new_slug = renamed.body["article"]["slug"].as_str().unwrap();
    assert!(new_slug.starts_with("feed-"), "{}", renamed.text);
    assert_eq!(
        app.get(&format!("/api/articles/{new_slug}"), None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn every_username_is_one_reachable_path_segment() {
    let app = TestApp::spawn().await;
    for name in [".", "..", "...", " .. "] {
        let email = format!("{}@example.com", unique("dots"));
        let response = app
            .post(
                "/api/users",
                None,
                json!({"user": {"username": name, "email": email, "password": PASSWORD}}),
            )
            .await;
        response.assert_field_error("username");
    }
    let (_, token) = app.user().await;
    app.put(
        "/api/user",
        Some(&token),
        json!({"user": {"username": ".."}}),
    )
    .await
    .assert_field_error("username");

    // Dots among other characters are fine, and the profile is reachable.
    let username = format!("{}.x..y", unique("d"));
    let response = app
        .post(
            "/api/users",
            None,
            json!({"user": {"username": username, "email": format!("{}@example.com", unique("m")), "password": PASSWORD}}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let profile = app.get(&format!("/api/profiles/{username}"), None).await;
    assert_eq!(profile.body["profile"]["username"], username.as_str());
}

#[tokio::test]
async fn a_browser_preflight_passes_on_slashed_routes() {
    let app = TestApp::spawn().await;
    for path in ["/api/articles/", "/api/users/login/", "/graphql/"] {
        let response = app
            .raw(
                app.client
                    .request(Method::OPTIONS, app.url(path))
                    .header("origin", "http://localhost:4200")
                    .header("access-control-request-method", "POST")
                    .header(
                        "access-control-request-headers",
                        "authorization,content-type",
                    ),
            )
            .await;
        assert!(response.status.is_success(), "{path}: {}", response.status);
        let allowed = response
            .headers
            .get("access-control-allow-headers")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(
            allowed.contains("content-type") && allowed.contains("authorization"),
            "{allowed}"
        );
    }
}

#[tokio::test]
async fn an_id_that_is_no_number_names_nothing() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    for path in [
        "/api/reports/abc",
        "/api/reports/abc/download",
        "/api/reports/99999999999999999999999",
        "/api/reports/-",
        "/api/webhooks/abc/deliveries",
        "/api/webhooks/1e3/deliveries",
    ] {
        let response = app.get(path, Some(&token)).await;
        response.assert_error(StatusCode::NOT_FOUND);
    }
    for path in ["/api/webhooks/abc", "/api/webhooks/18446744073709551616"] {
        app.delete(path, Some(&token))
            .await
            .assert_error(StatusCode::NOT_FOUND);
    }
}
