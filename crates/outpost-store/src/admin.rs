//! The organisation's settings in the cache: server truth, the admin's queued edits on top, and
//! the settings every computation in the cache uses.
//!
//! Invariants:
//! - The `settings`, `departments` and `templates` tables hold only what the server sent (an
//!   absent settings kind is the product default at version 0).
//! - The view is that truth with every queued admin intent (outbox rows without a ticket)
//!   re-applied in order by `outpost_core::settings::apply_admin`, the function the server runs.
//!   An intent that no longer applies (made on a version someone has changed since) is skipped
//!   and its `local_error` says why; it stays queued until the server judges it, exactly like a
//!   ticket intent (`sync.rs`).
//! - The view's SLA settings compute every deadline column. Whenever they change — a pull, a
//!   local edit, a refusal that rolls one back — every cached ticket's deadlines and report facts
//!   are recomputed in the same transaction.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use outpost_core::audit::{AuditEvent, Hash32};
use outpost_core::model::{Department, Role, Template, UserId};
use outpost_core::settings::{
    apply_admin, AdminChange, AdminFacts, CategoryEntry, OrgSettings, SettingsKind,
    VersionedSettings,
};
use outpost_core::sla::SlaSettings;
use outpost_core::sync::{Mutation, MutationEnvelope};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use crate::columns::millis;
use crate::local::{append_audit, next_mutation_id, Actor};
use crate::{corrupt, Result, Store};

/// The organisation's settings as this device sees them: server truth with this device's queued
/// admin edits on top.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OrgSettingsView {
    pub settings: OrgSettings,
    /// Every department, retired ones included, by code.
    pub departments: Vec<Department>,
    /// Every template and macro, retired ones included, by language then name.
    pub templates: Vec<Template>,
    /// Settings kinds with an edit this device has not had confirmed yet.
    pub pending: Vec<SettingsKind>,
    /// Every ticket category the organisation has, as the core lists it
    /// (`Catalogue::listing`): the product's, then its own, each with the catalogue's names
    /// (empty where it names none) and `retired` exactly when it is not in use. The desk draws
    /// its category controls from this list.
    pub categories: Vec<CategoryEntry>,
}

/// What a calendar or policy change would do to the open tickets in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CalendarEffect {
    /// Open tickets in the cache.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub open: u64,
    /// Open tickets whose SLA deadline would move.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub moved: u64,
}

fn docs<T: serde::de::DeserializeOwned>(conn: &Connection, sql: &str) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|doc| serde_json::from_str(&doc?).map_err(corrupt))
        .collect()
}

/// Server truth: settings (defaults where the server sent none), departments, templates.
fn load_truth(conn: &Connection) -> Result<(OrgSettings, Vec<Department>, Vec<Template>)> {
    let mut settings = OrgSettings::defaults();
    for doc in docs::<VersionedSettings>(conn, "SELECT doc FROM settings")? {
        settings.put(doc);
    }
    let departments = docs(conn, "SELECT doc FROM departments")?;
    let templates = docs(conn, "SELECT doc FROM templates")?;
    Ok((settings, departments, templates))
}

/// One queued admin intent as stored.
struct QueuedAdmin {
    envelope: MutationEnvelope,
    actor: Option<UserId>,
    confirmed: bool,
    local_error: Option<String>,
}

fn queued_admin(conn: &Connection) -> Result<Vec<QueuedAdmin>> {
    let mut stmt = conn.prepare_cached(
        "SELECT envelope, actor, confirmed, local_error FROM outbox
         WHERE ticket_id IS NULL ORDER BY mutation_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<Vec<u8>>>(1)?,
            r.get::<_, bool>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    rows.map(|row| {
        let (envelope, actor, confirmed, local_error) = row?;
        Ok(QueuedAdmin {
            envelope: serde_json::from_str(&envelope).map_err(corrupt)?,
            actor: actor
                .as_deref()
                .map(uuid::Uuid::from_slice)
                .transpose()
                .map_err(corrupt)?,
            confirmed,
            local_error,
        })
    })
    .collect()
}

fn merge(
    settings: &mut OrgSettings,
    departments: &mut Vec<Department>,
    templates: &mut Vec<Template>,
    change: AdminChange,
) {
    match change {
        AdminChange::Settings(doc) => settings.put(doc),
        AdminChange::Department(d) => match departments.iter_mut().find(|x| x.code == d.code) {
            Some(slot) => *slot = d,
            None => departments.push(d),
        },
        AdminChange::Template(t) => match templates.iter_mut().find(|x| x.id == t.id) {
            Some(slot) => *slot = t,
            None => templates.push(t),
        },
    }
}

/// Truth with the queued admin intents on top (see the module invariants). Returns the view and
/// the queued (unconfirmed) intents that do not apply.
pub(crate) fn compute_view(conn: &Connection) -> Result<(OrgSettingsView, Vec<u64>)> {
    let (mut settings, mut departments, mut templates) = load_truth(conn)?;
    let mut pending = BTreeSet::new();
    let mut blocked = Vec::new();
    for q in queued_admin(conn)? {
        let facts = AdminFacts {
            settings: &settings,
            departments: &departments,
            templates: &templates,
        };
        // The role was checked when the edit was made; the server checks it again.
        let error = match apply_admin(
            &facts,
            &q.envelope.mutation,
            q.actor,
            None,
            q.envelope.client_time,
        ) {
            Ok(applied) => {
                if let AdminChange::Settings(doc) = &applied.change {
                    if !q.confirmed {
                        pending.insert(doc.settings.kind());
                    }
                }
                merge(
                    &mut settings,
                    &mut departments,
                    &mut templates,
                    applied.change,
                );
                None
            }
            Err(refusal) => {
                // Processed ones only wait for their truth; they are not reported.
                if !q.confirmed {
                    blocked.push(q.envelope.mutation_id);
                }
                Some(format!("{}: {refusal}", refusal.code()))
            }
        };
        if error != q.local_error {
            conn.prepare_cached("UPDATE outbox SET local_error = ?2 WHERE mutation_id = ?1")?
                .execute(params![q.envelope.mutation_id as i64, error])?;
        }
    }
    departments.sort_by(|a, b| a.code.cmp(&b.code));
    templates.sort_by(|a, b| (&a.language, &a.name).cmp(&(&b.language, &b.name)));
    Ok((
        OrgSettingsView {
            departments,
            templates,
            pending: pending.into_iter().collect(),
            categories: settings.catalogue().listing(),
            settings,
        },
        blocked,
    ))
}

/// Writes a settings document the server sent, unless a newer version is already there.
pub(crate) fn write_settings_truth(conn: &Connection, doc: &VersionedSettings) -> Result<()> {
    let kind = doc.settings.kind().as_str();
    let known: Option<i64> = conn
        .prepare_cached("SELECT version FROM settings WHERE kind = ?1")?
        .query_row([kind], |r| r.get(0))
        .optional()?;
    if known.is_some_and(|v| v > doc.version as i64) {
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO settings (kind, version, doc) VALUES (?1, ?2, ?3)
         ON CONFLICT(kind) DO UPDATE SET version = ?2, doc = ?3",
    )?
    .execute(params![
        kind,
        doc.version as i64,
        serde_json::to_string(doc).map_err(corrupt)?
    ])?;
    Ok(())
}

/// Recomputes every cached ticket's deadline columns and report facts under `sla`. Only rows
/// whose values change are written: a calendar change moves the open tickets' deadlines, and
/// the outcomes of few closed ones.
pub(crate) fn recompute_deadlines(
    conn: &Connection,
    sla: &SlaSettings,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut read = conn.prepare(
        "SELECT d.rowid, d.doc, t.sla_due_at, t.sla_warn_at, t.revisit_due_at,
             f.fr_out, f.fr_due, f.up_out, f.up_due, f.res_out, f.res_due
         FROM ticket_docs d JOIN tickets t ON t.rowid = d.rowid
         LEFT JOIN ticket_facts f ON f.rowid = d.rowid",
    )?;
    let mut rows = read.query([])?;
    let mut update = conn.prepare(
        "UPDATE tickets SET sla_due_at = ?2, sla_warn_at = ?3, revisit_due_at = ?4
         WHERE rowid = ?1",
    )?;
    let mut update_facts = conn.prepare(
        "UPDATE ticket_facts SET fr_out = ?2, fr_due = ?3, up_out = ?4, up_due = ?5,
             res_out = ?6, res_due = ?7
         WHERE rowid = ?1",
    )?;
    while let Some(row) = rows.next()? {
        let rowid: i64 = row.get(0)?;
        let ticket =
            serde_json::from_str(row.get_ref(1)?.as_str().map_err(corrupt)?).map_err(corrupt)?;
        let report = sla.evaluate(&ticket, now);
        let (due, warn) = crate::tickets::deadlines_of(&report, &ticket);
        let revisit = crate::tickets::revisit_due(&report);
        let stored: (i64, i64, Option<i64>) = (row.get(2)?, row.get(3)?, row.get(4)?);
        if stored != (due, warn, revisit) {
            update.execute(params![rowid, due, warn, revisit])?;
        }
        // Clock outcomes follow the policies: the report facts are rewritten too.
        let facts = crate::tickets::clock_facts(&report);
        let stored_facts: Option<[(i64, Option<i64>); 3]> = match row.get::<_, Option<i64>>(5)? {
            None => None,
            Some(fr_out) => Some([
                (fr_out, row.get(6)?),
                (row.get(7)?, row.get(8)?),
                (row.get(9)?, row.get(10)?),
            ]),
        };
        match stored_facts {
            None => crate::tickets::write_facts(conn, rowid, &ticket, &report)?,
            Some(stored) if stored != facts => {
                let [(fr_out, fr_due), (up_out, up_due), (res_out, res_due)] = facts;
                update_facts.execute(params![
                    rowid, fr_out, fr_due, up_out, up_due, res_out, res_due
                ])?;
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Computes the view after a write and, when its SLA settings differ from `before`'s,
/// recomputes every deadline in the same transaction. Returns the new view and the queued
/// admin intents that do not apply.
pub(crate) fn settle(
    conn: &Connection,
    before: &OrgSettingsView,
    now: DateTime<Utc>,
) -> Result<(OrgSettingsView, Vec<u64>)> {
    let (view, blocked) = compute_view(conn)?;
    if view.settings.sla_settings() != before.settings.sla_settings() {
        recompute_deadlines(conn, view.settings.sla_settings(), now)?;
    }
    Ok((view, blocked))
}

fn digest(value: &serde_json::Value) -> Hash32 {
    Hash32::digest(value.to_string().as_bytes())
}

/// Queues an admin intent: checks it against the view, writes the outbox row and the local
/// audit event, and settles the view (see [`Store::apply_admin_local`]).
fn queue_admin(
    tx: &Transaction<'_>,
    view: &OrgSettingsView,
    actor: &Actor,
    role: Role,
    mutation: Mutation,
    now: DateTime<Utc>,
) -> Result<OrgSettingsView> {
    let facts = AdminFacts {
        settings: &view.settings,
        departments: &view.departments,
        templates: &view.templates,
    };
    let applied = apply_admin(&facts, &mutation, Some(actor.user_id), Some(role), now)?;
    let mutation_id = next_mutation_id(tx)?;
    let envelope = MutationEnvelope {
        mutation_id,
        client_time: now,
        base_revision: None,
        mutation,
    };
    tx.prepare_cached(
        "INSERT INTO outbox (mutation_id, ticket_id, name, envelope, created_at, actor, device)
         VALUES (?1, NULL, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        mutation_id as i64,
        envelope.mutation.name(),
        serde_json::to_string(&envelope).map_err(corrupt)?,
        millis(now),
        actor.user_id.as_bytes(),
        actor.device_id.as_bytes(),
    ])?;
    // Settings hold no customer text: the detail keeps before and after as they are.
    let detail = serde_json::json!({
        "mutation_id": mutation_id,
        "before": applied.before,
        "after": applied.after,
    });
    append_audit(
        tx,
        AuditEvent {
            seq: 0,
            at: now,
            actor: actor.user_id.to_string(),
            device: Some(actor.device_id.to_string()),
            address: None,
            action: envelope.mutation.name().to_owned(),
            ticket_id: None,
            before: applied.before.as_ref().map(digest),
            after: Some(digest(&applied.after)),
            detail: detail.to_string(),
        },
    )?;
    let (next, _) = settle(tx, view, now)?;
    Ok(next)
}

impl Store {
    /// The organisation's settings, departments and templates as this device sees them.
    pub fn org_settings(&self) -> &OrgSettingsView {
        &self.admin
    }

    /// Makes an admin change (`settings.set`, `department.put`, `template.put`) locally: checks
    /// it with `apply_admin` against the current view as `role`, queues it in the outbox and
    /// appends the local audit event, all in one transaction; a changed SLA document recomputes
    /// every deadline in it too. Returns the new view.
    pub fn apply_admin_local(
        &mut self,
        actor: &Actor,
        role: Role,
        mutation: Mutation,
        now: DateTime<Utc>,
    ) -> Result<OrgSettingsView> {
        let tx = self.conn.transaction()?;
        let view = queue_admin(&tx, &self.admin, actor, role, mutation, now)?;
        tx.commit()?;
        self.admin = view.clone();
        Ok(view)
    }

    /// How many open tickets in the cache would see their SLA deadline move under `sla`.
    pub fn calendar_effect(&self, sla: &SlaSettings, now: DateTime<Utc>) -> Result<CalendarEffect> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.sla_due_at, d.doc FROM ticket_facts f
             JOIN tickets t ON t.rowid = f.rowid JOIN ticket_docs d ON d.rowid = f.rowid
             WHERE f.open = 1",
        )?;
        let mut rows = stmt.query([])?;
        let mut effect = CalendarEffect { open: 0, moved: 0 };
        while let Some(row) = rows.next()? {
            let due: i64 = row.get(0)?;
            let ticket = serde_json::from_str(row.get_ref(1)?.as_str().map_err(corrupt)?)
                .map_err(corrupt)?;
            let report = sla.evaluate(&ticket, now);
            effect.open += 1;
            if crate::tickets::deadlines_of(&report, &ticket).0 != due {
                effect.moved += 1;
            }
        }
        Ok(effect)
    }
}
