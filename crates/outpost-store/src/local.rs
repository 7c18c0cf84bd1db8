//! Local changes: the optimistic row, its outbox mutation and its audit event, in one
//! transaction.

use chrono::{DateTime, TimeZone, Utc};
use outpost_core::apply::{apply, ApplyContext};
use outpost_core::audit::{
    AuditEvent, ChainBreak, ChainHead, ChainedEvent, Hash32, Verified, Verifier,
};
use outpost_core::model::{Entry, EntryBody, Ticket, TicketId, UserId};
use outpost_core::sync::{Mutation, MutationEnvelope};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use outpost_core::rules::VerificationPolicy;

use crate::columns::{from_millis, millis};
use crate::tickets::{load_entries, load_ticket, reindex, upsert_entry, upsert_ticket};
use crate::{corrupt, Result, Store, StoreError, MAX_ATTACHMENT_BYTES};

/// Who makes local changes: the signed-in user on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub device_id: Uuid,
}

/// What a local change did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LocalChange {
    pub mutation_id: u64,
    pub ticket: Ticket,
    pub entries: Vec<Entry>,
}

/// A queued mutation, not yet processed by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxItem {
    pub envelope: MutationEnvelope,
    pub created_at: DateTime<Utc>,
    /// Why the mutation does not apply on top of the latest server truth (the view skips it;
    /// it stays queued and the server judges it), or `None`.
    pub local_error: Option<String>,
}

fn digest_ticket(ticket: &Ticket) -> Result<Hash32> {
    let json = serde_json::to_vec(ticket).map_err(corrupt)?;
    Ok(Hash32::digest(&json))
}

pub(crate) fn next_mutation_id(tx: &Transaction<'_>) -> Result<u64> {
    let last: Option<String> = tx
        .query_row(
            "SELECT value FROM sync_state WHERE key = 'last_local_mutation_id'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let last: u64 = last
        .map(|v| v.parse().map_err(corrupt))
        .transpose()?
        .unwrap_or(0);
    let next = last + 1;
    tx.execute(
        "INSERT INTO sync_state (key, value) VALUES ('last_local_mutation_id', ?1)
         ON CONFLICT(key) DO UPDATE SET value = ?1",
        [next.to_string()],
    )?;
    Ok(next)
}

fn chain_head(conn: &Connection) -> Result<ChainHead> {
    let head: Option<(i64, Vec<u8>)> = conn
        .query_row(
            "SELECT seq, hash FROM audit_local ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match head {
        None => Ok(ChainHead::default()),
        Some((seq, hash)) => Ok(ChainHead {
            last_seq: seq as u64,
            hash: hash32(&hash)?,
        }),
    }
}

fn hash32(bytes: &[u8]) -> Result<Hash32> {
    <[u8; 32]>::try_from(bytes)
        .map(Hash32)
        .map_err(|_| corrupt("hash is not 32 bytes"))
}

pub(crate) fn append_audit(tx: &Transaction<'_>, event: AuditEvent) -> Result<ChainedEvent> {
    let chained = chain_head(tx)?.append(event);
    let e = &chained.event;
    tx.prepare_cached(
        "INSERT INTO audit_local (seq, at, actor, device, address, action, ticket_id, before, after,
             detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        e.seq as i64,
        e.at.timestamp_micros(),
        e.actor,
        e.device,
        e.address,
        e.action,
        e.ticket_id.as_ref().map(|id| id.as_bytes().to_vec()),
        e.before.map(|h| h.0.to_vec()),
        e.after.map(|h| h.0.to_vec()),
        e.detail,
        chained.prev_hash.0.to_vec(),
        chained.hash.0.to_vec(),
    ])?;
    Ok(chained)
}

/// One `audit_local` row as stored, before its bytes are checked.
type AuditRow = (
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    String,
    Vec<u8>,
    Vec<u8>,
);

fn read_audit(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
    ))
}

impl Store {
    /// Applies a local change: validates it with the domain rules, writes the optimistic ticket
    /// and entries, queues the mutation in the outbox and appends the audit event — all or
    /// nothing.
    pub fn apply_local(
        &mut self,
        actor: &Actor,
        mutation: Mutation,
        now: DateTime<Utc>,
    ) -> Result<LocalChange> {
        let tx = self.conn.transaction()?;
        let change = apply_in(
            &tx,
            self.admin.settings.sla_settings(),
            self.admin.settings.verification_policy(),
            actor,
            mutation,
            now,
        )?;
        tx.commit()?;
        Ok(change)
    }

    /// Stores an attachment's bytes in the encrypted cache and records the entry, in one
    /// transaction.
    pub fn add_attachment(
        &mut self,
        actor: &Actor,
        ticket_id: TicketId,
        filename: &str,
        mime: &str,
        data: &[u8],
        now: DateTime<Utc>,
    ) -> Result<LocalChange> {
        if data.len() > MAX_ATTACHMENT_BYTES {
            return Err(StoreError::AttachmentTooLarge { size: data.len() });
        }
        let attachment_id = Uuid::now_v7();
        let entry_id = Uuid::now_v7();
        let sha256 = hex::encode(Sha256::digest(data));
        let mutation = Mutation::AddAttachment {
            entry_id,
            ticket_id,
            attachment_id,
            filename: filename.to_owned(),
            mime: mime.to_owned(),
            size: data.len() as u64,
            sha256: sha256.clone(),
        };
        let tx = self.conn.transaction()?;
        let change = apply_in(
            &tx,
            self.admin.settings.sla_settings(),
            self.admin.settings.verification_policy(),
            actor,
            mutation,
            now,
        )?;
        tx.execute(
            "INSERT INTO attachments (id, ticket_id, entry_id, filename, mime, size, sha256, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                attachment_id.as_bytes(),
                ticket_id.as_bytes(),
                entry_id.as_bytes(),
                filename,
                mime,
                data.len() as i64,
                sha256,
                data
            ],
        )?;
        tx.commit()?;
        Ok(change)
    }

    /// Queued mutations the server has not processed yet, in push order.
    pub fn outbox(&self, limit: u32) -> Result<Vec<OutboxItem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT envelope, created_at, local_error FROM outbox WHERE confirmed = 0
             ORDER BY mutation_id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (envelope, at, local_error) = row?;
            Ok(OutboxItem {
                envelope: serde_json::from_str(&envelope).map_err(corrupt)?,
                created_at: from_millis(at).ok_or_else(|| corrupt("time out of range"))?,
                local_error,
            })
        })
        .collect()
    }

    /// How many queued mutations the server has not processed yet.
    pub fn outbox_len(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM outbox WHERE confirmed = 0", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

    /// Local audit events after `after_seq`, in order.
    pub fn audit_events(&self, after_seq: u64, limit: u32) -> Result<Vec<ChainedEvent>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, at, actor, device, address, action, ticket_id, before, after, detail,
                 prev_hash, hash
             FROM audit_local WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after_seq as i64, limit], read_audit)?;
        rows.map(|row| {
            let (
                seq,
                at,
                actor,
                device,
                address,
                action,
                ticket,
                before,
                after,
                detail,
                prev,
                hash,
            ) = row?;
            Ok(ChainedEvent {
                event: AuditEvent {
                    seq: seq as u64,
                    at: Utc
                        .timestamp_micros(at)
                        .single()
                        .ok_or_else(|| corrupt("time out of range"))?,
                    actor,
                    device,
                    address,
                    action,
                    ticket_id: ticket
                        .map(|t| Uuid::from_slice(&t))
                        .transpose()
                        .map_err(corrupt)?,
                    before: before.as_deref().map(hash32).transpose()?,
                    after: after.as_deref().map(hash32).transpose()?,
                    detail,
                },
                prev_hash: hash32(&prev)?,
                hash: hash32(&hash)?,
            })
        })
        .collect()
    }

    /// Verifies the whole local audit chain, page by page.
    pub fn verify_audit(&self) -> Result<Result<Verified, ChainBreak>> {
        let mut verifier = Verifier::new();
        let mut after = 0;
        loop {
            let page = self.audit_events(after, 10_000)?;
            let Some(last) = page.last() else { break };
            after = last.event.seq;
            for event in &page {
                if let Err(broken) = verifier.push(event) {
                    return Ok(Err(broken));
                }
            }
        }
        Ok(Ok(verifier.finish()))
    }
}

/// The one way a local change is made: see [`Store::apply_local`].
pub(crate) fn apply_in(
    tx: &Transaction<'_>,
    sla: &outpost_core::sla::SlaSettings,
    verification: &VerificationPolicy,
    actor: &Actor,
    mutation: Mutation,
    now: DateTime<Utc>,
) -> Result<LocalChange> {
    let Some(ticket_id) = mutation.ticket_id() else {
        return Err(outpost_core::apply::Rejection::Invalid {
            field: "name".into(),
            problem: format!(
                "{} changes the organisation's settings; make it from the admin screens",
                mutation.name()
            ),
        }
        .into());
    };
    let current = load_ticket(tx, ticket_id)?;
    let mutation_id = next_mutation_id(tx)?;
    // Only risk actions and redactions read the timeline.
    let timeline = match &current {
        Some(_) if mutation.reads_timeline() => load_entries(tx, ticket_id)?,
        _ => Vec::new(),
    };
    let ctx = ApplyContext {
        actor: Some(actor.user_id),
        device_id: actor.device_id,
        mutation_id,
        client_time: now,
        now,
        verification,
        timeline: &timeline,
        directory: None,
    };
    let before = current.as_ref().map(|(_, t)| t);
    let applied = apply(before, &mutation, &ctx)?;
    // The ticket's first queued mutation: its row is server truth right now, so keep a copy
    // to rebase on (sync.rs). A ticket without a row has no truth yet.
    let queued: i64 = tx
        .prepare_cached("SELECT count(*) FROM outbox WHERE ticket_id = ?1")?
        .query_row([ticket_id.as_bytes()], |r| r.get(0))?;
    if queued == 0 {
        if let Some((_, truth)) = &current {
            tx.prepare_cached(
                "INSERT INTO server_tickets (id, revision, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET revision = ?2, doc = ?3",
            )?
            .execute(params![
                ticket_id.as_bytes(),
                truth.revision as i64,
                serde_json::to_string(truth).map_err(corrupt)?
            ])?;
        }
    }
    let unsent: i64 = tx
        .prepare_cached("SELECT count(*) FROM outbox WHERE ticket_id = ?1 AND confirmed = 0")?
        .query_row([ticket_id.as_bytes()], |r| r.get(0))?;
    let rowid = upsert_ticket(tx, sla, &applied.ticket, now, unsent + 1)?;
    for entry in &applied.entries {
        // A redaction overwrites the entry for good, not optimistically: the removed text must
        // not come back with a rebase, whatever the server says (it keeps its own copy).
        let redacted = matches!(entry.body, EntryBody::Redacted { .. });
        upsert_entry(tx, entry, !redacted)?;
    }
    let texts_changed = current.as_ref().is_none_or(|(_, t)| {
        t.subject != applied.ticket.subject || t.description != applied.ticket.description
    }) || applied.entries.iter().any(|e| {
        e.body.searchable_text().is_some() || matches!(e.body, EntryBody::Redacted { .. })
    });
    if texts_changed {
        reindex(tx, rowid)?;
    }

    let envelope = MutationEnvelope {
        mutation_id,
        client_time: now,
        base_revision: before.map(|t| t.revision),
        mutation,
    };
    tx.prepare_cached(
        "INSERT INTO outbox (mutation_id, ticket_id, name, envelope, created_at, actor, device)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        mutation_id as i64,
        ticket_id.as_bytes(),
        envelope.mutation.name(),
        serde_json::to_string(&envelope).map_err(corrupt)?,
        millis(now),
        actor.user_id.as_bytes(),
        actor.device_id.as_bytes(),
    ])?;

    // The chain records what changed (events and digests), not the customer's words.
    let events: Vec<&EntryBody> = applied
        .entries
        .iter()
        .map(|e| &e.body)
        .filter(|b| matches!(b, EntryBody::Event { .. }))
        .collect();
    let detail = serde_json::json!({ "mutation_id": mutation_id, "events": events });
    append_audit(
        tx,
        AuditEvent {
            seq: 0,
            at: now,
            actor: actor.user_id.to_string(),
            device: Some(actor.device_id.to_string()),
            address: None,
            action: envelope.mutation.name().to_owned(),
            ticket_id: Some(ticket_id),
            before: before.map(digest_ticket).transpose()?,
            after: Some(digest_ticket(&applied.ticket)?),
            detail: detail.to_string(),
        },
    )?;
    Ok(LocalChange {
        mutation_id,
        ticket: applied.ticket,
        entries: applied.entries,
    })
}
