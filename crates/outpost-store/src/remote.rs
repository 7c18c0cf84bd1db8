//! Server truth arriving in the cache outside the pull protocol: snapshot imports (demo data,
//! tests, benchmarks) and SLA settings. Pull pages, confirmations and the rebase of queued
//! local mutations are in `sync.rs`.
//!
//! These writes bypass the outbox and the local audit chain: they are not the agent's changes.

use chrono::{DateTime, Utc};
use outpost_core::model::{Entry, Ticket};
use outpost_core::sla::SlaSettings;
use outpost_core::sync::{Change, ChangeKind};
use rusqlite::params;

use crate::{bulk, corrupt, Result, Store};

impl Store {
    /// Loads tickets with their timelines (an initial sync, demo or test data) in transactions
    /// of `batch` tickets. Into a cache without server rows this is a bulk load: indexes and
    /// search documents are built once at the end. Returns how many tickets were loaded.
    pub fn import_tickets(
        &mut self,
        tickets: impl IntoIterator<Item = (Ticket, Vec<Entry>)>,
        batch: usize,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut tickets = tickets.into_iter().peekable();
        let bulk_load = tickets.peek().is_some()
            && !bulk::active(&self.conn)?
            && bulk::cache_has_no_truth(&self.conn)?;
        let mut count = 0u64;
        let mut first = true;
        while tickets.peek().is_some() {
            let mut page = Vec::new();
            for (ticket, entries) in tickets.by_ref().take(batch.max(1)) {
                page.push(Change {
                    seq: 0,
                    kind: ChangeKind::Ticket(Box::new(ticket)),
                });
                page.extend(entries.into_iter().map(|e| Change {
                    seq: 0,
                    kind: ChangeKind::Entry(Box::new(e)),
                }));
                count += 1;
            }
            let last = tickets.peek().is_none();
            self.write_remote(&page, now, bulk_load && first, bulk_load && last)?;
            first = false;
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
            .prepare("SELECT rowid, doc FROM ticket_docs")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut update = tx.prepare(
            "UPDATE tickets SET sla_due_at = ?2, sla_warn_at = ?3, revisit_due_at = ?4
             WHERE rowid = ?1",
        )?;
        for (rowid, doc) in docs {
            let ticket = serde_json::from_str(&doc).map_err(corrupt)?;
            let report = settings.evaluate(&ticket, now);
            let (due, warn) = crate::tickets::deadlines_of(&report, &ticket);
            let revisit = crate::tickets::revisit_due(&report);
            update.execute(params![rowid, due, warn, revisit])?;
            // Clock outcomes follow the policies: the report facts are rewritten too.
            crate::tickets::write_facts(&tx, rowid, &ticket, &report)?;
        }
        drop(update);
        tx.commit()?;
        self.sla = settings;
        Ok(())
    }
}
