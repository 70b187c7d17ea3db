//! Concurrent misses of one cache entry (every reader right after a write) build it once on an
//! instance, not once per request.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, recorded_sql};

#[tokio::test]
async fn concurrent_misses_after_a_write_run_the_rebuild_once() {
    let (app, statements) = TestApp::spawn_recording().await;
    let (author, token) = app.user().await;
    let (_, fan) = app.user().await;
    let slug = app.article(&token, "Rebuilt", &["rebuilt"]).await;
    let list = format!("/api/articles?author={author}");
    let favorite = format!("/api/articles/{slug}/favorite");

    // What one reader after a write costs (the page was read before).
    assert_eq!(app.get(&list, None).await.status, StatusCode::OK);
    app.post(&favorite, Some(&fan), json!({})).await;
    statements.lock().unwrap().clear();
    assert_eq!(app.get(&list, None).await.status, StatusCode::OK);
    let one_rebuild = recorded_sql(&statements);
    assert!(
        !one_rebuild.is_empty(),
        "the write did not invalidate the list"
    );

    // Many readers at once after the same kind of write: the same statements, run once.
    app.delete(&favorite, Some(&fan)).await;
    statements.lock().unwrap().clear();
    let answers = futures::future::join_all((0..24).map(|_| app.get(&list, None))).await;
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body["articles"][0]["favoritesCount"], 0);
    }
    let run = recorded_sql(&statements);
    assert_eq!(
        run.len(),
        one_rebuild.len(),
        "24 concurrent readers ran {run:#?}\nwhere one reader runs {one_rebuild:#?}"
    );
}
