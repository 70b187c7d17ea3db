//! The cache: zero-SQL hits, viewer overlays, HTTP validators, coherence across instances and
//! survival when Redis fails.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rand::Rng;
use rand::seq::IndexedRandom;
use reqwest::StatusCode;
use serde_json::{Value, json};

use quire::domain::cache_keys::Kind;

use crate::support::{TestApp, free_port, missing, recorded_sql, required_redis, unique, wait_for};

pub(crate) fn redis_url() -> Option<String> {
    std::env::var("QUIRE_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

#[tokio::test]
async fn hits_run_no_sql_for_anonymous_readers_nor_viewers_beyond_their_token() {
    let (app, statements) = TestApp::spawn_recording().await;
    let (author, token) = app.user().await;
    let (_, viewer) = app.user().await;
    let slug = app.article(&token, "Cached", &["cached"]).await;
    app.post(
        &format!("/api/articles/{slug}/favorite"),
        Some(&viewer),
        json!({}),
    )
    .await;
    let path = format!("/api/articles?author={author}");

    let first = app.get(&path, None).await;
    assert_eq!(first.status, StatusCode::OK);
    statements.lock().unwrap().clear();
    let hit = app.get(&path, None).await;
    assert_eq!(hit.text, first.text);
    assert!(
        statements.lock().unwrap().is_empty(),
        "a cache hit ran SQL: {:?}",
        statements.lock().unwrap()
    );
    for path in [
        "/api/tags".to_owned(),
        format!("/api/articles/{slug}"),
        format!("/api/articles/{slug}/comments"),
        format!("/api/profiles/{author}"),
    ] {
        app.get(&path, None).await;
        statements.lock().unwrap().clear();
        assert_eq!(app.get(&path, None).await.status, StatusCode::OK);
        assert!(
            statements.lock().unwrap().is_empty(),
            "{path} ran SQL on a hit"
        );
    }

    // A viewer reuses the shared entry and their own flags: no SQL either, for the list, the
    // article, their feed and themselves, but the token's check (cached only in a shared
    // cache, so that a revocation holds on every instance).
    let token_check = usize::from(redis_url().is_none());
    for path in [
        path.clone(),
        format!("/api/articles/{slug}"),
        "/api/articles/feed".to_owned(),
        "/api/user".to_owned(),
    ] {
        app.get(&path, Some(&viewer)).await;
        statements.lock().unwrap().clear();
        let seen = app.get(&path, Some(&viewer)).await;
        assert_eq!(seen.status, StatusCode::OK, "{path}");
        let run = recorded_sql(&statements);
        // `/api/user` reads the account twice: to check the token and to show it.
        let reads = if path == "/api/user" { 2 } else { 1 };
        assert_eq!(run.len(), token_check * reads, "{path}: {run:#?}");
    }
    let seen = app
        .get(&format!("/api/articles/{slug}"), Some(&viewer))
        .await;
    assert_eq!(seen.body["article"]["favorited"], true);
    assert!(
        app.cache
            .stats(quire::domain::cache_keys::Kind::Response)
            .hits
            > 0
    );
    assert!(
        app.cache
            .stats(quire::domain::cache_keys::Kind::ArticleList)
            .hits
            > 0
    );
}

#[tokio::test]
async fn writes_are_seen_by_the_very_next_read() {
    let app = TestApp::spawn().await;
    let (author, token) = app.user().await;
    let (_, fan) = app.user().await;
    let slug = app.article(&token, "Fresh", &["fresh"]).await;
    let list = format!("/api/articles?author={author}");
    let article = format!("/api/articles/{slug}");
    assert_eq!(
        app.get(&list, None).await.body["articles"][0]["favoritesCount"],
        0
    );
    app.get(&article, None).await;

    app.post(&format!("{article}/favorite"), Some(&fan), json!({}))
        .await;
    assert_eq!(
        app.get(&list, None).await.body["articles"][0]["favoritesCount"],
        1
    );
    assert_eq!(
        app.get(&article, None).await.body["article"]["favoritesCount"],
        1
    );
    assert_eq!(
        app.get(&article, Some(&fan)).await.body["article"]["favorited"],
        true
    );

    app.put(
        &article,
        Some(&token),
        json!({"article": {"body": "changed"}}),
    )
    .await;
    assert_eq!(
        app.get(&article, None).await.body["article"]["body"],
        "changed"
    );

    app.put(
        "/api/user",
        Some(&token),
        json!({"user": {"image": "https://example.com/new.png"}}),
    )
    .await;
    assert_eq!(
        app.get(&list, None).await.body["articles"][0]["author"]["image"],
        "https://example.com/new.png"
    );
    assert_eq!(
        app.get(&format!("/api/profiles/{author}"), None).await.body["profile"]["image"],
        "https://example.com/new.png"
    );

    app.get(&format!("{article}/comments"), None).await;
    app.post(
        &format!("{article}/comments"),
        Some(&fan),
        json!({"comment": {"body": "hi"}}),
    )
    .await;
    assert_eq!(
        app.get(&format!("{article}/comments"), None).await.body["comments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    app.post(
        &format!("/api/profiles/{author}/follow"),
        Some(&fan),
        json!({}),
    )
    .await;
    assert_eq!(
        app.get(&list, Some(&fan)).await.body["articles"][0]["author"]["following"],
        true
    );
    assert_eq!(
        app.get(&list, None).await.body["articles"][0]["author"]["following"],
        false
    );

    let tag = unique("late");
    app.article(&token, "Later", &[tag.as_str()]).await;
    let tags = app.get("/api/tags", None).await;
    assert!(
        tags.body["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == tag.as_str())
    );
    assert_eq!(
        app.delete(&article, Some(&token)).await.status,
        StatusCode::NO_CONTENT
    );
    app.get(&article, None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    assert_eq!(app.get(&list, None).await.body["articlesCount"], 1);
}

#[tokio::test]
async fn etags_answer_304_and_policies_follow_the_auth_state() {
    let app = TestApp::spawn().await;
    let (author, token) = app.user().await;
    app.article(&token, "Validated", &[]).await;
    let path = format!("/api/articles?author={author}");

    for (token, policy) in [
        (None, "public, max-age=5"),
        (Some(token.as_str()), "private, no-cache"),
    ] {
        let first = app.get(&path, token).await;
        assert_eq!(first.headers["cache-control"], policy);
        let vary = first.headers["vary"].to_str().unwrap().to_ascii_lowercase();
        for header in ["authorization", "cookie", "accept-encoding"] {
            assert!(vary.contains(header), "Vary lacks {header}: {vary}");
        }
        let etag = first.headers["etag"].to_str().unwrap().to_owned();
        let mut request = app
            .client
            .get(app.url(&path))
            .header("If-None-Match", &etag);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Token {token}"));
        }
        let revalidated = app.raw(request).await;
        assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);
        assert!(revalidated.text.is_empty());
        assert_eq!(revalidated.headers["etag"], etag.as_str());
        let other = app
            .raw(
                app.client
                    .get(app.url(&path))
                    .header("If-None-Match", "W/\"stale\""),
            )
            .await;
        assert_eq!(other.status, StatusCode::OK);
    }

    let before = app.get(&path, None).await.headers["etag"].clone();
    app.article(&token, "Another", &[]).await;
    let after = app
        .raw(
            app.client
                .get(app.url(&path))
                .header("If-None-Match", before.clone()),
        )
        .await;
    assert_eq!(
        after.status,
        StatusCode::OK,
        "a write must change the validator"
    );
    assert_ne!(after.headers["etag"], before);
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    for i in 0..5 {
        app.article(&token, &format!("Compressible {i}"), &[]).await;
    }
    for encoding in ["gzip", "br"] {
        let response = app
            .raw(
                app.client
                    .get(app.url("/api/articles"))
                    .header("Accept-Encoding", encoding),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(response.headers["content-encoding"], encoding);
    }
    let plain = app.get("/api/articles", None).await;
    assert!(plain.headers.get("content-encoding").is_none());
}

#[tokio::test]
async fn requests_succeed_when_redis_is_unreachable() {
    let app = TestApp::spawn_with(&[("redis_url", "redis://127.0.0.1:1")]).await;
    let (author, token) = app.user().await;
    let slug = app.article(&token, "No cache", &["nocache"]).await;
    for _ in 0..3 {
        assert_eq!(
            app.get(&format!("/api/articles?author={author}"), None)
                .await
                .body["articlesCount"],
            1
        );
        assert_eq!(
            app.get(&format!("/api/articles/{slug}"), None).await.status,
            StatusCode::OK
        );
        assert_eq!(
            app.get("/api/tags", Some(&token)).await.status,
            StatusCode::OK
        );
    }
    app.put(
        &format!("/api/articles/{slug}"),
        Some(&token),
        json!({"article": {"body": "new"}}),
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/articles/{slug}"), None).await.body["article"]["body"],
        "new"
    );
    assert!(app.cache.redis_errors() > 0, "the failure is counted");
}

fn start_redis(port: u16) -> Option<Child> {
    Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

async fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on {port}");
}

/// A Redis of the test's own, which it may stop or reconfigure, with its port; `None` (skip)
/// without `redis-server`, which CI must have.
pub(crate) async fn private_redis() -> Option<(Child, u16)> {
    let port = free_port();
    let Some(redis) = start_redis(port) else {
        missing("redis-server");
        return None;
    };
    wait_for_port(port).await;
    Some((redis, port))
}

#[tokio::test]
async fn redis_stopping_mid_run_degrades_to_the_database_and_recovers() {
    let Some((mut redis, port)) = private_redis().await else {
        return;
    };
    let url = format!("redis://127.0.0.1:{port}");
    let (app, statements) = TestApp::spawn_recording_with(&[("redis_url", url.as_str())]).await;
    let (author, token) = app.user().await;
    let slug = app.article(&token, "Resilient", &[]).await;
    let list = format!("/api/articles?author={author}");
    app.get(&list, None).await;
    statements.lock().unwrap().clear();
    app.get(&list, None).await;
    assert!(
        statements.lock().unwrap().is_empty(),
        "Redis serves the hit"
    );

    redis.kill().unwrap();
    redis.wait().unwrap();
    for i in 0..5 {
        let body = format!("written while Redis is down {i}");
        let updated = app
            .put(
                &format!("/api/articles/{slug}"),
                Some(&token),
                json!({"article": {"body": body}}),
            )
            .await;
        assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
        let read = app.get(&format!("/api/articles/{slug}"), None).await;
        assert_eq!(read.status, StatusCode::OK);
        assert_eq!(read.body["article"]["body"], body.as_str());
        assert_eq!(app.get(&list, None).await.status, StatusCode::OK);
    }
    assert!(app.cache.redis_errors() > 0);

    let mut redis = start_redis(port).expect("redis-server restarts");
    wait_for_port(port).await;
    // Past the back-off, a hit runs no SQL again.
    wait_for(
        "the cache to be used again once Redis is back",
        async || {
            app.get(&list, None).await;
            statements.lock().unwrap().clear();
            let hit = app.get(&list, None).await;
            assert_eq!(hit.status, StatusCode::OK);
            statements.lock().unwrap().is_empty()
        },
    )
    .await;
    redis.kill().unwrap();
    redis.wait().unwrap();
}

/// What the test knows the data to be: every read must agree with it.
struct Model {
    slug: String,
    body: String,
    favorited_by: Vec<bool>,
    comments: Vec<i64>,
    image: String,
}

#[tokio::test]
async fn two_instances_sharing_redis_never_serve_stale_reads() {
    let Some(redis) = required_redis() else {
        return;
    };
    let (a, b) = TestApp::spawn_pair(&[("redis_url", redis.as_str())]).await;
    let instances = [&a, &b];
    let (author, author_token) = a.user().await;
    let mut fans = Vec::new();
    for _ in 0..3 {
        fans.push(b.user().await.1);
    }
    let slug = a.article(&author_token, "Coherent", &["coherent"]).await;
    let mut model = Model {
        slug,
        body: "the body".into(),
        favorited_by: vec![false; fans.len()],
        comments: vec![],
        image: String::new(),
    };
    let mut rng = rand::rng();

    for step in 0..60 {
        let writer = *instances.choose(&mut rng).unwrap();
        let reader = if std::ptr::eq(writer, &a) { &b } else { &a };
        let fan = rng.random_range(0..fans.len());
        let article = format!("/api/articles/{}", model.slug);
        match rng.random_range(0..6) {
            0 => {
                model.body = format!("body {step}");
                let r = writer
                    .put(
                        &article,
                        Some(&author_token),
                        json!({"article": {"body": model.body}}),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK);
            }
            1 => {
                writer
                    .post(&format!("{article}/favorite"), Some(&fans[fan]), json!({}))
                    .await;
                model.favorited_by[fan] = true;
            }
            2 => {
                writer
                    .delete(&format!("{article}/favorite"), Some(&fans[fan]))
                    .await;
                model.favorited_by[fan] = false;
            }
            3 => {
                let r = writer
                    .post(
                        &format!("{article}/comments"),
                        Some(&fans[fan]),
                        json!({"comment": {"body": "c"}}),
                    )
                    .await;
                model
                    .comments
                    .insert(0, r.body["comment"]["id"].as_i64().unwrap());
            }
            4 if !model.comments.is_empty() => {
                let id = model.comments.remove(0);
                let r = writer
                    .delete(&format!("{article}/comments/{id}"), Some(&fans[0]))
                    .await;
                // Only the commenter may delete; put it back when another fan wrote it.
                if r.status != StatusCode::NO_CONTENT {
                    model.comments.insert(0, id);
                }
            }
            _ => {
                model.image = format!("https://example.com/{step}.png");
                writer
                    .put(
                        "/api/user",
                        Some(&author_token),
                        json!({"user": {"image": model.image}}),
                    )
                    .await;
            }
        }

        // The very next reads, through the other instance, anonymous and as each fan.
        let count = model.favorited_by.iter().filter(|f| **f).count();
        let single = reader.get(&article, None).await.body["article"].clone();
        assert_eq!(single["body"], model.body.as_str(), "step {step}");
        assert_eq!(single["favoritesCount"], count, "step {step}");
        assert_eq!(
            single["author"]["image"],
            model.image.as_str(),
            "step {step}"
        );
        let listed = reader
            .get(&format!("/api/articles?author={author}"), None)
            .await
            .body["articles"][0]
            .clone();
        assert_eq!(listed["favoritesCount"], count, "step {step}");
        assert_eq!(
            listed["author"]["image"],
            model.image.as_str(),
            "step {step}"
        );
        for (i, token) in fans.iter().enumerate() {
            let seen = reader.get(&article, Some(token)).await.body["article"].clone();
            assert_eq!(
                seen["favorited"], model.favorited_by[i],
                "step {step}, fan {i}"
            );
        }
        let thread: Vec<i64> =
            reader.get(&format!("{article}/comments"), None).await.body["comments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c: &Value| c["id"].as_i64().unwrap())
                .collect();
        assert_eq!(thread, model.comments, "step {step}");
    }
}

#[tokio::test]
async fn the_cache_can_be_switched_off() {
    let (app, statements) = TestApp::spawn_recording_with(&[("cache_enabled", "false")]).await;
    let (author, token) = app.user().await;
    app.article(&token, "Uncached", &[]).await;
    let path = format!("/api/articles?author={author}");
    app.get(&path, None).await;
    statements.lock().unwrap().clear();
    let again = app.get(&path, None).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(
        again.headers.contains_key("etag"),
        "validators do not depend on the cache"
    );
    assert!(
        !statements.lock().unwrap().is_empty(),
        "with the cache off every read hits the database"
    );
}

/// The body of the article at `path`, read anonymously (through the shared cache).
async fn read(app: &TestApp, path: &str) -> String {
    let response = app.get(path, None).await;
    response.body["article"]["body"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", response.text))
        .to_owned()
}

/// Runs a Redis command against the server on `port`.
async fn redis_command(port: u16, args: &[&str]) {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let mut command = redis::cmd(args[0]);
    for arg in &args[1..] {
        command.arg(*arg);
    }
    command.query_async::<()>(&mut connection).await.unwrap();
}

#[tokio::test]
async fn a_redis_that_refuses_writes_never_leaves_instances_stale() {
    let Some((mut redis, port)) = private_redis().await else {
        return;
    };
    let url = format!("redis://127.0.0.1:{port}");
    let (a, b) = TestApp::spawn_pair(&[("redis_url", url.as_str())]).await;
    let (_, token) = a.user().await;
    let slug = a.article(&token, "Replicated", &[]).await;
    let path = format!("/api/articles/{slug}");
    assert_eq!(read(&b, &path).await, "the body");
    assert_eq!(read(&b, &path).await, "the body"); // now cached on B

    // A replica after fail-over: reads answer, writes are refused.
    redis_command(port, &["CONFIG", "SET", "min-replicas-to-write", "1"]).await;
    let updated = a
        .put(
            &path,
            Some(&token),
            json!({"article": {"body": "while read-only"}}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    // The writer knows its bump was lost: it stops reading the shared cache at once.
    assert_eq!(read(&a, &path).await, "while read-only");
    // The other instance notices within the watch's interval.
    wait_for("B to read the edit", async || {
        read(&b, &path).await == "while read-only"
    })
    .await;
    let edited = b
        .put(
            &path,
            Some(&token),
            json!({"article": {"body": "still read-only"}}),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK);
    assert_eq!(read(&a, &path).await, "still read-only");
    assert_eq!(read(&b, &path).await, "still read-only");

    // Writes are taken again: every lost bump is made good before the cache is read again.
    redis_command(port, &["CONFIG", "SET", "min-replicas-to-write", "0"]).await;
    wait_for("the shared cache to be in use again", async || {
        assert_eq!(read(&a, &path).await, "still read-only");
        let hits = b.cache.stats(Kind::Response).hits;
        assert_eq!(read(&b, &path).await, "still read-only");
        b.cache.stats(Kind::Response).hits > hits
    })
    .await;
    let last = a
        .put(
            &path,
            Some(&token),
            json!({"article": {"body": "writable again"}}),
        )
        .await;
    assert_eq!(last.status, StatusCode::OK);
    assert_eq!(read(&b, &path).await, "writable again");
    redis.kill().unwrap();
    redis.wait().unwrap();
}

#[tokio::test]
async fn a_handlers_policy_wins_and_an_answer_setting_a_cookie_is_never_public() {
    let app = TestApp::spawn().await;
    // The CSRF token sets a cookie: it is stored nowhere, and each visitor gets their own.
    let first = app.get("/api/session/csrf", None).await;
    let second = app.get("/api/session/csrf", None).await;
    for csrf in [&first, &second] {
        assert_eq!(csrf.status, StatusCode::OK, "{}", csrf.text);
        assert!(csrf.headers.contains_key("set-cookie"));
        assert_eq!(csrf.headers["cache-control"], "no-store");
    }
    assert_ne!(first.headers["set-cookie"], second.headers["set-cookie"]);
    assert_ne!(first.body["csrfToken"], second.body["csrfToken"]);

    // Reads of one account's own data are private, also where they name nobody yet.
    let (_, token) = app.user().await;
    for path in ["/api/user", "/api/webhooks", "/api/user/authorizations"] {
        let own = app.get(path, Some(&token)).await;
        assert_eq!(own.status, StatusCode::OK, "{path}: {}", own.text);
        assert_eq!(own.headers["cache-control"], "private, no-cache", "{path}");
        assert!(own.headers.contains_key("etag"), "{path}");
        let anonymous = app.get(path, None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(anonymous.headers["cache-control"], "no-store", "{path}");
    }
    // What declares nothing is stored nowhere: errors, health, the session, GraphQL.
    for path in [
        "/api/no-such-thing",
        "/api/articles/no-such-article",
        "/health/ready",
        "/api/session",
        "/graphql?query=%7Btags%7D",
    ] {
        let answer = app.get(path, None).await;
        assert_eq!(
            answer.headers["cache-control"], "no-store",
            "{path}: {}",
            answer.text
        );
    }
    // A declared shared read stays public for anonymous readers.
    assert_eq!(
        app.get("/api/tags", None).await.headers["cache-control"],
        "public, max-age=5"
    );
}
