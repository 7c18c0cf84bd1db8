//! Server truth and rebase: the store's half of the sync protocol.
//!
//! Invariants, per ticket T:
//! - **No outbox row for T**: T's `tickets` row (if any) *is* server truth, and there is no
//!   `server_tickets` row for T.
//! - **Outbox rows for T**: T's `tickets` row is *derived*: the truth in `server_tickets` (or
//!   nothing, when the server has not sent T) with T's outbox mutations re-applied in order by
//!   [`outpost_core::apply::apply`]. The truth copy is taken when T's first mutation is queued
//!   (the row is truth at that moment) and replaced by every pull that carries T.
//! - Optimistic entries are `entries.local = 1` and are rebuilt by every rebase. Server entries
//!   (`local = 0`) replace optimistic ones with the same id (replies carry the client's id,
//!   events an id derived from device and mutation id), so a confirmed change never shows twice.
//! - An outbox row is pushed until the server has processed it (`confirmed`). A confirmed row
//!   keeps shaping the view until truth shows its effect — the ticket's truth revision reaches
//!   the revision the server answered, or a pull that confirmed it has caught up — and is then
//!   deleted. So a change never flickers away between the push response and the next pull.
//! - A mutation that no longer applies on top of new truth stays queued: the server is the
//!   judge. The view skips it and `outbox.local_error` says why; if the server refuses it too,
//!   [`Store::record_push_results`] rolls it back and lists a [`SyncProblem`].
//! - A pull page (truth, confirmations, rebase, cursor) is one transaction: a crash cannot
//!   separate the rows from the cursor that covers them.
//!
//! Known limit: a refusal whose push answer was lost is not listed as a problem. The server does
//! not keep outcomes, so the retried push is answered `duplicate`; the mutation then leaves the
//! view when a pull confirms it, and the ticket shows the server's truth.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use outpost_core::apply::{apply, ApplyContext};
use outpost_core::model::{Entry, EntryBody, Ticket, TicketId, UserId};
use outpost_core::rules::VerificationPolicy;
use outpost_core::sla::SlaSettings;
use outpost_core::sync::{
    Change, ChangeKind, FieldConflict, Mutation, MutationEnvelope, MutationOutcome, MutationResult,
    PullResponse,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::columns::{from_millis, millis};
use crate::local::{apply_in, Actor, LocalChange};
use crate::state::cursor;
use crate::tickets::{
    delete_local_entries, drop_row, insert_local_entry, load_entries, purge, reindex, ticket_rowid,
    upsert_entry, upsert_ticket, UNREFERENCED_ATTACHMENT,
};
use crate::{admin, bulk, corrupt, state, Result, Store, StoreError};

/// What applying pull pages did, for the sync engine and the UI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PullApplied {
    /// The stored cursor after the pages: pass it to the next pull.
    pub cursor: u64,
    /// The server asked for a re-bootstrap: server rows were dropped (outbox and conflict records
    /// kept) and the cursor is 0. Pull again from zero.
    pub reset: bool,
    /// Tickets whose row was written, rebased or rolled back (not the revoked ones).
    pub changed: Vec<TicketId>,
    /// Tickets that left this user's view and were purged.
    pub revoked: Vec<TicketId>,
    /// Outbox mutations the pages confirmed as processed by the server (no longer pushed).
    pub confirmed: u64,
    /// Queued mutations that do not apply on top of the new truth (kept queued; the view
    /// skips them).
    pub blocked: Vec<u64>,
    /// The initial sync finished: secondary indexes and the search index were built.
    pub bootstrap_finished: bool,
    /// Users, departments, templates or settings changed (pickers and names reload).
    pub reference: bool,
}

/// What recording push results did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushRecorded {
    /// Mutations confirmed (applied, duplicate or conflict).
    pub confirmed: u64,
    /// Conflict records created (one per overridden field).
    pub conflicts: u64,
    /// Mutations the server refused; rolled back and listed in [`Store::sync_problems`].
    pub rejected: Vec<u64>,
    /// `mutation_gap` answers: not a verdict on the intent; these stay queued for the next push.
    pub retry: Vec<u64>,
    /// Tickets whose row changed (rolled back).
    pub changed: Vec<TicketId>,
    /// The organisation's settings, departments or templates as this device sees them changed
    /// (a refused admin edit was rolled back).
    pub reference: bool,
}

/// A field where the server kept another value than the one this device set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConflictRecord {
    pub id: i64,
    pub ticket_id: TicketId,
    pub mutation_id: u64,
    /// The change as the agent made it.
    pub mutation: Mutation,
    pub field: String,
    /// What this device set and what won, as JSON values.
    pub yours: serde_json::Value,
    pub winner: serde_json::Value,
    pub changed_by: Option<UserId>,
    pub changed_at: Option<DateTime<Utc>>,
    pub recorded_at: DateTime<Utc>,
}

/// A local change the server refused; it was rolled back locally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncProblem {
    pub id: i64,
    /// The ticket the change was for; `None` for an admin change (settings, departments,
    /// templates).
    pub ticket_id: Option<TicketId>,
    pub mutation_id: u64,
    pub mutation: Mutation,
    /// When the agent made the change.
    pub made_at: DateTime<Utc>,
    /// Stable code for programs (`illegal_transition`, `ticket_not_found` …).
    pub code: outpost_core::error::ErrorCode,
    /// The server's reason, for people.
    pub reason: String,
    pub recorded_at: DateTime<Utc>,
}

/// `conflicts.detail` of a conflict record.
#[derive(Serialize, Deserialize)]
struct ConflictDetail {
    #[serde(flatten)]
    field: FieldConflict,
    mutation: MutationEnvelope,
}

/// `conflicts.detail` of a refused mutation.
#[derive(Serialize, Deserialize)]
struct ProblemDetail {
    code: outpost_core::error::ErrorCode,
    reason: String,
    mutation: MutationEnvelope,
}

/// The settings a rebase applies mutations with.
#[derive(Clone, Copy)]
pub(crate) struct Rules<'a> {
    pub sla: &'a SlaSettings,
    pub verification: &'a VerificationPolicy,
}

fn uuid(bytes: &[u8]) -> Result<Uuid> {
    Uuid::from_slice(bytes).map_err(corrupt)
}

fn time(ms: i64) -> Result<DateTime<Utc>> {
    from_millis(ms).ok_or_else(|| corrupt("time out of range"))
}

/// Tickets that have outbox rows (confirmed or not).
fn outbox_tickets(conn: &Connection) -> Result<HashSet<TicketId>> {
    let mut stmt =
        conn.prepare_cached("SELECT DISTINCT ticket_id FROM outbox WHERE ticket_id IS NOT NULL")?;
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
    rows.map(|id| uuid(&id?)).collect()
}

/// What one batch of server changes touched.
#[derive(Default)]
struct Touched {
    /// Tickets with outbox rows whose base or timeline changed: rebase them.
    rebase: BTreeSet<TicketId>,
    /// Ticket rows whose search document may have changed (or that are gone).
    reindex: BTreeSet<i64>,
    changed: BTreeSet<TicketId>,
    revoked: Vec<TicketId>,
    /// Users, departments, templates or settings were written.
    reference: bool,
}

/// Writes server changes. Tickets with queued mutations get their truth copy replaced and are
/// marked for rebase; others are written as they come.
fn write_changes(
    tx: &Transaction<'_>,
    rules: Rules<'_>,
    changes: &[Change],
    now: DateTime<Utc>,
    in_bulk: bool,
    touched: &mut Touched,
) -> Result<()> {
    let pending = outbox_tickets(tx)?;
    for change in changes {
        match &change.kind {
            ChangeKind::Ticket(ticket) => write_ticket_truth(
                tx,
                rules,
                ticket,
                pending.contains(&ticket.id),
                now,
                touched,
            )?,
            ChangeKind::Entry(entry) => {
                upsert_entry(tx, entry, false)?;
                // (A bulk load builds every search document at its end.)
                let redacted = matches!(entry.body, EntryBody::Redacted { .. });
                if !in_bulk && (entry.body.searchable_text().is_some() || redacted) {
                    if let Some(rowid) = ticket_rowid(tx, entry.ticket_id)? {
                        touched.reindex.insert(rowid);
                    }
                }
                if pending.contains(&entry.ticket_id) {
                    // Risk actions check the timeline; a rebase keeps the view consistent.
                    touched.rebase.insert(entry.ticket_id);
                }
                touched.changed.insert(entry.ticket_id);
            }
            ChangeKind::Revoke { ticket_id } => {
                // The row's search document goes with it.
                touched.reindex.extend(ticket_rowid(tx, *ticket_id)?);
                purge(tx, *ticket_id)?;
                // Processed mutations have nothing left to shape; queued ones are still pushed
                // and judged by the server (which will refuse them as not found).
                tx.prepare_cached("DELETE FROM outbox WHERE ticket_id = ?1 AND confirmed = 1")?
                    .execute([ticket_id.as_bytes()])?;
                if pending.contains(ticket_id) {
                    touched.rebase.insert(*ticket_id);
                }
                touched.changed.remove(ticket_id);
                touched.revoked.push(*ticket_id);
            }
            ChangeKind::Department(d) => {
                touched.reference = true;
                tx.prepare_cached(
                    "INSERT INTO departments (code, doc) VALUES (?1, ?2)
                     ON CONFLICT(code) DO UPDATE SET doc = ?2",
                )?
                .execute(params![d.code, serde_json::to_string(d).map_err(corrupt)?])?;
            }
            ChangeKind::User(u) => {
                touched.reference = true;
                tx.prepare_cached(
                    "INSERT INTO users (id, doc) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET doc = ?2",
                )?
                .execute(params![u.id.as_bytes(), serde_json::to_string(u).map_err(corrupt)?])?;
            }
            ChangeKind::Template(t) => {
                touched.reference = true;
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
            ChangeKind::Settings(doc) => {
                touched.reference = true;
                admin::write_settings_truth(tx, doc)?;
            }
        }
    }
    Ok(())
}

fn write_ticket_truth(
    tx: &Transaction<'_>,
    rules: Rules<'_>,
    ticket: &Ticket,
    pending: bool,
    now: DateTime<Utc>,
    touched: &mut Touched,
) -> Result<()> {
    // Revisions only grow; an older copy (a stale page) never replaces a newer one.
    let known: Option<i64> = if pending {
        tx.prepare_cached("SELECT revision FROM server_tickets WHERE id = ?1")?
            .query_row([ticket.id.as_bytes()], |r| r.get(0))
            .optional()?
    } else {
        tx.prepare_cached("SELECT revision FROM tickets WHERE id = ?1")?
            .query_row([ticket.id.as_bytes()], |r| r.get(0))
            .optional()?
    };
    if known.is_some_and(|r| r > ticket.revision as i64) {
        return Ok(());
    }
    if pending {
        tx.prepare_cached(
            "INSERT INTO server_tickets (id, revision, doc) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET revision = ?2, doc = ?3",
        )?
        .execute(params![
            ticket.id.as_bytes(),
            ticket.revision as i64,
            serde_json::to_string(ticket).map_err(corrupt)?
        ])?;
        // The row holds the bare truth until the rebase at the end of the page.
        upsert_ticket(tx, rules.sla, ticket, now, 0)?;
        touched.rebase.insert(ticket.id);
    } else {
        let rowid = upsert_ticket(tx, rules.sla, ticket, now, 0)?;
        touched.reindex.insert(rowid);
    }
    touched.changed.insert(ticket.id);
    Ok(())
}

/// What a transaction of server changes did, across its pages.
#[derive(Default)]
struct Batch {
    changed: BTreeSet<TicketId>,
    revoked: Vec<TicketId>,
    blocked: BTreeSet<u64>,
    reference: bool,
}

/// A pull page's confirmation: `last_mutation_id`, and whether the page reached the head.
#[derive(Clone, Copy)]
struct Confirm {
    last_mutation_id: u64,
    caught_up: bool,
}

/// Writes server changes, confirms and drops settled mutations, rebases tickets with queued
/// mutations and brings search documents up to date (in a bulk load, collects them for the
/// worker instead). Returns how many queued mutations were confirmed.
fn apply_changes(
    tx: &Transaction<'_>,
    rules: Rules<'_>,
    changes: &[Change],
    now: DateTime<Utc>,
    confirm: Option<Confirm>,
    batch: &mut Batch,
) -> Result<u64> {
    let in_bulk = bulk::active(tx)?;
    let mut touched = Touched::default();
    write_changes(tx, rules, changes, now, in_bulk, &mut touched)?;
    let mut confirmed = 0;
    if let Some(c) = confirm {
        confirmed = mark_confirmed_through(tx, c.last_mutation_id, &mut touched.rebase)?;
        drop_settled(
            tx,
            c.caught_up.then_some(c.last_mutation_id),
            &mut touched.rebase,
        )?;
    }
    for id in &touched.rebase {
        touched.reindex.extend(ticket_rowid(tx, *id)?);
        batch.blocked.extend(rebase(tx, rules, *id, now, !in_bulk)?);
        touched.reindex.extend(ticket_rowid(tx, *id)?);
        batch.changed.insert(*id);
    }
    // A bulk load builds every document when it completes.
    if !in_bulk {
        for rowid in &touched.reindex {
            let exists: bool = tx
                .prepare_cached("SELECT EXISTS(SELECT 1 FROM tickets WHERE rowid = ?1)")?
                .query_row([rowid], |r| r.get(0))?;
            if exists {
                reindex(tx, *rowid)?;
            }
        }
    }
    batch.changed.extend(touched.changed);
    for id in &touched.revoked {
        if ticket_rowid(tx, *id)?.is_none() {
            batch.changed.remove(id);
        }
    }
    batch.revoked.extend(touched.revoked);
    batch.reference |= touched.reference;
    Ok(confirmed)
}

/// One queued mutation as stored.
struct Queued {
    envelope: MutationEnvelope,
    actor: Option<UserId>,
    device: Uuid,
    confirmed: bool,
    local_error: Option<String>,
}

fn queued_for(tx: &Connection, id: TicketId) -> Result<Vec<Queued>> {
    let mut stmt = tx.prepare_cached(
        "SELECT envelope, actor, device, confirmed, local_error FROM outbox
         WHERE ticket_id = ?1 ORDER BY mutation_id",
    )?;
    let rows = stmt.query_map([id.as_bytes()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<Vec<u8>>>(1)?,
            r.get::<_, Option<Vec<u8>>>(2)?,
            r.get::<_, bool>(3)?,
            r.get::<_, Option<String>>(4)?,
        ))
    })?;
    rows.map(|row| {
        let (envelope, actor, device, confirmed, local_error) = row?;
        Ok(Queued {
            envelope: serde_json::from_str(&envelope).map_err(corrupt)?,
            actor: actor.as_deref().map(uuid).transpose()?,
            // Rows queued before schema 2 did not record the device.
            device: device.as_deref().map(uuid).transpose()?.unwrap_or_default(),
            confirmed,
            local_error,
        })
    })
    .collect()
}

/// Recomputes ticket `id` from its truth and its queued mutations (see the module invariants).
/// Returns the ids of queued mutations that do not apply.
pub(crate) fn rebase(
    tx: &Connection,
    rules: Rules<'_>,
    id: TicketId,
    now: DateTime<Utc>,
    index: bool,
) -> Result<Vec<u64>> {
    let queued = queued_for(tx, id)?;
    let truth: Option<Ticket> = tx
        .prepare_cached("SELECT doc FROM server_tickets WHERE id = ?1")?
        .query_row([id.as_bytes()], |r| r.get::<_, String>(0))
        .optional()?
        .map(|doc| serde_json::from_str(&doc).map_err(corrupt))
        .transpose()?;
    let existing = ticket_rowid(tx, id)?;
    delete_local_entries(tx, id)?;
    if queued.is_empty() {
        // Nothing queued any more: the row becomes plain truth (or goes, if there is none).
        tx.prepare_cached("DELETE FROM server_tickets WHERE id = ?1")?
            .execute([id.as_bytes()])?;
    }
    let needs_timeline = queued.iter().any(|q| q.envelope.mutation.reads_timeline());
    let mut timeline: Vec<Entry> = if needs_timeline {
        load_entries(tx, id)?
    } else {
        Vec::new()
    };
    let mut current = truth;
    let mut local_entries = Vec::new();
    let mut blocked = Vec::new();
    for q in &queued {
        let envelope = &q.envelope;
        let ctx = ApplyContext {
            actor: q.actor,
            device_id: q.device,
            mutation_id: envelope.mutation_id,
            client_time: envelope.client_time,
            // The time the agent made the change, so a re-application is identical to the
            // original one when the truth under it did not change.
            now: envelope.client_time,
            verification: rules.verification,
            timeline: &timeline,
            directory: None,
        };
        if let Mutation::RedactEntry { entry_id, .. } = &envelope.mutation {
            // The redaction was written for good when it was made (local.rs): re-applying it
            // would find the entry already redacted.
            if timeline
                .iter()
                .any(|e| e.id == *entry_id && matches!(e.body, EntryBody::Redacted { .. }))
            {
                continue;
            }
        }
        let error = match apply(current.as_ref(), &envelope.mutation, &ctx) {
            Ok(applied) => {
                current = Some(applied.ticket);
                timeline.extend(applied.entries.iter().cloned());
                local_entries.extend(applied.entries);
                None
            }
            Err(refusal) => {
                // Processed ones are only waiting for truth; they are not reported.
                if !q.confirmed {
                    blocked.push(envelope.mutation_id);
                }
                Some(format!("{}: {refusal}", refusal.code()))
            }
        };
        if error != q.local_error {
            tx.prepare_cached("UPDATE outbox SET local_error = ?2 WHERE mutation_id = ?1")?
                .execute(params![envelope.mutation_id as i64, error])?;
        }
    }
    let unsent = queued.iter().filter(|q| !q.confirmed).count() as i64;
    match current {
        Some(ticket) => {
            let rowid = upsert_ticket(tx, rules.sla, &ticket, now, unsent)?;
            for entry in &local_entries {
                insert_local_entry(tx, entry)?;
            }
            if index {
                reindex(tx, rowid)?;
            }
        }
        None => {
            if let Some(rowid) = existing {
                drop_row(tx, id, rowid)?;
            }
        }
    }
    Ok(blocked)
}

/// Marks queued mutations up to `last` as processed by the server (revision unknown).
fn mark_confirmed_through(
    tx: &Connection,
    last: u64,
    touched: &mut BTreeSet<TicketId>,
) -> Result<u64> {
    let ids: Vec<Option<Vec<u8>>> = tx
        .prepare_cached(
            "UPDATE outbox SET confirmed = 1 WHERE confirmed = 0 AND mutation_id <= ?1
             RETURNING ticket_id",
        )?
        .query_map([last as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    // Admin intents (no ticket) are laid over truth by the settled view (`admin.rs`).
    for id in ids.iter().flatten() {
        touched.insert(uuid(id)?);
    }
    Ok(ids.len() as u64)
}

/// Deletes processed mutations whose effect the truth now shows. `caught_up` is
/// `Some(last_mutation_id)` when a pull has reached the server's head: every mutation up to it
/// is then in the truth, unless the server answered a revision the truth has not reached yet
/// (a push that committed while the pull was read; the next pull brings it).
fn drop_settled(
    tx: &Connection,
    caught_up: Option<u64>,
    touched: &mut BTreeSet<TicketId>,
) -> Result<()> {
    let ids: Vec<Option<Vec<u8>>> = tx
        .prepare_cached(
            "DELETE FROM outbox WHERE confirmed = 1 AND (
                 confirmed_revision <= (SELECT s.revision FROM server_tickets s WHERE s.id = outbox.ticket_id)
                 OR (?1 AND mutation_id <= ?2 AND (confirmed_revision IS NULL
                     OR NOT EXISTS (SELECT 1 FROM server_tickets s WHERE s.id = outbox.ticket_id))))
             RETURNING ticket_id",
        )?
        .query_map(
            params![caught_up.is_some(), caught_up.unwrap_or(0) as i64],
            |r| r.get(0),
        )?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids.iter().flatten() {
        touched.insert(uuid(id)?);
    }
    Ok(())
}

/// Drops server-truth rows, keeping the outbox (queued mutations) and conflict records, and
/// rebuilds the rows of queued mutations on nothing (locally created tickets reappear at once;
/// others come back with the next full pull).
fn reset_in(tx: &Transaction<'_>, rules: Rules<'_>, now: DateTime<Utc>) -> Result<()> {
    tx.execute_batch(&format!(
        "DELETE FROM tickets;
         DELETE FROM entries;
         DELETE FROM search_docs;
         INSERT INTO search_tri(search_tri) VALUES ('delete-all');
         INSERT INTO search_short(search_short) VALUES ('delete-all');
         DELETE FROM server_tickets;
         DELETE FROM departments;
         DELETE FROM users;
         DELETE FROM templates;
         DELETE FROM settings;
         DELETE FROM outbox WHERE confirmed = 1;
         DELETE FROM attachments WHERE {UNREFERENCED_ATTACHMENT};"
    ))?;
    state::set(tx, "cursor", "0")?;
    let index = !bulk::active(tx)?;
    for id in outbox_tickets(tx)? {
        rebase(tx, rules, id, now, index)?;
    }
    Ok(())
}

/// A `conflicts` row: id, mutation id, ticket (none for an admin change), kind, detail, time.
type ConflictRow = (i64, i64, Option<Vec<u8>>, String, String, i64);

fn read_conflict(row: &rusqlite::Row<'_>) -> rusqlite::Result<ConflictRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

/// The change a record asks to make again: for a field conflict, setting that field to this
/// device's value; otherwise the original intent.
fn intended(kind: &str, detail: &str) -> Result<Mutation> {
    if kind == "rejected" {
        let detail: ProblemDetail = serde_json::from_str(detail).map_err(corrupt)?;
        return Ok(detail.mutation.mutation);
    }
    let detail: ConflictDetail = serde_json::from_str(detail).map_err(corrupt)?;
    let Some(ticket_id) = detail.mutation.mutation.ticket_id() else {
        return Ok(detail.mutation.mutation);
    };
    let yours = detail.field.yours.clone();
    fn value<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Option<T> {
        serde_json::from_value(v).ok()
    }
    let by_field = match detail.field.field.as_str() {
        "description" => value(yours).map(|description| Mutation::SetDescription {
            ticket_id,
            description,
        }),
        "subject" => value(yours).map(|subject| Mutation::SetSubject { ticket_id, subject }),
        "status" => value(yours).map(|status| Mutation::SetStatus {
            ticket_id,
            status,
            reason: None,
        }),
        "priority" => value(yours).map(|priority| Mutation::SetPriority {
            ticket_id,
            priority,
        }),
        "category" => value(yours).map(|category| Mutation::SetCategory {
            ticket_id,
            category,
        }),
        "risk" => value(yours).map(|risk| Mutation::SetRisk { ticket_id, risk }),
        "assignee" => value(yours).map(|assignee| Mutation::SetAssignee {
            ticket_id,
            assignee,
        }),
        "department" => value(yours).map(|department| Mutation::SetDepartment {
            ticket_id,
            department,
        }),
        _ => None,
    };
    Ok(by_field.unwrap_or(detail.mutation.mutation))
}

impl Store {
    /// The pull cursor the next pull starts from (0 before the first sync and after a reset).
    pub fn sync_cursor(&self) -> Result<u64> {
        cursor(&self.conn)
    }

    /// Whether an initial sync into an empty cache is in progress: secondary indexes and the
    /// search index are built when its last page arrives, so queues are slower and search is
    /// incomplete until then.
    pub fn bootstrapping(&self) -> Result<bool> {
        bulk::active(&self.conn)
    }

    /// Applies one pull response; see [`Store::apply_pull_pages`].
    pub fn apply_pull(&mut self, page: &PullResponse, now: DateTime<Utc>) -> Result<PullApplied> {
        self.apply_pull_pages(std::slice::from_ref(page), now)
    }

    /// Applies consecutive pull responses in one transaction: server rows, revocations,
    /// confirmations (`last_mutation_id`), the rebase of tickets with queued mutations, and the
    /// new cursor — all or nothing. Several pages per transaction make an initial sync faster.
    ///
    /// A response with `reset_required` drops server rows as [`Store::reset_for_rebootstrap`]
    /// does. The first page into a cache without server rows starts a bulk load (see
    /// [`Store::bootstrapping`]) that the last page (`has_more == false`) completes.
    /// `now` is used for the SLA deadline columns.
    pub fn apply_pull_pages(
        &mut self,
        pages: &[PullResponse],
        now: DateTime<Utc>,
    ) -> Result<PullApplied> {
        let rules = Rules {
            sla: self.admin.settings.sla_settings(),
            verification: self.admin.settings.verification_policy(),
        };
        bulk::set_journal(&self.conn, bulk::will_be_active(&self.conn)?)?;
        let tx = self.conn.transaction()?;
        let mut out = PullApplied::default();
        let mut batch = Batch::default();
        for page in pages {
            if page.reset_required {
                reset_in(&tx, rules, now)?;
                batch = Batch::default();
                out = PullApplied {
                    reset: true,
                    ..PullApplied::default()
                };
                // A reset answer carries no changes; its confirmations still hold.
                let mut touched = BTreeSet::new();
                out.confirmed += mark_confirmed_through(&tx, page.last_mutation_id, &mut touched)?;
                for id in touched {
                    rebase(&tx, rules, id, now, !bulk::active(&tx)?)?;
                }
                continue;
            }
            if !bulk::active(&tx)? && cursor(&tx)? == 0 && bulk::cache_has_no_truth(&tx)? {
                bulk::enter(&tx)?;
            }
            let confirm = Confirm {
                last_mutation_id: page.last_mutation_id,
                caught_up: !page.has_more,
            };
            out.confirmed +=
                apply_changes(&tx, rules, &page.changes, now, Some(confirm), &mut batch)?;
            state::set(&tx, "cursor", &page.cursor.to_string())?;
            if bulk::active(&tx)? && !page.has_more {
                bulk::finish(&tx)?;
                out.bootstrap_finished = true;
            }
        }
        out.cursor = cursor(&tx)?;
        let (view, blocked) = admin::settle(&tx, &self.admin, now)?;
        tx.commit()?;
        if out.bootstrap_finished {
            bulk::set_journal(&self.conn, false)?;
        }
        out.reference = batch.reference || out.reset || view != self.admin;
        self.admin = view;
        out.changed = batch.changed.into_iter().collect();
        out.revoked = batch.revoked;
        batch.blocked.extend(blocked);
        out.blocked = batch.blocked.into_iter().collect();
        Ok(out)
    }

    /// Writes server changes without a cursor (demo data, tests, tools): the same truth writes
    /// and rebase as a pull page, in one transaction.
    pub fn apply_remote(&mut self, changes: &[Change], now: DateTime<Utc>) -> Result<()> {
        self.write_remote(changes, now, false, false)
    }

    /// [`Store::apply_remote`], optionally starting and/or completing a bulk load in the same
    /// transaction.
    pub(crate) fn write_remote(
        &mut self,
        changes: &[Change],
        now: DateTime<Utc>,
        enter_bulk: bool,
        finish_bulk: bool,
    ) -> Result<()> {
        let rules = Rules {
            sla: self.admin.settings.sla_settings(),
            verification: self.admin.settings.verification_policy(),
        };
        if enter_bulk {
            bulk::set_journal(&self.conn, true)?;
        }
        let tx = self.conn.transaction()?;
        if enter_bulk {
            bulk::enter(&tx)?;
        }
        let mut batch = Batch::default();
        apply_changes(&tx, rules, changes, now, None, &mut batch)?;
        if finish_bulk {
            bulk::finish(&tx)?;
        }
        let (view, _) = admin::settle(&tx, &self.admin, now)?;
        tx.commit()?;
        self.admin = view;
        if finish_bulk {
            bulk::set_journal(&self.conn, false)?;
        }
        Ok(())
    }

    /// Marks queued mutations up to `last_mutation_id` (a push response's or a pull's) as
    /// processed by the server: they leave the outbox and are not pushed again. Their effect
    /// stays visible until server truth shows it (the next pull). Returns how many were marked.
    pub fn confirm_through(&mut self, last_mutation_id: u64, now: DateTime<Utc>) -> Result<u64> {
        let rules = Rules {
            sla: self.admin.settings.sla_settings(),
            verification: self.admin.settings.verification_policy(),
        };
        let tx = self.conn.transaction()?;
        let mut touched = BTreeSet::new();
        let n = mark_confirmed_through(&tx, last_mutation_id, &mut touched)?;
        drop_settled(&tx, None, &mut touched)?;
        let index = !bulk::active(&tx)?;
        for id in touched {
            rebase(&tx, rules, id, now, index)?;
        }
        let (view, _) = admin::settle(&tx, &self.admin, now)?;
        tx.commit()?;
        self.admin = view;
        Ok(n)
    }

    /// Records the server's answers to a push. Applied and duplicate mutations are confirmed; a
    /// conflict is confirmed and leaves one conflict record per field the server kept; a refused
    /// mutation is rolled back (the ticket is recomputed from truth and the remaining queued
    /// mutations, its optimistic entries disappear) and listed as a sync problem. `mutation_gap`
    /// answers leave the mutation queued. Answers for unknown mutation ids are ignored, so
    /// recording the same answers twice changes nothing.
    pub fn record_push_results(
        &mut self,
        results: &[MutationResult],
        now: DateTime<Utc>,
    ) -> Result<PushRecorded> {
        let rules = Rules {
            sla: self.admin.settings.sla_settings(),
            verification: self.admin.settings.verification_policy(),
        };
        let tx = self.conn.transaction()?;
        let mut out = PushRecorded::default();
        // Tickets to recompute (a refusal rolled something back) and tickets whose mutations
        // were only accepted.
        let mut touched = BTreeSet::new();
        let mut accepted = BTreeSet::new();
        for result in results {
            let row: Option<(Option<Vec<u8>>, String, bool)> = tx
                .prepare_cached(
                    "SELECT ticket_id, envelope, confirmed FROM outbox WHERE mutation_id = ?1",
                )?
                .query_row([result.mutation_id as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            let Some((ticket, envelope, confirmed)) = row else {
                continue;
            };
            let ticket = ticket.as_deref().map(uuid).transpose()?;
            let confirm = |revision: Option<u64>| -> Result<()> {
                tx.prepare_cached(
                    "UPDATE outbox SET confirmed = 1, confirmed_revision = ?2 WHERE mutation_id = ?1",
                )?
                .execute(params![result.mutation_id as i64, revision.map(|r| r as i64)])?;
                Ok(())
            };
            match &result.outcome {
                MutationOutcome::Applied { revision } => confirm(Some(*revision))?,
                MutationOutcome::Duplicate => {
                    if !confirmed {
                        confirm(None)?;
                    }
                }
                MutationOutcome::Conflict { revision, fields } => {
                    confirm(Some(*revision))?;
                    let envelope: MutationEnvelope =
                        serde_json::from_str(&envelope).map_err(corrupt)?;
                    for field in fields {
                        // One record per mutation and field, however often the answer comes.
                        let known: bool = tx
                            .prepare_cached(
                                "SELECT EXISTS(SELECT 1 FROM conflicts WHERE mutation_id = ?1
                                     AND kind = 'conflict' AND json_extract(detail, '$.field') = ?2)",
                            )?
                            .query_row(
                                params![result.mutation_id as i64, field.field],
                                |r| r.get(0),
                            )?;
                        if known {
                            continue;
                        }
                        let detail = ConflictDetail {
                            field: field.clone(),
                            mutation: envelope.clone(),
                        };
                        tx.prepare_cached(
                            "INSERT INTO conflicts (mutation_id, ticket_id, kind, detail, created_at)
                             VALUES (?1, ?2, 'conflict', ?3, ?4)",
                        )?
                        .execute(params![
                            result.mutation_id as i64,
                            ticket.as_ref().map(|t| t.as_bytes().to_vec()),
                            serde_json::to_string(&detail).map_err(corrupt)?,
                            millis(now)
                        ])?;
                        out.conflicts += 1;
                    }
                }
                MutationOutcome::Rejected {
                    code: outpost_core::error::ErrorCode::MutationGap,
                    ..
                } => {
                    out.retry.push(result.mutation_id);
                    continue;
                }
                MutationOutcome::Rejected { code, reason } => {
                    let detail = ProblemDetail {
                        code: *code,
                        reason: reason.clone(),
                        mutation: serde_json::from_str(&envelope).map_err(corrupt)?,
                    };
                    tx.prepare_cached(
                        "INSERT INTO conflicts (mutation_id, ticket_id, kind, detail, created_at)
                         VALUES (?1, ?2, 'rejected', ?3, ?4)",
                    )?
                    .execute(params![
                        result.mutation_id as i64,
                        ticket.as_ref().map(|t| t.as_bytes().to_vec()),
                        serde_json::to_string(&detail).map_err(corrupt)?,
                        millis(now)
                    ])?;
                    tx.prepare_cached("DELETE FROM outbox WHERE mutation_id = ?1")?
                        .execute([result.mutation_id as i64])?;
                    out.rejected.push(result.mutation_id);
                    // A refused admin edit leaves the view when it is settled below.
                    touched.extend(ticket);
                    continue;
                }
            }
            if !confirmed {
                out.confirmed += 1;
            }
            // Accepted as made: the local view already shows it (truth + queued, confirmed
            // mutations included), so only the unsent count changes until its truth arrives.
            accepted.extend(ticket);
        }
        for id in accepted.difference(&touched) {
            tx.prepare_cached(
                "UPDATE tickets SET unsent = (SELECT count(*) FROM outbox
                     WHERE outbox.ticket_id = tickets.id AND confirmed = 0)
                 WHERE id = ?1",
            )?
            .execute([id.as_bytes()])?;
        }
        // A pull may already have brought the truth these answers refer to.
        drop_settled(&tx, None, &mut touched)?;
        let index = !bulk::active(&tx)?;
        for id in &touched {
            rebase(&tx, rules, *id, now, index)?;
        }
        let (view, _) = admin::settle(&tx, &self.admin, now)?;
        tx.commit()?;
        out.reference = view != self.admin;
        self.admin = view;
        touched.extend(accepted);
        out.changed = touched.into_iter().collect();
        Ok(out)
    }

    /// Queued mutations in push order (the server refuses gaps), at most `limit`.
    pub fn pending_batch(&self, limit: u32) -> Result<Vec<MutationEnvelope>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT envelope FROM outbox WHERE confirmed = 0 ORDER BY mutation_id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| r.get::<_, String>(0))?;
        rows.map(|row| serde_json::from_str(&row?).map_err(corrupt))
            .collect()
    }

    /// Open (not dismissed, not re-applied) conflict records, oldest first.
    pub fn conflicts(&self) -> Result<Vec<ConflictRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, mutation_id, ticket_id, kind, detail, created_at FROM conflicts
             WHERE kind = 'conflict' AND dismissed = 0 ORDER BY id",
        )?;
        let rows = stmt.query_map([], read_conflict)?;
        rows.map(|row| {
            let (id, mutation_id, ticket, _, detail, at) = row?;
            let detail: ConflictDetail = serde_json::from_str(&detail).map_err(corrupt)?;
            Ok(ConflictRecord {
                id,
                ticket_id: uuid(
                    ticket
                        .as_deref()
                        .ok_or_else(|| corrupt("a conflict names no ticket"))?,
                )?,
                mutation_id: mutation_id as u64,
                mutation: detail.mutation.mutation,
                field: detail.field.field,
                yours: detail.field.yours,
                winner: detail.field.winner,
                changed_by: detail.field.changed_by,
                changed_at: detail.field.changed_at,
                recorded_at: time(at)?,
            })
        })
        .collect()
    }

    /// Open sync problems (local changes the server refused), oldest first.
    pub fn sync_problems(&self) -> Result<Vec<SyncProblem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, mutation_id, ticket_id, kind, detail, created_at FROM conflicts
             WHERE kind = 'rejected' AND dismissed = 0 ORDER BY id",
        )?;
        let rows = stmt.query_map([], read_conflict)?;
        rows.map(|row| {
            let (id, mutation_id, ticket, _, detail, at) = row?;
            let detail: ProblemDetail = serde_json::from_str(&detail).map_err(corrupt)?;
            Ok(SyncProblem {
                id,
                ticket_id: ticket.as_deref().map(uuid).transpose()?,
                mutation_id: mutation_id as u64,
                made_at: detail.mutation.client_time,
                mutation: detail.mutation.mutation,
                code: detail.code,
                reason: detail.reason,
                recorded_at: time(at)?,
            })
        })
        .collect()
    }

    /// Closes a conflict record or sync problem without acting on it. Attachment bytes that only
    /// a dismissed problem still referred to are deleted.
    pub fn dismiss(&mut self, id: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE conflicts SET dismissed = 1 WHERE id = ?1 AND dismissed = 0",
            [id],
        )?;
        if n == 0 {
            return Err(StoreError::RecordNotFound(id));
        }
        tx.execute_batch(&format!(
            "DELETE FROM attachments WHERE {UNREFERENCED_ATTACHMENT}
                 AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.id = attachments.entry_id)"
        ))?;
        tx.commit()?;
        Ok(())
    }

    /// Makes the change a conflict record or sync problem describes again, as a new local
    /// mutation (new mutation id, outbox row and audit event, exactly as [`Store::apply_local`]),
    /// and closes the record. For a conflict that is setting the field to this device's value
    /// (based on the current revision, so a description is not refused as stale again); for a
    /// problem it is the refused intent as it was. If the change is not allowed now, the typed
    /// refusal is returned and the record stays open.
    pub fn reapply(&mut self, id: i64, actor: &Actor, now: DateTime<Utc>) -> Result<LocalChange> {
        let tx = self.conn.transaction()?;
        let row: Option<(String, String)> = tx
            .query_row(
                "SELECT kind, detail FROM conflicts WHERE id = ?1 AND dismissed = 0",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (kind, detail) = row.ok_or(StoreError::RecordNotFound(id))?;
        let mutation = intended(&kind, &detail)?;
        let change = apply_in(
            &tx,
            self.admin.settings.sla_settings(),
            self.admin.settings.verification_policy(),
            actor,
            mutation,
            now,
        )?;
        tx.execute(
            "UPDATE conflicts SET dismissed = 1, reapplied_as = ?2 WHERE id = ?1",
            params![id, change.mutation_id as i64],
        )?;
        tx.commit()?;
        Ok(change)
    }

    /// Drops every server-truth row — tickets, entries, search documents, truth copies,
    /// departments, users, templates — and sets the cursor to 0, keeping queued mutations and
    /// conflict records. Locally created tickets stay visible; the next full pull brings the
    /// rest back and the queued mutations are re-applied on top.
    pub fn reset_for_rebootstrap(&mut self, now: DateTime<Utc>) -> Result<()> {
        let rules = Rules {
            sla: self.admin.settings.sla_settings(),
            verification: self.admin.settings.verification_policy(),
        };
        let tx = self.conn.transaction()?;
        reset_in(&tx, rules, now)?;
        let (view, _) = admin::settle(&tx, &self.admin, now)?;
        tx.commit()?;
        self.admin = view;
        Ok(())
    }

    /// Queued mutations that do not apply on top of the latest truth (the view skips them; the
    /// server will judge them), with the local refusal.
    pub fn blocked_mutations(&self) -> Result<BTreeMap<u64, String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT mutation_id, local_error FROM outbox
             WHERE confirmed = 0 AND local_error IS NOT NULL ORDER BY mutation_id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
