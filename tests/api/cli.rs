//! The `quire` binary itself: configuration checks, the kept JWT secret, graceful shutdown.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{PASSWORD, free_port, unique};

pub(crate) fn quire(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quire"));
    command.current_dir(dir).env("QUIRE_LOG", "warn");
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("QUIRE_")) {
        command.env_remove(key);
    }
    command.env("QUIRE_LOG", "warn");
    // Tests hammer one server from one address; the limits have their own tests.
    command.env("QUIRE_RATE_LIMITS_ENABLED", "false");
    command
}

/// [`quire`] on the suite's database (a SQLite file in `dir` otherwise). It runs no background
/// jobs: the suite's database holds other tests' jobs, which are theirs to run (a delivery to
/// an address that does not answer would hold its shutdown for the whole grace period).
pub(crate) fn quire_on_suite_database(dir: &std::path::Path) -> Command {
    let mut command = quire(dir);
    command.env("QUIRE_WORKER", "false");
    if let Ok(url) = std::env::var("QUIRE_TEST_DATABASE_URL")
        && !url.is_empty()
    {
        command.env("QUIRE_DATABASE_URL", url);
    }
    command
}

/// Registers a fresh user through a spawned server; returns the token.
pub(crate) async fn register(client: &reqwest::Client, port: u16, prefix: &str) -> String {
    let username = unique(prefix);
    let registered: serde_json::Value = client
        .post(format!("http://127.0.0.1:{port}/api/users"))
        .json(&json!({"user": {"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    registered["user"]["token"].as_str().unwrap().to_owned()
}

pub(crate) fn start(dir: &std::path::Path, port: u16) -> Child {
    start_with(dir, port, &[])
}

/// [`start`] with more settings.
pub(crate) fn start_with(dir: &std::path::Path, port: u16, settings: &[(&str, &str)]) -> Child {
    quire(dir)
        .envs(settings.iter().copied())
        .env("QUIRE_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the server answers; a server that stops instead fails the test with its stderr.
pub(crate) async fn wait_ready(server: &mut Child, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = server.try_wait().unwrap() {
            let mut stderr = String::new();
            if let Some(pipe) = server.stderr.as_mut() {
                std::io::Read::read_to_string(pipe, &mut stderr).unwrap();
            }
            panic!("quire exited with {status}: {stderr}");
        }
        if reqwest::get(format!("http://127.0.0.1:{port}/health/live"))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("quire did not start on port {port}");
}

pub(crate) fn terminate(child: &mut Child) -> std::process::ExitStatus {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "quire did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn production_refuses_a_sign_in_provider_over_plain_http_and_never_prints_its_secret() {
    let dir = tempfile::tempdir().unwrap();
    let output = quire(dir.path())
        .arg("migrate")
        .env("QUIRE_ENV", "production")
        .env("QUIRE_JWT_SECRET", "a".repeat(32))
        .env("QUIRE_CORS_ORIGINS", "https://app.example")
        .env(
            "QUIRE_OIDC_PROVIDERS",
            r#"[{"name": "id", "issuer": "http://id.example", "client_id": "a", "client_secret": "s3cr3t-value"}]"#,
        )
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("QUIRE_OIDC_PROVIDERS") && stderr.contains("https"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cr3t-value"), "{stderr}");
}

#[test]
fn production_mail_wants_a_real_sender_and_a_public_url_and_never_prints_the_smtp_password() {
    let dir = tempfile::tempdir().unwrap();
    let production = |extra: &[(&str, &str)]| {
        let mut command = quire(dir.path());
        command
            .arg("migrate")
            .env("QUIRE_ENV", "production")
            .env("QUIRE_JWT_SECRET", "a".repeat(32))
            .env("QUIRE_CORS_ORIGINS", "https://app.example")
            .env(
                "QUIRE_SMTP_URL",
                "smtps://quire:smtp-s3cr3t@mail.example:465",
            );
        for (key, value) in extra {
            command.env(key, value);
        }
        command.output().unwrap()
    };
    for (extra, named) in [
        (
            vec![("QUIRE_PUBLIC_URL", "https://quire.example")],
            "QUIRE_MAIL_FROM",
        ),
        (
            vec![("QUIRE_MAIL_FROM", "Quire <no-reply@quire.example>")],
            "QUIRE_PUBLIC_URL",
        ),
    ] {
        let output = production(&extra);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(named), "{stderr}");
        assert!(!stderr.contains("smtp-s3cr3t"), "{stderr}");
    }
    let output = production(&[
        ("QUIRE_PUBLIC_URL", "https://quire.example"),
        ("QUIRE_MAIL_FROM", "Quire <no-reply@quire.example>"),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn production_refuses_a_missing_or_short_jwt_secret() {
    let dir = tempfile::tempdir().unwrap();
    let output = quire(dir.path())
        .arg("migrate")
        .env("QUIRE_ENV", "production")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("QUIRE_JWT_SECRET"));

    let output = quire(dir.path())
        .arg("migrate")
        .env("QUIRE_ENV", "production")
        .env("QUIRE_JWT_SECRET", "too-short")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("QUIRE_JWT_SECRET") && !stderr.contains("too-short"),
        "{stderr}"
    );

    let output = quire(dir.path())
        .arg("migrate")
        .env("QUIRE_ENV", "production")
        .env("QUIRE_JWT_SECRET", "a".repeat(32))
        .env("QUIRE_CORS_ORIGINS", "https://app.example")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn production_refuses_cookie_sessions_for_any_origin() {
    let dir = tempfile::tempdir().unwrap();
    let production = |extra: &[(&str, &str)]| {
        let mut command = quire(dir.path());
        command
            .arg("migrate")
            .env("QUIRE_ENV", "production")
            .env("QUIRE_JWT_SECRET", "a".repeat(32));
        for (key, value) in extra {
            command.env(key, value);
        }
        command.output().unwrap()
    };
    let refused = production(&[("QUIRE_CORS_ORIGINS", "*")]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("QUIRE_CORS_ORIGINS") && stderr.contains("QUIRE_SESSIONS_ENABLED"),
        "{stderr}"
    );
    let tokens_only = production(&[
        ("QUIRE_CORS_ORIGINS", "*"),
        ("QUIRE_SESSIONS_ENABLED", "false"),
    ]);
    assert!(
        tokens_only.status.success(),
        "{}",
        String::from_utf8_lossy(&tokens_only.stderr)
    );
}

#[test]
fn bad_settings_stop_start_up_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value) in [
        ("QUIRE_LISTEN", "not-an-address"),
        ("QUIRE_DATABASE_URL", "oracle://db"),
        ("QUIRE_ENV", "staging"),
        ("QUIRE_REDIS_URL", "http://localhost"),
        ("QUIRE_LOG", "=[bad"),
        ("QUIRE_CACHE_NAMESPACE", "has space"),
        ("QUIRE_CACHE_ENABLED", "perhaps"),
        ("QUIRE_RATE_LIMIT_AUTH", "10 per minute"),
        ("QUIRE_RATE_LIMIT_READ", "0/s"),
        ("QUIRE_RATE_LIMITS_ENABLED", "sometimes"),
        ("QUIRE_TRUSTED_PROXIES", "10.0.0.0/40"),
        ("QUIRE_SESSIONS_ENABLED", "maybe"),
        ("QUIRE_OTLP_ENDPOINT", "collector:4318"),
        ("QUIRE_OTLP_ENDPOINT", "ftp://collector"),
        ("QUIRE_TRACE_LEVEL", "verbose"),
        ("QUIRE_PUBLIC_URL", "quire.example"),
        ("QUIRE_PUBLIC_URL", "https://quire.example/?x=1"),
        ("QUIRE_OIDC_PROVIDERS", "google=https://accounts.google.com"),
        (
            "QUIRE_OIDC_PROVIDERS",
            r#"[{"name": "Bad Name", "issuer": "https://id.example", "client_id": "a", "client_secret": "b"}]"#,
        ),
        (
            "QUIRE_OIDC_PROVIDERS",
            r#"[{"name": "id", "issuer": "ftp://id.example", "client_id": "a", "client_secret": "b"}]"#,
        ),
        (
            "QUIRE_OIDC_PROVIDERS",
            r#"[{"name": "id", "issuer": "https://id.example", "client_id": "a", "client_secret": ""}]"#,
        ),
        ("QUIRE_SMTP_URL", "mail.example:587"),
        ("QUIRE_SMTP_URL", "http://mail.example"),
        ("QUIRE_MAIL_FROM", "not an address"),
        ("QUIRE_SITE_NAME", ""),
        ("QUIRE_REFRESH_REUSE_SECONDS", "61"),
        ("QUIRE_RATE_LIMIT_MAIL", "lots"),
        ("QUIRE_OAUTH_REQUIRE_PKCE", "perhaps"),
    ] {
        let output = quire(dir.path())
            .arg("migrate")
            .env(key, value)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{key}={value} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(key), "{key}: {stderr}");
    }
}

#[tokio::test]
async fn the_generated_secret_survives_restarts_and_sigterm_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start(dir.path(), port);
    wait_ready(&mut server, port).await;
    assert!(
        dir.path().join("quire.db").exists(),
        "the embedded database is created"
    );
    let client = reqwest::Client::new();
    let token = register(&client, port, "persist").await;
    let status = tokio::task::spawn_blocking(move || terminate(&mut server))
        .await
        .unwrap();
    assert!(status.success(), "SIGTERM exits cleanly, got {status:?}");

    let port = free_port();
    let mut server = start(dir.path(), port);
    wait_ready(&mut server, port).await;
    let me = client
        .get(format!("http://127.0.0.1:{port}/api/user"))
        .header("Authorization", format!("Token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.status(),
        reqwest::StatusCode::OK,
        "a token from before the restart still works"
    );
    tokio::task::spawn_blocking(move || terminate(&mut server))
        .await
        .unwrap();
}

#[tokio::test]
async fn each_request_is_logged_as_one_json_line_with_its_id_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = quire(dir.path())
        .env("QUIRE_LISTEN", format!("127.0.0.1:{port}"))
        .env("QUIRE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(&mut server, port).await;
    assert!(
        dir.path().join("quire.db-wal").exists(),
        "the embedded database runs in WAL mode"
    );
    let client = reqwest::Client::new();
    let token = register(&client, port, "logged").await;
    let response = client
        .get(format!("http://127.0.0.1:{port}/api/user"))
        .header("x-request-id", "trace-me-123")
        .header("Authorization", format!("Token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let mut stderr = server.stderr.take().unwrap();
    tokio::task::spawn_blocking(move || terminate(&mut server))
        .await
        .unwrap();
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut logs).unwrap();

    let line = logs
        .lines()
        .find(|l| l.contains("trace-me-123"))
        .expect("a log line for the request");
    let entry: serde_json::Value = serde_json::from_str(line).expect("log lines are JSON");
    assert_eq!(entry["fields"]["status"], 200);
    assert_eq!(entry["fields"]["path"], "/api/user");
    assert_eq!(entry["fields"]["method"], "GET");
    assert_eq!(
        logs.lines().filter(|l| l.contains("trace-me-123")).count(),
        1,
        "one line per request"
    );
    assert!(!logs.contains(&token), "tokens never reach the log");
    assert!(!logs.contains(PASSWORD), "passwords never reach the log");
}

#[tokio::test]
async fn instances_started_together_share_the_generated_secret() {
    let dir = tempfile::tempdir().unwrap();
    let ports = [free_port(), free_port()];
    let mut servers: Vec<Child> = ports.iter().map(|port| start(dir.path(), *port)).collect();
    for (server, port) in servers.iter_mut().zip(ports) {
        wait_ready(server, port).await;
    }
    let client = reqwest::Client::new();
    let token = register(&client, ports[0], "shared").await;
    let me = client
        .get(format!("http://127.0.0.1:{}/api/user", ports[1]))
        .header("Authorization", format!("Token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.status(),
        reqwest::StatusCode::OK,
        "a token from one instance works on the other"
    );
    for server in &mut servers {
        server.kill().unwrap();
        server.wait().unwrap();
    }
}
