//! Article views: every read counts (REST and GraphQL, signed in or anonymous, served from the
//! answer cache or not), written in the background; monthly partitions on PostgreSQL and
//! MariaDB, created ahead and dropped past retention, and a one-month report reads only its
//! month's partition (EXPLAIN).

use std::time::{Duration, Instant};

use quire::db::entities::{article_views, articles, users};
use quire::db::now_ms;
use quire::db::partitions::{self, Month};
use quire::jobs::report::author_stats_statement;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    Statement,
};
use serde_json::json;

use crate::jobs::queue;
use crate::support::TestApp;

pub(crate) async fn article_id(db: &DatabaseConnection, slug: &str) -> i64 {
    articles::Entity::find()
        .filter(articles::Column::Slug.eq(slug))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// The views written for `article` (rows count several reads within one second).
async fn views_written(db: &DatabaseConnection, article: i64, viewer: Option<i64>) -> u64 {
    let mut rows =
        article_views::Entity::find().filter(article_views::Column::ArticleId.eq(article));
    if let Some(viewer) = viewer {
        rows = rows.filter(article_views::Column::ViewerId.eq(viewer));
    }
    let rows = rows.all(db).await.unwrap();
    rows.iter().map(|row| row.views as u64).sum()
}

/// Waits until `article` has `expected` views written.
pub(crate) async fn wait_for_views(db: &DatabaseConnection, article: i64, expected: u64) {
    let started = Instant::now();
    loop {
        let written = views_written(db, article, None).await;
        if written == expected {
            return;
        }
        assert!(
            written < expected,
            "{written} views written, expected {expected}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "only {written} of {expected} views written"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn every_read_of_an_article_counts_cached_or_not() {
    let app = TestApp::spawn().await;
    let db = queue(&app).await;
    let (_, author) = app.user().await;
    let (reader_name, reader) = app.user().await;
    let slug = app.article(&author, "Counted", &[]).await;
    let path = format!("/api/articles/{slug}");
    // Anonymous twice (the second from the answer cache), signed in once.
    for token in [None, None, Some(reader.as_str())] {
        assert_eq!(app.get(&path, token).await.status, reqwest::StatusCode::OK);
    }
    let query = json!({"query": format!("{{ article(slug: \"{slug}\") {{ title }} }}")});
    for _ in 0..2 {
        let answered = app.post("/graphql", None, query.clone()).await;
        assert_eq!(
            answered.body["data"]["article"]["title"], "Counted",
            "{}",
            answered.text
        );
    }
    // Lists do not count as reads of their articles.
    app.get("/api/articles", None).await;
    let id = article_id(&db, &slug).await;
    wait_for_views(&db, id, 5).await;
    let reader_id = users::Entity::find()
        .filter(users::Column::Username.eq(reader_name))
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(views_written(&db, id, Some(reader_id)).await, 1);
    // A write in between: the next anonymous read rebuilds the answer and still counts.
    let changed = json!({"article": {"body": "changed"}});
    app.put(&path, Some(&author), changed).await;
    app.get(&path, None).await;
    wait_for_views(&db, id, 6).await;
}

#[tokio::test]
async fn reads_within_a_second_are_written_as_one_row_with_their_number() {
    let app = TestApp::spawn().await;
    let db = queue(&app).await;
    let (_, author) = app.user().await;
    let slug = app.article(&author, "Popular", &[]).await;
    let path = format!("/api/articles/{slug}");
    let reads = 40;
    let started = Instant::now();
    for _ in 0..reads {
        assert_eq!(app.get(&path, None).await.status, reqwest::StatusCode::OK);
    }
    // A second's reads may straddle two flushes of the buffer: at most two rows a second.
    let most_rows = 2 * (started.elapsed().as_secs() + 2);
    let id = article_id(&db, &slug).await;
    wait_for_views(&db, id, reads).await;
    let rows = article_views::Entity::find()
        .filter(article_views::Column::ArticleId.eq(id))
        .all(&db)
        .await
        .unwrap();
    assert!(
        (rows.len() as u64) <= most_rows,
        "{} rows for {reads} anonymous reads",
        rows.len()
    );
    assert!(rows.iter().all(|row| row.viewed_at % 1000 == 0));
}

#[tokio::test]
async fn views_switched_off_record_nothing() {
    let app = TestApp::spawn_with(&[("views_enabled", "false")]).await;
    let db = queue(&app).await;
    let (_, author) = app.user().await;
    let slug = app.article(&author, "Unwatched", &[]).await;
    let path = format!("/api/articles/{slug}");
    for _ in 0..3 {
        assert_eq!(app.get(&path, None).await.status, reqwest::StatusCode::OK);
    }
    // Longer than a flush of the buffer.
    tokio::time::sleep(quire::views::FLUSH_EVERY * 2).await;
    let id = article_id(&db, &slug).await;
    assert_eq!(views_written(&db, id, None).await, 0);
}

async fn plan(db: &DatabaseConnection, month: Month) -> String {
    let backend = db.get_database_backend();
    let statement = author_stats_statement(backend, (month.start_ms(), month.end_ms()), 1, 0);
    let explain = if backend == DbBackend::Postgres {
        "EXPLAIN"
    } else {
        let version = db
            .query_one_raw(Statement::from_string(backend, "SELECT VERSION() AS v"))
            .await
            .unwrap()
            .unwrap()
            .try_get::<String>("", "v")
            .unwrap();
        if version.contains("MariaDB") {
            "EXPLAIN PARTITIONS"
        } else {
            "EXPLAIN"
        }
    };
    let statement = Statement {
        sql: format!("{explain} {}", statement.sql),
        ..statement
    };
    let rows = db.query_all_raw(statement).await.unwrap();
    if backend == DbBackend::Postgres {
        rows.iter()
            .map(|row| row.try_get::<String>("", "QUERY PLAN").unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        // The partitions read for the views table (aliased `v`).
        rows.iter()
            .filter(|row| row.try_get::<String>("", "table").ok().as_deref() == Some("v"))
            .map(|row| {
                row.try_get::<Option<String>>("", "partitions")
                    .unwrap()
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[tokio::test]
async fn a_report_over_one_month_reads_only_that_months_partition() {
    let app = TestApp::spawn().await;
    let db = queue(&app).await;
    let backend = db.get_database_backend();
    let current = Month::of_ms(now_ms());
    if backend == DbBackend::Sqlite {
        // A plain table: retention deletes rows.
        let old = current.plus(-13).start_ms();
        db.execute_unprepared(&format!(
            "INSERT INTO article_views (article_id, viewer_id, viewed_at) VALUES (1, NULL, {old})"
        ))
        .await
        .unwrap();
        let done = partitions::upkeep(&db, now_ms(), 12).await.unwrap();
        assert_eq!(done.deleted_rows, 1);
        return;
    }
    // Created by the migration: this month and the next three.
    let months = partitions::months(&db).await.unwrap();
    for ahead in 0..=partitions::MONTHS_AHEAD as i32 {
        assert!(months.contains(&current.plus(ahead)), "{months:?}");
    }
    let next = current.plus(1);
    let plan = plan(&db, next).await;
    let wanted = next.partition(backend);
    if backend == DbBackend::Postgres {
        let read: Vec<&str> = plan
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            // Partition names (index names start the same and are longer).
            .filter(|word| {
                *word == "article_views_default"
                    || (word.starts_with("article_views_y") && word.len() == wanted.len())
            })
            .collect();
        assert!(!read.is_empty(), "{plan}");
        assert!(read.iter().all(|name| *name == wanted), "{plan}");
    } else {
        assert_eq!(plan, wanted);
    }
}

#[tokio::test]
async fn upkeep_creates_months_ahead_and_drops_those_past_retention() {
    let app = TestApp::spawn().await;
    let db = queue(&app).await;
    let backend = db.get_database_backend();
    if backend == DbBackend::Sqlite {
        return; // a plain table: the test above covers its retention
    }
    let current = Month::of_ms(now_ms());
    // Later months are added at the end on both databases.
    let later = current.plus(30);
    partitions::upkeep(&db, later.start_ms(), 1_000)
        .await
        .unwrap();
    let months = partitions::months(&db).await.unwrap();
    for ahead in 0..=partitions::MONTHS_AHEAD as i32 {
        assert!(months.contains(&later.plus(ahead)), "{months:?}");
    }
    if backend == DbBackend::Postgres {
        // Old months (PostgreSQL takes any range) go once past retention; this month stays.
        let old = Month {
            year: 2001,
            month: 1,
        };
        partitions::upkeep(&db, old.start_ms(), 1_000)
            .await
            .unwrap();
        assert!(partitions::months(&db).await.unwrap().contains(&old));
        let done = partitions::upkeep(&db, now_ms(), 12).await.unwrap();
        assert!(done.dropped.contains(&old), "{done:?}");
        let months = partitions::months(&db).await.unwrap();
        assert!(!months.contains(&old) && months.contains(&current));
    }
}
