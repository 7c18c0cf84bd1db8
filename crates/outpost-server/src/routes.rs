//! Authentication and administration endpoints.

use axum::extract::State;
use axum::Json;
use outpost_core::model::{Role, User};
pub use outpost_core::sync::{LoginRequest, RefreshRequest, Session};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::{AuditEntry, SessionEnd};
use crate::auth::{
    end_session, hash_password, random_token, sha256_hex, verify_password, AuthUser, SetupUser,
};
use crate::db::{now_millis, Db};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
pub use crate::invite::InviteKind;
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
pub async fn me(SetupUser(user): SetupUser) -> Json<User> {
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
    // The organisation requires a second factor this user has not set up: the session may only
    // enrol one (`auth::SetupUser`); everything else answers `totp_setup_required`.
    if crate::users::second_factor_missing(&mut tx, user.id).await? {
        crate::users::set_setup_only(&mut tx, &session.to_string(), true).await?;
    }
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
    // A requirement switched on since sign-in applies from this refresh on (within one access
    // token's lifetime).
    let setup_only = crate::users::second_factor_missing(&mut tx, user.id).await?;
    crate::users::set_setup_only(&mut tx, &family, setup_only).await?;
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

/// A JSON body that must be an object, read as `T`. serde also reads a struct from an array
/// (its fields in order), which the API document does not allow; for bodies whose fields are all
/// optional, `[]` would otherwise be taken as an empty change.
pub struct ObjectJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S>
    for ObjectJson<T>
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let ApiJson(object) =
            ApiJson::<serde_json::Map<String, serde_json::Value>>::from_request(req, state).await?;
        // Read again through axum, whose errors name the field.
        let bytes = serde_json::to_vec(&object).map_err(anyhow::Error::from)?;
        Json::<T>::from_bytes(&bytes)
            .map(|Json(value)| ObjectJson(value))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
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
    /// How the user gets their first password: `password` (a one-time password in the answer,
    /// the default) or `link` (an invitation link valid for 7 days).
    #[serde(default)]
    pub invite: InviteKind,
}

/// A new password for a user, as the admin hands it on: exactly one of the two is set.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
pub struct Credentials {
    /// Shown once (`invite: password`).
    pub one_time_password: Option<String>,
    /// `<public base URL>/invite/<token>`, valid for 7 days and once (`invite: link`).
    pub invite_link: Option<String>,
}

#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
pub struct AddedUser {
    pub user: User,
    /// Shown once (`invite: password`); the user changes it after signing in.
    pub one_time_password: Option<String>,
    /// `<public base URL>/invite/<token>`, valid for 7 days and once (`invite: link`).
    pub invite_link: Option<String>,
}

/// A new password hash for `invite`: a one-time password's (returned), or, for a link, one
/// nobody knows until the user sets theirs.
async fn new_password(invite: InviteKind) -> ApiResult<(Option<String>, String)> {
    let password = match invite {
        InviteKind::Password => Some(random_token(12)?),
        InviteKind::Link => None,
    };
    let hash = tokio::task::spawn_blocking({
        let password = password.clone();
        move || match password {
            Some(p) => hash_password(&p),
            None => crate::invite::unusable_password_hash(),
        }
    })
    .await
    .map_err(anyhow::Error::from)??;
    Ok((password, hash))
}

/// Refuses department codes that do not name an active department.
async fn check_departments(tx: &mut crate::db::WriteTx, codes: &[String]) -> ApiResult<()> {
    for code in codes {
        if !crate::users::department_usable(tx, code).await? {
            return Err(ApiError::BadRequest(format!(
                "departments: there is no active department {code:?}"
            )));
        }
    }
    Ok(())
}

/// Creates a user with a one-time password or an invitation link, auditing who did it. Shared
/// by the HTTP endpoint and the `user add` command; `public_base_url` starts the link.
pub async fn create_user(
    db: &Db,
    actor: &str,
    address: Option<&str>,
    request: &AddUserRequest,
    public_base_url: &str,
) -> ApiResult<AddedUser> {
    outpost_core::model::check_user_fields(&request.name, &request.email, &request.skills)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let (password, hash) = new_password(request.invite).await?;
    let mut tx = db.begin_write().await?;
    check_departments(&mut tx, &request.departments).await?;
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
    let invite_link = match request.invite {
        InviteKind::Link => {
            Some(crate::invite::create_link(&mut tx, user.id, actor, public_base_url).await?)
        }
        InviteKind::Password => None,
    };
    AuditEntry::user_added(actor, address, &user, request.invite.as_str())
        .append(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(AddedUser {
        user,
        one_time_password: password,
        invite_link,
    })
}

/// A person as an admin's people list shows them: the directory's fields and whether their
/// second factor is set up. The secret itself never leaves the server.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminUser {
    #[serde(flatten)]
    pub user: User,
    /// An authenticator is enabled (enrolment finished).
    pub totp_enabled: bool,
}

/// `GET /v1/admin/users`: everyone, disabled people included, by e-mail.
#[utoipa::path(get, path = "/v1/admin/users", security(("bearer" = [])), responses((status = 200, description = "Every user with their second factor's state (never the secret), by e-mail", body = Vec<AdminUser>), (status = 401, description = "Not signed in", body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
) -> ApiResult<Json<Vec<AdminUser>>> {
    AuthUser(admin).require(&[Role::Admin])?;
    let users = crate::users::list_with_second_factor(&state.db.pool).await?;
    Ok(Json(
        users
            .into_iter()
            .map(|(user, totp_enabled)| AdminUser { user, totp_enabled })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/v1/admin/users", security(("bearer" = [])), request_body = AddUserRequest, responses((status = 200, body = AddedUser), (status = 400, description = "Malformed request, or a field or department is not acceptable", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 409, description = "A user with this e-mail exists", body = crate::error::ErrorBody)))]
pub async fn add_user(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
    ClientAddr(address): ClientAddr,
    request: Result<ObjectJson<AddUserRequest>, ApiError>,
) -> ApiResult<Json<AddedUser>> {
    AuthUser(admin.clone()).require(&[Role::Admin])?;
    // Read after the role check, so a caller who may not learns nothing from its validation.
    let ObjectJson(request) = request?;
    let added = create_user(
        &state.db,
        &admin.id.to_string(),
        address.as_deref(),
        &request,
        &state.config.public_base_url(),
    )
    .await?;
    state.notify_changed().await;
    Ok(Json(added))
}

/// The refusal when a change would leave the organisation without an active admin.
fn last_admin() -> ApiError {
    ApiError::Conflict(
        "this is the organisation's last active admin; make another user an admin first".into(),
    )
}

#[utoipa::path(post, path = "/v1/admin/users/{id}/disable", security(("bearer" = [])), params(("id" = Uuid, Path, description = "User id")), responses((status = 200, description = "Disabled", body = UserDisabled), (status = 400, description = "Malformed request", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "The user is the last active admin", body = crate::error::ErrorBody)))]
pub async fn disable_user(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
    ClientAddr(address): ClientAddr,
    id: Result<ApiPath<Uuid>, ApiError>,
) -> ApiResult<Json<UserDisabled>> {
    AuthUser(admin.clone()).require(&[Role::Admin])?;
    let ApiPath(id) = id?;
    let mut tx = state.db.begin_write().await?;
    let user = crate::users::load_in(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    if user.role == Role::Admin
        && user.active
        && crate::users::other_active_admins(&mut tx, id).await? == 0
    {
        return Err(last_admin());
    }
    crate::users::set_active(&mut tx, id, false).await?;
    AuditEntry::user_disabled(&admin.id.to_string(), address.as_deref(), id)
        .append(&mut tx)
        .await?;
    tx.commit().await?;
    // Their requests are refused already (the user row is read with every one); their open
    // event streams close now, here and on the other instances.
    state.notify_sessions_ended().await;
    state.notify_changed().await;
    Ok(Json(UserDisabled { disabled: id }))
}

/// `POST /v1/admin/users/{id}/enable` and `/reset-totp`'s answer: the user now.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserAnswer {
    pub user: User,
}

#[utoipa::path(post, path = "/v1/admin/users/{id}/enable", security(("bearer" = [])), params(("id" = Uuid, Path, description = "User id")), responses((status = 200, description = "Enabled: the user may sign in again", body = UserAnswer), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn enable_user(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
    ClientAddr(address): ClientAddr,
    id: Result<ApiPath<Uuid>, ApiError>,
) -> ApiResult<Json<UserAnswer>> {
    AuthUser(admin.clone()).require(&[Role::Admin])?;
    let ApiPath(id) = id?;
    let mut tx = state.db.begin_write().await?;
    let user = crate::users::load_in(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    if !user.active {
        crate::users::set_active(&mut tx, id, true).await?;
        AuditEntry::user_enabled(&admin.id.to_string(), address.as_deref(), id)
            .append(&mut tx)
            .await?;
    }
    let user = crate::users::load_in(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    tx.commit().await?;
    state.notify_changed().await;
    Ok(Json(UserAnswer { user }))
}

/// `PATCH /v1/admin/users/{id}`'s body: the fields to change; absent ones stay.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    /// The departments the user works in (active ones); replaces the list.
    #[serde(default)]
    pub departments: Option<Vec<String>>,
    /// Replaces the list.
    #[serde(default)]
    pub skills: Option<Vec<String>>,
    /// Away (holiday, sick, off shift): dispatch skips them, the assignee picker says so.
    #[serde(default)]
    pub away: Option<bool>,
    /// The weekly hours the user works, in the organisation calendar's time zone; dispatch
    /// skips an agent outside them. `null` removes the schedule (always available).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<outpost_core::sla::calendar::WeeklyHours>)]
    pub shifts: Option<Option<outpost_core::sla::calendar::WeeklyHours>>,
}

/// A field that is present in the body, `null` included (an absent one stays `None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[utoipa::path(patch, path = "/v1/admin/users/{id}", security(("bearer" = [])), params(("id" = Uuid, Path, description = "User id")), request_body = UpdateUserRequest, responses((status = 200, description = "The user after the change (clients pull it)", body = User), (status = 400, description = "Malformed request, or a field or department is not acceptable", body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "The change would demote the last active admin", body = crate::error::ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
    ClientAddr(address): ClientAddr,
    id: Result<ApiPath<Uuid>, ApiError>,
    request: Result<ObjectJson<UpdateUserRequest>, ApiError>,
) -> ApiResult<Json<User>> {
    AuthUser(admin.clone()).require(&[Role::Admin])?;
    let (ApiPath(id), ObjectJson(request)) = (id?, request?);
    let mut tx = state.db.begin_write().await?;
    let current = crate::users::load_in(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    let name = request.name.as_deref().unwrap_or(&current.name);
    let skills = request.skills.as_deref().unwrap_or(&current.skills);
    outpost_core::model::check_user_fields(name, &current.email, skills)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if let Some(departments) = &request.departments {
        check_departments(&mut tx, departments).await?;
    }
    if let Some(Some(shifts)) = &request.shifts {
        outpost_core::sla::calendar::validate_shifts(shifts)
            .map_err(|e| ApiError::BadRequest(format!("shifts: {e}")))?;
    }
    let demoted = request.role.is_some_and(|r| r != Role::Admin);
    if demoted
        && current.role == Role::Admin
        && current.active
        && crate::users::other_active_admins(&mut tx, id).await? == 0
    {
        return Err(last_admin());
    }
    let patch = crate::users::UserPatch {
        name: request.name,
        role: request.role,
        departments: request.departments,
        skills: request.skills,
        away: request.away,
        shifts: request.shifts,
    };
    let (before, after) = crate::users::update(&mut tx, id, &patch)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    if before != after {
        AuditEntry::user_updated(&admin.id.to_string(), address.as_deref(), &before, &after)
            .append(&mut tx)
            .await?;
    }
    tx.commit().await?;
    state.notify_changed().await;
    Ok(Json(after))
}

/// `POST /v1/admin/users/{id}/reset-password`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// `password` (a one-time password in the answer, the default) or `link`.
    #[serde(default)]
    pub invite: InviteKind,
}

#[utoipa::path(post, path = "/v1/admin/users/{id}/reset-password", security(("bearer" = [])), params(("id" = Uuid, Path, description = "User id")), request_body = ResetPasswordRequest, responses((status = 200, description = "The old password no longer works and the user's sessions ended; hand on the new password or link", body = Credentials), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
    ClientAddr(address): ClientAddr,
    id: Result<ApiPath<Uuid>, ApiError>,
    request: Result<ObjectJson<ResetPasswordRequest>, ApiError>,
) -> ApiResult<Json<Credentials>> {
    AuthUser(admin.clone()).require(&[Role::Admin])?;
    let (ApiPath(id), ObjectJson(request)) = (id?, request?);
    let (password, hash) = new_password(request.invite).await?;
    let actor = admin.id.to_string();
    let mut tx = state.db.begin_write().await?;
    if !crate::users::set_password(&mut tx, id, &hash).await? {
        return Err(ApiError::NotFound("user"));
    }
    let invite_link = match request.invite {
        InviteKind::Link => Some(
            crate::invite::create_link(&mut tx, id, &actor, &state.config.public_base_url())
                .await?,
        ),
        InviteKind::Password => None,
    };
    AuditEntry::password_reset(&actor, address.as_deref(), id, request.invite.as_str())
        .append(&mut tx)
        .await?;
    tx.commit().await?;
    state.notify_sessions_ended().await;
    Ok(Json(Credentials {
        one_time_password: password,
        invite_link,
    }))
}

#[utoipa::path(post, path = "/v1/admin/users/{id}/reset-totp", security(("bearer" = [])), params(("id" = Uuid, Path, description = "User id")), responses((status = 200, description = "The user's second factor is removed and their sessions ended; they sign in with their password and may enrol a new authenticator", body = UserAnswer), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn reset_totp(
    State(state): State<AppState>,
    AuthUser(admin): AuthUser,
    ClientAddr(address): ClientAddr,
    id: Result<ApiPath<Uuid>, ApiError>,
) -> ApiResult<Json<UserAnswer>> {
    AuthUser(admin.clone()).require(&[Role::Admin])?;
    let ApiPath(id) = id?;
    let mut tx = state.db.begin_write().await?;
    let had_totp: Option<Option<String>> =
        sqlx::query_scalar("SELECT totp_secret FROM users WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    let had_totp = had_totp.ok_or(ApiError::NotFound("user"))?.is_some();
    crate::users::reset_totp(&mut tx, id).await?;
    AuditEntry::totp_reset(&admin.id.to_string(), address.as_deref(), id, had_totp)
        .append(&mut tx)
        .await?;
    let user = crate::users::load_in(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    tx.commit().await?;
    state.notify_sessions_ended().await;
    Ok(Json(UserAnswer { user }))
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
    check_departments(&mut tx, &request.departments).await?;
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
