//! The Desk service: the one transport-agnostic API the desktop shell and the `outpost` CLI both
//! call. It owns the profile's vault entries, the encrypted cache and the sync engine.
//!
//! Layout on disk, per profile (`<data dir>/<profile id>/`): `vault.json` (mode and KDF
//! parameters, no secret), `profile.json` (server, e-mail, user id, device id; no secret),
//! `cache.db` (SQLCipher). `<data dir>/last-profile` names the profile to resume. On Unix all of
//! it is private to the user: directories 0700, files 0600 (see `private_files.rs`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use outpost_core::error::ErrorCode;
use outpost_core::model::{Role, Status, Template, TicketId, User};
use outpost_core::sync::{Mutation, NewTicket};
use outpost_store::{
    Actor, ConflictRecord, Directory, LocalChange, QueueCursor, QueueFilter, QueuePage, QueueSort,
    SearchHit, Store, StoreError, SyncProblem, TicketDetail,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use crate::api::{ApiError, ServerApi};
use crate::private_files;
use crate::sync::{ChangeNotice, SyncEngine, SyncError, SyncStatus, TokenStore};
use crate::vault::{AsyncVault, Profile, RefreshToken, Unlocked, Vault, VaultError, VaultMode};

/// Every failure a user can meet, with a stable code for programs (`{code, message}`).
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("sign in first")]
    NotSignedIn,
    #[error("Outpost is locked; unlock it to continue")]
    Locked,
    #[error("enter the code from your authenticator app")]
    TotpRequired,
    #[error("the e-mail or password is wrong")]
    BadCredentials,
    #[error("{0}")]
    Vault(#[from] VaultError),
    #[error("{0}")]
    Server(ApiError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Sync(#[from] SyncError),
    #[error("{0} local change(s) have not reached the server; sign out anyway to discard them")]
    UnsentChanges(u64),
    #[error("no ticket {0} in the local cache")]
    UnknownTicket(String),
    #[error("cannot use the data directory {path}: {detail}")]
    Io { path: PathBuf, detail: String },
    #[error("{0}")]
    Forbidden(String),
    /// A request the caller made wrong (what to correct is in the text).
    #[error("{0}")]
    Invalid(String),
    /// A file that may not be attached (its kind, its name, its size), said in a sentence.
    #[error("{0}")]
    FileRefused(String),
}

impl DeskError {
    pub fn code(&self) -> ErrorCode {
        match self {
            DeskError::NotSignedIn => ErrorCode::NotSignedIn,
            DeskError::Locked => ErrorCode::Locked,
            DeskError::TotpRequired => ErrorCode::TotpRequired,
            DeskError::BadCredentials => ErrorCode::BadCredentials,
            DeskError::Vault(e) if e.offers_passphrase() => ErrorCode::NoKeychain,
            DeskError::Vault(VaultError::WrongPassphrase) => ErrorCode::WrongPassphrase,
            DeskError::Vault(_) => ErrorCode::Vault,
            DeskError::Server(ApiError::Offline(_))
            | DeskError::Sync(SyncError::Api(ApiError::Offline(_))) => ErrorCode::Offline,
            // The server's own code reaches the UI (a supervisor-only page, a rate limit), so
            // the user reads its translated text; a code this build does not know stays generic.
            DeskError::Server(ApiError::Server { code, .. }) if *code != ErrorCode::Unknown => {
                *code
            }
            DeskError::Server(_) => ErrorCode::Server,
            DeskError::Store(e) => e.code(),
            DeskError::Sync(SyncError::SignInAgain(_)) => ErrorCode::SignInAgain,
            // The app answers this one with the enrolment screen, whatever call met it.
            DeskError::Sync(e) if e.is_totp_setup_required() => ErrorCode::TotpSetupRequired,
            DeskError::Sync(_) => ErrorCode::Sync,
            DeskError::UnsentChanges(_) => ErrorCode::UnsentChanges,
            DeskError::UnknownTicket(_) => ErrorCode::UnknownTicket,
            DeskError::Io { .. } => ErrorCode::Io,
            DeskError::Forbidden(_) => ErrorCode::Forbidden,
            DeskError::Invalid(_) => ErrorCode::Invalid,
            DeskError::FileRefused(_) => ErrorCode::FileRefused,
        }
    }
}

impl From<ApiError> for DeskError {
    fn from(e: ApiError) -> DeskError {
        match e {
            ApiError::Server {
                code: ErrorCode::TotpRequired,
                ..
            } => DeskError::TotpRequired,
            ApiError::Server {
                code: ErrorCode::BadCredentials,
                ..
            } => DeskError::BadCredentials,
            other => DeskError::Server(other),
        }
    }
}

/// A direct call's failure (not the sync loop's): the server's own code reaches the UI
/// (`bad_credentials` for a wrong password, `offline` without a network).
pub(crate) fn online_error(e: SyncError) -> DeskError {
    match e {
        SyncError::Api(api) => DeskError::from(api),
        other => DeskError::Sync(other),
    }
}

/// `{code, message}`, how errors cross into the UI.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErrorDto {
    pub code: ErrorCode,
    pub message: String,
}

impl From<&DeskError> for ErrorDto {
    fn from(e: &DeskError) -> ErrorDto {
        ErrorDto {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

pub type DeskResult<T> = Result<T, DeskError>;

/// How the cache key is unlocked.
#[derive(Clone)]
pub enum Unlock {
    /// The OS keychain (the default).
    Keychain,
    /// A passphrase (no keychain on this machine, or the user's choice).
    Passphrase(String),
}

impl std::fmt::Debug for Unlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unlock::Keychain => "Keychain",
            Unlock::Passphrase(_) => "Passphrase(<redacted>)",
        })
    }
}

/// One person the assignee picker offers, and whether the signed-in user may hand the ticket
/// to them ([`outpost_core::apply::may_assign`], the rule the server enforces).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AssigneeOption {
    pub user: outpost_core::model::UserId,
    pub allowed: bool,
}

/// Who is signed in, where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Me {
    pub server: String,
    pub user: User,
    pub device_id: Uuid,
}

/// The clear-text profile description (no secret).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ProfileFile {
    server: String,
    email: String,
    user: User,
    device_id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LastProfile {
    server: String,
    email: String,
}

struct VaultTokens {
    vault: Vault,
    unlocked: Unlocked,
}

impl TokenStore for VaultTokens {
    fn load(&self) -> Result<Option<String>, String> {
        self.vault
            .refresh_token(&self.unlocked)
            .map(|t| t.map(|t| t.expose().to_owned()))
            .map_err(|e| e.to_string())
    }

    fn save(&self, refresh_token: &str) -> Result<(), String> {
        self.vault
            .store_refresh_token(&self.unlocked, &RefreshToken::new(refresh_token))
            .map_err(|e| e.to_string())
    }
}

struct Open {
    me: Me,
    profile: Profile,
    dir: PathBuf,
    unlocked: Unlocked,
    store: Arc<Mutex<Store>>,
    engine: SyncEngine,
    actor: Actor,
    stop: watch::Sender<bool>,
    background: Option<tokio::task::JoinHandle<()>>,
}

/// Settings the shell or CLI passes in.
#[derive(Debug, Clone)]
pub struct DeskConfig {
    /// Where profiles live (`~/.local/share/outpost` by default).
    pub data_dir: PathBuf,
    /// Extra CA certificates (PEM) for a team server with its own authority.
    pub ca_pem: Option<Vec<u8>>,
}

impl DeskConfig {
    /// `$OUTPOST_DATA_DIR`, else the platform data directory, else `./.outpost`.
    pub fn default_data_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("OUTPOST_DATA_DIR") {
            return PathBuf::from(dir);
        }
        if let Some(dir) = std::env::var_os("XDG_DATA_HOME") {
            return PathBuf::from(dir).join("outpost");
        }
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(".local/share/outpost");
        }
        PathBuf::from(".outpost")
    }
}

pub struct Desk {
    vault: AsyncVault,
    config: DeskConfig,
    open: tokio::sync::Mutex<Option<Open>>,
    /// When this session last recorded a view of each sensitive ticket (views are recorded at
    /// most once per [`VIEW_RECORD_INTERVAL`] per ticket, so refreshes do not flood the chain).
    viewed: Mutex<std::collections::HashMap<TicketId, std::time::Instant>>,
}

/// A sensitive ticket opened again within this interval is not recorded again.
pub const VIEW_RECORD_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DeskError + '_ {
    move |e| DeskError::Io {
        path: path.to_owned(),
        detail: e.to_string(),
    }
}

/// A fixed time for every Desk in this process, set only by tests that record the Desk's
/// answers for the UI's fake backend (`tests/ui_fixtures.rs`): SLA clocks, entry times and
/// report periods then do not depend on when the test runs. The shell and the CLI never set it.
static PINNED_NOW: Mutex<Option<DateTime<Utc>>> = Mutex::new(None);

#[doc(hidden)]
pub fn pin_clock_for_tests(at: Option<DateTime<Utc>>) {
    *PINNED_NOW
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
}

pub(crate) fn now() -> DateTime<Utc> {
    if let Some(at) = *PINNED_NOW
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        return at;
    }
    DateTime::<Utc>::from(std::time::SystemTime::now())
}

/// Writes `value` as JSON next to `path` and renames it over, so a crash leaves old or new;
/// the file is private to the user.
fn write_json(path: &Path, value: &impl Serialize) -> DeskResult<()> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| DeskError::Io {
        path: path.to_owned(),
        detail: e.to_string(),
    })?;
    private_files::write_atomic(path, &text).map_err(DeskError::from)
}

impl From<private_files::Failure> for DeskError {
    fn from(failure: private_files::Failure) -> DeskError {
        DeskError::Io {
            path: failure.path,
            detail: format!("cannot {} it: {}", failure.action, failure.source),
        }
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> DeskResult<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| DeskError::Io {
                path: path.to_owned(),
                detail: format!("unreadable: {e}"),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

impl Desk {
    pub fn new(vault: Vault, config: DeskConfig) -> Desk {
        Desk {
            vault: AsyncVault::new(vault),
            config,
            open: tokio::sync::Mutex::new(None),
            viewed: Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Where profiles and settings live.
    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// Whether the OS keychain answers (for the sign-in screen; never prompts).
    pub async fn keychain_state(&self) -> crate::vault::KeychainState {
        self.vault.probe().await
    }

    fn profile_dir(&self, profile: &Profile) -> PathBuf {
        self.config.data_dir.join(profile.id().as_str())
    }

    /// Signs in with the server (network needed), unlocks or creates the local vault and
    /// opens the cache. Does not start background sync (see [`Desk::start_sync`]).
    pub async fn sign_in(
        &self,
        server: &str,
        email: &str,
        password: &str,
        totp: Option<&str>,
        unlock: Unlock,
    ) -> DeskResult<Me> {
        let api = ServerApi::new(server, self.config.ca_pem.as_deref())?;
        let session = api.login(email, password, totp).await?;
        let profile = Profile::new(server, email)?;
        let dir = self.profile_dir(&profile);
        private_files::create_dir(&dir)?;
        let unlocked = self.unlock_vault(&profile, &dir, unlock, true).await?;
        self.vault
            .store_refresh_token(&unlocked, &RefreshToken::new(session.refresh_token.clone()))
            .await?;
        let previous: Option<ProfileFile> = read_json(&dir.join("profile.json"))?;
        let device_id = previous
            .filter(|p| p.user.id == session.user.id)
            .map_or_else(Uuid::now_v7, |p| p.device_id);
        let file = ProfileFile {
            server: profile.server_url().to_owned(),
            email: email.to_owned(),
            user: session.user.clone(),
            device_id,
        };
        write_json(&dir.join("profile.json"), &file)?;
        write_json(
            &self.config.data_dir.join("last-profile"),
            &LastProfile {
                server: server.to_owned(),
                email: email.to_owned(),
            },
        )?;
        self.open_profile(
            api,
            profile,
            dir,
            unlocked,
            file,
            Some(session.access_token),
        )
        .await
    }

    /// The profile `resume` would open, if any (server and e-mail).
    pub fn last_profile(&self) -> DeskResult<Option<(String, String)>> {
        Ok(
            read_json::<LastProfile>(&self.config.data_dir.join("last-profile"))?
                .map(|p| (p.server, p.email)),
        )
    }

    /// How the last profile unlocks (keychain or passphrase), if there is one.
    pub async fn last_profile_mode(&self) -> DeskResult<Option<VaultMode>> {
        let Some((server, email)) = self.last_profile()? else {
            return Ok(None);
        };
        let profile = Profile::new(&server, &email)?;
        let dir = self.profile_dir(&profile);
        Ok(self.vault.mode(&profile, &dir).await?)
    }

    /// Opens the last profile without the network: unlocks the key and opens the cache; the
    /// sync engine signs in with the saved refresh token when the server is reachable.
    pub async fn resume(&self, unlock: Unlock) -> DeskResult<Me> {
        let (server, email) = self.last_profile()?.ok_or(DeskError::NotSignedIn)?;
        let profile = Profile::new(&server, &email)?;
        let dir = self.profile_dir(&profile);
        let file: ProfileFile =
            read_json(&dir.join("profile.json"))?.ok_or(DeskError::NotSignedIn)?;
        let unlocked = self.unlock_vault(&profile, &dir, unlock, false).await?;
        let api = ServerApi::new(&server, self.config.ca_pem.as_deref())?;
        self.open_profile(api, profile, dir, unlocked, file, None)
            .await
    }

    async fn unlock_vault(
        &self,
        profile: &Profile,
        dir: &Path,
        unlock: Unlock,
        may_create: bool,
    ) -> DeskResult<Unlocked> {
        let mode = self.vault.mode(profile, dir).await?;
        Ok(match (unlock, mode) {
            (Unlock::Passphrase(p), Some(VaultMode::Passphrase)) => {
                self.vault.unlock_with_passphrase(profile, dir, &p).await?
            }
            (Unlock::Passphrase(p), None) if may_create => {
                self.vault.create_with_passphrase(profile, dir, &p).await?
            }
            (Unlock::Keychain, Some(VaultMode::Passphrase)) => {
                return Err(VaultError::PassphraseRequired.into())
            }
            (Unlock::Keychain, None) if !may_create => return Err(DeskError::NotSignedIn),
            (Unlock::Passphrase(_), None) => return Err(DeskError::NotSignedIn),
            (_, _) => self.vault.unlock_with_keychain(profile, dir).await?,
        })
    }

    async fn open_profile(
        &self,
        api: ServerApi,
        profile: Profile,
        dir: PathBuf,
        unlocked: Unlocked,
        file: ProfileFile,
        access: Option<String>,
    ) -> DeskResult<Me> {
        self.close().await;
        self.tighten(&dir)?;
        let path = dir.join("cache.db");
        let key = unlocked.db_key().clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&path, &key))
            .await
            .map_err(|e| DeskError::Io {
                path: dir.clone(),
                detail: e.to_string(),
            })??;
        let store = Arc::new(Mutex::new(store));
        let tokens = Arc::new(VaultTokens {
            vault: self.vault.blocking().clone(),
            unlocked: unlocked.clone(),
        });
        let engine = SyncEngine::new(api, store.clone(), file.device_id, tokens, access);
        let _ = engine.refresh_counts().await;
        let me = Me {
            server: file.server.clone(),
            user: file.user.clone(),
            device_id: file.device_id,
        };
        let actor = Actor {
            user_id: file.user.id,
            device_id: file.device_id,
        };
        *self.open.lock().await = Some(Open {
            me: me.clone(),
            profile,
            dir,
            unlocked,
            store,
            engine,
            actor,
            stop: watch::channel(false).0,
            background: None,
        });
        Ok(me)
    }

    /// Takes group and other access off what an older Outpost wrote readable by others: the data
    /// directory and the profile's, and the files in them the Desk writes (the vault tightens
    /// its own files when it unlocks, the store the cache's when it opens).
    fn tighten(&self, dir: &Path) -> DeskResult<()> {
        let data_dir = &self.config.data_dir;
        for path in [
            data_dir.to_owned(),
            data_dir.join("last-profile"),
            data_dir.join(crate::app::Settings::FILE),
            dir.to_owned(),
            dir.join("profile.json"),
            dir.join(crate::supervisor::HEAD_FILE),
        ] {
            private_files::tighten(&path)?;
        }
        Ok(())
    }

    /// Starts background sync (pokes, periodic pulls, backoff). Idempotent.
    pub async fn start_sync(&self) -> DeskResult<()> {
        let mut open = self.open.lock().await;
        let open = open.as_mut().ok_or(DeskError::Locked)?;
        if open.background.is_none() {
            let engine = open.engine.clone();
            let stop = open.stop.subscribe();
            open.background = Some(tokio::spawn(async move { engine.run(stop).await }));
        }
        Ok(())
    }

    async fn close(&self) {
        if let Some(mut open) = self.open.lock().await.take() {
            let _ = open.stop.send(true);
            if let Some(task) = open.background.take() {
                task.abort();
                let _ = task.await;
            }
            // Dropping the last store handle closes the cache; dropping `unlocked` wipes the key.
            drop(open);
        }
    }

    /// Drops the key and closes the cache; data and outbox stay. Unlock with [`Desk::resume`].
    pub async fn lock(&self) {
        self.close().await;
    }

    /// Signs out: ends the server session (when reachable), deletes the keychain entries and
    /// the cache. Refuses while changes are unsent unless `discard_unsent`.
    pub async fn sign_out(&self, discard_unsent: bool) -> DeskResult<()> {
        let (profile, dir, unlocked, unsent) = {
            let open = self.open.lock().await;
            let open = open.as_ref().ok_or(DeskError::Locked)?;
            let unsent = self.with_store_of(open, |s| s.outbox_len()).await?;
            (
                open.profile.clone(),
                open.dir.clone(),
                open.unlocked.clone(),
                unsent,
            )
        };
        if unsent > 0 && !discard_unsent {
            return Err(DeskError::UnsentChanges(unsent));
        }
        if let Ok(Some(token)) = self.vault.refresh_token(&unlocked).await {
            let api = ServerApi::new(profile.server_url(), self.config.ca_pem.as_deref())?;
            // Best effort: offline sign-out still forgets everything locally.
            let _ = api.logout(token.expose()).await;
        }
        self.close().await;
        drop(unlocked);
        self.vault.forget(&profile, &dir).await?;
        for name in [
            "cache.db",
            "cache.db-wal",
            "cache.db-shm",
            "cache.db-journal",
            "profile.json",
            crate::supervisor::HEAD_FILE,
        ] {
            match std::fs::remove_file(dir.join(name)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&dir)(e)),
            }
        }
        let _ = std::fs::remove_dir(&dir);
        let _ = std::fs::remove_file(self.config.data_dir.join("last-profile"));
        Ok(())
    }

    async fn with_store_of<T: Send + 'static>(
        &self,
        open: &Open,
        work: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> DeskResult<T> {
        let store = open.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = store.lock().map_err(|_| DeskError::Io {
                path: PathBuf::new(),
                detail: "the cache lock was poisoned".into(),
            })?;
            Ok(work(&mut guard)?)
        })
        .await
        .map_err(|e| DeskError::Io {
            path: PathBuf::new(),
            detail: e.to_string(),
        })?
    }

    pub(crate) async fn with_store<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store, &Actor) -> Result<T, StoreError> + Send + 'static,
    ) -> DeskResult<T> {
        let open = self.open.lock().await;
        let open = open.as_ref().ok_or(DeskError::Locked)?;
        let actor = open.actor;
        self.with_store_of(open, move |s| work(s, &actor)).await
    }

    /// The open profile's directory.
    pub(crate) async fn open_dir(&self) -> DeskResult<PathBuf> {
        let open = self.open.lock().await;
        Ok(open.as_ref().ok_or(DeskError::Locked)?.dir.clone())
    }

    pub(crate) async fn engine(&self) -> DeskResult<SyncEngine> {
        let open = self.open.lock().await;
        Ok(open.as_ref().ok_or(DeskError::Locked)?.engine.clone())
    }

    pub async fn me(&self) -> DeskResult<Me> {
        let open = self.open.lock().await;
        Ok(open.as_ref().ok_or(DeskError::Locked)?.me.clone())
    }

    /// A page of the queue (keyset cursor; `None` for the first page).
    pub async fn queue(
        &self,
        filter: QueueFilter,
        sort: QueueSort,
        after: Option<QueueCursor>,
        limit: u32,
    ) -> DeskResult<QueuePage> {
        self.with_store(move |s, _| s.queue(&filter, sort, after.as_ref(), limit, now()))
            .await
    }

    /// How many tickets a filter selects (the queue's length before it is paged in).
    pub async fn queue_count(&self, filter: QueueFilter) -> DeskResult<u64> {
        self.with_store(move |s, _| s.count(&filter, now())).await
    }

    /// Users and departments for the assignee and department controls.
    pub async fn directory(&self) -> DeskResult<Directory> {
        self.with_store(|s, _| s.directory()).await
    }

    /// Every user in the directory with whether the signed-in user may hand `ticket_id` to
    /// them now (the ticket as this cache has it, queued changes included).
    pub async fn assignees(&self, ticket_id: TicketId) -> DeskResult<Vec<AssigneeOption>> {
        let role = self.me().await?.user.role;
        self.with_store(move |s, _| {
            let ticket = s.ticket(ticket_id, now())?.ticket;
            let department = ticket.department.as_deref();
            Ok(s.directory()?
                .users
                .iter()
                .map(|u| AssigneeOption {
                    user: u.id,
                    allowed: outpost_core::apply::may_assign(
                        Some(role),
                        u,
                        department,
                        ticket.assignee,
                    ),
                })
                .collect())
        })
        .await
    }

    /// Reply templates in every language the server sent.
    pub async fn templates(&self) -> DeskResult<Vec<Template>> {
        self.with_store(|s, _| s.templates()).await
    }

    /// The status machine: every status with the statuses an agent may move it to.
    pub fn status_machine() -> Vec<(Status, Vec<Status>)> {
        Status::ALL
            .iter()
            .map(|s| (*s, outpost_core::status::allowed_targets(*s).to_vec()))
            .collect()
    }

    /// Resolves `OP-12` or a ticket id.
    pub async fn resolve(&self, key_or_id: &str) -> DeskResult<TicketId> {
        if let Ok(id) = key_or_id.parse::<Uuid>() {
            return Ok(id);
        }
        let key = key_or_id.trim().to_uppercase();
        let found = {
            let key = key.clone();
            self.with_store(move |s, _| s.ticket_id_by_key(&key))
                .await?
        };
        found.ok_or(DeskError::UnknownTicket(key))
    }

    /// A ticket with its timeline and clocks. Opening a sensitive ticket (a risk level, or an
    /// account-domain category) records an access event: a `ticket.view` mutation through the
    /// outbox, so it reaches the server's audit chain even if the view happened offline.
    pub async fn ticket(&self, id: TicketId) -> DeskResult<TicketDetail> {
        let mut detail = self.with_store(move |s, _| s.ticket(id, now())).await?;
        if detail
            .entries
            .iter()
            .any(|e| matches!(e.body, outpost_core::model::EntryBody::Attachment { .. }))
        {
            // Small files come with the ticket (in the background; offline they wait).
            self.prefetch_attachments(id).await?;
        }
        if detail.ticket.is_sensitive() && self.should_record_view(id) {
            self.with_store(move |s, actor| {
                s.apply_local(actor, Mutation::RecordView { ticket_id: id }, now())
            })
            .await?;
            detail.unsent += 1;
            let engine = self.engine().await?;
            let _ = engine.refresh_counts().await;
            engine.wake();
        }
        Ok(detail)
    }

    /// Ticket keys for ids (the audit trail names tickets by id): a lookup in the cache, not a
    /// view of the tickets, so nothing is recorded. Unknown ids are left out.
    pub async fn ticket_keys(&self, ids: Vec<TicketId>) -> DeskResult<Vec<(TicketId, String)>> {
        self.with_store(move |s, _| s.ticket_keys(&ids)).await
    }

    /// The same read without an access record: for tools that compare caches (the whole-system
    /// test harness), never for showing a ticket to a person. No shell command exposes it.
    pub async fn inspect_ticket(&self, id: TicketId) -> DeskResult<TicketDetail> {
        self.with_store(move |s, _| s.ticket(id, now())).await
    }

    fn should_record_view(&self, id: TicketId) -> bool {
        let mut viewed = self
            .viewed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        match viewed.get(&id) {
            Some(at) if now.duration_since(*at) < VIEW_RECORD_INTERVAL => false,
            _ => {
                viewed.insert(id, now);
                true
            }
        }
    }

    pub async fn search(&self, query: String, limit: u32) -> DeskResult<Vec<SearchHit>> {
        self.with_store(move |s, _| s.search(&query, limit)).await
    }

    /// Applies a change locally (optimistic row, outbox, audit) and wakes the sync engine.
    pub async fn change(&self, mutation: Mutation) -> DeskResult<LocalChange> {
        let change = self
            .with_store(move |s, actor| s.apply_local(actor, mutation, now()))
            .await?;
        let engine = self.engine().await?;
        let _ = engine.refresh_counts().await;
        engine.notify_local(vec![change.ticket.id]);
        engine.wake();
        Ok(change)
    }

    pub async fn create_ticket(&self, ticket: NewTicket) -> DeskResult<LocalChange> {
        self.change(Mutation::CreateTicket(ticket)).await
    }

    pub async fn reply(&self, ticket_id: TicketId, text: String) -> DeskResult<LocalChange> {
        self.change(Mutation::AddReply {
            entry_id: Uuid::now_v7(),
            ticket_id,
            text,
        })
        .await
    }

    pub async fn note(&self, ticket_id: TicketId, text: String) -> DeskResult<LocalChange> {
        self.change(Mutation::AddNote {
            entry_id: Uuid::now_v7(),
            ticket_id,
            text,
        })
        .await
    }

    pub async fn conflicts(&self) -> DeskResult<Vec<ConflictRecord>> {
        self.with_store(|s, _| s.conflicts()).await
    }

    pub async fn sync_problems(&self) -> DeskResult<Vec<SyncProblem>> {
        self.with_store(|s, _| s.sync_problems()).await
    }

    pub async fn dismiss(&self, record: i64) -> DeskResult<()> {
        self.with_store(move |s, _| s.dismiss(record)).await?;
        let _ = self.engine().await?.refresh_counts().await;
        Ok(())
    }

    /// Makes the change again as a new local change (it is pushed like any other).
    pub async fn reapply(&self, record: i64) -> DeskResult<LocalChange> {
        let change = self
            .with_store(move |s, actor| s.reapply(record, actor, now()))
            .await?;
        let engine = self.engine().await?;
        let _ = engine.refresh_counts().await;
        engine.notify_local(vec![change.ticket.id]);
        engine.wake();
        Ok(change)
    }

    pub async fn sync_status(&self) -> DeskResult<SyncStatus> {
        Ok(self.engine().await?.status().borrow().clone())
    }

    pub async fn watch_status(&self) -> DeskResult<watch::Receiver<SyncStatus>> {
        Ok(self.engine().await?.status())
    }

    pub async fn subscribe(&self) -> DeskResult<broadcast::Receiver<ChangeNotice>> {
        Ok(self.engine().await?.changes())
    }

    /// Pushes and pulls now, returning the outcome (the CLI's `outpost sync`).
    pub async fn sync_now(&self) -> DeskResult<SyncStatus> {
        let engine = self.engine().await?;
        engine.sync_now().await?;
        let status = engine.status().borrow().clone();
        Ok(status)
    }

    /// Starts enrolling an authenticator for the signed-in user (anyone may; the organisation
    /// may require it): the password, and a current code when one is already enabled (to
    /// replace it). The secret is handed to the user once and never kept on this device.
    pub async fn totp_setup(
        &self,
        password: String,
        code: Option<String>,
    ) -> DeskResult<crate::api::TotpSecret> {
        let engine = self.engine().await?;
        engine
            .call(|api, token| {
                let (password, code) = (password.clone(), code.clone());
                async move { api.totp_setup(&token, &password, code.as_deref()).await }
            })
            .await
            .map_err(online_error)
    }

    /// Enables the authenticator started by [`Desk::totp_setup`] with a code from it. A
    /// session limited to enrolling (the organisation requires a second factor) becomes a
    /// full one on the server, so syncing resumes at once without signing in again.
    pub async fn totp_enable(&self, code: String) -> DeskResult<()> {
        let engine = self.engine().await?;
        engine
            .call(|api, token| {
                let code = code.clone();
                async move { api.totp_enable(&token, code.trim()).await }
            })
            .await
            .map_err(online_error)?;
        engine.wake();
        Ok(())
    }

    /// Whether the signed-in user may use supervisor features.
    pub async fn is_supervisor(&self) -> DeskResult<bool> {
        Ok(matches!(
            self.me().await?.user.role,
            Role::Supervisor | Role::Admin
        ))
    }
}

#[cfg(test)]
mod error_tests {
    use super::*;

    fn server(code: ErrorCode) -> ApiError {
        ApiError::Server {
            status: 401,
            code,
            message: "refused".into(),
        }
    }

    #[test]
    fn sign_in_refusals_become_their_own_errors_by_code() {
        assert!(matches!(
            DeskError::from(server(ErrorCode::TotpRequired)),
            DeskError::TotpRequired
        ));
        assert!(matches!(
            DeskError::from(server(ErrorCode::BadCredentials)),
            DeskError::BadCredentials
        ));
        let other = DeskError::from(server(ErrorCode::Unknown));
        assert!(matches!(other, DeskError::Server(_)));
        assert_eq!(other.code(), ErrorCode::Server);
        assert_eq!(
            DeskError::from(ApiError::Offline("refused".into())).code(),
            ErrorCode::Offline
        );
    }

    #[test]
    fn the_servers_own_codes_reach_the_ui() {
        for code in [
            ErrorCode::Forbidden,
            ErrorCode::RateLimited,
            ErrorCode::NotFound,
            ErrorCode::Internal,
        ] {
            assert_eq!(DeskError::from(server(code)).code(), code);
        }
        let protocol = DeskError::from(ApiError::Protocol("cut off".into()));
        assert_eq!(protocol.code(), ErrorCode::Server);
    }

    #[test]
    fn errors_cross_to_the_ui_with_wire_codes() {
        let dto = ErrorDto::from(&DeskError::UnsentChanges(2));
        let json = serde_json::to_value(&dto).unwrap();
        assert_eq!(json["code"], "unsent_changes");
        assert_eq!(
            json["message"],
            "2 local change(s) have not reached the server; sign out anyway to discard them"
        );
        let refused = DeskError::Store(StoreError::Rejected(
            outpost_core::apply::Rejection::TicketExists,
        ));
        assert_eq!(ErrorDto::from(&refused).code, ErrorCode::Rejected);
    }
}

#[cfg(all(test, unix))]
mod private_files_tests {
    use std::collections::BTreeMap;
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::app::Settings;
    use crate::vault::{KdfParams, SEALED_TOKEN_FILE};

    const SERVER: &str = "https://desk.example.com";
    const EMAIL: &str = "alice@example.com";
    const PASSPHRASE: &str = "correct horse battery staple";

    fn vault() -> Vault {
        Vault::new(keyring::mock::default_credential_builder(), "outpost-tests")
            .with_kdf_params(KdfParams::new(64, 1, 1).unwrap())
    }

    /// Permission bits of everything under `root` (itself included), by relative path.
    fn modes(root: &Path) -> BTreeMap<String, u32> {
        let mut found = BTreeMap::new();
        let mut pending = vec![root.to_owned()];
        while let Some(path) = pending.pop() {
            let metadata = std::fs::metadata(&path).unwrap();
            if metadata.is_dir() {
                for entry in std::fs::read_dir(&path).unwrap() {
                    pending.push(entry.unwrap().path());
                }
            }
            let name = path.strip_prefix(root).unwrap().display().to_string();
            found.insert(name, metadata.permissions().mode() & 0o777);
        }
        found
    }

    fn open_to_others(path: &Path) {
        let mode = if path.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A profile as an older Outpost left it: every file 0644, every directory 0755, a WAL
    /// beside the cache (the client was killed), the audit head and the settings written.
    fn old_profile(data_dir: &Path) -> PathBuf {
        let profile = Profile::new(SERVER, EMAIL).unwrap();
        let dir = data_dir.join(profile.id().as_str());
        let vault = vault();
        let unlocked = vault
            .create_with_passphrase(&profile, &dir, PASSPHRASE)
            .unwrap();
        vault
            .store_refresh_token(&unlocked, &RefreshToken::new("rt-1"))
            .unwrap();
        let user = User {
            id: Uuid::from_u128(1),
            name: "Alice".into(),
            email: EMAIL.into(),
            role: Role::Agent,
            departments: vec!["support".into()],
            skills: Vec::new(),
            active: true,
            away: false,
            shifts: None,
        };
        let file = ProfileFile {
            server: SERVER.into(),
            email: EMAIL.into(),
            user,
            device_id: Uuid::from_u128(2),
        };
        std::fs::write(dir.join("profile.json"), serde_json::to_vec(&file).unwrap()).unwrap();
        let last = LastProfile {
            server: SERVER.into(),
            email: EMAIL.into(),
        };
        std::fs::write(
            data_dir.join("last-profile"),
            serde_json::to_vec(&last).unwrap(),
        )
        .unwrap();
        std::fs::write(data_dir.join(Settings::FILE), b"{}").unwrap();
        std::fs::write(dir.join(crate::supervisor::HEAD_FILE), b"{}").unwrap();
        let store = Store::open(&dir.join("cache.db"), unlocked.db_key()).unwrap();
        std::mem::forget(store);
        for path in modes(data_dir).keys() {
            open_to_others(&data_dir.join(path));
        }
        dir
    }

    #[tokio::test]
    async fn a_profile_an_older_outpost_left_readable_is_private_after_resume() {
        let root = tempfile::tempdir().unwrap();
        let data_dir = root.path().join("outpost");
        let dir = old_profile(&data_dir);
        let before = modes(&data_dir);
        let profile_dir = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut expected = vec![
            String::new(),
            "last-profile".into(),
            "settings.json".into(),
            profile_dir.clone(),
        ];
        for name in [
            "cache.db",
            "cache.db-wal",
            "cache.db-shm",
            SEALED_TOKEN_FILE,
            crate::vault::HEADER_FILE,
            "profile.json",
            crate::supervisor::HEAD_FILE,
        ] {
            expected.push(format!("{profile_dir}/{name}"));
        }
        expected.sort();
        assert_eq!(before.keys().cloned().collect::<Vec<_>>(), expected);
        assert!(before.values().all(|mode| *mode & 0o044 != 0), "{before:?}");

        let desk = Desk::new(
            vault(),
            DeskConfig {
                data_dir: data_dir.clone(),
                ca_pem: None,
            },
        );
        let me = desk.resume(Unlock::Passphrase(PASSPHRASE.into())).await;
        assert_eq!(me.unwrap().user.email, EMAIL);

        let after = modes(&data_dir);
        assert_eq!(after.len(), before.len(), "{after:?}");
        for (path, mode) in &after {
            let wanted = if data_dir.join(path).is_dir() {
                0o700
            } else {
                0o600
            };
            assert_eq!(*mode, wanted, "{path:?} is {mode:o}");
        }
    }

    #[test]
    fn settings_are_saved_private_in_a_private_data_directory() {
        let root = tempfile::tempdir().unwrap();
        let data_dir = root.path().join("data").join("outpost");
        Settings::default().save(&data_dir).unwrap();
        assert_eq!(
            modes(&root.path().join("data")),
            BTreeMap::from([
                (String::new(), 0o700),
                ("outpost".into(), 0o700),
                ("outpost/settings.json".into(), 0o600),
            ])
        );
    }
}
