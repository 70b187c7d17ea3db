//! The scenarios and the fixed-concurrency load loop.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::Rng;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::json;

use crate::seed::{Fixture, PASSWORD};

/// Distinguishes this run's created articles from every earlier run's.
static RUN_ID: LazyLock<String> = LazyLock::new(|| {
    let mut rng = rand::rng();
    (0..8)
        .map(|_| char::from(rng.random_range(b'a'..=b'z')))
        .collect()
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Tags,
    ArticlesList,
    ArticlesByTag,
    Article,
    Comments,
    Feed,
    User,
    CreateArticle,
    Login,
    Ceiling,
    GraphqlArticles,
    /// The reads of `mixed` alone: its baseline in the same run.
    MixedReads,
    /// Reads (`articles`, `articles_by_tag`, `article`, `comments`, `feed` in turn) while a
    /// steady stream of writes (create, favorite or unfavorite, comment) goes on.
    Mixed,
}

/// The reads `mixed` and `mixed_reads` rotate through.
const MIXED_READS: [Scenario; 5] = [
    Scenario::ArticlesList,
    Scenario::ArticlesByTag,
    Scenario::Article,
    Scenario::Comments,
    Scenario::Feed,
];

/// The GraphQL scenario's query: a page of 20 articles with their authors, the viewer's
/// flags, tags and the first 5 comments of each with their authors.
const GRAPHQL_ARTICLES: &str = "{ articles(first: 20) { totalCount edges { node { \
    slug title description body tagList createdAt favorited favoritesCount \
    author { username image following } \
    comments(first: 5) { id body createdAt author { username image following } } } } } }";

/// One request of a scenario.
struct Call {
    method: Method,
    path: String,
    token: Option<String>,
    body: Option<serde_json::Value>,
    expect: StatusCode,
    /// A GraphQL answer is 200 even when it failed: its body must hold no `errors`.
    graphql: bool,
}

impl Call {
    fn succeeded(&self, status: StatusCode, body: &[u8]) -> bool {
        status == self.expect
            && !(self.graphql && body.windows(8).any(|window| window == b"\"errors\""))
    }
}

impl Scenario {
    pub fn all() -> Vec<Scenario> {
        use Scenario::*;
        vec![
            Ceiling,
            Tags,
            ArticlesList,
            ArticlesByTag,
            Article,
            Comments,
            Feed,
            User,
            CreateArticle,
            Login,
            GraphqlArticles,
            MixedReads,
            Mixed,
        ]
    }

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Tags => "tags",
            Scenario::ArticlesList => "articles",
            Scenario::ArticlesByTag => "articles_by_tag",
            Scenario::Article => "article",
            Scenario::Comments => "comments",
            Scenario::Feed => "feed",
            Scenario::User => "user",
            Scenario::CreateArticle => "create_article",
            Scenario::Login => "login",
            Scenario::Ceiling => "ceiling",
            Scenario::GraphqlArticles => "graphql_articles",
            Scenario::MixedReads => "mixed_reads",
            Scenario::Mixed => "mixed",
        }
    }

    /// The `n`-th request of this scenario; `page_bytes` sizes the ceiling response.
    fn call(self, fixture: &Fixture, n: u64, page_bytes: usize) -> Call {
        let n = n as usize;
        let user = &fixture.users[n % fixture.users.len()];
        let slug = &fixture.slugs[n % fixture.slugs.len()];
        let get = |path: String, token: Option<&str>| Call {
            method: Method::GET,
            path,
            token: token.map(str::to_owned),
            body: None,
            expect: StatusCode::OK,
            graphql: false,
        };
        match self {
            Scenario::MixedReads | Scenario::Mixed => {
                MIXED_READS[n % MIXED_READS.len()].call(fixture, (n / MIXED_READS.len()) as u64, 0)
            }
            Scenario::Tags => get("/api/tags".into(), None),
            Scenario::ArticlesList => get("/api/articles?limit=20".into(), None),
            Scenario::ArticlesByTag => get(
                format!(
                    "/api/articles?tag={}",
                    fixture.top_tags[n % fixture.top_tags.len()]
                ),
                None,
            ),
            Scenario::Article => get(format!("/api/articles/{slug}"), None),
            Scenario::Comments => get(format!("/api/articles/{slug}/comments"), None),
            Scenario::Feed => get("/api/articles/feed".into(), Some(&user.token)),
            Scenario::User => get("/api/user".into(), Some(&user.token)),
            Scenario::Ceiling => get(format!("/bench/ceiling?bytes={page_bytes}"), None),
            Scenario::CreateArticle => Call {
                method: Method::POST,
                path: "/api/articles".into(),
                token: Some(user.token.clone()),
                body: Some(json!({"article": {
                    // Unique across requests, targets and runs: some servers refuse a title
                    // (or its slug) that exists already.
                    "title": format!("Load test article {} {n}", *RUN_ID),
                    "description": "Written by the benchmark",
                    "body": "A short body written under load.",
                    "tagList": ["benchmark"]
                }})),
                expect: StatusCode::CREATED,
                graphql: false,
            },
            Scenario::Login => Call {
                method: Method::POST,
                path: "/api/users/login".into(),
                token: None,
                body: Some(json!({"user": {"email": user.email, "password": PASSWORD}})),
                expect: StatusCode::OK,
                graphql: false,
            },
            Scenario::GraphqlArticles => Call {
                method: Method::POST,
                path: "/graphql".into(),
                token: Some(user.token.clone()),
                body: Some(json!({ "query": GRAPHQL_ARTICLES })),
                expect: StatusCode::OK,
                graphql: true,
            },
        }
    }
}

/// The `k`-th write of the `mixed` stream: a new article, a favorite (or, every other time
/// round, its removal, so counts stay bounded) or a comment.
fn mixed_write(fixture: &Fixture, k: u64) -> Call {
    let k = k as usize;
    let user = &fixture.users[k % fixture.users.len()];
    let slug = &fixture.slugs[(k * 7) % fixture.slugs.len()];
    let call = |method: Method, path: String, body: serde_json::Value, expect: StatusCode| Call {
        method,
        path,
        token: Some(user.token.clone()),
        body: Some(body),
        expect,
        graphql: false,
    };
    match k % 3 {
        0 => call(
            Method::POST,
            "/api/articles".into(),
            json!({"article": {
                "title": format!("Mixed load article {} {k}", *RUN_ID),
                "description": "Written by the benchmark",
                "body": "A short body written while others read.",
                "tagList": [fixture.top_tags[k % fixture.top_tags.len()]]
            }}),
            StatusCode::CREATED,
        ),
        1 if (k / 3).is_multiple_of(2) => call(
            Method::POST,
            format!("/api/articles/{slug}/favorite"),
            json!({}),
            StatusCode::OK,
        ),
        1 => call(
            Method::DELETE,
            format!("/api/articles/{slug}/favorite"),
            json!({}),
            StatusCode::OK,
        ),
        _ => call(
            Method::POST,
            format!("/api/articles/{slug}/comments"),
            json!({"comment": {"body": "A comment written while others read."}}),
            StatusCode::OK,
        ),
    }
}

/// Sends `rate` writes a second until `until`; returns how many succeeded and failed.
async fn write_stream(
    client: reqwest::Client,
    base: String,
    fixture: Fixture,
    rate: f64,
    until: Instant,
    first: u64,
) -> (u64, u64) {
    let mut every = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.001)));
    let (mut done, mut failed) = (0, 0);
    let mut k = first;
    loop {
        every.tick().await;
        if Instant::now() >= until {
            return (done, failed);
        }
        match send(&client, &base, &mixed_write(&fixture, k)).await {
            Ok((_, _, true)) => done += 1,
            _ => failed += 1,
        }
        k += 1;
    }
}

/// This instance's cache counters (hits, misses), where it offers them (`/bench/cache`).
async fn cache_counters(client: &reqwest::Client, base: &str) -> Option<(u64, u64)> {
    let response = client
        .get(format!("{base}/bench/cache"))
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let counters: serde_json::Value = response.json().await.ok()?;
    Some((counters["hits"].as_u64()?, counters["misses"].as_u64()?))
}

pub struct Plan {
    pub concurrency: usize,
    /// Writes per second during `mixed`.
    pub write_rate: f64,
    pub warmup: Duration,
    pub duration: Duration,
    pub max_requests: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub requests: u64,
    pub errors: u64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub bytes_per_response: u64,
    /// Hits among the server's cache lookups during the measurement (servers that report them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_hit_ratio: Option<f64>,
    /// Writes per second that succeeded alongside the reads (`mixed`), and those that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writes_per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_errors: Option<u64>,
}

struct Worker {
    latencies: Histogram<u64>,
    requests: u64,
    errors: u64,
    bytes: u64,
}

/// The status and the size of the answer, and whether it is the one the call expects.
async fn send(
    client: &reqwest::Client,
    base: &str,
    call: &Call,
) -> Result<(StatusCode, usize, bool), reqwest::Error> {
    let mut request = client.request(call.method.clone(), format!("{base}{}", call.path));
    if let Some(token) = &call.token {
        request = request.header("Authorization", format!("Token {token}"));
    }
    if let Some(body) = &call.body {
        request = request.json(body);
    }
    let response = request.send().await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    Ok((status, bytes.len(), call.succeeded(status, &bytes)))
}

/// `None` when the server does not offer the scenario (the ceiling route on other servers).
/// The ceiling's body is as large as the list page of `page_base` (the target itself, or for
/// the bare server, which has no list, the first target).
pub async fn run(
    client: &reqwest::Client,
    base: &str,
    page_base: &str,
    scenario: Scenario,
    fixture: &Fixture,
    plan: &Plan,
) -> anyhow::Result<Option<Stats>> {
    let page_bytes = send(
        client,
        page_base,
        &Scenario::ArticlesList.call(fixture, 0, 0),
    )
    .await?
    .1;
    let probe = send(client, base, &scenario.call(fixture, 0, page_bytes)).await?;
    // Routes other servers do not have: the ceiling, and GraphQL on a REST-only server.
    let optional = matches!(scenario, Scenario::Ceiling | Scenario::GraphqlArticles);
    if optional
        && matches!(
            probe.0,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        )
    {
        return Ok(None);
    }
    let writes = (scenario == Scenario::Mixed).then(|| {
        tokio::spawn(write_stream(
            client.clone(),
            base.to_owned(),
            fixture.clone(),
            plan.write_rate,
            Instant::now() + plan.warmup + plan.duration,
            0,
        ))
    });
    // Warm-up: same load, not recorded.
    phase(
        client,
        base,
        scenario,
        fixture,
        plan,
        plan.warmup,
        page_bytes,
    )
    .await?;
    let counters_before = cache_counters(client, base).await;
    let started = Instant::now();
    let workers = phase(
        client,
        base,
        scenario,
        fixture,
        plan,
        plan.duration,
        page_bytes,
    )
    .await?;
    let elapsed = started.elapsed().as_secs_f64();
    let cache_hit_ratio = match (counters_before, cache_counters(client, base).await) {
        (Some((hits0, misses0)), Some((hits1, misses1))) => {
            let (hits, misses) = (hits1 - hits0, misses1 - misses0);
            (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64)
        }
        _ => None,
    };
    let (writes_per_second, write_errors) = match writes {
        Some(stream) => {
            let (done, failed) = stream.await?;
            let seconds = (plan.warmup + plan.duration).as_secs_f64();
            (Some(done as f64 / seconds), Some(failed))
        }
        None => (None, None),
    };
    let mut latencies = Histogram::<u64>::new(3)?;
    let (mut requests, mut errors, mut bytes) = (0, 0, 0);
    for worker in workers {
        latencies.add(&worker.latencies)?;
        requests += worker.requests;
        errors += worker.errors;
        bytes += worker.bytes;
    }
    let ms = |micros: u64| micros as f64 / 1000.0;
    Ok(Some(Stats {
        requests,
        errors,
        requests_per_second: requests as f64 / elapsed,
        p50_ms: ms(latencies.value_at_quantile(0.50)),
        p99_ms: ms(latencies.value_at_quantile(0.99)),
        max_ms: ms(latencies.max()),
        bytes_per_response: bytes.checked_div(requests).unwrap_or(0),
        cache_hit_ratio,
        writes_per_second,
        write_errors,
    }))
}

/// `concurrency` request loops, each bounded by the deadline and the shared request budget.
async fn phase(
    client: &reqwest::Client,
    base: &str,
    scenario: Scenario,
    fixture: &Fixture,
    plan: &Plan,
    length: Duration,
    page_bytes: usize,
) -> anyhow::Result<Vec<Worker>> {
    let deadline = Instant::now() + length;
    let issued = Arc::new(AtomicU64::new(0));
    let loops = (0..plan.concurrency).map(|_| {
        let issued = issued.clone();
        async move {
            let mut worker = Worker {
                latencies: Histogram::new(3)?,
                requests: 0,
                errors: 0,
                bytes: 0,
            };
            while Instant::now() < deadline {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= plan.max_requests {
                    break;
                }
                let call = scenario.call(fixture, n, page_bytes);
                let sent = Instant::now();
                let outcome = send(client, base, &call).await;
                let micros = sent.elapsed().as_micros() as u64;
                worker.latencies.record(micros.max(1))?;
                worker.requests += 1;
                match outcome {
                    Ok((_, bytes, true)) => worker.bytes += bytes as u64,
                    _ => worker.errors += 1,
                }
            }
            Ok::<_, anyhow::Error>(worker)
        }
    });
    futures::future::join_all(loops).await.into_iter().collect()
}
