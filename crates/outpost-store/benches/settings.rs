//! A calendar change in a 100 000-ticket cache (target: ≤ 2 s): the time from a settings
//! document arriving (a pull page with the new SLA calendar, and an admin's local edit) to every
//! cached ticket's deadline columns and report facts being recomputed and committed. Encrypted
//! (SQLCipher) beside the plain-SQLite baseline built from the same data in the same run.
//!
//! A timed pass (`RUNS` changes per store, alternating between two calendars so each one moves
//! the deadlines) prints p50 and max; criterion then reports the mean of the pulled change.
//!
//! `OUTPOST_BENCH_TICKETS` / `OUTPOST_BENCH_ENTRIES` shrink the data set for a quick look.

use std::cell::Cell;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{NaiveTime, Utc};
use criterion::Criterion;
use outpost_core::model::Role;
use outpost_core::settings::{SettingsDoc, VersionedSettings};
use outpost_core::sla::{BusinessCalendar, SlaSettings};
use outpost_core::sync::{Change, ChangeKind, Mutation};
use outpost_store::{Actor, DbKey, Store};
use outpost_synth::{tickets_with_entries, SynthConfig};
use uuid::Uuid;

const RUNS: usize = 5;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn build(path: &Path, key: Option<&DbKey>, cfg: &SynthConfig) {
    let started = Instant::now();
    let mut store = match key {
        Some(key) => Store::open(path, key).expect("open encrypted cache"),
        None => Store::open_plaintext_for_baseline(path).expect("open plain cache"),
    };
    let n = store
        .import_tickets(tickets_with_entries(cfg), 2_000, cfg.now)
        .expect("import");
    store.checkpoint().expect("checkpoint");
    println!(
        "built {} cache: {n} tickets in {:.1} s",
        if key.is_some() {
            "SQLCipher"
        } else {
            "plain SQLite"
        },
        started.elapsed().as_secs_f64()
    );
}

/// The default policies on office hours in `tz`: switching between two zones moves every
/// business-hours deadline.
fn sla_in(tz: chrono_tz::Tz) -> SlaSettings {
    let mut sla = SlaSettings::defaults();
    sla.calendar = BusinessCalendar::weekdays(
        "Mon–Fri 09:00–18:00",
        tz,
        NaiveTime::from_hms_opt(9, 0, 0).expect("valid time"),
        NaiveTime::from_hms_opt(18, 0, 0).expect("valid time"),
    );
    sla
}

fn calendar(n: u64) -> SlaSettings {
    if n.is_multiple_of(2) {
        sla_in(chrono_tz::Europe::Lisbon)
    } else {
        sla_in(chrono_tz::Asia::Shanghai)
    }
}

/// A pulled SLA document at version `n`.
fn pulled(store: &mut Store, n: u64, now: chrono::DateTime<Utc>) {
    let doc = VersionedSettings {
        version: n,
        updated_by: None,
        updated_at: Some(now),
        settings: SettingsDoc::Sla(calendar(n)),
    };
    store
        .apply_remote(
            &[Change {
                seq: 0,
                kind: ChangeKind::Settings(doc),
            }],
            now,
        )
        .expect("apply the settings change");
}

/// An admin's local edit of the SLA document (queued in the outbox).
fn edited(store: &mut Store, n: u64, now: chrono::DateTime<Utc>) {
    let actor = Actor {
        user_id: Uuid::from_u128(1),
        device_id: Uuid::from_u128(2),
    };
    let base_version = store.org_settings().settings.sla.version;
    let mutation = Mutation::SetSettings {
        base_version,
        settings: SettingsDoc::Sla(calendar(n)),
    };
    store
        .apply_admin_local(&actor, Role::Admin, mutation, now)
        .expect("queue the settings edit");
}

fn main() {
    let cfg = SynthConfig {
        tickets: env_usize("OUTPOST_BENCH_TICKETS", 100_000),
        entries: env_usize("OUTPOST_BENCH_ENTRIES", 100_000),
        ..SynthConfig::default()
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let key = DbKey::from_bytes([0x5A; 32]);
    let (enc_path, plain_path) = (dir.path().join("sqlcipher.db"), dir.path().join("plain.db"));
    build(&enc_path, Some(&key), &cfg);
    build(&plain_path, None, &cfg);
    let mut encrypted = Store::open(&enc_path, &key).expect("reopen encrypted cache");
    let mut plain = Store::open_plaintext_for_baseline(&plain_path).expect("reopen plain cache");
    let now = cfg.now + chrono::Duration::hours(1);
    let version = Cell::new(0u64);
    let next = || {
        version.set(version.get() + 1);
        version.get()
    };

    println!(
        "\n{:<40} {:>10} {:>9} {:>9}",
        "calendar change (ms)", "store", "p50", "max"
    );
    type Step = fn(&mut Store, u64, chrono::DateTime<Utc>);
    let steps: [(&str, Step); 2] = [
        ("pulled_sla_change_recompute", pulled),
        ("local_sla_edit_recompute", edited),
    ];
    for (name, step) in steps {
        for (label, store) in [("sqlcipher", &mut encrypted), ("plain", &mut plain)] {
            let mut times: Vec<Duration> = (0..RUNS)
                .map(|_| {
                    let t = Instant::now();
                    step(store, next(), now);
                    t.elapsed()
                })
                .collect();
            times.sort_unstable();
            println!(
                "{:<40} {:>10} {:>9.0} {:>9.0}",
                name,
                label,
                times[times.len() / 2].as_secs_f64() * 1e3,
                times[times.len() - 1].as_secs_f64() * 1e3
            );
        }
    }
    println!();

    // The local edits above are queued: the pulled truth underneath them keeps the view on the
    // last edit, so criterion times only the pulled path, on fresh caches.
    drop((encrypted, plain));
    std::fs::remove_file(&enc_path).ok();
    std::fs::remove_file(&plain_path).ok();
    for suffix in ["-wal", "-shm"] {
        for path in [&enc_path, &plain_path] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            std::fs::remove_file(name).ok();
        }
    }
    build(&enc_path, Some(&key), &cfg);
    build(&plain_path, None, &cfg);
    let mut encrypted = Store::open(&enc_path, &key).expect("reopen encrypted cache");
    let mut plain = Store::open_plaintext_for_baseline(&plain_path).expect("reopen plain cache");
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let mut group = c.benchmark_group("pulled_sla_change_recompute");
    for (label, store) in [("sqlcipher", &mut encrypted), ("plain", &mut plain)] {
        group.bench_function(label, |b| b.iter(|| pulled(store, next(), now)));
    }
    group.finish();
    c.final_summary();
}
