//! Passwords (Argon2id), short-lived signed access tokens, rotating refresh tokens, and the
//! extractor that turns a bearer token into the signed-in user.
//!
//! Access tokens are stateless (HMAC-SHA256 over a small JSON claim set) so any instance can
//! check them; the user row is still read on every request so that disabling a user or changing
//! their role or departments takes effect at once. Refresh tokens are random, stored only as
//! SHA-256 hashes, single-use, and grouped in families: presenting a used one revokes the family.

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
    exp: i64,
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

    pub fn issue_access(&self, user: Uuid) -> String {
        let claims = Claims {
            sub: user,
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

    /// The user id in a valid, unexpired access token.
    pub fn check_access(&self, token: &str) -> Option<Uuid> {
        let (payload, signature) = token.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).ok()?;
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (claims.exp > now_millis() / 1000).then_some(claims.sub)
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

/// Counts failures per key (account, address) in a sliding minute.
#[derive(Default)]
pub struct RateLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    const WINDOW: Duration = Duration::from_secs(60);

    pub fn allowed(&self, key: &str, limit: u32) -> bool {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(times) = map.get_mut(key) else {
            return true;
        };
        while times.front().is_some_and(|t| t.elapsed() > Self::WINDOW) {
            times.pop_front();
        }
        times.len() < limit as usize
    }

    pub fn record_failure(&self, key: &str) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(key.to_owned())
            .or_default()
            .push_back(Instant::now());
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
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthenticated)?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or(ApiError::Unauthenticated)?;
        let user_id = state
            .tokens
            .check_access(token)
            .ok_or(ApiError::Unauthenticated)?;
        let user = crate::users::load(&state.db.pool, user_id)
            .await?
            .filter(|u| u.active)
            .ok_or(ApiError::Unauthenticated)?;
        Ok(AuthUser(user))
    }
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
        let token = tokens.issue_access(user);
        assert_eq!(tokens.check_access(&token), Some(user));
        let other = Tokens::new("other secret", 60, 1);
        assert_eq!(other.check_access(&token), None, "signed with another key");
        let (payload, sig) = token.split_once('.').unwrap();
        let forged_claims = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"{}","exp":99999999999}}"#,
            Uuid::from_u128(6)
        ));
        assert_eq!(tokens.check_access(&format!("{forged_claims}.{sig}")), None);
        assert_eq!(tokens.check_access(payload), None);
        assert_eq!(tokens.check_access("a.b.c"), None);
        let expired = Tokens::new("secret", -10, 1).issue_access(user);
        assert_eq!(tokens.check_access(&expired), None);
    }

    #[test]
    fn the_rate_limiter_counts_failures_per_key() {
        let limiter = RateLimiter::default();
        for _ in 0..3 {
            assert!(limiter.allowed("a@x", 3));
            limiter.record_failure("a@x");
        }
        assert!(!limiter.allowed("a@x", 3));
        assert!(limiter.allowed("b@x", 3));
    }
}
