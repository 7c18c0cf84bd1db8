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
        away: false,
    })
}

pub async fn load(pool: &AnyPool, id: Uuid) -> anyhow::Result<Option<User>> {
    let row = sqlx::query(
        "SELECT id, name, email, role, departments, skills, active FROM users WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(decode).transpose()
}

/// The user, read together with one of their sessions: `None` when the session was ended (logout,
/// a reused refresh token, a password reset, disabling), belongs to someone else, or does not
/// exist. The caller still checks `active`.
pub async fn load_in_session(
    pool: &AnyPool,
    id: Uuid,
    session: Uuid,
) -> anyhow::Result<Option<User>> {
    let row = sqlx::query(
        "SELECT u.id, u.name, u.email, u.role, u.departments, u.skills, u.active
         FROM users u JOIN sessions s ON s.user_id = u.id
         WHERE u.id = $1 AND s.family = $2 AND s.ended_at IS NULL",
    )
    .bind(id.to_string())
    .bind(session.to_string())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(decode).transpose()
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
        "SELECT id, name, email, role, departments, skills, active, password_hash FROM users WHERE email = $1",
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
