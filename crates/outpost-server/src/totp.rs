//! Optional TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step of clock skew).
//!
//! Setup stores a pending secret; a correct code moves it into place. Each accepted code's time
//! step is remembered, so a code cannot be replayed within its window. Seeds are stored sealed
//! with the master key (`secrets.rs`), active and pending alike.
//!
//! An access token alone changes nothing here: starting a setup needs the account password, and
//! once a factor is enabled, replacing it (setup again) or disabling it also needs a current code
//! from that factor. Wrong passwords and codes count against the same per-account and
//! per-address limits as sign-in.
//!
//! When the organisation requires a second factor, a user without one signs in to a session
//! limited to `setup` and `enable` (and `/v1/me`, see `auth::SetupUser`); `enable` lifts the
//! limit on the user's sessions, and `disable` is refused while the requirement holds.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Secret, TOTP};

use outpost_core::model::User;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::audit::AuditEntry;
use crate::auth::{verify_password, AuthUser, Reservation, SetupUser};
use crate::db::{now_millis, WriteTx};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::secrets::{MasterKey, Purpose};
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

/// Opens a user's sealed seed (active or pending) to its base32 text.
pub(crate) fn open_seed(
    key: &MasterKey,
    user: Uuid,
    sealed: &str,
) -> Result<Zeroizing<String>, ApiError> {
    key.open_str(Purpose::TOTP_SEED, &user.to_string(), sealed)
        .map_err(|e| ApiError::Internal(e.into()))
}

#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
pub struct TotpSetup {
    pub secret_base32: String,
    /// For authenticator apps (usually shown as a QR code).
    pub otpauth_url: String,
}

/// Proof that the account holder is present: the password, and a current code from the enabled
/// factor when there is one.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    pub password: String,
    /// A current code from the enabled authenticator; required once TOTP is enabled.
    #[serde(default)]
    pub code: Option<String>,
}

/// A sign-in-like attempt, counted against the account and the address with the same limits
/// (and the same budget) as sign-in.
struct Attempt(Reservation);

/// Counts the attempt before anything is checked, so concurrent guesses cannot all pass.
fn begin_attempt(state: &AppState, user: &User, address: Option<&str>) -> ApiResult<Attempt> {
    let account_key = format!("account:{}", user.email.trim().to_lowercase());
    let address_key = format!("address:{}", address.unwrap_or("unknown"));
    state
        .limiter
        .try_reserve(
            &[&account_key, &address_key],
            state.config.login_attempts_per_minute,
        )
        .map(Attempt)
        .ok_or(ApiError::RateLimited)
}

/// A wrong password or code: the attempt stays counted.
fn failed(_state: &AppState, _attempt: &Attempt) {}

/// Nothing was wrong (or only a code was still missing): the attempt is given back.
fn succeeded(state: &AppState, attempt: Attempt) {
    state.limiter.release(attempt.0);
}

/// Checks the password (before any write transaction: hashing takes a while).
async fn check_password(
    state: &AppState,
    user: &User,
    address: Option<&str>,
    password: &str,
) -> ApiResult<Attempt> {
    let attempt = begin_attempt(state, user, address)?;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user.id.to_string())
        .fetch_one(&state.db.pool)
        .await?;
    let password = Zeroizing::new(password.to_owned());
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(anyhow::Error::from)?;
    if !ok {
        failed(state, &attempt);
        return Err(ApiError::BadCredentials);
    }
    Ok(attempt)
}

/// Checks `code` against the enabled factor's sealed seed inside `tx` and uses it up (a code
/// is good once, as at sign-in).
async fn check_current_code(
    state: &AppState,
    tx: &mut WriteTx,
    user: &User,
    attempt: &Attempt,
    sealed: &str,
    last_step: Option<i64>,
    code: &str,
) -> ApiResult<()> {
    let seed = open_seed(&state.master_key, user.id, sealed)?;
    match matching_step(&seed, &user.email, code, (now_millis() / 1000) as u64)? {
        Some(step) if last_step.is_none_or(|last| step > last) => {
            sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2")
                .bind(step)
                .bind(user.id.to_string())
                .execute(&mut **tx)
                .await?;
            Ok(())
        }
        _ => {
            failed(state, attempt);
            Err(ApiError::BadCredentials)
        }
    }
}

async fn current_factor(tx: &mut WriteTx, user: Uuid) -> ApiResult<(Option<String>, Option<i64>)> {
    Ok(
        sqlx::query_as("SELECT totp_secret, totp_last_step FROM users WHERE id = $1")
            .bind(user.to_string())
            .fetch_one(&mut **tx)
            .await?,
    )
}

/// Starts enrolling an authenticator (or replacing the enabled one): needs the password, and a
/// current code from the enabled factor when there is one. The new seed waits, sealed, until
/// `enable` sees a code from it.
#[utoipa::path(post, path = "/v1/auth/totp/setup", security(("bearer" = [])), request_body = ConfirmRequest, responses((status = 200, body = TotpSetup), (status = 400, description = "Malformed request", body = crate::error::ErrorBody), (status = 401, description = "Not signed in, wrong password or code (`bad_credentials`), or a code from the enabled factor is needed (`totp_required`)", body = crate::error::ErrorBody), (status = 429, description = "Too many failed attempts", body = crate::error::ErrorBody)))]
pub async fn setup(
    State(state): State<AppState>,
    SetupUser(user): SetupUser,
    ClientAddr(address): ClientAddr,
    ApiJson(request): ApiJson<ConfirmRequest>,
) -> ApiResult<Json<TotpSetup>> {
    let attempt = check_password(&state, &user, address.as_deref(), &request.password).await?;
    let mut raw = Zeroizing::new([0u8; 20]);
    getrandom::fill(&mut *raw)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    let secret_base32 = Secret::Raw(raw.to_vec()).to_encoded().to_string();
    let otpauth_url = totp(&secret_base32, &user.email)?.get_url();
    let sealed =
        state
            .master_key
            .seal_str(Purpose::TOTP_SEED, &user.id.to_string(), &secret_base32)?;
    let mut tx = state.db.begin_write().await?;
    if let (Some(current), last_step) = current_factor(&mut tx, user.id).await? {
        let Some(code) = request.code.as_deref() else {
            // The password was right; asking for the code is not a failed attempt.
            succeeded(&state, attempt);
            return Err(ApiError::TotpRequired);
        };
        check_current_code(&state, &mut tx, &user, &attempt, &current, last_step, code).await?;
    }
    sqlx::query("UPDATE users SET totp_pending = $1 WHERE id = $2")
        .bind(sealed)
        .bind(user.id.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    succeeded(&state, attempt);
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

/// Enables the authenticator started by `setup` (replacing the enabled one, if any) with a code
/// from it.
#[utoipa::path(post, path = "/v1/auth/totp/enable", security(("bearer" = [])), request_body = CodeRequest, responses((status = 200, description = "Enabled", body = TotpState), (status = 400, description = "Malformed request, no setup started, or the code does not match", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody)))]
pub async fn enable(
    State(state): State<AppState>,
    SetupUser(user): SetupUser,
    ClientAddr(address): ClientAddr,
    ApiJson(request): ApiJson<CodeRequest>,
) -> ApiResult<Json<TotpState>> {
    let mut tx = state.db.begin_write().await?;
    let (pending, current): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT totp_pending, totp_secret FROM users WHERE id = $1")
            .bind(user.id.to_string())
            .fetch_one(&mut *tx)
            .await?;
    let pending =
        pending.ok_or_else(|| ApiError::BadRequest("start the TOTP setup first".into()))?;
    let seed = open_seed(&state.master_key, user.id, &pending)?;
    let Some(step) = matching_step(
        &seed,
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
    // The user's sessions limited to enrolling a factor (the organisation requires one) are
    // full sessions from now on.
    sqlx::query("UPDATE sessions SET setup_only = 0 WHERE user_id = $1 AND setup_only = 1")
        .bind(user.id.to_string())
        .execute(&mut *tx)
        .await?;
    let entry = if current.is_some() {
        AuditEntry::totp_replaced(user.id, address.as_deref())
    } else {
        AuditEntry::totp_enabled(user.id, address.as_deref())
    };
    entry.append(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(TotpState {
        totp: TotpStatus::Enabled,
    }))
}

/// Whether two-step sign-in is on after `enable` or `disable`.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TotpStatus {
    Enabled,
    Disabled,
}

/// The answer of `POST /v1/auth/totp/enable` and `/disable`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TotpState {
    pub totp: TotpStatus,
}

/// Turns the second factor off: needs the password and a current code from it.
#[utoipa::path(post, path = "/v1/auth/totp/disable", security(("bearer" = [])), request_body = ConfirmRequest, responses((status = 200, description = "Disabled", body = TotpState), (status = 400, description = "Malformed request", body = crate::error::ErrorBody), (status = 401, description = "Not signed in, wrong password or code (`bad_credentials`), or the code is missing (`totp_required`)", body = crate::error::ErrorBody), (status = 409, description = "Two-step sign-in is not enabled, or the organisation requires it", body = crate::error::ErrorBody), (status = 429, description = "Too many failed attempts", body = crate::error::ErrorBody)))]
pub async fn disable(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ClientAddr(address): ClientAddr,
    ApiJson(request): ApiJson<ConfirmRequest>,
) -> ApiResult<Json<TotpState>> {
    let attempt = check_password(&state, &user, address.as_deref(), &request.password).await?;
    let mut tx = state.db.begin_write().await?;
    if crate::settings_docs::load(&mut tx)
        .await?
        .profile()
        .require_two_factor
    {
        succeeded(&state, attempt);
        return Err(ApiError::Conflict(
            "your organisation requires two-step sign-in, so it cannot be turned off; to move \
             to a new authenticator, set it up again"
                .into(),
        ));
    }
    let (Some(current), last_step) = current_factor(&mut tx, user.id).await? else {
        succeeded(&state, attempt);
        return Err(ApiError::Conflict(
            "two-step sign-in is not enabled for this account".into(),
        ));
    };
    let Some(code) = request.code.as_deref() else {
        succeeded(&state, attempt);
        return Err(ApiError::TotpRequired);
    };
    check_current_code(&state, &mut tx, &user, &attempt, &current, last_step, code).await?;
    sqlx::query("UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL WHERE id = $1")
        .bind(user.id.to_string())
        .execute(&mut *tx)
        .await?;
    AuditEntry::totp_disabled(user.id, address.as_deref())
        .append(&mut tx)
        .await?;
    tx.commit().await?;
    succeeded(&state, attempt);
    Ok(Json(TotpState {
        totp: TotpStatus::Disabled,
    }))
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
