//! Who changes the schema: `migrate`, `serve` and `worker` (or, with
//! `QUIRE_MIGRATE_ON_START=false`, only `migrate`: the others wait for it), never a command
//! that only reads or adds rows; and what a worker's liveness probe asks.

use std::process::{Child, Stdio};
use std::time::Duration;

use crate::cli::{quire, start_with, terminate, wait_ready};
use crate::support::{free_port, wait_for};

#[test]
fn instances_migrating_a_fresh_database_together_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<Child> = (0..4)
        .map(|_| {
            quire(dir.path())
                .arg("migrate")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn commands_that_do_not_migrate_leave_the_database_alone_and_print_only_their_answer() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        quire(dir.path())
            .env("QUIRE_LOG", "info")
            .args(args)
            .output()
            .unwrap()
    };
    // Nothing there yet: the commands that only read or add rows refuse, creating nothing.
    for args in [
        &["jobs", "stats"][..],
        &["jobs", "list"],
        &["oauth-client", "list"],
        &["recount"],
        &["seed", "--users", "2", "--articles", "1"],
    ] {
        let refused = run(args);
        assert!(!refused.status.success(), "{args:?} ran on no database");
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains("quire migrate"), "{args:?}: {said}");
        assert!(refused.stdout.is_empty(), "{args:?}");
        assert!(
            !dir.path().join("quire.db").exists(),
            "{args:?} created the database"
        );
    }
    // `migrate` creates it; its log goes to stderr, as every command's does.
    let migrated = run(&["migrate"]);
    assert!(migrated.status.success());
    assert!(
        migrated.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&migrated.stdout)
    );
    assert!(String::from_utf8_lossy(&migrated.stderr).contains("m012_list_counts"));
    let stats = run(&["jobs", "stats"]);
    assert!(
        stats.status.success(),
        "{}",
        String::from_utf8_lossy(&stats.stderr)
    );
    let table = String::from_utf8(stats.stdout).unwrap();
    assert!(table.starts_with("KIND"), "{table}");
    assert!(!table.contains('{'), "log lines in the answer: {table}");
}

#[tokio::test]
async fn without_migrating_on_start_a_server_waits_for_the_schema_and_then_serves() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start_with(dir.path(), port, &[("QUIRE_MIGRATE_ON_START", "false")]);
    let mut waiting = quire(dir.path())
        .arg("await-schema")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Nothing there: both wait, and create nothing meanwhile.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(server.try_wait().unwrap().is_none(), "the server gave up");
    assert!(
        waiting.try_wait().unwrap().is_none(),
        "await-schema gave up"
    );
    assert!(
        reqwest::get(format!("http://127.0.0.1:{port}/health/live"))
            .await
            .is_err()
    );
    assert!(!dir.path().join("quire.db").exists());

    let migrated = quire(dir.path()).arg("migrate").output().unwrap();
    assert!(migrated.status.success());
    wait_ready(&mut server, port).await;
    let tags = reqwest::get(format!("http://127.0.0.1:{port}/api/tags"))
        .await
        .unwrap();
    assert_eq!(tags.status(), reqwest::StatusCode::OK);
    wait_for("await-schema to return", async || {
        waiting.try_wait().unwrap().is_some()
    })
    .await;
    assert!(waiting.wait().unwrap().success());
    tokio::task::spawn_blocking(move || terminate(&mut server))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_worker_answers_its_liveness_probe_without_the_metrics_token() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        quire(dir.path())
            .arg("migrate")
            .output()
            .unwrap()
            .status
            .success()
    );
    let port = free_port();
    let mut worker = quire(dir.path())
        .arg("worker")
        .env("QUIRE_METRICS_LISTEN", format!("127.0.0.1:{port}"))
        .env("QUIRE_METRICS_TOKEN", "a-metrics-token-of-length")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let live = format!("http://127.0.0.1:{port}/health/live");
    wait_for("the worker's metrics listener", async || {
        reqwest::get(&live).await.is_ok()
    })
    .await;
    assert_eq!(
        reqwest::get(&live).await.unwrap().status(),
        reqwest::StatusCode::OK
    );
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(metrics.status(), reqwest::StatusCode::UNAUTHORIZED);
    tokio::task::spawn_blocking(move || terminate(&mut worker))
        .await
        .unwrap();
}
