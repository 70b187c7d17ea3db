//! Operating Quire: `/metrics`, readiness, the landing page, and shutting down on a signal.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::cli::{start_with, terminate, wait_ready};
use crate::support::{TestApp, free_port, unique};

/// The value of the series whose line starts with `series` (name and labels as written).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_not_by_path() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    let slug = app.article(&token, &unique("Metered"), &[]).await;
    for _ in 0..3 {
        assert_eq!(
            app.get(&format!("/api/articles/{slug}"), None).await.status,
            StatusCode::OK
        );
    }
    app.get(&format!("/api/nothing/{slug}"), None).await;

    let response = app.raw(app.client.get(app.url("/metrics"))).await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(
        response.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"),
    );
    let text = &response.text;
    let series = r#"quire_http_request_duration_seconds_count{method="GET",route="/api/articles/{slug}",status="200"}"#;
    assert!(
        sample(text, series).is_some_and(|count| count >= 3.0),
        "{series} missing or under 3 in:\n{text}"
    );
    assert!(
        !text.contains(&slug),
        "no raw path (with its slug) becomes a label"
    );
    assert!(text.contains(r#"route="unmatched",status="404""#), "{text}");
    assert!(text.contains("quire_http_request_duration_seconds_bucket{"));
    for present in [
        "quire_build_info{version=",
        r#"quire_db_pool_connections{state="idle"}"#,
        r#"quire_db_pool_connections{state="in_use"}"#,
        "quire_db_pool_max_connections",
        r#"quire_cache_lookups_total{kind="#,
        r#"quire_jobs{kind="webhook",state="queued"}"#,
        r#"quire_jobs{kind="report",state="dead"}"#,
    ] {
        assert!(text.contains(present), "{present} missing in:\n{text}");
    }
}

#[tokio::test]
async fn a_metrics_token_is_required_when_set_and_metrics_can_be_switched_off() {
    let token = "a-scraper-token-of-some-length";
    let app = TestApp::spawn_with(&[("metrics_token", token)]).await;
    let refused = app.raw(app.client.get(app.url("/metrics"))).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.headers["www-authenticate"], "Bearer");
    let wrong = app
        .raw(
            app.client
                .get(app.url("/metrics"))
                .bearer_auth("a-scraper-token-of-some-lengtH"),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let allowed = app
        .raw(app.client.get(app.url("/metrics")).bearer_auth(token))
        .await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert!(allowed.text.contains("quire_build_info"));

    let off = TestApp::spawn_with(&[("metrics_enabled", "false")]).await;
    off.get("/metrics", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn readiness_names_the_database_and_redis() {
    let app = TestApp::spawn().await;
    let ready = app.get("/health/ready", None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(ready.body["database"], "ok");
    let redis_configured = !std::env::var("QUIRE_TEST_REDIS_URL")
        .unwrap_or_default()
        .is_empty();
    let expected = if redis_configured {
        "ok"
    } else {
        "not configured"
    };
    assert_eq!(ready.body["redis"], expected);

    // Nothing listens on port 1.
    let cut_off = TestApp::spawn_with(&[("redis_url", "redis://127.0.0.1:1")]).await;
    let ready = cut_off.get("/health/ready", None).await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.text
    );
    assert_eq!(ready.body["redis"], "down");
    assert_eq!(ready.body["database"], "ok");
    assert_eq!(
        cut_off.get("/health/live", None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_landing_page_says_what_this_is_and_links_everything() {
    let app = TestApp::spawn().await;
    let page = app.raw(app.client.get(app.url("/"))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    for link in [
        "/docs",
        "/graphql",
        "/health/ready",
        "/metrics",
        "/api/openapi.json",
    ] {
        assert!(page.text.contains(&format!("href=\"{link}\"")), "{link}");
    }
    assert!(page.text.contains(env!("CARGO_PKG_VERSION")));
    assert!(
        !page.text.contains("http://") && !page.text.contains("https://"),
        "the page loads and links nothing outside this server"
    );
}

/// Sends a request's head and half its body, leaving it in flight.
fn start_slow_signup(port: u16) -> (TcpStream, String) {
    let name = unique("drain");
    let body = format!(
        r#"{{"user":{{"username":"{name}","email":"{name}@example.com","password":"a long enough password"}}}}"#
    );
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "POST /api/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..body.len() / 2]
    )
    .unwrap();
    (stream, body[body.len() / 2..].to_owned())
}

#[tokio::test]
async fn sigterm_turns_readiness_503_at_once_and_lets_requests_finish() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start_with(
        dir.path(),
        port,
        &[
            ("QUIRE_SHUTDOWN_DRAIN_SECONDS", "3"),
            ("QUIRE_SHUTDOWN_GRACE_SECONDS", "20"),
        ],
    );
    wait_ready(&mut server, port).await;
    let ready_url = format!("http://127.0.0.1:{port}/health/ready");
    assert_eq!(
        reqwest::get(&ready_url).await.unwrap().status(),
        StatusCode::OK
    );

    let (mut in_flight, rest) = start_slow_signup(port);
    std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    let ready = loop {
        let ready = reqwest::get(&ready_url).await.unwrap();
        if ready.status() == StatusCode::SERVICE_UNAVAILABLE || Instant::now() > deadline {
            break ready;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "shutting down");

    // The request begun before the signal completes, after it.
    let answer = tokio::task::spawn_blocking(move || {
        in_flight.write_all(rest.as_bytes()).unwrap();
        let mut answer = vec![0; 4096];
        let read = in_flight.read(&mut answer).unwrap();
        String::from_utf8_lossy(&answer[..read]).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");

    let status = tokio::task::spawn_blocking(move || terminate(&mut server))
        .await
        .unwrap();
    assert!(status.success(), "exits 0 after draining, got {status:?}");
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens any more"
    );
}

#[tokio::test]
async fn metrics_can_have_a_port_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let (port, metrics_port) = (free_port(), free_port());
    let metrics_listen = format!("127.0.0.1:{metrics_port}");
    let mut server = start_with(
        dir.path(),
        port,
        &[("QUIRE_METRICS_LISTEN", metrics_listen.as_str())],
    );
    wait_ready(&mut server, port).await;
    reqwest::get(format!("http://127.0.0.1:{port}/api/tags"))
        .await
        .unwrap();
    let apart = reqwest::get(format!("http://{metrics_listen}/metrics"))
        .await
        .unwrap();
    assert_eq!(apart.status(), StatusCode::OK);
    assert!(apart.text().await.unwrap().contains(r#"route="/api/tags""#));
    let on_api_port = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(on_api_port.status(), StatusCode::NOT_FOUND);
    tokio::task::spawn_blocking(move || terminate(&mut server))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_health_command_reports_readiness_for_container_checks() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cwd = dir.path().to_owned();
    let health = move |port: u16| {
        std::process::Command::new(env!("CARGO_BIN_EXE_quire"))
            .arg("health")
            .current_dir(&cwd)
            .env("QUIRE_LISTEN", format!("0.0.0.0:{port}"))
            .env("QUIRE_LOG", "warn")
            .output()
            .unwrap()
    };
    assert!(!health(port).status.success(), "nothing is listening yet");
    let mut server = start_with(dir.path(), port, &[]);
    wait_ready(&mut server, port).await;
    let ready = tokio::task::spawn_blocking(move || health(port))
        .await
        .unwrap();
    assert!(
        ready.status.success(),
        "{}",
        String::from_utf8_lossy(&ready.stderr)
    );
    tokio::task::spawn_blocking(move || terminate(&mut server))
        .await
        .unwrap();
}
