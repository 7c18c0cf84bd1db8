//! The vault's one error type. Every message says what happened and what the user can do; none
//! carries a secret (keychain payloads are dropped, never quoted).

use std::io;
use std::path::PathBuf;

use super::VaultMode;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The platform has no usable keychain (e.g. headless Linux without a Secret Service).
    #[error(
        "no system keychain is available ({detail}). On Linux Outpost needs a running Secret \
         Service such as GNOME Keyring or KWallet; without one, protect this profile with a \
         passphrase instead"
    )]
    NoKeychain { detail: String },

    /// A keychain exists but is locked or refused access.
    #[error(
        "the system keychain is locked or refused access ({detail}). Unlock it (log in to your \
         desktop session, or unlock the login keyring) and try again, or protect this profile \
         with a passphrase instead"
    )]
    KeychainLocked { detail: String },

    /// The keychain refused the request for another reason (a platform limit, say).
    #[error("the system keychain rejected the request for the {item} ({detail})")]
    KeychainRejected { item: &'static str, detail: String },

    /// A keychain entry exists but does not hold what Outpost wrote there.
    #[error(
        "the system keychain's entry for the {item} is damaged ({reason}). Sign out of this \
         profile and sign in again"
    )]
    CorruptEntry {
        item: &'static str,
        reason: &'static str,
    },

    /// The header says the key is in the keychain, but the keychain has no such entry.
    #[error(
        "the system keychain no longer holds this profile's database key, so its local cache \
         cannot be opened. Sign out of this profile and sign in again to download your tickets \
         anew"
    )]
    KeyMissing,

    /// The profile is protected by a passphrase; the keychain was not consulted.
    #[error("this profile is protected by a passphrase: enter it to unlock")]
    PassphraseRequired,

    /// A passphrase was offered for a profile whose key lives in the keychain.
    #[error("this profile keeps its key in the system keychain and has no passphrase")]
    NotPassphraseProfile,

    #[error("wrong passphrase for this profile")]
    WrongPassphrase,

    #[error("the passphrase is too short: use at least {min} characters")]
    PassphraseTooShort { min: usize },

    /// Setting up a vault that already exists would orphan the cache encrypted under it.
    #[error(
        "this profile's vault is already set up ({mode}). Sign out of this profile before \
         setting it up again"
    )]
    AlreadyInitialised { mode: VaultMode },

    #[error("this profile has no vault yet: sign in first")]
    NotInitialised,

    #[error("the vault header {} cannot be used: {reason}", path.display())]
    BadHeader { path: PathBuf, reason: String },

    /// The sealed refresh token of a passphrase profile failed authentication.
    #[error("the saved sign-in in {} cannot be decrypted: sign in again", path.display())]
    TokenUnreadable { path: PathBuf },

    #[error("invalid profile: {reason}")]
    InvalidProfile { reason: String },

    #[error("invalid key-derivation parameters: {reason}")]
    InvalidKdfParams { reason: String },

    #[error("could not {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("the operating system's random number generator failed: {detail}")]
    Random { detail: String },

    /// The blocking task behind an [`AsyncVault`](super::AsyncVault) call was cancelled
    /// (the runtime is shutting down).
    #[error("the vault's background task did not finish: {detail}")]
    Task { detail: String },
}

impl VaultError {
    /// True when the keychain itself is out of reach, so the user should be offered a
    /// passphrase-protected profile instead.
    pub fn offers_passphrase(&self) -> bool {
        matches!(
            self,
            VaultError::NoKeychain { .. } | VaultError::KeychainLocked { .. }
        )
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        VaultError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn random(err: getrandom::Error) -> Self {
        VaultError::Random {
            detail: err.to_string(),
        }
    }
}
