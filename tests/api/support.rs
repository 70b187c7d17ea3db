//! Test harness: a real Quire server on an ephemeral port, talking to a real database.
//!
//! The backend comes from `QUIRE_TEST_DATABASE_URL` (PostgreSQL or MySQL); without it every test
//! gets its own SQLite file. Names are unique per test so that tests share a server database.

use std::sync::{Arc, Mutex, OnceLock};

use sea_orm::{ConnectionTrait, Statement};

use quire::app;
use quire::config::Settings;
use quire::state::AppState;
use rand::Rng;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct-horse-battery";
pub const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long!!";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub cache: quire::cache::Cache,
    pub database_url: String,
    _dir: Option<tempfile::TempDir>,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

/// Random lower-case suffix that keeps names unique across tests and runs.
pub fn unique(prefix: &str) -> String {
    let mut rng = rand::rng();
    let tail: String = (0..10)
        .map(|_| (b'a' + rng.random_range(0..26u8)) as char)
        .collect();
    format!("{prefix}{tail}")
}

/// The SQL of every statement a recording server has run since the log was last cleared.
pub fn recorded_sql(log: &Mutex<Vec<Statement>>) -> Vec<String> {
    log.lock().unwrap().iter().map(|s| s.sql.clone()).collect()
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Serialises the first migration of a shared server database (tests start concurrently).
fn migrate_shared_once(url: &str) {
    static DONE: OnceLock<Mutex<bool>> = OnceLock::new();
    let lock = DONE.get_or_init(|| Mutex::new(false));
    let mut done = lock.lock().unwrap_or_else(|e| e.into_inner());
    if !*done {
        let url = url.to_owned();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async {
                let settings = settings_for(&url, None);
                let db = quire::db::connect(&settings)
                    .await
                    .expect("test database reachable");
                quire::db::migrate(&db).await.expect("migrations apply");
            });
        })
        .join()
        .expect("migration thread");
        *done = true;
    }
}

/// Warnings and errors of in-process servers go to the test's captured output, so a failing
/// test shows the cause of an unexpected 5xx beside its assertion.
fn capture_server_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("warn")
            .with_test_writer()
            .try_init();
    });
}

/// Waits until `check` holds, polling; fails naming `what` after a generous limit. Tests wait
/// on conditions, never for a fixed time, so a slow machine is only slower.
pub async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let started = std::time::Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "waited 30 s for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Skips a test that needs `what`, which is missing; under `CI=true` a missing service fails.
pub fn missing(what: &str) {
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "{what} is needed and CI=true"
    );
    eprintln!("skipped: {what} is needed (./scripts/test provides it when it is installed)");
}

/// The Redis of a test that needs one on every backend: the Redis suite's, else the one
/// `./scripts/test` found (`QUIRE_TEST_REDIS_SERVER`). `None` (skip) when there is neither.
pub fn required_redis() -> Option<String> {
    let url = ["QUIRE_TEST_REDIS_URL", "QUIRE_TEST_REDIS_SERVER"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|url| !url.is_empty());
    if url.is_none() {
        missing("a Redis server (QUIRE_TEST_REDIS_SERVER)");
    }
    url
}

/// With `QUIRE_TEST_REDIS_URL` set, every server caches in that Redis under its own namespace
/// (unless the test names one), so tests never read each other's entries.
pub fn settings_for(url: &str, extra: Option<&[(&str, &str)]>) -> Settings {
    let namespace = unique("test-");
    let redis = std::env::var("QUIRE_TEST_REDIS_URL").unwrap_or_default();
    let mut overrides = vec![
        ("database_url", url),
        ("jwt_secret", SECRET),
        ("listen", "127.0.0.1:0"),
        ("db_max_connections", "5"),
        ("log", "warn"),
        ("cache_namespace", namespace.as_str()),
        // Tests register users by the dozen from one address; the limits' own tests turn
        // them back on.
        ("rate_limits_enabled", "false"),
    ];
    if !redis.is_empty() {
        overrides.push(("redis_url", redis.as_str()));
    }
    overrides.extend_from_slice(extra.unwrap_or_default());
    Settings::load_with(&overrides).expect("test settings are valid")
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
        Self::spawn_observed(extra, None).await
    }

    /// A server whose every SQL statement is also appended to the returned log.
    pub async fn spawn_recording() -> (TestApp, Arc<Mutex<Vec<Statement>>>) {
        Self::spawn_recording_with(&[]).await
    }

    pub async fn spawn_recording_with(
        extra: &[(&str, &str)],
    ) -> (TestApp, Arc<Mutex<Vec<Statement>>>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let app = Self::spawn_observed(extra, Some(log.clone())).await;
        (app, log)
    }

    /// A server on a database of its own on the suite's backend: an empty SQLite file, or on
    /// PostgreSQL and MariaDB a database beside the suite's, made afresh for this test (named
    /// after it, so a run leaves one per test at most). For a test whose workers must see no
    /// other test's jobs: such tests run in parallel, with no lock between them.
    pub async fn spawn_own(extra: &[(&str, &str)]) -> TestApp {
        let suite = match std::env::var("QUIRE_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => return Self::spawn_observed(extra, None).await,
        };
        let test = std::thread::current()
            .name()
            .expect("a test runs on a named thread")
            .to_owned();
        let (base, _) = suite
            .rsplit_once('/')
            .expect("a database URL names its database");
        let name = format!("quire_own_{:016x}", fnv1a(&test));
        let server = sea_orm::Database::connect(&suite)
            .await
            .expect("suite database");
        let create = if suite.starts_with("postgres") {
            vec![
                format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                format!("CREATE DATABASE \"{name}\""),
            ]
        } else {
            vec![
                format!("DROP DATABASE IF EXISTS `{name}`"),
                format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
            ]
        };
        for statement in create {
            server
                .execute_unprepared(&statement)
                .await
                .expect(&statement);
        }
        server.close().await.ok();
        let url = format!("{base}/{name}");
        let db = quire::db::connect(&settings_for(&url, None))
            .await
            .expect("own database");
        quire::db::migrate(&db).await.expect("migrations apply");
        db.close().await.ok();
        Self::spawn_on(url, None, extra, None).await
    }

    /// Two servers on one database and one cache namespace, as two instances of a deployment.
    pub async fn spawn_pair(extra: &[(&str, &str)]) -> (TestApp, TestApp) {
        let namespace = unique("pair-");
        let mut shared = extra.to_vec();
        shared.push(("cache_namespace", namespace.as_str()));
        let first = Self::spawn_observed(&shared, None).await;
        let url = first.database_url.clone();
        let second = Self::spawn_on(url, None, &shared, None).await;
        (first, second)
    }

    /// Another instance on this one's database, with its own settings (and cache namespace).
    pub async fn beside(&self, extra: &[(&str, &str)]) -> TestApp {
        Self::spawn_on(self.database_url.clone(), None, extra, None).await
    }

    async fn spawn_observed(
        extra: &[(&str, &str)],
        statements: Option<Arc<Mutex<Vec<Statement>>>>,
    ) -> TestApp {
        let (url, dir) = match std::env::var("QUIRE_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                migrate_shared_once(&url);
                (url, None)
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("quire.db").display());
                (url, Some(dir))
            }
        };
        Self::spawn_on(url, dir, extra, statements).await
    }

    async fn spawn_on(
        url: String,
        dir: Option<tempfile::TempDir>,
        extra: &[(&str, &str)],
        statements: Option<Arc<Mutex<Vec<Statement>>>>,
    ) -> TestApp {
        capture_server_logs();
        let settings = settings_for(&url, Some(extra));
        let mut db = quire::db::open_for_service(&settings)
            .await
            .expect("database opens");
        if let Some(statements) = statements {
            db.set_metric_callback(move |info| {
                statements.lock().unwrap().push(info.statement.clone());
            });
        }
        let state = AppState::on_database(db, settings)
            .await
            .expect("app starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cache = state.domain.core.cache.clone();
        let limits = quire::http::server::Limits {
            header_timeout: state.settings.header_timeout,
            grace: state.settings.worker.grace,
        };
        let router = app::router(state);
        tokio::spawn(quire::http::server::serve(
            listener,
            router,
            limits,
            std::future::pending(),
        ));
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            cache,
            database_url: url,
            _dir: dir,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Token {token}"));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        into_response(request.send().await.expect("request sent")).await
    }

    pub async fn raw(&self, request: reqwest::RequestBuilder) -> Response {
        into_response(request.send().await.expect("request sent")).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.send(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.send(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.send(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.send(Method::DELETE, path, token, None).await
    }

    /// Registers a fresh user; returns (username, token).
    pub async fn user(&self) -> (String, String) {
        let username = unique("user");
        let response = self
            .post(
                "/api/users",
                None,
                json!({"user": {"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}}),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        (
            username,
            response.body["user"]["token"].as_str().unwrap().to_owned(),
        )
    }

    /// Creates an article with the given tags; returns its slug.
    pub async fn article(&self, token: &str, title: &str, tags: &[&str]) -> String {
        let response = self
            .post(
                "/api/articles",
                Some(token),
                json!({"article": {"title": title, "description": "about it", "body": "the body", "tagList": tags}}),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        response.body["article"]["slug"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// A browser's cookie jar for one server, kept by hand (`name=value` pairs).
#[derive(Default, Clone)]
pub struct Jar(pub Vec<(String, String)>);

impl Jar {
    pub fn take(&mut self, response: &Response) {
        for set in response.headers.get_all("set-cookie") {
            let text = set.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.0.retain(|(known, _)| known != name);
            if !value.is_empty() {
                self.0.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

async fn into_response(response: reqwest::Response) -> Response {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Response {
        status,
        headers,
        body,
        text,
    }
}

impl Response {
    /// Asserts the status and that the body is a RealWorld error object.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        assert!(
            self.body["errors"].is_object(),
            "not a JSON error body: {}",
            self.text
        );
        &self.body["errors"]
    }

    /// Asserts a 422 that names `field`.
    #[track_caller]
    pub fn assert_field_error(&self, field: &str) {
        let errors = self.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            errors[field].is_array(),
            "no error for `{field}`: {}",
            self.text
        );
    }
}

/// FNV-1a: a stable short name for a test's own database (the std hasher's output may change
/// between releases).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
