//! Writes racing other writers end in success or a clean 4xx, and every backend stores and
//! finds the same values.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{PASSWORD, TestApp, unique};

#[tokio::test]
async fn writes_racing_a_delete_answer_404_or_succeed() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user().await;
    let mut fans = Vec::new();
    for _ in 0..6 {
        fans.push(app.user().await.1);
    }
    for round in 0..6 {
        let slug = app
            .article(&author, &format!("Doomed {round}"), &["race"])
            .await;
        let path = format!("/api/articles/{slug}");
        let mut writes = Vec::new();
        for (i, fan) in fans.iter().enumerate() {
            let (app, path, fan) = (&app, path.clone(), fan.clone());
            writes.push(Box::pin(async move {
                match i % 3 {
                    0 => {
                        app.post(&format!("{path}/favorite"), Some(&fan), json!({}))
                            .await
                    }
                    1 => {
                        app.post(
                            &format!("{path}/comments"),
                            Some(&fan),
                            json!({"comment": {"body": "first!"}}),
                        )
                        .await
                    }
                    _ => app.delete(&format!("{path}/favorite"), Some(&fan)).await,
                }
            })
                as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>);
        }
        let delete = Box::pin(async { app.delete(&path, Some(&author)).await });
        writes.insert(round % writes.len(), delete);
        for response in join_all(writes).await {
            assert!(
                matches!(
                    response.status,
                    StatusCode::OK | StatusCode::NO_CONTENT | StatusCode::NOT_FOUND
                ),
                "{}: {}",
                response.status,
                response.text
            );
            if response.status == StatusCode::NOT_FOUND {
                response.assert_error(StatusCode::NOT_FOUND);
            }
        }
        assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_duplicate_is_named_by_its_key_not_by_its_text() {
    let app = TestApp::spawn().await;
    // The e-mail's text names the other field: only the violated key may decide.
    let email = format!("username.{}@username.example.com", unique("u"));
    let attempts = (0..8).map(|i| {
        let app = &app;
        let email = email.clone();
        async move {
            app.post(
                "/api/users",
                None,
                json!({"user": {"username": unique(&format!("username{i}")), "email": email, "password": PASSWORD}}),
            )
            .await
        }
    });
    let responses = join_all(attempts).await;
    let created = responses
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "exactly one registration wins");
    for response in responses.iter().filter(|r| r.status != StatusCode::CREATED) {
        response.assert_field_error("email");
        assert!(
            response.body["errors"].get("username").is_none(),
            "{}",
            response.text
        );
    }

    // And the other way round: one username, e-mails that say "email" nowhere else.
    let username = unique("email");
    let attempts = (0..8).map(|i| {
        let app = &app;
        let username = username.clone();
        async move {
            app.post(
                "/api/users",
                None,
                json!({"user": {"username": username, "email": format!("{}{i}@example.com", unique("e")), "password": PASSWORD}}),
            )
            .await
        }
    });
    let responses = join_all(attempts).await;
    for response in responses.iter().filter(|r| r.status != StatusCode::CREATED) {
        response.assert_field_error("username");
        assert!(
            response.body["errors"].get("email").is_none(),
            "{}",
            response.text
        );
    }
}

#[tokio::test]
async fn no_accepted_input_overflows_a_column() {
    let app = TestApp::spawn().await;
    // Lower-casing `İ` gives two code points: the key of a 64-character name is 128 long.
    for length in [33, 34, 64] {
        let username: String =
            "İ".repeat(length - 6) + &unique("").chars().take(6).collect::<String>();
        let response = app
            .post(
                "/api/users",
                None,
                json!({"user": {"username": username, "email": format!("{}@example.com", unique("i")), "password": PASSWORD}}),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "{length}: {}",
            response.text
        );
        let token = response.body["user"]["token"].as_str().unwrap().to_owned();
        let profile = app.get(&format!("/api/profiles/{username}"), None).await;
        assert_eq!(profile.body["profile"]["username"], username.as_str());
        let lower = app
            .get(&format!("/api/profiles/{}", username.to_lowercase()), None)
            .await;
        assert_eq!(lower.status, StatusCode::OK, "{}", lower.text);
        // The longest article body and comment, in four-byte characters.
        let response = app
            .post(
                "/api/articles",
                Some(&token),
                json!({"article": {"title": "🦀".repeat(255), "description": "🦀".repeat(2000), "body": "🦀".repeat(100_000), "tagList": ["🦀".repeat(64)]}}),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "{}",
            &response.text[..200.min(response.text.len())]
        );
        let slug = response.body["article"]["slug"]
            .as_str()
            .unwrap()
            .to_owned();
        let read = app.get(&format!("/api/articles/{slug}"), None).await;
        assert_eq!(
            read.body["article"]["body"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            100_000
        );
        let comment = app
            .post(
                &format!("/api/articles/{slug}/comments"),
                Some(&token),
                json!({"comment": {"body": "🦀".repeat(10_000)}}),
            )
            .await;
        assert_eq!(
            comment.status,
            StatusCode::OK,
            "{}",
            &comment.text[..200.min(comment.text.len())]
        );
        let bio = app
            .put(
                "/api/user",
                Some(&token),
                json!({"user": {"bio": "🦀".repeat(2000)}}),
            )
            .await;
        assert_eq!(bio.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn lookups_match_exactly_on_every_backend() {
    let app = TestApp::spawn().await;
    let (username, token) = app.user().await;
    let tag = unique("exact");
    let slug = app.article(&token, &unique("Exact"), &[&tag]).await;
    for path in [
        format!("/api/articles/{slug}%20"),
        format!("/api/articles/{slug}%09"),
        format!("/api/articles/{}", slug.to_uppercase()),
        format!("/api/articles/{slug}%20/comments"),
        format!("/api/profiles/{username}%20"),
    ] {
        let response = app.get(&path, None).await;
        response.assert_error(StatusCode::NOT_FOUND);
    }
    let spaced = app
        .post(
            &format!("/api/articles/{slug}%20/favorite"),
            Some(&token),
            json!({}),
        )
        .await;
    spaced.assert_error(StatusCode::NOT_FOUND);
    app.article(&token, &unique("Other"), &[]).await;
    let listed = app
        .get(&format!("/api/articles?author={username}"), None)
        .await;
    assert_eq!(listed.body["articlesCount"], 2);
    let tagged = app.get(&format!("/api/articles?tag={tag}"), None).await;
    assert_eq!(tagged.body["articlesCount"], 1);
}

/// Many users favorite, unfavorite, comment on and read one article at the same moment (a
/// viral article): every request is answered 2xx, never a 503 from a pool drained by writers
/// queued (or deadlocked) on the article's row; and the counts it leaves are exact.
#[tokio::test]
async fn a_burst_on_one_article_answers_every_request_and_keeps_counts_exact() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user().await;
    let slug = app.article(&author, "Viral", &[&unique("viral")]).await;
    let mut fans = Vec::new();
    for _ in 0..16 {
        fans.push(app.user().await);
    }
    let path = format!("/api/articles/{slug}");
    for _round in 0..3 {
        let mut requests = Vec::new();
        for (_, token) in &fans {
            for op in 0..4 {
                let (app, path, token) = (&app, path.clone(), token.clone());
                requests.push(async move {
                    match op {
                        0 => {
                            app.post(&format!("{path}/favorite"), Some(&token), json!({}))
                                .await
                        }
                        1 => app.delete(&format!("{path}/favorite"), Some(&token)).await,
                        2 => {
                            let body = json!({"comment": {"body": "seen it"}});
                            app.post(&format!("{path}/comments"), Some(&token), body)
                                .await
                        }
                        _ => app.get(&path, Some(&token)).await,
                    }
                });
            }
        }
        for response in join_all(requests).await {
            assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        }
    }
    // The article's count and each fan's favorites agree with who favorited it in the end.
    let mut fans_of_it = 0;
    for (name, token) in &fans {
        let listed = app
            .get(&format!("/api/articles?favorited={name}"), Some(token))
            .await;
        let count = listed.body["articlesCount"].as_u64().unwrap();
        let holds = listed.body["articles"].as_array().unwrap().len() as u64;
        assert_eq!(count, holds, "{name}'s favorites count");
        fans_of_it += holds;
    }
    let article = app.get(&path, None).await;
    assert_eq!(article.body["article"]["favoritesCount"], fans_of_it);
    let comments = app.get(&format!("{path}/comments"), None).await;
    assert_eq!(comments.body["comments"].as_array().unwrap().len(), 48);
}
