//! Authentication and administration endpoints.

use axum::extract::State;
use axum::Json;
use outpost_core::model::{Role, User};
pub use outpost_core::sync::{LoginRequest, RefreshRequest, Session};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::{AuditEntry, SessionEnd};
use crate::auth::{
    end_session, hash_password, random_token, sha256_hex, verify_password, AuthUser,
};
use crate::db::{now_millis, Db};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::{AppState, ClientAddr};

#[utoipa::path(get, path = "/health", responses((status = 200, description = "The server is up", body = String)))]
pub async fn health() -> &'static str {
    "ok"
}

/// A trivial authenticated endpoint: the baseline for sync benchmarks.
/// `GET /v1/ping`'s answer: who the token belongs to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Pong {
    pub user: Uuid,
}

#[utoipa::path(get, path = "/v1/ping", security(("bearer" = [])), responses((status = 200, description = "Trivial authenticated endpoint (benchmark baseline)", body = Pong), (status = 401, body = crate::error::ErrorBody)))]
pub async fn ping(AuthUser(user): AuthUser) -> Json<Pong> {
    Json(Pong { user: user.id })
}

#[utoipa::path(get, path = "/v1/me", security(("bearer" = [])), responses((status = 200, body = User), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(AuthUser(user): AuthUser) -> Json<User> {
    Json(user)
}

#[utoipa::path(post, path = "/v1/auth/login", request_body = LoginRequest, responses((status = 200, body = Session), (status = 400, description = "Malformed request", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody), (status = 429, description = "Too many failed attempts", body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Json<Session>> {
    let limit = state.config.login_attempts_per_minute;
    let account_key = format!("account:{}", request.email.trim().to_lowercase());
    let address_key = format!("address:{}", address.as_deref().unwrap_or("unknown"));
    // The attempt is counted before the password is checked, in one step with the check, so
    // concurrent attempts cannot all pass; a successful sign-in gives it back.
    let attempt = state
        .limiter
        .try_reserve(&[&account_key, &address_key], limit)
        .ok_or(ApiError::RateLimited)?;
    let found = crate::users::by_email(&state.db.pool, &request.email).await?;
    // Hash work happens off the async threads; a missing user still pays for a verification so
    // timing does not reveal which e-mails exist.
    let password = request.password.clone();
    let user = tokio::task::spawn_blocking(move || match found {
        Some((user, hash)) if user.active && verify_password(&password, &hash) => Some(user),
        Some(_) => None,
        None => {
            verify_password(
                &password,
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$3Tx0bQ+sHq6pnb0Jm8F3lQ",
            );
            None
        }
    })
    .await
    .map_err(anyhow::Error::from)?;
    let Some(user) = user else {
        return Err(ApiError::BadCredentials);
    };
    let mut tx = state.db.begin_write().await?;
    let (secret, last_step): (Option<String>, Option<i64>) =
        sqlx::query_as("SELECT totp_secret, totp_last_step FROM users WHERE id = $1")
            .bind(user.id.to_string())
            .fetch_one(&mut *tx)
            .await?;
    if let Some(secret) = secret {
        let Some(code) = request.totp.as_deref() else {
            // The password was right; asking for the code is not a failed attempt.
            state.limiter.release(attempt);
            return Err(ApiError::TotpRequired);
        };
        let now_secs = (now_millis() / 1000) as u64;
        let secret = crate::totp::open_seed(&state.master_key, user.id, &secret)?;
        match crate::totp::matching_step(&secret, &user.email, code, now_secs)? {
            // A code is good once: a step at or before the last accepted one is a replay.
            Some(step) if last_step.is_none_or(|last| step > last) => {
                sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2")
                    .bind(step)
                    .bind(user.id.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            _ => return Err(ApiError::BadCredentials),
        }
    }
    let (session, refresh_token) = state.tokens.start_session(&mut tx, user.id).await?;
    AuditEntry::login(user.id, address.as_deref(), &session.to_string())
        .append(&mut tx)
        .await?;
    tx.commit().await?;
    state.limiter.release(attempt);
    Ok(Json(Session {
        access_token: state.tokens.issue_access(user.id, session),
        refresh_token,
        expires_in: state.tokens.access_ttl_secs,
        user,
    }))
}

/// Ends the session of a refresh-token family and records why.
async fn revoke_family(
    tx: &mut crate::db::WriteTx,
    family: &str,
    user_id: &str,
    address: Option<&str>,
    why: SessionEnd,
) -> anyhow::Result<()> {
    end_session(tx, family).await?;
    AuditEntry::session_ended(user_id, address, family, why)
        .append(tx)
        .await?;
    Ok(())
}

/// Rotates a refresh token. Presenting one that was already rotated means it leaked: the whole
/// session is ended (its access tokens too) and the holder must sign in again.
#[utoipa::path(post, path = "/v1/auth/refresh", request_body = RefreshRequest, responses((status = 200, body = Session), (status = 400, description = "Malformed request", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> ApiResult<Json<Session>> {
    use sqlx::Row;
    let mut tx = state.db.begin_write().await?;
    let row = sqlx::query("SELECT family, user_id, expires_at, used, revoked FROM refresh_tokens WHERE token_hash = $1")
        .bind(sha256_hex(&request.refresh_token))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let family: String = row.try_get("family")?;
    let user_id: String = row.try_get("user_id")?;
    if row.try_get::<i64, _>("revoked")? != 0 {
        return Err(ApiError::SessionRevoked);
    }
    // Locks first the session row, then the token row, in the order ending a session takes
    // them (PostgreSQL), so a concurrent logout either ends the session before this looks (and
    // this refuses) or after this committed (and ends the new token's session with it).
    let live =
        sqlx::query("UPDATE sessions SET refreshed_at = $1 WHERE family = $2 AND ended_at IS NULL")
            .bind(now_millis())
            .bind(&family)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
    if !live {
        return Err(ApiError::SessionRevoked);
    }
    // Marking the token used is the check itself: of two concurrent refreshes with one token,
    // only one finds it unused (PostgreSQL re-reads the row after the other's lock); the other
    // is a reuse.
    let first_use =
        sqlx::query("UPDATE refresh_tokens SET used = 1 WHERE token_hash = $1 AND used = 0")
            .bind(sha256_hex(&request.refresh_token))
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
    if !first_use {
        revoke_family(
            &mut tx,
            &family,
            &user_id,
            address.as_deref(),
            SessionEnd::RefreshReused,
        )
        .await?;
        tx.commit().await?;
        state.notify_sessions_ended().await;
        return Err(ApiError::SessionRevoked);
    }
    if row.try_get::<i64, _>("expires_at")? < now_millis() {
        return Err(ApiError::Unauthenticated);
    }
    let session: Uuid = family.parse().map_err(anyhow::Error::from)?;
    let user_id: Uuid = user_id.parse().map_err(anyhow::Error::from)?;
    let user = crate::users::load(&state.db.pool, user_id)
        .await?
        .filter(|u| u.active)
        .ok_or(ApiError::SessionRevoked)?;
    let refresh_token = state
        .tokens
        .issue_refresh(&mut tx, user.id, &family)
        .await?;
    tx.commit().await?;
    Ok(Json(Session {
        access_token: state.tokens.issue_access(user.id, session),
        refresh_token,
        expires_in: state.tokens.access_ttl_secs,
        user,
    }))
}

/// `POST /v1/auth/logout`'s answer (also for a token that was already ended or unknown).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedOut {
    pub signed_out: bool,
}

#[utoipa::path(post, path = "/v1/auth/logout", request_body = RefreshRequest, responses((status = 200, description = "Signed out", body = SignedOut)))]
pub async fn logout(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> ApiResult<Json<SignedOut>> {
    let mut tx = state.db.begin_write().await?;
    let family: Option<(String, String)> =
        sqlx::query_as("SELECT family, user_id FROM refresh_tokens WHERE token_hash = $1")
            .bind(sha256_hex(&request.refresh_token))
            .fetch_optional(&mut *tx)
            .await?;
    if let Some((family, user_id)) = family {
        revoke_family(
            &mut tx,
            &family,
            &user_id,
            address.as_deref(),
            SessionEnd::Logout,
        )
        .await?;
    }
    tx.commit().await?;
    // This session's event streams close; the user's other sessions (devices) go on.
    state.notify_sessions_ended().await;
    Ok(Json(SignedOut { signed_out: true }))
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddUserRequest {
    pub email: String,
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub departments: Vec<String>,
    #[serde(default)]
    pub skills: Vec<String>,
}

#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
pub struct AddedUser {
    pub user: User,
    /// Shown once; the user changes it after signing in.
    pub one_time_password: String,
}

/// Creates a user with a one-time password, auditing who did it. Shared by the HTTP endpoint
/// and the `user add` command.
pub async fn create_user(
    db: &Db,
    actor: &str,
    address: Option<&str>,
    request: &AddUserRequest,
) -> ApiResult<AddedUser> {
    outpost_core::model::check_user_fields(&request.name, &request.email, &request.skills)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let password = random_token(12)?;
    let hash = tokio::task::spawn_blocking({
        let password = password.clone();
        move || hash_password(&password)
    })
    .await
    .map_err(anyhow::Error::from)??;
    let mut tx = db.begin_write().await?;
    for code in &request.departments {
        if !crate::users::department_exists(&mut tx, code).await? {
            return Err(ApiError::BadRequest(format!(
                "departments: there is no department {code:?}"
            )));
        }
    }
    let taken = || {
        ApiError::Conflict(format!(
            "a user with e-mail {} already exists",
            request.email.trim()
        ))
    };
    if crate::users::by_email(&db.pool, &request.email)
        .await?
        .is_some()
    {
        return Err(taken());
    }
    // The read above gives the usual answer; the column's UNIQUE constraint is what holds when
    // two requests add the same address at once.
    let user = crate::users::create(
        &mut tx,
        crate::users::NewUser {
            email: &request.email,
            name: &request.name,
            role: request.role,
            departments: &request.departments,
            skills: &request.skills,
            password_hash: &hash,
        },
    )
    .await
    .map_err(|e| {
        let unique = e
            .downcast_ref::<sqlx::Error>()
            .and_then(sqlx::Error::as_database_error)
            .is_some_and(sqlx::error::DatabaseError::is_unique_violation);
        if unique {
            taken()
        } else {
            ApiError::Internal(e)
        }
    })?;
    AuditEntry::user_added(actor, address, &user)
        .append(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(AddedUser {
        user,
        one_time_password: password,
    })
}

#[utoipa::path(post, path = "/v1/admin/users", security(("bearer" = [])), request_body = AddUserRequest, responses((status = 200, body = AddedUser), (status = 400, description = "Malformed request", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn add_user(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
    ClientAddr(address): ClientAddr,
    request: Result<ApiJson<AddUserRequest>, ApiError>,
) -> ApiResult<Json<AddedUser>> {
    AuthUser(admin.clone()).require(&[Role::Admin])?;
    // Read after the role check, so a caller who may not learns nothing from its validation.
    let ApiJson(request) = request?;
    Ok(Json(
        create_user(
            &state.db,
            &admin.id.to_string(),
            address.as_deref(),
            &request,
        )
        .await?,
    ))
}

#[utoipa::path(post, path = "/v1/admin/users/{id}/disable", security(("bearer" = [])), params(("id" = Uuid, Path, description = "User id")), responses((status = 200, description = "Disabled", body = UserDisabled), (status = 400, description = "Malformed request", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn disable_user(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
    ClientAddr(address): ClientAddr,
    id: Result<ApiPath<Uuid>, ApiError>,
) -> ApiResult<Json<UserDisabled>> {
    AuthUser(admin.clone()).require(&[Role::Admin])?;
    let ApiPath(id) = id?;
    let mut tx = state.db.begin_write().await?;
    if !crate::users::set_active(&mut tx, id, false).await? {
        return Err(ApiError::NotFound("user"));
    }
    AuditEntry::user_disabled(&admin.id.to_string(), address.as_deref(), id)
        .append(&mut tx)
        .await?;
    tx.commit().await?;
    // Their requests are refused already (the user row is read with every one); their open
    // event streams close now, here and on the other instances.
    state.notify_sessions_ended().await;
    Ok(Json(UserDisabled { disabled: id }))
}

/// `POST /v1/admin/users/{id}/disable`'s answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserDisabled {
    pub disabled: Uuid,
}

/// `POST /v1/admin/users/{id}/departments`'s answer: the departments now set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DepartmentsSet {
    pub user: Uuid,
    pub departments: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentsRequest {
    pub departments: Vec<String>,
}

#[utoipa::path(post, path = "/v1/admin/users/{id}/departments", security(("bearer" = [])), params(("id" = Uuid, Path, description = "User id")), request_body = DepartmentsRequest, responses((status = 200, description = "Departments set", body = DepartmentsSet), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn set_departments(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
    ClientAddr(address): ClientAddr,
    id: Result<ApiPath<Uuid>, ApiError>,
    request: Result<ApiJson<DepartmentsRequest>, ApiError>,
) -> ApiResult<Json<DepartmentsSet>> {
    AuthUser(admin.clone()).require(&[Role::Admin])?;
    let (ApiPath(id), ApiJson(request)) = (id?, request?);
    let mut tx = state.db.begin_write().await?;
    for code in &request.departments {
        let known: Option<String> =
            sqlx::query_scalar("SELECT code FROM departments WHERE code = $1")
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?;
        if known.is_none() {
            return Err(ApiError::BadRequest(format!("no department {code:?}")));
        }
    }
    if !crate::users::set_departments(&mut tx, id, &request.departments).await? {
        return Err(ApiError::NotFound("user"));
    }
    AuditEntry::user_departments_set(
        &admin.id.to_string(),
        address.as_deref(),
        id,
        &request.departments,
    )
    .append(&mut tx)
    .await?;
    tx.commit().await?;
    state.notify_changed().await;
    Ok(Json(DepartmentsSet {
        user: id,
        departments: request.departments,
    }))
}
