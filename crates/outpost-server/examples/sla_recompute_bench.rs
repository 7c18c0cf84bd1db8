//! A calendar change on the server: how long the SLA monitor takes to recompute the deadlines of
//! 100 000 tickets with the organisation's new calendar (Shanghai office hours → Lisbon office
//! hours with a holiday). The tickets are the demo's synthetic set in a SQLite server database,
//! all reopened so that every clock runs (the worst case).
//!
//! Figures, each over every open ticket:
//! - read: the ticket documents read and decoded (the storage floor of a pass);
//! - recompute: read, decoded and every clock evaluated with the new settings (no writes);
//! - monitor pass: `sla_monitor::scan_with_org_settings` right after the change, which reads
//!   the settings, recomputes, and writes the at-risk and breached alerts the new deadlines
//!   cause (each once).
//!
//! `OUTPOST_BENCH_TICKETS` changes the count.
//!
//! `cargo run --release -p outpost-server --example sla_recompute_bench`

use std::time::Instant;

use outpost_core::model::Ticket;
use outpost_core::settings::SettingsDoc;
use outpost_core::sla::SlaSettings;
use outpost_core::sync::Mutation;
use outpost_server::config::Config;
use outpost_server::db::Db;
use outpost_server::secrets::MasterKey;
use outpost_server::{admin, settings, sla_monitor, AppState};
use sqlx::Row;

const OPEN: &str =
    "SELECT doc FROM tickets WHERE status IN ('new', 'triaged', 'assigned', 'in_progress', 'pending')";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let tickets: usize = std::env::var("OUTPOST_BENCH_TICKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("outpost.db").display());
    let db = Db::connect(&url).await?;
    let key = MasterKey::generate()?;
    admin::init(&db, &key, "Bench", "admin@bench.example", "Admin").await?;
    let loading = Instant::now();
    admin::demo(&db, tickets).await?;
    println!(
        "loaded {tickets} tickets in {:.1} s",
        loading.elapsed().as_secs_f64()
    );
    // The worst case: every ticket open with its clocks running (the synthetic history has
    // most tickets resolved, whose clocks are stopped and cost nothing to recompute).
    sqlx::query(
        "UPDATE tickets SET status = 'in_progress',
             doc = json_set(doc, '$.status', 'in_progress', '$.resolved_at', NULL, '$.closed_at', NULL)",
    )
    .execute(&db.pool)
    .await?;
    let state = AppState::new(db.clone(), Config::default(), key).await?;
    let now = outpost_server::db::now();
    // The monitor's first pass under the old calendar writes the alerts it finds, so the pass
    // after the change measures what the change itself causes.
    sla_monitor::scan_with_org_settings(&state, now).await?;

    // Lisbon office hours, Monday to Friday 09:00–18:00, closed on Christmas Day.
    let mut sla = serde_json::to_value(settings::load_from(&db.pool).await?.sla_settings())?;
    sla["calendar"]["name"] = "Lisboa".into();
    sla["calendar"]["tz"] = "Europe/Lisbon".into();
    sla["calendar"]["holidays"] = serde_json::json!([{ "date": "2026-12-25", "name": "Natal" }]);
    let sla: SlaSettings = serde_json::from_value(sla)?;
    let mut tx = db.begin_write().await?;
    let base_version = settings::load(&mut tx).await?.sla.version;
    settings::apply_as_server(
        &mut tx,
        "bench",
        &Mutation::SetSettings {
            base_version,
            settings: SettingsDoc::Sla(sla.clone()),
        },
    )
    .await?;
    tx.commit().await?;

    let started = Instant::now();
    let docs = read_open(&db).await?;
    let read = started.elapsed();
    let open = docs.len();

    let started = Instant::now();
    let docs = read_open(&db).await?;
    let mut running = 0usize;
    for ticket in &docs {
        running += sla
            .evaluate(ticket, now)
            .clocks
            .iter()
            .filter(|c| c.due_at.is_some())
            .count();
    }
    let recompute = started.elapsed();

    let started = Instant::now();
    let alerts = sla_monitor::scan_with_org_settings(&state, now).await?;
    let pass = started.elapsed();

    println!("{open} open tickets ({running} running clocks) after the calendar change:");
    println!(
        "  read and decode      {:>8.0} ms",
        read.as_secs_f64() * 1e3
    );
    println!(
        "  recompute deadlines  {:>8.0} ms",
        recompute.as_secs_f64() * 1e3
    );
    println!(
        "  monitor pass         {:>8.0} ms ({alerts} new alerts written)",
        pass.as_secs_f64() * 1e3
    );
    Ok(())
}

async fn read_open(db: &Db) -> anyhow::Result<Vec<Ticket>> {
    let rows = sqlx::query(OPEN).fetch_all(&db.pool).await?;
    rows.iter()
        .map(|row| Ok(serde_json::from_str(&row.try_get::<String, _>("doc")?)?))
        .collect()
}
