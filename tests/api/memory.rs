//! Bounded memory: answers that would be huge are refused or streamed, and the process stays
//! small under them. Measured on a spawned server (its own peak RSS), never by time.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli::{register, start_with, terminate, wait_ready};
use crate::support::{TestApp, free_port, unique};

/// A comment body of 10,000 characters that JSON escapes to six bytes each (`\u0001`).
fn escaped_comment() -> String {
    "\u{1}".repeat(10_000)
}

#[tokio::test]
async fn a_response_larger_than_the_buffer_streams_through_whole() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    let slug = app.article(&token, &unique("Talkative"), &[]).await;
    let body = escaped_comment();
    for _ in 0..75 {
        let response = app
            .post(
                &format!("/api/articles/{slug}/comments"),
                Some(&token),
                json!({"comment": {"body": body}}),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK);
    }
    for auth in [None, None, Some(token.as_str())] {
        let response = app
            .get(&format!("/api/articles/{slug}/comments"), auth)
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", &response.text[..100]);
        assert!(
            response.text.len() > 4 * 1024 * 1024,
            "{} bytes",
            response.text.len()
        );
        assert_eq!(response.body["comments"].as_array().unwrap().len(), 75);
        assert!(response.headers.get("cache-control").is_some());
    }
}

/// The peak resident set of process `pid` (VmHWM), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[tokio::test]
async fn peak_memory_stays_bounded_under_huge_answer_attacks() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // Measured by memory, never by time: a loaded CI machine may take long over these answers.
    let mut server = start_with(
        dir.path(),
        port,
        &[("QUIRE_REQUEST_TIMEOUT_SECONDS", "300")],
    );
    wait_ready(&mut server, port).await;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let token = register(&client, port, "hog").await;
    let tag = unique("huge");
    let body = "x".repeat(100_000);
    let write = |path: String, body: Value| {
        let request = client
            .post(format!("{base}{path}"))
            .header("authorization", format!("Token {token}"))
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            assert!(response.status().is_success(), "{}", response.status());
            response.json::<Value>().await.unwrap()
        }
    };
    let mut slug = String::new();
    for i in 0..100 {
        let article = json!({"title": format!("Huge {i}"), "description": "d", "body": body, "tagList": [tag]});
        let created = write("/api/articles".into(), json!({ "article": article })).await;
        slug = created["article"]["slug"].as_str().unwrap().to_owned();
    }
    let comment = json!({"comment": {"body": escaped_comment()}});
    for _ in 0..75 {
        write(format!("/api/articles/{slug}/comments"), comment.clone()).await;
    }
    let baseline = peak_rss(server.id());

    // The attack: aliases of a 100-article page of 100 KB bodies, as many as the cost
    // limit lets through, four at a time, beside four 4.5 MB comment threads.
    let page = format!("articles(tag: \"{tag}\", first: 100) {{ nodes {{ body }} }}");
    let aliased: Vec<String> = (0..8).map(|i| format!("a{i}: {page}")).collect();
    let query = json!({ "query": format!("{{ {} }}", aliased.join(" ")) });
    for _ in 0..3 {
        let attacks = (0..4).map(|_| async {
            let response = client
                .post(format!("{base}/graphql"))
                .json(&query)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            let answer: Value = serde_json::from_str(&text).unwrap_or_default();
            assert_eq!(
                answer["errors"][0]["extensions"]["code"],
                "RESPONSE_TOO_LARGE",
                "{status}: {}",
                &text[..text.len().min(300)]
            );
        });
        let threads = (0..4).map(|_| async {
            let response = client
                .get(format!("{base}/api/articles/{slug}/comments"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.bytes().await.unwrap().len()
        });
        let (_, sizes) = futures::join!(join_all(attacks), join_all(threads));
        assert!(sizes.iter().all(|size| *size > 4 * 1024 * 1024));
    }
    let peak = peak_rss(server.id());
    tokio::task::spawn_blocking(move || terminate(&mut server))
        .await
        .unwrap();
    assert!(
        peak < 512 * 1024 * 1024,
        "peak RSS {} MiB (after seeding {} MiB)",
        peak >> 20,
        baseline >> 20
    );
    eprintln!(
        "peak RSS {} MiB, after seeding {} MiB",
        peak >> 20,
        baseline >> 20
    );
}
