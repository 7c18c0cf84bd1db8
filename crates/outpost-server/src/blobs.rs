//! The encrypted blob store: attachment bytes, content-addressed by the SHA-256 of their
//! plaintext, deduplicated (the server is one organisation), never written in clear.
//!
//! - **Encryption.** Every blob, and every upload in progress, has its own random 256-bit data
//!   key, sealed with the server master key (`secrets.rs`, purposes [`Purpose::BLOB_KEY`] and
//!   [`Purpose::UPLOAD_KEY`], listed in `SEALED_COLUMNS` so `keys rotate` re-seals them). The
//!   content is cut into 64 KiB segments, each sealed with XChaCha20-Poly1305 under a random
//!   nonce; the associated data names the segment's index and whether it is the last, so
//!   segments cannot be reordered, dropped or the blob cut short without the read failing.
//!   Deleting a blob's row destroys its key: a copy of the segments left anywhere is unreadable.
//! - **Backends.** Segments live in files ([`Backend::Files`], the default beside a SQLite
//!   database: `outpost.db` → `outpost.blobs/`, directories 0700, files 0600) or in the
//!   database's `blob_segments` table ([`Backend::Database`], the default with PostgreSQL, so
//!   every instance behind a load balancer serves the same files). Both store the same sealed
//!   segments; only where they sit differs.
//! - **Uploads.** An upload is staged segment by segment under its own key; the offset it has
//!   reached is what is stored (whole segments only), so a cut connection or a killed server
//!   loses at most the segment in flight. When the last byte arrives the staged segments are
//!   read back, hashed and sniffed (`outpost_core::files`); a wrong hash or a refused kind
//!   discards the upload, anything else becomes a blob (or joins an existing one).
//! - **Capabilities.** A blob id is not a capability: an agent may attach a blob only after
//!   completing an upload of exactly those bytes for that ticket ([`check_push`]), and may
//!   download it only through an attachment entry of a ticket they can see. A blob is deleted
//!   when the last unredacted entry naming it is redacted and no completed upload waits to use
//!   it ([`release_reference`]).
//!
//! Memory per upload or download is one segment, never the file.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use futures_util::{Stream, StreamExt};
use outpost_core::apply::{Rejection, MAX_ATTACHMENT_BYTES};
use outpost_core::files::{check_upload, AttachmentPolicy, FileType, SNIFF_BYTES};
use outpost_core::model::{Entry, EntryBody};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::audit::AuditEntry;
use crate::config::{BlobStoreKind, Config};
use crate::db::{now_millis, Db, Kind, WriteTx};
use crate::secrets::{MasterKey, Purpose};

/// Plaintext bytes per segment.
pub const SEGMENT_BYTES: u64 = 64 * 1024;
/// Most bytes one `PUT` of an upload may carry.
pub const MAX_CHUNK_BYTES: u64 = 8 * 1024 * 1024;
/// How long an unfinished (or finished but unused) upload is kept, in milliseconds.
pub const UPLOAD_TTL_MILLIS: i64 = 24 * 60 * 60 * 1000;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const OVERHEAD: u64 = (NONCE_LEN + TAG_LEN) as u64;
const SEALED_SEGMENT: u64 = SEGMENT_BYTES + OVERHEAD;

/// Where segments are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Files(PathBuf),
    Database,
}

impl Backend {
    /// The configured backend, or the default: files beside a SQLite database file, the
    /// database itself with PostgreSQL (or an in-memory SQLite database).
    pub fn from_config(config: &Config, kind: Kind) -> Backend {
        let beside_sqlite = || {
            let url = &config.database_url;
            url.strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .map(|rest| rest.split('?').next().unwrap_or(rest))
                .filter(|path| !path.is_empty() && !path.starts_with(":memory:"))
                .map(|path| Path::new(path).with_extension("blobs"))
        };
        match (config.blob_store, &config.blob_dir) {
            (Some(BlobStoreKind::Database), _) => Backend::Database,
            (_, Some(dir)) => Backend::Files(dir.clone()),
            (Some(BlobStoreKind::Filesystem) | None, None) => match kind {
                Kind::Sqlite => beside_sqlite().map_or(Backend::Database, Backend::Files),
                Kind::Postgres => Backend::Database,
            },
        }
    }
}

/// Why an upload did not become a blob.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    #[error(
        "the file's bytes do not have the SHA-256 announced for it ({expected}); it may have \
         changed while it was sent. The upload was discarded: attach the file again"
    )]
    HashMismatch { expected: String },
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// An upload as stored.
#[derive(Debug, Clone)]
pub struct Upload {
    pub id: Uuid,
    pub ticket_id: Option<Uuid>,
    pub user_id: String,
    pub filename: String,
    pub size: u64,
    pub sha256: String,
    pub completed: Option<FileType>,
    sealed_key: Option<String>,
}

/// A blob as stored.
#[derive(Debug, Clone)]
pub struct Blob {
    pub sha256: String,
    pub size: u64,
    pub file_type: FileType,
    sealed_key: String,
}

/// How a `PUT` of an upload ended.
#[derive(Debug)]
pub enum Appended {
    /// The body was read to its end (or was cut); `offset` is what is stored now.
    Stored { offset: u64, cut: bool },
    /// The body went past the file's announced size; whole segments before that are kept.
    PastEnd { offset: u64 },
    /// The body was longer than [`MAX_CHUNK_BYTES`]; whole segments before that are kept.
    TooLarge { offset: u64 },
}

/// The blob store (see the module documentation). Cheap to clone.
#[derive(Clone)]
pub struct BlobStore(Arc<StoreInner>);

struct StoreInner {
    backend: Backend,
    db: Db,
    key: MasterKey,
    /// Uploads a request is writing now: a second writer is told to wait.
    busy: Mutex<HashSet<Uuid>>,
    /// Serialises file operations on one staged upload (appending, measuring, truncating), also
    /// with a write that outlives a cancelled request on the blocking pool.
    files: Mutex<std::collections::HashMap<Uuid, Arc<Mutex<()>>>>,
}

/// Marks an upload busy until dropped.
pub struct BusyGuard {
    store: BlobStore,
    id: Uuid,
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.store.0.busy.lock() {
            busy.remove(&self.id);
        }
    }
}

type DataKey = Zeroizing<[u8; 32]>;

fn random_key() -> anyhow::Result<DataKey> {
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut *key).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    Ok(key)
}

fn segment_count(size: u64) -> u64 {
    size.div_ceil(SEGMENT_BYTES).max(1)
}

/// The plaintext length of segment `index` of a `size`-byte file.
fn segment_len(size: u64, index: u64) -> u64 {
    (size - index * SEGMENT_BYTES).min(SEGMENT_BYTES)
}

fn associated_data(index: u64, last: bool) -> [u8; 25] {
    let mut ad = [0u8; 25];
    ad[..16].copy_from_slice(b"outpost-blob v1\0");
    ad[16..24].copy_from_slice(&index.to_be_bytes());
    ad[24] = u8::from(last);
    ad
}

/// Seals segment `index` (`last` when it ends the file): nonce ‖ ciphertext ‖ tag.
fn seal_segment(key: &DataKey, index: u64, last: bool, plain: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    let mut sealed = Vec::with_capacity(NONCE_LEN + plain.len() + TAG_LEN);
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(plain);
    let mut body = sealed.split_off(NONCE_LEN);
    XChaCha20Poly1305::new_from_slice(key.as_slice())
        .expect("a 32-byte key")
        .encrypt_in_place(
            &XNonce::from(nonce),
            &associated_data(index, last),
            &mut body,
        )
        .map_err(|_| anyhow::anyhow!("a segment could not be sealed"))?;
    sealed.extend_from_slice(&body);
    Ok(sealed)
}

/// Opens a segment sealed by [`seal_segment`] at the same index and position.
fn open_segment(
    key: &DataKey,
    index: u64,
    last: bool,
    sealed: &[u8],
) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        anyhow::bail!("segment {index} is truncated");
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = XNonce::try_from(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
    let mut buffer = Zeroizing::new(body.to_vec());
    XChaCha20Poly1305::new_from_slice(key.as_slice())
        .expect("a 32-byte key")
        .decrypt_in_place(&nonce, &associated_data(index, last), &mut *buffer)
        .map_err(|_| {
            anyhow::anyhow!("segment {index} does not open: the stored file was altered or moved")
        })?;
    Ok(buffer)
}

fn upload_owner(id: Uuid) -> String {
    format!("u:{id}")
}

fn blob_owner(sha256: &str) -> String {
    format!("b:{sha256}")
}

fn key_from(bytes: &[u8]) -> anyhow::Result<DataKey> {
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("a data key is 32 bytes"))?;
    Ok(Zeroizing::new(array))
}

#[cfg(unix)]
fn private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn private_dir(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path)
}

fn private_file(path: &Path, append: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).read(true).write(true).append(append);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

impl BlobStore {
    /// The store for this configuration (files: directories 0700, files 0600).
    pub fn open(config: &Config, db: Db, key: MasterKey) -> anyhow::Result<BlobStore> {
        // Directories are made when the first file is written, so a server that never stores
        // one leaves nothing behind.
        let backend = Backend::from_config(config, db.kind);
        Ok(BlobStore(Arc::new(StoreInner {
            backend,
            db,
            key,
            busy: Mutex::new(HashSet::new()),
            files: Mutex::new(Default::default()),
        })))
    }

    pub fn backend(&self) -> &Backend {
        &self.0.backend
    }

    fn upload_path(&self, id: Uuid) -> Option<PathBuf> {
        match &self.0.backend {
            Backend::Files(dir) => Some(dir.join("uploads").join(id.to_string())),
            Backend::Database => None,
        }
    }

    /// Where a blob's file is (files backend): `blobs/<first two hex digits>/<sha256>`.
    pub fn blob_path(&self, sha256: &str) -> Option<PathBuf> {
        match &self.0.backend {
            Backend::Files(dir) => Some(
                dir.join("blobs")
                    .join(sha256.get(..2).unwrap_or("00"))
                    .join(sha256),
            ),
            Backend::Database => None,
        }
    }

    fn file_lock(&self, id: Uuid) -> Arc<Mutex<()>> {
        let mut files = self
            .0
            .files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        files.entry(id).or_default().clone()
    }

    /// Claims an upload for one writer; `None` when another request is writing it.
    pub fn claim(&self, id: Uuid) -> Option<BusyGuard> {
        let mut busy = self
            .0
            .busy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        busy.insert(id).then(|| BusyGuard {
            store: self.clone(),
            id,
        })
    }

    /// Starts an upload of `size` bytes with the SHA-256 `sha256` (lowercase hex), for a
    /// ticket (`None`: a customer's file that has no ticket yet).
    pub async fn create_upload(
        &self,
        user_id: &str,
        ticket_id: Option<Uuid>,
        filename: &str,
        size: u64,
        sha256: &str,
    ) -> anyhow::Result<Upload> {
        let id = Uuid::now_v7();
        let key = random_key()?;
        let sealed = self
            .0
            .key
            .seal(Purpose::UPLOAD_KEY, &id.to_string(), key.as_slice())?;
        sqlx::query(
            "INSERT INTO uploads (id, ticket_id, user_id, filename, size, sha256, data_key, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.to_string())
        .bind(ticket_id.map(|t| t.to_string()))
        .bind(user_id)
        .bind(filename)
        .bind(size as i64)
        .bind(sha256)
        .bind(&sealed)
        .bind(now_millis())
        .execute(&self.0.db.pool)
        .await?;
        Ok(Upload {
            id,
            ticket_id,
            user_id: user_id.to_owned(),
            filename: filename.to_owned(),
            size,
            sha256: sha256.to_owned(),
            completed: None,
            sealed_key: Some(sealed),
        })
    }

    pub async fn upload(&self, id: Uuid) -> anyhow::Result<Option<Upload>> {
        type Row = (
            String,
            Option<String>,
            String,
            String,
            i64,
            String,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, ticket_id, user_id, filename, size, sha256, data_key, file_type
             FROM uploads WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.0.db.pool)
        .await?;
        let Some((_, ticket, user_id, filename, size, sha256, sealed_key, file_type)) = row else {
            return Ok(None);
        };
        Ok(Some(Upload {
            id,
            ticket_id: ticket.and_then(|t| t.parse().ok()),
            user_id,
            filename,
            size: size as u64,
            sha256,
            completed: file_type.and_then(|t| t.parse().ok()),
            sealed_key,
        }))
    }

    fn upload_key(&self, upload: &Upload) -> anyhow::Result<DataKey> {
        let sealed = upload
            .sealed_key
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("upload {} is finished", upload.id))?;
        let bytes = self
            .0
            .key
            .open(Purpose::UPLOAD_KEY, &upload.id.to_string(), sealed)?;
        key_from(&bytes)
    }

    /// How many bytes of `upload` are stored (whole segments; `size` once all are). A partial
    /// segment left by a cut write is dropped here.
    pub async fn offset(&self, upload: &Upload) -> anyhow::Result<u64> {
        if upload.completed.is_some() {
            return Ok(upload.size);
        }
        let size = upload.size;
        if let Some(path) = self.upload_path(upload.id) {
            let lock = self.file_lock(upload.id);
            tokio::task::spawn_blocking(move || {
                let _held = lock
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                staged_offset(&path, size)
            })
            .await?
        } else {
            let count: i64 =
                sqlx::query_scalar("SELECT count(*) FROM blob_segments WHERE owner = $1")
                    .bind(upload_owner(upload.id))
                    .fetch_one(&self.0.db.pool)
                    .await?;
            Ok((count as u64 * SEGMENT_BYTES).min(size))
        }
    }

    async fn store_segment(
        &self,
        upload: &Upload,
        index: u64,
        sealed: Vec<u8>,
    ) -> anyhow::Result<()> {
        if let Some(path) = self.upload_path(upload.id) {
            let lock = self.file_lock(upload.id);
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                let _held = lock
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Some(parent) = path.parent() {
                    private_dir(parent)?;
                }
                let mut file = private_file(&path, true)?;
                let at = file.metadata()?.len();
                anyhow::ensure!(
                    at == index * SEALED_SEGMENT,
                    "the staged upload is {at} bytes; segment {index} does not follow it"
                );
                // Flushed to disk once per request (`append`), not per segment: a killed
                // process loses nothing written; after a power cut `finish` authenticates
                // every segment, so a torn one discards the upload rather than corrupting it.
                file.write_all(&sealed)?;
                Ok(())
            })
            .await?
        } else {
            sqlx::query("INSERT INTO blob_segments (owner, idx, data) VALUES ($1, $2, $3)")
                .bind(upload_owner(upload.id))
                .bind(index as i64)
                .bind(sealed)
                .execute(&self.0.db.pool)
                .await?;
            Ok(())
        }
    }

    /// Appends a request body at `offset` (which must be the stored offset), sealing and storing
    /// each whole segment as it completes; the bytes of an unfinished segment are dropped.
    pub async fn append<S, E>(
        &self,
        upload: &Upload,
        offset: u64,
        body: S,
    ) -> anyhow::Result<Appended>
    where
        S: Stream<Item = Result<axum::body::Bytes, E>>,
    {
        let key = self.upload_key(upload)?;
        let size = upload.size;
        let limit = (offset + MAX_CHUNK_BYTES).min(size);
        let mut stored = offset;
        let mut segment = Zeroizing::new(Vec::with_capacity(SEGMENT_BYTES as usize));
        let mut body = std::pin::pin!(body);
        let appended = loop {
            let piece = match body.next().await {
                Some(Ok(piece)) => piece,
                Some(Err(_)) => {
                    break Appended::Stored {
                        offset: stored,
                        cut: true,
                    }
                }
                None => {
                    break Appended::Stored {
                        offset: stored,
                        cut: false,
                    }
                }
            };
            let mut rest: &[u8] = &piece;
            let mut over = None;
            while !rest.is_empty() {
                let at = stored + segment.len() as u64;
                if at >= limit {
                    over = Some(if at >= size {
                        Appended::PastEnd { offset: stored }
                    } else {
                        Appended::TooLarge { offset: stored }
                    });
                    break;
                }
                let index = stored / SEGMENT_BYTES;
                let want = segment_len(size, index) as usize - segment.len();
                let take = want.min(rest.len());
                segment.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                if segment.len() as u64 == segment_len(size, index) {
                    let last = index + 1 == segment_count(size);
                    let sealed = seal_segment(&key, index, last, &segment)?;
                    self.store_segment(upload, index, sealed).await?;
                    stored += segment.len() as u64;
                    segment.clear();
                }
            }
            if let Some(over) = over {
                break over;
            }
        };
        self.flush_staged(upload.id).await?;
        Ok(appended)
    }

    /// Puts a staged upload's file on disk (files backend; the database commits its own).
    async fn flush_staged(&self, id: Uuid) -> anyhow::Result<()> {
        let Some(path) = self.upload_path(id) else {
            return Ok(());
        };
        let lock = self.file_lock(id);
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let _held = lock
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match std::fs::File::open(&path) {
                Ok(file) => file.sync_data(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e),
            }
        })
        .await??;
        Ok(())
    }

    /// Reads segment `index` of a staged upload or a blob.
    async fn read_segment(
        &self,
        owner: Owner<'_>,
        size: u64,
        index: u64,
    ) -> anyhow::Result<Vec<u8>> {
        let len = segment_len(size, index) + OVERHEAD;
        match owner {
            Owner::Upload(id) if self.upload_path(id).is_some() => {
                let path = self.upload_path(id).expect("checked");
                let lock = self.file_lock(id);
                tokio::task::spawn_blocking(move || {
                    let _held = lock
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    read_at(&path, index * SEALED_SEGMENT, len)
                })
                .await?
            }
            Owner::Blob(sha) if self.blob_path(sha).is_some() => {
                let path = self.blob_path(sha).expect("checked");
                tokio::task::spawn_blocking(move || read_at(&path, index * SEALED_SEGMENT, len))
                    .await?
            }
            _ => {
                let name = match owner {
                    Owner::Upload(id) => upload_owner(id),
                    Owner::Blob(sha) => blob_owner(sha),
                };
                let data: Option<Vec<u8>> = sqlx::query_scalar(
                    "SELECT data FROM blob_segments WHERE owner = $1 AND idx = $2",
                )
                .bind(name)
                .bind(index as i64)
                .fetch_optional(&self.0.db.pool)
                .await?;
                data.ok_or_else(|| anyhow::anyhow!("segment {index} is missing"))
            }
        }
    }

    /// Checks a fully staged upload (hash, kind) and turns it into a blob, or joins the blob
    /// that has these bytes already. `policy`: what a customer may send (`None`: an agent). A
    /// refused upload is discarded.
    pub async fn finish(
        &self,
        upload: &Upload,
        policy: Option<&AttachmentPolicy>,
    ) -> Result<FileType, FinishError> {
        if let Some(done) = upload.completed {
            return Ok(done);
        }
        let key = self.upload_key(upload)?;
        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        let count = segment_count(upload.size);
        for index in 0..count {
            let sealed = self
                .read_segment(Owner::Upload(upload.id), upload.size, index)
                .await?;
            let plain = open_segment(&key, index, index + 1 == count, &sealed)?;
            hasher.update(&*plain);
            let room = SNIFF_BYTES - head.len();
            head.extend_from_slice(&plain[..room.min(plain.len())]);
        }
        let actual = hex::encode(hasher.finalize());
        if actual != upload.sha256 {
            self.discard(upload).await?;
            return Err(FinishError::HashMismatch {
                expected: upload.sha256.clone(),
            });
        }
        let file_type = match check_upload(policy, &upload.filename, &head, upload.size) {
            Ok(file_type) => file_type,
            Err(rejection) => {
                self.discard(upload).await?;
                return Err(FinishError::Refused(rejection.to_string()));
            }
        };
        self.commit_blob(upload, &key, file_type).await?;
        Ok(file_type)
    }

    async fn commit_blob(
        &self,
        upload: &Upload,
        key: &DataKey,
        file_type: FileType,
    ) -> anyhow::Result<()> {
        let sha = &upload.sha256;
        let mut tx = self.0.db.begin_write().await?;
        let exists: Option<String> =
            sqlx::query_scalar("SELECT sha256 FROM blobs WHERE sha256 = $1")
                .bind(sha)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            let sealed = self.0.key.seal(Purpose::BLOB_KEY, sha, key.as_slice())?;
            sqlx::query(
                "INSERT INTO blobs (sha256, size, file_type, data_key, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(sha)
            .bind(upload.size as i64)
            .bind(file_type.as_str())
            .bind(sealed)
            .bind(now_millis())
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM blob_deletions WHERE sha256 = $1")
                .bind(sha)
                .execute(&mut *tx)
                .await?;
            match (self.upload_path(upload.id), self.blob_path(sha)) {
                (Some(from), Some(to)) => {
                    let lock = self.file_lock(upload.id);
                    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                        let _held = lock
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        if let Some(parent) = to.parent() {
                            private_dir(parent)?;
                        }
                        std::fs::rename(&from, &to)
                    })
                    .await??;
                }
                _ => {
                    sqlx::query("UPDATE blob_segments SET owner = $1 WHERE owner = $2")
                        .bind(blob_owner(sha))
                        .bind(upload_owner(upload.id))
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        sqlx::query(
            "UPDATE uploads SET completed_at = $1, file_type = $2, data_key = NULL WHERE id = $3",
        )
        .bind(now_millis())
        .bind(file_type.as_str())
        .bind(upload.id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if exists.is_some() {
            self.drop_staged(upload.id).await?;
        }
        Ok(())
    }

    async fn drop_staged(&self, id: Uuid) -> anyhow::Result<()> {
        match self.upload_path(id) {
            Some(path) => {
                let lock = self.file_lock(id);
                tokio::task::spawn_blocking(move || {
                    let _held = lock
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    match std::fs::remove_file(&path) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                        _ => Ok(()),
                    }
                })
                .await??;
                if let Ok(mut files) = self.0.files.lock() {
                    files.remove(&id);
                }
            }
            None => {
                sqlx::query("DELETE FROM blob_segments WHERE owner = $1")
                    .bind(upload_owner(id))
                    .execute(&self.0.db.pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Cancels an unfinished upload: its staged bytes and its row are deleted. A finished one is
    /// withdrawn (it no longer lets its owner attach the file).
    pub async fn discard(&self, upload: &Upload) -> anyhow::Result<()> {
        self.drop_staged(upload.id).await?;
        let mut tx = self.0.db.begin_write().await?;
        sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(upload.id.to_string())
            .execute(&mut *tx)
            .await?;
        if upload.completed.is_some() {
            collect(&mut tx, &upload.sha256).await?;
        }
        tx.commit().await?;
        self.sweep().await;
        Ok(())
    }

    /// Forgets a customer's file kept by [`BlobStore::store_stream`] for a request that was
    /// then refused: the blob goes unless an entry names it or another upload waits for it.
    pub async fn forget(&self, sha256: &str) -> anyhow::Result<()> {
        let mut tx = self.0.db.begin_write().await?;
        let one: Option<String> = sqlx::query_scalar(
            "SELECT id FROM uploads WHERE user_id = 'customer' AND sha256 = $1 AND completed_at IS NOT NULL LIMIT 1",
        )
        .bind(sha256)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = one {
            sqlx::query("DELETE FROM uploads WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        collect(&mut tx, sha256).await?;
        tx.commit().await?;
        self.sweep().await;
        Ok(())
    }

    /// The blob with these bytes, if the store has it.
    pub async fn blob(&self, sha256: &str) -> anyhow::Result<Option<Blob>> {
        let row: Option<(String, i64, String, String)> =
            sqlx::query_as("SELECT sha256, size, file_type, data_key FROM blobs WHERE sha256 = $1")
                .bind(sha256)
                .fetch_optional(&self.0.db.pool)
                .await?;
        row.map(|(sha256, size, file_type, sealed_key)| {
            Ok(Blob {
                sha256,
                size: size as u64,
                file_type: file_type
                    .parse()
                    .map_err(|e| anyhow::anyhow!("blob file type: {e}"))?,
                sealed_key,
            })
        })
        .transpose()
    }

    /// A blob's plaintext, one segment at a time. The key is opened first, so a wrong master
    /// key is an error before anything is sent.
    pub fn read(
        &self,
        blob: &Blob,
    ) -> anyhow::Result<impl Stream<Item = anyhow::Result<axum::body::Bytes>> + Send + 'static>
    {
        let bytes = self
            .0
            .key
            .open(Purpose::BLOB_KEY, &blob.sha256, &blob.sealed_key)?;
        let key = key_from(&bytes)?;
        let count = segment_count(blob.size);
        let store = self.clone();
        let sha = blob.sha256.clone();
        let size = blob.size;
        Ok(futures_util::stream::try_unfold(0u64, move |index| {
            let store = store.clone();
            let sha = sha.clone();
            let key = key.clone();
            async move {
                if index == count {
                    return Ok(None);
                }
                let sealed = store.read_segment(Owner::Blob(&sha), size, index).await?;
                let plain = open_segment(&key, index, index + 1 == count, &sealed)?;
                Ok(Some((axum::body::Bytes::from(plain.to_vec()), index + 1)))
            }
        }))
    }

    /// Deletes the files of blobs whose rows are gone (after a redaction committed, or left by
    /// a crash). Best effort: a file that cannot be removed is logged and tried again later; its
    /// key is gone already, so it cannot be read.
    pub async fn sweep(&self) {
        if let Err(e) = self.sweep_inner().await {
            tracing::warn!(error = %e, "removing deleted blobs failed; tried again later");
        }
    }

    async fn sweep_inner(&self) -> anyhow::Result<()> {
        let pending: Vec<String> = sqlx::query_scalar(
            "SELECT d.sha256 FROM blob_deletions d WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = d.sha256)",
        )
        .fetch_all(&self.0.db.pool)
        .await?;
        for sha in pending {
            if let Some(path) = self.blob_path(&sha) {
                tokio::task::spawn_blocking(move || match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                    _ => Ok(()),
                })
                .await??;
            }
            sqlx::query("DELETE FROM blob_deletions WHERE sha256 = $1")
                .bind(&sha)
                .execute(&self.0.db.pool)
                .await?;
        }
        Ok(())
    }

    /// Deletes uploads older than [`UPLOAD_TTL_MILLIS`] at `now` (unix milliseconds): unfinished
    /// ones with their staged bytes, finished ones nobody attached (and their blob, when nothing
    /// else uses it). Returns how many.
    pub async fn expire(&self, now: i64) -> anyhow::Result<usize> {
        let cutoff = now - UPLOAD_TTL_MILLIS;
        let stale: Vec<(String, Option<i64>, String)> =
            sqlx::query_as("SELECT id, completed_at, sha256 FROM uploads WHERE created_at < $1")
                .bind(cutoff)
                .fetch_all(&self.0.db.pool)
                .await?;
        let mut removed = 0;
        for (id, completed, sha) in stale {
            let Ok(id) = id.parse::<Uuid>() else { continue };
            let Some(_busy) = self.claim(id) else {
                continue;
            };
            if completed.is_none() {
                self.drop_staged(id).await?;
            }
            let mut tx = self.0.db.begin_write().await?;
            sqlx::query("DELETE FROM uploads WHERE id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            if completed.is_some() {
                collect(&mut tx, &sha).await?;
            }
            tx.commit().await?;
            removed += 1;
        }
        self.sweep().await;
        Ok(removed)
    }

    /// Stores a customer's file from a stream (the public form, the status page, the intake
    /// API): checked against the organisation's `policy` (size while reading, kind from the
    /// bytes), encrypted like any upload, then a blob. Returns its SHA-256, size and kind. The
    /// blob is kept for [`UPLOAD_TTL_MILLIS`] unless an entry names it by then (the caller adds
    /// the entry through `change`, which records the reference).
    pub async fn store_stream<S, E>(
        &self,
        filename: &str,
        body: S,
        policy: &AttachmentPolicy,
    ) -> Result<(String, u64, FileType), FinishError>
    where
        S: Stream<Item = Result<axum::body::Bytes, E>>,
        E: std::fmt::Display,
    {
        // The hash and size are known only at the end: stage under a provisional row, hash
        // while sealing, then let `finish` verify and commit as for any upload.
        let filename = outpost_core::files::sanitise_filename(filename);
        let mut upload = self
            .create_upload("customer", None, &filename, 0, "")
            .await?;
        let staged = self.stage_stream(&mut upload, body, policy).await;
        let result = match staged {
            Ok(()) => self.finish(&upload, Some(policy)).await,
            Err(e) => Err(e),
        };
        if result.is_err() {
            if let Err(e) = self.discard(&upload).await {
                tracing::warn!(error = %e, "discarding a refused customer file failed");
            }
        }
        result.map(|file_type| (upload.sha256, upload.size, file_type))
    }

    async fn stage_stream<S, E>(
        &self,
        upload: &mut Upload,
        body: S,
        policy: &AttachmentPolicy,
    ) -> Result<(), FinishError>
    where
        S: Stream<Item = Result<axum::body::Bytes, E>>,
        E: std::fmt::Display,
    {
        let limit = policy.max_bytes.min(MAX_ATTACHMENT_BYTES);
        let refused = |size: u64| {
            FinishError::Refused(
                check_upload(Some(policy), &upload.filename, b"", size)
                    .err()
                    .map_or_else(|| "the file was refused".into(), |r| r.to_string()),
            )
        };
        let key = self.upload_key(upload)?;
        let mut hasher = Sha256::new();
        // A full segment is held back until the next byte (or the end) shows whether it was
        // the last one.
        let mut held: Option<Zeroizing<Vec<u8>>> = None;
        let mut segment = Zeroizing::new(Vec::with_capacity(SEGMENT_BYTES as usize));
        let mut total = 0u64;
        let mut index = 0u64;
        let mut body = std::pin::pin!(body);
        while let Some(piece) = body.next().await {
            let piece = piece.map_err(|e| anyhow::anyhow!("the file did not arrive whole: {e}"))?;
            total += piece.len() as u64;
            if total > limit {
                return Err(refused(total));
            }
            hasher.update(&piece);
            let mut rest: &[u8] = &piece;
            while !rest.is_empty() {
                if let Some(full) = held.take() {
                    let sealed = seal_segment(&key, index, false, &full)?;
                    self.store_segment(upload, index, sealed).await?;
                    index += 1;
                }
                let take = (SEGMENT_BYTES as usize - segment.len()).min(rest.len());
                segment.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                if segment.len() as u64 == SEGMENT_BYTES {
                    held = Some(std::mem::replace(
                        &mut segment,
                        Zeroizing::new(Vec::with_capacity(SEGMENT_BYTES as usize)),
                    ));
                }
            }
        }
        let last = match held {
            Some(full) => full,
            None if !segment.is_empty() => segment,
            None => return Err(refused(0)),
        };
        let sealed = seal_segment(&key, index, true, &last)?;
        self.store_segment(upload, index, sealed).await?;
        self.flush_staged(upload.id).await?;
        upload.size = total;
        upload.sha256 = hex::encode(hasher.finalize());
        sqlx::query("UPDATE uploads SET size = $1, sha256 = $2 WHERE id = $3")
            .bind(total as i64)
            .bind(&upload.sha256)
            .bind(upload.id.to_string())
            .execute(&self.0.db.pool)
            .await
            .map_err(anyhow::Error::from)?;
        Ok(())
    }
}

/// Expires stale uploads (and removes deleted blobs' files) now and every `every`.
pub fn spawn_housekeeping(store: BlobStore, every: std::time::Duration) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = store.expire(now_millis()).await {
                tracing::warn!(error = %e, "expiring stale uploads failed; tried again later");
            }
            tokio::time::sleep(every).await;
        }
    });
}

#[derive(Clone, Copy)]
enum Owner<'a> {
    Upload(Uuid),
    Blob(&'a str),
}

fn read_at(path: &Path, at: u64, len: u64) -> anyhow::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(at))?;
    let mut buffer = vec![0u8; len as usize];
    file.read_exact(&mut buffer)?;
    Ok(buffer)
}

/// The offset a staged upload file has reached; a partial trailing segment is cut off.
fn staged_offset(path: &Path, size: u64) -> anyhow::Result<u64> {
    let len = match std::fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e.into()),
    };
    let count = segment_count(size);
    let full = len / SEALED_SEGMENT;
    let rest = len % SEALED_SEGMENT;
    let last_sealed = segment_len(size, count - 1) + OVERHEAD;
    if full >= count || (full == count - 1 && rest == last_sealed) {
        return Ok(size);
    }
    if rest != 0 {
        let file = std::fs::OpenOptions::new().write(true).open(path)?;
        file.set_len(full * SEALED_SEGMENT)?;
        file.sync_data()?;
    }
    Ok(full * SEGMENT_BYTES)
}

/// Deletes the blob `sha256` in `tx` when no unredacted entry names it and no finished upload
/// waits to be attached; its file (files backend) is removed by [`BlobStore::sweep`] once the
/// transaction has committed. Returns whether it was deleted.
async fn collect(tx: &mut WriteTx, sha256: &str) -> anyhow::Result<bool> {
    let (refs, waiting): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM blob_refs WHERE sha256 = $1),
                (SELECT count(*) FROM uploads WHERE sha256 = $1 AND completed_at IS NOT NULL)",
    )
    .bind(sha256)
    .fetch_one(&mut **tx)
    .await?;
    if refs > 0 || waiting > 0 {
        return Ok(false);
    }
    let deleted = sqlx::query("DELETE FROM blobs WHERE sha256 = $1")
        .bind(sha256)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM blob_segments WHERE owner = $1")
        .bind(blob_owner(sha256))
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO blob_deletions (sha256, at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(sha256)
        .bind(now_millis())
        .execute(&mut **tx)
        .await?;
    Ok(deleted > 0)
}

/// Why a device may not attach a file it names: `None` when `user` finished an upload of
/// exactly these bytes (hash and size) for this ticket, the blob exists and `mime` is the
/// kind the bytes were found to be.
pub(crate) async fn check_push(
    tx: &mut WriteTx,
    user: Uuid,
    ticket: Uuid,
    sha256: &str,
    size: u64,
    mime: &str,
) -> anyhow::Result<Option<Rejection>> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT u.file_type FROM uploads u JOIN blobs b ON b.sha256 = u.sha256
         WHERE u.user_id = $1 AND u.ticket_id = $2 AND u.sha256 = $3 AND u.size = $4
           AND u.completed_at IS NOT NULL
         LIMIT 1",
    )
    .bind(user.to_string())
    .bind(ticket.to_string())
    .bind(sha256)
    .bind(size as i64)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(file_type) = found else {
        return Ok(Some(Rejection::FileRefused(
            "the file's bytes have not been uploaded to this ticket by you (or the upload \
             expired): upload the file, then attach it"
                .into(),
        )));
    };
    let detected: Option<FileType> = file_type.parse().ok();
    if detected.map(FileType::mime) != Some(mime) {
        return Ok(Some(Rejection::FileRefused(format!(
            "the file is {}, not {mime}",
            detected.map_or("of an unknown kind", FileType::label)
        ))));
    }
    Ok(None)
}

/// Records that attachment entry `entry` names its blob (in the change's transaction); a
/// device's finished upload of those bytes for the ticket is used up by it.
pub(crate) async fn record_reference(
    tx: &mut WriteTx,
    user: Option<Uuid>,
    entry: &Entry,
) -> anyhow::Result<()> {
    let EntryBody::Attachment {
        attachment_id,
        filename,
        mime,
        size,
        sha256,
    } = &entry.body
    else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO blob_refs (entry_id, ticket_id, attachment_id, sha256, size, filename, mime)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(entry.id.to_string())
    .bind(entry.ticket_id.to_string())
    .bind(attachment_id.to_string())
    .bind(sha256)
    .bind(*size as i64)
    .bind(filename)
    .bind(mime)
    .execute(&mut **tx)
    .await?;
    // A device's upload for this ticket, or (the server adding a customer's file) the
    // customer's upload of these bytes.
    let used: Option<String> = match user {
        Some(user) => {
            sqlx::query_scalar(
                "SELECT id FROM uploads WHERE user_id = $1 AND ticket_id = $2 AND sha256 = $3
                   AND completed_at IS NOT NULL LIMIT 1",
            )
            .bind(user.to_string())
            .bind(entry.ticket_id.to_string())
            .bind(sha256)
            .fetch_optional(&mut **tx)
            .await?
        }
        None => {
            sqlx::query_scalar(
                "SELECT id FROM uploads WHERE user_id = 'customer' AND sha256 = $1
                   AND completed_at IS NOT NULL LIMIT 1",
            )
            .bind(sha256)
            .fetch_optional(&mut **tx)
            .await?
        }
    };
    {
        if let Some(id) = used {
            sqlx::query("DELETE FROM uploads WHERE id = $1")
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// A redaction replaced entry `entry_id`: if it was an attachment, its reference goes, the blob
/// with it when nothing else uses it, and the audit chain records the file's SHA-256.
pub(crate) async fn release_reference(
    tx: &mut WriteTx,
    entry_id: Uuid,
    ticket_id: Uuid,
    department: Option<&str>,
) -> anyhow::Result<()> {
    let released: Option<(String, i64)> =
        sqlx::query_as("DELETE FROM blob_refs WHERE entry_id = $1 RETURNING sha256, size")
            .bind(entry_id.to_string())
            .fetch_optional(&mut **tx)
            .await?;
    let Some((sha256, size)) = released else {
        return Ok(());
    };
    let deleted = collect(tx, &sha256).await?;
    AuditEntry::attachment_redacted(
        ticket_id,
        department,
        entry_id,
        &sha256,
        size as u64,
        deleted,
    )
    .append(tx)
    .await?;
    Ok(())
}

/// The blob an attachment entry of `ticket_id` names, with the entry's file name: `None` when
/// there is no such entry or it was redacted.
pub(crate) async fn attachment_of(
    db: &Db,
    ticket_id: Uuid,
    attachment_id: Uuid,
) -> anyhow::Result<Option<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT sha256, filename FROM blob_refs WHERE ticket_id = $1 AND attachment_id = $2",
    )
    .bind(ticket_id.to_string())
    .bind(attachment_id.to_string())
    .fetch_optional(&db.pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_open_only_at_their_place_and_with_their_key() {
        let key = random_key().unwrap();
        let sealed = seal_segment(&key, 3, false, b"statement of account").unwrap();
        assert_eq!(sealed.len() as u64, 20 + OVERHEAD);
        assert!(!sealed.windows(9).any(|w| w == b"statement"));
        assert_eq!(
            &*open_segment(&key, 3, false, &sealed).unwrap(),
            b"statement of account"
        );
        // Moved, marked last (a truncated blob), or under another key: refused.
        assert!(open_segment(&key, 4, false, &sealed).is_err());
        assert!(open_segment(&key, 3, true, &sealed).is_err());
        assert!(open_segment(&random_key().unwrap(), 3, false, &sealed).is_err());
        let mut altered = sealed.clone();
        altered[30] ^= 1;
        assert!(open_segment(&key, 3, false, &altered).is_err());
    }

    #[test]
    fn a_staged_file_resumes_from_its_last_whole_segment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("u");
        let size = 3 * SEGMENT_BYTES + 10;
        assert_eq!(staged_offset(&path, size).unwrap(), 0);
        std::fs::write(&path, vec![0u8; (2 * SEALED_SEGMENT + 100) as usize]).unwrap();
        assert_eq!(staged_offset(&path, size).unwrap(), 2 * SEGMENT_BYTES);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            2 * SEALED_SEGMENT,
            "the partial segment is cut off"
        );
        std::fs::write(
            &path,
            vec![0u8; (3 * SEALED_SEGMENT + 10 + OVERHEAD) as usize],
        )
        .unwrap();
        assert_eq!(staged_offset(&path, size).unwrap(), size);
        // A file of exactly whole segments is complete when it has them all.
        std::fs::write(&path, vec![0u8; (2 * SEALED_SEGMENT) as usize]).unwrap();
        assert_eq!(
            staged_offset(&path, 2 * SEGMENT_BYTES).unwrap(),
            2 * SEGMENT_BYTES
        );
    }

    #[test]
    fn the_default_backend_follows_the_database() {
        let config = |url: &str| Config {
            database_url: url.into(),
            ..Config::default()
        };
        assert_eq!(
            Backend::from_config(
                &config("sqlite:///var/lib/outpost/outpost.db?mode=rwc"),
                Kind::Sqlite
            ),
            Backend::Files(PathBuf::from("/var/lib/outpost/outpost.blobs"))
        );
        assert_eq!(
            Backend::from_config(&config("postgres://u@h/db"), Kind::Postgres),
            Backend::Database
        );
        let chosen = Config {
            blob_store: Some(BlobStoreKind::Database),
            ..config("sqlite://outpost.db")
        };
        assert_eq!(
            Backend::from_config(&chosen, Kind::Sqlite),
            Backend::Database
        );
        let dir = Config {
            blob_dir: Some("/srv/blobs".into()),
            ..config("postgres://u@h/db")
        };
        assert_eq!(
            Backend::from_config(&dir, Kind::Postgres),
            Backend::Files(PathBuf::from("/srv/blobs"))
        );
    }
}
