//! The sitting's results as Markdown tables: every run, what writes cost the reads, and each
//! target against the first (throughput, and the server's CPU time per request).

use serde::Serialize;

use crate::load::Stats;
use crate::scenario::Scenario;
use crate::{Target, seed};

#[derive(Serialize)]
pub struct Row {
    pub scenario: String,
    pub target: String,
    #[serde(flatten)]
    pub stats: Option<Stats>,
}

#[derive(Serialize)]
pub struct Report {
    pub date: String,
    pub cores: usize,
    pub concurrency: usize,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub seed: seed::SeedSize,
    pub rows: Vec<Row>,
    pub peak_rss_kib: Vec<(String, Option<u64>)>,
}

pub fn print_markdown(report: &Report, targets: &[Target], scenarios: &[Scenario]) {
    println!(
        "\n{} · {} cores · concurrency {} · {:.0}s per scenario after {:.0}s warm-up\n",
        report.date, report.cores, report.concurrency, report.duration_s, report.warmup_s
    );
    println!(
        "| scenario | target | req/s | p50 ms | p99 ms | errors | bytes/resp | server CPU µs/req |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for row in &report.rows {
        match &row.stats {
            Some(s) => println!(
                "| {} | {} | {:.0} | {:.2} | {:.2} | {} | {} | {} |",
                row.scenario,
                row.target,
                s.requests_per_second,
                s.p50_ms,
                s.p99_ms,
                s.errors,
                s.bytes_per_response,
                s.server_cpu_us_per_request
                    .map_or_else(|| "n/a".to_owned(), |cpu| format!("{cpu:.1}"))
            ),
            None => println!("| {} | {} | n/a | | | | | |", row.scenario, row.target),
        }
    }
    print_mixed(report, targets);
    for (name, rss) in &report.peak_rss_kib {
        match rss {
            Some(kib) => println!("\nPeak RSS of {name}: {:.1} MiB", *kib as f64 / 1024.0),
            None => {
                println!("\nPeak RSS of {name}: unknown (server process not found on this machine)")
            }
        }
    }
    print_against_first(report, targets, scenarios, "req/s", |s| {
        Some(s.requests_per_second)
    });
    print_against_first(report, targets, scenarios, "server CPU per request", |s| {
        s.server_cpu_us_per_request
    });
}

/// Every other target against the first, one column each, for one figure of the runs.
fn print_against_first(
    report: &Report,
    targets: &[Target],
    scenarios: &[Scenario],
    figure: &str,
    value: impl Fn(&Stats) -> Option<f64>,
) {
    let [first, others @ ..] = targets else {
        return;
    };
    if others.is_empty() {
        return;
    }
    let headings: Vec<String> = others
        .iter()
        .map(|t| format!("{} / {}", first.name, t.name))
        .collect();
    println!("\n| scenario | {} ({figure}) |", headings.join(" | "));
    println!("|---|{}", "---:|".repeat(others.len()));
    for scenario in scenarios {
        let of = |t: &Target| {
            report
                .rows
                .iter()
                .find(|r| r.scenario == scenario.name() && r.target == t.name)
                .and_then(|r| r.stats.as_ref())
                .and_then(&value)
        };
        let ratios: Vec<String> = others
            .iter()
            .map(|other| match (of(first), of(other)) {
                (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
                _ => "n/a".to_owned(),
            })
            .collect();
        println!("| {} | {} |", scenario.name(), ratios.join(" | "));
    }
}

/// What writes cost the reads: `mixed` against `mixed_reads` per target, with hit ratios.
fn print_mixed(report: &Report, targets: &[Target]) {
    let stats = |scenario: &str, target: &str| {
        report
            .rows
            .iter()
            .find(|r| r.scenario == scenario && r.target == target)
            .and_then(|r| r.stats.as_ref())
    };
    let mut header = false;
    for target in targets {
        let (Some(quiet), Some(busy)) = (
            stats("mixed_reads", &target.name),
            stats("mixed", &target.name),
        ) else {
            continue;
        };
        if !header {
            println!(
                "\n| target | reads/s, no writes | reads/s while writing | ratio | writes/s | p99 ms | hit ratio (no writes → writing) |"
            );
            println!("|---|---:|---:|---:|---:|---:|---:|");
            header = true;
        }
        let ratio = |s: &Stats| {
            s.cache_hit_ratio
                .map_or_else(|| "n/a".to_owned(), |r| format!("{:.1}%", r * 100.0))
        };
        println!(
            "| {} | {:.0} | {:.0} | {:.2} | {:.1} | {:.2} | {} → {} |",
            target.name,
            quiet.requests_per_second,
            busy.requests_per_second,
            busy.requests_per_second / quiet.requests_per_second.max(f64::MIN_POSITIVE),
            busy.writes_per_second.unwrap_or_default(),
            busy.p99_ms,
            ratio(quiet),
            ratio(busy)
        );
    }
}
