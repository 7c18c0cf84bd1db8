//! The SLA monitor: every interval, evaluates the clocks of open tickets with the same engine
//! the clients use (`outpost_core::sla`) and the organisation's SLA settings as they are at that
//! moment (policies and business calendar, read each pass, so a changed calendar moves every
//! deadline at the next pass), and appends an at-risk or breached event to a ticket's timeline
//! the first time a clock reaches that state for a given deadline.
//!
//! The `sla_alerts` primary key makes each alert happen once even with several instances
//! scanning the same PostgreSQL database. Each alert is also an audit event (`sla.at_risk` /
//! `sla.breached`, actor `system`) in the same transaction, like every other timeline change.

use std::time::Duration;

use chrono::{DateTime, Utc};
use outpost_core::apply::derived_uuid_v7;
use outpost_core::model::{Entry, EntryBody, Ticket, TicketEvent};
use outpost_core::sla::{ClockState, SlaSettings};
use sqlx::Row;

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
    let mut alerts = Vec::new();
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
    if alerts.is_empty() {
        return Ok(0);
    }
    let mut tx = state.db.begin_write().await?;
    let mut emitted = 0;
    for (ticket_id, department, kind, clock_state, due_at, event) in alerts {
        let key = format!("{kind:?}/{clock_state:?}");
        let inserted = sqlx::query(
            "INSERT INTO sla_alerts (ticket_id, alert, due_at, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(ticket_id.to_string())
        .bind(&key)
        .bind(due_at.timestamp_millis())
        .bind(now.timestamp_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            continue;
        }
        // The id is derived from the alert itself, so two instances would mint the same one.
        let seed = format!("{ticket_id}/{key}/{}", due_at.timestamp_millis());
        let entry_id = derived_uuid_v7(now, seed.as_bytes());
        let audit = AuditEntry::sla_alert(
            ticket_id,
            department.as_deref(),
            clock_state == ClockState::Breached,
            entry_id,
            &event,
        );
        let entry = Entry {
            id: entry_id,
            ticket_id,
            author: None,
            body: EntryBody::Event { event },
            created_at: now,
        };
        let seq = next_block(&mut tx, "change_seq", 1).await?;
        crate::writes::write_entry(&mut tx, &entry, seq);
        // Stamped when the alert is written (`now` is the instant the clocks were evaluated at).
        audit.append(&mut tx).await?;
        emitted += 1;
    }
    tx.commit().await?;
    if emitted > 0 {
        state.notify_changed().await;
    }
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
