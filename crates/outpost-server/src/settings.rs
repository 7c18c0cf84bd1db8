//! The organisation's settings on the server: the settings documents (organisation profile and
//! form, SLA policies and calendar, classification rules, verification policy, catalogue),
//! departments and reply templates.
//!
//! An admin changes them with the intents `settings.set`, `department.put` and `template.put`,
//! pushed like every other mutation (so an offline edit queues in the outbox). [`apply`] decides
//! them with `outpost_core::settings::apply_admin` (the code the client runs optimistically)
//! against what this transaction reads, writes the row with a new change sequence number (so
//! every client pulls it), and appends the audit event with the document before and after. The
//! server's own changes (`settings import`, the demo's templates, `department add`) take the
//! same path as the server origin.
//!
//! Nothing is cached: everything that depends on the settings (the SLA monitor, intake, the
//! verification gate, the customer form) reads them where it runs ([`load`], five rows by
//! primary key), so several instances never disagree for longer than a commit.

use outpost_core::apply::Rejection;
use outpost_core::model::{Department, Template};
use outpost_core::settings::{
    apply_admin, AdminApplied, AdminChange, AdminFacts, OrgSettings, SettingsDoc, VersionedSettings,
};
use outpost_core::sync::Mutation;
use sqlx::{AnyConnection, Row};

use crate::audit::AuditEntry;
use crate::change::Origin;
use crate::db::{next, WriteTx};

fn millis(at: Option<i64>) -> Option<chrono::DateTime<chrono::Utc>> {
    at.and_then(chrono::DateTime::from_timestamp_millis)
}

/// Decodes a stored settings row (`kind, version, doc, updated_by, updated_at`).
pub(crate) fn decode(row: &sqlx::any::AnyRow) -> anyhow::Result<VersionedSettings> {
    let kind: String = row.try_get("kind")?;
    let doc: String = row.try_get("doc")?;
    let settings: SettingsDoc = serde_json::from_str(&doc)
        .map_err(|e| anyhow::anyhow!("stored {kind} settings do not decode: {e}"))?;
    let updated_by: Option<String> = row.try_get("updated_by")?;
    Ok(VersionedSettings {
        version: row.try_get::<i64, _>("version")? as u64,
        updated_by: updated_by.map(|u| u.parse()).transpose()?,
        updated_at: millis(row.try_get("updated_at")?),
        settings,
    })
}

/// Every settings document as stored; a kind nobody changed yet is the product default at
/// version 0.
pub async fn load(conn: &mut AnyConnection) -> anyhow::Result<OrgSettings> {
    let rows =
        sqlx::query("SELECT kind, version, doc, updated_by, updated_at FROM settings")
            .fetch_all(&mut *conn)
            .await?;
    let mut settings = OrgSettings::defaults();
    for row in rows {
        settings.put(decode(&row)?);
    }
    Ok(settings)
}

/// [`load`] on a connection of the pool (outside a write transaction).
pub async fn load_from(pool: &sqlx::AnyPool) -> anyhow::Result<OrgSettings> {
    let mut conn = pool.acquire().await?;
    load(&mut conn).await
}

/// Every department, retired ones included, by code.
pub async fn departments(conn: &mut AnyConnection) -> anyhow::Result<Vec<Department>> {
    let rows = sqlx::query("SELECT code, name, active FROM departments ORDER BY code")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Department {
                code: row.try_get("code")?,
                name: row.try_get("name")?,
                active: row.try_get::<i64, _>("active")? != 0,
            })
        })
        .collect()
}

/// Every template, retired ones included.
pub async fn templates(conn: &mut AnyConnection) -> anyhow::Result<Vec<Template>> {
    let docs: Vec<String> = sqlx::query_scalar("SELECT doc FROM templates ORDER BY id")
        .fetch_all(&mut *conn)
        .await?;
    docs.iter()
        .map(|d| Ok(serde_json::from_str(d)?))
        .collect()
}

/// What [`apply`] answers a push with: the settings document's new version, 0 for a department
/// or a template (they carry no version).
pub(crate) fn revision(applied: &AdminApplied) -> u64 {
    match &applied.change {
        AdminChange::Settings(v) => v.version,
        AdminChange::Department(_) | AdminChange::Template(_) => 0,
    }
}

/// Decides an admin intent from `origin` against the settings, departments and templates read
/// in `tx`, and when accepted writes it (a new change sequence number, so clients pull it) and
/// its audit event. `Ok(Err(_))` is a refusal (an agent or supervisor, an invalid document, an
/// edit made on an older version); nothing was written.
pub(crate) async fn apply(
    tx: &mut WriteTx,
    origin: Origin<'_>,
    mutation_id: Option<u64>,
    mutation: &Mutation,
) -> anyhow::Result<Result<AdminApplied, Rejection>> {
    let settings = load(&mut **tx).await?;
    let departments = departments(&mut **tx).await?;
    let templates = match mutation {
        Mutation::PutTemplate(_) => templates(&mut **tx).await?,
        _ => Vec::new(),
    };
    let facts = AdminFacts {
        settings: &settings,
        departments: &departments,
        templates: &templates,
    };
    let user = origin.user();
    let applied = match apply_admin(
        &facts,
        mutation,
        user.map(|u| u.id),
        user.map(|u| u.role),
        crate::db::now(),
    ) {
        Ok(applied) => applied,
        Err(rejection) => return Ok(Err(rejection)),
    };
    let seq = next(tx, "change_seq").await?;
    let target = match &applied.change {
        AdminChange::Settings(doc) => {
            write_settings(tx, doc, seq).await?;
            serde_json::json!({ "kind": doc.settings.kind().as_str() })
        }
        AdminChange::Department(d) => {
            sqlx::query(
                "INSERT INTO departments (code, name, active, seq) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (code) DO UPDATE SET name = $2, active = $3, seq = $4",
            )
            .bind(&d.code)
            .bind(&d.name)
            .bind(i64::from(d.active))
            .bind(seq)
            .execute(&mut **tx)
            .await?;
            serde_json::json!({ "department": d.code })
        }
        AdminChange::Template(t) => {
            sqlx::query(
                "INSERT INTO templates (id, name, language, doc, seq) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET name = $2, language = $3, doc = $4, seq = $5",
            )
            .bind(t.id.to_string())
            .bind(&t.name)
            .bind(&t.language)
            .bind(serde_json::to_string(t)?)
            .bind(seq)
            .execute(&mut **tx)
            .await?;
            serde_json::json!({ "template": t.id })
        }
    };
    let device = match origin {
        Origin::Device { device_id, .. } => Some(device_id),
        Origin::Server { .. } => None,
    };
    AuditEntry::admin_changed(
        &origin.actor(),
        device,
        origin.address(),
        mutation.name(),
        mutation_id,
        target,
        applied.before.as_ref(),
        &applied.after,
    )?
    .append(tx)
    .await?;
    Ok(Ok(applied))
}

async fn write_settings(tx: &mut WriteTx, doc: &VersionedSettings, seq: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO settings (kind, version, doc, updated_by, updated_at, seq) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (kind) DO UPDATE SET version = $2, doc = $3, updated_by = $4, updated_at = $5, seq = $6",
    )
    .bind(doc.settings.kind().as_str())
    .bind(doc.version as i64)
    .bind(serde_json::to_string(&doc.settings)?)
    .bind(doc.updated_by.map(|u| u.to_string()))
    .bind(doc.updated_at.map(|t| t.timestamp_millis()))
    .bind(seq)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An admin intent made by the server itself (`actor` is its audit name, such as `cli`),
/// decided and written like a pushed one. A refusal is an error naming the field.
pub async fn apply_as_server(
    tx: &mut WriteTx,
    actor: &str,
    mutation: &Mutation,
) -> anyhow::Result<AdminApplied> {
    let origin = Origin::Server {
        actor,
        address: None,
    };
    apply(tx, origin, None, mutation)
        .await?
        .map_err(|rejection| anyhow::anyhow!("{}: {rejection}", mutation.name()))
}
