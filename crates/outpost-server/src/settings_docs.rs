//! Reading the organisation's settings documents, departments and templates as stored: no
//! decisions and no writes (those are `settings.rs`). Kept apart so that modules the audit trail
//! depends on (sign-in reads whether a second factor is required) can read settings without
//! depending on the module that appends audit events.

use outpost_core::model::{Department, Template};
use outpost_core::settings::{OrgSettings, SettingsDoc, VersionedSettings};
use sqlx::{AnyConnection, Row};

fn millis(at: Option<i64>) -> Option<chrono::DateTime<chrono::Utc>> {
    at.and_then(chrono::DateTime::from_timestamp_millis)
}

/// Decodes a stored settings row (`kind, version, doc, updated_by, updated_at`).
pub fn decode(row: &sqlx::any::AnyRow) -> anyhow::Result<VersionedSettings> {
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
    let rows = sqlx::query("SELECT kind, version, doc, updated_by, updated_at FROM settings")
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
    docs.iter().map(|d| Ok(serde_json::from_str(d)?)).collect()
}
