//! The slow-statement log: shape, duration, route and request id of each statement over
//! `QUIRE_SLOW_STATEMENT_MS`, never a value, and a counter per operation.

use std::process::Stdio;

use crate::cli::{quire_on_suite_database, register, terminate, wait_ready};
use crate::support::free_port;

#[tokio::test]
async fn statements_over_the_threshold_are_logged_by_shape_with_their_request_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // 0: every statement is slow enough.
    let mut server = quire_on_suite_database(dir.path())
        .env("QUIRE_LISTEN", format!("127.0.0.1:{port}"))
        .env("QUIRE_SLOW_STATEMENT_MS", "0")
        .env("QUIRE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(&mut server, port).await;
    let client = reqwest::Client::new();
    let token = register(&client, port, "slowlog").await;
    let read = client
        .get(format!("http://127.0.0.1:{port}/api/user"))
        .header("x-request-id", "slow-trace-42")
        .header("Authorization", format!("Token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), reqwest::StatusCode::OK);
    let user: serde_json::Value = read.json().await.unwrap();
    let email = user["user"]["email"].as_str().unwrap().to_owned();
    let metrics = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("quire_db_slow_statements_total{operation=\"select\"}"),
        "{metrics}"
    );
    let mut stderr = server.stderr.take().unwrap();
    tokio::task::spawn_blocking(move || terminate(&mut server))
        .await
        .unwrap();
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut logs).unwrap();

    let slow: Vec<serde_json::Value> = logs
        .lines()
        .filter(|line| line.contains("slow statement"))
        .map(|line| serde_json::from_str(line).expect("log lines are JSON"))
        .collect();
    let for_the_read: Vec<&serde_json::Value> = slow
        .iter()
        .filter(|entry| entry["fields"]["request_id"] == "slow-trace-42")
        .collect();
    assert!(
        !for_the_read.is_empty(),
        "no slow statement for the request: {logs}"
    );
    for entry in &for_the_read {
        let fields = &entry["fields"];
        assert_eq!(fields["route"], "/api/user");
        assert!(fields["duration_ms"].as_f64().unwrap() >= 0.0);
        let statement = fields["statement"].as_str().unwrap();
        assert!(
            statement.to_ascii_uppercase().contains("SELECT"),
            "{statement}"
        );
    }
    // Never a value: not the e-mail the registration inserted, not the token, not the password.
    for line in logs.lines().filter(|line| line.contains("slow statement")) {
        assert!(!line.contains(&email), "{line}");
        assert!(!line.contains(&token), "{line}");
        assert!(!line.contains(crate::support::PASSWORD), "{line}");
    }
    assert!(
        slow.iter()
            .any(|entry| entry["fields"]["operation"] == "insert")
    );
}
