//! Webhooks: signed deliveries to a real local receiver, retries after a 500 with the same
//! delivery id, the delivery log, events enqueued only by committed changes, owner-only access,
//! unsubscribing at 410, the SSRF guard for every internal address class (at subscription and
//! at delivery), and many deliveries through several workers each arriving exactly once.

use std::collections::HashMap;
use std::time::Duration;

use quire::jobs::{self, DeliverWebhook, JobPayload};
use reqwest::StatusCode;
use sea_orm::TransactionTrait;
use serde_json::json;

use crate::jobs::{context, drained, queue, start_worker, start_worker_with, worker_process};
use crate::receiver::Receiver;
use crate::support::TestApp;

const ALL_EVENTS: [&str; 6] = [
    "article.published",
    "article.updated",
    "article.deleted",
    "comment.created",
    "article.favorited",
    "profile.followed",
];

async fn allowing_loopback() -> TestApp {
    TestApp::spawn_own(&[("webhook_allow_hosts", "127.0.0.1")]).await
}

/// Subscribes `url` to `events` as `token`'s user; the id and the secret.
async fn subscribe(app: &TestApp, token: &str, url: &str, events: &[&str]) -> (i64, String) {
    let created = app
        .post(
            "/api/webhooks",
            Some(token),
            json!({"webhook": {"url": url, "events": events}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let webhook = &created.body["webhook"];
    (
        webhook["id"].as_i64().unwrap(),
        webhook["secret"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn events_arrive_signed_and_a_500_is_retried_with_the_same_delivery_id() {
    let app = allowing_loopback().await;
    let db = queue(&app).await;
    let receiver = Receiver::start().await;
    let (author, author_token) = app.user().await;
    let (fan, fan_token) = app.user().await;
    let (id, secret) = subscribe(&app, &author_token, &receiver.url, &ALL_EVENTS).await;
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    let listed = app.get("/api/webhooks", Some(&author_token)).await;
    assert_eq!(listed.body["webhooksCount"], 1);
    assert!(
        listed.body["webhooks"][0].get("secret").is_none(),
        "the secret is shown once"
    );
    // Nobody else sees it, or its log.
    assert_eq!(
        app.get("/api/webhooks", Some(&fan_token)).await.body["webhooksCount"],
        0
    );
    let path = format!("/api/webhooks/{id}/deliveries");
    assert_eq!(
        app.get(&path, Some(&fan_token)).await.status,
        StatusCode::NOT_FOUND
    );

    receiver.answer(&[500]);
    let (stop, worker) = start_worker(&db, Duration::from_secs(30));
    let slug = app.article(&author_token, "Hooked", &["hooks"]).await;
    let published = receiver
        .wait_until(Duration::from_secs(15), |got| got.len() >= 2)
        .await;
    assert_eq!(
        published[0].delivery, published[1].delivery,
        "a retry keeps its id"
    );
    for attempt in &published {
        assert_eq!(attempt.event, "article.published");
        assert!(
            attempt.signed_with(&secret),
            "bad signature {}",
            attempt.signature
        );
        assert!(!attempt.signed_with("whsec_other"));
    }
    let event = published[1].json();
    assert_eq!(event["event"], "article.published");
    assert_eq!(event["id"], published[1].delivery.as_str());
    assert_eq!(event["data"]["article"]["slug"], slug.as_str());
    assert_eq!(event["data"]["article"]["tagList"], json!(["hooks"]));
    assert_eq!(event["actor"]["username"], author.as_str());

    // The fan's actions reach the author's subscription; favouriting twice is one event (the
    // second favourite changes nothing and rolls back).
    let favorite = format!("/api/articles/{slug}/favorite");
    app.post(&favorite, Some(&fan_token), json!({})).await;
    app.post(&favorite, Some(&fan_token), json!({})).await;
    let comment = json!({"comment": {"body": "nice"}});
    app.post(
        &format!("/api/articles/{slug}/comments"),
        Some(&fan_token),
        comment,
    )
    .await;
    app.post(
        &format!("/api/profiles/{author}/follow"),
        Some(&fan_token),
        json!({}),
    )
    .await;
    let changed = json!({"article": {"body": "new body"}});
    app.put(
        &format!("/api/articles/{slug}"),
        Some(&author_token),
        changed,
    )
    .await;
    app.delete(&format!("/api/articles/{slug}"), Some(&author_token))
        .await;
    let got = receiver
        .wait_until(Duration::from_secs(15), |got| got.len() >= 7)
        .await;
    // Nothing more arrives (the second favourite sent nothing).
    drained(&db, "webhook").await;
    assert_eq!(receiver.received().len(), 7);
    let count = |name: &str| got.iter().filter(|r| r.event == name).count();
    assert_eq!(count("article.favorited"), 1);
    assert_eq!(count("comment.created"), 1);
    assert_eq!(count("profile.followed"), 1);
    assert_eq!(count("article.updated"), 1);
    assert_eq!(count("article.deleted"), 1);
    let followed = got
        .iter()
        .find(|r| r.event == "profile.followed")
        .unwrap()
        .json();
    assert_eq!(followed["actor"]["username"], fan.as_str());
    let commented = got
        .iter()
        .find(|r| r.event == "comment.created")
        .unwrap()
        .json();
    assert_eq!(commented["data"]["comment"]["body"], "nice");

    // The log: every attempt, newest first; the first publish attempt answered 500.
    let log = app.get(&path, Some(&author_token)).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    let attempts = log.body["deliveries"].as_array().unwrap();
    assert_eq!(attempts.len(), 7, "{}", log.text);
    let first = attempts.last().unwrap();
    assert_eq!(first["statusCode"], 500);
    assert_eq!(first["event"], "article.published");
    assert!(first["error"].as_str().unwrap().contains("500"));
    assert_eq!(attempts[attempts.len() - 2]["statusCode"], 200);
    assert_eq!(attempts[attempts.len() - 2]["attempt"], 2);
    assert!(attempts.iter().all(|a| a["latencyMs"].is_i64()));

    stop.send(true).unwrap();
    worker.await.unwrap();
    let deleted = app
        .delete(&format!("/api/webhooks/{id}"), Some(&author_token))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&path, Some(&author_token)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_receiver_answering_410_is_unsubscribed_and_says_why() {
    let app = allowing_loopback().await;
    let db = queue(&app).await;
    let receiver = Receiver::start().await;
    let (_, token) = app.user().await;
    subscribe(&app, &token, &receiver.url, &["article.published"]).await;
    receiver.answer(&[410]);
    let (stop, worker) = start_worker(&db, Duration::from_secs(30));
    app.article(&token, "Gone", &[]).await;
    receiver
        .wait_until(Duration::from_secs(15), |got| got.len() == 1)
        .await;
    let mut listed = app.get("/api/webhooks", Some(&token)).await;
    for _ in 0..50 {
        if listed.body["webhooks"][0]["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        listed = app.get("/api/webhooks", Some(&token)).await;
    }
    let webhook = &listed.body["webhooks"][0];
    assert_eq!(webhook["enabled"], false, "{}", listed.text);
    assert!(webhook["disabledReason"].as_str().unwrap().contains("410"));
    // Disabled: later events are not sent.
    app.article(&token, "Gone again", &[]).await;
    drained(&db, "webhook").await;
    assert_eq!(receiver.received().len(), 1);
    stop.send(true).unwrap();
    worker.await.unwrap();
}

#[tokio::test]
async fn internal_addresses_are_refused_for_every_class() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://127.1.2.3/hook",
        "http://localhost:8080/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://10.0.0.5/hook",
        "http://172.16.3.4/hook",
        "http://192.168.1.10/hook",
        "http://[fd00:ec2::254]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/hook",
        "http://224.0.0.1/hook",
        "http://[ff02::1]/hook",
        "http://0.0.0.0/hook",
        "http://100.100.100.200/hook",
        "http://2130706433/hook",
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "not a url",
        "http://user:pass@example.com/hook",
    ] {
        let refused = app
            .post(
                "/api/webhooks",
                Some(&token),
                json!({"webhook": {"url": url, "events": ["article.published"]}}),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {}",
            refused.text
        );
        assert!(
            refused.body["errors"]["url"].is_array(),
            "{url}: {}",
            refused.text
        );
    }
    for (body, field) in [
        (
            json!({"webhook": {"url": "https://example.com/h", "events": ["nope"]}}),
            "events",
        ),
        (
            json!({"webhook": {"url": "https://example.com/h", "events": []}}),
            "events",
        ),
        (json!({"webhook": {"events": ["article.published"]}}), "url"),
        (json!({}), "webhook"),
    ] {
        let refused = app.post("/api/webhooks", Some(&token), body).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        assert!(refused.body["errors"][field].is_array(), "{}", refused.text);
    }
    let anonymous = app.get("/api/webhooks", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn delivery_checks_the_address_again() {
    // The API allowed the loopback receiver; this worker does not: as if DNS now pointed the
    // subscription's host at an internal address.
    let app = allowing_loopback().await;
    let db = queue(&app).await;
    let receiver = Receiver::start().await;
    let (_, token) = app.user().await;
    let (id, _) = subscribe(&app, &token, &receiver.url, &["article.published"]).await;
    let (stop, worker) = start_worker_with(context(&db, &[]), Duration::from_secs(30));
    app.article(&token, "Rebound", &[]).await;
    let path = format!("/api/webhooks/{id}/deliveries");
    let mut log = app.get(&path, Some(&token)).await;
    for _ in 0..100 {
        if !log.body["deliveries"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        log = app.get(&path, Some(&token)).await;
    }
    let attempt = &log.body["deliveries"][0];
    assert!(attempt["statusCode"].is_null(), "{}", log.text);
    assert!(
        attempt["error"].as_str().unwrap().contains("loopback"),
        "{}",
        log.text
    );
    assert!(receiver.received().is_empty());
    stop.send(true).unwrap();
    worker.await.unwrap();
    // Its retries would go to a receiver that is gone.
    app.delete(&format!("/api/webhooks/{id}"), Some(&token))
        .await;
}

#[tokio::test]
async fn many_deliveries_through_several_workers_each_arrive_once() {
    let app = allowing_loopback().await;
    let db = queue(&app).await;
    let receiver = Receiver::start().await;
    let (_, token) = app.user().await;
    let (id, _) = subscribe(&app, &token, &receiver.url, &["article.published"]).await;
    const JOBS: usize = 300;
    let txn = db.begin().await.unwrap();
    for n in 0..JOBS {
        let payload = DeliverWebhook {
            webhook: id,
            delivery: format!("bulk-{n}"),
            event: "article.published".to_owned(),
            body: json!({"n": n}).to_string(),
        };
        jobs::enqueue(&txn, payload.job()).await.unwrap();
    }
    txn.commit().await.unwrap();
    // Two workers in this process and a `quire worker` process, all at once.
    let _process = worker_process(&app, "30", "5");
    let (stop_a, worker_a) = start_worker(&db, Duration::from_secs(30));
    let (stop_b, worker_b) = start_worker(&db, Duration::from_secs(30));
    let got = receiver
        .wait_until(Duration::from_secs(60), |got| got.len() >= JOBS)
        .await;
    drained(&db, "webhook").await;
    let got = receiver.received().len().max(got.len());
    let mut arrivals: HashMap<String, usize> = HashMap::new();
    for received in receiver.received() {
        *arrivals.entry(received.delivery).or_default() += 1;
    }
    assert_eq!(arrivals.len(), JOBS);
    assert_eq!(got, JOBS, "some deliveries arrived twice");
    assert!(arrivals.values().all(|n| *n == 1));
    for (stop, worker) in [(stop_a, worker_a), (stop_b, worker_b)] {
        stop.send(true).unwrap();
        worker.await.unwrap();
    }
}
