//! Supervisor report latency on the 100 000-ticket / 300 000-entry synthetic cache (target:
//! ≤ 300 ms per report), encrypted (SQLCipher) beside the plain-SQLite baseline built from the
//! same data in the same run. Each report is timed `RUNS` times; p50 / p95 / max are printed.
//!
//! `OUTPOST_BENCH_TICKETS` / `OUTPOST_BENCH_ENTRIES` shrink the data set for a quick look.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Duration as Days;
use outpost_store::{DbKey, ReportParams, Store};
use outpost_synth::{tickets_with_entries, SynthConfig};

const RUNS: usize = 30;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn build(path: &Path, key: Option<&DbKey>, cfg: &SynthConfig) -> Store {
    let started = Instant::now();
    let mut store = match key {
        Some(key) => Store::open(path, key).expect("open encrypted cache"),
        None => Store::open_plaintext_for_baseline(path).expect("open plain cache"),
    };
    store
        .import_tickets(tickets_with_entries(cfg), 2_000, cfg.now)
        .expect("import");
    store.checkpoint().expect("checkpoint");
    println!(
        "built {} cache with {} tickets in {:.1} s",
        if key.is_some() {
            "SQLCipher"
        } else {
            "plain SQLite"
        },
        cfg.tickets,
        started.elapsed().as_secs_f64()
    );
    store
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    // `cargo bench` passes `--bench`; anything else is ignored.
    let cfg = SynthConfig {
        tickets: env_usize("OUTPOST_BENCH_TICKETS", 100_000),
        entries: env_usize("OUTPOST_BENCH_ENTRIES", 300_000),
        ..SynthConfig::default()
    };
    let base = ReportParams {
        from: cfg.now - Days::days(i64::from(cfg.span_days) + 1),
        to: cfg.now + Days::days(1),
        departments: Vec::new(),
        assignee: None,
        recurring_days: 30,
        utc_offset_minutes: 480,
    };
    let reports: Vec<(&str, ReportParams)> = vec![
        ("whole history (all tickets), all departments", base.clone()),
        (
            "last 30 days, all departments",
            ReportParams {
                from: cfg.now - Days::days(30),
                ..base.clone()
            },
        ),
        (
            "whole history, department support",
            ReportParams {
                departments: vec!["support".into()],
                ..base.clone()
            },
        ),
        (
            "monthly summary (October)",
            ReportParams {
                from: cfg.now - Days::days(31),
                to: cfg.now,
                ..base.clone()
            },
        ),
    ];
    // One open cache at a time: caches in one process share SQLite's page-cache pool and would
    // evict each other's pages (see BENCHMARKS.md, History).
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cells: Vec<Vec<String>> = vec![Vec::new(); reports.len()];
    let mut cohorts = vec![0u64; reports.len()];
    for key in [Some(DbKey::from_bytes([7; 32])), None] {
        let name = if key.is_some() {
            "cache.db"
        } else {
            "plain.db"
        };
        let store = build(&dir.path().join(name), key.as_ref(), &cfg);
        for (i, (_, params)) in reports.iter().enumerate() {
            let mut times = Vec::with_capacity(RUNS);
            for _ in 0..RUNS {
                let started = Instant::now();
                let report = store.report(params, cfg.now).expect("report");
                times.push(started.elapsed());
                cohorts[i] = report.created;
                std::hint::black_box(report);
            }
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            cells[i].push(format!(
                "{:.1} / {:.1} / {:.1}",
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.95)),
                ms(*times.last().expect("runs"))
            ));
        }
        drop(store);
    }
    println!(
        "| report | cohort | SQLCipher p50 / p95 / max (ms) | plain SQLite p50 / p95 / max (ms) |"
    );
    println!("|---|---|---|---|");
    for (i, (name, _)) in reports.iter().enumerate() {
        println!(
            "| {name} | {} | {} | {} |",
            cohorts[i], cells[i][0], cells[i][1]
        );
    }
}
