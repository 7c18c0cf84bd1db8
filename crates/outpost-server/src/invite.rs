//! Invitation links: an admin adds a user (or resets a password) with `invite: "link"` and
//! hands the link to the person; they open `/invite/{token}` in a browser and choose their own
//! password, so no password ever passes through the admin.
//!
//! A link is `<public base URL>/invite/<token>`, 32 random bytes. Only its SHA-256 is stored
//! (table `invites`), like refresh tokens and customer links. It is valid for
//! [`INVITE_VALID_DAYS`] days and spent by the first password set through it: the transaction
//! that sets the password marks it used with a conditional update, so two submissions at once
//! set one password. A newer link for the same user ends the older ones. The pages carry no
//! script (see `invite_page.rs`).

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use outpost_core::model::User;
use serde::Deserialize;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::audit::AuditEntry;
use crate::auth::{hash_password, random_token, sha256_hex};
use crate::db::{now_millis, WriteTx};
use crate::invite_page::{self, Refusal};
use crate::pages::pick_lang;
use crate::{AppState, ClientAddr};

pub use crate::invite_page::{INVITE_VALID_DAYS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};

/// How a new or reset user gets their first password: shown once to the admin, or chosen by
/// the user through a link.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum InviteKind {
    /// A one-time password in the answer, for the admin to pass on.
    #[default]
    Password,
    /// A link valid for 7 days where the user sets their own password.
    Link,
}

impl InviteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InviteKind::Password => "password",
            InviteKind::Link => "link",
        }
    }
}

/// A password nobody knows: what a user invited by link has until they set theirs, and what a
/// reset by link leaves until then (the old password stops working at once).
pub fn unusable_password_hash() -> anyhow::Result<String> {
    hash_password(&random_token(32)?)
}

/// Creates an invitation for `user` in `tx` and returns its link; earlier unused links of the
/// same user stop working.
pub async fn create_link(
    tx: &mut WriteTx,
    user: Uuid,
    created_by: &str,
    public_base_url: &str,
) -> anyhow::Result<String> {
    let now = now_millis();
    sqlx::query(
        "UPDATE invites SET expires_at = $1 WHERE user_id = $2 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(user.to_string())
    .execute(&mut **tx)
    .await?;
    let token = random_token(32)?;
    sqlx::query(
        "INSERT INTO invites (token_hash, user_id, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(sha256_hex(&token))
    .bind(user.to_string())
    .bind(created_by)
    .bind(now)
    .bind(now + INVITE_VALID_DAYS * 86_400_000)
    .execute(&mut **tx)
    .await?;
    Ok(format!(
        "{}/invite/{token}",
        public_base_url.trim_end_matches('/')
    ))
}

/// `?lang=en|zh-CN`, which beats the browser's preference.
#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// What a token leads to.
enum Lookup {
    /// A live invitation for this (active) user.
    Valid(Box<User>),
    Refused(Refusal),
}

async fn lookup(state: &AppState, token: &str) -> anyhow::Result<Lookup> {
    let row: Option<(String, i64, Option<i64>)> =
        sqlx::query_as("SELECT user_id, expires_at, used_at FROM invites WHERE token_hash = $1")
            .bind(sha256_hex(token))
            .fetch_optional(&state.db.pool)
            .await?;
    let Some((user_id, expires_at, used_at)) = row else {
        return Ok(Lookup::Refused(Refusal::Unknown));
    };
    if used_at.is_some() {
        return Ok(Lookup::Refused(Refusal::Used));
    }
    if expires_at <= now_millis() {
        return Ok(Lookup::Refused(Refusal::Expired));
    }
    // A disabled user's link leads nowhere: the page does not say whether it ever did.
    match crate::users::load(&state.db.pool, user_id.parse()?).await? {
        Some(user) if user.active => Ok(Lookup::Valid(Box::new(user))),
        _ => Ok(Lookup::Refused(Refusal::Unknown)),
    }
}

fn internal(e: anyhow::Error) -> Response {
    axum::response::IntoResponse::into_response(crate::error::ApiError::Internal(e))
}

/// `GET /invite/{token}`: the form to choose a password, or why the link no longer works.
pub async fn form(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = pick_lang(q.lang.as_deref(), &headers);
    match lookup(&state, &token).await {
        Ok(Lookup::Valid(user)) => {
            invite_page::form(StatusCode::OK, lang, &token, &user.email, None)
        }
        Ok(Lookup::Refused(refusal)) => invite_page::refused(lang, refusal),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
    confirm: String,
}

/// What is wrong with a chosen password, if anything.
fn check_password(password: &str, confirm: &str) -> Option<invite_page::Problem> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS || password.trim().is_empty() {
        Some(invite_page::Problem::TooShort)
    } else if chars > MAX_PASSWORD_CHARS {
        Some(invite_page::Problem::TooLong)
    } else if password != confirm {
        Some(invite_page::Problem::Mismatch)
    } else {
        None
    }
}

/// `POST /invite/{token}`: sets the password and spends the link.
pub async fn set_password(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Response {
    let lang = pick_lang(q.lang.as_deref(), &headers);
    let user = match lookup(&state, &token).await {
        Ok(Lookup::Valid(user)) => *user,
        Ok(Lookup::Refused(refusal)) => return invite_page::refused(lang, refusal),
        Err(e) => return internal(e),
    };
    let Ok(Form(form)) = form else {
        return invite_page::form(
            StatusCode::BAD_REQUEST,
            lang,
            &token,
            &user.email,
            Some(invite_page::Problem::TooShort),
        );
    };
    let (password, confirm) = (Zeroizing::new(form.password), Zeroizing::new(form.confirm));
    if let Some(problem) = check_password(&password, &confirm) {
        return invite_page::form(
            StatusCode::BAD_REQUEST,
            lang,
            &token,
            &user.email,
            Some(problem),
        );
    }
    let hashed = tokio::task::spawn_blocking(move || hash_password(&password)).await;
    let hash = match hashed.map_err(anyhow::Error::from).and_then(|h| h) {
        Ok(hash) => hash,
        Err(e) => return internal(e),
    };
    match spend(&state, &token, user.id, &hash, address.as_deref()).await {
        Ok(true) => {
            state.notify_sessions_ended().await;
            invite_page::done(lang, &user.email)
        }
        // Spent or ended between the look-up and now: say which, as a fresh look-up would.
        Ok(false) => match lookup(&state, &token).await {
            Ok(Lookup::Refused(refusal)) => invite_page::refused(lang, refusal),
            Ok(Lookup::Valid(_)) => invite_page::refused(lang, Refusal::Used),
            Err(e) => internal(e),
        },
        Err(e) => internal(e),
    }
}

/// Spends the link and sets the password in one write transaction; `false` when the link was
/// spent, ended or its user disabled in the meantime (nothing written).
async fn spend(
    state: &AppState,
    token: &str,
    user: Uuid,
    hash: &str,
    address: Option<&str>,
) -> anyhow::Result<bool> {
    let now = now_millis();
    let mut tx = state.db.begin_write().await?;
    let spent = sqlx::query(
        "UPDATE invites SET used_at = $1 WHERE token_hash = $2 AND user_id = $3 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(sha256_hex(token))
    .bind(user.to_string())
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    let active = crate::users::load_in(&mut tx, user)
        .await?
        .is_some_and(|u| u.active);
    if !spent || !active {
        return Ok(false);
    }
    crate::users::set_password(&mut tx, user, hash).await?;
    AuditEntry::invite_accepted(user, address)
        .append(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chosen_passwords_must_be_long_enough_bounded_and_typed_twice() {
        use invite_page::Problem;
        assert_eq!(check_password("short", "short"), Some(Problem::TooShort));
        let blank = " ".repeat(20);
        assert_eq!(check_password(&blank, &blank), Some(Problem::TooShort));
        let long = "x".repeat(MAX_PASSWORD_CHARS + 1);
        assert_eq!(check_password(&long, &long), Some(Problem::TooLong));
        assert_eq!(
            check_password("correct horse battery", "correct horse battery!"),
            Some(Problem::Mismatch)
        );
        // Characters, not bytes: twelve Chinese characters are enough.
        assert_eq!(
            check_password("我的密码很长很长很长很长", "我的密码很长很长很长很长"),
            None
        );
    }
}
