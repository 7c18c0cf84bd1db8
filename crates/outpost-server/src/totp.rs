//! Optional TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step of clock skew).
//!
//! Setup stores a pending secret; a correct code moves it into place. Each accepted code's time
//! step is remembered, so a code cannot be replayed within its window.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::audit::AuditEntry;
use crate::auth::AuthUser;
use crate::db::now_millis;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::{AppState, ClientAddr};

const STEP_SECS: u64 = 30;

fn totp(secret_base32: &str, account: &str) -> Result<TOTP, ApiError> {
    let bytes = Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored TOTP secret unreadable: {e:?}")))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECS,
        bytes,
        Some("Outpost".into()),
        account.to_owned(),
    )
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("TOTP: {e}")))
}

/// The time step a code matches at `now_secs` (within ±1 step), if any.
pub fn matching_step(
    secret_base32: &str,
    account: &str,
    code: &str,
    now_secs: u64,
) -> Result<Option<i64>, ApiError> {
    let t = totp(secret_base32, account)?;
    let code = code.trim();
    for delta in [0i64, -1, 1] {
        let at = now_secs as i64 + delta * STEP_SECS as i64;
        if at >= 0 && t.generate(at as u64) == code {
            return Ok(Some(at / STEP_SECS as i64));
        }
    }
    Ok(None)
}

#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
pub struct TotpSetup {
    pub secret_base32: String,
    /// For authenticator apps (usually shown as a QR code).
    pub otpauth_url: String,
}

#[utoipa::path(post, path = "/v1/auth/totp/setup", security(("bearer" = [])), responses((status = 200, body = TotpSetup), (status = 401, body = crate::error::ErrorBody)))]
pub async fn setup(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> ApiResult<Json<TotpSetup>> {
    let mut raw = [0u8; 20];
    getrandom::fill(&mut raw)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    let secret_base32 = Secret::Raw(raw.to_vec()).to_encoded().to_string();
    let otpauth_url = totp(&secret_base32, &user.email)?.get_url();
    sqlx::query("UPDATE users SET totp_pending = $1 WHERE id = $2")
        .bind(&secret_base32)
        .bind(user.id.to_string())
        .execute(&state.db.pool)
        .await?;
    Ok(Json(TotpSetup {
        secret_base32,
        otpauth_url,
    }))
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    pub code: String,
}

#[utoipa::path(post, path = "/v1/auth/totp/enable", security(("bearer" = [])), request_body = CodeRequest, responses((status = 200, description = "Enabled"), (status = 400, description = "Malformed request", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody)))]
pub async fn enable(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ClientAddr(address): ClientAddr,
    ApiJson(request): ApiJson<CodeRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    let mut tx = state.db.begin_write().await?;
    let pending: Option<String> =
        sqlx::query_scalar("SELECT totp_pending FROM users WHERE id = $1")
            .bind(user.id.to_string())
            .fetch_one(&mut *tx)
            .await?;
    let pending =
        pending.ok_or_else(|| ApiError::BadRequest("start the TOTP setup first".into()))?;
    let Some(step) = matching_step(
        &pending,
        &user.email,
        &request.code,
        (now_millis() / 1000) as u64,
    )?
    else {
        return Err(ApiError::BadRequest(
            "the code does not match; check the authenticator's clock and try again".into(),
        ));
    };
    sqlx::query("UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1 WHERE id = $2")
        .bind(step)
        .bind(user.id.to_string())
        .execute(&mut *tx)
        .await?;
    AuditEntry::totp_enabled(user.id, address.as_deref())
        .append(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(Json(serde_json::json!({ "totp": "enabled" })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_within_one_step_and_not_beyond() {
        let secret = Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        let t = totp(&secret, "a@b.c").unwrap();
        let now = 1_790_000_000u64;
        let code = t.generate(now);
        assert_eq!(
            matching_step(&secret, "a@b.c", &code, now).unwrap(),
            Some((now / 30) as i64)
        );
        assert!(
            matching_step(&secret, "a@b.c", &code, now + 30)
                .unwrap()
                .is_some(),
            "one step of skew"
        );
        assert_eq!(
            matching_step(&secret, "a@b.c", &code, now + 120).unwrap(),
            None
        );
        assert_eq!(
            matching_step(&secret, "a@b.c", "000000x", now).unwrap(),
            None
        );
    }
}
