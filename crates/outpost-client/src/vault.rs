//! The vault: where a profile's database key and refresh token live between runs.
//!
//! Each profile (one account on one server, [`Profile`]) protects its local cache one of two
//! ways, recorded in the clear-text header `<dir>/vault.json` (which never holds a secret):
//!
//! - **keychain** (the default): a random 32-byte key from the OS CSPRNG, stored in the
//!   platform keychain (macOS Keychain, Windows Credential Manager, the Secret Service on
//!   Linux) beside the refresh token;
//! - **passphrase** (no usable keychain): the key is derived from a passphrase with Argon2id;
//!   the refresh token is sealed under a sibling key in `<dir>/refresh-token.sealed`.
//!
//! Keychain entries use the service [`SERVICE`] and the accounts `<profile-id>/db-key` (the
//! key as 64 lower-case hex characters, the form SQLCipher's raw-key pragma takes) and
//! `<profile-id>/refresh-token`. The access token is not the vault's business: it lives in
//! memory only, and nothing here persists it.
//!
//! Invariants:
//! - No key or token is ever written to disk in the clear, logged, or shown by `Debug`.
//! - A keychain key is handed out only after the keychain has given it back, so a cache is
//!   never encrypted under a key that was not actually stored.
//! - Setting up never overwrites an existing vault (that would orphan the cache encrypted under
//!   it); [`Vault::forget`] comes first.
//! - Locking is dropping: [`Unlocked`] holds the keys and wipes them when its last clone goes.
//! - The header and the sealed token are private to the user (0600 on Unix, in a 0700
//!   directory); unlocking tightens ones an older Outpost wrote readable by others.
//!
//! [`Vault`] is the blocking core; [`AsyncVault`] runs the same calls on Tokio's blocking pool,
//! so keychain round trips and Argon2id never stall the runtime's worker threads.

mod error;
mod header;
mod keychain;
mod passphrase;
mod profile;
#[cfg(test)]
mod tests;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use keyring::credential::CredentialBuilder;
use outpost_store::DbKey;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub use error::VaultError;
pub use passphrase::{KdfParams, MIN_PASSPHRASE_CHARS};
pub use profile::{Profile, ProfileId};

use header::Header;
use keychain::Keychain;
use passphrase::TokenKey;

/// The keychain service name of every Outpost entry.
pub const SERVICE: &str = "outpost";
/// Name of the sealed refresh token of a passphrase profile, in the profile's directory.
pub const SEALED_TOKEN_FILE: &str = "refresh-token.sealed";
pub use header::HEADER_FILE;

const DB_KEY: &str = "database key";
const REFRESH_TOKEN: &str = "refresh token";

/// Serialises vault operations in the process, so that, for instance, a refresh token stored
/// by the sync engine cannot land after [`Vault::forget`] removed the profile's entries.
static VAULT_OPS: Mutex<()> = Mutex::new(());

fn serialise() -> MutexGuard<'static, ()> {
    VAULT_OPS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a profile's database key is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum VaultMode {
    Keychain,
    Passphrase,
}

impl fmt::Display for VaultMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VaultMode::Keychain => "keychain",
            VaultMode::Passphrase => "passphrase",
        })
    }
}

/// What the sign-in screen says about the OS keychain before anyone unlocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum KeychainState {
    Available,
    Locked,
    Missing,
}

/// A refresh token: wiped from memory on drop, never shown by `Debug`, not serialisable.
#[derive(Clone)]
pub struct RefreshToken(Zeroizing<String>);

impl RefreshToken {
    pub fn new(token: impl Into<String>) -> RefreshToken {
        RefreshToken(Zeroizing::new(token.into()))
    }

    /// The token text, to put in a refresh request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

/// An unlocked profile: its database key (and, for passphrase profiles, the key sealing its
/// refresh token). Clones share the keys; they are wiped when the last clone is dropped, which
/// is what locking means ([`Unlocked::lock`] says so explicitly).
#[derive(Clone)]
pub struct Unlocked {
    inner: Arc<UnlockedInner>,
}

struct UnlockedInner {
    profile: Profile,
    dir: PathBuf,
    db_key: DbKey,
    /// `Some` exactly for passphrase profiles.
    token_key: Option<TokenKey>,
}

impl Unlocked {
    fn new(profile: &Profile, dir: &Path, db_key: DbKey, token_key: Option<TokenKey>) -> Self {
        Unlocked {
            inner: Arc::new(UnlockedInner {
                profile: profile.clone(),
                dir: dir.to_owned(),
                db_key,
                token_key,
            }),
        }
    }

    /// The key to open the profile's local cache with (`outpost_store::Store::open`).
    pub fn db_key(&self) -> &DbKey {
        &self.inner.db_key
    }

    pub fn profile(&self) -> &Profile {
        &self.inner.profile
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn mode(&self) -> VaultMode {
        match self.inner.token_key {
            Some(_) => VaultMode::Passphrase,
            None => VaultMode::Keychain,
        }
    }

    /// Drops this handle. The keys are wiped once no clone remains (close the cache too).
    pub fn lock(self) {}
}

impl fmt::Debug for Unlocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unlocked")
            .field("profile", self.inner.profile.id())
            .field("mode", &self.mode())
            .field("db_key", &self.inner.db_key)
            .finish()
    }
}

/// The blocking vault. Cheap to clone; every call may talk to the keychain (a D-Bus round trip
/// on Linux, possibly a system prompt) or run Argon2id, so call it from a blocking context, or
/// use [`AsyncVault`].
#[derive(Clone)]
pub struct Vault {
    keychain: Arc<Keychain>,
    kdf: KdfParams,
}

impl Vault {
    /// The platform keychain under the service [`SERVICE`], default Argon2id parameters.
    pub fn system() -> Vault {
        Vault::new(keyring::default::default_credential_builder(), SERVICE)
    }

    /// Any keyring credential store (tests use keyring's mock store) under `service`.
    pub fn new(store: Box<CredentialBuilder>, service: &str) -> Vault {
        Vault {
            keychain: Arc::new(Keychain::new(store, service)),
            kdf: KdfParams::default(),
        }
    }

    /// Argon2id parameters for passphrase profiles created from now on (existing profiles keep
    /// those in their header).
    pub fn with_kdf_params(mut self, params: KdfParams) -> Vault {
        self.kdf = params;
        self
    }

    /// Whether the keychain answers, without prompting: looks up an entry that never exists.
    /// A locked keychain may still answer "no such entry"; the first real unlock tells.
    pub fn probe(&self) -> KeychainState {
        match self.keychain.get("probe", "probe") {
            Ok(_) => KeychainState::Available,
            Err(VaultError::KeychainLocked { .. }) => KeychainState::Locked,
            Err(_) => KeychainState::Missing,
        }
    }

    /// How the profile in `dir` is protected; `None` before its first unlock. Reads only the
    /// header, never the keychain.
    pub fn mode(&self, profile: &Profile, dir: &Path) -> Result<Option<VaultMode>, VaultError> {
        Ok(header::read(dir, profile)?.map(|header| header.mode))
    }

    /// Unlocks a keychain profile, setting it up on first use: a fresh key from the OS CSPRNG
    /// goes into the keychain, is read back, and only then is the header written. A key already
    /// in the keychain without a header (a first run cut short) is reused, never replaced.
    ///
    /// Errors: [`VaultError::NoKeychain`] / [`VaultError::KeychainLocked`] (see
    /// [`VaultError::offers_passphrase`]), [`VaultError::PassphraseRequired`] for a passphrase
    /// profile, [`VaultError::KeyMissing`] when the header says keychain but the key is gone.
    pub fn unlock_with_keychain(
        &self,
        profile: &Profile,
        dir: &Path,
    ) -> Result<Unlocked, VaultError> {
        let _serial = serialise();
        let account = account(profile, "db-key");
        match header::read(dir, profile)? {
            Some(header) if header.mode == VaultMode::Passphrase => {
                Err(VaultError::PassphraseRequired)
            }
            Some(_) => {
                let stored = self.keychain.get(&account, DB_KEY)?;
                let key = decode_key(&stored.ok_or(VaultError::KeyMissing)?)?;
                header::tighten(dir)?;
                Ok(Unlocked::new(profile, dir, key, None))
            }
            None => {
                let key = if let Some(stored) = self.keychain.get(&account, DB_KEY)? {
                    decode_key(&stored)?
                } else {
                    let key = DbKey::generate().map_err(VaultError::random)?;
                    let encoded = Zeroizing::new(hex::encode(key.as_bytes()));
                    self.keychain.set(&account, DB_KEY, &encoded)?;
                    let read_back = self.keychain.get(&account, DB_KEY)?;
                    if read_back.as_deref().map(String::as_str) != Some(encoded.as_str()) {
                        return Err(VaultError::CorruptEntry {
                            item: DB_KEY,
                            reason: "the keychain did not return the key just stored",
                        });
                    }
                    key
                };
                header::write(dir, &Header::keychain(profile))?;
                Ok(Unlocked::new(profile, dir, key, None))
            }
        }
    }

    /// Sets up a passphrase profile (for machines without a usable keychain): a random salt,
    /// Argon2id with this vault's parameters, and a header holding the salt, the parameters
    /// and a check value. Refuses a directory that already has a vault.
    pub fn create_with_passphrase(
        &self,
        profile: &Profile,
        dir: &Path,
        passphrase: &str,
    ) -> Result<Unlocked, VaultError> {
        if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(VaultError::PassphraseTooShort {
                min: MIN_PASSPHRASE_CHARS,
            });
        }
        let _serial = serialise();
        if let Some(header) = header::read(dir, profile)? {
            return Err(VaultError::AlreadyInitialised { mode: header.mode });
        }
        let (keys, passphrase_header) = passphrase::create(passphrase, self.kdf)?;
        // A sealed token left by an earlier profile in this directory is unreadable now.
        header::remove_if_exists(&dir.join(SEALED_TOKEN_FILE))?;
        header::write(dir, &Header::passphrase(profile, passphrase_header))?;
        Ok(Unlocked::new(
            profile,
            dir,
            keys.db_key,
            Some(keys.token_key),
        ))
    }

    /// Unlocks a passphrase profile. A wrong passphrase is [`VaultError::WrongPassphrase`],
    /// detected from the header's check value without opening the database.
    pub fn unlock_with_passphrase(
        &self,
        profile: &Profile,
        dir: &Path,
        passphrase: &str,
    ) -> Result<Unlocked, VaultError> {
        let header = {
            let _serial = serialise();
            header::read(dir, profile)?.ok_or(VaultError::NotInitialised)?
        };
        let Some(params) = header.passphrase else {
            return Err(VaultError::NotPassphraseProfile);
        };
        let path = header::header_path(dir);
        let keys = passphrase::unlock(passphrase, &params, |reason| VaultError::BadHeader {
            path: path.clone(),
            reason,
        })?;
        header::tighten(dir)?;
        Ok(Unlocked::new(
            profile,
            dir,
            keys.db_key,
            Some(keys.token_key),
        ))
    }

    /// The stored refresh token, `None` when there is none.
    pub fn refresh_token(&self, unlocked: &Unlocked) -> Result<Option<RefreshToken>, VaultError> {
        let _serial = serialise();
        let profile = unlocked.profile();
        match &unlocked.inner.token_key {
            None => Ok(self
                .keychain
                .get(&account(profile, "refresh-token"), REFRESH_TOKEN)?
                .map(RefreshToken)),
            Some(key) => {
                let path = unlocked.dir().join(SEALED_TOKEN_FILE);
                let sealed = match fs::read(&path) {
                    Ok(sealed) => sealed,
                    Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(err) => return Err(VaultError::io("read", path, err)),
                };
                passphrase::open(key, profile.id(), &sealed)
                    .map(|token| Some(RefreshToken(token)))
                    .ok_or(VaultError::TokenUnreadable { path })
            }
        }
    }

    /// Stores (or rotates) the refresh token. Refused with [`VaultError::NotInitialised`] once
    /// the profile has been forgotten, so a late rotation cannot resurrect a signed-out profile.
    pub fn store_refresh_token(
        &self,
        unlocked: &Unlocked,
        token: &RefreshToken,
    ) -> Result<(), VaultError> {
        let _serial = serialise();
        let profile = unlocked.profile();
        let dir = unlocked.dir();
        let header = header::read(dir, profile)?.ok_or(VaultError::NotInitialised)?;
        if header.mode != unlocked.mode() {
            return Err(VaultError::BadHeader {
                path: header::header_path(dir),
                reason: format!(
                    "it says {} but the profile was unlocked with {}",
                    header.mode,
                    unlocked.mode()
                ),
            });
        }
        match &unlocked.inner.token_key {
            None => self.keychain.set(
                &account(profile, "refresh-token"),
                REFRESH_TOKEN,
                token.expose(),
            ),
            Some(key) => {
                let sealed = passphrase::seal(key, profile.id(), token.expose())?;
                header::write_atomic(&dir.join(SEALED_TOKEN_FILE), &sealed)
            }
        }
    }

    /// Deletes the stored refresh token (the server revoked it); a missing one is not an error.
    pub fn clear_refresh_token(&self, unlocked: &Unlocked) -> Result<(), VaultError> {
        let _serial = serialise();
        match unlocked.mode() {
            VaultMode::Keychain => self
                .keychain
                .delete(&account(unlocked.profile(), "refresh-token"), REFRESH_TOKEN),
            VaultMode::Passphrase => {
                header::remove_if_exists(&unlocked.dir().join(SEALED_TOKEN_FILE))
            }
        }
    }

    /// Sign-out at the vault level: deletes the profile's keychain entries (key and refresh
    /// token), its sealed token and its header. Missing entries and files are not errors. This
    /// destroys the only way to open the profile's cache: call it when the cache is being
    /// deleted too. Needs no unlock (a forgotten passphrase still allows signing out).
    ///
    /// For a passphrase profile an unreachable keychain is fine (it never held its secrets);
    /// otherwise keychain errors are returned and the header is kept, so forgetting can be
    /// retried.
    pub fn forget(&self, profile: &Profile, dir: &Path) -> Result<(), VaultError> {
        let _serial = serialise();
        let mode = match header::read(dir, profile) {
            Ok(header) => header.map(|header| header.mode),
            // A damaged header must not prevent signing out.
            Err(VaultError::BadHeader { .. }) => None,
            Err(err) => return Err(err),
        };
        for (name, item) in [("db-key", DB_KEY), ("refresh-token", REFRESH_TOKEN)] {
            match self.keychain.delete(&account(profile, name), item) {
                Ok(()) => {}
                Err(err) if mode == Some(VaultMode::Passphrase) && err.offers_passphrase() => {}
                Err(err) => return Err(err),
            }
        }
        header::remove_if_exists(&dir.join(SEALED_TOKEN_FILE))?;
        header::remove_if_exists(&header::header_path(dir))
    }
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("service", &self.keychain.service())
            .field("kdf", &self.kdf)
            .finish()
    }
}

/// The keychain account of one of a profile's secrets: `<profile-id>/<name>`.
fn account(profile: &Profile, name: &str) -> String {
    format!("{}/{name}", profile.id())
}

fn decode_key(stored: &str) -> Result<DbKey, VaultError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(stored, bytes.as_mut()).map_err(|_| VaultError::CorruptEntry {
        item: DB_KEY,
        reason: "it is not 64 hexadecimal characters",
    })?;
    Ok(DbKey::from_bytes(*bytes))
}

/// [`Vault`] for async code: each call runs on Tokio's blocking pool (`spawn_blocking`), so a
/// slow keychain (or an unlock prompt) or Argon2id never occupies a runtime worker. Must be
/// called from within a Tokio runtime.
#[derive(Clone, Debug)]
pub struct AsyncVault {
    vault: Vault,
}

impl AsyncVault {
    pub fn new(vault: Vault) -> AsyncVault {
        AsyncVault { vault }
    }

    /// The blocking vault underneath.
    pub fn blocking(&self) -> &Vault {
        &self.vault
    }

    /// See [`Vault::probe`].
    pub async fn probe(&self) -> KeychainState {
        let vault = self.vault.clone();
        run(move || Ok::<_, VaultError>(vault.probe()))
            .await
            .unwrap_or(KeychainState::Missing)
    }

    /// See [`Vault::mode`].
    pub async fn mode(
        &self,
        profile: &Profile,
        dir: &Path,
    ) -> Result<Option<VaultMode>, VaultError> {
        let (vault, profile, dir) = (self.vault.clone(), profile.clone(), dir.to_owned());
        run(move || vault.mode(&profile, &dir)).await
    }

    /// See [`Vault::unlock_with_keychain`].
    pub async fn unlock_with_keychain(
        &self,
        profile: &Profile,
        dir: &Path,
    ) -> Result<Unlocked, VaultError> {
        let (vault, profile, dir) = (self.vault.clone(), profile.clone(), dir.to_owned());
        run(move || vault.unlock_with_keychain(&profile, &dir)).await
    }

    /// See [`Vault::create_with_passphrase`].
    pub async fn create_with_passphrase(
        &self,
        profile: &Profile,
        dir: &Path,
        passphrase: &str,
    ) -> Result<Unlocked, VaultError> {
        let (vault, profile, dir) = (self.vault.clone(), profile.clone(), dir.to_owned());
        let passphrase = Zeroizing::new(passphrase.to_owned());
        run(move || vault.create_with_passphrase(&profile, &dir, &passphrase)).await
    }

    /// See [`Vault::unlock_with_passphrase`].
    pub async fn unlock_with_passphrase(
        &self,
        profile: &Profile,
        dir: &Path,
        passphrase: &str,
    ) -> Result<Unlocked, VaultError> {
        let (vault, profile, dir) = (self.vault.clone(), profile.clone(), dir.to_owned());
        let passphrase = Zeroizing::new(passphrase.to_owned());
        run(move || vault.unlock_with_passphrase(&profile, &dir, &passphrase)).await
    }

    /// See [`Vault::refresh_token`].
    pub async fn refresh_token(
        &self,
        unlocked: &Unlocked,
    ) -> Result<Option<RefreshToken>, VaultError> {
        let (vault, unlocked) = (self.vault.clone(), unlocked.clone());
        run(move || vault.refresh_token(&unlocked)).await
    }

    /// See [`Vault::store_refresh_token`].
    pub async fn store_refresh_token(
        &self,
        unlocked: &Unlocked,
        token: &RefreshToken,
    ) -> Result<(), VaultError> {
        let (vault, unlocked, token) = (self.vault.clone(), unlocked.clone(), token.clone());
        run(move || vault.store_refresh_token(&unlocked, &token)).await
    }

    /// See [`Vault::clear_refresh_token`].
    pub async fn clear_refresh_token(&self, unlocked: &Unlocked) -> Result<(), VaultError> {
        let (vault, unlocked) = (self.vault.clone(), unlocked.clone());
        run(move || vault.clear_refresh_token(&unlocked)).await
    }

    /// See [`Vault::forget`].
    pub async fn forget(&self, profile: &Profile, dir: &Path) -> Result<(), VaultError> {
        let (vault, profile, dir) = (self.vault.clone(), profile.clone(), dir.to_owned());
        run(move || vault.forget(&profile, &dir)).await
    }
}

/// Runs a blocking vault call on the blocking pool. A panic inside it is re-raised here.
async fn run<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, VaultError> + Send + 'static,
) -> Result<T, VaultError> {
    match tokio::task::spawn_blocking(call).await {
        Ok(result) => result,
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => Err(VaultError::Task {
            detail: err.to_string(),
        }),
    }
}
