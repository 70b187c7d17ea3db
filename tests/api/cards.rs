//! List pages and feeds keep only their articles' ids; each article's card is cached apart. A
//! write that changes what an article shows (a favorite, its author's profile) rebuilds that
//! card, never the pages that show it; a write that changes which articles a page holds
//! rebuilds the page's ids.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, recorded_sql, unique};

/// Statements that read a list's membership (its count or its ids).
fn page_queries(sql: &[String]) -> Vec<&String> {
    sql.iter()
        .filter(|s| s.to_uppercase().contains("COUNT("))
        .collect()
}

#[tokio::test]
async fn a_favorite_or_profile_edit_rebuilds_cards_not_pages() {
    let (app, statements) = TestApp::spawn_recording().await;
    let (author, token) = app.user().await;
    let (_, fan) = app.user().await;
    let tag = unique("card");
    let first = app.article(&token, "Card one", &[tag.as_str()]).await;
    app.article(&token, "Card two", &[tag.as_str()]).await;
    let pages = [
        format!("/api/articles?tag={tag}"),
        format!("/api/articles?author={author}"),
    ];
    app.post(
        &format!("/api/profiles/{author}/follow"),
        Some(&fan),
        json!({}),
    )
    .await;
    for page in &pages {
        assert_eq!(app.get(page, None).await.status, StatusCode::OK);
    }
    assert_eq!(
        app.get("/api/articles/feed", Some(&fan)).await.status,
        StatusCode::OK
    );

    // A favorite: every page shows the new count, read from the card alone.
    app.post(
        &format!("/api/articles/{first}/favorite"),
        Some(&fan),
        json!({}),
    )
    .await;
    statements.lock().unwrap().clear();
    for page in &pages {
        let answer = app.get(page, None).await;
        let shown = answer.body["articles"].as_array().unwrap();
        assert_eq!(shown.len(), 2, "{}", answer.text);
        let card = shown.iter().find(|a| a["slug"] == first.as_str()).unwrap();
        assert_eq!(card["favoritesCount"], 1, "{page}: {}", answer.text);
    }
    let sql = recorded_sql(&statements);
    assert!(!sql.is_empty(), "the favorite did not reach the cards");
    assert!(
        page_queries(&sql).is_empty(),
        "a favorite rebuilt pages: {sql:#?}"
    );
    // The feed finds the card just rebuilt (its own ids are read again).
    statements.lock().unwrap().clear();
    let feed = app.get("/api/articles/feed", Some(&fan)).await;
    let card = &feed.body["articles"].as_array().unwrap()[1];
    assert_eq!(
        (card["favoritesCount"].clone(), card["favorited"].clone()),
        (json!(1), json!(true))
    );
    let sql = recorded_sql(&statements);
    assert!(
        !sql.iter().any(|s| s.contains("article_tags")),
        "the feed rebuilt a card: {sql:#?}"
    );

    // A profile edit: every card shows the new bio; the pages' ids stay.
    app.put(
        "/api/user",
        Some(&token),
        json!({"user": {"bio": "edited"}}),
    )
    .await;
    statements.lock().unwrap().clear();
    for page in &pages {
        let answer = app.get(page, None).await;
        for card in answer.body["articles"].as_array().unwrap() {
            assert_eq!(card["author"]["bio"], "edited", "{page}: {}", answer.text);
        }
    }
    let sql = recorded_sql(&statements);
    assert!(
        page_queries(&sql).is_empty(),
        "a profile edit rebuilt pages: {sql:#?}"
    );

    // A new article changes which articles the pages hold.
    app.article(&token, "Card three", &[tag.as_str()]).await;
    for page in &pages {
        let answer = app.get(page, None).await;
        assert_eq!(answer.body["articlesCount"], 3, "{page}: {}", answer.text);
    }
    let feed = app.get("/api/articles/feed", Some(&fan)).await;
    assert_eq!(feed.body["articlesCount"], 3, "{}", feed.text);
}
