//! Queue and search latency on the 100 000-ticket / 300 000-entry synthetic cache, encrypted
//! (SQLCipher) beside the plain-SQLite baseline built from the same data in the same run.
//!
//! Criterion reports means with confidence intervals; the targets are p95, so a percentile pass
//! (`PERCENTILE_RUNS` timed calls per workload) runs first and prints p50/p95/p99.
//!
//! `OUTPOST_BENCH_TICKETS` / `OUTPOST_BENCH_ENTRIES` shrink the data set for a quick look.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::Criterion;
use outpost_core::model::Status;
use outpost_store::{DbKey, QueueFilter, QueueSort, SlaFilter, Store};
use outpost_synth::{tickets_with_entries, SynthConfig};

const PERCENTILE_RUNS: usize = 2_000;

/// Mixed Chinese / English queries of every length an agent types.
const QUERIES: &[&str] = &[
    "登录",
    "冻结",
    "退款",
    "钱",
    "验证码",
    "未到账",
    "账户被冻结",
    "refund",
    "login",
    "E4230",
    "App 登录",
    "refund 退款",
    "password reset",
    "短信 SMS",
    "KYC 审核",
];

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
    let n = store
        .import_tickets(tickets_with_entries(cfg), 2_000, cfg.now)
        .expect("import");
    store.checkpoint().expect("checkpoint");
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    println!(
        "built {} cache: {n} tickets, {} entries in {:.1} s, {:.0} MiB on disk",
        if key.is_some() {
            "SQLCipher"
        } else {
            "plain SQLite"
        },
        cfg.entries,
        started.elapsed().as_secs_f64(),
        size as f64 / 1_048_576.0
    );
    store
}

/// One timed call: the store and the iteration number (to rotate through queries).
type Run = Box<dyn Fn(&Store, usize)>;

struct Workload {
    name: &'static str,
    run: Run,
}

fn workloads(now: DateTime<Utc>) -> Vec<Workload> {
    let open_support = QueueFilter {
        statuses: Status::OPEN.to_vec(),
        departments: vec!["support".into()],
        ..QueueFilter::default()
    };
    let at_risk = QueueFilter {
        sla: Some(SlaFilter::AtRisk),
        ..QueueFilter::default()
    };
    let closed_finance = QueueFilter {
        statuses: vec![Status::Closed],
        departments: vec!["finance".into()],
        ..QueueFilter::default()
    };
    vec![
        Workload {
            name: "queue_open_support_by_sla_due_50",
            run: Box::new(move |s, _| {
                black_box(
                    s.queue(&open_support, QueueSort::SlaDue, None, 50, now)
                        .unwrap(),
                );
            }),
        },
        Workload {
            name: "queue_at_risk_by_priority_50",
            run: Box::new(move |s, _| {
                black_box(
                    s.queue(&at_risk, QueueSort::Priority, None, 50, now)
                        .unwrap(),
                );
            }),
        },
        Workload {
            name: "queue_closed_finance_by_updated_page_20",
            run: Box::new(move |s, _| {
                // Twentieth page through the cursor chain: what scrolling deep costs per page.
                let mut cursor = None;
                for _ in 0..20 {
                    let page = s
                        .queue(
                            &closed_finance,
                            QueueSort::Updated,
                            cursor.as_ref(),
                            50,
                            now,
                        )
                        .unwrap();
                    cursor = page.next;
                }
                black_box(cursor);
            }),
        },
        Workload {
            name: "search_mixed_zh_en_50",
            run: Box::new(|s, i| {
                black_box(s.search(QUERIES[i % QUERIES.len()], 50).unwrap());
            }),
        },
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e3
}

fn main() {
    let cfg = SynthConfig {
        tickets: env_usize("OUTPOST_BENCH_TICKETS", 100_000),
        entries: env_usize("OUTPOST_BENCH_ENTRIES", 300_000),
        ..SynthConfig::default()
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let key = DbKey::from_bytes([0x5A; 32]);
    let (enc_path, plain_path) = (dir.path().join("sqlcipher.db"), dir.path().join("plain.db"));
    drop(build(&enc_path, Some(&key), &cfg));
    drop(build(&plain_path, None, &cfg));
    // Measure freshly opened caches, as the app opens them at start.
    let encrypted = Store::open(&enc_path, &key).expect("reopen encrypted cache");
    let plain = Store::open_plaintext_for_baseline(&plain_path).expect("reopen plain cache");
    // "Now" a little after the data set's end, so some clocks are at risk and some breached.
    let now = cfg.now + chrono::Duration::hours(1);

    println!(
        "\n{:<42} {:>10} {:>9} {:>9} {:>9}   {:>9} {:>9}",
        "workload (ms)", "store", "p50", "p95", "p99", "p95/plain", ""
    );
    for w in workloads(now) {
        let mut p95 = [0.0; 2];
        for (slot, (label, store)) in [("sqlcipher", &encrypted), ("plain", &plain)]
            .into_iter()
            .enumerate()
        {
            for i in 0..50 {
                (w.run)(store, i); // warm the page cache
            }
            let mut times: Vec<Duration> = (0..PERCENTILE_RUNS)
                .map(|i| {
                    let t = Instant::now();
                    (w.run)(store, i);
                    t.elapsed()
                })
                .collect();
            times.sort_unstable();
            p95[slot] = percentile(&times, 0.95);
            println!(
                "{:<42} {:>10} {:>9.3} {:>9.3} {:>9.3}",
                w.name,
                label,
                percentile(&times, 0.50),
                p95[slot],
                percentile(&times, 0.99)
            );
        }
        println!(
            "{:<42} {:>10} {:>39.2}x",
            w.name,
            "overhead",
            p95[0] / p95[1]
        );
    }
    println!();

    let mut c = Criterion::default().configure_from_args().sample_size(50);
    for w in workloads(now) {
        let mut group = c.benchmark_group(w.name);
        for (label, store) in [("sqlcipher", &encrypted), ("plain", &plain)] {
            let mut i = 0;
            group.bench_function(label, |b| {
                b.iter(|| {
                    i += 1;
                    (w.run)(store, i);
                });
            });
        }
        group.finish();
    }
    c.final_summary();
}
