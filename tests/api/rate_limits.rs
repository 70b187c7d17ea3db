//! Rate limits per route class: 429 with `Retry-After` and the `RateLimit` headers, budgets per
//! address, account and user, shared by instances over Redis and kept in-process without it.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::caching::private_redis;
use crate::support::{PASSWORD, Response, TestApp, free_port, required_redis, unique};

fn limited<'a>(limits: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut settings = vec![("rate_limits_enabled", "true")];
    settings.extend_from_slice(limits);
    settings
}

async fn login(
    app: &TestApp,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Response {
    let mut request = app
        .client
        .post(app.url("/api/users/login"))
        .json(&json!({"user": {"email": email, "password": password}}));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    app.raw(request).await
}

fn header<'r>(response: &'r Response, name: &str) -> &'r str {
    response
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header: {:?}", response.headers))
        .to_str()
        .unwrap()
}

fn assert_refused(response: &Response, policy: &str) {
    assert_eq!(
        response.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        response.text
    );
    assert!(
        response.body["errors"]["rate_limit"][0]
            .as_str()
            .is_some_and(|m| m.contains("try again")),
        "{}",
        response.text
    );
    let retry_after: u64 = header(response, "retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(header(response, "ratelimit-policy"), policy);
    let state = header(response, "ratelimit");
    assert!(state.contains(";r=0;t="), "{state}");
}

#[tokio::test]
async fn sign_in_routes_share_a_budget_per_address_and_say_so() {
    let app = TestApp::spawn_with(&limited(&[("rate_limit_auth", "3/min")])).await;
    for remaining in [2, 1, 0] {
        let response = login(
            &app,
            &format!("{}@example.com", unique("nobody")),
            "wrong",
            None,
        )
        .await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "{}",
            response.text
        );
        assert_eq!(header(&response, "ratelimit-policy"), "\"auth\";q=3;w=60");
        let state = header(&response, "ratelimit");
        assert!(
            state.starts_with(&format!("\"auth\";r={remaining};t=")),
            "{state}"
        );
    }
    let refused = login(&app, "someone@example.com", PASSWORD, None).await;
    assert_refused(&refused, "\"auth\";q=3;w=60");

    // Registration and the GraphQL twins draw on the same budget.
    let name = unique("late");
    let register = app
        .post(
            "/api/users",
            None,
            json!({"user": {"username": name, "email": format!("{name}@example.com"), "password": PASSWORD}}),
        )
        .await;
    assert_refused(&register, "\"auth\";q=3;w=60");
    let graphql = app
        .post(
            "/graphql",
            None,
            json!({"query": "mutation { login(input: {email: \"a@example.com\", password: \"x\"}) { token } }"}),
        )
        .await;
    assert_eq!(
        graphql.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        graphql.text
    );
    assert_eq!(
        graphql.body["errors"][0]["extensions"]["code"],
        "RATE_LIMITED"
    );
    assert!(graphql.headers.contains_key("retry-after"));
    // Reads are another class: still answered, and scripts on other origins may read the budget.
    let read = app
        .raw(
            app.client
                .get(app.url("/api/tags"))
                .header("origin", "https://app.example"),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK);
    let exposed = header(&read, "access-control-expose-headers").to_ascii_lowercase();
    assert!(
        ["ratelimit", "ratelimit-policy", "retry-after"]
            .iter()
            .all(|name| exposed.split(',').any(|e| e.trim() == *name)),
        "{exposed}"
    );
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_account_from_any_address() {
    let app = TestApp::spawn_with(&limited(&[
        ("rate_limit_login_failures", "3/min"),
        ("rate_limit_auth", "100/min"),
        ("trusted_proxies", "127.0.0.1"),
    ]))
    .await;
    let (victim, _) = app.user().await;
    let email = format!("{victim}@example.com");
    for i in 0..3 {
        let response = login(&app, &email, "guess", Some(&format!("203.0.113.{i}"))).await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "{}",
            response.text
        );
    }
    // A new address and even the right password: the account's budget is spent.
    let refused = login(&app, &email.to_uppercase(), PASSWORD, Some("198.51.100.7")).await;
    assert_refused(&refused, "\"login\";q=3;w=60");
    let through_graphql = app
        .post("/graphql", None, json!({"query": format!("mutation {{ login(input: {{email: \"{email}\", password: \"{PASSWORD}\"}}) {{ token }} }}")}))
        .await;
    assert_eq!(
        through_graphql.body["errors"][0]["extensions"]["code"],
        "RATE_LIMITED"
    );
    // Other accounts are untouched.
    let (other, _) = app.user().await;
    let fine = login(&app, &format!("{other}@example.com"), PASSWORD, None).await;
    assert_eq!(fine.status, StatusCode::OK, "{}", fine.text);
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let trusting = TestApp::spawn_with(&limited(&[
        ("rate_limit_auth", "2/min"),
        ("trusted_proxies", "127.0.0.0/8"),
    ]))
    .await;
    for _ in 0..2 {
        let response = login(&trusting, "a@example.com", "x", Some("198.51.100.1")).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    }
    let spent = login(&trusting, "a@example.com", "x", Some("198.51.100.1")).await;
    assert_eq!(spent.status, StatusCode::TOO_MANY_REQUESTS);
    let other_client = login(&trusting, "a@example.com", "x", Some("198.51.100.2")).await;
    assert_eq!(other_client.status, StatusCode::UNAUTHORIZED);

    // Without a trusted proxy the header is the client's word: ignored.
    let direct = TestApp::spawn_with(&limited(&[("rate_limit_auth", "2/min")])).await;
    for i in 0..2 {
        let response = login(&direct, "a@example.com", "x", Some(&format!("192.0.2.{i}"))).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    }
    let spoofed = login(&direct, "a@example.com", "x", Some("192.0.2.99")).await;
    assert_eq!(spoofed.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn writes_and_reads_are_limited_per_user_over_both_apis() {
    let app = TestApp::spawn_with(&limited(&[
        ("rate_limit_write", "2/min"),
        ("rate_limit_read", "3/min"),
    ]))
    .await;
    let (_, alice) = app.user().await;
    let (_, bob) = app.user().await;
    let slug = app.article(&alice, &unique("Busy "), &[]).await;
    let favorite = app
        .post(
            &format!("/api/articles/{slug}/favorite"),
            Some(&alice),
            json!({}),
        )
        .await;
    assert_eq!(favorite.status, StatusCode::OK);
    assert_eq!(header(&favorite, "ratelimit-policy"), "\"write\";q=2;w=60");
    let third = app
        .delete(&format!("/api/articles/{slug}/favorite"), Some(&alice))
        .await;
    assert_refused(&third, "\"write\";q=2;w=60");
    let mutation = app
        .send(
            Method::POST,
            "/graphql",
            Some(&alice),
            Some(json!({"query": format!("mutation {{ favorite(slug: \"{slug}\") {{ favoritesCount }} }}")})),
        )
        .await;
    assert_eq!(
        mutation.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        mutation.text
    );
    // Bob's budget is his own.
    let by_bob = app
        .post(
            &format!("/api/articles/{slug}/favorite"),
            Some(&bob),
            json!({}),
        )
        .await;
    assert_eq!(by_bob.status, StatusCode::OK, "{}", by_bob.text);

    // Anonymous reads count per address (REST and GraphQL queries alike); a user's are theirs.
    for _ in 0..2 {
        let read = app.get("/api/tags", None).await;
        assert_eq!(read.status, StatusCode::OK);
        // Reads state their budget only once little of it is left.
        assert!(!read.headers.contains_key("ratelimit"));
    }
    let query = app
        .post("/graphql", None, json!({"query": "{ tags }"}))
        .await;
    assert_eq!(query.status, StatusCode::OK);
    assert_eq!(header(&query, "ratelimit-policy"), "\"read\";q=3;w=60");
    assert!(header(&query, "ratelimit").starts_with("\"read\";r=0;"));
    assert_refused(&app.get("/api/tags", None).await, "\"read\";q=3;w=60");
    let signed_in = app.get("/api/tags", Some(&bob)).await;
    assert_eq!(signed_in.status, StatusCode::OK);
    assert_eq!(app.get("/health/ready", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn limits_can_be_switched_off() {
    let app = TestApp::spawn_with(&[("rate_limit_auth", "1/min")]).await;
    for _ in 0..3 {
        let response = login(&app, "a@example.com", "x", None).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        assert!(!response.headers.contains_key("ratelimit"));
    }
}

/// Attempts `count` sign-ins alternating between two instances; how many were let through.
async fn admitted_by_pair(first: &TestApp, second: &TestApp, count: usize) -> usize {
    let mut admitted = 0;
    for i in 0..count {
        let app = if i % 2 == 0 { first } else { second };
        let response = login(app, "nobody@example.com", "x", None).await;
        match response.status {
            StatusCode::UNAUTHORIZED => admitted += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("{other}: {}", response.text),
        }
    }
    admitted
}

#[tokio::test]
async fn two_instances_share_one_budget_over_redis() {
    let Some(redis) = required_redis() else {
        return;
    };
    let (first, second) = TestApp::spawn_pair(&limited(&[
        ("rate_limit_auth", "5/min"),
        ("rate_limit_login_failures", "1000/min"),
        ("redis_url", redis.as_str()),
    ]))
    .await;
    assert_eq!(admitted_by_pair(&first, &second, 12).await, 5);
}

#[tokio::test]
async fn busy_budgets_shared_by_instances_never_admit_more_than_the_quota() {
    let Some(redis) = required_redis() else {
        return;
    };
    // 100/h lets each instance lease up to 10 cells at a time (and refills too slowly to
    // matter during the test): the sum must still hold.
    let (first, second) = TestApp::spawn_pair(&limited(&[
        ("rate_limit_read", "100/h"),
        ("redis_url", redis.as_str()),
    ]))
    .await;
    let reads = (0..160).map(|i| {
        let app = if i % 2 == 0 { &first } else { &second };
        async move { app.get("/api/tags", None).await.status }
    });
    let statuses = futures::future::join_all(reads).await;
    let admitted = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(admitted + refused, statuses.len(), "{statuses:?}");
    assert!((80..=100).contains(&admitted), "{admitted} admitted");
}

#[tokio::test]
async fn limits_hold_in_process_when_redis_stops() {
    let Some((mut redis, port)) = private_redis().await else {
        return;
    };
    let url = format!("redis://127.0.0.1:{port}");
    let mut settings = limited(&[
        ("rate_limit_auth", "4/min"),
        ("rate_limit_login_failures", "1000/min"),
    ]);
    settings.push(("redis_url", url.as_str()));
    let app = TestApp::spawn_with(&settings).await;
    for _ in 0..2 {
        assert_eq!(
            login(&app, "a@example.com", "x", None).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    redis.kill().unwrap();
    redis.wait().unwrap();
    // Degraded to this instance's own budget: never an error, never unlimited.
    let mut statuses: Vec<StatusCode> = Vec::new();
    for _ in 0..8 {
        statuses.push(login(&app, "a@example.com", "x", None).await.status);
    }
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let admitted = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(admitted, 4, "{statuses:?}");
}

#[tokio::test]
async fn an_unreachable_redis_never_fails_a_limited_request() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let mut settings = limited(&[("rate_limit_read", "3/min")]);
    settings.push(("redis_url", url.as_str()));
    let app = TestApp::spawn_with(&settings).await;
    let statuses: Vec<StatusCode> = futures::future::join_all(
        (0..5).map(|_| async { app.get("/api/tags", None).await.status }),
    )
    .await;
    let admitted = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(admitted, 3, "{statuses:?}");
}
