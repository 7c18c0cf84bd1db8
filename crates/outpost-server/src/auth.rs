//! Passwords (Argon2id), short-lived signed access tokens, rotating refresh tokens, and the
//! extractor that turns a bearer token into the signed-in user.
//!
//! A sign-in starts a session (a row in `sessions`, one refresh-token family). Access tokens are
//! signed (HMAC-SHA256 over a small JSON claim set) so any instance can check them, and name
//! their session; every request reads the user row and the session in one query, so a logout,
//! a reused refresh token, a disabled user or a password reset refuses the session's requests at
//! once, on every instance, and changing a role or departments takes effect at once. Refresh
//! tokens are random, stored only as SHA-256 hashes, single-use, and grouped in families:
//! presenting a used one ends the session.
//!
//! A session can be limited to enrolling a second factor (`sessions.setup_only`, set at sign-in
//! and at each refresh when the organisation requires one the user lacks): [`AuthUser`] and
//! [`AuthSession`] refuse it with `totp_setup_required`; only [`SetupUser`] handlers take it.
//!
//! Failed sign-ins are counted by [`RateLimiter`], per instance: an attempt reserves its place
//! before the password is verified, so concurrent attempts cannot all pass one check.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use outpost_core::model::{Role, User};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::{now_millis, WriteTx};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash password: {e}"))
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A random secret as URL-safe text (refresh tokens, one-time passwords, signing keys).
pub fn random_token(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    /// The session (refresh-token family) the token was issued for.
    sid: Uuid,
    exp: i64,
}

/// Who an access token speaks for: a user, within one of their sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub user: Uuid,
    pub session: Uuid,
}

pub struct Tokens {
    secret: Vec<u8>,
    pub access_ttl_secs: i64,
    pub refresh_ttl_millis: i64,
}

impl Tokens {
    pub fn new(secret: &str, access_ttl_secs: i64, refresh_ttl_days: i64) -> Self {
        Tokens {
            secret: secret.as_bytes().to_vec(),
            access_ttl_secs,
            refresh_ttl_millis: refresh_ttl_days * 86_400_000,
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes any key length")
    }

    pub fn issue_access(&self, user: Uuid, session: Uuid) -> String {
        let claims = Claims {
            sub: user,
            sid: session,
            exp: now_millis() / 1000 + self.access_ttl_secs,
        };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        format!(
            "{payload}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    /// The user and session of a valid, unexpired access token. Whether the session is still
    /// live is for the database to say (see [`AuthSession`]).
    pub fn check_access(&self, token: &str) -> Option<Access> {
        let (payload, signature) = token.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).ok()?;
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (claims.exp > now_millis() / 1000).then_some(Access {
            user: claims.sub,
            session: claims.sid,
        })
    }

    /// Starts a session for `user` inside `tx`; returns its id and its first refresh token.
    pub async fn start_session(&self, tx: &mut WriteTx, user: Uuid) -> ApiResult<(Uuid, String)> {
        let session = Uuid::now_v7();
        sqlx::query("INSERT INTO sessions (family, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(session.to_string())
            .bind(user.to_string())
            .bind(now_millis())
            .execute(&mut **tx)
            .await?;
        let refresh = self.issue_refresh(tx, user, &session.to_string()).await?;
        Ok((session, refresh))
    }

    /// Creates a refresh token in `family` and stores its hash.
    pub async fn issue_refresh(
        &self,
        tx: &mut WriteTx,
        user: Uuid,
        family: &str,
    ) -> ApiResult<String> {
        let token = random_token(32)?;
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family, user_id, expires_at, used, revoked)
             VALUES ($1, $2, $3, $4, 0, 0)",
        )
        .bind(sha256_hex(&token))
        .bind(family)
        .bind(user.to_string())
        .bind(now_millis() + self.refresh_ttl_millis)
        .execute(&mut **tx)
        .await?;
        Ok(token)
    }
}

/// Ends one session: its access tokens are refused from now on, its refresh tokens revoked.
/// Returns whether it was still live. The caller commits, then calls
/// [`AppState::notify_sessions_ended`] so open event streams close.
pub async fn end_session(tx: &mut WriteTx, family: &str) -> sqlx::Result<bool> {
    // The session row first: a concurrent refresh of this family locks the same row
    // (PostgreSQL) and then finds it ended.
    let ended =
        sqlx::query("UPDATE sessions SET ended_at = $1 WHERE family = $2 AND ended_at IS NULL")
            .bind(now_millis())
            .bind(family)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    sqlx::query("UPDATE refresh_tokens SET revoked = 1 WHERE family = $1")
        .bind(family)
        .execute(&mut **tx)
        .await?;
    Ok(ended == 1)
}

/// Counts attempts per key (account, address, form) in a sliding minute. Checking and counting
/// are one step under one lock ([`RateLimiter::try_reserve`]): an attempt takes its place before
/// the slow work (a password verification) starts, so concurrent attempts cannot all pass a check
/// made before any of them was counted. A successful sign-in gives its place back.
///
/// The counts live in this process: with several instances behind a balancer, each counts the
/// attempts it sees.
#[derive(Default)]
pub struct RateLimiter {
    attempts: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// A counted attempt; [`RateLimiter::release`] takes it back.
#[must_use = "an attempt stays counted unless released"]
#[derive(Debug)]
pub struct Reservation {
    keys: Vec<String>,
    at: Instant,
}

impl RateLimiter {
    const WINDOW: Duration = Duration::from_secs(60);
    /// Above this many keys, keys with no attempt in the window are dropped.
    const SWEEP_ABOVE: usize = 10_000;

    /// Counts one attempt against every key, or none when any key already has `limit` attempts
    /// in the window (then `None`: the caller answers `rate_limited`).
    pub fn try_reserve(&self, keys: &[&str], limit: u32) -> Option<Reservation> {
        let mut map = self
            .attempts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > Self::SWEEP_ABOVE {
            map.retain(|_, times| times.back().is_some_and(|t| t.elapsed() <= Self::WINDOW));
        }
        let now = Instant::now();
        for key in keys {
            if let Some(times) = map.get_mut(*key) {
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > Self::WINDOW)
                {
                    times.pop_front();
                }
                if times.len() >= limit as usize {
                    return None;
                }
            } else if limit == 0 {
                return None;
            }
        }
        for key in keys {
            map.entry((*key).to_owned()).or_default().push_back(now);
        }
        Some(Reservation {
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            at: now,
        })
    }

    /// Takes back a counted attempt (it succeeded).
    pub fn release(&self, reservation: Reservation) {
        let mut map = self
            .attempts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for key in &reservation.keys {
            if let Some(times) = map.get_mut(key) {
                if let Some(i) = times.iter().rposition(|t| *t == reservation.at) {
                    times.remove(i);
                }
                if times.is_empty() {
                    map.remove(key);
                }
            }
        }
    }
}

/// The signed-in user, read fresh from the database for this request.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

impl AuthUser {
    pub fn require(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        AuthSession::from_request_parts(parts, state)
            .await
            .map(|s| AuthUser(s.user))
    }
}

/// The signed-in user and the session their access token belongs to, for handlers that outlive
/// the request (the event stream watches the session).
#[derive(Debug, Clone)]
pub struct AuthSession {
    pub user: User,
    pub session: Uuid,
}

impl FromRequestParts<AppState> for AuthSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let (user, session, setup_only) = authenticate(parts, state).await?;
        if setup_only {
            return Err(ApiError::TotpSetupRequired);
        }
        Ok(AuthSession { user, session })
    }
}

/// The signed-in user, also within a session limited to setting up a second factor (the
/// organisation requires one and the user has none yet): for `/v1/me` and the TOTP setup and
/// enable calls, the only ones such a session may make. Every other endpoint refuses it with
/// `totp_setup_required`.
#[derive(Debug, Clone)]
pub struct SetupUser(pub User);

impl FromRequestParts<AppState> for SetupUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        authenticate(parts, state)
            .await
            .map(|(user, _, _)| SetupUser(user))
    }
}

/// The bearer token's user, session and whether the session is limited to second-factor setup.
async fn authenticate(parts: &Parts, state: &AppState) -> ApiResult<(User, Uuid, bool)> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthenticated)?;
    let token = header
        .strip_prefix("Bearer ")
        .ok_or(ApiError::Unauthenticated)?;
    let access = state
        .tokens
        .check_access(token)
        .ok_or(ApiError::Unauthenticated)?;
    // One read: the user, only while active and while this session is live.
    let (user, setup_only) =
        crate::users::load_in_session(&state.db.pool, access.user, access.session)
            .await?
            .filter(|(u, _)| u.active)
            .ok_or(ApiError::Unauthenticated)?;
    Ok((user, access.session, setup_only))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn access_tokens_reject_forgery_and_expiry() {
        let tokens = Tokens::new("secret", 60, 1);
        let user = Uuid::from_u128(5);
        let session = Uuid::from_u128(7);
        let token = tokens.issue_access(user, session);
        assert_eq!(tokens.check_access(&token), Some(Access { user, session }));
        let other = Tokens::new("other secret", 60, 1);
        assert_eq!(other.check_access(&token), None, "signed with another key");
        let (payload, sig) = token.split_once('.').unwrap();
        let forged_claims = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"{}","sid":"{session}","exp":99999999999}}"#,
            Uuid::from_u128(6)
        ));
        assert_eq!(tokens.check_access(&format!("{forged_claims}.{sig}")), None);
        assert_eq!(tokens.check_access(payload), None);
        assert_eq!(tokens.check_access("a.b.c"), None);
        let expired = Tokens::new("secret", -10, 1).issue_access(user, session);
        assert_eq!(tokens.check_access(&expired), None);
    }

    #[test]
    fn the_rate_limiter_counts_attempts_per_key_and_takes_back_released_ones() {
        let limiter = RateLimiter::default();
        let mut kept = Vec::new();
        for _ in 0..3 {
            kept.push(limiter.try_reserve(&["a@x", "10.0.0.1"], 3).expect("room"));
        }
        assert!(limiter.try_reserve(&["a@x"], 3).is_none());
        assert!(
            limiter.try_reserve(&["b@x", "10.0.0.1"], 3).is_none(),
            "the address is full"
        );
        let b = limiter.try_reserve(&["b@x"], 3).expect("another account");
        limiter.release(kept.pop().unwrap());
        let again = limiter.try_reserve(&["a@x", "10.0.0.1"], 3);
        assert!(again.is_some(), "a released attempt no longer counts");
        assert!(limiter.try_reserve(&["a@x"], 3).is_none());
        limiter.release(b);
        assert!(limiter.try_reserve(&["x"], 0).is_none());
    }

    #[test]
    fn concurrent_reservations_never_exceed_the_limit() {
        let limiter = std::sync::Arc::new(RateLimiter::default());
        let granted: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..24)
                .map(|_| {
                    let limiter = limiter.clone();
                    scope.spawn(move || limiter.try_reserve(&["a@x", "addr"], 5).is_some())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum()
        });
        assert_eq!(granted, 5);
    }
}
