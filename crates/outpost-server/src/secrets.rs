//! Secrets at rest: the server master key and every secret the database stores sealed with it.
//!
//! The master key (32 random bytes) never lives in the database. It comes from, in order:
//! `OUTPOST_MASTER_KEY` (base64), the systemd credential `outpost-master-key`
//! (`$CREDENTIALS_DIRECTORY`), or a key file: `master_key_file` in the configuration
//! (`--master-key-file`), by default beside a SQLite database (`outpost.db` →
//! `outpost.master-key`). `init` creates the key file with mode 0600; a key file that its group or
//! others can read is refused.
//!
//! A sealed value is text: `enc:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`,
//! XChaCha20-Poly1305 with a random 192-bit nonce per value. The associated data names the
//! purpose and the row (`users.totp_seed` of user X), so a sealed value moved to another row or
//! column does not open. The key id (64 bits of a SHA-256 over the key) tells a wrong key from a
//! damaged value, so a wrong key is an error, never garbage.
//!
//! [`SEALED_COLUMNS`] lists every column that holds a sealed secret: start-up seals values
//! written before encryption at rest ([`seal_clear_values`]) and `keys rotate` re-seals them all
//! ([`rotate`]). A new kind of secret is a new entry there and calls to [`MasterKey::seal`] /
//! [`MasterKey::open`].

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::config::Config;
use crate::db::Db;

/// The environment variable holding the master key (base64 of 32 bytes).
pub const KEY_ENV: &str = "OUTPOST_MASTER_KEY";
/// The name of the systemd credential (`LoadCredential=outpost-master-key:/path`).
pub const CREDENTIAL_NAME: &str = "outpost-master-key";

const PREFIX: &str = "enc:v1:";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// What a sealed value is for; part of its associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purpose(&'static str);

impl Purpose {
    /// `org.token_secret`: the key that signs access tokens.
    pub const TOKEN_SECRET: Purpose = Purpose("org.token_secret");
    /// `users.totp_secret` and `users.totp_pending`: a user's TOTP seed (base32), active or
    /// waiting for its first code. One purpose, so enabling moves the pending value unchanged.
    pub const TOTP_SEED: Purpose = Purpose("users.totp_seed");
    /// `blobs.data_key`: the key a stored attachment's segments are sealed with (`blobs.rs`).
    pub const BLOB_KEY: Purpose = Purpose("blobs.data_key");
    /// `uploads.data_key`: the key of an upload in progress; becomes its blob's key.
    pub const UPLOAD_KEY: Purpose = Purpose("uploads.data_key");

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// A column holding sealed secrets, keyed by `id_column`.
pub struct SealedColumn {
    pub table: &'static str,
    pub id_column: &'static str,
    pub column: &'static str,
    pub purpose: Purpose,
}

/// Every column that stores a secret. Names are constants: the SQL built from them never holds
/// a request value.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    SealedColumn {
        table: "org",
        id_column: "id",
        column: "token_secret",
        purpose: Purpose::TOKEN_SECRET,
    },
    SealedColumn {
        table: "users",
        id_column: "id",
        column: "totp_secret",
        purpose: Purpose::TOTP_SEED,
    },
    SealedColumn {
        table: "users",
        id_column: "id",
        column: "totp_pending",
        purpose: Purpose::TOTP_SEED,
    },
    SealedColumn {
        table: "blobs",
        id_column: "sha256",
        column: "data_key",
        purpose: Purpose::BLOB_KEY,
    },
    SealedColumn {
        table: "uploads",
        id_column: "id",
        column: "data_key",
        purpose: Purpose::UPLOAD_KEY,
    },
];

/// Why a sealed value did not open.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "{purpose} of {row} is sealed with master key {stored}, but the loaded key is {loaded}: \
         start the server with the key this database was sealed with (see README, Security)"
    )]
    WrongKey {
        purpose: &'static str,
        row: String,
        stored: String,
        loaded: String,
    },
    #[error(
        "{purpose} of {row} does not open with master key {key}: the value was altered or moved \
         from another row"
    )]
    Damaged {
        purpose: &'static str,
        row: String,
        key: String,
    },
    #[error("{purpose} of {row} is not a sealed value (expected enc:v1:…)")]
    NotSealed { purpose: &'static str, row: String },
}

/// The server master key. Its bytes are wiped on drop and never printed.
#[derive(Clone)]
pub struct MasterKey {
    bytes: Zeroizing<[u8; 32]>,
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

/// Whether a stored value is sealed (`enc:v1:…`) rather than written before encryption at rest.
pub fn is_sealed(value: &str) -> bool {
    value.starts_with("enc:")
}

fn aad(purpose: Purpose, row: &str) -> Vec<u8> {
    format!("outpost-secret v1 {} {row}", purpose.as_str()).into_bytes()
}

impl MasterKey {
    /// A new random key.
    pub fn generate() -> anyhow::Result<MasterKey> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut *bytes)
            .map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
        Ok(MasterKey::from_bytes(bytes))
    }

    fn from_bytes(bytes: Zeroizing<[u8; 32]>) -> MasterKey {
        let mut hasher = Sha256::new();
        hasher.update(b"outpost master key id v1\0");
        hasher.update(bytes.as_slice());
        let id = hex::encode(&hasher.finalize()[..8]);
        MasterKey { bytes, id }
    }

    /// The key from its text form: base64 of 32 bytes (surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> anyhow::Result<MasterKey> {
        let decoded = Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| {
            anyhow::anyhow!("a master key is base64 of 32 bytes; this is not base64")
        })?);
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| {
            anyhow::anyhow!(
                "a master key is base64 of 32 bytes; this decodes to {} bytes",
                decoded.len()
            )
        })?;
        Ok(MasterKey::from_bytes(Zeroizing::new(bytes)))
    }

    /// The key's text form (what key files, `OUTPOST_MASTER_KEY` and credentials hold).
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.bytes.as_slice()))
    }

    /// 16 hex digits naming the key (not secret: derived one-way from it).
    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new_from_slice(self.bytes.as_slice()).expect("a 32-byte key")
    }

    /// Seals `plain` for `purpose` in row `row`.
    pub fn seal(&self, purpose: Purpose, row: &str, plain: &[u8]) -> anyhow::Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
        // Room for the tag up front, so encrypting never reallocates and strands a clear copy.
        let mut buffer = Zeroizing::new(Vec::with_capacity(plain.len() + TAG_LEN));
        buffer.extend_from_slice(plain);
        self.cipher()
            .encrypt_in_place(&XNonce::from(nonce), &aad(purpose, row), &mut *buffer)
            .map_err(|_| anyhow::anyhow!("{} is too long to seal", purpose.as_str()))?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + buffer.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&buffer);
        Ok(format!(
            "{PREFIX}{}:{}",
            self.id,
            URL_SAFE_NO_PAD.encode(sealed)
        ))
    }

    /// Seals text (see [`MasterKey::seal`]).
    pub fn seal_str(&self, purpose: Purpose, row: &str, plain: &str) -> anyhow::Result<String> {
        self.seal(purpose, row, plain.as_bytes())
    }

    /// Opens a value sealed by [`MasterKey::seal`] for the same purpose and row.
    pub fn open(
        &self,
        purpose: Purpose,
        row: &str,
        sealed: &str,
    ) -> Result<Zeroizing<Vec<u8>>, SecretError> {
        let not_sealed = || SecretError::NotSealed {
            purpose: purpose.as_str(),
            row: row.to_owned(),
        };
        let rest = sealed.strip_prefix(PREFIX).ok_or_else(not_sealed)?;
        let (key_id, body) = rest.split_once(':').ok_or_else(not_sealed)?;
        if key_id != self.id {
            return Err(SecretError::WrongKey {
                purpose: purpose.as_str(),
                row: row.to_owned(),
                stored: key_id.to_owned(),
                loaded: self.id.clone(),
            });
        }
        let damaged = || SecretError::Damaged {
            purpose: purpose.as_str(),
            row: row.to_owned(),
            key: self.id.clone(),
        };
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| damaged())?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(damaged());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| damaged())?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        self.cipher()
            .decrypt_in_place(&nonce, &aad(purpose, row), &mut *buffer)
            .map_err(|_| damaged())?;
        Ok(buffer)
    }

    /// Opens sealed text (see [`MasterKey::open`]).
    pub fn open_str(
        &self,
        purpose: Purpose,
        row: &str,
        sealed: &str,
    ) -> Result<Zeroizing<String>, SecretError> {
        let bytes = self.open(purpose, row, sealed)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| SecretError::Damaged {
            purpose: purpose.as_str(),
            row: row.to_owned(),
            key: self.id.clone(),
        })?;
        Ok(Zeroizing::new(text.to_owned()))
    }
}

/// Where the master key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env,
    Credential(PathBuf),
    File(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env => write!(f, "the environment variable {KEY_ENV}"),
            KeySource::Credential(path) => write!(f, "the systemd credential {}", path.display()),
            KeySource::File(path) => write!(f, "the key file {}", path.display()),
        }
    }
}

/// The key file for this configuration: `master_key_file`, or beside a SQLite database file.
pub fn key_file_path(config: &Config) -> anyhow::Result<PathBuf> {
    if let Some(path) = &config.master_key_file {
        return Ok(path.clone());
    }
    let url = &config.database_url;
    let file = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|path| !path.is_empty() && !path.starts_with(":memory:"));
    match file {
        Some(path) => Ok(Path::new(path).with_extension("master-key")),
        None => anyhow::bail!(
            "no master key location for {}: set master_key_file in the configuration (or \
             --master-key-file), {KEY_ENV}, or the systemd credential {CREDENTIAL_NAME}",
            if url.starts_with("postgres") {
                "a PostgreSQL database"
            } else {
                "this database"
            }
        ),
    }
}

/// Reads a key file, refusing one its group or others can read.
pub fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| {
                anyhow::anyhow!("cannot read the master key file {}: {e}", path.display())
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "the master key file {} can be read by other users (mode {:o}); \
                 run `chmod 600 {}` and start again",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
    let text =
        Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!("cannot read the master key file {}: {e}", path.display())
        })?);
    MasterKey::from_base64(&text)
        .map_err(|e| anyhow::anyhow!("the master key file {} is invalid: {e}", path.display()))
}

/// Writes `key` to a new file at `path` with mode 0600 (never replaces an existing file).
pub fn write_key_file(path: &Path, key: &MasterKey) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        anyhow::anyhow!("cannot create the master key file {}: {e}", path.display())
    })?;
    let mut text = key.to_base64();
    text.push('\n');
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

/// The master key from the first source that has one, or `None` (with the key file's path,
/// where `init` would create it).
pub fn find(config: &Config) -> anyhow::Result<Result<(MasterKey, KeySource), PathBuf>> {
    if let Ok(text) = std::env::var(KEY_ENV) {
        let key = MasterKey::from_base64(&text).map_err(|e| anyhow::anyhow!("{KEY_ENV}: {e}"))?;
        return Ok(Ok((key, KeySource::Env)));
    }
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let path = Path::new(&dir).join(CREDENTIAL_NAME);
        if path.exists() {
            let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| {
                anyhow::anyhow!("cannot read the credential {}: {e}", path.display())
            })?);
            let key = MasterKey::from_base64(&text)
                .map_err(|e| anyhow::anyhow!("the credential {}: {e}", path.display()))?;
            return Ok(Ok((key, KeySource::Credential(path))));
        }
    }
    let path = key_file_path(config)?;
    if path.exists() {
        let key = read_key_file(&path)?;
        return Ok(Ok((key, KeySource::File(path))));
    }
    Ok(Err(path))
}

/// The master key, or a clear error naming every place it was looked for.
pub fn load(config: &Config) -> anyhow::Result<(MasterKey, KeySource)> {
    find(config)?.map_err(|path| {
        anyhow::anyhow!(
            "no master key: {KEY_ENV} is not set, there is no systemd credential \
             {CREDENTIAL_NAME}, and the key file {} does not exist. The server's secrets are \
             sealed with that key: restore the key file from your backup (or set master_key_file \
             to where it is). A database made before encryption at rest needs a key first: \
             `outpost-server keys init`.",
            path.display()
        )
    })
}

/// The master key for `init`: an existing one, or a new key file (mode 0600).
pub fn load_or_create(config: &Config) -> anyhow::Result<(MasterKey, KeySource, bool)> {
    match find(config)? {
        Ok((key, source)) => Ok((key, source, false)),
        Err(path) => {
            let key = MasterKey::generate()?;
            write_key_file(&path, &key)?;
            Ok((key, KeySource::File(path), true))
        }
    }
}

type Rows = Vec<(String, String)>;

async fn sealed_rows(conn: &mut sqlx::AnyConnection, column: &SealedColumn) -> sqlx::Result<Rows> {
    let sql = format!(
        "SELECT {id}, {col} FROM {table} WHERE {col} IS NOT NULL",
        id = column.id_column,
        col = column.column,
        table = column.table
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
}

async fn replace(
    conn: &mut sqlx::AnyConnection,
    column: &SealedColumn,
    id: &str,
    old: &str,
    new: &str,
) -> sqlx::Result<u64> {
    let sql = format!(
        "UPDATE {table} SET {col} = $1 WHERE {id} = $2 AND {col} = $3",
        id = column.id_column,
        col = column.column,
        table = column.table
    );
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(new)
        .bind(id)
        .bind(old)
        .execute(conn)
        .await?
        .rows_affected())
}

/// Seals every value written before encryption at rest (idempotent: sealed values are left
/// alone, and a value another instance sealed meanwhile is not touched). Returns how many.
pub async fn seal_clear_values(db: &Db, key: &MasterKey) -> anyhow::Result<u64> {
    let mut sealed = 0;
    let mut tx = db.begin_write().await?;
    for column in SEALED_COLUMNS {
        for (id, value) in sealed_rows(&mut tx, column).await? {
            if is_sealed(&value) {
                continue;
            }
            let new = key.seal_str(column.purpose, &id, &value)?;
            sealed += replace(&mut tx, column, &id, &value, &new).await?;
        }
    }
    tx.commit().await?;
    if sealed > 0 {
        // The clear values' old page images may still sit in SQLite's write-ahead log.
        db.erase_freed().await;
    }
    Ok(sealed)
}

/// Opens every sealed value with `key` (a start-up check: a wrong key stops here, by name).
pub async fn check_all(db: &Db, key: &MasterKey) -> anyhow::Result<usize> {
    let mut conn = db.pool.acquire().await?;
    let mut count = 0;
    for column in SEALED_COLUMNS {
        for (id, value) in sealed_rows(&mut conn, column).await? {
            key.open(column.purpose, &id, &value)?;
            count += 1;
        }
    }
    Ok(count)
}

/// The organisation's token-signing secret, opened.
pub async fn token_secret(db: &Db, key: &MasterKey) -> anyhow::Result<Zeroizing<String>> {
    let row: Option<(String, String)> = sqlx::query_as("SELECT id, token_secret FROM org")
        .fetch_optional(&db.pool)
        .await?;
    let (id, sealed) = row.ok_or_else(|| {
        anyhow::anyhow!("the database has no organisation yet; run `outpost-server init` first")
    })?;
    Ok(key.open_str(Purpose::TOKEN_SECRET, &id, &sealed)?)
}

/// How many values `keys rotate` re-sealed.
pub struct Rotated {
    pub values: u64,
}

/// Re-seals every secret from `old` to `new` in one transaction (values still in the clear are
/// sealed too). Nothing changes when any value does not open with `old`.
pub async fn rotate(db: &Db, old: &MasterKey, new: &MasterKey) -> anyhow::Result<Rotated> {
    let mut values = 0;
    let mut tx = db.begin_write().await?;
    for column in SEALED_COLUMNS {
        for (id, value) in sealed_rows(&mut tx, column).await? {
            let plain = if is_sealed(&value) {
                old.open(column.purpose, &id, &value)?
            } else {
                Zeroizing::new(value.as_bytes().to_vec())
            };
            let resealed = new.seal(column.purpose, &id, &plain)?;
            values += replace(&mut tx, column, &id, &value, &resealed).await?;
        }
    }
    tx.commit().await?;
    db.erase_freed().await;
    Ok(Rotated { values })
}

/// What `keys status` reports: sealed values per key id, and values still in the clear.
pub async fn status(db: &Db) -> anyhow::Result<(std::collections::BTreeMap<String, u64>, u64)> {
    let mut conn = db.pool.acquire().await?;
    let mut by_key = std::collections::BTreeMap::new();
    let mut clear = 0;
    for column in SEALED_COLUMNS {
        for (_, value) in sealed_rows(&mut conn, column).await? {
            match value
                .strip_prefix(PREFIX)
                .and_then(|rest| rest.split_once(':'))
            {
                Some((id, _)) => *by_key.entry(id.to_owned()).or_insert(0) += 1,
                None => clear += 1,
            }
        }
    }
    Ok((by_key, clear))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_for_their_row_purpose_and_key() {
        let key = MasterKey::generate().unwrap();
        let sealed = key
            .seal_str(Purpose::TOTP_SEED, "u1", "JBSWY3DPEHPK3PXP")
            .unwrap();
        assert!(
            sealed.starts_with(&format!("enc:v1:{}:", key.id())),
            "{sealed}"
        );
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            &*key.open_str(Purpose::TOTP_SEED, "u1", &sealed).unwrap(),
            "JBSWY3DPEHPK3PXP"
        );
        assert!(matches!(
            key.open(Purpose::TOTP_SEED, "u2", &sealed),
            Err(SecretError::Damaged { .. })
        ));
        assert!(matches!(
            key.open(Purpose::TOKEN_SECRET, "u1", &sealed),
            Err(SecretError::Damaged { .. })
        ));
        let other = MasterKey::generate().unwrap();
        assert!(matches!(
            other.open(Purpose::TOTP_SEED, "u1", &sealed),
            Err(SecretError::WrongKey { .. })
        ));
        let mut altered = sealed.clone();
        let last = altered.pop().unwrap();
        altered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(key.open(Purpose::TOTP_SEED, "u1", &altered).is_err());
        assert!(matches!(
            key.open(Purpose::TOTP_SEED, "u1", "JBSWY3DPEHPK3PXP"),
            Err(SecretError::NotSealed { .. })
        ));
        // A fresh nonce each time.
        assert_ne!(
            sealed,
            key.seal_str(Purpose::TOTP_SEED, "u1", "JBSWY3DPEHPK3PXP")
                .unwrap()
        );
    }

    #[test]
    fn keys_round_trip_through_base64_and_reject_other_lengths() {
        let key = MasterKey::generate().unwrap();
        let again = MasterKey::from_base64(&format!("{}\n", &*key.to_base64())).unwrap();
        assert_eq!(key.id(), again.id());
        assert_eq!(key.id().len(), 16);
        assert!(MasterKey::from_base64(&STANDARD.encode([1u8; 16])).is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
        assert_eq!(format!("{key:?}"), format!("MasterKey({})", key.id()));
    }

    #[test]
    fn the_default_key_file_sits_beside_a_sqlite_database() {
        let config = |url: &str| Config {
            database_url: url.into(),
            ..Config::default()
        };
        assert_eq!(
            key_file_path(&config("sqlite:///var/lib/outpost/outpost.db?mode=rwc")).unwrap(),
            PathBuf::from("/var/lib/outpost/outpost.master-key")
        );
        assert_eq!(
            key_file_path(&config("sqlite://outpost.db")).unwrap(),
            PathBuf::from("outpost.master-key")
        );
        let error = key_file_path(&config("postgres://u@h/db")).unwrap_err();
        assert!(error.to_string().contains("master_key_file"), "{error}");
        let configured = Config {
            master_key_file: Some("/etc/outpost/master.key".into()),
            ..config("postgres://u@h/db")
        };
        assert_eq!(
            key_file_path(&configured).unwrap(),
            PathBuf::from("/etc/outpost/master.key")
        );
    }

    #[cfg(unix)]
    #[test]
    fn key_files_are_private_and_readable_ones_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.master-key");
        let key = MasterKey::generate().unwrap();
        write_key_file(&path, &key).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(read_key_file(&path).unwrap().id(), key.id());
        assert!(
            write_key_file(&path, &key).is_err(),
            "never replaces a key file"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = read_key_file(&path).unwrap_err().to_string();
        assert!(error.contains("chmod 600"), "{error}");
    }
}
