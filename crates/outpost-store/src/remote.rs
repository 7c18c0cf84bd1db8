//! Server truth arriving in the cache (pull pages, the initial sync, demo data).
//!
//! These writes bypass the outbox and the local audit chain: they are not the agent's changes.
//! Re-applying still-pending local mutations on top (rebase) is the sync engine's job.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use outpost_core::model::{Entry, Ticket};
use outpost_core::sla::SlaSettings;
use outpost_core::sync::{Change, ChangeKind};
use rusqlite::params;

use crate::tickets::{purge, reindex, ticket_rowid, upsert_entry, upsert_ticket};
use crate::{corrupt, Result, Store, StoreError};

impl Store {
    /// Applies a page of server changes in one transaction. `now` is used for SLA deadlines.
    pub fn apply_remote(&mut self, changes: &[Change], now: DateTime<Utc>) -> Result<()> {
        let tx = self.conn.transaction()?;
        let mut dirty = BTreeSet::new();
        for change in changes {
            match &change.kind {
                ChangeKind::Ticket(ticket) => {
                    dirty.insert(upsert_ticket(&tx, &self.sla, ticket, now, 0)?);
                }
                ChangeKind::Entry(entry) => {
                    let rowid = ticket_rowid(&tx, entry.ticket_id)?
                        .ok_or(StoreError::TicketNotFound(entry.ticket_id))?;
                    upsert_entry(&tx, rowid, entry, false)?;
                    if entry.body.searchable_text().is_some() {
                        dirty.insert(rowid);
                    }
                }
                ChangeKind::Revoke { ticket_id } => {
                    purge(&tx, *ticket_id)?;
                }
                ChangeKind::Department(d) => {
                    tx.prepare_cached(
                        "INSERT INTO departments (code, doc) VALUES (?1, ?2)
                         ON CONFLICT(code) DO UPDATE SET doc = ?2",
                    )?
                    .execute(params![d.code, serde_json::to_string(d).map_err(corrupt)?])?;
                }
                ChangeKind::User(u) => {
                    tx.prepare_cached(
                        "INSERT INTO users (id, doc) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET doc = ?2",
                    )?
                    .execute(params![u.id.as_bytes(), serde_json::to_string(u).map_err(corrupt)?])?;
                }
                ChangeKind::Template(t) => {
                    tx.prepare_cached(
                        "INSERT INTO templates (id, language, doc) VALUES (?1, ?2, ?3)
                         ON CONFLICT(id) DO UPDATE SET language = ?2, doc = ?3",
                    )?
                    .execute(params![
                        t.id.as_bytes(),
                        t.language,
                        serde_json::to_string(t).map_err(corrupt)?
                    ])?;
                }
            }
        }
        for rowid in dirty {
            // A revoked ticket may have been marked dirty earlier in the same page.
            let exists: bool = tx
                .prepare_cached("SELECT EXISTS(SELECT 1 FROM tickets WHERE rowid = ?1)")?
                .query_row([rowid], |r| r.get(0))?;
            if exists {
                reindex(&tx, rowid)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Loads tickets with their timelines (an initial sync, demo or test data) in transactions
    /// of `batch` tickets. Returns how many tickets were loaded.
    pub fn import_tickets(
        &mut self,
        tickets: impl IntoIterator<Item = (Ticket, Vec<Entry>)>,
        batch: usize,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut page = Vec::new();
        let mut count = 0u64;
        let mut in_page = 0;
        for (ticket, entries) in tickets {
            page.push(Change {
                seq: 0,
                kind: ChangeKind::Ticket(Box::new(ticket)),
            });
            page.extend(entries.into_iter().map(|e| Change {
                seq: 0,
                kind: ChangeKind::Entry(Box::new(e)),
            }));
            in_page += 1;
            count += 1;
            if in_page >= batch.max(1) {
                self.apply_remote(&page, now)?;
                page.clear();
                in_page = 0;
            }
        }
        if !page.is_empty() {
            self.apply_remote(&page, now)?;
        }
        Ok(count)
    }

    /// Replaces the SLA settings and recomputes every ticket's deadline columns.
    pub fn set_sla_settings(&mut self, settings: SlaSettings, now: DateTime<Utc>) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO sla_settings (id, doc) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET doc = ?1",
            [serde_json::to_string(&settings).map_err(corrupt)?],
        )?;
        let docs: Vec<(i64, String)> = tx
            .prepare("SELECT rowid, doc FROM tickets")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut update =
            tx.prepare("UPDATE tickets SET sla_due_at = ?2, sla_warn_at = ?3 WHERE rowid = ?1")?;
        for (rowid, doc) in docs {
            let ticket = serde_json::from_str(&doc).map_err(corrupt)?;
            let (due, warn) = crate::tickets::deadline_columns(&settings, &ticket, now);
            update.execute(params![rowid, due, warn])?;
        }
        drop(update);
        tx.commit()?;
        self.sla = settings;
        Ok(())
    }
}
