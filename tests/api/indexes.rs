//! Every statement the API runs can be served by an index (PostgreSQL, over a seeded data set).
//!
//! With `enable_seqscan = off` PostgreSQL still falls back to a sequential scan when no index
//! can serve a query, so a `Seq Scan` in such a plan means a missing index.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use serde_json::{Value, json};

use crate::support::{TestApp, settings_for};

fn seq_scans(plan: &Value, found: &mut BTreeSet<String>) {
    match plan {
        Value::Object(node) => {
            if node.get("Node Type").and_then(Value::as_str) == Some("Seq Scan") {
                found.insert(node["Relation Name"].as_str().unwrap_or("?").to_owned());
            }
            node.values().for_each(|child| seq_scans(child, found));
        }
        Value::Array(items) => items.iter().for_each(|child| seq_scans(child, found)),
        _ => {}
    }
}

#[tokio::test]
async fn every_statement_the_api_runs_is_served_by_an_index_on_postgres() {
    let url = std::env::var("QUIRE_TEST_DATABASE_URL").unwrap_or_default();
    if !url.starts_with("postgres") {
        eprintln!("index check runs on PostgreSQL only");
        return;
    }
    let (app, statements) = TestApp::spawn_recording().await;
    let db = quire::db::connect(&settings_for(&url, None)).await.unwrap();
    let options = quire::seed::SeedOptions {
        users: 200,
        articles: 3_000,
        favorites: 6_000,
        follows: 1_500,
        comments: 4_000,
    };
    quire::seed::run(&db, &options).await.unwrap();
    db.execute_unprepared("ANALYZE").await.unwrap();

    // Exercise every endpoint against the seeded data.
    let (me, token) = app.user().await;
    // Other tests write (and delete) articles in the same database meanwhile: take the newest
    // seeded one.
    let newest = app.get("/api/articles?limit=100", None).await;
    let seeded = newest.body["articles"]
        .as_array()
        .unwrap()
        .iter()
        // Seeded authors are named `<name><n>_<run>`; other tests' users have no `_`.
        .find(|a| {
            a["author"]["username"].as_str().unwrap().contains('_')
                && !a["tagList"].as_array().unwrap().is_empty()
        })
        .expect("a seeded article");
    let author = seeded["author"]["username"].as_str().unwrap().to_owned();
    let tag = seeded["tagList"][0].as_str().unwrap().to_owned();
    let slug = seeded["slug"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/profiles/{author}/follow"),
        Some(&token),
        json!({}),
    )
    .await;
    app.post(
        &format!("/api/articles/{slug}/favorite"),
        Some(&token),
        json!({}),
    )
    .await;
    for path in [
        "/api/articles".to_owned(),
        "/api/articles?offset=40&limit=20".to_owned(),
        format!("/api/articles?tag={tag}"),
        format!("/api/articles?author={author}"),
        format!("/api/articles?favorited={me}"),
        "/api/articles/feed".to_owned(),
        format!("/api/articles/{slug}"),
        format!("/api/articles/{slug}/comments"),
        format!("/api/profiles/{author}"),
        "/api/tags".to_owned(),
        "/api/user".to_owned(),
    ] {
        let response = app.get(&path, Some(&token)).await;
        assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.text);
    }
    // GraphQL's batched loads: bodies by id, the newest comments of a page of articles.
    let nested = "{ articles(first: 20) { edges { cursor node { body comments(first: 5) { body author { following } } } } } }";
    let response = app
        .post("/graphql", Some(&token), json!({ "query": nested }))
        .await;
    assert!(response.body["errors"].is_null(), "{}", response.text);
    let cursor = response.body["data"]["articles"]["edges"][1]["cursor"].clone();
    let continued = "query($after: String!, $author: String!) {
        articles(first: 20, after: $after) { edges { node { slug } } }
        byAuthor: articles(author: $author, first: 20, after: $after) { totalCount }
    }";
    let variables = json!({ "after": cursor, "author": author });
    let response = app
        .post(
            "/graphql",
            Some(&token),
            json!({ "query": continued, "variables": variables }),
        )
        .await;
    assert!(response.body["errors"].is_null(), "{}", response.text);
    let mine = app.article(&token, "Indexed writes", &["indexed"]).await;
    let renamed = app
        .put(
            &format!("/api/articles/{mine}"),
            Some(&token),
            json!({"article": {"title": "Renamed", "tagList": ["b"]}}),
        )
        .await;
    let renamed = renamed.body["article"]["slug"].as_str().unwrap().to_owned();
    let comment = app
        .post(
            &format!("/api/articles/{renamed}/comments"),
            Some(&token),
            json!({"comment": {"body": "c"}}),
        )
        .await;
    let id = comment.body["comment"]["id"].as_i64().unwrap();
    app.delete(
        &format!("/api/articles/{renamed}/comments/{id}"),
        Some(&token),
    )
    .await;
    app.delete(&format!("/api/articles/{slug}/favorite"), Some(&token))
        .await;
    app.delete(&format!("/api/profiles/{author}/follow"), Some(&token))
        .await;
    assert_eq!(
        app.delete(&format!("/api/articles/{renamed}"), Some(&token))
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    let recorded: Vec<Statement> = statements.lock().unwrap().clone();
    let mut checked = 0;
    let mut offenders = Vec::new();
    for statement in recorded {
        let sql = statement.sql.trim_start();
        let verb = sql
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        if !matches!(verb.as_str(), "SELECT" | "UPDATE" | "DELETE") {
            continue;
        }
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await
            .unwrap();
        let explain = Statement {
            sql: format!("EXPLAIN (FORMAT JSON) {sql}"),
            values: statement.values.clone(),
            db_backend: DbBackend::Postgres,
        };
        let row = txn.query_one_raw(explain).await.unwrap().unwrap();
        let plan: Value = row.try_get_by_index(0).unwrap();
        txn.rollback().await.unwrap();
        let mut scans = BTreeSet::new();
        seq_scans(&plan, &mut scans);
        if !scans.is_empty() {
            offenders.push(format!("{scans:?} in: {sql}"));
        }
        checked += 1;
    }
    assert!(checked > 30, "too few statements were checked ({checked})");
    assert!(
        offenders.is_empty(),
        "statements without an index:\n{}",
        offenders.join("\n")
    );
}
