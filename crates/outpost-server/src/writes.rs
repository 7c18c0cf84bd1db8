//! Write transactions ([`WriteTx`], begun by `Db::begin_write`) and what they buffer. The
//! counters a transaction advances are cached in it and written back once at commit. Ticket
//! rows, timeline entries, revocations and audit events are kept in memory while a transaction
//! decides, and written at commit with one multi-row statement per table (per chunk). A group of pushes therefore costs a handful of statements
//! instead of several per mutation, which matters most where every statement is a network round
//! trip (PostgreSQL).
//!
//! Invariant: reads of tickets, entries or audit rows inside a write transaction go through this
//! module ([`load_ticket`], [`load_timeline`]) or call [`flush`] first, so they always see the
//! transaction's own buffered writes.

use std::collections::HashMap;

use outpost_core::audit::ChainedEvent;
use outpost_core::model::{Entry, Ticket};
use sqlx::Row;
use uuid::Uuid;

type SqlTx = sqlx::Transaction<'static, sqlx::Any>;

/// The counters every write may advance. They are read (and on PostgreSQL row-locked) once per
/// transaction, advanced in memory, and written back in one statement at commit.
const COUNTERS: [&str; 3] = ["change_seq", "ticket_key", "audit_seq"];

/// The position of a counter in [`COUNTERS`]; counter names are compile-time constants.
fn counter_index(counter: &str) -> usize {
    COUNTERS
        .iter()
        .position(|c| *c == counter)
        .unwrap_or_else(|| panic!("unknown counter {counter}"))
}

/// A write transaction, holding the SQLite writer slot until it commits or drops.
///
/// Counters and the audit chain head are cached here for the transaction's lifetime: the first
/// use locks the counter rows (PostgreSQL keeps the locks until commit, so sequence numbers are
/// handed out in commit order and a pull cursor never skips a change that commits late), every
/// further use is in memory. A group of pushes sharing one transaction therefore pays for the
/// counters and the chain head once.
pub struct WriteTx {
    tx: SqlTx,
    _slot: Option<tokio::sync::OwnedMutexGuard<()>>,
    counters: Option<[i64; 3]>,
    dirty: bool,
    pub(crate) audit_head: Option<outpost_core::audit::ChainHead>,
    pub(crate) buffer: Buffer,
    /// Set when this transaction redacted an entry (see `Db::erase_freed`).
    pub(crate) redacted: bool,
}

impl WriteTx {
    pub(crate) fn new(tx: SqlTx, slot: Option<tokio::sync::OwnedMutexGuard<()>>) -> WriteTx {
        WriteTx {
            tx,
            _slot: slot,
            counters: None,
            dirty: false,
            audit_head: None,
            buffer: Buffer::default(),
            redacted: false,
        }
    }

    async fn counters(&mut self) -> sqlx::Result<&mut [i64; 3]> {
        if self.counters.is_none() {
            // `SET value = value` takes the row locks on PostgreSQL; SQLite already holds the
            // database write lock (BEGIN IMMEDIATE).
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "UPDATE counters SET value = value WHERE name IN ('change_seq', 'ticket_key', 'audit_seq') RETURNING name, value",
            )
            .fetch_all(&mut *self.tx)
            .await?;
            let mut values = [0i64; 3];
            for (index, name) in COUNTERS.iter().enumerate() {
                values[index] = rows
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| *v)
                    .ok_or_else(|| sqlx::Error::RowNotFound)?;
            }
            self.counters = Some(values);
        }
        Ok(self.counters.as_mut().expect("loaded above"))
    }

    /// Takes the write lock now: the counter rows on PostgreSQL (SQLite's `BEGIN IMMEDIATE`
    /// holds the database's already). Called by `Db::begin_write`, so that nothing a write
    /// transaction reads can be changed by another writer before it commits.
    pub(crate) async fn lock(&mut self) -> sqlx::Result<()> {
        self.counters().await.map(|_| ())
    }

    /// Reserves `n` consecutive values of a counter; returns the first.
    pub async fn next_block(&mut self, counter: &str, n: i64) -> sqlx::Result<i64> {
        let index = counter_index(counter);
        let values = self.counters().await?;
        values[index] += n;
        let last = values[index];
        self.dirty = true;
        Ok(last - n + 1)
    }

    /// Raises a counter to at least `value` (never lowers it).
    pub async fn raise(&mut self, counter: &str, value: i64) -> sqlx::Result<()> {
        let index = counter_index(counter);
        let values = self.counters().await?;
        if values[index] < value {
            values[index] = value;
            self.dirty = true;
        }
        Ok(())
    }

    /// Takes the next value of a counter.
    pub async fn next(&mut self, counter: &str) -> sqlx::Result<i64> {
        self.next_block(counter, 1).await
    }

    /// Writes the buffered rows (see the module documentation) and the counters, then commits.
    pub async fn commit(mut self) -> anyhow::Result<()> {
        flush(&mut self).await?;
        if let (true, Some([change, key, audit])) = (self.dirty, self.counters) {
            sqlx::query(
                "UPDATE counters SET value = CASE name WHEN 'change_seq' THEN $1 WHEN 'ticket_key' THEN $2 ELSE $3 END
                 WHERE name IN ('change_seq', 'ticket_key', 'audit_seq')",
            )
            .bind(change)
            .bind(key)
            .bind(audit)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(self.tx.commit().await?)
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// A ticket as this transaction knows it: loaded (clean) or written (dirty).
#[derive(Clone)]
pub(crate) struct CachedTicket {
    ticket: Ticket,
    /// The revision at which the description last changed (long-text conflicts).
    description_rev: i64,
    /// `Some(seq)` when this transaction wrote the ticket and has not flushed it yet.
    dirty_seq: Option<i64>,
}

#[derive(Default)]
pub(crate) struct Buffer {
    /// Every ticket this transaction loaded or wrote; `None` remembers "does not exist".
    tickets: HashMap<Uuid, Option<CachedTicket>>,
    entries: Vec<(Entry, i64)>,
    /// Entries that overwrite a stored entry with the same id (redaction), with their new seq.
    replaced: Vec<(Entry, i64)>,
    revocations: Vec<(i64, Uuid, String)>,
    /// Sealed events with the department of their ticket (the `audit.department` column).
    pub(crate) audit: Vec<(ChainedEvent, Option<String>)>,
}

impl Buffer {
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
            && self.replaced.is_empty()
            && self.revocations.is_empty()
            && self.audit.is_empty()
            && !self
                .tickets
                .values()
                .flatten()
                .any(|t| t.dirty_seq.is_some())
    }
}

fn decode_cached(doc: &str, description_rev: i64) -> anyhow::Result<CachedTicket> {
    Ok(CachedTicket {
        ticket: serde_json::from_str(doc)?,
        description_rev,
        dirty_seq: None,
    })
}

/// Loads the tickets `ids` into the transaction's cache with one query per chunk.
pub(crate) async fn prefetch_tickets(tx: &mut WriteTx, ids: &[Uuid]) -> anyhow::Result<()> {
    let mut missing: Vec<String> = ids
        .iter()
        .filter(|id| !tx.buffer.tickets.contains_key(id))
        .map(Uuid::to_string)
        .collect();
    missing.sort_unstable();
    missing.dedup();
    for chunk in missing.chunks(500) {
        let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, doc, COALESCE(description_rev, 0) AS description_rev FROM tickets WHERE id IN ({})",
            list.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&mut **tx).await?;
        for id in chunk {
            tx.buffer.tickets.insert(id.parse()?, None);
        }
        for row in rows {
            let id: String = row.try_get("id")?;
            let cached = decode_cached(
                &row.try_get::<String, _>("doc")?,
                row.try_get("description_rev")?,
            )?;
            tx.buffer.tickets.insert(id.parse()?, Some(cached));
        }
    }
    Ok(())
}

/// The ticket as of this transaction (its own writes included).
pub(crate) async fn load_ticket(tx: &mut WriteTx, id: Uuid) -> anyhow::Result<Option<Ticket>> {
    Ok(load_cached(tx, id).await?.map(|c| c.ticket))
}

/// The revision at which the ticket's description last changed, as of this transaction.
pub(crate) async fn description_rev(tx: &mut WriteTx, id: Uuid) -> anyhow::Result<i64> {
    Ok(load_cached(tx, id).await?.map_or(0, |c| c.description_rev))
}

async fn load_cached(tx: &mut WriteTx, id: Uuid) -> anyhow::Result<Option<CachedTicket>> {
    if !tx.buffer.tickets.contains_key(&id) {
        prefetch_tickets(tx, &[id]).await?;
    }
    Ok(tx.buffer.tickets.get(&id).cloned().flatten())
}

/// The ticket's timeline as of this transaction.
pub(crate) async fn load_timeline(tx: &mut WriteTx, id: Uuid) -> anyhow::Result<Vec<Entry>> {
    flush(tx).await?;
    let docs: Vec<String> =
        sqlx::query_scalar("SELECT doc FROM entries WHERE ticket_id = $1 ORDER BY seq")
            .bind(id.to_string())
            .fetch_all(&mut **tx)
            .await?;
    docs.iter().map(|d| Ok(serde_json::from_str(d)?)).collect()
}

/// Inserts or updates a ticket row with its derived columns at `seq`. `description_changed`
/// moves the revision at which the description last changed (for long-text conflicts).
pub(crate) async fn write_ticket_row(
    tx: &mut WriteTx,
    ticket: &Ticket,
    seq: i64,
    description_changed: bool,
) -> anyhow::Result<()> {
    let description_rev = if description_changed {
        ticket.revision as i64
    } else {
        description_rev(tx, ticket.id).await?
    };
    tx.buffer.tickets.insert(
        ticket.id,
        Some(CachedTicket {
            ticket: ticket.clone(),
            description_rev,
            dirty_seq: Some(seq),
        }),
    );
    Ok(())
}

/// Inserts a timeline entry once (a retried change never duplicates it).
pub(crate) fn write_entry(tx: &mut WriteTx, entry: &Entry, seq: i64) {
    tx.buffer.entries.push((entry.clone(), seq));
}

/// Overwrites a stored timeline entry (same id) with `entry` at a new `seq`, so every client
/// pulls the new version. Only redaction uses this: entries are otherwise written once.
pub(crate) fn replace_entry(tx: &mut WriteTx, entry: &Entry, seq: i64) {
    tx.redacted = true;
    tx.buffer.replaced.push((entry.clone(), seq));
}

/// Records that a ticket left `department` at `seq`.
pub(crate) fn write_revocation(tx: &mut WriteTx, seq: i64, ticket: Uuid, department: String) {
    tx.buffer.revocations.push((seq, ticket, department));
}

/// `($1, $2, …), ($n+1, …)` for `rows` rows of `columns` placeholders.
fn values(rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for column in 0..columns {
            if column > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(row * columns + column + 1).to_string());
        }
        out.push(')');
    }
    out
}

/// Rows per statement: stays below SQLite's and PostgreSQL's bound-parameter limits.
const CHUNK: usize = 400;

/// Inserts sealed audit events with their department, in statements of [`CHUNK`] rows. The one
/// place that writes audit rows (the server's transactions; benchmarks and tamper tests that
/// build long chains call it through `audit::insert_rows`).
pub(crate) async fn insert_audit(
    conn: &mut sqlx::AnyConnection,
    audit: &[(ChainedEvent, Option<String>)],
) -> anyhow::Result<()> {
    for chunk in audit.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO audit (seq, at, actor, device, address, action, ticket_id, before_hash, after_hash, detail, prev_hash, hash, department)
             VALUES {}",
            values(chunk.len(), 13)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (chained, department) in chunk {
            let e = &chained.event;
            query = query
                .bind(e.seq as i64)
                .bind(e.at.timestamp_micros())
                .bind(e.actor.clone())
                .bind(e.device.clone())
                .bind(e.address.clone())
                .bind(e.action.clone())
                .bind(e.ticket_id.map(|t| t.to_string()))
                .bind(e.before.map(|h| h.to_hex()))
                .bind(e.after.map(|h| h.to_hex()))
                .bind(e.detail.clone())
                .bind(chained.prev_hash.to_hex())
                .bind(chained.hash.to_hex())
                .bind(department.clone());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes everything buffered. Called by `WriteTx::commit` and before raw reads.
pub(crate) async fn flush(tx: &mut WriteTx) -> anyhow::Result<()> {
    if tx.buffer.is_empty() {
        return Ok(());
    }
    let mut tickets: Vec<(i64, CachedTicket)> = Vec::new();
    for cached in tx.buffer.tickets.values_mut().flatten() {
        if let Some(seq) = cached.dirty_seq.take() {
            tickets.push((seq, cached.clone()));
        }
    }
    tickets.sort_by_key(|(seq, _)| *seq);
    let entries = std::mem::take(&mut tx.buffer.entries);
    let replaced = std::mem::take(&mut tx.buffer.replaced);
    let revocations = std::mem::take(&mut tx.buffer.revocations);
    let audit = std::mem::take(&mut tx.buffer.audit);

    for chunk in tickets.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO tickets (id, key, department, assignee, seq, doc, status, priority, description_rev)
             VALUES {}
             ON CONFLICT (id) DO UPDATE SET key = excluded.key, department = excluded.department,
                 assignee = excluded.assignee, seq = excluded.seq, doc = excluded.doc,
                 status = excluded.status, priority = excluded.priority,
                 description_rev = excluded.description_rev",
            values(chunk.len(), 9)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (seq, cached) in chunk {
            let t = &cached.ticket;
            query = query
                .bind(t.id.to_string())
                .bind(t.key.clone())
                .bind(t.department.clone())
                .bind(t.assignee.map(|a| a.to_string()))
                .bind(*seq)
                .bind(serde_json::to_string(t)?)
                .bind(t.status.as_str())
                .bind(t.priority.as_str())
                .bind(cached.description_rev);
        }
        query.execute(&mut **tx).await?;
    }
    // A retried change may carry an entry id twice; the first one wins, as it would row by row.
    let mut seen = std::collections::HashSet::new();
    let entries: Vec<(Entry, i64)> = entries
        .into_iter()
        .filter(|(e, _)| seen.insert(e.id))
        .collect();
    for chunk in entries.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO entries (id, ticket_id, seq, doc) VALUES {} ON CONFLICT (id) DO NOTHING",
            values(chunk.len(), 4)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (entry, seq) in chunk {
            query = query
                .bind(entry.id.to_string())
                .bind(entry.ticket_id.to_string())
                .bind(*seq)
                .bind(serde_json::to_string(entry)?);
        }
        query.execute(&mut **tx).await?;
    }
    // After the inserts, so an entry written and redacted in one transaction ends up redacted.
    for (entry, seq) in &replaced {
        sqlx::query(
            "INSERT INTO entries (id, ticket_id, seq, doc) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, doc = excluded.doc",
        )
        .bind(entry.id.to_string())
        .bind(entry.ticket_id.to_string())
        .bind(*seq)
        .bind(serde_json::to_string(entry)?)
        .execute(&mut **tx)
        .await?;
    }
    for chunk in revocations.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO revocations (seq, ticket_id, department) VALUES {}",
            values(chunk.len(), 3)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (seq, ticket, department) in chunk {
            query = query
                .bind(*seq)
                .bind(ticket.to_string())
                .bind(department.clone());
        }
        query.execute(&mut **tx).await?;
    }
    insert_audit(tx, &audit).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_rows_in_order() {
        assert_eq!(super::values(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
