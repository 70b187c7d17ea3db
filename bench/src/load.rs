//! The fixed-concurrency load loop, the write stream beside it, and what a run measured.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use reqwest::StatusCode;
use serde::Serialize;

use crate::process::Monitor;
use crate::scenario::{Call, Scenario, mixed_write};
use crate::seed::Fixture;

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

pub struct Plan<'a> {
    pub concurrency: usize,
    /// Writes per second during `mixed`.
    pub write_rate: f64,
    pub warmup: Duration,
    pub duration: Duration,
    pub max_requests: u64,
    /// Run as the measurement starts and ends (`--on-phase`).
    pub on_phase: Option<&'a str>,
    pub target: &'a str,
}

impl Plan<'_> {
    fn phase_hook(
        &self,
        scenario: Scenario,
        phase: &str,
        requests: Option<u64>,
    ) -> anyhow::Result<()> {
        let Some(command) = self.on_phase else {
            return Ok(());
        };
        let mut hook = std::process::Command::new("sh");
        hook.args(["-c", command])
            .env("BENCH_PHASE", phase)
            .env("BENCH_TARGET", self.target)
            .env("BENCH_SCENARIO", scenario.name());
        if let Some(requests) = requests {
            hook.env("BENCH_REQUESTS", requests.to_string());
        }
        let status = hook.status()?;
        anyhow::ensure!(
            status.success(),
            "--on-phase command failed ({status}) at {phase}"
        );
        Ok(())
    }
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
    /// The server's CPU time per request during the measurement (a server on this machine).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cpu_us_per_request: Option<f64>,
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
    plan: &Plan<'_>,
    server: &Monitor,
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
    plan.phase_hook(scenario, "start", None)?;
    let cpu_before = server.cpu_micros();
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
    let cpu_used = cpu_before
        .zip(server.cpu_micros())
        .map(|(before, after)| after.saturating_sub(before));
    let measured = workers.iter().map(|worker| worker.requests).sum();
    plan.phase_hook(scenario, "end", Some(measured))?;
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
        server_cpu_us_per_request: cpu_used
            .filter(|_| requests > 0)
            .map(|micros| micros as f64 / requests as f64),
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
    plan: &Plan<'_>,
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
