//! Attachments in the cache. Bytes live inside the encrypted database, never as loose files; an
//! attachment entry pulled from the server has no bytes here until it is downloaded (a row in
//! `attachments` means the bytes are in this cache). A local attachment keeps the state of its
//! resumable upload (the server's upload id and offset) beside its bytes, so a restarted app
//! continues where it stopped, and it can be withdrawn until its mutation has gone out in a
//! push.
//!
//! Withdrawing removes an outbox mutation that the server never saw. The server refuses gaps in
//! a device's mutation ids, so the queued mutations after it move down by one (their derived
//! entry ids are rebuilt by the rebase); the caller makes sure no push is in flight meanwhile.

use chrono::{DateTime, Utc};
use outpost_core::model::{Entry, EntryBody, TicketId};
use outpost_core::sync::{Mutation, MutationEnvelope};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::local::{append_audit, Actor};
use crate::sync::{rebase, Rules};
use crate::tickets::load_entries;
use crate::{bulk, corrupt, Result, Store, StoreError};

/// Where an attachment's bytes are, as the agent sees it. `Uploaded` and `Downloaded` both mean
/// the bytes are in this cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AttachmentState {
    /// Attached here, waiting for the network.
    Queued,
    /// Being uploaded (`sent_bytes` so far), or uploaded and waiting to be pushed.
    Uploading,
    /// Attached here and on the server.
    Uploaded,
    /// Downloaded from the server into this cache.
    Downloaded,
    /// On the server, not in this cache yet.
    Remote,
    /// The server refused it (`reason`).
    Failed,
}

/// One attachment of a ticket, for the timeline and the composer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AttachmentView {
    pub attachment_id: Uuid,
    pub entry_id: Uuid,
    pub ticket_id: TicketId,
    pub filename: String,
    pub mime: String,
    pub size: u64,
    pub sha256: String,
    pub state: AttachmentState,
    /// Bytes the server has of an upload (the size once it has them all).
    pub sent_bytes: u64,
    /// Why the attachment failed; only with `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub reason: Option<String>,
}

/// Where the resumable upload of a local attachment stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadState {
    pub attachment_id: Uuid,
    pub ticket_id: TicketId,
    pub filename: String,
    pub size: u64,
    pub sha256: String,
    /// The server's upload id, once one was started.
    pub upload_id: Option<String>,
    /// Bytes the server confirmed it keeps.
    pub offset: u64,
    /// The server holds the whole file.
    pub uploaded: bool,
    /// The server refused the upload (the mutation is pushed anyway and refused).
    pub failure: Option<String>,
}

/// The bytes-side columns of an `attachments` row.
struct Row {
    origin: String,
    upload_id: Option<String>,
    offset: u64,
    uploaded: bool,
    failure: Option<String>,
    /// An unconfirmed outbox mutation adds it.
    queued: bool,
    /// An open sync problem refused it: its reason.
    refused: Option<String>,
}

fn read_row(conn: &Connection, id: Uuid) -> Result<Option<Row>> {
    let id_text = id.to_string();
    Ok(conn
        .prepare_cached(
            "SELECT origin, upload_id, upload_offset, uploaded, failure,
                 EXISTS(SELECT 1 FROM outbox o WHERE o.name = 'entry.add_attachment'
                     AND o.confirmed = 0
                     AND json_extract(o.envelope, '$.mutation.args.attachment_id') = ?2),
                 (SELECT json_extract(c.detail, '$.reason') FROM conflicts c
                     WHERE c.kind = 'rejected' AND c.dismissed = 0
                       AND json_extract(c.detail, '$.mutation.mutation.args.attachment_id') = ?2
                     ORDER BY c.id DESC LIMIT 1)
             FROM attachments WHERE id = ?1",
        )?
        .query_row(params![id.as_bytes(), id_text], |r| {
            Ok(Row {
                origin: r.get(0)?,
                upload_id: r.get(1)?,
                offset: r.get::<_, i64>(2)? as u64,
                uploaded: r.get(3)?,
                failure: r.get(4)?,
                queued: r.get(5)?,
                refused: r.get(6)?,
            })
        })
        .optional()?)
}

/// The view of one attachment from its entry's metadata and its row (if any).
fn view_of(conn: &Connection, entry: &Entry) -> Result<Option<AttachmentView>> {
    let EntryBody::Attachment {
        attachment_id,
        filename,
        mime,
        size,
        sha256,
    } = &entry.body
    else {
        return Ok(None);
    };
    let (state, sent_bytes, reason) = match read_row(conn, *attachment_id)? {
        None => (AttachmentState::Remote, 0, None),
        Some(row) => state_of(&row, *size),
    };
    Ok(Some(AttachmentView {
        attachment_id: *attachment_id,
        entry_id: entry.id,
        ticket_id: entry.ticket_id,
        filename: filename.clone(),
        mime: mime.clone(),
        size: *size,
        sha256: sha256.clone(),
        state,
        sent_bytes,
        reason,
    }))
}

fn state_of(row: &Row, size: u64) -> (AttachmentState, u64, Option<String>) {
    if let Some(reason) = row.failure.clone().or_else(|| row.refused.clone()) {
        return (AttachmentState::Failed, row.offset, Some(reason));
    }
    if row.origin == "download" {
        return (AttachmentState::Downloaded, size, None);
    }
    if !row.queued {
        return (AttachmentState::Uploaded, size, None);
    }
    if row.uploaded {
        (AttachmentState::Uploading, size, None)
    } else if row.upload_id.is_some() {
        (AttachmentState::Uploading, row.offset, None)
    } else {
        (AttachmentState::Queued, 0, None)
    }
}

/// The envelope of the unconfirmed outbox mutation that adds attachment `id`, with its outbox id.
fn queued_mutation(conn: &Connection, id: Uuid) -> Result<Option<MutationEnvelope>> {
    let envelope: Option<String> = conn
        .prepare_cached(
            "SELECT envelope FROM outbox WHERE name = 'entry.add_attachment' AND confirmed = 0
                 AND json_extract(envelope, '$.mutation.args.attachment_id') = ?1",
        )?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?;
    envelope
        .map(|e| serde_json::from_str(&e).map_err(corrupt))
        .transpose()
}

impl Store {
    /// Every attachment of a ticket's timeline, oldest first, with where its bytes are; then
    /// attachments made here that the server refused (their entry is gone from the timeline,
    /// the bytes stay until the sync problem is dismissed). Redacted attachments are not
    /// listed: they are redacted entries.
    pub fn attachments(&self, ticket_id: TicketId) -> Result<Vec<AttachmentView>> {
        let mut out = Vec::new();
        for entry in load_entries(&self.conn, ticket_id)? {
            out.extend(view_of(&self.conn, &entry)?);
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, entry_id, filename, mime, size, sha256 FROM attachments
             WHERE ticket_id = ?1 AND origin = 'local'
               AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.id = attachments.entry_id)
             ORDER BY id",
        )?;
        let orphans = stmt
            .query_map([ticket_id.as_bytes()], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (id, entry_id, filename, mime, size, sha256) in orphans {
            let attachment_id = Uuid::from_slice(&id).map_err(corrupt)?;
            let Some(row) = read_row(&self.conn, attachment_id)? else {
                continue;
            };
            let (state, sent_bytes, reason) = state_of(&row, size as u64);
            if state != AttachmentState::Failed {
                // Queued but not applicable on top of the latest truth: the view skips it.
                continue;
            }
            out.push(AttachmentView {
                attachment_id,
                entry_id: Uuid::from_slice(&entry_id).map_err(corrupt)?,
                ticket_id,
                filename,
                mime,
                size: size as u64,
                sha256,
                state,
                sent_bytes,
                reason,
            });
        }
        Ok(out)
    }

    /// One attachment of a ticket, as [`Store::attachments`] lists it; `None` when the ticket's
    /// timeline has no such attachment (never had one, or it was redacted).
    pub fn attachment_view(
        &self,
        ticket_id: TicketId,
        attachment_id: Uuid,
    ) -> Result<Option<AttachmentView>> {
        Ok(self
            .attachments(ticket_id)?
            .into_iter()
            .find(|a| a.attachment_id == attachment_id))
    }

    /// `len` bytes of a cached attachment from `offset` (fewer at its end), for an upload chunk.
    pub fn attachment_chunk(&self, id: Uuid, offset: u64, len: u32) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT substr(data, ?2, ?3) FROM attachments WHERE id = ?1")?
            .query_row(params![id.as_bytes(), offset as i64 + 1, len], |r| {
                r.get::<_, Option<Vec<u8>>>(0)
            })
            .optional()?
            .flatten())
    }

    /// Keeps downloaded bytes, after checking them against the entry's size and SHA-256. Refused
    /// when the ticket's timeline has no such attachment (it may have been redacted meanwhile).
    pub fn store_download(
        &mut self,
        ticket_id: TicketId,
        attachment_id: Uuid,
        data: &[u8],
    ) -> Result<AttachmentView> {
        let tx = self.conn.transaction()?;
        let entry = load_entries(&tx, ticket_id)?.into_iter().find(|e| {
            matches!(&e.body, EntryBody::Attachment { attachment_id: a, .. } if *a == attachment_id)
        });
        let Some(entry) = entry else {
            return Err(StoreError::AttachmentNotFound(attachment_id));
        };
        let EntryBody::Attachment {
            filename,
            mime,
            size,
            sha256,
            ..
        } = &entry.body
        else {
            return Err(StoreError::AttachmentNotFound(attachment_id));
        };
        let actual = hex::encode(Sha256::digest(data));
        if data.len() as u64 != *size || actual != *sha256 {
            return Err(StoreError::AttachmentMismatch {
                filename: filename.clone(),
            });
        }
        tx.prepare_cached(
            "INSERT INTO attachments (id, ticket_id, entry_id, filename, mime, size, sha256, data,
                 origin, uploaded)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'download', 1)
             ON CONFLICT(id) DO NOTHING",
        )?
        .execute(params![
            attachment_id.as_bytes(),
            ticket_id.as_bytes(),
            entry.id.as_bytes(),
            filename,
            mime,
            *size as i64,
            sha256,
            data
        ])?;
        let view = view_of(&tx, &entry)?.ok_or(StoreError::AttachmentNotFound(attachment_id))?;
        tx.commit()?;
        Ok(view)
    }

    /// The upload state of a local attachment whose bytes are in the cache.
    pub fn upload_state(&self, attachment_id: Uuid) -> Result<Option<UploadState>> {
        self.conn
            .prepare_cached(
                "SELECT ticket_id, filename, size, sha256, upload_id, upload_offset, uploaded,
                     failure
                 FROM attachments WHERE id = ?1 AND origin = 'local'",
            )?
            .query_row([attachment_id.as_bytes()], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, bool>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })
            .optional()?
            .map(
                |(ticket, filename, size, sha256, upload_id, offset, uploaded, failure)| {
                    Ok::<_, StoreError>(UploadState {
                        attachment_id,
                        ticket_id: Uuid::from_slice(&ticket).map_err(corrupt)?,
                        filename,
                        size: size as u64,
                        sha256,
                        upload_id,
                        offset: offset as u64,
                        uploaded,
                        failure,
                    })
                },
            )
            .transpose()
    }

    /// Records where an upload stands: the server's upload id (`None` forgets an upload the
    /// server no longer knows) and the bytes it keeps; `complete` once it holds the whole file.
    pub fn record_upload(
        &mut self,
        attachment_id: Uuid,
        upload_id: Option<&str>,
        offset: u64,
        complete: bool,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE attachments SET upload_id = ?2, upload_offset = ?3, uploaded = ?4
                 WHERE id = ?1 AND origin = 'local'",
            )?
            .execute(params![
                attachment_id.as_bytes(),
                upload_id,
                offset as i64,
                complete
            ])?;
        Ok(())
    }

    /// Records that the server refused an upload for good (its mutation is pushed anyway, the
    /// server refuses it, and it becomes a sync problem).
    pub fn record_upload_failure(&mut self, attachment_id: Uuid, reason: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE attachments SET failure = ?2 WHERE id = ?1")?
            .execute(params![attachment_id.as_bytes(), reason])?;
        Ok(())
    }

    /// Marks the attachments of mutations about to be pushed: from now on they cannot be
    /// withdrawn (the server may have taken their mutation ids).
    pub fn mark_pushed(&mut self, attachment_ids: &[Uuid]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for id in attachment_ids {
            tx.prepare_cached("UPDATE attachments SET pushed = 1 WHERE id = ?1")?
                .execute([id.as_bytes()])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Withdraws an attachment made on this device that has not been pushed: its outbox mutation
    /// and its bytes go, the mutations queued after it move down by one id (no gap for the
    /// server), the affected tickets are rebuilt, and the withdrawal is audited. Returns the
    /// server's upload id, if an upload was started, for the caller to cancel. Refused once the
    /// mutation went out in a push. No push may run meanwhile (the sync engine's lock).
    pub fn cancel_attachment(
        &mut self,
        actor: &Actor,
        ticket_id: TicketId,
        attachment_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let rules = Rules {
            sla: self.admin.settings.sla_settings(),
            verification: self.admin.settings.verification_policy(),
        };
        let tx = self.conn.transaction()?;
        let row: Option<(Vec<u8>, bool, Option<String>)> = tx
            .prepare_cached(
                "SELECT ticket_id, pushed, upload_id FROM attachments
                 WHERE id = ?1 AND origin = 'local'",
            )?
            .query_row([attachment_id.as_bytes()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((row_ticket, pushed, upload_id)) = row else {
            return Err(StoreError::AttachmentNotFound(attachment_id));
        };
        if row_ticket != ticket_id.as_bytes() {
            return Err(StoreError::AttachmentNotFound(attachment_id));
        }
        let Some(envelope) = queued_mutation(&tx, attachment_id)? else {
            return Err(StoreError::AttachmentSent);
        };
        if pushed {
            return Err(StoreError::AttachmentSent);
        }
        let gone = envelope.mutation_id as i64;
        tx.prepare_cached("DELETE FROM outbox WHERE mutation_id = ?1")?
            .execute([gone])?;
        tx.prepare_cached("DELETE FROM attachments WHERE id = ?1")?
            .execute([attachment_id.as_bytes()])?;
        // Later mutations move down by one, in ascending order so ids never collide.
        let later: Vec<(i64, Option<Vec<u8>>, String)> = tx
            .prepare_cached(
                "SELECT mutation_id, ticket_id, envelope FROM outbox WHERE mutation_id > ?1
                 ORDER BY mutation_id",
            )?
            .query_map([gone], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut touched = std::collections::BTreeSet::from([ticket_id]);
        for (id, ticket, envelope) in later {
            let mut envelope: MutationEnvelope =
                serde_json::from_str(&envelope).map_err(corrupt)?;
            envelope.mutation_id -= 1;
            tx.prepare_cached(
                "UPDATE outbox SET mutation_id = ?2, envelope = ?3 WHERE mutation_id = ?1",
            )?
            .execute(params![
                id,
                id - 1,
                serde_json::to_string(&envelope).map_err(corrupt)?
            ])?;
            if let Some(ticket) = ticket {
                touched.insert(Uuid::from_slice(&ticket).map_err(corrupt)?);
            }
        }
        tx.execute(
            "UPDATE conflicts SET reapplied_as = reapplied_as - 1 WHERE reapplied_as > ?1",
            [gone],
        )?;
        tx.execute(
            "UPDATE sync_state SET value = CAST(value AS INTEGER) - 1
             WHERE key = 'last_local_mutation_id'",
            [],
        )?;
        let index = !bulk::active(&tx)?;
        for id in &touched {
            rebase(&tx, rules, *id, now, index)?;
        }
        let Mutation::AddAttachment { sha256, .. } = &envelope.mutation else {
            return Err(corrupt(
                "an attachment's mutation is not entry.add_attachment",
            ));
        };
        append_audit(
            &tx,
            outpost_core::audit::AuditEvent {
                seq: 0,
                at: now,
                actor: actor.user_id.to_string(),
                device: Some(actor.device_id.to_string()),
                address: None,
                action: "entry.cancel_attachment".into(),
                ticket_id: Some(ticket_id),
                before: None,
                after: None,
                detail: serde_json::json!({
                    "mutation_id": gone,
                    "attachment_id": attachment_id,
                    "sha256": sha256,
                })
                .to_string(),
            },
        )?;
        tx.commit()?;
        Ok(upload_id)
    }
}
