//! The sync engine: pushes the outbox in order and in batches, pulls with the cursor (the store
//! rebases queued mutations over each page), listens to server pokes, falls back to periodic
//! pulls, and backs off with jitter when the server is unreachable. The connectivity it reports
//! is what actually happened on the last attempt, never a guess.
//!
//! Invariants: an outbox entry leaves only when the server confirms it (push answer or a pull's
//! `last_mutation_id`); every store write happens in one store transaction, so a killed process
//! resumes from the last committed page or answer; the access token lives only in memory.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use outpost_core::error::ErrorCode;
use outpost_core::model::TicketId;
use outpost_core::sync::{PullResponse, PushRequest, DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT};
use outpost_store::Store;
use serde::Serialize;
use tokio::sync::{broadcast, watch, Notify};
use uuid::Uuid;

use crate::api::{ApiError, ServerApi};
use crate::attachments::{upload_before_push, AttachmentProgress, UploadStop};

/// What the agent sees in the status bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Connectivity {
    /// Not tried yet (just unlocked).
    Starting,
    /// Talking to the server right now.
    Syncing,
    /// The last sync succeeded.
    Online { last_sync: DateTime<Utc> },
    /// The server could not be reached; retrying at `retry_at`.
    Offline {
        reason: String,
        retry_at: DateTime<Utc>,
    },
    /// The server refused us for a reason retrying will not fix (signed out, forbidden, a
    /// protocol error); `sign_in_again` when a new sign-in is the fix.
    Error {
        reason: String,
        sign_in_again: bool,
        /// The organisation requires two-step sign-in and this account has no authenticator
        /// yet: the session answers nothing but enrolling one (the app shows that screen).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        #[cfg_attr(feature = "ts", ts(as = "Option<bool>", optional))]
        totp_setup_required: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncStatus {
    pub connectivity: Connectivity,
    /// Local changes not yet confirmed by the server.
    pub unsent: u64,
    pub conflicts: u64,
    pub problems: u64,
    /// An initial sync is still loading (search and some queue filters are partial).
    pub bootstrapping: bool,
}

/// What changed in the cache; the UI refreshes what it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChangeNotice {
    pub tickets: Vec<TicketId>,
    pub revoked: Vec<TicketId>,
    /// The whole cache was replaced (initial sync, re-bootstrap).
    pub everything: bool,
    /// Users, departments, templates or the organisation's settings changed: names, pickers
    /// and settings screens read them again. Left out when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reference: bool,
}

/// Persists rotated refresh tokens (the vault, in the desk).
pub trait TokenStore: Send + Sync + 'static {
    fn load(&self) -> Result<Option<String>, String>;
    fn save(&self, refresh_token: &str) -> Result<(), String>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("the local cache failed: {0}")]
    Store(String),
    #[error("sign in again: {0}")]
    SignInAgain(String),
    #[error("the server does not accept the queued change {0} in order; it stays queued")]
    Stuck(u64),
}

impl SyncError {
    pub(crate) fn is_transient(&self) -> bool {
        matches!(self, SyncError::Api(e) if e.is_transient())
    }

    /// The session may only enrol a second factor (the organisation requires one).
    pub fn is_totp_setup_required(&self) -> bool {
        matches!(
            self,
            SyncError::Api(ApiError::Server {
                code: ErrorCode::TotpSetupRequired,
                ..
            })
        )
    }
}

fn store_error(e: impl std::fmt::Display) -> SyncError {
    SyncError::Store(e.to_string())
}

/// Mutations per push request.
const PUSH_BATCH: u32 = outpost_core::sync::MAX_PUSH_BATCH as u32;
/// Pages applied per store transaction while catching up (fewer commits, same atomicity), up to
/// [`CHANGES_PER_APPLY`] changes.
const PAGES_PER_APPLY: usize = 8;
/// Most changes per store transaction (bounds the memory of a batch of bootstrap pages).
const CHANGES_PER_APPLY: usize = 20_000;
/// Changes fetched ahead of the page being applied (4 pages of 1 000, or 2 bootstrap pages).
const PREFETCH_CHANGES: usize = 4_000;

struct Inner {
    api: ServerApi,
    store: Arc<Mutex<Store>>,
    device: Uuid,
    tokens: Arc<dyn TokenStore>,
    access: tokio::sync::Mutex<Option<String>>,
    status: watch::Sender<SyncStatus>,
    changes: broadcast::Sender<ChangeNotice>,
    wake: Notify,
    /// One sync at a time (the background loop, `sync now`, the CLI).
    running: tokio::sync::Mutex<()>,
    /// Settings for the background loop.
    periodic: Duration,
    /// Upload progress of attachments, for the composer's bars.
    progress: broadcast::Sender<AttachmentProgress>,
    /// Attachments the agent is withdrawing: their upload stops at the next chunk.
    cancels: Mutex<HashSet<Uuid>>,
}

/// The engine for one signed-in profile. Cheap to clone.
#[derive(Clone)]
pub struct SyncEngine(Arc<Inner>);

/// Runs blocking store work off the async threads.
async fn with_store<T: Send + 'static>(
    store: &Arc<Mutex<Store>>,
    work: impl FnOnce(&mut Store) -> Result<T, outpost_store::StoreError> + Send + 'static,
) -> Result<T, SyncError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let mut guard = store
            .lock()
            .map_err(|_| SyncError::Store("the cache lock was poisoned".into()))?;
        work(&mut guard).map_err(store_error)
    })
    .await
    .map_err(store_error)?
}

fn now() -> DateTime<Utc> {
    DateTime::<Utc>::from(std::time::SystemTime::now())
}

impl SyncEngine {
    pub fn new(
        api: ServerApi,
        store: Arc<Mutex<Store>>,
        device: Uuid,
        tokens: Arc<dyn TokenStore>,
        access_token: Option<String>,
    ) -> SyncEngine {
        let status = SyncStatus {
            connectivity: Connectivity::Starting,
            unsent: 0,
            conflicts: 0,
            problems: 0,
            bootstrapping: false,
        };
        SyncEngine(Arc::new(Inner {
            api,
            store,
            device,
            tokens,
            access: tokio::sync::Mutex::new(access_token),
            status: watch::channel(status).0,
            changes: broadcast::channel(256).0,
            wake: Notify::new(),
            running: tokio::sync::Mutex::new(()),
            periodic: Duration::from_secs(30),
            progress: broadcast::channel(256).0,
            cancels: Mutex::new(HashSet::new()),
        }))
    }

    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.0.status.subscribe()
    }

    pub fn changes(&self) -> broadcast::Receiver<ChangeNotice> {
        self.0.changes.subscribe()
    }

    /// Tells subscribers that local changes touched `tickets` (queues and open tickets in other
    /// views refresh as they do after a pull).
    pub fn notify_local(&self, tickets: Vec<TicketId>) {
        let _ = self.0.changes.send(ChangeNotice {
            tickets,
            revoked: Vec::new(),
            everything: false,
            reference: false,
        });
    }

    /// Tells subscribers that the organisation's settings, departments or templates changed
    /// here (an admin's local edit).
    pub fn notify_reference(&self) {
        let _ = self.0.changes.send(ChangeNotice {
            tickets: Vec::new(),
            revoked: Vec::new(),
            everything: false,
            reference: true,
        });
    }

    /// Upload progress of attachments (the composer's progress bars).
    pub fn progress(&self) -> broadcast::Receiver<AttachmentProgress> {
        self.0.progress.subscribe()
    }

    pub(crate) fn emit_progress(&self, progress: AttachmentProgress) {
        let _ = self.0.progress.send(progress);
    }

    pub(crate) fn store(&self) -> &Arc<Mutex<Store>> {
        &self.0.store
    }

    /// Asks a running upload of `attachment` to stop (it is being withdrawn); `false` undoes it.
    pub(crate) fn set_cancelling(&self, attachment: Uuid, cancelling: bool) {
        let mut cancels = self
            .0
            .cancels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cancelling {
            cancels.insert(attachment);
        } else {
            cancels.remove(&attachment);
        }
    }

    pub(crate) fn is_cancelling(&self, attachment: Uuid) -> bool {
        self.0
            .cancels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&attachment)
    }

    /// Waits until no sync runs and keeps others from starting while the guard lives (for
    /// changes to the outbox that a push in flight must not see half-made).
    pub(crate) async fn exclusive(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.0.running.lock().await
    }

    /// Asks the background loop to sync soon (after a local change, or on a poke).
    pub fn wake(&self) {
        self.0.wake.notify_one();
    }

    fn set_connectivity(&self, connectivity: Connectivity) {
        self.0.status.send_modify(|s| s.connectivity = connectivity);
    }

    /// Recounts unsent changes, conflicts and problems from the cache.
    pub async fn refresh_counts(&self) -> Result<(), SyncError> {
        let (unsent, conflicts, problems, bootstrapping) = with_store(&self.0.store, |s| {
            Ok((
                s.outbox_len()?,
                s.conflicts()?.len() as u64,
                s.sync_problems()?.len() as u64,
                s.bootstrapping()?,
            ))
        })
        .await?;
        self.0.status.send_modify(|s| {
            s.unsent = unsent;
            s.conflicts = conflicts;
            s.problems = problems;
            s.bootstrapping = bootstrapping;
        });
        Ok(())
    }

    /// The current access token, signing in with the stored refresh token when there is none
    /// or `renew` is set.
    async fn token(&self, renew: bool) -> Result<String, SyncError> {
        let mut access = self.0.access.lock().await;
        if let (Some(token), false) = (access.as_ref(), renew) {
            return Ok(token.clone());
        }
        let refresh = self
            .0
            .tokens
            .load()
            .map_err(SyncError::SignInAgain)?
            .ok_or_else(|| SyncError::SignInAgain("no saved session on this device".into()))?;
        let session = match self.0.api.refresh(&refresh).await {
            Ok(session) => session,
            Err(ApiError::Server {
                status: 401,
                message,
                ..
            }) => {
                *access = None;
                return Err(SyncError::SignInAgain(message));
            }
            Err(e) => return Err(e.into()),
        };
        // Saved before use: a rotated token that is not kept would end the session next time.
        self.0
            .tokens
            .save(&session.refresh_token)
            .map_err(SyncError::Store)?;
        *access = Some(session.access_token.clone());
        Ok(session.access_token)
    }

    /// Calls the server with the access token, renewing it once when refused.
    async fn authed<T, F, Fut>(&self, call: F) -> Result<T, SyncError>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let token = self.token(false).await?;
        match call(token).await {
            Err(ApiError::Unauthorized) => {
                let token = self.token(true).await?;
                match call(token).await {
                    Err(ApiError::Unauthorized) => Err(SyncError::SignInAgain(
                        "the server refused the renewed session".into(),
                    )),
                    other => Ok(other?),
                }
            }
            other => Ok(other?),
        }
    }

    /// A call to the server's API with this session (renewed if needed): the admin endpoints.
    pub async fn call<T, F, Fut>(&self, call: F) -> Result<T, SyncError>
    where
        F: Fn(ServerApi, String) -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let api = &self.0.api;
        self.authed(|token| call(api.clone(), token)).await
    }

    /// A page of the server's audit trail, with the session renewed if needed.
    pub async fn audit_page(
        &self,
        query: &outpost_core::audit_export::AuditQuery,
    ) -> Result<outpost_core::audit_export::AuditPage, SyncError> {
        let api = &self.0.api;
        self.authed(|token| async move { api.audit_events(&token, query).await })
            .await
    }

    /// One full sync: push everything queued, then pull until caught up. Reports the outcome
    /// in [`SyncEngine::status`].
    pub async fn sync_now(&self) -> Result<(), SyncError> {
        let _running = self.0.running.lock().await;
        self.set_connectivity(Connectivity::Syncing);
        let result = self.sync_inner().await;
        let _ = self.refresh_counts().await;
        match &result {
            Ok(()) => self.set_connectivity(Connectivity::Online { last_sync: now() }),
            Err(SyncError::SignInAgain(reason)) => self.set_connectivity(Connectivity::Error {
                reason: reason.clone(),
                sign_in_again: true,
                totp_setup_required: false,
            }),
            // The background loop replaces `retry_at` with its backoff time.
            Err(e) if e.is_transient() => self.set_connectivity(Connectivity::Offline {
                reason: e.to_string(),
                retry_at: now(),
            }),
            Err(e) => self.set_connectivity(Connectivity::Error {
                reason: e.to_string(),
                sign_in_again: false,
                totp_setup_required: e.is_totp_setup_required(),
            }),
        }
        result
    }

    async fn sync_inner(&self) -> Result<(), SyncError> {
        // Local changes made while syncing are pushed in the next round; bounded so a client
        // editing continuously still reports progress.
        for _ in 0..4 {
            self.push_all().await?;
            self.pull_all().await?;
            let unsent = with_store(&self.0.store, |s| s.outbox_len()).await?;
            let blocked = with_store(&self.0.store, |s| s.blocked_mutations()).await?;
            if unsent == 0 || unsent as usize == blocked.len() {
                break;
            }
        }
        Ok(())
    }

    async fn push_all(&self) -> Result<(), SyncError> {
        let mut last_first = None;
        loop {
            let batch = with_store(&self.0.store, |s| s.pending_batch(PUSH_BATCH)).await?;
            let Some(first) = batch.first().map(|m| m.mutation_id) else {
                return Ok(());
            };
            if last_first == Some(first) {
                // The server answered but nothing was confirmed: do not spin.
                return Err(SyncError::Stuck(first));
            }
            last_first = Some(first);
            // Attachments go up before the mutations that add them; a stop (offline, a
            // withdrawal) pushes what comes before it and ends this round.
            let mut batch = batch;
            let (ready, stop) = upload_before_push(self, &batch).await?;
            batch.truncate(ready);
            let attachments: Vec<Uuid> = batch
                .iter()
                .filter_map(|m| match &m.mutation {
                    outpost_core::sync::Mutation::AddAttachment { attachment_id, .. } => {
                        Some(*attachment_id)
                    }
                    _ => None,
                })
                .collect();
            if batch.is_empty() {
                return stop.map_or(Ok(()), UploadStop::into_result);
            }
            if !attachments.is_empty() {
                let ids = attachments.clone();
                with_store(&self.0.store, move |s| s.mark_pushed(&ids)).await?;
            }
            let request = PushRequest {
                device_id: self.0.device,
                mutations: batch,
            };
            let api = self.0.api.clone();
            let sent = std::time::Instant::now();
            let response = self
                .authed(|token| {
                    let (api, request) = (api.clone(), &request);
                    async move { api.push(&token, request).await }
                })
                .await?;
            let answered = sent.elapsed();
            let recorded = with_store(&self.0.store, move |s| {
                let at = now();
                let recorded = s.record_push_results(&response.results, at)?;
                s.confirm_through(response.last_mutation_id, at)?;
                Ok(recorded)
            })
            .await?;
            if recorded.reference {
                // A refused admin edit left the settings as the server has them.
                self.notify_reference();
            }
            tracing::debug!(
                mutations = request.mutations.len(),
                server_ms = answered.as_millis() as u64,
                recorded_ms = sent.elapsed().saturating_sub(answered).as_millis() as u64,
                "pushed"
            );
            let _ = self.refresh_counts().await;
            if !attachments.is_empty() {
                crate::attachments::announce(self, &attachments).await;
            }
            if let Some(stop) = stop {
                return stop.into_result();
            }
        }
    }

    async fn pull_all(&self) -> Result<(), SyncError> {
        let (start, bootstrapping) = with_store(&self.0.store, |s| {
            Ok((s.sync_cursor()?, s.bootstrapping()?))
        })
        .await?;
        // An initial sync (or one resumed after a restart) asks for the largest pages after the
        // first one: fewer round trips, fewer page queries on the server, fewer store
        // transactions. The first page stays small so the cache has rows (and a committed bulk
        // load to resume) soon.
        let bootstrap = start == 0 || bootstrapping;
        let prefetch = if bootstrap {
            (PREFETCH_CHANGES / MAX_PULL_LIMIT as usize).max(2)
        } else {
            (PREFETCH_CHANGES / DEFAULT_PULL_LIMIT as usize).max(2)
        };
        let (pages_tx, mut pages_rx) =
            tokio::sync::mpsc::channel::<Result<PullResponse, SyncError>>(prefetch);
        // The fetcher runs ahead of the applier; it follows `cursor` from each page and stops
        // at the last page or a reset (the applier then restarts from zero).
        let fetcher = {
            let engine = self.clone();
            tokio::spawn(async move {
                let mut cursor = start;
                let mut limit = DEFAULT_PULL_LIMIT;
                loop {
                    let api = engine.0.api.clone();
                    let device = engine.0.device;
                    let asked = std::time::Instant::now();
                    let page = engine
                        .authed(|token| {
                            let api = api.clone();
                            async move { api.pull(&token, cursor, limit, device).await }
                        })
                        .await;
                    tracing::debug!(
                        cursor,
                        fetch_ms = asked.elapsed().as_millis() as u64,
                        "fetched"
                    );
                    let stop = match &page {
                        Ok(p) => !p.has_more || p.reset_required,
                        Err(_) => true,
                    };
                    if let Ok(p) = &page {
                        cursor = p.cursor;
                    }
                    if bootstrap {
                        limit = MAX_PULL_LIMIT;
                    }
                    if pages_tx.send(page).await.is_err() || stop {
                        return;
                    }
                }
            })
        };
        let mut reset = false;
        let mut result = Ok(());
        let everything = start == 0;
        'pages: loop {
            let mut batch = Vec::new();
            // Wait for one page, then take whatever else is already fetched.
            match pages_rx.recv().await {
                Some(Ok(page)) => batch.push(page),
                Some(Err(e)) => {
                    result = Err(e);
                    break;
                }
                None => break,
            }
            let mut changes: usize = batch.iter().map(|p| p.changes.len()).sum();
            while batch.len() < PAGES_PER_APPLY
                && changes < CHANGES_PER_APPLY
                && batch
                    .last()
                    .is_some_and(|p| p.has_more && !p.reset_required)
            {
                match pages_rx.try_recv() {
                    Ok(Ok(page)) => {
                        changes += page.changes.len();
                        batch.push(page);
                    }
                    Ok(Err(e)) => {
                        result = Err(e);
                        break;
                    }
                    Err(_) => break,
                }
            }
            let last_has_more = batch.last().is_some_and(|p| p.has_more);
            let pages = batch.len();
            let applying = std::time::Instant::now();
            let applied =
                with_store(&self.0.store, move |s| s.apply_pull_pages(&batch, now())).await;
            tracing::debug!(
                pages,
                changes,
                apply_ms = applying.elapsed().as_millis() as u64,
                "pulled"
            );
            let applied = match applied {
                Ok(a) => a,
                Err(e) => {
                    result = Err(e);
                    break 'pages;
                }
            };
            if applied.reset {
                reset = true;
                break;
            }
            if !applied.changed.is_empty() || !applied.revoked.is_empty() || applied.reference {
                let _ = self.0.changes.send(ChangeNotice {
                    tickets: if everything {
                        Vec::new()
                    } else {
                        applied.changed
                    },
                    revoked: applied.revoked,
                    everything,
                    reference: applied.reference,
                });
            }
            if result.is_err() || !last_has_more {
                break;
            }
        }
        fetcher.abort();
        result?;
        if reset {
            // The server asked for a re-bootstrap: the store kept the outbox and set the
            // cursor to zero; pull everything again.
            return Box::pin(self.pull_all()).await;
        }
        Ok(())
    }

    /// Runs until `stop` fires: syncs on start, on every wake (local change, poke) and
    /// periodically; retries with exponential backoff and jitter while offline.
    pub async fn run(&self, mut stop: watch::Receiver<bool>) {
        let pokes = tokio::spawn(self.clone().listen(stop.clone()));
        let mut backoff = Backoff::default();
        loop {
            let delay = match self.sync_now().await {
                Ok(()) => {
                    backoff.reset();
                    self.0.periodic
                }
                Err(e) if e.is_transient() => {
                    let delay = backoff.next_delay();
                    self.set_connectivity(Connectivity::Offline {
                        reason: e.to_string(),
                        retry_at: now() + chrono::Duration::from_std(delay).unwrap_or_default(),
                    });
                    delay
                }
                // Nothing syncs until the user enrols an authenticator; enabling it wakes us.
                Err(SyncError::SignInAgain(_)) => Duration::from_secs(3600),
                Err(e) if e.is_totp_setup_required() => Duration::from_secs(3600),
                Err(_) => backoff.next_delay().max(Duration::from_secs(30)),
            };
            tokio::select! {
                () = self.0.wake.notified() => {}
                () = tokio::time::sleep(delay) => {}
                _ = stop.changed() => break,
            }
            if *stop.borrow() {
                break;
            }
        }
        pokes.abort();
    }

    /// Holds the event stream open and wakes the loop when the server's cursor moves past ours.
    async fn listen(self, stop: watch::Receiver<bool>) {
        let mut backoff = Backoff::default();
        while !*stop.borrow() {
            let api = self.0.api.clone();
            let stream = self
                .authed(|token| {
                    let api = api.clone();
                    async move { api.events(&token).await }
                })
                .await;
            match stream {
                Ok(mut stream) => {
                    backoff.reset();
                    while let Some(poke) = stream.next_poke().await {
                        let ours = with_store(&self.0.store, |s| s.sync_cursor())
                            .await
                            .unwrap_or(0);
                        if poke.cursor > ours {
                            self.wake();
                        }
                    }
                    if stream.signed_out() {
                        // The session ended on the server (signed out elsewhere, revoked, the
                        // user disabled): no reconnecting. The sync loop, without an access
                        // token, tries the refresh token once, is refused and reports
                        // `sign_in_again`.
                        *self.0.access.lock().await = None;
                        self.wake();
                        return;
                    }
                    // The stream ended: the server went away; the sync loop will notice.
                    self.wake();
                }
                Err(SyncError::SignInAgain(_)) => return,
                Err(_) => {}
            }
            tokio::time::sleep(backoff.next_delay()).await;
        }
    }
}

/// Exponential backoff from 0.5 s to 60 s with full jitter.
#[derive(Debug, Default)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    const BASE_MS: u64 = 500;
    const MAX_MS: u64 = 60_000;

    pub fn next_delay(&mut self) -> Duration {
        let ceiling = Self::BASE_MS
            .saturating_mul(1u64 << self.attempt.min(16))
            .min(Self::MAX_MS);
        self.attempt = self.attempt.saturating_add(1);
        let mut bytes = [0u8; 8];
        let _ = getrandom::fill(&mut bytes);
        // Full jitter, but never less than half the base so a dead server is not hammered.
        let jitter = u64::from_le_bytes(bytes) % ceiling.max(1);
        Duration::from_millis(jitter.max(Self::BASE_MS / 2))
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_jittered_and_bounded() {
        let mut backoff = Backoff::default();
        let delays: Vec<Duration> = (0..30).map(|_| backoff.next_delay()).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(60)));
        assert!(delays.iter().all(|d| *d >= Duration::from_millis(250)));
        // Later attempts may wait far longer than the first one could.
        assert!(delays[..1].iter().all(|d| *d <= Duration::from_millis(500)));
        assert!(delays[10..].iter().any(|d| *d > Duration::from_secs(2)));
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(500));
    }
}
