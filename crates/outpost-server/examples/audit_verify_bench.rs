//! Verifying the server's audit chain where it is stored: 1 000 000 events in a SQLite database,
//! read page by page and recomputed by `outpost_server::audit::verify` (what `outpost-server
//! audit verify` runs). Baseline in the same run: reading the same pages without decoding or
//! hashing (the storage floor). `OUTPOST_BENCH_EVENTS` changes the count.
//!
//! `cargo run --release -p outpost-server --example audit_verify_bench`

use std::time::Instant;

use chrono::{TimeZone, Utc};
use outpost_core::audit::{AuditEvent, ChainHead, Hash32};
use outpost_server::db::Db;
use uuid::Uuid;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let events: u64 = std::env::var("OUTPOST_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    // `OUTPOST_BENCH_DB=<file>` keeps the database between runs (written once, when missing).
    let file = std::env::var_os("OUTPOST_BENCH_DB")
        .map_or_else(|| dir.path().join("outpost.db"), std::path::PathBuf::from);
    let reuse = file.exists();
    let url = format!("sqlite://{}", file.display());
    let db = Db::connect(&url).await?;

    let started = Instant::now();
    let mut head = ChainHead::default();
    let mut i = if reuse { events } else { 0 };
    if reuse {
        head = outpost_server::audit::head(&db.pool).await?;
    }
    while i < events {
        let mut tx = db.pool.begin().await?;
        let batch = 400.min(events - i);
        let mut rows = Vec::with_capacity(batch as usize);
        for n in 0..batch {
            let k = i + n;
            let chained = head.append(AuditEvent {
                seq: 0,
                at: Utc.timestamp_opt(1_790_000_000 + k as i64, 0).unwrap(),
                actor: Uuid::from_u128(u128::from(k % 40)).to_string(),
                device: Some(Uuid::from_u128(u128::from(k % 7)).to_string()),
                address: Some("127.0.0.1".into()),
                action: "ticket.set_status".into(),
                ticket_id: Some(Uuid::from_u128(u128::from(k / 3))),
                before: Some(Hash32::digest(&k.to_be_bytes())),
                after: Some(Hash32::digest(&(k + 1).to_be_bytes())),
                detail: format!(
                    r#"{{"mutation_id":{k},"revision":3,"department":"support","changes":[{{"type":"status_changed","from":"new","to":"in_progress","reason":null}}]}}"#
                ),
            });
            rows.push((chained, Some("support".to_string())));
        }
        outpost_server::audit::insert_rows(&mut tx, &rows).await?;
        tx.commit().await?;
        i += batch;
    }
    sqlx::query("UPDATE counters SET value = $1 WHERE name = 'audit_seq'")
        .bind(events as i64)
        .execute(&db.pool)
        .await?;
    let inserted: i64 = sqlx::query_scalar("SELECT count(*) FROM audit")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(
        inserted as u64, events,
        "the counter row exists and every event was written"
    );
    println!(
        "wrote {events} chained events in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Eleven verifications in a row (the first reads the file into the OS cache if it is not
    // there), then the baseline twice: the same pages read through the sqlx pool without
    // decoding or hashing.
    let mut times = Vec::new();
    for run in 1..=11 {
        let started = Instant::now();
        let verified = outpost_server::audit::verify(&db.pool)
            .await?
            .map_err(|b| anyhow::anyhow!("{b}"))?;
        let took = started.elapsed().as_secs_f64();
        assert_eq!(verified.count, events);
        assert_eq!(verified.head, head);
        println!("run {run}: audit::verify {took:.3} s");
        if run > 1 {
            times.push(took);
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    println!(
        "audit::verify of {events} events, runs 2-11: min {:.3} s, p50 {:.3} s, p90 {:.3} s, max {:.3} s ({:.2} M events/s at p50)",
        at(0.0),
        at(0.5),
        at(0.9),
        at(1.0),
        events as f64 / at(0.5) / 1e6
    );
    // `OUTPOST_BENCH_VERIFY_ONLY=1`: skip the baseline (for profiling the verifier).
    if std::env::var_os("OUTPOST_BENCH_VERIFY_ONLY").is_some() {
        return Ok(());
    }
    for run in 1..=2 {
        let started = Instant::now();
        let mut after = 0i64;
        let mut read = 0u64;
        loop {
            let rows = sqlx::query(
                "SELECT seq, at, actor, device, address, action, ticket_id, before_hash, after_hash, detail, prev_hash, hash, department
                 FROM audit WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 5000",
            )
            .bind(after)
            .bind(events as i64)
            .fetch_all(&db.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            read += rows.len() as u64;
            after += rows.len() as i64;
        }
        assert_eq!(read, events);
        println!(
            "baseline run {run}, the same pages read through the pool without decoding or hashing: {:.3} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
