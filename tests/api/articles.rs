use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, unique};

fn slugs(body: &Value) -> Vec<String> {
    body["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap().to_owned())
        .collect()
}

#[track_caller]
fn assert_timestamp(value: &Value) {
    let pattern = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$").unwrap();
    assert!(
        pattern.is_match(value.as_str().unwrap_or_default()),
        "bad timestamp {value}"
    );
}

#[tokio::test]
async fn create_returns_201_with_the_full_article_and_sorted_tags() {
    let app = TestApp::spawn().await;
    let (username, token) = app.user().await;
    let tag = unique("tag");
    let response = app
        .post(
            "/api/articles",
            Some(&token),
            json!({"article": {
                "title": "How to train your dragon", "description": "Ever wonder how?",
                "body": "Very carefully.", "tagList": ["training", tag.as_str(), " training "],
                "slug": "chosen-by-client", "favoritesCount": 99, "favorited": true,
                "createdAt": "2001-01-01T00:00:00.000Z", "author": {"username": "someone"}
            }}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let article = &response.body["article"];
    assert!(
        article["slug"]
            .as_str()
            .unwrap()
            .starts_with("how-to-train-your-dragon")
    );
    assert_eq!(article["title"], "How to train your dragon");
    assert_eq!(article["body"], "Very carefully.");
    let mut expected = vec![tag.clone(), "training".to_owned()];
    expected.sort();
    assert_eq!(article["tagList"], json!(expected));
    assert_eq!(article["favorited"], false);
    assert_eq!(article["favoritesCount"], 0);
    assert_eq!(article["author"]["username"], username.as_str());
    assert_eq!(article["author"]["following"], false);
    assert!(article["author"].get("email").is_none());
    assert_timestamp(&article["createdAt"]);
    assert_timestamp(&article["updatedAt"]);
    assert!(!article["createdAt"].as_str().unwrap().starts_with("2001"));

    let fetched = app
        .get(
            &format!("/api/articles/{}", article["slug"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body["article"]["body"], "Very carefully.");

    let tags = app.get("/api/tags", None).await;
    assert_eq!(tags.status, StatusCode::OK);
    let all: Vec<&str> = tags.body["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(all.contains(&tag.as_str()) && all.contains(&"training"));
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted);
}

#[tokio::test]
async fn create_validates_input_and_needs_auth() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    let body = json!({"article": {"title": "t", "description": "d", "body": "b"}});
    app.post("/api/articles", None, body)
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    let response = app
        .post(
            "/api/articles",
            Some(&token),
            json!({"article": {"title": ""}}),
        )
        .await;
    for field in ["title", "description", "body"] {
        response.assert_field_error(field);
    }
    app.post(
        "/api/articles",
        Some(&token),
        json!({"article": {"title": "x".repeat(256), "description": "d", "body": "b"}}),
    )
    .await
    .assert_field_error("title");
    app.post(
        "/api/articles",
        Some(&token),
        json!({"article": {"title": "t", "description": "d", "body": "b", "tagList": "rust"}}),
    )
    .await
    .assert_field_error("tagList");
    app.post("/api/articles", Some(&token), json!({"article": {"title": "t", "description": "d", "body": "b", "tagList": ["x".repeat(65)]}}))
        .await
        .assert_field_error("tagList");
    app.post(
        "/api/articles",
        Some(&token),
        json!({"article": {"title": 1, "description": "d", "body": "b"}}),
    )
    .await
    .assert_field_error("title");
    // Nothing was half-written by the rejected requests.
    let (author, _) = (
        app.get("/api/user", Some(&token)).await.body["user"]["username"].clone(),
        (),
    );
    let mine = app
        .get(
            &format!("/api/articles?author={}", author.as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(mine.body["articlesCount"], 0);
}

#[tokio::test]
async fn slugs_stay_unique_and_follow_the_title() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    let title = unique("Same Title ");
    let first = app.article(&token, &title, &[]).await;
    let second = app.article(&token, &title, &[]).await;
    let third = app.article(&token, &title, &[]).await;
    assert_eq!(
        HashSet::from([&first, &second, &third]).len(),
        3,
        "slugs must differ"
    );
    assert_eq!(first, title.to_lowercase().replace(' ', "-"));

    let renamed = app
        .put(
            &format!("/api/articles/{second}"),
            Some(&token),
            json!({"article": {"title": "A Whole New Title"}}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    let new_slug = renamed.body["article"]["slug"].as_str().unwrap().to_owned();
    assert_ne!(new_slug, second);
    assert!(new_slug.starts_with("a-whole-new-title"));
    app.get(&format!("/api/articles/{second}"), None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/api/articles/{new_slug}"), None)
            .await
            .status,
        StatusCode::OK
    );

    let body_only = app
        .put(
            &format!("/api/articles/{first}"),
            Some(&token),
            json!({"article": {"body": "With two hands"}}),
        )
        .await;
    assert_eq!(body_only.body["article"]["slug"], first.as_str());
    assert_eq!(body_only.body["article"]["body"], "With two hands");
    assert_eq!(body_only.body["article"]["title"], title.as_str());
}

#[tokio::test]
async fn only_the_author_may_change_or_delete_an_article() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user().await;
    let (_, intruder) = app.user().await;
    let slug = app.article(&author, &unique("Mine "), &[]).await;
    let path = format!("/api/articles/{slug}");
    app.put(
        &path,
        Some(&intruder),
        json!({"article": {"body": "hacked"}}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN);
    app.delete(&path, Some(&intruder))
        .await
        .assert_error(StatusCode::FORBIDDEN);
    app.put(&path, None, json!({"article": {"body": "hacked"}}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    app.put(&path, Some(&author), json!({"article": {"title": ""}}))
        .await
        .assert_field_error("title");
    assert_eq!(
        app.get(&path, None).await.body["article"]["body"],
        "the body"
    );

    let deleted = app.delete(&path, Some(&author)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.text.is_empty());
    app.get(&path, None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    app.delete(&path, Some(&author))
        .await
        .assert_error(StatusCode::NOT_FOUND);
    app.put(&path, Some(&author), json!({"article": {"body": "x"}}))
        .await
        .assert_error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn lists_are_newest_first_counted_in_full_and_paged_disjointly() {
    let app = TestApp::spawn().await;
    let (author, token) = app.user().await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(app.article(&token, &format!("Paged {i}"), &[]).await);
    }
    created.reverse();
    let all = app
        .get(&format!("/api/articles?author={author}"), None)
        .await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body["articlesCount"], 7);
    assert_eq!(slugs(&all.body), created, "newest first");
    for item in all.body["articles"].as_array().unwrap() {
        assert!(item.get("body").is_none(), "list items have no body");
        assert_timestamp(&item["createdAt"]);
    }

    let mut paged = Vec::new();
    for offset in (0..8).step_by(3) {
        let page = app
            .get(
                &format!("/api/articles?author={author}&limit=3&offset={offset}"),
                None,
            )
            .await;
        assert_eq!(
            page.body["articlesCount"], 7,
            "count is the total, not the page size"
        );
        paged.extend(slugs(&page.body));
    }
    assert_eq!(paged, created, "pages are disjoint and complete");
    let beyond = app
        .get(&format!("/api/articles?author={author}&offset=100"), None)
        .await;
    assert_eq!(beyond.body["articles"], json!([]));
    assert_eq!(beyond.body["articlesCount"], 7);
}

#[tokio::test]
async fn bad_paging_parameters_are_422() {
    let app = TestApp::spawn().await;
    for query in [
        "limit=0",
        "limit=-1",
        "limit=101",
        "limit=abc",
        "offset=-1",
        "offset=1e3",
        "limit=99999999999999999999999",
    ] {
        let response = app.get(&format!("/api/articles?{query}"), None).await;
        let field = query.split('=').next().unwrap();
        response.assert_field_error(field);
    }
    let (_, token) = app.user().await;
    app.get("/api/articles/feed?limit=0", Some(&token))
        .await
        .assert_field_error("limit");
    assert_eq!(
        app.get("/api/articles?limit=100&offset=0", None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn filters_by_tag_author_and_favoriting_user() {
    let app = TestApp::spawn().await;
    let (author, token) = app.user().await;
    let (fan, fan_token) = app.user().await;
    let tag = unique("t");
    let tagged = app
        .article(&token, "Tagged", &["dragons", tag.as_str()])
        .await;
    let untagged = app.article(&token, "Untagged", &["other"]).await;

    let by_tag = app.get(&format!("/api/articles?tag={tag}"), None).await;
    assert_eq!(slugs(&by_tag.body), vec![tagged.clone()]);
    assert_eq!(by_tag.body["articlesCount"], 1);
    let mut expected = vec!["dragons".to_owned(), tag.clone()];
    expected.sort();
    assert_eq!(by_tag.body["articles"][0]["tagList"], json!(expected));

    let by_author = app
        .get(&format!("/api/articles?author={author}"), None)
        .await;
    assert_eq!(
        slugs(&by_author.body),
        vec![untagged.clone(), tagged.clone()]
    );
    let nobody = app
        .get("/api/articles?author=no-such-author-anywhere", None)
        .await;
    assert_eq!(nobody.status, StatusCode::OK);
    assert_eq!(nobody.body, json!({"articles": [], "articlesCount": 0}));

    app.post(
        &format!("/api/articles/{untagged}/favorite"),
        Some(&fan_token),
        json!({}),
    )
    .await;
    let favorited = app
        .get(&format!("/api/articles?favorited={fan}"), None)
        .await;
    assert_eq!(slugs(&favorited.body), vec![untagged.clone()]);
    let combined = app
        .get(&format!("/api/articles?favorited={fan}&tag={tag}"), None)
        .await;
    assert_eq!(combined.body["articlesCount"], 0);
}

#[tokio::test]
async fn favorites_are_counted_once_and_flagged_per_viewer() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user().await;
    let (_, alice) = app.user().await;
    let (_, bob) = app.user().await;
    let slug = app.article(&author, &unique("Liked "), &[]).await;
    let favorite = format!("/api/articles/{slug}/favorite");

    let first = app.post(&favorite, Some(&alice), json!({})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["article"]["favorited"], true);
    assert_eq!(first.body["article"]["favoritesCount"], 1);
    assert!(first.body["article"]["body"].is_string());
    let again = app.post(&favorite, Some(&alice), json!({})).await;
    assert_eq!(
        again.body["article"]["favoritesCount"], 1,
        "favoriting twice counts once"
    );
    let by_bob = app.post(&favorite, Some(&bob), json!({})).await;
    assert_eq!(by_bob.body["article"]["favoritesCount"], 2);

    let (_, carol) = app.user().await;
    let seen_by_carol = app
        .get(&format!("/api/articles/{slug}"), Some(&carol))
        .await;
    assert_eq!(seen_by_carol.body["article"]["favorited"], false);
    assert_eq!(seen_by_carol.body["article"]["favoritesCount"], 2);
    let seen_by_alice = app
        .get(&format!("/api/articles/{slug}"), Some(&alice))
        .await;
    assert_eq!(seen_by_alice.body["article"]["favorited"], true);

    let removed = app.delete(&favorite, Some(&alice)).await;
    assert_eq!(removed.body["article"]["favorited"], false);
    assert_eq!(removed.body["article"]["favoritesCount"], 1);
    let removed_again = app.delete(&favorite, Some(&alice)).await;
    assert_eq!(
        removed_again.body["article"]["favoritesCount"], 1,
        "unfavoriting twice counts once"
    );

    app.post(&favorite, None, json!({}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    app.post(
        "/api/articles/no-such-article-here/favorite",
        Some(&alice),
        json!({}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn concurrent_favorites_keep_an_exact_count() {
    let app = TestApp::spawn().await;
    let (_, author) = app.user().await;
    let slug = app.article(&author, &unique("Contended "), &[]).await;
    let mut fans = Vec::new();
    for _ in 0..4 {
        fans.push(app.user().await.1);
    }
    let favorite = format!("/api/articles/{slug}/favorite");
    let requests = fans
        .iter()
        .flat_map(|t| [t, t])
        .map(|t| app.post(&favorite, Some(t), json!({})));
    for response in futures::future::join_all(requests).await {
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    }
    let article = app.get(&format!("/api/articles/{slug}"), None).await;
    assert_eq!(article.body["article"]["favoritesCount"], 4);
}

#[tokio::test]
async fn list_flags_are_per_viewer() {
    let app = TestApp::spawn().await;
    let (author, author_token) = app.user().await;
    let (_, fan) = app.user().await;
    let liked = app.article(&author_token, "Liked one", &[]).await;
    let _other = app.article(&author_token, "Other one", &[]).await;
    app.post(
        &format!("/api/articles/{liked}/favorite"),
        Some(&fan),
        json!({}),
    )
    .await;
    app.post(
        &format!("/api/profiles/{author}/follow"),
        Some(&fan),
        json!({}),
    )
    .await;

    let as_fan = app
        .get(&format!("/api/articles?author={author}"), Some(&fan))
        .await;
    for item in as_fan.body["articles"].as_array().unwrap() {
        assert_eq!(item["favorited"], item["slug"] == liked.as_str());
        assert_eq!(item["author"]["following"], true);
    }
    let anonymous = app
        .get(&format!("/api/articles?author={author}"), None)
        .await;
    for item in anonymous.body["articles"].as_array().unwrap() {
        assert_eq!(item["favorited"], false);
        assert_eq!(item["author"]["following"], false);
    }
}

#[tokio::test]
async fn feed_holds_only_followed_authors_newest_first() {
    let app = TestApp::spawn().await;
    let (followed, followed_token) = app.user().await;
    let (_, stranger_token) = app.user().await;
    let (_, reader) = app.user().await;
    let empty = app.get("/api/articles/feed", Some(&reader)).await;
    assert_eq!(empty.body, json!({"articles": [], "articlesCount": 0}));

    let older = app.article(&followed_token, "Older", &[]).await;
    app.article(&stranger_token, "Stranger's", &[]).await;
    let newer = app.article(&followed_token, "Newer", &[]).await;
    app.post(
        &format!("/api/profiles/{followed}/follow"),
        Some(&reader),
        json!({}),
    )
    .await;

    let feed = app.get("/api/articles/feed", Some(&reader)).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(slugs(&feed.body), vec![newer.clone(), older.clone()]);
    assert_eq!(feed.body["articlesCount"], 2);
    assert!(feed.body["articles"][0].get("body").is_none());
    let page = app
        .get("/api/articles/feed?limit=1&offset=1", Some(&reader))
        .await;
    assert_eq!(slugs(&page.body), vec![older]);
    assert_eq!(page.body["articlesCount"], 2);
    app.get("/api/articles/feed", None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn author_changes_show_on_their_articles() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    let slug = app.article(&token, "Renamed author", &[]).await;
    let new_name = unique("newname");
    app.put(
        "/api/user",
        Some(&token),
        json!({"user": {"username": new_name, "image": "https://example.com/a.png"}}),
    )
    .await;
    let article = app.get(&format!("/api/articles/{slug}"), None).await;
    assert_eq!(
        article.body["article"]["author"]["username"],
        new_name.as_str()
    );
    assert_eq!(
        article.body["article"]["author"]["image"],
        "https://example.com/a.png"
    );
}

#[tokio::test]
async fn deleting_an_article_takes_its_comments_and_favorites() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    let (fan, fan_token) = app.user().await;
    let slug = app.article(&token, "Doomed", &[]).await;
    app.post(
        &format!("/api/articles/{slug}/favorite"),
        Some(&fan_token),
        json!({}),
    )
    .await;
    app.post(
        &format!("/api/articles/{slug}/comments"),
        Some(&fan_token),
        json!({"comment": {"body": "hi"}}),
    )
    .await;
    assert_eq!(
        app.delete(&format!("/api/articles/{slug}"), Some(&token))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let favorited = app
        .get(&format!("/api/articles?favorited={fan}"), None)
        .await;
    assert_eq!(favorited.body["articlesCount"], 0);
    app.get(&format!("/api/articles/{slug}/comments"), None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn concurrent_writers_sharing_new_tags_and_titles_all_succeed() {
    let app = TestApp::spawn().await;
    let mut tokens = Vec::new();
    for _ in 0..6 {
        tokens.push(app.user().await.1);
    }
    let (tag_a, tag_b) = (unique("shared"), unique("shared"));
    let title = unique("Same headline ");
    let body = json!({"article": {"title": title, "description": "d", "body": "b", "tagList": [tag_a, tag_b]}});
    let requests = tokens
        .iter()
        .map(|t| app.post("/api/articles", Some(t), body.clone()));
    let responses = futures::future::join_all(requests).await;
    let mut slugs = HashSet::new();
    for response in &responses {
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        slugs.insert(
            response.body["article"]["slug"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(slugs.len(), 6, "every concurrent article got its own slug");
    let tagged = app
        .get(&format!("/api/articles?tag={tag_a}&limit=100"), None)
        .await;
    assert_eq!(tagged.body["articlesCount"], 6);
}

#[tokio::test]
async fn a_path_that_can_be_no_slug_names_no_article() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    let slug = app.article(&token, "Case Matters", &[]).await;
    assert!(slug.starts_with("case-matters"), "{slug}");
    let upper = slug.to_uppercase();
    let dotted = slug.replace('-', ".");
    let spaced = slug.replace('-', "%20");
    let long = "a".repeat(300);
    for name in [&upper, &dotted, &spaced, &long] {
        let path = format!("/api/articles/{name}");
        app.get(&path, None)
            .await
            .assert_error(StatusCode::NOT_FOUND);
        let change = json!({"article": {"body": "changed"}});
        app.put(&path, Some(&token), change)
            .await
            .assert_error(StatusCode::NOT_FOUND);
        app.post(&format!("{path}/favorite"), Some(&token), json!({}))
            .await
            .assert_error(StatusCode::NOT_FOUND);
        app.get(&format!("{path}/comments"), None)
            .await
            .assert_error(StatusCode::NOT_FOUND);
        app.delete(&path, Some(&token))
            .await
            .assert_error(StatusCode::NOT_FOUND);
    }
    let found = app.get(&format!("/api/articles/{slug}"), None).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
}
