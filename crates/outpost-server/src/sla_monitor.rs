//! The SLA monitor: every interval, evaluates the clocks of open tickets with the same engine
//! the clients use (`outpost_core::sla`) and the organisation's SLA settings as they are at that
//! moment (policies and business calendar, read each pass, so a changed calendar moves every
//! deadline at the next pass), and appends an at-risk or breached event to a ticket's timeline
//! the first time a clock reaches that state for a given deadline.
//!
//! The `sla_alerts` primary key makes each alert happen once even with several instances
//! scanning the same PostgreSQL database. Each alert is also an audit event (`sla.at_risk` /
//! `sla.breached`, actor `system`) in the same transaction, like every other timeline change.
//! A pass finds out which of its alerts are new with multi-row inserts into `sla_alerts` (a
//! thousand rows each, not a statement per alert) and writes them in transactions of up to
//! 10 000 alerts, so a calendar change that puts tens of thousands of clocks at risk at once
//! neither costs a statement per alert nor holds the write lock for the whole pass.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use outpost_core::apply::derived_uuid_v7;
use outpost_core::model::{Entry, EntryBody, Ticket, TicketEvent};
use outpost_core::sla::{ClockKind, ClockState, SlaSettings};
use sqlx::Row;
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::db::next_block;
use crate::AppState;

/// Scans open tickets at `now`; returns how many alerts were emitted.
pub async fn scan(
    state: &AppState,
    settings: &SlaSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let rows = sqlx::query(
        "SELECT doc FROM tickets WHERE status IN ('new', 'triaged', 'assigned', 'in_progress', 'pending')",
    )
    .fetch_all(&state.db.pool)
    .await?;
    let mut alerts: Vec<Alert> = Vec::new();
    for row in rows {
        let ticket: Ticket = serde_json::from_str(&row.try_get::<String, _>("doc")?)?;
        for clock in settings.evaluate(&ticket, now).clocks {
            let Some(due_at) = clock.due_at else { continue };
            let event = match clock.state {
                ClockState::AtRisk => TicketEvent::SlaAtRisk {
                    clock: clock.kind,
                    due_at,
                },
                ClockState::Breached => TicketEvent::SlaBreached {
                    clock: clock.kind,
                    due_at,
                },
                _ => continue,
            };
            alerts.push((
                ticket.id,
                ticket.department.clone(),
                clock.kind,
                clock.state,
                due_at,
                event,
            ));
        }
    }
    let mut emitted = 0;
    for chunk in alerts.chunks(ALERTS_PER_TRANSACTION) {
        emitted += write_alerts(state, chunk, now).await?;
    }
    if emitted > 0 {
        state.notify_changed().await;
    }
    Ok(emitted)
}

/// Alerts per write transaction. Each alert touches the ticket-ordered indexes of
/// `sla_alerts`, `entries` and `audit` at random places, so small transactions would write the
/// same index pages again and again (and, on SQLite, checkpoint them after each commit); 10 000
/// keeps that to a handful of commits while a push still gets the write lock between them.
const ALERTS_PER_TRANSACTION: usize = 10_000;

/// Rows per `sla_alerts` insert: four parameters each, well under SQLite's and PostgreSQL's
/// limits.
const ROWS_PER_INSERT: usize = 1_000;

/// An alert found by a pass: the ticket, its department, the clock, its state and deadline, and
/// the timeline event that says so.
type Alert = (
    Uuid,
    Option<String>,
    ClockKind,
    ClockState,
    DateTime<Utc>,
    TicketEvent,
);

/// Writes the alerts of `chunk` that have not happened before (each with its timeline entry and
/// audit event) in one transaction; returns how many were new.
async fn write_alerts(
    state: &AppState,
    chunk: &[Alert],
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let key = |kind: ClockKind, clock_state: ClockState| format!("{kind:?}/{clock_state:?}");
    let mut tx = state.db.begin_write().await?;
    let mut new: HashSet<(String, String, i64)> = HashSet::new();
    for rows in chunk.chunks(ROWS_PER_INSERT) {
        let values: Vec<String> = (0..rows.len())
            .map(|i| {
                let p = 4 * i;
                format!("(${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4)
            })
            .collect();
        // Only placeholders are formatted into the statement; every value is bound.
        let sql = format!(
            "INSERT INTO sla_alerts (ticket_id, alert, due_at, created_at) VALUES {}
             ON CONFLICT DO NOTHING RETURNING ticket_id, alert, due_at",
            values.join(", ")
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (ticket_id, _, kind, clock_state, due_at, _) in rows {
            insert = insert
                .bind(ticket_id.to_string())
                .bind(key(*kind, *clock_state))
                .bind(due_at.timestamp_millis())
                .bind(now.timestamp_millis());
        }
        for row in insert.fetch_all(&mut *tx).await? {
            new.insert((
                row.try_get("ticket_id")?,
                row.try_get("alert")?,
                row.try_get("due_at")?,
            ));
        }
    }
    let mut emitted = 0;
    // In the pass's order; `remove` writes an alert listed twice once.
    for (ticket_id, department, kind, clock_state, due_at, event) in chunk {
        let key = key(*kind, *clock_state);
        if !new.remove(&(
            ticket_id.to_string(),
            key.clone(),
            due_at.timestamp_millis(),
        )) {
            continue;
        }
        // The id is derived from the alert itself, so two instances would mint the same one.
        let seed = format!("{ticket_id}/{key}/{}", due_at.timestamp_millis());
        let entry_id = derived_uuid_v7(now, seed.as_bytes());
        let audit = AuditEntry::sla_alert(
            *ticket_id,
            department.as_deref(),
            *clock_state == ClockState::Breached,
            entry_id,
            event,
        );
        let entry = Entry {
            id: entry_id,
            ticket_id: *ticket_id,
            author: None,
            body: EntryBody::Event {
                event: event.clone(),
            },
            created_at: now,
        };
        let seq = next_block(&mut tx, "change_seq", 1).await?;
        crate::writes::write_entry(&mut tx, &entry, seq);
        // Stamped when the alert is written (`now` is the instant the clocks were evaluated at).
        audit.append(&mut tx).await?;
        emitted += 1;
    }
    tx.commit().await?;
    Ok(emitted)
}

/// [`scan`] with the organisation's current SLA settings.
pub async fn scan_with_org_settings(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let settings = crate::settings_docs::load_from(&state.db.pool).await?;
    scan(state, settings.sla_settings(), now).await
}

/// Runs [`scan_with_org_settings`] every `interval` until the process ends.
pub fn spawn(state: AppState, interval: Duration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            let now = crate::db::now();
            match scan_with_org_settings(&state, now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(alerts = n, "SLA monitor emitted alerts"),
                Err(e) => {
                    tracing::warn!(error = %e, "SLA monitor scan failed; retrying next interval");
                }
            }
        }
    });
}
