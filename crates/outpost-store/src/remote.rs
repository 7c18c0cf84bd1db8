//! Server truth arriving in the cache outside the pull protocol: snapshot imports (demo data,
//! tests, benchmarks). Pull pages, confirmations and the rebase of queued local mutations are in
//! `sync.rs`; settings arrive in pull pages like everything else (`admin.rs`).
//!
//! These writes bypass the outbox and the local audit chain: they are not the agent's changes.

use chrono::{DateTime, Utc};
use outpost_core::model::{Entry, Ticket};
use outpost_core::sync::{Change, ChangeKind};

use crate::{bulk, Result, Store};

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
}
