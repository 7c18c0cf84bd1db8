//! The thin, blocking layer over `keyring`: one service name, string secrets, typed errors.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use keyring::credential::{Credential, CredentialBuilder};
use zeroize::{Zeroize, Zeroizing};

use super::VaultError;

/// Serialises every keychain call in the process: keyring warns that concurrent calls into the
/// D-Bus Secret Service (and the Windows credential store) can fail or interleave badly.
static KEYCHAIN_CALLS: Mutex<()> = Mutex::new(());

pub(crate) struct Keychain {
    builder: Box<CredentialBuilder>,
    service: String,
}

impl Keychain {
    pub(crate) fn new(builder: Box<CredentialBuilder>, service: &str) -> Keychain {
        Keychain {
            builder,
            service: service.to_owned(),
        }
    }

    pub(crate) fn service(&self) -> &str {
        &self.service
    }

    /// The secret stored under `account`, or `None` when there is no such entry.
    pub(crate) fn get(
        &self,
        account: &str,
        item: &'static str,
    ) -> Result<Option<Zeroizing<String>>, VaultError> {
        let _serial = serialise();
        match self.credential(account, item)?.get_password() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(map_error(err, item)),
        }
    }

    /// Creates or replaces the entry for `account`.
    pub(crate) fn set(
        &self,
        account: &str,
        item: &'static str,
        secret: &str,
    ) -> Result<(), VaultError> {
        let _serial = serialise();
        self.credential(account, item)?
            .set_password(secret)
            .map_err(|err| map_error(err, item))
    }

    /// Deletes the entry for `account`; a missing entry is not an error.
    pub(crate) fn delete(&self, account: &str, item: &'static str) -> Result<(), VaultError> {
        let _serial = serialise();
        match self.credential(account, item)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(map_error(err, item)),
        }
    }

    fn credential(&self, account: &str, item: &'static str) -> Result<Box<Credential>, VaultError> {
        self.builder
            .build(None, &self.service, account)
            .map_err(|err| map_error(err, item))
    }
}

impl fmt::Debug for Keychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keychain")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

fn serialise() -> std::sync::MutexGuard<'static, ()> {
    // The guarded value is `()`: a panic while holding it leaves nothing inconsistent.
    KEYCHAIN_CALLS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Maps keyring's platform-neutral errors onto what the user can act on. Payloads that may hold
/// secret bytes (`BadEncoding`) are wiped, never quoted.
fn map_error(err: keyring::Error, item: &'static str) -> VaultError {
    match err {
        // Secret Service: locked collection, dismissed or impossible unlock prompt; macOS: the
        // keychain is unavailable or read-only; Windows: no logon session.
        keyring::Error::NoStorageAccess(detail) => VaultError::KeychainLocked {
            detail: detail.to_string(),
        },
        // keyring reports a Secret Service refusing to create an item in a locked collection
        // as a platform failure; the D-Bus error name tells it apart.
        keyring::Error::PlatformFailure(detail) if refused_by_secret_service(detail.as_ref()) => {
            VaultError::KeychainLocked {
                detail: detail.to_string(),
            }
        }
        // Secret Service: no session bus, no service owning org.freedesktop.secrets, other D-Bus
        // failures; elsewhere: an unexpected OS error. Either way the keychain is unusable.
        keyring::Error::PlatformFailure(detail) => VaultError::NoKeychain {
            detail: detail.to_string(),
        },
        keyring::Error::BadEncoding(mut bytes) => {
            bytes.zeroize();
            VaultError::CorruptEntry {
                item,
                reason: "it is not text",
            }
        }
        keyring::Error::Ambiguous(_) => VaultError::CorruptEntry {
            item,
            reason: "several keychain items match it",
        },
        other => VaultError::KeychainRejected {
            item,
            detail: other.to_string(),
        },
    }
}

/// Whether a Secret Service error is a locked collection or a denied access (D-Bus error names
/// from the Secret Service and D-Bus specifications), found anywhere in the error's chain.
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
fn refused_by_secret_service(err: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    const REFUSALS: [&str; 2] = [
        "org.freedesktop.Secret.Error.IsLocked",
        "org.freedesktop.DBus.Error.AccessDenied",
    ];
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(err) = current {
        if let Some(name) = err
            .downcast_ref::<dbus::Error>()
            .and_then(dbus::Error::name)
        {
            return REFUSALS.contains(&name);
        }
        current = err.source();
    }
    false
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd")))]
fn refused_by_secret_service(_: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    false
}
