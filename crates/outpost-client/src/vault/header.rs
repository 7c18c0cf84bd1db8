//! `vault.json`: the clear-text header in a profile's data directory. It records how the
//! profile's key is protected and never holds a secret: for keychain profiles only the mode and
//! identity, for passphrase profiles also the Argon2id salt and parameters and a check value
//! (an HMAC under a subkey, see `passphrase.rs`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Profile, VaultError, VaultMode};
use crate::private_files;

/// Name of the clear-text vault header in a profile's directory.
pub const HEADER_FILE: &str = "vault.json";
const FORMAT: &str = "outpost-vault";
const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Header {
    format: String,
    version: u32,
    pub(crate) mode: VaultMode,
    profile: String,
    server: String,
    user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) passphrase: Option<PassphraseHeader>,
}

/// Everything needed to re-derive a passphrase profile's keys except the passphrase.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PassphraseHeader {
    /// Always `argon2id`.
    pub(crate) kdf: String,
    /// Argon2 version number (19 = 0x13).
    pub(crate) argon2_version: u32,
    pub(crate) memory_kib: u32,
    pub(crate) iterations: u32,
    pub(crate) parallelism: u32,
    /// Hex, 16 random bytes.
    pub(crate) salt: String,
    /// Hex HMAC-SHA256 under the check subkey; lets a wrong passphrase be refused without
    /// touching the database.
    pub(crate) check: String,
}

/// Only `format` and `version`, read first so that a header written by a newer Outpost is
/// reported as such rather than as malformed.
#[derive(Deserialize)]
struct Probe {
    format: String,
    version: u32,
}

impl Header {
    pub(crate) fn keychain(profile: &Profile) -> Header {
        Header::new(profile, VaultMode::Keychain, None)
    }

    pub(crate) fn passphrase(profile: &Profile, passphrase: PassphraseHeader) -> Header {
        Header::new(profile, VaultMode::Passphrase, Some(passphrase))
    }

    fn new(profile: &Profile, mode: VaultMode, passphrase: Option<PassphraseHeader>) -> Header {
        Header {
            format: FORMAT.to_owned(),
            version: VERSION,
            mode,
            profile: profile.id().as_str().to_owned(),
            server: profile.server_url().to_owned(),
            user: profile.user().to_owned(),
            passphrase,
        }
    }
}

pub(crate) fn header_path(dir: &Path) -> PathBuf {
    dir.join(HEADER_FILE)
}

/// The profile's header, `None` when the directory has none, an error when it is unreadable,
/// malformed, or belongs to another profile.
pub(crate) fn read(dir: &Path, profile: &Profile) -> Result<Option<Header>, VaultError> {
    let path = header_path(dir);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(VaultError::io("read", path, err)),
    };
    let bad = |reason: String| VaultError::BadHeader {
        path: path.clone(),
        reason,
    };
    let probe: Probe =
        serde_json::from_slice(&bytes).map_err(|err| bad(format!("it is not valid ({err})")))?;
    if probe.format != FORMAT {
        return Err(bad(format!(
            "it is not an Outpost vault header ({:?})",
            probe.format
        )));
    }
    if probe.version != VERSION {
        return Err(bad(format!(
            "it has version {}, this Outpost reads version {VERSION}; update Outpost",
            probe.version
        )));
    }
    let header: Header =
        serde_json::from_slice(&bytes).map_err(|err| bad(format!("it is not valid ({err})")))?;
    if header.profile != profile.id().as_str() {
        return Err(bad(format!(
            "it belongs to profile {} ({} on {}), not to {} on {}",
            header.profile,
            header.user,
            header.server,
            profile.user(),
            profile.server_url()
        )));
    }
    match (header.mode, &header.passphrase) {
        (VaultMode::Keychain, None) | (VaultMode::Passphrase, Some(_)) => Ok(Some(header)),
        (VaultMode::Keychain, Some(_)) => Err(bad(
            "it says keychain but carries passphrase parameters".to_owned(),
        )),
        (VaultMode::Passphrase, None) => Err(bad(
            "it says passphrase but carries no passphrase parameters".to_owned(),
        )),
    }
}

/// Writes the header atomically, creating the profile directory (private) if needed.
pub(crate) fn write(dir: &Path, header: &Header) -> Result<(), VaultError> {
    private_files::create_dir(dir).map_err(vault_io)?;
    let mut json = serde_json::to_vec_pretty(header).expect("the header always serialises");
    json.push(b'\n');
    write_atomic(&header_path(dir), &json)
}

/// Replaces `path` with `bytes`, private to the user, so that a crash leaves either the old or
/// the new content (see [`private_files::write_atomic`]).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), VaultError> {
    private_files::write_atomic(path, bytes).map_err(vault_io)
}

/// Deletes `path`; a missing file is not an error.
pub(crate) fn remove_if_exists(path: &Path) -> Result<(), VaultError> {
    match fs::remove_file(path) {
        Ok(()) => private_files::sync_parent(path).map_err(vault_io),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(VaultError::io("delete", path, err)),
    }
}

/// Tightens the header and the sealed token of a profile an older Outpost wrote readable by
/// others (see [`private_files::tighten`]).
pub(crate) fn tighten(dir: &Path) -> Result<(), VaultError> {
    for name in [HEADER_FILE, super::SEALED_TOKEN_FILE] {
        private_files::tighten(&dir.join(name)).map_err(vault_io)?;
    }
    Ok(())
}

fn vault_io(failure: private_files::Failure) -> VaultError {
    VaultError::io(failure.action, failure.path, failure.source)
}
