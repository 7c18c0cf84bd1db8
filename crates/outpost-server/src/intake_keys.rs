//! Intake keys: the per-channel API keys connectors (web forms, webhooks, e-mail and chat
//! bridges) authenticate with. Created by an admin (`POST /v1/admin/intake-keys`, or the CLI's
//! `intake-key add`) and shown once; only their hashes are stored. Checked by every connector
//! endpoint (intake, outbound delivery) through [`IntakeCaller`]; a revoked key is refused from
//! the moment its revocation commits.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use chrono::{DateTime, Utc};
use outpost_core::model::{check_header_text, Channel, Role, MAX_NAME_CHARS};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::auth::{random_token, sha256_hex, AuthUser};
use crate::db::{now_millis, WriteTx};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiPath;
use crate::routes::ObjectJson;
use crate::{AppState, ClientAddr};

/// Creates an intake key for `channel`; only its hash is stored. Returns its id and the key.
pub async fn create_key(
    tx: &mut WriteTx,
    channel: Channel,
    name: &str,
) -> anyhow::Result<(Uuid, String)> {
    let key = format!("opk_{}", random_token(24)?);
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO intake_keys (key_hash, channel, name, created_at, id) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(sha256_hex(&key))
    .bind(channel.as_str())
    .bind(name.trim())
    .bind(now_millis())
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok((id, key))
}

/// [`create_key`], the key only.
pub async fn add_key(tx: &mut WriteTx, channel: Channel, name: &str) -> anyhow::Result<String> {
    Ok(create_key(tx, channel, name).await?.1)
}

/// An intake key as an admin sees it: never the key itself.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IntakeKeyInfo {
    pub id: Uuid,
    pub name: String,
    pub channel: Channel,
    pub created_at: DateTime<Utc>,
    /// When it was revoked; `null` while it works.
    pub revoked_at: Option<DateTime<Utc>>,
}

fn decode_info(row: &sqlx::any::AnyRow) -> anyhow::Result<IntakeKeyInfo> {
    let millis = |m: i64| {
        DateTime::from_timestamp_millis(m).ok_or_else(|| anyhow::anyhow!("stored time {m}"))
    };
    Ok(IntakeKeyInfo {
        id: row.try_get::<String, _>("id")?.parse()?,
        name: row.try_get("name")?,
        channel: row
            .try_get::<String, _>("channel")?
            .parse()
            .map_err(|e| anyhow::anyhow!("stored channel: {e}"))?,
        created_at: millis(row.try_get("created_at")?)?,
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(millis)
            .transpose()?,
    })
}

/// `GET /v1/admin/intake-keys`: every key, oldest first, revoked ones included.
#[utoipa::path(get, path = "/v1/admin/intake-keys", security(("bearer" = [])), responses((status = 200, description = "Every intake key, oldest first (the keys themselves are never shown again)", body = Vec<IntakeKeyInfo>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
) -> ApiResult<Json<Vec<IntakeKeyInfo>>> {
    AuthUser(admin).require(&[Role::Admin])?;
    let rows = sqlx::query(
        "SELECT id, name, channel, created_at, revoked_at FROM intake_keys ORDER BY created_at, id",
    )
    .fetch_all(&state.db.pool)
    .await?;
    Ok(Json(
        rows.iter()
            .map(decode_info)
            .collect::<anyhow::Result<_>>()?,
    ))
}

/// `POST /v1/admin/intake-keys`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIntakeKey {
    /// What the key is for ("Website form", "Mail bridge").
    pub name: String,
    /// The channel tickets created with it come from; `api` when absent.
    #[serde(default)]
    pub channel: Option<Channel>,
}

/// A new intake key: `key` is shown this once.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedIntakeKey {
    pub id: Uuid,
    pub name: String,
    pub channel: Channel,
    /// The key for the connector's `x-outpost-key` header. Only its hash is stored: it cannot
    /// be shown again.
    pub key: String,
}

#[utoipa::path(post, path = "/v1/admin/intake-keys", security(("bearer" = [])), request_body = NewIntakeKey, responses((status = 200, description = "Created; the key is shown this once", body = CreatedIntakeKey), (status = 400, description = "Malformed request, or the name is empty or too long", body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
    ClientAddr(address): ClientAddr,
    request: Result<ObjectJson<NewIntakeKey>, ApiError>,
) -> ApiResult<Json<CreatedIntakeKey>> {
    AuthUser(admin.clone()).require(&[Role::Admin])?;
    let ObjectJson(request) = request?;
    let name = request.name.trim();
    if name.is_empty() {
        return Err(ApiError::BadRequest(
            "name: must not be empty; say what the key is for".into(),
        ));
    }
    check_header_text("name", name, MAX_NAME_CHARS)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let channel = request.channel.unwrap_or(Channel::Api);
    let mut tx = state.db.begin_write().await?;
    let (id, key) = create_key(&mut tx, channel, name).await?;
    AuditEntry::intake_key_added(&admin.id.to_string(), address.as_deref(), id, channel, name)
        .append(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(Json(CreatedIntakeKey {
        id,
        name: name.to_owned(),
        channel,
        key,
    }))
}

#[utoipa::path(post, path = "/v1/admin/intake-keys/{id}/revoke", security(("bearer" = [])), params(("id" = Uuid, Path, description = "Intake key id")), responses((status = 200, description = "Revoked: connectors using it are refused from now on", body = IntakeKeyInfo), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "The key was revoked already", body = crate::error::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
    ClientAddr(address): ClientAddr,
    id: Result<ApiPath<Uuid>, ApiError>,
) -> ApiResult<Json<IntakeKeyInfo>> {
    AuthUser(admin.clone()).require(&[Role::Admin])?;
    let ApiPath(id) = id?;
    let mut tx = state.db.begin_write().await?;
    let row = sqlx::query(
        "SELECT id, name, channel, created_at, revoked_at FROM intake_keys WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound("intake key"))?;
    let mut info = decode_info(&row)?;
    if info.revoked_at.is_some() {
        return Err(ApiError::Conflict(format!(
            "the intake key {:?} was revoked already",
            info.name
        )));
    }
    let now = crate::db::now();
    sqlx::query("UPDATE intake_keys SET revoked_at = $1 WHERE id = $2")
        .bind(now.timestamp_millis())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    AuditEntry::intake_key_revoked(
        &admin.id.to_string(),
        address.as_deref(),
        id,
        &info.name,
        now,
    )
    .append(&mut tx)
    .await?;
    tx.commit().await?;
    info.revoked_at = Some(now);
    Ok(Json(info))
}

/// A connector authenticated by its intake key (`x-outpost-key`). Agents' bearer tokens are not
/// intake keys: the intake endpoints never look at `Authorization`.
pub struct IntakeCaller {
    /// The channel the key was made for.
    pub channel: Channel,
    /// The key's name (`intake-key add --name`).
    pub name: String,
}

impl IntakeCaller {
    /// The key in `x-outpost-key`, checked against the stored hashes; 401 when it is missing,
    /// unknown or revoked.
    pub async fn from_headers(state: &AppState, headers: &HeaderMap) -> ApiResult<IntakeCaller> {
        let key = headers
            .get("x-outpost-key")
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthenticated)?;
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT channel, name FROM intake_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(sha256_hex(key))
        .fetch_optional(&state.db.pool)
        .await?;
        let (channel, name) = row.ok_or(ApiError::Unauthenticated)?;
        let channel = channel
            .parse()
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored channel: {e}")))?;
        Ok(IntakeCaller { channel, name })
    }

    /// The audit actor: `intake:<channel>`.
    pub fn actor(&self) -> String {
        format!("intake:{}", self.channel)
    }
}
