//! Users and departments in the server database.

use outpost_core::model::{Role, User};
use sqlx::{AnyPool, Row};
use uuid::Uuid;

use crate::db::{next, now_millis, WriteTx};

pub(crate) fn decode(row: &sqlx::any::AnyRow) -> anyhow::Result<User> {
    Ok(User {
        id: row.try_get::<String, _>("id")?.parse()?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        role: row.try_get::<String, _>("role")?.parse()?,
        departments: serde_json::from_str(&row.try_get::<String, _>("departments")?)?,
        skills: serde_json::from_str(&row.try_get::<String, _>("skills")?)?,
        active: row.try_get::<i64, _>("active")? != 0,
        away: row.try_get::<i64, _>("away")? != 0,
        shifts: row
            .try_get::<Option<String>, _>("shifts")?
            .map(|s| serde_json::from_str(&s))
            .transpose()?,
    })
}

/// The columns [`decode`] reads, for queries that select a user.
pub(crate) const COLUMNS: &str = "id, name, email, role, departments, skills, active, away, shifts";

pub async fn load(pool: &AnyPool, id: Uuid) -> anyhow::Result<Option<User>> {
    let row = sqlx::query(
        "SELECT id, name, email, role, departments, skills, active, away, shifts FROM users WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(decode).transpose()
}

/// The user, read together with one of their sessions, and whether that session may only set
/// up a second factor (`setup_only`: the organisation requires one and the user has none yet).
/// `None` when the session was ended (logout, a reused refresh token, a password reset,
/// disabling), belongs to someone else, or does not exist. The caller still checks `active`.
pub async fn load_in_session(
    pool: &AnyPool,
    id: Uuid,
    session: Uuid,
) -> anyhow::Result<Option<(User, bool)>> {
    let row = sqlx::query(
        "SELECT u.id, u.name, u.email, u.role, u.departments, u.skills, u.active, u.away, u.shifts, s.setup_only
         FROM users u JOIN sessions s ON s.user_id = u.id
         WHERE u.id = $1 AND s.family = $2 AND s.ended_at IS NULL",
    )
    .bind(id.to_string())
    .bind(session.to_string())
    .fetch_optional(pool)
    .await?;
    row.map(|r| Ok((decode(&r)?, r.try_get::<i64, _>("setup_only")? != 0)))
        .transpose()
}

/// Every user, by e-mail, with whether their second factor is enabled (the secret is not read).
pub async fn list_with_second_factor(pool: &AnyPool) -> anyhow::Result<Vec<(User, bool)>> {
    let sql = format!(
        "SELECT {COLUMNS}, CASE WHEN totp_secret IS NULL THEN CAST(0 AS BIGINT) ELSE CAST(1 AS BIGINT) END AS totp_enabled
         FROM users ORDER BY email"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| Ok((decode(row)?, row.try_get::<i64, _>("totp_enabled")? != 0)))
        .collect()
}

/// Whether the organisation requires a second factor that `user` has not enabled, read in `tx`:
/// their session may then only set one up (`sessions.setup_only`).
pub async fn second_factor_missing(tx: &mut WriteTx, user: Uuid) -> anyhow::Result<bool> {
    let settings = crate::settings_docs::load(tx).await?;
    if !settings.profile().require_two_factor {
        return Ok(false);
    }
    let secret: Option<String> = sqlx::query_scalar("SELECT totp_secret FROM users WHERE id = $1")
        .bind(user.to_string())
        .fetch_one(&mut **tx)
        .await?;
    Ok(secret.is_none())
}

/// Marks the session `family` as limited to setting up a second factor, or lifts that.
pub async fn set_setup_only(tx: &mut WriteTx, family: &str, setup_only: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET setup_only = $1 WHERE family = $2")
        .bind(i64::from(setup_only))
        .bind(family)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ends every session of a user (disabled, or a new password): their access tokens are refused
/// from now on and their refresh tokens revoked. The caller commits, then calls
/// `AppState::notify_sessions_ended` (or `events::notify_sessions_ended` without a server) so
/// open event streams close.
pub async fn end_sessions(tx: &mut WriteTx, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL")
        .bind(now_millis())
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE refresh_tokens SET revoked = 1 WHERE user_id = $1")
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The user with this e-mail (case-insensitive) and their password hash.
pub async fn by_email(pool: &AnyPool, email: &str) -> anyhow::Result<Option<(User, String)>> {
    let row = sqlx::query(
        "SELECT id, name, email, role, departments, skills, active, away, shifts, password_hash FROM users WHERE email = $1",
    )
    .bind(email.trim().to_lowercase())
    .fetch_optional(pool)
    .await?;
    row.map(|r| Ok((decode(&r)?, r.try_get("password_hash")?)))
        .transpose()
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub departments: &'a [String],
    pub skills: &'a [String],
    pub password_hash: &'a str,
}

/// Whether the department `code` exists, read in `tx`.
pub async fn department_exists(tx: &mut WriteTx, code: &str) -> anyhow::Result<bool> {
    let found: Option<String> = sqlx::query_scalar("SELECT code FROM departments WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(found.is_some())
}

/// Whether the department `code` exists and is not retired, read in `tx`: users are placed only
/// in departments that are offered.
pub async fn department_usable(tx: &mut WriteTx, code: &str) -> anyhow::Result<bool> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT code FROM departments WHERE code = $1 AND active = 1")
            .bind(code)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(found.is_some())
}

/// Stores a new user. The caller has checked the fields (`check_user_fields`) and departments;
/// an address already taken fails on the column's UNIQUE constraint.
pub async fn create(tx: &mut WriteTx, new: NewUser<'_>) -> anyhow::Result<User> {
    let email = new.email.trim().to_lowercase();
    outpost_core::model::check_user_fields(new.name, &email, new.skills)?;
    let user = User {
        id: Uuid::now_v7(),
        name: new.name.trim().to_owned(),
        email,
        role: new.role,
        departments: new.departments.to_vec(),
        skills: new.skills.to_vec(),
        active: true,
        away: false,
        shifts: None,
    };
    let seq = next(tx, "change_seq").await?;
    sqlx::query(
        "INSERT INTO users (id, email, name, role, departments, skills, password_hash, active, seq, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9)",
    )
    .bind(user.id.to_string())
    .bind(&user.email)
    .bind(&user.name)
    .bind(user.role.as_str())
    .bind(serde_json::to_string(&user.departments)?)
    .bind(serde_json::to_string(&user.skills)?)
    .bind(new.password_hash)
    .bind(seq)
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(user)
}

pub async fn set_active(tx: &mut WriteTx, id: Uuid, active: bool) -> anyhow::Result<bool> {
    let seq = next(tx, "change_seq").await?;
    let done = sqlx::query("UPDATE users SET active = $1, seq = $2 WHERE id = $3")
        .bind(i64::from(active))
        .bind(seq)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if !active {
        end_sessions(tx, id).await?;
    }
    Ok(done == 1)
}

pub async fn set_password(tx: &mut WriteTx, id: Uuid, password_hash: &str) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    end_sessions(tx, id).await?;
    Ok(done == 1)
}

pub async fn add_department(tx: &mut WriteTx, code: &str, name: &str) -> anyhow::Result<()> {
    let code = code.trim().to_lowercase();
    if code.is_empty()
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        anyhow::bail!("department code {code:?} must be letters, digits, '-' or '_'");
    }
    let seq = next(tx, "change_seq").await?;
    sqlx::query("INSERT INTO departments (code, name, seq) VALUES ($1, $2, $3)")
        .bind(&code)
        .bind(name.trim())
        .bind(seq)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets a user's departments. When a department is removed the user's view shrank: their
/// clients must drop what they can no longer see, so `view_seq` marks cursors before this change
/// as needing a re-bootstrap (`reset_required`).
pub async fn set_departments(
    tx: &mut WriteTx,
    id: Uuid,
    departments: &[String],
) -> anyhow::Result<bool> {
    let old: Option<String> = sqlx::query_scalar("SELECT departments FROM users WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    let Some(old) = old else { return Ok(false) };
    let old: Vec<String> = serde_json::from_str(&old)?;
    let shrank = old.iter().any(|d| !departments.contains(d));
    let seq = next(tx, "change_seq").await?;
    sqlx::query(
        "UPDATE users SET departments = $1, seq = $2,
             view_seq = CASE WHEN $3 = 1 THEN $2 ELSE view_seq END
         WHERE id = $4",
    )
    .bind(serde_json::to_string(departments)?)
    .bind(seq)
    .bind(i64::from(shrank))
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// The user as stored, read in `tx` (so a write transaction sees its own changes and holds what
/// it read until it commits).
pub async fn load_in(tx: &mut WriteTx, id: Uuid) -> anyhow::Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(decode).transpose()
}

/// Active admins other than `id`, counted in `tx`. Write transactions run one at a time (see
/// `Db::begin_write`), so two requests that would each remove one of the last two admins see
/// each other's result: the second finds none left and is refused.
pub async fn other_active_admins(tx: &mut WriteTx, id: Uuid) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE role = $1 AND active = 1 AND id <> $2",
        )
        .bind(Role::Admin.as_str())
        .bind(id.to_string())
        .fetch_one(&mut **tx)
        .await?,
    )
}

/// A change to a user's profile: every field left `None` stays as it is.
#[derive(Debug, Default, Clone)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub departments: Option<Vec<String>>,
    pub skills: Option<Vec<String>>,
    pub away: Option<bool>,
    /// `Some(None)` removes the schedule.
    pub shifts: Option<Option<outpost_core::sla::calendar::WeeklyHours>>,
}

/// Applies `patch` to the user as read in `tx`; returns the user before and after, or `None`
/// when there is no such user. The caller has checked the fields and departments. Clients pull
/// the change (a new `seq`); when the user's view shrank (a department removed, or a supervisor
/// or admin made an agent) `view_seq` marks their devices for a re-bootstrap, as
/// [`set_departments`] does.
pub async fn update(
    tx: &mut WriteTx,
    id: Uuid,
    patch: &UserPatch,
) -> anyhow::Result<Option<(User, User)>> {
    let Some(before) = load_in(tx, id).await? else {
        return Ok(None);
    };
    let mut after = before.clone();
    if let Some(name) = &patch.name {
        after.name = name.trim().to_owned();
    }
    if let Some(role) = patch.role {
        after.role = role;
    }
    if let Some(departments) = &patch.departments {
        after.departments = departments.clone();
    }
    if let Some(skills) = &patch.skills {
        after.skills = skills.iter().map(|s| s.trim().to_owned()).collect();
    }
    if let Some(away) = patch.away {
        after.away = away;
    }
    if let Some(shifts) = &patch.shifts {
        after.shifts = shifts.clone();
    }
    if after == before {
        return Ok(Some((before, after)));
    }
    let sees_all = |role: Role| role != Role::Agent;
    let shrank = (sees_all(before.role) && !sees_all(after.role))
        || (!sees_all(after.role)
            && before
                .departments
                .iter()
                .any(|d| !after.departments.contains(d)));
    let seq = next(tx, "change_seq").await?;
    sqlx::query(
        "UPDATE users SET name = $1, role = $2, departments = $3, skills = $4, away = $5, seq = $6,
             view_seq = CASE WHEN $7 = 1 THEN $6 ELSE view_seq END, shifts = $9
         WHERE id = $8",
    )
    .bind(&after.name)
    .bind(after.role.as_str())
    .bind(serde_json::to_string(&after.departments)?)
    .bind(serde_json::to_string(&after.skills)?)
    .bind(i64::from(after.away))
    .bind(seq)
    .bind(i64::from(shrank))
    .bind(id.to_string())
    .bind(
        after
            .shifts
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?,
    )
    .execute(&mut **tx)
    .await?;
    Ok(Some((before, after)))
}

/// Removes the user's second factor (enabled and pending) and ends their sessions; they sign in
/// with their password alone and may enrol a new authenticator. Returns whether the user exists.
pub async fn reset_totp(tx: &mut WriteTx, id: Uuid) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL WHERE id = $1",
    )
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    end_sessions(tx, id).await?;
    Ok(done == 1)
}
