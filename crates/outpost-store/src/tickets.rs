//! Ticket and entry rows: writing them with their derived columns (deadlines, tags, search
//! document) and reading them back.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use outpost_core::model::{
    Entry, EntryBody, RiskActionKind, RiskLevel, Ticket, TicketEvent, TicketId, VerificationCheck,
    VerificationDimension, VerificationResult,
};
use outpost_core::rules::{
    l1_freeze_deadline, l1_freeze_status, AccountRiskState, AccountStatus, L1FreezeStatus,
    RiskRefusal, SensitiveAction, VerificationPolicy,
};
use outpost_core::sla::{ClockKind, ClockState, SlaReport, SlaSettings};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use uuid::Uuid;

use crate::columns::{from_millis, millis, priority_rank, DUE_NONE, DUE_PAUSED};
use crate::search;
use crate::{corrupt, Result, Store, StoreError};

/// A ticket with its timeline and live SLA clocks, as the detail pane shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TicketDetail {
    pub ticket: Ticket,
    pub entries: Vec<Entry>,
    pub sla: SlaReport,
    /// Local changes to this ticket not yet confirmed by the server.
    pub unsent: u32,
    /// Whether opening the ticket is recorded in the audit chain (`Ticket::is_sensitive`).
    pub sensitive: bool,
    /// The identity-verification and risk-action picture, decided by outpost-core's rules.
    pub risk: RiskPanel,
}

/// What the verification checklist and the risk-action buttons show, so the UI renders
/// decisions instead of re-implementing the rules: the verification policy per action, the
/// account state the recorded risk actions left, and the L1 freeze clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RiskPanel {
    /// The latest definitive result per dimension (`not_available` changes nothing), in
    /// `VerificationDimension::ALL` order; dimensions never checked are left out.
    pub checks: Vec<VerificationCheck>,
    /// Whether the account is frozen, replaying the ticket's risk actions.
    pub frozen: bool,
    /// Transactions intercepted so far.
    pub intercepted: Vec<String>,
    /// One gate per risk action, in `RiskActionKind::ALL` order.
    pub actions: Vec<ActionGate>,
    /// The 10-minute freeze clock of an L1 ticket; `None` below L1.
    pub l1: Option<L1Freeze>,
}

/// Whether one risk action may be taken now, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActionGate {
    pub action: RiskActionKind,
    /// The verification policy allows the action.
    pub verified: bool,
    /// Passed dimensions, and how many the action needs on this ticket.
    pub passed: u8,
    pub needed: u8,
    /// Dimensions the action requires by name that have not passed.
    pub missing_required: Vec<VerificationDimension>,
    /// Why the account's state refuses the action (checked against the requester's account;
    /// an interception's transaction is named later, so only the server's check applies to it).
    pub refusal: Option<StateRefusal>,
}

/// An account-state refusal the panel can name before the agent tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum StateRefusal {
    AlreadyFrozen,
    NotFrozen,
}

/// The L1 freeze clock: decided (met or missed) once a freeze is recorded, else running towards
/// `deadline` (the UI counts down to it, and up past it, like an SLA badge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum L1Freeze {
    Met { took_seconds: i64 },
    Missed { late_seconds: i64 },
    Running { deadline: DateTime<Utc> },
}

/// The risk panel of `ticket` from its timeline (oldest first), under `policy`.
pub fn risk_panel(ticket: &Ticket, entries: &[Entry], policy: &VerificationPolicy) -> RiskPanel {
    let mut checks = Vec::new();
    let mut account = AccountRiskState::default();
    let mut raised_at = None;
    let mut frozen_at = None;
    for entry in entries {
        match &entry.body {
            EntryBody::Verification { checks: c } => checks.extend(c.iter().cloned()),
            EntryBody::RiskAction { action, target, .. } => {
                // History was valid when written; a replayed refusal leaves the state as it is.
                if let Ok(next) = account.after(*action, target) {
                    account = next;
                }
                if *action == RiskActionKind::FreezeAccount && frozen_at.is_none() {
                    frozen_at = Some(entry.created_at);
                }
            }
            EntryBody::Event {
                event: TicketEvent::RiskChanged { to, .. },
            } if *to == RiskLevel::L1 => {
                // The clock restarts each time the ticket becomes L1; an earlier freeze does not count.
                raised_at = Some(entry.created_at);
                frozen_at = None;
            }
            _ => {}
        }
    }
    let mut latest: BTreeMap<VerificationDimension, VerificationCheck> = BTreeMap::new();
    for check in &checks {
        if check.result != VerificationResult::NotAvailable {
            latest.insert(check.dimension, check.clone());
        }
    }
    let actions = RiskActionKind::ALL
        .iter()
        .map(|&action| {
            let decision = policy.evaluate(SensitiveAction::from(action), ticket.risk, &checks);
            let refusal = match action {
                RiskActionKind::InterceptTransaction => None,
                _ => match account.after(action, "account") {
                    Err(RiskRefusal::AlreadyFrozen) => Some(StateRefusal::AlreadyFrozen),
                    Err(RiskRefusal::NotFrozen) => Some(StateRefusal::NotFrozen),
                    _ => None,
                },
            };
            ActionGate {
                action,
                verified: decision.allowed,
                passed: u8::try_from(decision.passed.len()).unwrap_or(u8::MAX),
                needed: decision.needed,
                missing_required: decision.missing_required,
                refusal,
            }
        })
        .collect();
    let l1 = (ticket.risk == RiskLevel::L1).then(|| {
        let raised = raised_at.unwrap_or(ticket.created_at);
        match l1_freeze_status(raised, frozen_at, raised) {
            L1FreezeStatus::Met { took } => L1Freeze::Met {
                took_seconds: took.num_seconds(),
            },
            L1FreezeStatus::Missed { late_by } => L1Freeze::Missed {
                late_seconds: late_by.num_seconds(),
            },
            L1FreezeStatus::Running { .. } | L1FreezeStatus::Overdue { .. } => L1Freeze::Running {
                deadline: l1_freeze_deadline(raised),
            },
        }
    });
    RiskPanel {
        checks: VerificationDimension::ALL
            .iter()
            .filter_map(|d| latest.remove(d))
            .collect(),
        frozen: account.status == AccountStatus::Frozen,
        intercepted: account.intercepted.into_iter().collect(),
        actions,
        l1,
    }
}

/// The nearest running deadline and when it turns "at risk", as sortable columns.
pub(crate) fn deadlines_of(report: &SlaReport, ticket: &Ticket) -> (i64, i64) {
    match report.next_deadline() {
        Some(d) => (millis(d.due_at), d.warn_at.map_or(millis(d.due_at), millis)),
        None if ticket.status.is_open() && ticket.is_paused() => (DUE_PAUSED, DUE_PAUSED),
        None => (DUE_NONE, DUE_NONE),
    }
}

pub(crate) fn ticket_rowid(conn: &Connection, id: TicketId) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT rowid FROM tickets WHERE id = ?1")?
        .query_row([id.as_bytes()], |r| r.get(0))
        .optional()?)
}

pub(crate) fn load_ticket(conn: &Connection, id: TicketId) -> Result<Option<(i64, Ticket)>> {
    let row: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT t.rowid, d.doc FROM tickets t JOIN ticket_docs d ON d.rowid = t.rowid
             WHERE t.id = ?1",
        )?
        .query_row([id.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(rowid, doc)| Ok((rowid, serde_json::from_str(&doc).map_err(corrupt)?)))
        .transpose()
}

/// Inserts or replaces a ticket row and its tags; returns its rowid. `unsent` is the number of
/// the ticket's outbox mutations the server has not processed yet.
pub(crate) fn upsert_ticket(
    conn: &Connection,
    sla: &SlaSettings,
    ticket: &Ticket,
    now: DateTime<Utc>,
    unsent: i64,
) -> Result<i64> {
    let report = sla.evaluate(ticket, now);
    let (due, warn) = deadlines_of(&report, ticket);
    let revisit = revisit_due(&report);
    let doc = serde_json::to_string(ticket).map_err(corrupt)?;
    let rowid: i64 = conn
        .prepare_cached(
            "INSERT INTO tickets (id, key, subject, status, priority, risk, category, department,
                 assignee, requester_name, created_at, updated_at, sla_due_at, sla_warn_at,
                 revision, unsent, revisit_due_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             ON CONFLICT(id) DO UPDATE SET key = ?2, subject = ?3, status = ?4, priority = ?5,
                 risk = ?6, category = ?7, department = ?8, assignee = ?9, requester_name = ?10,
                 created_at = ?11, updated_at = ?12, sla_due_at = ?13, sla_warn_at = ?14,
                 revision = ?15, unsent = ?16, revisit_due_at = ?17
             RETURNING rowid",
        )?
        .query_row(
            params![
                ticket.id.as_bytes(),
                ticket.key,
                ticket.subject,
                ticket.status.as_str(),
                priority_rank(ticket.priority),
                ticket.risk.as_str(),
                ticket.category.as_str(),
                ticket.department,
                ticket.assignee.as_ref().map(|a| a.as_bytes().to_vec()),
                ticket.requester.name,
                millis(ticket.created_at),
                millis(ticket.updated_at),
                due,
                warn,
                ticket.revision as i64,
                unsent,
                revisit,
            ],
            |r| r.get(0),
        )?;
    write_facts(conn, rowid, ticket, &report)?;
    conn.prepare_cached(
        "INSERT INTO ticket_docs (rowid, doc) VALUES (?1, ?2)
         ON CONFLICT(rowid) DO UPDATE SET doc = ?2",
    )?
    .execute(params![rowid, doc])?;
    conn.prepare_cached("DELETE FROM ticket_tags WHERE ticket_rowid = ?1")?
        .execute([rowid])?;
    let mut insert_tag =
        conn.prepare_cached("INSERT INTO ticket_tags (tag, ticket_rowid) VALUES (?1, ?2)")?;
    for tag in &ticket.tags {
        insert_tag.execute(params![tag, rowid])?;
    }
    Ok(rowid)
}

/// When the satisfaction revisit is due, while its clock runs (unix ms).
pub(crate) fn revisit_due(report: &SlaReport) -> Option<i64> {
    report
        .clocks
        .iter()
        .find(|c| c.kind == ClockKind::Revisit && c.state.is_running())
        .and_then(|c| c.due_at)
        .map(millis)
}

/// How a clock ended, for `ticket_facts`: 0 running, 1 met, 2 breached, 3 no such clock.
/// The report facts' clock columns: outcome and due time of the first-response, periodic-update
/// and resolution clocks, in that order.
pub(crate) fn clock_facts(report: &SlaReport) -> [(i64, Option<i64>); 3] {
    [
        outcome(report, ClockKind::FirstResponse),
        outcome(report, ClockKind::PeriodicUpdate),
        outcome(report, ClockKind::Resolution),
    ]
}

fn outcome(report: &SlaReport, kind: ClockKind) -> (i64, Option<i64>) {
    match report.clocks.iter().find(|c| c.kind == kind) {
        None => (3, None),
        Some(c) => match c.state {
            ClockState::Met => (1, c.due_at.map(millis)),
            ClockState::MetLate => (2, c.due_at.map(millis)),
            ClockState::Breached => (2, c.due_at.map(millis)),
            ClockState::OnTrack | ClockState::AtRisk | ClockState::Paused => {
                (0, c.due_at.map(millis))
            }
        },
    }
}

/// The ticket's row of report facts (see schema 4).
pub(crate) fn write_facts(
    conn: &Connection,
    rowid: i64,
    ticket: &Ticket,
    report: &SlaReport,
) -> Result<()> {
    let [(fr_out, fr_due), (up_out, up_due), (res_out, res_due)] = clock_facts(report);
    conn.prepare_cached(
        "INSERT INTO ticket_facts (rowid, created_at, department, assignee, priority, category,
             channel, account, open, first_response_at, resolved_at, csat,
             fr_out, fr_due, up_out, up_due, res_out, res_due)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
         ON CONFLICT(rowid) DO UPDATE SET created_at = ?2, department = ?3, assignee = ?4,
             priority = ?5, category = ?6, channel = ?7, account = ?8, open = ?9,
             first_response_at = ?10, resolved_at = ?11, csat = ?12, fr_out = ?13, fr_due = ?14,
             up_out = ?15, up_due = ?16, res_out = ?17, res_due = ?18",
    )?
    .execute(params![
        rowid,
        millis(ticket.created_at),
        ticket.department,
        ticket.assignee.as_ref().map(|a| a.as_bytes().to_vec()),
        priority_rank(ticket.priority),
        ticket.category.as_str(),
        ticket.channel.as_str(),
        ticket.requester.account_id,
        ticket.status.is_open(),
        ticket.first_response_at.map(millis),
        ticket.resolved_at.map(millis),
        ticket.csat.as_ref().map(|c| i64::from(c.score)),
        fr_out,
        fr_due,
        up_out,
        up_due,
        res_out,
        res_due,
    ])?;
    Ok(())
}

/// Deletes the cached bytes of an attachment entry that is being redacted.
fn forget_attachment_of(conn: &Connection, entry: &Entry) -> Result<()> {
    let old: Option<String> = conn
        .prepare_cached("SELECT body FROM entries WHERE id = ?1")?
        .query_row([entry.id.as_bytes()], |r| r.get(0))
        .optional()?;
    if let Some(EntryBody::Attachment { attachment_id, .. }) =
        old.and_then(|b| serde_json::from_str::<EntryBody>(&b).ok())
    {
        conn.prepare_cached("DELETE FROM attachments WHERE id = ?1")?
            .execute([attachment_id.as_bytes()])?;
    }
    Ok(())
}

/// Remembers that a ticket was reopened, from a timeline entry.
fn note_reopen(conn: &Connection, entry: &Entry) -> Result<()> {
    if let EntryBody::Event {
        event: TicketEvent::Reopened { .. },
    } = &entry.body
    {
        conn.prepare_cached("INSERT OR IGNORE INTO reopened_tickets (ticket_id) VALUES (?1)")?
            .execute([entry.ticket_id.as_bytes()])?;
    }
    Ok(())
}

/// Inserts or replaces a timeline entry. `local` marks an optimistic entry. The ticket row need
/// not exist yet (see the `entries` table).
pub(crate) fn upsert_entry(conn: &Connection, entry: &Entry, local: bool) -> Result<()> {
    let body = serde_json::to_string(&entry.body).map_err(corrupt)?;
    if matches!(entry.body, EntryBody::Redacted { .. }) {
        forget_attachment_of(conn, entry)?;
    }
    conn.prepare_cached(
        "INSERT INTO entries (id, ticket_id, kind, author, created_at, local, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(id) DO UPDATE SET ticket_id = ?2, kind = ?3, author = ?4,
             created_at = ?5, local = ?6, body = ?7",
    )?
    .execute(params![
        entry.id.as_bytes(),
        entry.ticket_id.as_bytes(),
        entry.body.kind().as_str(),
        entry.author.as_ref().map(|a| a.as_bytes().to_vec()),
        millis(entry.created_at),
        local,
        body,
    ])?;
    note_reopen(conn, entry)
}

/// Inserts an optimistic entry unless the server's copy (same id) is already there.
pub(crate) fn insert_local_entry(conn: &Connection, entry: &Entry) -> Result<()> {
    let body = serde_json::to_string(&entry.body).map_err(corrupt)?;
    conn.prepare_cached(
        "INSERT INTO entries (id, ticket_id, kind, author, created_at, local, body)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)
         ON CONFLICT(id) DO NOTHING",
    )?
    .execute(params![
        entry.id.as_bytes(),
        entry.ticket_id.as_bytes(),
        entry.body.kind().as_str(),
        entry.author.as_ref().map(|a| a.as_bytes().to_vec()),
        millis(entry.created_at),
        body,
    ])?;
    note_reopen(conn, entry)
}

/// Deletes the optimistic entries of a ticket (a rebase writes them again).
pub(crate) fn delete_local_entries(conn: &Connection, id: TicketId) -> Result<()> {
    conn.prepare_cached("DELETE FROM entries WHERE ticket_id = ?1 AND local = 1")?
        .execute([id.as_bytes()])?;
    Ok(())
}

/// Deletes a derived ticket row that no longer has a base (no server truth, no local create).
/// Server entries stay for when the ticket arrives.
pub(crate) fn drop_row(conn: &Connection, id: TicketId, rowid: i64) -> Result<()> {
    delete_local_entries(conn, id)?;
    search::replace_document(conn, rowid, None)?;
    conn.prepare_cached("DELETE FROM tickets WHERE rowid = ?1")?
        .execute([rowid])?;
    Ok(())
}

/// The search document of ticket row `rowid` (its key, subject, requester, description and every
/// entry's text), or `None` when there is no such row.
pub(crate) fn document_text(conn: &Connection, rowid: i64) -> Result<Option<String>> {
    let doc: Option<String> = conn
        .prepare_cached("SELECT doc FROM ticket_docs WHERE rowid = ?1")?
        .query_row([rowid], |r| r.get(0))
        .optional()?;
    let Some(doc) = doc else {
        return Ok(None);
    };
    let ticket: Ticket = serde_json::from_str(&doc).map_err(corrupt)?;
    let mut text = String::with_capacity(ticket.subject.len() + ticket.description.len() + 256);
    // Exactly `search::HEADER_LINES` lines before the description.
    for part in [
        ticket.key.as_deref().unwrap_or(""),
        &ticket.subject,
        &ticket.requester.name,
        ticket.requester.account_id.as_deref().unwrap_or(""),
        &ticket.description,
    ] {
        text.push_str(part);
        text.push('\n');
    }
    let mut stmt = conn.prepare_cached(
        "SELECT body FROM entries WHERE ticket_id = ?1 ORDER BY created_at, rowid",
    )?;
    let mut rows = stmt.query([ticket.id.as_bytes()])?;
    while let Some(row) = rows.next()? {
        let body: String = row.get(0)?;
        let body: EntryBody = serde_json::from_str(&body).map_err(corrupt)?;
        if let Some(t) = body.searchable_text() {
            text.push_str(t);
            text.push('\n');
        }
    }
    Ok(Some(text))
}

/// Rebuilds the search document of one ticket from its row and its entries.
pub(crate) fn reindex(conn: &Connection, rowid: i64) -> Result<()> {
    let text = document_text(conn, rowid)?;
    search::replace_document(conn, rowid, text.as_deref())
}

/// Deletes a ticket and everything hanging off it: row, entries, tags, search document, server
/// truth copy, and attachment bytes no queued mutation or open problem still needs. The outbox
/// is not touched.
pub(crate) fn purge(conn: &Connection, id: TicketId) -> Result<bool> {
    conn.prepare_cached("DELETE FROM server_tickets WHERE id = ?1")?
        .execute([id.as_bytes()])?;
    conn.prepare_cached("DELETE FROM entries WHERE ticket_id = ?1")?
        .execute([id.as_bytes()])?;
    conn.prepare_cached(&format!(
        "DELETE FROM attachments WHERE ticket_id = ?1 AND {UNREFERENCED_ATTACHMENT}"
    ))?
    .execute([id.as_bytes()])?;
    let Some(rowid) = ticket_rowid(conn, id)? else {
        return Ok(false);
    };
    search::replace_document(conn, rowid, None)?;
    conn.prepare_cached("DELETE FROM tickets WHERE rowid = ?1")?
        .execute([rowid])?;
    Ok(true)
}

/// SQL condition on `attachments`: no queued mutation and no open sync problem refers to the
/// attachment (its bytes are needed to push it, or to re-apply a refused upload).
pub(crate) const UNREFERENCED_ATTACHMENT: &str = "lower(hex(attachments.id)) NOT IN (
        SELECT replace(json_extract(envelope, '$.mutation.args.attachment_id'), '-', '')
        FROM outbox WHERE name = 'entry.add_attachment'
        UNION ALL
        SELECT replace(json_extract(detail, '$.mutation.mutation.args.attachment_id'), '-', '')
        FROM conflicts WHERE dismissed = 0 AND json_extract(detail, '$.mutation.mutation.name') = 'entry.add_attachment')";

fn uuid_from_blob(bytes: Vec<u8>) -> Result<Uuid> {
    Uuid::from_slice(&bytes).map_err(corrupt)
}

pub(crate) fn load_entries(conn: &Connection, id: TicketId) -> Result<Vec<Entry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, ticket_id, author, body, created_at FROM entries
         WHERE ticket_id = ?1 ORDER BY created_at, rowid",
    )?;
    let rows = stmt.query_map([id.as_bytes()], |r| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, Option<Vec<u8>>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut entries = Vec::new();
    for row in rows {
        let (id, ticket_id, author, body, at) = row?;
        entries.push(Entry {
            id: uuid_from_blob(id)?,
            ticket_id: uuid_from_blob(ticket_id)?,
            author: author.map(uuid_from_blob).transpose()?,
            body: serde_json::from_str(&body).map_err(corrupt)?,
            created_at: from_millis(at).ok_or_else(|| corrupt("entry time out of range"))?,
        });
    }
    Ok(entries)
}

impl Store {
    /// A ticket, its timeline and its SLA clocks evaluated at `now`.
    pub fn ticket(&self, id: TicketId, now: DateTime<Utc>) -> Result<TicketDetail> {
        let (rowid, ticket) = load_ticket(&self.conn, id)?.ok_or(StoreError::TicketNotFound(id))?;
        let unsent: u32 = self
            .conn
            .prepare_cached("SELECT unsent FROM tickets WHERE rowid = ?1")?
            .query_row([rowid], |r| r.get(0))?;
        let entries = load_entries(&self.conn, id)?;
        let sla = self.admin.settings.sla_settings().evaluate(&ticket, now);
        let risk = risk_panel(&ticket, &entries, self.admin.settings.verification_policy());
        let sensitive = ticket.is_sensitive();
        Ok(TicketDetail {
            ticket,
            entries,
            sla,
            unsent,
            sensitive,
            risk,
        })
    }

    /// Looks a ticket up by its human key (`OP-1042`).
    /// The keys of the given tickets that are in the cache and have one (a plain lookup: no
    /// timeline is read and, at the Desk, no access is recorded).
    pub fn ticket_keys(&self, ids: &[TicketId]) -> Result<Vec<(TicketId, String)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key FROM tickets WHERE id = ?1 AND key IS NOT NULL")?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(key) = stmt
                .query_row([id.as_bytes()], |r| r.get::<_, String>(0))
                .optional()?
            {
                out.push((*id, key));
            }
        }
        Ok(out)
    }

    pub fn ticket_id_by_key(&self, key: &str) -> Result<Option<TicketId>> {
        let id: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT id FROM tickets WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?;
        id.map(uuid_from_blob).transpose()
    }

    pub fn ticket_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM tickets", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    /// Attachment bytes, read from the encrypted database.
    pub fn attachment(&self, id: Uuid) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT data FROM attachments WHERE id = ?1")?
            .query_row([id.as_bytes()], |r| r.get(0))
            .optional()?)
    }
}
