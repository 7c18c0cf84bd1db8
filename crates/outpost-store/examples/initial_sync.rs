//! Initial-sync timing: how long an empty cache takes to ingest the synthetic data set
//! (100 000 tickets, 300 000 entries) as the sync engine would feed it. Figures are in
//! `BENCH-SYNC.md`.
//!
//! ```text
//! initial_sync gen <dir>                      write <dir>/pages.jsonl: pull pages as the server
//!                                             sends them (JSON, 1 000 changes per page)
//! initial_sync pull <dir> [pages-per-tx] [--incremental]
//!                                             decode the pages and apply them to a new cache with
//!                                             Store::apply_pull_pages; --incremental seeds one
//!                                             ticket first, so the bulk path is not taken
//! initial_sync import <dir>                   Store::import_tickets from the synthetic stream
//!                                             (2 000 tickets per transaction)
//! ```
//!
//! Each run prints wall times and the process's peak resident memory (VmHWM). Run the modes as
//! separate processes so the peaks do not mix. `OUTPOST_BENCH_TICKETS` / `OUTPOST_BENCH_ENTRIES`
//! shrink the data set.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use outpost_core::sync::{Change, ChangeKind, PullResponse};
use outpost_store::{DbKey, Store};
use outpost_synth::{departments, tickets_with_entries, SynthConfig};

const PAGE: usize = 1_000;

/// The mixed Chinese / English queries of `benches/cache.rs`.
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

fn config() -> SynthConfig {
    SynthConfig {
        tickets: env_usize("OUTPOST_BENCH_TICKETS", 100_000),
        entries: env_usize("OUTPOST_BENCH_ENTRIES", 300_000),
        ..SynthConfig::default()
    }
}

/// CPU time of this process so far (user + system, all threads), from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may contain spaces).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; USER_HZ is
    // 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The server sends a ticket at the sequence number of its latest change, and each entry at its
/// own: entries of a ticket that changed later arrive pages before the ticket. Ordering every
/// change by the time it happened reproduces that.
fn generate(dir: &Path) {
    let cfg = config();
    let started = Instant::now();
    let stream = tickets_with_entries(&cfg);
    let mut changes: Vec<(DateTime<Utc>, usize, ChangeKind)> = Vec::new();
    for d in departments() {
        changes.push((
            DateTime::<Utc>::MIN_UTC,
            changes.len(),
            ChangeKind::Department(d),
        ));
    }
    for u in stream.users().to_vec() {
        changes.push((DateTime::<Utc>::MIN_UTC, changes.len(), ChangeKind::User(u)));
    }
    for (ticket, entries) in stream {
        let mut last = ticket.updated_at;
        for entry in entries {
            last = last.max(entry.created_at);
            changes.push((
                entry.created_at,
                changes.len(),
                ChangeKind::Entry(Box::new(entry)),
            ));
        }
        changes.push((last, changes.len(), ChangeKind::Ticket(Box::new(ticket))));
    }
    changes.sort_by_key(|(at, order, _)| (*at, *order));
    let total = changes.len();
    let mut out = BufWriter::new(std::fs::File::create(dir.join("pages.jsonl")).unwrap());
    let mut seq = 0u64;
    let mut iter = changes.into_iter().peekable();
    let mut pages = 0;
    while iter.peek().is_some() {
        let page: Vec<Change> = iter
            .by_ref()
            .take(PAGE)
            .map(|(_, _, kind)| {
                seq += 1;
                Change { seq, kind }
            })
            .collect();
        let response = PullResponse {
            changes: page,
            cursor: seq,
            has_more: iter.peek().is_some(),
            last_mutation_id: 0,
            reset_required: false,
        };
        serde_json::to_writer(&mut out, &response).unwrap();
        out.write_all(b"\n").unwrap();
        pages += 1;
    }
    out.flush().unwrap();
    println!(
        "wrote {pages} pages, {total} changes in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn open(dir: &Path) -> Store {
    let path = dir.join("cache.db");
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(dir.join("cache.db-wal"));
    let _ = std::fs::remove_file(dir.join("cache.db-shm"));
    Store::open(&path, &DbKey::from_bytes([0x5A; 32])).expect("open cache")
}

fn report(
    store: &Store,
    dir: &Path,
    label: &str,
    store_time: Duration,
    store_cpu: f64,
    extra: &str,
) {
    store.checkpoint().unwrap();
    let size = std::fs::metadata(dir.join("cache.db")).map_or(0, |m| m.len());
    let hits = store.search("退款", 50).unwrap().len();
    // Search right after the load: the same mixed queries as the cache benchmark.
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..20 {
        for q in QUERIES {
            let t = Instant::now();
            store.search(q, 50).unwrap();
            times.push(t.elapsed());
        }
    }
    times.sort_unstable();
    let p95 = times[times.len() * 95 / 100].as_secs_f64() * 1e3;
    println!(
        "{label}: {} tickets, store {:.2} s (CPU {store_cpu:.2} s){extra}, peak RSS {:.0} MiB, \
         {:.0} MiB on disk, search 退款 → {hits} hits, search p95 {p95:.2} ms",
        store.ticket_count().unwrap(),
        store_time.as_secs_f64(),
        peak_rss_mib(),
        size as f64 / 1_048_576.0,
    );
}

fn pull(dir: &Path, pages_per_tx: usize, incremental: bool) {
    let cfg = config();
    let mut store = open(dir);
    if incremental {
        // One ticket already in the cache: the incremental path, page by page.
        let (ticket, _) = tickets_with_entries(&SynthConfig {
            tickets: 1,
            entries: 1,
            seed: 7,
            ..config()
        })
        .next()
        .unwrap();
        let mut ticket = ticket;
        ticket.id = uuid::Uuid::from_u128(1);
        store
            .apply_remote(
                &[Change {
                    seq: 0,
                    kind: ChangeKind::Ticket(Box::new(ticket)),
                }],
                cfg.now,
            )
            .unwrap();
    }
    let file = BufReader::new(std::fs::File::open(dir.join("pages.jsonl")).unwrap());
    let (mut decode, mut apply) = (Duration::ZERO, Duration::ZERO);
    let mut apply_cpu = 0.0;
    let started = Instant::now();
    let mut group = Vec::with_capacity(pages_per_tx);
    let mut lines = file.lines().peekable();
    while let Some(line) = lines.next() {
        let line = line.unwrap();
        let t = Instant::now();
        group.push(serde_json::from_str::<PullResponse>(&line).unwrap());
        decode += t.elapsed();
        if group.len() >= pages_per_tx || lines.peek().is_none() {
            let (t, cpu) = (Instant::now(), cpu_seconds());
            store.apply_pull_pages(&group, cfg.now).unwrap();
            apply += t.elapsed();
            apply_cpu += cpu_seconds() - cpu;
            group.clear();
        }
    }
    let total = started.elapsed();
    report(
        &store,
        dir,
        &format!(
            "apply_pull_pages, {pages_per_tx} pages per transaction{}",
            if incremental {
                ", incremental path"
            } else {
                ""
            }
        ),
        apply,
        apply_cpu,
        &format!(
            " + JSON decode {:.2} s (wall {:.2} s incl. file reads)",
            decode.as_secs_f64(),
            total.as_secs_f64()
        ),
    );
}

fn import(dir: &Path) {
    let cfg = config();
    let mut store = open(dir);
    // Generate first, so only the store is timed.
    let data: Vec<_> = tickets_with_entries(&cfg).collect();
    let (t, cpu) = (Instant::now(), cpu_seconds());
    store.import_tickets(data, 2_000, cfg.now).unwrap();
    let (wall, cpu) = (t.elapsed(), cpu_seconds() - cpu);
    report(
        &store,
        dir,
        "import_tickets, 2 000 per transaction",
        wall,
        cpu,
        "",
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = Path::new(args.get(1).map_or(".", String::as_str));
    match args.first().map(String::as_str) {
        Some("gen") => generate(dir),
        Some("pull") => {
            let per_tx = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10);
            pull(dir, per_tx, args.iter().any(|a| a == "--incremental"));
        }
        Some("import") => import(dir),
        _ => eprintln!("usage: initial_sync gen|pull|import <dir> [pages-per-tx] [--incremental]"),
    }
}
