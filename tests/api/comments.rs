use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn comments_are_added_listed_and_deleted_by_their_author() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user().await;
    let (commenter, commenter_token) = app.user().await;
    let slug = app.article(&author, "Discussed", &[]).await;
    let path = format!("/api/articles/{slug}/comments");

    let added = app
        .post(
            &path,
            Some(&commenter_token),
            json!({"comment": {"body": "Thank you so much!", "id": 5}}),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text);
    let comment = &added.body["comment"];
    assert!(comment["id"].is_i64());
    assert_eq!(comment["body"], "Thank you so much!");
    assert_eq!(comment["author"]["username"], commenter.as_str());
    assert!(comment["author"].get("email").is_none());
    let id = comment["id"].as_i64().unwrap();
    let second = app
        .post(
            &path,
            Some(&commenter_token),
            json!({"comment": {"body": "Second"}}),
        )
        .await;
    let second_id = second.body["comment"]["id"].as_i64().unwrap();

    let listed = app.get(&path, None).await;
    assert_eq!(listed.status, StatusCode::OK);
    let ids: Vec<i64> = listed.body["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![second_id, id], "newest first");

    app.delete(&format!("{path}/{id}"), Some(&author))
        .await
        .assert_error(StatusCode::FORBIDDEN);
    app.delete(&format!("{path}/{id}"), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    let deleted = app
        .delete(&format!("{path}/{id}"), Some(&commenter_token))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.delete(&format!("{path}/{id}"), Some(&commenter_token))
        .await
        .assert_error(StatusCode::NOT_FOUND);
    let listed = app.get(&path, None).await;
    assert_eq!(listed.body["comments"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn comment_errors_are_json_4xx() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    let slug = app.article(&token, "Quiet", &[]).await;
    let other = app.article(&token, "Other", &[]).await;
    let path = format!("/api/articles/{slug}/comments");
    app.post(&path, Some(&token), json!({"comment": {"body": "   "}}))
        .await
        .assert_field_error("body");
    app.post(&path, Some(&token), json!({"comment": {}}))
        .await
        .assert_field_error("body");
    app.post(&path, Some(&token), json!({}))
        .await
        .assert_field_error("comment");
    app.post(&path, None, json!({"comment": {"body": "x"}}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    app.post(
        "/api/articles/missing-article-x/comments",
        Some(&token),
        json!({"comment": {"body": "x"}}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND);
    app.get("/api/articles/missing-article-x/comments", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    app.delete(&format!("{path}/not-a-number"), Some(&token))
        .await
        .assert_field_error("id");
    app.delete(&format!("{path}/999999999"), Some(&token))
        .await
        .assert_error(StatusCode::NOT_FOUND);
    // A comment is addressed through its own article only.
    let added = app
        .post(&path, Some(&token), json!({"comment": {"body": "here"}}))
        .await;
    let id = added.body["comment"]["id"].as_i64().unwrap();
    app.delete(
        &format!("/api/articles/{other}/comments/{id}"),
        Some(&token),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_comments_list_pages_with_limit_and_offset_and_is_bounded_without_them() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    let slug = app.article(&token, "A busy thread", &[]).await;
    let mut bodies = Vec::new();
    for n in 0..5 {
        let body = format!("comment {n}");
        let added = app
            .post(
                &format!("/api/articles/{slug}/comments"),
                Some(&token),
                json!({"comment": {"body": body}}),
            )
            .await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.text);
        bodies.push(body);
    }
    bodies.reverse(); // newest first
    let list = |query: &str| {
        let path = format!("/api/articles/{slug}/comments{query}");
        let app = &app;
        async move { app.get(&path, None).await }
    };
    let of = |response: &crate::support::Response| -> Vec<String> {
        response.body["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["body"].as_str().unwrap().to_owned())
            .collect()
    };
    // Without paging: the whole thread (up to the stated cap of 1,000).
    let whole = list("").await;
    assert_eq!(whole.status, StatusCode::OK, "{}", whole.text);
    assert_eq!(of(&whole), bodies);
    let page = list("?limit=2&offset=1").await;
    assert_eq!(of(&page), bodies[1..3]);
    let last = list("?limit=2&offset=4").await;
    assert_eq!(of(&last), bodies[4..]);
    assert!(of(&list("?offset=9").await).is_empty());
    // A new comment is seen by every cached page at once.
    app.post(
        &format!("/api/articles/{slug}/comments"),
        Some(&token),
        json!({"comment": {"body": "newest"}}),
    )
    .await;
    assert_eq!(of(&list("?limit=2&offset=1").await), bodies[0..2]);
    for bad in ["?limit=0", "?limit=1001", "?limit=x", "?offset=-1"] {
        let field = if bad.starts_with("?limit") {
            "limit"
        } else {
            "offset"
        };
        list(bad).await.assert_field_error(field);
    }
}
