//! List pages at any size: `articlesCount` from maintained counts that every write keeps exact,
//! deep offsets read from the far end of the index, cursor pages, and plans that read each
//! list from an index in its order (checked on every engine).

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use serde_json::{Value, json};

use crate::support::{TestApp, settings_for, unique};

/// Every slug of a list (up to 100) and its `articlesCount`.
async fn whole_list(app: &TestApp, query: &str) -> (Vec<String>, u64) {
    let response = app
        .get(&format!("/api/articles?{query}&limit=100"), None)
        .await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{query}: {}",
        response.text
    );
    let slugs = response.body["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap().to_owned())
        .collect();
    (slugs, response.body["articlesCount"].as_u64().unwrap())
}

async fn assert_list(app: &TestApp, query: &str, expected: &[&String]) {
    let (slugs, count) = whole_list(app, query).await;
    let expected: Vec<String> = expected.iter().map(|s| (*s).clone()).collect();
    assert_eq!(slugs, expected, "{query}");
    assert_eq!(count, expected.len() as u64, "articlesCount of {query}");
}

async fn tags(app: &TestApp) -> Vec<String> {
    let response = app.get("/api/tags", None).await;
    serde_json::from_value(response.body["tags"].clone()).unwrap()
}

#[tokio::test]
async fn list_counts_stay_exact_through_every_write() {
    let app = TestApp::spawn().await;
    let (author, token) = app.user().await;
    let (fan, fan_token) = app.user().await;
    let (red, blue) = (unique("red"), unique("blue"));
    let first = app.article(&token, "First", &[&red, &blue]).await;
    let second = app.article(&token, "Second", &[&red]).await;
    let third = app.article(&token, "Third", &[]).await;
    for slug in [&first, &second] {
        let path = format!("/api/articles/{slug}/favorite");
        assert_eq!(
            app.post(&path, Some(&fan_token), json!({})).await.status,
            StatusCode::OK
        );
    }
    // Favoriting twice counts once.
    let again = format!("/api/articles/{first}/favorite");
    app.post(&again, Some(&fan_token), json!({})).await;
    assert_list(&app, &format!("tag={red}"), &[&second, &first]).await;
    assert_list(&app, &format!("tag={blue}"), &[&first]).await;
    assert_list(
        &app,
        &format!("author={author}"),
        &[&third, &second, &first],
    )
    .await;
    assert_list(&app, &format!("favorited={fan}"), &[&second, &first]).await;

    // New tags replace the old ones; an unfavorite of what is not a favorite moves nothing.
    let retagged = app
        .put(
            &format!("/api/articles/{second}"),
            Some(&token),
            json!({"article": {"tagList": [blue]}}),
        )
        .await;
    assert_eq!(retagged.status, StatusCode::OK, "{}", retagged.text);
    app.delete(&format!("/api/articles/{third}/favorite"), Some(&fan_token))
        .await;
    app.delete(&format!("/api/articles/{first}/favorite"), Some(&fan_token))
        .await;
    assert_list(&app, &format!("tag={red}"), &[&first]).await;
    assert_list(&app, &format!("tag={blue}"), &[&second, &first]).await;
    assert_list(&app, &format!("favorited={fan}"), &[&second]).await;

    // A deleted article leaves every list it was in, favorited or not.
    app.post(&again, Some(&fan_token), json!({})).await;
    for slug in [&first, &second] {
        let deleted = app
            .delete(&format!("/api/articles/{slug}"), Some(&token))
            .await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    }
    assert_list(&app, &format!("tag={red}"), &[]).await;
    assert_list(&app, &format!("tag={blue}"), &[]).await;
    assert_list(&app, &format!("author={author}"), &[&third]).await;
    assert_list(&app, &format!("favorited={fan}"), &[]).await;
    let cloud = tags(&app).await;
    assert!(!cloud.contains(&red) && !cloud.contains(&blue), "{cloud:?}");

    // The whole list's count is the table's. On a database of its own only: on the shared
    // ones other tests seed meanwhile, and a seed sets the counts once it has loaded its rows.
    if !app.database_url.starts_with("sqlite") {
        return;
    }
    let db = sea_orm::Database::connect(&app.database_url).await.unwrap();
    let count = || async {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) FROM articles",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0).unwrap() as u64
    };
    let (_, listed) = whole_list(&app, "offset=0").await;
    assert_eq!(listed, count().await, "articlesCount of every article");
}

#[tokio::test]
async fn deep_offsets_and_cursors_answer_what_reading_forward_does() {
    let app = TestApp::spawn().await;
    let (author, token) = app.user().await;
    let (fan, fan_token) = app.user().await;
    let tag = unique("deep");
    let mut slugs = Vec::new();
    for i in 0..7 {
        let slug = app.article(&token, &format!("Deep {i}"), &[&tag]).await;
        let path = format!("/api/articles/{slug}/favorite");
        app.post(&path, Some(&fan_token), json!({})).await;
        slugs.insert(0, slug);
    }
    for list in [
        format!("author={author}"),
        format!("tag={tag}"),
        format!("favorited={fan}"),
    ] {
        let (whole, total) = whole_list(&app, &list).await;
        assert_eq!(whole, slugs, "{list}");
        assert_eq!(total, 7);
        for limit in [1, 2, 3, 7] {
            for offset in 0..=8 {
                let page = app
                    .get(
                        &format!("/api/articles?{list}&limit={limit}&offset={offset}"),
                        None,
                    )
                    .await;
                let got: Vec<&str> = page.body["articles"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["slug"].as_str().unwrap())
                    .collect();
                let expected: Vec<&str> = slugs
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(String::as_str)
                    .collect();
                assert_eq!(got, expected, "{list} limit {limit} offset {offset}");
                assert_eq!(page.body["articlesCount"], 7, "{list}");
            }
        }
    }

    // GraphQL pages by cursor through the same lists.
    let query = "query($tag: String, $after: String) {
        articles(tag: $tag, first: 3, after: $after) {
            totalCount edges { node { slug } } pageInfo { hasNextPage endCursor }
        }
    }";
    let (mut after, mut seen) = (Value::Null, Vec::new());
    loop {
        let response = app
            .post(
                "/graphql",
                None,
                json!({"query": query, "variables": {"tag": tag, "after": after}}),
            )
            .await;
        let connection = &response.body["data"]["articles"];
        assert_eq!(connection["totalCount"], 7, "{}", response.text);
        for edge in connection["edges"].as_array().unwrap() {
            seen.push(edge["node"]["slug"].as_str().unwrap().to_owned());
        }
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, slugs);
}

/// Whether `plan` (this engine's EXPLAIN of a list statement) reads the rows in order from an
/// index, without scanning the table or sorting.
fn reads_in_index_order(backend: DbBackend, plan: &[String]) -> bool {
    let text = plan.join("\n") + "\n";
    match backend {
        DbBackend::Sqlite => !text.contains("TEMP B-TREE") && !text.contains("SCAN articles\n"),
        DbBackend::MySql => !text.contains("Using filesort") && !text.contains("|ALL|"),
        _ => !text.contains("\"Sort\"") && !text.contains("Seq Scan"),
    }
}

/// The plan of `statement`; on PostgreSQL with sorts and sequential scans priced out, so that
/// what it shows is whether an index *can* serve the statement (a few rows may be cheaper to
/// sort, but the plan at a million is the point).
async fn explain(db: &DatabaseConnection, statement: &Statement) -> Vec<String> {
    let backend = db.get_database_backend();
    let txn = db.begin().await.unwrap();
    if backend == DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off")
            .await
            .unwrap();
    }
    let prefix = match backend {
        DbBackend::Sqlite => "EXPLAIN QUERY PLAN ",
        DbBackend::MySql => "EXPLAIN ",
        _ => "EXPLAIN (FORMAT JSON) ",
    };
    let explain = Statement {
        sql: format!("{prefix}{}", statement.sql),
        values: statement.values.clone(),
        db_backend: backend,
    };
    let rows = txn.query_all_raw(explain).await.unwrap();
    txn.rollback().await.unwrap();
    rows.iter()
        .map(|row| match backend {
            DbBackend::Sqlite => row.try_get::<String>("", "detail").unwrap(),
            DbBackend::MySql => {
                let kind: Option<String> = row.try_get("", "type").unwrap();
                let extra: Option<String> = row.try_get("", "Extra").unwrap();
                format!(
                    "|{}|{}",
                    kind.unwrap_or_default(),
                    extra.unwrap_or_default()
                )
            }
            _ => row.try_get_by_index::<Value>(0).unwrap().to_string(),
        })
        .collect()
}

#[tokio::test]
async fn list_pages_are_read_from_an_index_in_their_order_on_every_engine() {
    // Uncached: every request runs its statements, whatever another test's server kept.
    let (app, statements) = TestApp::spawn_recording_with(&[("cache_enabled", "false")]).await;
    let db = quire::db::connect(&settings_for(&app.database_url, None))
        .await
        .unwrap();
    let options = quire::seed::SeedOptions {
        users: 50,
        articles: 1_500,
        favorites: 3_000,
        follows: 200,
        comments: 500,
    };
    quire::seed::run(&db, &options).await.unwrap();
    let (author, token) = app.user().await;
    let tag = unique("planned");
    let slug = app.article(&token, "Planned", &[&tag]).await;
    app.post(
        &format!("/api/articles/{slug}/favorite"),
        Some(&token),
        json!({}),
    )
    .await;
    statements.lock().unwrap().clear();
    for query in [
        "limit=20".to_owned(),
        "limit=20&offset=40".to_owned(),
        "limit=20&offset=1400".to_owned(),
        "tag=programming&limit=20".to_owned(),
        format!("tag={tag}"),
        format!("author={author}"),
        format!("favorited={author}"),
    ] {
        let response = app.get(&format!("/api/articles?{query}"), None).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{query}: {}",
            response.text
        );
    }
    let query = "{ articles(first: 5) { edges { cursor } } }";
    let first = app.post("/graphql", None, json!({ "query": query })).await;
    let cursor = first.body["data"]["articles"]["edges"][4]["cursor"].clone();
    let continued = "query($after: String!) { articles(first: 5, after: $after) { totalCount } }";
    app.post(
        "/graphql",
        None,
        json!({ "query": continued, "variables": {"after": cursor} }),
    )
    .await;

    let recorded: Vec<Statement> = statements.lock().unwrap().clone();
    let pages: Vec<&Statement> = recorded
        .iter()
        .filter(|s| s.sql.contains("ORDER BY") && s.sql.contains("LIMIT"))
        .filter(|s| {
            ["\"articles\"", "`articles`", "article_tags", "favorites"]
                .iter()
                .any(|t| s.sql.contains(t))
        })
        .filter(|s| !s.sql.contains("comments"))
        .collect();
    assert!(pages.len() >= 8, "too few list statements: {pages:#?}");
    let backend = db.get_database_backend();
    for statement in pages {
        let plan = explain(&db, statement).await;
        assert!(
            reads_in_index_order(backend, &plan),
            "{} is not read in index order:\n{}",
            statement.sql,
            plan.join("\n")
        );
    }
    // Counting a list is never part of reading it.
    assert!(
        !recorded.iter().any(|s| s.sql.contains("COUNT(")),
        "a list was counted: {recorded:#?}"
    );
}

#[tokio::test]
async fn quire_recount_sets_counts_that_older_instances_left_behind() {
    let app = TestApp::spawn().await;
    let (author, token) = app.user().await;
    let tag = unique("recount");
    let slug = app.article(&token, "Counted", &[&tag]).await;
    // What an instance of a build that keeps no counts leaves: rows the counts do not include
    // (only this test's own: other tests share the database).
    let db = sea_orm::Database::connect(&app.database_url).await.unwrap();
    let backend = db.get_database_backend();
    for (table, key, value) in [("users", "username", &author), ("tags", "name", &tag)] {
        let sql = match backend {
            DbBackend::Postgres => {
                format!("UPDATE {table} SET articles_count = 0 WHERE {key} = $1")
            }
            _ => format!("UPDATE {table} SET articles_count = 0 WHERE {key} = ?"),
        };
        let corrupt = Statement::from_sql_and_values(backend, sql, [value.as_str().into()]);
        db.execute_raw(corrupt).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let recount = crate::cli::quire(dir.path())
        .arg("recount")
        .env("QUIRE_DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&recount.stderr);
    assert!(recount.status.success(), "{said}");
    assert!(said.contains("list counts set from the rows"), "{said}");
    // Past the cache: a new instance on the same database.
    let fresh = app.beside(&[]).await;
    let listed = fresh
        .get(&format!("/api/articles?author={author}"), None)
        .await;
    assert_eq!(listed.body["articlesCount"], 1, "{}", listed.text);
    let tagged = fresh.get(&format!("/api/articles?tag={tag}"), None).await;
    assert_eq!(tagged.body["articlesCount"], 1);
    assert_eq!(tagged.body["articles"][0]["slug"], slug.as_str());
}
