//! Passphrase profiles: Argon2id turns the passphrase and a random salt into a 32-byte master
//! secret; HMAC-SHA256 under that secret, with distinct labels, yields independent values:
//!
//! - the database key (handed to SQLCipher),
//! - the check value stored in `vault.json` (refuses a wrong passphrase without touching the
//!   database; learning it helps an attacker no more than the encrypted database file does:
//!   each guess still costs one Argon2id run),
//! - the key that seals the refresh token on disk (XChaCha20-Poly1305, random 192-bit nonce,
//!   the profile id as associated data).
//!
//! The master secret itself is never stored and is wiped as soon as the subkeys exist.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use outpost_store::DbKey;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use super::header::PassphraseHeader;
use super::{ProfileId, VaultError};

/// The shortest passphrase [`Vault::create_with_passphrase`](super::Vault::create_with_passphrase)
/// accepts, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

const SALT_LEN: usize = 16;
const CHECK_LEN: usize = 32;
const NONCE_LEN: usize = 24;
/// First byte of a sealed refresh token file: the format version.
const SEALED_VERSION: u8 = 1;

/// Argon2id cost parameters. They are recorded in each passphrase profile's header, so raising
/// the default later does not lock anyone out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl KdfParams {
    /// Upper bounds, also applied to parameters read from a header, so that a tampered header
    /// cannot make unlocking allocate or compute without limit.
    pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
    pub const MAX_ITERATIONS: u32 = 64;
    pub const MAX_PARALLELISM: u32 = 16;

    /// Checks the parameters against Argon2's own minimums (at least 8 KiB per lane, one pass)
    /// and the bounds above. Values far below [`KdfParams::default`] make passphrases cheap to
    /// guess; they exist for tests.
    pub fn new(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
    ) -> Result<KdfParams, VaultError> {
        let invalid = |reason: String| VaultError::InvalidKdfParams { reason };
        if !(1..=Self::MAX_PARALLELISM).contains(&parallelism) {
            return Err(invalid(format!(
                "parallelism {parallelism} is outside 1..={}",
                Self::MAX_PARALLELISM
            )));
        }
        if !(1..=Self::MAX_ITERATIONS).contains(&iterations) {
            return Err(invalid(format!(
                "{iterations} iterations is outside 1..={}",
                Self::MAX_ITERATIONS
            )));
        }
        let min_memory = 8 * parallelism;
        if !(min_memory..=Self::MAX_MEMORY_KIB).contains(&memory_kib) {
            return Err(invalid(format!(
                "{memory_kib} KiB of memory is outside {min_memory}..={} KiB",
                Self::MAX_MEMORY_KIB
            )));
        }
        Ok(KdfParams {
            memory_kib,
            iterations,
            parallelism,
        })
    }

    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }

    fn argon2(&self) -> Result<Argon2<'static>, VaultError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|err| VaultError::InvalidKdfParams {
                reason: err.to_string(),
            })?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: RFC 9106's second recommended setting with the memory it
    /// names, run once per unlock (a fraction of a second on a current laptop).
    fn default() -> Self {
        KdfParams {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

/// The key sealing a passphrase profile's refresh token. Wiped on drop, never printed.
#[derive(Clone)]
pub(crate) struct TokenKey(pub(super) Zeroizing<[u8; 32]>);

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

/// What a passphrase unlocks.
pub(crate) struct PassphraseKeys {
    pub(crate) db_key: DbKey,
    pub(crate) token_key: TokenKey,
}

/// Sets up a new passphrase profile: a fresh salt, the derived keys, and the header fields.
pub(crate) fn create(
    passphrase: &str,
    params: KdfParams,
) -> Result<(PassphraseKeys, PassphraseHeader), VaultError> {
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(VaultError::random)?;
    let master = master_secret(passphrase, &salt, params)?;
    let check = labelled_mac(&master, b"check").finalize().into_bytes();
    let header = PassphraseHeader {
        kdf: "argon2id".to_owned(),
        argon2_version: Version::V0x13 as u32,
        memory_kib: params.memory_kib,
        iterations: params.iterations,
        parallelism: params.parallelism,
        salt: hex::encode(salt),
        check: hex::encode(check),
    };
    Ok((split(&master), header))
}

/// Re-derives a passphrase profile's keys; `WrongPassphrase` when the check value disagrees.
/// `bad_header` turns a reason into the caller's `BadHeader` error (it knows the path).
pub(crate) fn unlock(
    passphrase: &str,
    header: &PassphraseHeader,
    bad_header: impl Fn(String) -> VaultError,
) -> Result<PassphraseKeys, VaultError> {
    if header.kdf != "argon2id" || header.argon2_version != Version::V0x13 as u32 {
        return Err(bad_header(format!(
            "unknown key derivation {} version {}",
            header.kdf, header.argon2_version
        )));
    }
    let params = KdfParams::new(header.memory_kib, header.iterations, header.parallelism)
        .map_err(|err| bad_header(err.to_string()))?;
    let mut salt = [0u8; SALT_LEN];
    hex::decode_to_slice(&header.salt, &mut salt)
        .map_err(|_| bad_header(format!("the salt is not {SALT_LEN} bytes of hex")))?;
    let mut check = [0u8; CHECK_LEN];
    hex::decode_to_slice(&header.check, &mut check)
        .map_err(|_| bad_header(format!("the check value is not {CHECK_LEN} bytes of hex")))?;
    let master = master_secret(passphrase, &salt, params)?;
    // `verify_slice` compares in constant time.
    labelled_mac(&master, b"check")
        .verify_slice(&check)
        .map_err(|_| VaultError::WrongPassphrase)?;
    Ok(split(&master))
}

fn master_secret(
    passphrase: &str,
    salt: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let mut master = Zeroizing::new([0u8; 32]);
    params
        .argon2()?
        .hash_password_into(passphrase.as_bytes(), salt, master.as_mut())
        .map_err(|err| VaultError::InvalidKdfParams {
            reason: err.to_string(),
        })?;
    Ok(master)
}

fn split(master: &[u8; 32]) -> PassphraseKeys {
    PassphraseKeys {
        db_key: DbKey::from_bytes(*subkey(master, b"db-key")),
        token_key: TokenKey(subkey(master, b"refresh-token")),
    }
}

/// HMAC-SHA256 keyed by the master secret over a versioned label: a PRF, so outputs under
/// different labels are independent keys.
fn labelled_mac(master: &[u8; 32], label: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("HMAC takes any key");
    mac.update(b"outpost-vault v1 ");
    mac.update(label);
    mac
}

fn subkey(master: &[u8; 32], label: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut out = labelled_mac(master, label).finalize().into_bytes();
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&out);
    out.as_mut_slice().zeroize();
    key
}

fn token_aad(profile: &ProfileId) -> Vec<u8> {
    [
        b"outpost-vault v1 refresh-token ".as_slice(),
        profile.as_str().as_bytes(),
    ]
    .concat()
}

fn cipher(key: &TokenKey) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new_from_slice(key.0.as_slice()).expect("a 32-byte key")
}

/// `version ‖ nonce ‖ ciphertext ‖ tag`. The plaintext only ever sits in wiped buffers.
pub(crate) fn seal(
    key: &TokenKey,
    profile: &ProfileId,
    token: &str,
) -> Result<Vec<u8>, VaultError> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(VaultError::random)?;
    // Room for the tag up front, so encrypting never reallocates and strands a plaintext copy.
    let mut buffer = Zeroizing::new(Vec::with_capacity(token.len() + 16));
    buffer.extend_from_slice(token.as_bytes());
    cipher(key)
        .encrypt_in_place(&XNonce::from(nonce), &token_aad(profile), &mut *buffer)
        .expect("a refresh token is far below the AEAD's length limit");
    let mut sealed = Vec::with_capacity(1 + NONCE_LEN + buffer.len());
    sealed.push(SEALED_VERSION);
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&buffer);
    Ok(sealed)
}

/// The token sealed by [`seal`] for this profile under this key; `None` when the bytes were
/// altered, sealed for another profile, or under another key.
pub(crate) fn open(
    key: &TokenKey,
    profile: &ProfileId,
    sealed: &[u8],
) -> Option<Zeroizing<String>> {
    let (&version, rest) = sealed.split_first()?;
    if version != SEALED_VERSION || rest.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    let nonce = XNonce::try_from(nonce).ok()?;
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    cipher(key)
        .decrypt_in_place(&nonce, &token_aad(profile), &mut *buffer)
        .ok()?;
    let text = std::str::from_utf8(&buffer).ok()?;
    Some(Zeroizing::new(text.to_owned()))
}
