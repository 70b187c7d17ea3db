//! Time as an attack surface and a failure mode: logins cost the same whether or not the
//! account exists, slow clients and slow servers get JSON answers, a trickled header closes
//! the connection, and a database that goes away fails requests fast with 503.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement, TransactionTrait};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{PASSWORD, TestApp, unique};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test]
async fn a_login_costs_the_same_whether_or_not_the_account_exists() {
    let app = TestApp::spawn().await;
    let (username, _) = app.user().await;
    let known = format!("{username}@example.com");
    let (mut unknown_times, mut wrong_times) = (Vec::new(), Vec::new());
    // Interleaved, so that whatever else the machine does weighs on both alike.
    for _ in 0..5 {
        for (email, times) in [
            (
                format!("{}@example.com", unique("nobody")),
                &mut unknown_times,
            ),
            (known.clone(), &mut wrong_times),
        ] {
            let started = Instant::now();
            let response = app
                .post(
                    "/api/users/login",
                    None,
                    json!({"user": {"email": email, "password": "not-the-password"}}),
                )
                .await;
            times.push(started.elapsed());
            response.assert_error(StatusCode::UNAUTHORIZED);
        }
    }
    let (unknown, wrong) = (median(unknown_times), median(wrong_times));
    // Without the dummy hash an unknown e-mail answers in a tenth of the time or less.
    assert!(
        unknown.as_secs_f64() > 0.5 * wrong.as_secs_f64(),
        "unknown e-mail {unknown:?}, wrong password {wrong:?}"
    );
}

/// Sends `bytes` on a fresh connection and reads until the server closes it (at most `wait`).
async fn exchange(base: &str, bytes: &[u8], wait: Duration) -> (String, bool) {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut received = Vec::new();
    let closed = tokio::time::timeout(wait, stream.read_to_end(&mut received))
        .await
        .is_ok();
    (String::from_utf8_lossy(&received).into_owned(), closed)
}

#[tokio::test]
async fn a_body_sent_too_slowly_is_answered_408_in_json() {
    let app = TestApp::spawn_with(&[("body_timeout_seconds", "1")]).await;
    for path in ["/api/users/login", "/graphql"] {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"user\":"
        );
        let (answer, closed) =
            exchange(&app.base, request.as_bytes(), Duration::from_secs(20)).await;
        assert!(closed, "the connection stayed open: {answer}");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("application/json"), "{answer}");
        assert!(answer.contains("\"errors\""), "{answer}");
    }
}

#[tokio::test]
async fn a_header_sent_too_slowly_closes_the_connection() {
    let app = TestApp::spawn_with(&[("header_timeout_seconds", "1")]).await;
    let (answer, closed) = exchange(
        &app.base,
        b"GET /api/tags HTTP/1.1\r\nHost: test\r\nX-Slow: ",
        Duration::from_secs(20),
    )
    .await;
    assert!(closed, "a half-sent header kept the connection open");
    assert!(!answer.contains("200 OK"), "{answer}");
    // A whole request on a new connection is served as usual.
    assert_eq!(app.get("/api/tags", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_request_the_server_cannot_finish_in_time_is_503_in_json() {
    // Set up through an instance with the usual limit: a registration (argon2) on a busy
    // machine can take longer than the one second under test.
    let setup = TestApp::spawn_with(&[("cache_enabled", "false")]).await;
    let (_, token) = setup.user().await;
    let slug = setup.article(&token, &unique("Locked"), &[]).await;
    let app = setup
        .beside(&[("request_timeout_seconds", "1"), ("cache_enabled", "false")])
        .await;
    // Another writer holds the article's row (all of SQLite) for longer than the limit.
    let db = Database::connect(app.database_url.clone()).await.unwrap();
    let txn = db.begin().await.unwrap();
    let backend = txn.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => "UPDATE articles SET title = title WHERE slug = $1",
        _ => "UPDATE articles SET title = title WHERE slug = ?",
    };
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [slug.clone().into()],
    ))
    .await
    .unwrap();
    let response = app
        .put(
            &format!("/api/articles/{slug}"),
            Some(&token),
            json!({"article": {"body": "waits"}}),
        )
        .await;
    txn.rollback().await.unwrap();
    response.assert_error(StatusCode::SERVICE_UNAVAILABLE);
}

/// A TCP relay to the database that the test can cut, as a network failure or a stopped
/// server would.
struct Relay {
    port: u16,
    cut: Arc<AtomicBool>,
    links: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let links = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (cut_flag, link_list) = (cut.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if cut_flag.load(Ordering::SeqCst) {
                    continue; // dropped: the database is gone
                }
                let target = target.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                link_list.lock().unwrap().push(link);
            }
        });
        Relay { port, cut, links }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }
}

#[tokio::test]
async fn a_database_that_goes_away_fails_requests_fast_with_503() {
    let url = std::env::var("QUIRE_TEST_DATABASE_URL").unwrap_or_default();
    // host:port between the credentials and the database name.
    let Some((head, rest)) = url.split_once('@') else {
        return; // SQLite is a file: it cannot go away like a server
    };
    let (target, tail) = rest.split_once('/').unwrap();
    let relay = Relay::start(target.to_owned()).await;
    let relayed = format!("{head}@127.0.0.1:{}/{tail}", relay.port);
    let app = TestApp::spawn_with(&[
        ("database_url", relayed.as_str()),
        ("db_acquire_timeout_seconds", "1"),
        ("cache_enabled", "false"),
    ])
    .await;
    let (_, token) = app.user().await;
    let slug = app.article(&token, &unique("Gone"), &[]).await;
    assert_eq!(app.get("/health/ready", None).await.status, StatusCode::OK);

    relay.cut();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(8))
        .build()
        .unwrap();
    for _ in 0..3 {
        for (method, path, body) in [
            (reqwest::Method::GET, format!("/api/articles/{slug}"), None),
            (reqwest::Method::GET, "/api/articles".to_owned(), None),
            (
                reqwest::Method::POST,
                "/api/users/login".to_owned(),
                Some(json!({"user": {"email": "a@example.com", "password": PASSWORD}})),
            ),
        ] {
            let mut request = client.request(method.clone(), app.url(&path));
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("answered, not hung");
            assert_eq!(
                response.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{method} {path}"
            );
            let body: serde_json::Value = response.json().await.unwrap();
            assert!(body["errors"]["body"].is_array(), "{body}");
        }
    }
    let ready = client
        .get(app.url("/health/ready"))
        .send()
        .await
        .expect("answered");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let graphql = client
        .post(app.url("/graphql"))
        .header("authorization", format!("Token {token}"))
        .json(&json!({"query": "{ me { username } }"}))
        .send()
        .await
        .expect("answered");
    assert_eq!(graphql.status(), StatusCode::SERVICE_UNAVAILABLE);
}
