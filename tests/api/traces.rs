//! Traces sent over OTLP/HTTP to a collector the test starts: a request's span with its route,
//! status and id (continuing the caller's `traceparent`), the statements it ran beneath it at
//! `QUIRE_TRACE_LEVEL=debug`, and a job run. The server is a process of its own: the test
//! process's subscriber is already installed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use serde_json::json;

use crate::cli::{start_with, terminate, wait_ready};
use crate::support::{PASSWORD, free_port, unique};

type Received = Arc<Mutex<Vec<Span>>>;

/// A stand-in OpenTelemetry collector: keeps every span posted to `/v1/traces`.
struct Collector {
    url: String,
    spans: Received,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Collector {
    async fn start() -> Self {
        let spans = Received::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/v1/traces", post(receive))
            .with_state(spans.clone());
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Collector { url, spans, server }
    }

    fn spans(&self) -> Vec<Span> {
        self.spans.lock().unwrap().clone()
    }
}

async fn receive(State(spans): State<Received>, body: Bytes) -> StatusCode {
    let Ok(export) = ExportTraceServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST;
    };
    let mut spans = spans.lock().unwrap();
    for resource in export.resource_spans {
        for scope in resource.scope_spans {
            spans.extend(scope.spans);
        }
    }
    StatusCode::OK
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|pair| pair.key == key)
        .and_then(|pair| pair.value.as_ref()?.value.as_ref())
}

fn text<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    match attribute(span, key) {
        Some(Value::StringValue(text)) => Some(text),
        _ => None,
    }
}

fn number(span: &Span, key: &str) -> Option<i64> {
    match attribute(span, key) {
        Some(Value::IntValue(number)) => Some(*number),
        _ => None,
    }
}

/// The database the other tests use (SQLite in the server's directory when none is set), and
/// the `db.system` its statements are reported with.
fn database() -> (Option<String>, &'static str) {
    let url = std::env::var("QUIRE_TEST_DATABASE_URL").unwrap_or_default();
    let system = if url.starts_with("postgres") {
        "postgresql"
    } else if url.starts_with("mysql") {
        "mysql"
    } else {
        "sqlite"
    };
    ((!url.is_empty()).then_some(url), system)
}

#[tokio::test]
async fn requests_statements_and_jobs_are_traced_to_an_otlp_collector() {
    let collector = Collector::start().await;
    let (database_url, system) = database();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut settings = vec![
        ("QUIRE_OTLP_ENDPOINT", collector.url.as_str()),
        ("QUIRE_TRACE_LEVEL", "debug"),
    ];
    // On the shared database its worker may claim any test's mail job: it opens it with the
    // tests' secret and sends it where every test looks for it.
    let smtp_url = crate::mailbox::smtp_url();
    if let Some(url) = &database_url {
        settings.push(("QUIRE_DATABASE_URL", url));
        settings.push(("QUIRE_SMTP_URL", &smtp_url));
        settings.push(("QUIRE_JWT_SECRET", crate::support::SECRET));
    }
    let mut server = start_with(dir.path(), port, &settings);
    wait_ready(&mut server, port).await;
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let client = reqwest::Client::new();

    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let request_id = unique("traced");
    let username = unique("tracer");
    let registered = client
        .post(url("/api/users"))
        .header("traceparent", format!("00-{caller_trace}-00f067aa0ba902b7-01"))
        .header("x-request-id", &request_id)
        .json(&json!({"user": {"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let registered: serde_json::Value = registered.json().await.unwrap();
    let token = registered["user"]["token"].as_str().unwrap();

    // A report runs as a job in the server's own worker.
    let today = chrono::Utc::now().date_naive().to_string();
    let asked = client
        .post(url("/api/reports"))
        .header("Authorization", format!("Token {token}"))
        .json(&json!({"report": {"kind": "author-stats", "from": today, "to": today}}))
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let location = asked.headers()["location"].to_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status: serde_json::Value = client
            .get(url(&location))
            .header("Authorization", format!("Token {token}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if status["report"]["status"] == "done" {
            break;
        }
        assert!(Instant::now() < deadline, "the report never ran: {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Stopping exports what is still batched.
    let status = tokio::task::spawn_blocking(move || terminate(&mut server))
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
    let spans = collector.spans();

    let request = spans
        .iter()
        .find(|span| text(span, "request_id") == Some(request_id.as_str()))
        .unwrap_or_else(|| panic!("no span with request id {request_id} in {spans:#?}"));
    assert_eq!(request.name, "POST /api/users");
    assert_eq!(request.kind, SpanKind::Server as i32);
    assert_eq!(text(request, "http.route"), Some("/api/users"));
    assert_eq!(text(request, "http.request.method"), Some("POST"));
    assert_eq!(
        number(request, "http.response.status_code"),
        Some(201),
        "{request:?}"
    );
    assert_eq!(
        hex::encode(&request.trace_id),
        caller_trace,
        "the caller's trace continues"
    );

    let statements: Vec<&Span> = spans
        .iter()
        .filter(|span| span.trace_id == request.trace_id && text(span, "db.system") == Some(system))
        .collect();
    assert!(
        statements
            .iter()
            .any(|span| text(span, "db.operation") == Some("INSERT")
                && text(span, "db.statement").is_some_and(|sql| sql.contains("users"))),
        "the sign-up's INSERT is traced beneath its request: {statements:#?}"
    );

    let job = spans
        .iter()
        .find(|span| span.name == "job report")
        .unwrap_or_else(|| panic!("no job span in {spans:#?}"));
    assert_eq!(text(job, "job.kind"), Some("report"));
    assert_eq!(number(job, "job.attempt"), Some(1));

    let everything = format!("{spans:?}");
    assert!(
        !everything.contains(PASSWORD) && !everything.contains(token),
        "no password or token in any span"
    );
}
