//! Intake keys: the per-channel API keys connectors (web forms, webhooks, e-mail and chat
//! bridges) authenticate with. Created by the CLI (`intake-key add`), only their hashes stored;
//! checked by every connector endpoint (intake, outbound delivery) through [`IntakeCaller`].

use axum::http::HeaderMap;
use outpost_core::model::Channel;

use crate::auth::{random_token, sha256_hex};
use crate::db::{now_millis, WriteTx};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Creates an intake key for `channel`; only its hash is stored.
pub async fn add_key(tx: &mut WriteTx, channel: Channel, name: &str) -> anyhow::Result<String> {
    let key = format!("opk_{}", random_token(24)?);
    sqlx::query(
        "INSERT INTO intake_keys (key_hash, channel, name, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(sha256_hex(&key))
    .bind(channel.as_str())
    .bind(name)
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(key)
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
    /// The key in `x-outpost-key`, checked against the stored hashes; 401 when it is missing or
    /// unknown.
    pub async fn from_headers(state: &AppState, headers: &HeaderMap) -> ApiResult<IntakeCaller> {
        let key = headers
            .get("x-outpost-key")
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthenticated)?;
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT channel, name FROM intake_keys WHERE key_hash = $1")
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
