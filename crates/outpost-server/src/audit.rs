//! The organisation's audit chain in the server database: append inside the transaction that
//! made the change, verify from the first event, serve it to supervisors, export and archive it.
//!
//! Rows are only ever inserted: the database itself refuses `UPDATE` and `DELETE` on `audit`
//! (triggers, migration 8). Reading the trail is not itself audited.
//!
//! Every kind of event has a constructor on [`AuditEntry`] (`ticket_changed`, `survey_sent`,
//! `outbound_delivered`, `login`, `user_added`, …) that names its action and lays out its
//! detail; callers append it with [`AuditEntry::append`] inside the transaction that made the
//! change. No call site writes an action string or detail JSON of its own.
//!
//! **The head.** `audit_seq` (a counter row bumped in the same transaction as every append) says
//! how long the chain is. Pages and exports state the head as `{last_seq: <counter>, hash: <hash
//! of the newest event at or below it that exists>}`. When the newest events were deleted the
//! two disagree on purpose: `last_seq` still names the counter's event, so a client that pages
//! through the chain with `after_seq` ends before `head.last_seq` and knows the chain was
//! truncated (and the hash shows where the stored chain really ends). Events are served only up
//! to the head read for the page, so an append racing a page never looks like a gap.

use std::path::{Path, PathBuf};

use axum::extract::State;
use axum::http::Uri;
use axum::Json;
use chrono::{DateTime, TimeZone, Utc};
use outpost_core::audit::{
    AuditEvent, BreakKind, ChainBreak, ChainHead, ChainedEvent, Hash32, Verified, Verifier,
};
use outpost_core::audit_export::{
    AuditExport, AuditPage, AuditQuery, AuditRecord, ExportVerified, MAX_AUDIT_PAGE,
};
use outpost_core::model::{Channel, Role, Ticket, TicketEvent, User};
use sqlx::{AnyPool, Row};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::{next, Db, WriteTx};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Events per page when no `limit` is given.
pub const DEFAULT_AUDIT_PAGE: u32 = 200;

fn hash(text: &str) -> anyhow::Result<Hash32> {
    hash_from(text.as_bytes())
}

/// Appends `event` after the current head. Taking the `audit_seq` counter first serialises
/// appenders, so two transactions never chain onto the same head. The head is read once per
/// transaction and then followed in memory; the row is written at commit (`crate::writes`).
///
/// `department` is the ticket's department after the change (the `audit.department` filter
/// column); [`AuditEntry`]'s constructors put the same value into the hashed `detail`.
async fn append(
    tx: &mut WriteTx,
    event: AuditEvent,
    department: Option<&str>,
) -> anyhow::Result<ChainedEvent> {
    let seq = next(tx, "audit_seq").await?;
    let head = match tx.audit_head.take() {
        Some(head) => head,
        None => match sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?
        {
            Some(row) => ChainHead {
                last_seq: row.try_get::<i64, _>("seq")? as u64,
                hash: hash(&row.try_get::<String, _>("hash")?)?,
            },
            None => ChainHead::default(),
        },
    };
    if head.last_seq + 1 != seq as u64 {
        anyhow::bail!(
            "audit counter ({seq}) and chain head ({}) disagree",
            head.last_seq
        );
    }
    let mut head = head;
    let chained = head.append(event);
    tx.buffer
        .audit
        .push((chained.clone(), department.map(str::to_owned)));
    tx.audit_head = Some(head);
    Ok(chained)
}

/// The SHA-256 of a ticket's JSON: an event's `before` and `after` seal the ticket's state.
fn digest(ticket: &Ticket) -> anyhow::Result<Hash32> {
    Ok(Hash32::digest(&serde_json::to_vec(ticket)?))
}

/// Why a refresh-token family ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The user signed out (`session.logout`).
    Logout,
    /// A rotated refresh token was presented again, so it leaked (`session.refresh_reuse_revoked`).
    RefreshReused,
}

/// One audit event to append, made by the constructor for its kind: every action name and every
/// detail layout is written here, once. A ticket event's detail carries before/after values and
/// ids, never customer or reply text. The time is taken when the event is appended.
#[must_use = "an audit event is recorded only by `append`"]
pub struct AuditEntry {
    actor: String,
    device: Option<String>,
    address: Option<String>,
    action: &'static str,
    ticket_id: Option<Uuid>,
    before: Option<Hash32>,
    after: Option<Hash32>,
    detail: serde_json::Value,
    /// The ticket's department (the `audit.department` filter column), also in `detail`.
    department: Option<String>,
}

impl AuditEntry {
    /// An event without a ticket: sessions, users, departments, keys, the organisation itself.
    fn admin(
        actor: &str,
        address: Option<&str>,
        action: &'static str,
        detail: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            actor: actor.to_owned(),
            device: None,
            address: address.map(str::to_owned),
            action,
            ticket_id: None,
            before: None,
            after: None,
            detail,
            department: None,
        }
    }

    /// An event about `ticket_id` that the server writes on its own (actor `system`).
    fn system_ticket(
        action: &'static str,
        ticket_id: Uuid,
        department: Option<&str>,
        detail: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            actor: "system".to_owned(),
            device: None,
            address: None,
            action,
            ticket_id: Some(ticket_id),
            before: None,
            after: None,
            detail,
            department: department.map(str::to_owned),
        }
    }

    /// A ticket changed through `outpost_core::apply` (`action` is the intent's name). `before`
    /// and `after` are digests of the ticket; the detail carries the mutation id, the new
    /// revision, the department after the change and `changes`, the events the change produced.
    /// A redaction's `before` is the SHA-256 of the removed content instead, and its detail
    /// names the entry and that hash.
    #[allow(
        clippy::too_many_arguments,
        reason = "an audit event names every fact it seals; a struct would only repeat them"
    )]
    pub(crate) fn ticket_changed(
        actor: &str,
        device: Uuid,
        address: Option<&str>,
        action: &'static str,
        mutation_id: u64,
        before: Option<&Ticket>,
        ticket: &Ticket,
        changes: &[&TicketEvent],
    ) -> anyhow::Result<AuditEntry> {
        let mut detail = serde_json::json!({
            "mutation_id": mutation_id,
            "revision": ticket.revision,
            "department": ticket.department,
            "changes": changes,
        });
        let mut before_hash = before.map(digest).transpose()?;
        for event in changes {
            if let TicketEvent::EntryRedacted {
                entry_id,
                removed_sha256,
                ..
            } = event
            {
                before_hash = Some(Hash32::from_hex(removed_sha256).map_err(|e| {
                    anyhow::anyhow!("removed_sha256 {removed_sha256:?} is not hex: {e}")
                })?);
                detail["entry_id"] = serde_json::json!(entry_id);
                detail["removed_sha256"] = serde_json::json!(removed_sha256);
            }
        }
        Ok(AuditEntry {
            actor: actor.to_owned(),
            device: Some(device.to_string()),
            address: address.map(str::to_owned),
            action,
            ticket_id: Some(ticket.id),
            before: before_hash,
            after: Some(digest(ticket)?),
            detail,
            department: ticket.department.clone(),
        })
    }

    /// `ticket.view`: `actor` opened a ticket on `device` (no ticket write, no new revision).
    #[allow(
        clippy::too_many_arguments,
        reason = "an audit event names every fact it seals; a struct would only repeat them"
    )]
    pub(crate) fn ticket_viewed(
        actor: &str,
        device: Uuid,
        address: Option<&str>,
        ticket_id: Uuid,
        department: Option<&str>,
        mutation_id: u64,
        revision: u64,
        viewed_at: DateTime<Utc>,
    ) -> AuditEntry {
        AuditEntry {
            actor: actor.to_owned(),
            device: Some(device.to_string()),
            address: address.map(str::to_owned),
            action: "ticket.view",
            ticket_id: Some(ticket_id),
            before: None,
            after: None,
            detail: serde_json::json!({
                "mutation_id": mutation_id,
                "revision": revision,
                "viewed_at": viewed_at,
                "department": department,
            }),
            department: department.map(str::to_owned),
        }
    }

    /// `customer.csat_link`: the satisfaction survey for the resolution at `resolved_at` was
    /// sent. Names the timeline entry and the outbound message, never the link.
    pub(crate) fn survey_sent(
        ticket_id: Uuid,
        department: Option<&str>,
        entry_id: Uuid,
        message_id: Uuid,
        resolved_at: DateTime<Utc>,
    ) -> AuditEntry {
        AuditEntry::system_ticket(
            "customer.csat_link",
            ticket_id,
            department,
            serde_json::json!({
                "entry_id": entry_id,
                "message_id": message_id,
                "resolved_at": resolved_at,
                "department": department,
            }),
        )
    }

    /// `attachment.redacted`: a redaction removed attachment entry `entry_id`, whose file had
    /// the SHA-256 `sha256`; `blob_deleted` says whether its bytes left the server (they stay
    /// while another entry names the same file).
    pub(crate) fn attachment_redacted(
        ticket_id: Uuid,
        department: Option<&str>,
        entry_id: Uuid,
        sha256: &str,
        size: u64,
        blob_deleted: bool,
    ) -> AuditEntry {
        AuditEntry::system_ticket(
            "attachment.redacted",
            ticket_id,
            department,
            serde_json::json!({
                "entry_id": entry_id,
                "sha256": sha256,
                "size": size,
                "blob_deleted": blob_deleted,
                "department": department,
            }),
        )
    }

    /// `sla.at_risk` / `sla.breached`: the SLA monitor wrote `event` as entry `entry_id`.
    pub(crate) fn sla_alert(
        ticket_id: Uuid,
        department: Option<&str>,
        breached: bool,
        entry_id: Uuid,
        event: &TicketEvent,
    ) -> AuditEntry {
        AuditEntry::system_ticket(
            if breached {
                "sla.breached"
            } else {
                "sla.at_risk"
            },
            ticket_id,
            department,
            serde_json::json!({
                "entry_id": entry_id,
                "department": department,
                "changes": [event],
            }),
        )
    }

    /// `outbound.delivered`: a connector (`actor`, `intake:<channel>`, with key `intake_key`)
    /// confirmed a message for the customer; its body was erased, its SHA-256 kept.
    #[allow(
        clippy::too_many_arguments,
        reason = "an audit event names every fact it seals; a struct would only repeat them"
    )]
    pub(crate) fn outbound_delivered(
        actor: &str,
        address: Option<&str>,
        intake_key: &str,
        ticket_id: Uuid,
        department: Option<&str>,
        message_id: Uuid,
        kind: &str,
        channel: &str,
        body_sha256: &str,
    ) -> AuditEntry {
        AuditEntry {
            actor: actor.to_owned(),
            device: None,
            address: address.map(str::to_owned),
            action: "outbound.delivered",
            ticket_id: Some(ticket_id),
            before: None,
            after: None,
            detail: serde_json::json!({
                "message_id": message_id,
                "kind": kind,
                "channel": channel,
                "intake_key": intake_key,
                "body_sha256": body_sha256,
                "department": department,
            }),
            department: department.map(str::to_owned),
        }
    }

    /// `session.login`: `user` signed in and got refresh-token family `family`.
    pub(crate) fn login(user: Uuid, address: Option<&str>, family: &str) -> AuditEntry {
        AuditEntry::admin(
            &user.to_string(),
            address,
            "session.login",
            serde_json::json!({ "family": family }),
        )
    }

    /// A refresh-token family of `user_id` ended, and why.
    pub(crate) fn session_ended(
        user_id: &str,
        address: Option<&str>,
        family: &str,
        why: SessionEnd,
    ) -> AuditEntry {
        let action = match why {
            SessionEnd::Logout => "session.logout",
            SessionEnd::RefreshReused => "session.refresh_reuse_revoked",
        };
        AuditEntry::admin(
            user_id,
            address,
            action,
            serde_json::json!({ "family": family }),
        )
    }

    /// `user.totp_enable`: `user` turned on the TOTP second factor.
    pub(crate) fn totp_enabled(user: Uuid, address: Option<&str>) -> AuditEntry {
        AuditEntry::admin(
            &user.to_string(),
            address,
            "user.totp_enable",
            serde_json::json!({}),
        )
    }

    /// `user.totp_replace`: `user` replaced their enabled TOTP factor with a new one (after
    /// confirming with their password and a code from the old one).
    pub(crate) fn totp_replaced(user: Uuid, address: Option<&str>) -> AuditEntry {
        AuditEntry::admin(
            &user.to_string(),
            address,
            "user.totp_replace",
            serde_json::json!({}),
        )
    }

    /// `user.totp_disable`: `user` turned off the TOTP second factor (with their password and a
    /// current code).
    pub(crate) fn totp_disabled(user: Uuid, address: Option<&str>) -> AuditEntry {
        AuditEntry::admin(
            &user.to_string(),
            address,
            "user.totp_disable",
            serde_json::json!({}),
        )
    }

    /// `user.add`: `actor` (an admin's id, or `cli`) created `user`, with a one-time password
    /// or an invitation link (`invite`); `after` is the new user.
    pub fn user_added(actor: &str, address: Option<&str>, user: &User, invite: &str) -> AuditEntry {
        AuditEntry::admin(
            actor,
            address,
            "user.add",
            serde_json::json!({
                "user": user.id,
                "role": user.role,
                "invite": invite,
                "before": null,
                "after": user,
            }),
        )
    }

    /// `user.disable`: `actor` disabled `user` (their sessions end).
    pub fn user_disabled(actor: &str, address: Option<&str>, user: Uuid) -> AuditEntry {
        AuditEntry::admin(
            actor,
            address,
            "user.disable",
            serde_json::json!({ "user": user, "before": { "active": true }, "after": { "active": false } }),
        )
    }

    /// `user.set_departments`: `actor` set `user`'s departments.
    pub fn user_departments_set(
        actor: &str,
        address: Option<&str>,
        user: Uuid,
        departments: &[String],
    ) -> AuditEntry {
        AuditEntry::admin(
            actor,
            address,
            "user.set_departments",
            serde_json::json!({ "user": user, "departments": departments }),
        )
    }

    /// `user.reset_password`: `actor` gave `user` a new one-time password.
    /// The new password is a one-time password or an invitation link (`invite`); either way
    /// the old one stops working at once.
    pub fn password_reset(
        actor: &str,
        address: Option<&str>,
        user: Uuid,
        invite: &str,
    ) -> AuditEntry {
        AuditEntry::admin(
            actor,
            address,
            "user.reset_password",
            serde_json::json!({ "user": user, "invite": invite }),
        )
    }

    /// `department.add`: `actor` created department `code`.
    pub fn department_added(actor: &str, address: Option<&str>, code: &str) -> AuditEntry {
        AuditEntry::admin(
            actor,
            address,
            "department.add",
            serde_json::json!({ "code": code }),
        )
    }

    /// `settings.set`, `department.put`, `template.put` (`action`): `actor` changed the
    /// organisation's settings, a department or a template. `target` names what changed (the
    /// settings kind, the department code or the template id); the detail carries the whole
    /// document before (`null` when new) and after, and the event's before/after digests are
    /// their SHA-256. Settings hold no customer text.
    #[allow(
        clippy::too_many_arguments,
        reason = "an audit event names every fact it seals; a struct would only repeat them"
    )]
    pub(crate) fn admin_changed(
        actor: &str,
        device: Option<Uuid>,
        address: Option<&str>,
        action: &'static str,
        mutation_id: Option<u64>,
        target: serde_json::Value,
        before: Option<&serde_json::Value>,
        after: &serde_json::Value,
    ) -> anyhow::Result<AuditEntry> {
        let digest = |value: &serde_json::Value| -> anyhow::Result<Hash32> {
            Ok(Hash32::digest(&serde_json::to_vec(value)?))
        };
        Ok(AuditEntry {
            actor: actor.to_owned(),
            device: device.map(|d| d.to_string()),
            address: address.map(str::to_owned),
            action,
            ticket_id: None,
            before: before.map(digest).transpose()?,
            after: Some(digest(after)?),
            detail: serde_json::json!({
                "mutation_id": mutation_id,
                "target": target,
                "before": before,
                "after": after,
            }),
            department: None,
        })
    }

    /// `intake_key.add`: `actor` created the intake key `id` named `name` for `channel` (the
    /// key itself is never recorded).
    pub fn intake_key_added(
        actor: &str,
        address: Option<&str>,
        id: Uuid,
        channel: Channel,
        name: &str,
    ) -> AuditEntry {
        AuditEntry::admin(
            actor,
            address,
            "intake_key.add",
            serde_json::json!({
                "id": id,
                "channel": channel,
                "name": name,
                "before": null,
                "after": { "id": id, "channel": channel, "name": name },
            }),
        )
    }

    /// `org.init`: the organisation was created with its first admin.
    pub(crate) fn org_initialised(admin: Uuid) -> AuditEntry {
        AuditEntry::admin(
            "system",
            None,
            "org.init",
            serde_json::json!({ "admin": admin }),
        )
    }

    /// `user.update`: `actor` changed `before` into `after` (name, role, departments, skills,
    /// away).
    pub(crate) fn user_updated(
        actor: &str,
        address: Option<&str>,
        before: &User,
        after: &User,
    ) -> AuditEntry {
        AuditEntry::admin(
            actor,
            address,
            "user.update",
            serde_json::json!({ "user": after.id, "before": before, "after": after }),
        )
    }

    /// `user.enable`: `actor` enabled `user` again.
    pub(crate) fn user_enabled(actor: &str, address: Option<&str>, user: Uuid) -> AuditEntry {
        AuditEntry::admin(
            actor,
            address,
            "user.enable",
            serde_json::json!({ "user": user, "before": { "active": false }, "after": { "active": true } }),
        )
    }

    /// `user.reset_totp`: `actor` removed `user`'s second factor (their sessions end).
    pub(crate) fn totp_reset(
        actor: &str,
        address: Option<&str>,
        user: Uuid,
        had_totp: bool,
    ) -> AuditEntry {
        AuditEntry::admin(
            actor,
            address,
            "user.reset_totp",
            serde_json::json!({ "user": user, "before": { "totp": had_totp }, "after": { "totp": false } }),
        )
    }

    /// `user.invite_accept`: `user` set their password through an invitation link (the link
    /// itself is never recorded).
    pub(crate) fn invite_accepted(user: Uuid, address: Option<&str>) -> AuditEntry {
        AuditEntry::admin(
            &user.to_string(),
            address,
            "user.invite_accept",
            serde_json::json!({ "user": user }),
        )
    }

    /// `intake_key.revoke`: `actor` revoked the intake key `id` (named `name`).
    pub(crate) fn intake_key_revoked(
        actor: &str,
        address: Option<&str>,
        id: Uuid,
        name: &str,
        revoked_at: DateTime<Utc>,
    ) -> AuditEntry {
        AuditEntry::admin(
            actor,
            address,
            "intake_key.revoke",
            serde_json::json!({
                "id": id,
                "name": name,
                "before": { "revoked_at": null },
                "after": { "revoked_at": revoked_at },
            }),
        )
    }

    /// `demo.load`: `tickets` synthetic tickets were loaded.
    pub(crate) fn demo_loaded(tickets: usize) -> AuditEntry {
        AuditEntry::admin(
            "system",
            None,
            "demo.load",
            serde_json::json!({ "tickets": tickets }),
        )
    }

    /// `audit.archive`: `actor` archived events `first_seq..=last_seq` (`count` of them, up to
    /// `cutoff`) into `file`, whose SHA-256 is `file_sha256`.
    #[allow(
        clippy::too_many_arguments,
        reason = "an audit event names every fact it seals; a struct would only repeat them"
    )]
    fn audit_archived(
        actor: &str,
        first_seq: u64,
        last_seq: u64,
        count: u64,
        cutoff: DateTime<Utc>,
        last_hash: &Hash32,
        file: Option<String>,
        file_sha256: &str,
    ) -> AuditEntry {
        AuditEntry::admin(
            actor,
            None,
            "audit.archive",
            serde_json::json!({
                "first_seq": first_seq,
                "last_seq": last_seq,
                "count": count,
                "cutoff": cutoff,
                "last_hash": last_hash,
                "file": file,
                "file_sha256": file_sha256,
            }),
        )
    }

    /// Appends this event to the chain inside `tx`, stamped with the current time.
    pub async fn append(self, tx: &mut WriteTx) -> anyhow::Result<ChainedEvent> {
        let event = AuditEvent {
            seq: 0,
            at: crate::db::now(),
            actor: self.actor,
            device: self.device,
            address: self.address,
            action: self.action.to_owned(),
            ticket_id: self.ticket_id,
            before: self.before,
            after: self.after,
            detail: self.detail.to_string(),
        };
        append(tx, event, self.department.as_deref()).await
    }
}

/// The columns of a sealed event, in the order `decode_into` reads them.
macro_rules! chain_columns {
    () => {
        "seq, at, actor, device, address, action, ticket_id, before_hash, after_hash, detail, prev_hash, hash"
    };
}
/// What verification reads: SQLite computes every selected column for every row, so the
/// department (not part of the seal) is left out.
const CHAIN_COLUMNS: &str = chain_columns!();
/// Every audit column, in the order `decode` and `decode_into` read them (department last).
const COLUMNS: &str = concat!(chain_columns!(), ", department");

fn decode(row: &sqlx::any::AnyRow) -> anyhow::Result<AuditRecord> {
    let opt_hash = |name: &str| -> anyhow::Result<Option<Hash32>> {
        row.try_get::<Option<String>, _>(name)?
            .as_deref()
            .map(hash)
            .transpose()
    };
    Ok(AuditRecord {
        chained: ChainedEvent {
            event: AuditEvent {
                seq: row.try_get::<i64, _>("seq")? as u64,
                at: Utc
                    .timestamp_micros(row.try_get("at")?)
                    .single()
                    .ok_or_else(|| anyhow::anyhow!("audit time out of range"))?,
                actor: row.try_get("actor")?,
                device: row.try_get("device")?,
                address: row.try_get("address")?,
                action: row.try_get("action")?,
                ticket_id: row
                    .try_get::<Option<String>, _>("ticket_id")?
                    .map(|t| t.parse())
                    .transpose()?,
                before: opt_hash("before_hash")?,
                after: opt_hash("after_hash")?,
                detail: row.try_get("detail")?,
            },
            prev_hash: hash(&row.try_get::<String, _>("prev_hash")?)?,
            hash: hash(&row.try_get::<String, _>("hash")?)?,
        },
        department: row.try_get("department")?,
    })
}

/// Verifies the whole chain page by page; `Err` inside names the first broken event.
///
/// Besides every seal and link, the chain must end exactly at the `audit_seq` counter: earlier
/// means the newest events were deleted ([`BreakKind::Truncated`]), later means rows were added
/// without the server ([`BreakKind::BeyondHead`]).
pub async fn verify(pool: &AnyPool) -> anyhow::Result<Result<Verified, ChainBreak>> {
    if let Some(path) = sqlite_file(pool) {
        // SQLite: read the file directly (see `verify_sqlite_file`), on a blocking thread.
        match tokio::task::spawn_blocking(move || verify_sqlite_file(&path)).await? {
            Err(FastPath::Unavailable(why)) => {
                tracing::debug!(
                    "direct audit read unavailable ({why}); verifying through the pool"
                );
            }
            Err(FastPath::Failed(e)) => return Err(e),
            Ok(result) => return Ok(result),
        }
    }
    // The counter first: everything at or below it was committed with it, so appends that race
    // this check are simply not part of it.
    let expected = counter(pool).await?;
    let mut verifier = Verifier::new();
    let mut after = 0i64;
    loop {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 5000"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(expected)
            .fetch_all(pool)
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let record = decode(row)?;
            after = record.chained.event.seq as i64;
            if let Err(broken) = verifier.push(&record.chained) {
                return Ok(Err(broken));
            }
        }
    }
    // One statement, so the counter and the rows are read from the same snapshot.
    let (beyond, head): (Option<i64>, i64) = sqlx::query_as(
        "SELECT (SELECT min(a.seq) FROM audit a WHERE a.seq > c.value), c.value
         FROM counters c WHERE c.name = 'audit_seq'",
    )
    .fetch_one(pool)
    .await?;
    Ok(conclude(verifier.finish(), expected, beyond, head))
}

/// The checks after every event verified: the chain must reach the counter read at the start
/// (else the newest events were deleted) and nothing may lie past the counter.
fn conclude(
    verified: Verified,
    expected: i64,
    beyond: Option<i64>,
    head: i64,
) -> Result<Verified, ChainBreak> {
    if expected as u64 > verified.head.last_seq {
        return Err(ChainBreak {
            seq: verified.head.last_seq + 1,
            index: verified.count as usize,
            kind: BreakKind::Truncated {
                expected_last: expected as u64,
                found_last: verified.head.last_seq,
            },
        });
    }
    if let Some(seq) = beyond {
        return Err(ChainBreak {
            seq: seq as u64,
            index: (seq - 1).max(0) as usize,
            kind: BreakKind::BeyondHead { head: head as u64 },
        });
    }
    Ok(verified)
}

/// The database file behind a SQLite pool (`sqlite:///path/outpost.db?mode=rwc`), or `None`
/// for PostgreSQL, in-memory databases and URLs this code does not read confidently.
fn sqlite_file(pool: &AnyPool) -> Option<PathBuf> {
    let options = pool.connect_options();
    let url = &options.database_url;
    if url.scheme() != "sqlite" || url.path().contains('%') {
        return None;
    }
    let path = match url.host_str() {
        Some(host) if !host.is_empty() => format!("{host}{}", url.path()),
        _ => url.path().to_owned(),
    };
    let path = PathBuf::from(path);
    path.is_file().then_some(path)
}

enum FastPath {
    /// The file could not be opened directly: use the pool.
    Unavailable(String),
    Failed(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for FastPath {
    fn from(e: E) -> Self {
        FastPath::Failed(e.into())
    }
}

/// Inserts already sealed events as they are, with their department, bypassing the append path
/// (no counter, no sealing): for benchmarks and tamper tests that build long chains or write
/// rows as an attacker with the database would. The server itself appends with
/// [`AuditEntry::append`].
#[doc(hidden)]
pub async fn insert_rows(
    conn: &mut sqlx::AnyConnection,
    rows: &[(ChainedEvent, Option<String>)],
) -> anyhow::Result<()> {
    crate::writes::insert_audit(conn, rows).await
}

/// Where a chain of `expected` events is cut in two halves (small chains are not worth a second
/// thread: `expected` itself, no cut).
fn cut(expected: i64) -> i64 {
    if expected >= 20_000 {
        expected / 2
    } else {
        expected
    }
}

/// A read-only connection to the server's SQLite file inside a read transaction.
fn open_reader(path: &Path) -> Result<rusqlite::Connection, FastPath> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| FastPath::Unavailable(e.to_string()))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // A pass over the whole table reads each page once: a small page cache is enough. (A memory
    // map was measured slower here: its page faults cost more than `pread`'s copy.)
    conn.execute_batch("PRAGMA cache_size = -2048; BEGIN")?;
    Ok(conn)
}

/// The storage-order pass alone (see `verify_in_storage_order`), for tests: `Some` when it
/// answered, `None` when `verify` would fall back to the sequence-order pass.
#[doc(hidden)]
pub fn storage_order_pass(path: &Path) -> anyhow::Result<Option<Verified>> {
    let fail = |e: FastPath| match e {
        FastPath::Unavailable(why) => anyhow::anyhow!(why),
        FastPath::Failed(e) => e,
    };
    let conn = open_reader(path).map_err(fail)?;
    let expected: i64 = conn.query_row(
        "SELECT value FROM counters WHERE name = 'audit_seq'",
        [],
        |r| r.get(0),
    )?;
    let middle = cut(expected);
    verify_in_storage_order(&conn, &|| open_reader(path), expected, middle).map_err(fail)
}

/// Verifies a SQLite server database by reading its file directly. The chain is cut in two
/// halves by sequence number, each read and recomputed on its own thread with its own read
/// transaction (rows at or below the counter never change, so both snapshots hold them), and the
/// halves are joined where the second starts: its first event must follow the first half's last
/// one. Rows are decoded into reused buffers (no allocation per row). The halves are first read
/// in storage order (`verify_in_storage_order`), and again through the `seq` index only when
/// that pass finds anything irregular. Through sqlx's `Any` driver, reading 1 000 000 rows alone
/// takes about 8 s; this path verifies them in about 0.75 s (BENCHMARKS.md). Same checks, same
/// answers as the pool path (the tamper tests run through here on SQLite).
fn verify_sqlite_file(path: &Path) -> Result<Result<Verified, ChainBreak>, FastPath> {
    let open = || open_reader(path);
    let conn = open()?;
    let expected: i64 = conn.query_row(
        "SELECT value FROM counters WHERE name = 'audit_seq'",
        [],
        |r| r.get(0),
    )?;
    let middle = cut(expected);
    if let Some(verified) = verify_in_storage_order(&conn, &open, expected, middle)? {
        let beyond: Option<i64> = conn.query_row(
            "SELECT min(seq) FROM audit WHERE seq > ?1",
            [expected],
            |r| r.get(0),
        )?;
        conn.execute_batch("COMMIT")?;
        return Ok(conclude(verified, expected, beyond, expected));
    }
    let second = if middle < expected {
        let other = open()?;
        Some(std::thread::spawn(move || {
            verify_segment(&other, middle, expected)
        }))
    } else {
        None
    };
    let first = verify_segment(&conn, 0, middle);
    let second = match second {
        Some(handle) => Some(
            handle
                .join()
                .map_err(|_| anyhow::anyhow!("the verifying thread panicked"))?,
        ),
        None => None,
    };
    let first = first?;
    let joined = match second {
        None => first.result,
        Some(second) => join_segments(first, second?, middle),
    };
    let verified = match joined {
        Err(broken) => return Ok(Err(broken)),
        Ok(verified) => verified,
    };
    let beyond: Option<i64> = conn.query_row(
        "SELECT min(seq) FROM audit WHERE seq > ?1",
        [expected],
        |r| r.get(0),
    )?;
    conn.execute_batch("COMMIT")?;
    Ok(conclude(verified, expected, beyond, expected))
}

/// The common case, read in the table's storage (rowid) order instead of through the `seq`
/// index: events are appended in sequence, so their rowids follow their sequence numbers, and a
/// table scan avoids a seek from the index into the table for every event (about a third of
/// the time). It gives an answer only when the rows, in rowid order, are exactly the events
/// 1..=`expected` in order with every link and seal intact, and the table holds no other row up
/// to its last rowid. Then the sequence-order pass would see the same events in the same order
/// and give the same answer. At the first irregularity (tampering, or rows stored out of
/// order) it returns `None`, and the caller verifies in sequence order, which names the break.
fn verify_in_storage_order(
    conn: &rusqlite::Connection,
    open: &dyn Fn() -> Result<rusqlite::Connection, FastPath>,
    expected: i64,
    middle: i64,
) -> Result<Option<Verified>, FastPath> {
    use rusqlite::OptionalExtension;
    if expected <= 0 {
        return Ok(None);
    }
    let last_rowid: Option<i64> =
        conn.query_row("SELECT max(rowid) FROM audit", [], |r| r.get(0))?;
    let Some(last_rowid) = last_rowid else {
        return Ok(None);
    };
    if middle >= expected {
        return Ok(rowid_run(conn, i64::MIN, last_rowid, 0, expected)?.map(|(_, v)| v));
    }
    let Some(middle_rowid) = conn
        .query_row("SELECT rowid FROM audit WHERE seq = ?1", [middle], |r| {
            r.get::<_, i64>(0)
        })
        .optional()?
    else {
        return Ok(None);
    };
    let other = open()?;
    let second =
        std::thread::spawn(move || rowid_run(&other, middle_rowid, last_rowid, middle, expected));
    let first = rowid_run(conn, i64::MIN, middle_rowid, 0, middle);
    let second = second
        .join()
        .map_err(|_| anyhow::anyhow!("the verifying thread panicked"))?;
    Ok(match (first?, second?) {
        (Some((_, a)), Some((second_prev, b))) if second_prev == a.head.hash => Some(Verified {
            count: a.count + b.count,
            head: b.head,
        }),
        _ => None,
    })
}

/// The rows `lo < rowid <= hi` in rowid order, verified as the events `after < seq <= upto`:
/// the first event's `prev_hash` and the run's outcome, or `None` if they are not exactly those
/// events, in order, each linked and sealed.
fn rowid_run(
    conn: &rusqlite::Connection,
    lo: i64,
    hi: i64,
    after: i64,
    upto: i64,
) -> anyhow::Result<Option<(Hash32, Verified)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {CHAIN_COLUMNS} FROM audit WHERE rowid > ?1 AND rowid <= ?2 ORDER BY rowid"
    ))?;
    let mut rows = stmt.query([lo, hi])?;
    let mut event = empty_event();
    let mut verifier: Option<Verifier> = None;
    let mut first_prev = Hash32::GENESIS;
    while let Some(r) = rows.next()? {
        if decode_into(r, &mut event).is_err() {
            return Ok(None);
        }
        let v = verifier.get_or_insert_with(|| {
            first_prev = event.prev_hash;
            Verifier::resume(ChainHead {
                last_seq: after as u64,
                hash: if after == 0 {
                    Hash32::GENESIS
                } else {
                    event.prev_hash
                },
            })
        });
        if v.push(&event).is_err() {
            return Ok(None);
        }
    }
    Ok(verifier
        .map(Verifier::finish)
        .filter(|v| v.head.last_seq == upto as u64 && v.count == (upto - after) as u64)
        .map(|v| (first_prev, v)))
}

fn empty_event() -> ChainedEvent {
    ChainedEvent {
        event: AuditEvent {
            seq: 0,
            at: Utc.timestamp_opt(0, 0).single().expect("the epoch"),
            actor: String::new(),
            device: None,
            address: None,
            action: String::new(),
            ticket_id: None,
            before: None,
            after: None,
            detail: String::new(),
        },
        prev_hash: Hash32::GENESIS,
        hash: Hash32::GENESIS,
    }
}

/// One segment's outcome: the events `after < seq <= upto`, verified as a chain that starts
/// wherever its first event says it starts (the join checks that).
struct Segment {
    result: Result<Verified, ChainBreak>,
    /// The first event's sequence number and `prev_hash`, if the segment has any event.
    first: Option<(u64, Hash32)>,
}

fn verify_segment(conn: &rusqlite::Connection, after: i64, upto: i64) -> anyhow::Result<Segment> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {CHAIN_COLUMNS} FROM audit WHERE seq > ?1 AND seq <= ?2 ORDER BY seq"
    ))?;
    let mut rows = stmt.query([after, upto])?;
    let mut event = empty_event();
    let mut verifier: Option<Verifier> = None;
    let mut first = None;
    while let Some(r) = rows.next()? {
        decode_into(r, &mut event)?;
        let v = verifier.get_or_insert_with(|| {
            first = Some((event.event.seq, event.prev_hash));
            if after == 0 {
                Verifier::new()
            } else {
                // Starts where the segment says it starts; `join_segments` checks that.
                Verifier::resume(ChainHead {
                    last_seq: after as u64,
                    hash: event.prev_hash,
                })
            }
        });
        if let Err(broken) = v.push(&event) {
            return Ok(Segment {
                result: Err(broken),
                first,
            });
        }
    }
    let result = Ok(match verifier {
        Some(v) => v.finish(),
        None if after == 0 => Verifier::new().finish(),
        None => Verified {
            count: 0,
            head: ChainHead {
                last_seq: after as u64,
                hash: Hash32::GENESIS,
            },
        },
    });
    Ok(Segment { result, first })
}

/// The answer the one-pass verifier gives, from two halves cut after `middle`.
fn join_segments(first: Segment, second: Segment, middle: i64) -> Result<Verified, ChainBreak> {
    let a = first.result?;
    let Some((second_seq, second_prev)) = second.first else {
        // Nothing past the middle: the whole chain is the first half (`conclude` judges its end).
        return Ok(a);
    };
    let shift = |mut b: ChainBreak| {
        b.index += a.count as usize;
        b
    };
    if a.head.last_seq < middle as u64 {
        // The first half ends early: the next event found is past a gap.
        return Err(ChainBreak {
            seq: second_seq,
            index: a.count as usize,
            kind: BreakKind::SequenceGap {
                expected: a.head.last_seq + 1,
                found: second_seq,
            },
        });
    }
    if second_seq != middle as u64 + 1 {
        // The second half's verifier names the gap at its first event.
        return second.result.map_err(shift).and(Err(ChainBreak {
            seq: second_seq,
            index: a.count as usize,
            kind: BreakKind::SequenceGap {
                expected: middle as u64 + 1,
                found: second_seq,
            },
        }));
    }
    if second_prev != a.head.hash {
        return Err(ChainBreak {
            seq: second_seq,
            index: a.count as usize,
            kind: BreakKind::LinkBroken {
                expected_prev: a.head.hash,
                stored_prev: second_prev,
            },
        });
    }
    let b = second.result.map_err(shift)?;
    Ok(Verified {
        count: a.count + b.count,
        head: b.head,
    })
}

/// Hex text to a hash without allocating (see [`Hash32::from_hex_bytes`]).
fn hash_from(bytes: &[u8]) -> anyhow::Result<Hash32> {
    Hash32::from_hex_bytes(bytes).map_err(|e| {
        anyhow::anyhow!(
            "stored hash {:?} is not 64 hex digits: {e}",
            String::from_utf8_lossy(bytes)
        )
    })
}

/// Decodes a row into `into`, reusing its strings' buffers.
fn decode_into(r: &rusqlite::Row<'_>, into: &mut ChainedEvent) -> anyhow::Result<()> {
    use rusqlite::types::ValueRef;
    let text = |i: usize| -> anyhow::Result<Option<&[u8]>> {
        Ok(match r.get_ref(i)? {
            ValueRef::Null => None,
            ValueRef::Text(t) => Some(t),
            other => anyhow::bail!("audit column {i} holds {:?}, not text", other.data_type()),
        })
    };
    let required = |i: usize, name: &str| -> anyhow::Result<&str> {
        let bytes = text(i)?.ok_or_else(|| anyhow::anyhow!("audit {name} is empty"))?;
        Ok(std::str::from_utf8(bytes)?)
    };
    let set = |target: &mut String, value: &str| {
        target.clear();
        target.push_str(value);
    };
    let set_opt = |target: &mut Option<String>, value: Option<&[u8]>| -> anyhow::Result<()> {
        match value {
            None => *target = None,
            Some(bytes) => {
                let value = std::str::from_utf8(bytes)?;
                match target {
                    Some(existing) => set(existing, value),
                    None => *target = Some(value.to_owned()),
                }
            }
        }
        Ok(())
    };
    let e = &mut into.event;
    e.seq = r.get::<_, i64>(0)? as u64;
    e.at = Utc
        .timestamp_micros(r.get(1)?)
        .single()
        .ok_or_else(|| anyhow::anyhow!("audit time out of range"))?;
    set(&mut e.actor, required(2, "actor")?);
    set_opt(&mut e.device, text(3)?)?;
    set_opt(&mut e.address, text(4)?)?;
    set(&mut e.action, required(5, "action")?);
    e.ticket_id = text(6)?.map(Uuid::try_parse_ascii).transpose()?;
    e.before = text(7)?.map(hash_from).transpose()?;
    e.after = text(8)?.map(hash_from).transpose()?;
    set(&mut e.detail, required(9, "detail")?);
    let hex = |i: usize, name: &str| -> anyhow::Result<Hash32> {
        hash_from(text(i)?.ok_or_else(|| anyhow::anyhow!("audit {name} is empty"))?)
    };
    into.prev_hash = hex(10, "prev_hash")?;
    into.hash = hex(11, "hash")?;
    Ok(())
}

async fn counter(pool: &AnyPool) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT value FROM counters WHERE name = 'audit_seq'")
            .fetch_one(pool)
            .await?,
    )
}

/// The chain head as pages and exports state it (see the module documentation): the counter's
/// sequence number with the hash of the newest event at or below it that exists.
pub async fn head(pool: &AnyPool) -> anyhow::Result<ChainHead> {
    let (last_seq, last_hash): (i64, Option<String>) = sqlx::query_as(
        "SELECT c.value, (SELECT a.hash FROM audit a WHERE a.seq <= c.value ORDER BY a.seq DESC LIMIT 1)
         FROM counters c WHERE c.name = 'audit_seq'",
    )
    .fetch_one(pool)
    .await?;
    Ok(ChainHead {
        last_seq: last_seq as u64,
        hash: last_hash
            .as_deref()
            .map(hash)
            .transpose()?
            .unwrap_or(Hash32::GENESIS),
    })
}

/// Checks a query and fills its defaults: empty strings are no filter, `limit` is 1 to
/// [`MAX_AUDIT_PAGE`] (default [`DEFAULT_AUDIT_PAGE`]), `from` must come before `to`.
pub fn normalise(mut query: AuditQuery) -> Result<AuditQuery, String> {
    for field in [
        &mut query.actor,
        &mut query.action,
        &mut query.department,
        &mut query.device,
    ] {
        if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
            *field = None;
        }
    }
    let limit = query.limit.unwrap_or(DEFAULT_AUDIT_PAGE);
    if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
        return Err(format!(
            "limit must be between 1 and {MAX_AUDIT_PAGE}; got {limit}"
        ));
    }
    query.limit = Some(limit);
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from >= to {
            return Err(format!(
                "`from` ({}) must be before `to` ({})",
                from.to_rfc3339(),
                to.to_rfc3339()
            ));
        }
    }
    for (name, value) in [
        ("before_seq", query.before_seq),
        ("after_seq", query.after_seq),
    ] {
        if value.is_some_and(|v| i64::try_from(v).is_err()) {
            return Err(format!("{name} is out of range"));
        }
    }
    Ok(query)
}

#[derive(Clone)]
enum Arg {
    Int(i64),
    Text(String),
}

/// Events matching `query` (already [`normalise`]d) with `seq <= upper`: ascending after
/// `after_seq` when it is given, otherwise newest first. Returns up to `limit` records and
/// whether more match.
async fn fetch(
    pool: &AnyPool,
    query: &AuditQuery,
    upper: i64,
) -> anyhow::Result<(Vec<AuditRecord>, bool)> {
    let (sql, args, limit) = page_sql(query, upper);
    if let Some(path) = sqlite_file(pool) {
        // SQLite: read the file directly (sqlx's `Any` driver spends ~8 µs a row, which made a
        // client's verification of a million events take ~20 s), on a blocking thread.
        let (file_sql, file_args) = (sql.clone(), args.clone());
        match tokio::task::spawn_blocking(move || fetch_file(&path, &file_sql, &file_args, limit))
            .await?
        {
            Err(FastPath::Unavailable(why)) => {
                tracing::debug!("direct audit read unavailable ({why}); reading through the pool");
            }
            Err(FastPath::Failed(e)) => return Err(e),
            Ok(page) => return Ok(page),
        }
    }
    fetch_pool(pool, sql, args, limit).await
}

async fn fetch_pool(
    pool: &AnyPool,
    sql: String,
    args: Vec<Arg>,
    limit: usize,
) -> anyhow::Result<(Vec<AuditRecord>, bool)> {
    let mut statement = sqlx::query(sqlx::AssertSqlSafe(sql));
    for arg in args {
        statement = match arg {
            Arg::Int(v) => statement.bind(v),
            Arg::Text(v) => statement.bind(v),
        };
    }
    let rows = statement.fetch_all(pool).await?;
    let has_more = rows.len() > limit;
    let records = rows
        .iter()
        .take(limit)
        .map(decode)
        .collect::<anyhow::Result<_>>()?;
    Ok((records, has_more))
}

/// The same page read from the SQLite file with rusqlite (`$1`… are SQLite parameters too,
/// numbered in order of appearance).
fn fetch_file(
    path: &Path,
    sql: &str,
    args: &[Arg],
    limit: usize,
) -> Result<(Vec<AuditRecord>, bool), FastPath> {
    let conn = open_reader(path)?;
    let mut stmt = conn.prepare(sql)?;
    for (i, arg) in args.iter().enumerate() {
        match arg {
            Arg::Int(v) => stmt.raw_bind_parameter(i + 1, v)?,
            Arg::Text(v) => stmt.raw_bind_parameter(i + 1, v)?,
        }
    }
    let mut rows = stmt.raw_query();
    let mut records = Vec::with_capacity(limit.min(1024));
    let mut has_more = false;
    while let Some(r) = rows.next()? {
        if records.len() == limit {
            has_more = true;
            break;
        }
        let mut chained = empty_event();
        decode_into(r, &mut chained)?;
        let department = match r.get_ref(12)? {
            rusqlite::types::ValueRef::Null => None,
            rusqlite::types::ValueRef::Text(t) => Some(std::str::from_utf8(t)?.to_owned()),
            other => {
                return Err(anyhow::anyhow!(
                    "audit department holds {:?}, not text",
                    other.data_type()
                )
                .into())
            }
        };
        records.push(AuditRecord {
            chained,
            department,
        });
    }
    Ok((records, has_more))
}

/// The SQL of a page (`LIMIT` one more than asked, to tell whether more follow), its arguments
/// and the page size.
fn page_sql(query: &AuditQuery, upper: i64) -> (String, Vec<Arg>, usize) {
    let limit = query.limit.unwrap_or(DEFAULT_AUDIT_PAGE) as usize;
    let mut conditions = vec!["seq <= $1".to_owned()];
    let mut args = vec![Arg::Int(upper)];
    let mut push = |condition: &str, arg: Arg| {
        args.push(arg);
        conditions.push(condition.replace('?', &format!("${}", args.len())));
    };
    if let Some(from) = query.from {
        push("at >= ?", Arg::Int(from.timestamp_micros()));
    }
    if let Some(to) = query.to {
        push("at < ?", Arg::Int(to.timestamp_micros()));
    }
    if let Some(actor) = &query.actor {
        push("actor = ?", Arg::Text(actor.clone()));
    }
    if let Some(ticket) = query.ticket_id {
        push("ticket_id = ?", Arg::Text(ticket.to_string()));
    }
    if let Some(action) = &query.action {
        match action.strip_suffix('.') {
            // A family: every action that starts with `prefix.`, as an index range
            // (`'/'` follows `'.'`).
            Some(prefix) => {
                push("action >= ?", Arg::Text(format!("{prefix}.")));
                push("action < ?", Arg::Text(format!("{prefix}/")));
            }
            None => push("action = ?", Arg::Text(action.clone())),
        }
    }
    if let Some(department) = &query.department {
        push("department = ?", Arg::Text(department.clone()));
    }
    if let Some(device) = &query.device {
        push("device = ?", Arg::Text(device.clone()));
    }
    if let Some(before) = query.before_seq {
        push("seq < ?", Arg::Int(before as i64));
    }
    if let Some(after) = query.after_seq {
        push("seq > ?", Arg::Int(after as i64));
    }
    let order = if query.after_seq.is_some() {
        "ASC"
    } else {
        "DESC"
    };
    // Only column names, placeholders and server-side numbers are formatted into the SQL.
    let sql = format!(
        "SELECT {COLUMNS} FROM audit WHERE {} ORDER BY seq {order} LIMIT {}",
        conditions.join(" AND "),
        limit + 1
    );
    (sql, args, limit)
}

/// One page of the trail for a [`normalise`]d query, with the chain head read first.
pub async fn page(pool: &AnyPool, query: &AuditQuery) -> anyhow::Result<AuditPage> {
    let head = head(pool).await?;
    let (events, has_more) = fetch(pool, query, head.last_seq as i64).await?;
    Ok(AuditPage {
        events,
        has_more,
        head,
    })
}

/// `GET /v1/audit/events`: the audit trail for supervisors and admins.
///
/// Without `after_seq`, pages run newest first (continue with `before_seq` = the last `seq`
/// received); with `after_seq` they run oldest first, which is how a client reads the whole
/// chain to verify it itself. `head` is the chain head from the server's own counter (see the
/// module documentation: a client that reaches the end of the chain before `head.last_seq`
/// knows the newest events were removed).
#[utoipa::path(get, path = "/v1/audit/events", security(("bearer" = [])), params(AuditQuery), responses((status = 200, body = AuditPage), (status = 400, description = "Malformed query: a bad date or id, or a limit over 5 000", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody), (status = 403, description = "Agents may not read the audit trail", body = crate::error::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    user: AuthUser,
    uri: Uri,
) -> ApiResult<Json<AuditPage>> {
    user.require(&[Role::Supervisor, Role::Admin])?;
    // Parsed after the role check, so an agent learns nothing from the query's validation.
    let axum::extract::Query(query) = axum::extract::Query::<AuditQuery>::try_from_uri(&uri)
        .map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let query = normalise(query).map_err(ApiError::BadRequest)?;
    Ok(Json(page(&state.db.pool, &query).await?))
}

/// Reads every event `query` selects (oldest first, at most up to `head`). Without filters other
/// than the time range the events must be contiguous (a hole means the clock went backwards
/// between two appends, or rows are missing): that is refused with the place named.
async fn collect(
    pool: &AnyPool,
    query: &AuditQuery,
    head: &ChainHead,
) -> anyhow::Result<Vec<ChainedEvent>> {
    let mut page_query = AuditQuery {
        after_seq: Some(query.after_seq.unwrap_or(0)),
        limit: Some(MAX_AUDIT_PAGE),
        ..query.clone()
    };
    let mut events: Vec<ChainedEvent> = Vec::new();
    loop {
        let (records, has_more) = fetch(pool, &page_query, head.last_seq as i64).await?;
        for record in records {
            if let (false, Some(last)) = (query.is_filtered(), events.last()) {
                let seq = record.chained.event.seq;
                if seq != last.event.seq + 1 {
                    anyhow::bail!(
                        "the selected events are not contiguous: #{} is followed by #{seq}; \
                         run `outpost-server audit verify`, or widen the time range if the \
                         server clock went backwards",
                        last.event.seq
                    );
                }
            }
            events.push(record.chained);
        }
        match events.last() {
            Some(last) if has_more => page_query.after_seq = Some(last.event.seq),
            _ => return Ok(events),
        }
    }
}

/// Builds an export of the events `query` selects (filters and time range; paging fields are
/// ignored), stating the current chain head.
pub async fn export(
    pool: &AnyPool,
    query: AuditQuery,
    exported_by: &str,
    source: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<AuditExport> {
    let query = normalise(AuditQuery {
        before_seq: None,
        after_seq: None,
        limit: None,
        ..query
    })
    .map_err(|e| anyhow::anyhow!(e))?;
    let head = head(pool).await?;
    let events = collect(pool, &query, &head).await?;
    Ok(AuditExport::new(
        events,
        head,
        &query,
        exported_by.to_owned(),
        source.to_owned(),
        now,
    ))
}

/// One archive file written by [`archive`].
#[derive(Debug, Clone)]
pub struct Archived {
    pub file: PathBuf,
    pub first_seq: u64,
    pub last_seq: u64,
    pub count: u64,
    pub file_sha256: String,
    pub head: ChainHead,
    pub verified: ExportVerified,
}

/// Retention: writes the events older than `cutoff` that no earlier archive holds to a new JSON
/// export in `dir`, reads the file back and verifies it, and records it (range, hashes, the
/// file's SHA-256) in `audit_archives` with an `audit.archive` event. Nothing is ever deleted:
/// the retention period decides what is archived, not what is erased.
///
/// `Ok(None)` when there is nothing new to archive.
pub async fn archive(
    db: &Db,
    dir: &Path,
    cutoff: DateTime<Utc>,
    actor: &str,
    source: &str,
) -> anyhow::Result<Option<Archived>> {
    let pool = &db.pool;
    let previous: Option<(i64, String)> = sqlx::query_as(
        "SELECT last_seq, last_hash FROM audit_archives ORDER BY last_seq DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    let after = previous.as_ref().map_or(0, |p| p.0);
    let head = head(pool).await?;
    let last: Option<i64> =
        sqlx::query_scalar("SELECT max(seq) FROM audit WHERE at < $1 AND seq <= $2")
            .bind(cutoff.timestamp_micros())
            .bind(head.last_seq as i64)
            .fetch_one(pool)
            .await?;
    let Some(last) = last.filter(|l| *l > after) else {
        return Ok(None);
    };
    let query = AuditQuery {
        to: Some(cutoff),
        ..AuditQuery::default()
    };
    let range = AuditQuery {
        after_seq: Some(after as u64),
        ..query.clone()
    };
    let last_head = ChainHead {
        last_seq: last as u64,
        hash: Hash32::GENESIS,
    };
    let events = collect(
        pool,
        &normalise(range).map_err(|e| anyhow::anyhow!(e))?,
        &last_head,
    )
    .await?;
    let first = events
        .first()
        .ok_or_else(|| anyhow::anyhow!("events #{}–#{last} are missing", after + 1))?;
    if first.event.seq != after as u64 + 1 {
        anyhow::bail!(
            "event #{} is missing (the archive would start at #{}); run `outpost-server audit verify`",
            after + 1,
            first.event.seq
        );
    }
    if let Some((_, previous_hash)) = &previous {
        if first.prev_hash.to_hex() != *previous_hash {
            anyhow::bail!(
                "event #{} does not follow the last archived event #{after}: the chain was \
                 rewritten after it was archived",
                first.event.seq
            );
        }
    }
    let export = AuditExport::new(
        events,
        head.clone(),
        &query,
        actor.to_owned(),
        source.to_owned(),
        crate::db::now(),
    );
    export
        .verify()
        .map_err(|problem| anyhow::anyhow!("not archived: {problem}"))?;

    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let h = &export.header;
    let file = dir.join(format!(
        "outpost-audit-{:012}-{:012}.json",
        h.first_seq, h.last_seq
    ));
    let json = export.to_json();
    {
        use std::io::Write;
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&file)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", file.display()))?;
        out.write_all(json.as_bytes())?;
        out.sync_all()?;
    }
    // What is recorded is what is on disk, read back and verified again.
    let written = std::fs::read(&file)?;
    let verified = AuditExport::parse(std::str::from_utf8(&written)?)?
        .verify()
        .map_err(|problem| {
            anyhow::anyhow!(
                "{} does not verify after writing: {problem}",
                file.display()
            )
        })?;
    let file_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&written));
    let last_event = export.events.last().expect("at least one event");

    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO audit_archives (id, created_at, created_by, cutoff_micros, first_seq, last_seq,
             event_count, first_prev_hash, last_hash, head_seq, head_hash, file, file_sha256)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(crate::db::now_millis())
    .bind(actor)
    .bind(cutoff.timestamp_micros())
    .bind(h.first_seq as i64)
    .bind(h.last_seq as i64)
    .bind(h.count as i64)
    .bind(h.first_prev_hash.to_hex())
    .bind(last_event.hash.to_hex())
    .bind(head.last_seq as i64)
    .bind(head.hash.to_hex())
    .bind(file.display().to_string())
    .bind(&file_sha256)
    .execute(&mut *tx)
    .await?;
    AuditEntry::audit_archived(
        actor,
        h.first_seq,
        h.last_seq,
        h.count,
        cutoff,
        &last_event.hash,
        file.file_name().map(|n| n.to_string_lossy().into_owned()),
        &file_sha256,
    )
    .append(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(Some(Archived {
        file,
        first_seq: h.first_seq,
        last_seq: h.last_seq,
        count: h.count,
        file_sha256,
        head,
        verified,
    }))
}
