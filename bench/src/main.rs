//! `bench/run`: seeds a RealWorld server through its public API, then measures fixed-concurrency
//! scenarios against it (or several servers side by side) and prints a Markdown table.

mod bare;
mod jobs;
mod load;
mod process;
mod report;
mod scenario;
mod seed;

use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;

use scenario::Scenario;

#[derive(Parser, Debug)]
#[command(about = "Load benchmark for Quire and any other RealWorld API server")]
struct Args {
    /// `name=URL` of a running server (its API under URL/api). Give several to compare them side
    /// by side (ratios against the first).
    #[arg(long = "target", required_unless_present_any = ["serve_bare", "jobs_database_url"])]
    targets: Vec<String>,
    /// Measure Quire's job queue instead: no-op jobs per second through one `quire worker`
    /// process and the enqueue-to-claim latency, on this database (one of its own).
    #[arg(long)]
    jobs_database_url: Option<String>,
    /// The `quire` binary the jobs figure runs as its worker.
    #[arg(long, default_value = "target/release/quire")]
    quire_binary: String,
    /// No-op jobs the jobs figure puts through the queue.
    #[arg(long, default_value_t = 20_000)]
    jobs: u64,
    /// Jobs the worker runs at once in the jobs figure (`QUIRE_WORKER_CONCURRENCY`).
    #[arg(long, default_value_t = 32)]
    jobs_concurrency: usize,
    /// Also load a minimal axum server serving a static body of a list page's size (started by
    /// the benchmark) beside the `ceiling` and `articles` scenarios: what the machine can serve
    /// at all, measured in the same minutes as those two.
    #[arg(long)]
    bare: bool,
    /// Serve as that minimal server on this address (how the benchmark starts it).
    #[arg(long, hide = true)]
    serve_bare: Option<String>,
    /// Smoke mode: a small seed and a few seconds per scenario.
    #[arg(long)]
    quick: bool,
    /// Concurrent connections per scenario.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Measured seconds per scenario (default 10, quick 2).
    #[arg(long)]
    duration: Option<f64>,
    /// Warm-up seconds per scenario before measuring (default 2, quick 1).
    #[arg(long)]
    warmup: Option<f64>,
    /// Seconds to wait after seeding, so the servers' background work (e.g. PostgreSQL's
    /// autovacuum after the bulk of inserts) does not weigh on the first scenarios
    /// (default 10, quick 0).
    #[arg(long)]
    settle: Option<f64>,
    /// Writes per second alongside the reads of the `mixed` scenario.
    #[arg(long, default_value_t = 5.0)]
    write_rate: f64,
    /// Upper bound on requests per scenario and target, whatever the duration.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: u64,
    /// A shell command run as each measurement starts and ends, for profilers
    /// (`callgrind_control`, `perf`): `BENCH_PHASE` is `start` or `end`, `BENCH_TARGET`,
    /// `BENCH_SCENARIO`, and at the end `BENCH_REQUESTS`, are in its environment.
    #[arg(long)]
    on_phase: Option<String>,
    /// Only these scenarios (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    #[arg(long)]
    users: Option<usize>,
    #[arg(long)]
    articles: Option<usize>,
    #[arg(long)]
    follows: Option<usize>,
    #[arg(long)]
    favorites: Option<usize>,
    #[arg(long)]
    comments: Option<usize>,
    /// The targets' data is already there (`quire seed` with large counts on the database
    /// behind them): skip seeding through the API, register `--users` users (default 64) and
    /// find the scenarios' landmarks through the API.
    #[arg(long)]
    preseeded: bool,
    /// Where to write the JSON results (default bench/results/bench-<time>.json).
    #[arg(long)]
    out: Option<String>,
    /// Accept targets that are not on the loopback interface.
    #[arg(long)]
    allow_remote: bool,
}

#[derive(Debug, Clone)]
struct Target {
    name: String,
    base: String,
    /// Serves the ceiling scenario only (the bare server).
    ceiling_only: bool,
}

fn parse_target(raw: &str, allow_remote: bool) -> anyhow::Result<Target> {
    let (name, url) = raw.split_once('=').context("--target must be name=URL")?;
    let url = url
        .trim_end_matches('/')
        .trim_end_matches("/api")
        .trim_end_matches('/');
    let parsed = reqwest::Url::parse(url).with_context(|| format!("bad URL in --target {raw}"))?;
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']']);
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false);
    if !loopback && !allow_remote {
        bail!("{host} is not a loopback address; pass --allow-remote to load a remote server");
    }
    Ok(Target {
        name: name.to_owned(),
        base: url.to_owned(),
        ceiling_only: false,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(listen) = &args.serve_bare {
        return bare::serve(listen).await;
    }
    if let Some(database_url) = &args.jobs_database_url {
        let report = jobs::run(&jobs::JobsOptions {
            database_url: database_url.clone(),
            quire_binary: args.quire_binary.clone(),
            jobs: args.jobs,
            concurrency: args.jobs_concurrency,
            latency_samples: 50,
        })
        .await?;
        println!("| figure | value |\n|---|---:|");
        println!(
            "| no-op jobs through one worker | {} in {:.2} s |",
            report.jobs, report.seconds
        );
        println!("| jobs per second | {:.0} |", report.per_second());
        println!(
            "| enqueue → claim p50 | {} ms |",
            report.latency_percentile(0.5)
        );
        println!(
            "| enqueue → claim p99 | {} ms |",
            report.latency_percentile(0.99)
        );
        return Ok(());
    }
    let mut targets: Vec<Target> = args
        .targets
        .iter()
        .map(|t| parse_target(t, args.allow_remote))
        .collect::<Result<_, _>>()?;
    let duration =
        Duration::from_secs_f64(args.duration.unwrap_or(if args.quick { 2.0 } else { 10.0 }));
    let warmup = Duration::from_secs_f64(args.warmup.unwrap_or(if args.quick { 1.0 } else { 2.0 }));
    let mut size = if args.quick {
        seed::SeedSize::quick()
    } else {
        seed::SeedSize::default()
    };
    size.users = args.users.unwrap_or(size.users).max(2);
    size.articles = args.articles.unwrap_or(size.articles).max(1);
    size.follows = args.follows.unwrap_or(size.follows);
    size.favorites = args.favorites.unwrap_or(size.favorites);
    size.comments = args.comments.unwrap_or(size.comments);

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency.max(16))
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?;

    let mut fixtures = Vec::new();
    let mut monitors = Vec::new();
    for target in &targets {
        let started = std::time::Instant::now();
        if args.preseeded {
            eprintln!("finding landmarks of {} ({})", target.name, target.base);
            let users = args.users.unwrap_or(64).max(2);
            fixtures.push(seed::discover(&client, &target.base, users).await?);
        } else {
            eprintln!(
                "seeding {} ({}) through its API: {size:?}",
                target.name, target.base
            );
            fixtures.push(seed::seed(&client, &target.base, &size).await?);
        }
        eprintln!("  seeded in {:.1}s", started.elapsed().as_secs_f64());
        monitors.push(process::Monitor::start(&target.base));
    }
    let bare_server = if args.bare {
        let server = bare::start().await?;
        targets.push(Target {
            name: "bare".to_owned(),
            base: server.base.clone(),
            ceiling_only: true,
        });
        fixtures.push(fixtures[0].clone());
        monitors.push(process::Monitor::start(&server.base));
        Some(server)
    } else {
        None
    };

    let settle = args.settle.unwrap_or(if args.quick { 0.0 } else { 10.0 });
    if settle > 0.0 {
        eprintln!("letting the servers settle for {settle:.0}s");
        tokio::time::sleep(Duration::from_secs_f64(settle)).await;
    }
    let scenarios: Vec<Scenario> = Scenario::all()
        .into_iter()
        .filter(|s| args.scenarios.is_empty() || args.scenarios.iter().any(|n| n == s.name()))
        .collect();
    let mut rows = Vec::new();
    for (index, scenario) in scenarios.iter().enumerate() {
        // Rotate which target goes first, so drift over the run hits every target alike.
        let mut order: Vec<usize> = (0..targets.len()).collect();
        order.rotate_left(index % targets.len());
        for t in order {
            let target = &targets[t];
            // The bare server stands beside every scenario that answers a list page's worth of
            // bytes (its static body is that size), so a ratio to it comes from the same minutes
            // rather than from the start of a sitting on a host whose speed drifts.
            let served = match (target.ceiling_only, scenario) {
                (false, _) => *scenario,
                (true, Scenario::Ceiling | Scenario::ArticlesList) => Scenario::Ceiling,
                (true, _) => continue,
            };
            let plan = load::Plan {
                concurrency: args.concurrency,
                write_rate: args.write_rate,
                warmup,
                duration,
                max_requests: args.max_requests,
                on_phase: args.on_phase.as_deref(),
                target: &target.name,
            };
            let page_base = if target.ceiling_only {
                &targets[0].base
            } else {
                &target.base
            };
            let stats = load::run(
                &client,
                &target.base,
                page_base,
                served,
                &fixtures[t],
                &plan,
                &monitors[t],
            )
            .await?;
            match &stats {
                Some(s) => eprintln!(
                    "  {:<16} {:<10} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
                    scenario.name(),
                    target.name,
                    s.requests_per_second,
                    s.p50_ms,
                    s.p99_ms,
                    s.errors
                ),
                None => eprintln!(
                    "  {:<16} {:<10} not supported by this server",
                    scenario.name(),
                    target.name
                ),
            }
            rows.push(report::Row {
                scenario: scenario.name().to_owned(),
                target: target.name.clone(),
                stats,
            });
        }
    }
    let peak_rss_kib: Vec<(String, Option<u64>)> = targets
        .iter()
        .zip(monitors)
        .map(|(t, m)| (t.name.clone(), m.finish()))
        .collect();
    drop(bare_server);

    let report = report::Report {
        date: chrono::Local::now().format("%Y-%m-%d %H:%M").to_string(),
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        concurrency: args.concurrency,
        duration_s: duration.as_secs_f64(),
        warmup_s: warmup.as_secs_f64(),
        seed: size,
        rows,
        peak_rss_kib,
    };
    report::print_markdown(&report, &targets, &scenarios);
    let out = args.out.unwrap_or_else(|| {
        format!(
            "bench/results/bench-{}.json",
            chrono::Local::now().format("%Y%m%d-%H%M%S")
        )
    });
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    eprintln!("results written to {out}");
    let errors: u64 = report
        .rows
        .iter()
        .filter_map(|r| r.stats.as_ref())
        .map(|s| s.errors + s.write_errors.unwrap_or(0))
        .sum();
    if errors > 0 {
        bail!("{errors} requests failed their status check");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_target;

    #[test]
    fn only_loopback_targets_are_accepted_by_default() {
        for ok in [
            "a=http://127.0.0.1:8080",
            "a=http://localhost:3000/api",
            "a=http://[::1]:80/",
        ] {
            assert!(parse_target(ok, false).is_ok(), "{ok}");
        }
        for remote in ["a=http://10.0.0.5:8080", "a=https://api.realworld.show/api"] {
            assert!(parse_target(remote, false).is_err(), "{remote}");
            assert!(parse_target(remote, true).is_ok(), "{remote}");
        }
        assert!(parse_target("no-name-given", false).is_err());
        assert_eq!(
            parse_target("a=http://127.0.0.1:8080/api/", false)
                .unwrap()
                .base,
            "http://127.0.0.1:8080"
        );
    }
}
