//! Attachments on the desktop: attaching a file (type-checked by the core from its bytes, kept in
//! the encrypted cache, queued like any change), the resumable upload the sync engine runs
//! before it pushes an `entry.add_attachment` (1 MiB chunks; the upload id and the server's
//! offset are kept in the cache, so a restart or a cut connection continues where the server
//! stopped), downloads on demand (small files prefetched when a ticket is opened), and
//! withdrawing an attachment that has not been pushed.

use outpost_core::files::{check_upload, sanitise_filename, SNIFF_BYTES};
use outpost_core::model::TicketId;
use outpost_core::sync::{Mutation, MutationEnvelope};
use outpost_store::{AttachmentState, AttachmentView, StoreError, UploadState};
use serde::Serialize;
use uuid::Uuid;

use crate::api::{ApiError, UploadRequest};
use crate::desk::{now, online_error, Desk, DeskError, DeskResult};
use crate::sync::{SyncEngine, SyncError};

/// Bytes per upload request.
pub const CHUNK_BYTES: u32 = 1024 * 1024;
/// Attachments up to this size are downloaded when their ticket is opened.
pub const PREFETCH_MAX_BYTES: u64 = 512 * 1024;

/// An attachment's upload moved on (the composer's progress bar).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AttachmentProgress {
    pub attachment_id: Uuid,
    pub ticket_id: TicketId,
    pub sent_bytes: u64,
    pub size: u64,
    pub state: AttachmentState,
}

/// An image attachment decoded by the shell and re-encoded as PNG (the page never decodes the
/// file itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImagePreview {
    pub width: u32,
    pub height: u32,
    pub png_base64: String,
}

/// Why uploads stopped before the end of a push batch.
pub(crate) enum UploadStop {
    /// The network or the server failed; the round ends with this error (retried with backoff).
    Failed(SyncError),
    /// The agent is withdrawing the attachment; the round ends quietly.
    Withdrawn,
}

impl UploadStop {
    pub(crate) fn into_result(self) -> Result<(), SyncError> {
        match self {
            UploadStop::Failed(e) => Err(e),
            UploadStop::Withdrawn => Ok(()),
        }
    }
}

async fn with_store<T: Send + 'static>(
    engine: &SyncEngine,
    work: impl FnOnce(&mut outpost_store::Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, SyncError> {
    let store = engine.store().clone();
    tokio::task::spawn_blocking(move || {
        let mut guard = store
            .lock()
            .map_err(|_| SyncError::Store("the cache lock was poisoned".into()))?;
        work(&mut guard).map_err(|e| SyncError::Store(e.to_string()))
    })
    .await
    .map_err(|e| SyncError::Store(e.to_string()))?
}

/// Uploads what the server does not have yet of the attachments `batch` adds, in order. Answers
/// how many leading mutations may be pushed now, and why the uploads stopped before the end
/// (if they did). An upload the server refuses for good (the file's type, a wrong hash, a
/// ticket the agent may not see) is recorded as failed and its mutation pushed anyway: the
/// server refuses it too, and it becomes a sync problem with its bytes kept.
pub(crate) async fn upload_before_push(
    engine: &SyncEngine,
    batch: &[MutationEnvelope],
) -> Result<(usize, Option<UploadStop>), SyncError> {
    for (index, envelope) in batch.iter().enumerate() {
        let Mutation::AddAttachment { attachment_id, .. } = &envelope.mutation else {
            continue;
        };
        let id = *attachment_id;
        let Some(state) = with_store(engine, move |s| s.upload_state(id)).await? else {
            // No bytes here (a cache that lost them): the server judges the mutation.
            continue;
        };
        match upload(engine, state).await {
            Ok(()) => {}
            Err(stop @ UploadStop::Withdrawn) => return Ok((index, Some(stop))),
            Err(UploadStop::Failed(e)) if e.is_transient() || is_auth(&e) => {
                return Ok((index, Some(UploadStop::Failed(e))))
            }
            Err(UploadStop::Failed(e)) => return Err(e),
        }
    }
    Ok((batch.len(), None))
}

fn is_auth(e: &SyncError) -> bool {
    matches!(e, SyncError::SignInAgain(_))
}

/// A refusal that trying again will not change: the file (its kind, its hash, its size), or a
/// ticket the agent may not see.
fn refused_for_good(e: &SyncError) -> Option<String> {
    use outpost_core::error::ErrorCode;
    match e {
        SyncError::Api(ApiError::Server {
            status,
            code,
            message,
        }) if *status == 413
            || matches!(
                code,
                ErrorCode::FileRefused
                    | ErrorCode::HashMismatch
                    | ErrorCode::PayloadTooLarge
                    | ErrorCode::TicketNotFound
                    | ErrorCode::Forbidden
            ) =>
        {
            Some(message.clone())
        }
        _ => None,
    }
}

fn is_status(e: &SyncError, wanted: u16) -> bool {
    matches!(e, SyncError::Api(ApiError::Server { status, .. }) if *status == wanted)
}

/// Runs one attachment's upload to the end (or to a stop).
async fn upload(engine: &SyncEngine, state: UploadState) -> Result<(), UploadStop> {
    if state.uploaded || state.failure.is_some() {
        return Ok(());
    }
    let id = state.attachment_id;
    let progress = |sent_bytes: u64, state_now: AttachmentState| AttachmentProgress {
        attachment_id: id,
        ticket_id: state.ticket_id,
        sent_bytes,
        size: state.size,
        state: state_now,
    };
    let mut upload_id = state.upload_id.clone();
    // At most one fresh start per round: an upload the server forgets twice in a row is retried
    // in the next round.
    let mut restarted = false;
    let mut reasked = false;
    loop {
        if engine.is_cancelling(id) {
            return Err(UploadStop::Withdrawn);
        }
        let (current, mut offset) = if let Some(current) = upload_id.clone() {
            let status = engine
                .call(|api, token| {
                    let current = current.clone();
                    async move { api.upload_status(&token, &current).await }
                })
                .await;
            match status {
                Ok(status) if status.complete => {
                    record(engine, id, Some(current), state.size, true).await?;
                    engine.emit_progress(progress(state.size, AttachmentState::Uploading));
                    return Ok(());
                }
                Ok(status) => (current, status.offset),
                // Expired (24 h) or unknown to the server: start again.
                Err(e) if is_status(&e, 404) && !restarted => {
                    restarted = true;
                    upload_id = None;
                    record(engine, id, None, 0, false).await?;
                    continue;
                }
                Err(e) => return Err(UploadStop::Failed(e)),
            }
        } else {
            let request = UploadRequest {
                filename: state.filename.clone(),
                size: state.size,
                sha256: state.sha256.clone(),
            };
            let ticket = state.ticket_id;
            let started = engine
                .call(|api, token| {
                    let request = request.clone();
                    async move { api.start_upload(&token, ticket, &request).await }
                })
                .await;
            match started {
                Ok(started) => {
                    record(engine, id, Some(started.upload_id.clone()), 0, false).await?;
                    (started.upload_id, started.offset)
                }
                Err(e) => return failed(engine, id, e, &progress).await,
            }
        };
        upload_id = Some(current.clone());
        engine.emit_progress(progress(offset, AttachmentState::Uploading));
        loop {
            if engine.is_cancelling(id) {
                return Err(UploadStop::Withdrawn);
            }
            let chunk = with_store(engine, move |s| s.attachment_chunk(id, offset, CHUNK_BYTES))
                .await
                .map_err(UploadStop::Failed)?
                .unwrap_or_default();
            if chunk.is_empty() && offset < state.size {
                return Err(UploadStop::Failed(SyncError::Store(format!(
                    "the cached bytes of {} end before its size",
                    state.filename
                ))));
            }
            let answer = engine
                .call(|api, token| {
                    let (current, chunk) = (current.clone(), chunk.clone());
                    async move { api.upload_chunk(&token, &current, offset, chunk).await }
                })
                .await;
            match answer {
                Ok(answer) => {
                    offset = answer.offset;
                    record(engine, id, Some(current.clone()), offset, answer.complete).await?;
                    engine.emit_progress(progress(offset, AttachmentState::Uploading));
                    if answer.complete {
                        return Ok(());
                    }
                }
                // The server is elsewhere (an answer was lost), or saw the body cut: ask where
                // it stands, and go on from there (a cut body once per round).
                Err(e) if is_status(&e, 409) => break,
                Err(e) if is_status(&e, 400) && !reasked => {
                    reasked = true;
                    break;
                }
                Err(e) if is_status(&e, 404) && !restarted => {
                    restarted = true;
                    upload_id = None;
                    record(engine, id, None, 0, false).await?;
                    break;
                }
                Err(e) => return failed(engine, id, e, &progress).await,
            }
        }
    }
}

/// Sorts an upload error: a refusal for good is recorded on the attachment and the round goes
/// on (its mutation is pushed and refused, like any refused change); anything else stops the
/// round.
async fn failed(
    engine: &SyncEngine,
    id: Uuid,
    e: SyncError,
    progress: &impl Fn(u64, AttachmentState) -> AttachmentProgress,
) -> Result<(), UploadStop> {
    let Some(reason) = refused_for_good(&e) else {
        return Err(UploadStop::Failed(e));
    };
    let saved = reason.clone();
    with_store(engine, move |s| s.record_upload_failure(id, &saved))
        .await
        .map_err(UploadStop::Failed)?;
    engine.emit_progress(progress(0, AttachmentState::Failed));
    tracing::info!(%id, %reason, "the server refused an attachment's upload");
    Ok(())
}

async fn record(
    engine: &SyncEngine,
    id: Uuid,
    upload_id: Option<String>,
    offset: u64,
    complete: bool,
) -> Result<(), UploadStop> {
    with_store(engine, move |s| {
        s.record_upload(id, upload_id.as_deref(), offset, complete)
    })
    .await
    .map_err(UploadStop::Failed)
}

/// Tells the composer where pushed attachments ended up (uploaded, or failed).
pub(crate) async fn announce(engine: &SyncEngine, attachments: &[Uuid]) {
    for id in attachments {
        let id = *id;
        let view = with_store(engine, move |s| {
            let Some(state) = s.upload_state(id)? else {
                return Ok(None);
            };
            s.attachment_view(state.ticket_id, id)
        })
        .await;
        if let Ok(Some(view)) = view {
            engine.emit_progress(AttachmentProgress {
                attachment_id: view.attachment_id,
                ticket_id: view.ticket_id,
                sent_bytes: view.sent_bytes,
                size: view.size,
                state: view.state,
            });
        }
    }
}

/// Downloads an attachment into the cache (if it is not there yet) and answers its view.
pub(crate) async fn download(
    engine: &SyncEngine,
    ticket_id: TicketId,
    attachment_id: Uuid,
) -> Result<AttachmentView, DeskError> {
    let view = with_store(engine, move |s| s.attachment_view(ticket_id, attachment_id))
        .await?
        .ok_or(DeskError::Store(StoreError::AttachmentNotFound(
            attachment_id,
        )))?;
    if view.state != AttachmentState::Remote {
        return Ok(view);
    }
    let size = view.size;
    let data = engine
        .call(|api, token| async move {
            api.download_attachment(&token, ticket_id, attachment_id, size)
                .await
        })
        .await
        .map_err(online_error)?;
    let view = with_store(engine, move |s| {
        s.store_download(ticket_id, attachment_id, &data)
    })
    .await?;
    engine.notify_local(vec![ticket_id]);
    Ok(view)
}

/// Downloads the ticket's small attachments that are not in the cache yet, in the background.
pub(crate) fn prefetch(engine: SyncEngine, ticket_id: TicketId, views: Vec<AttachmentView>) {
    let small: Vec<Uuid> = views
        .into_iter()
        .filter(|v| v.state == AttachmentState::Remote && v.size <= PREFETCH_MAX_BYTES)
        .map(|v| v.attachment_id)
        .collect();
    if small.is_empty() {
        return;
    }
    tokio::spawn(async move {
        for id in small {
            if let Err(e) = download(&engine, ticket_id, id).await {
                // Offline, or redacted meanwhile: the timeline says "not downloaded yet".
                tracing::debug!(%id, "prefetch skipped: {e}");
                return;
            }
        }
    });
}

impl Desk {
    /// Attaches a file to a ticket: its type is decided from its bytes (the core's rule for
    /// agents: any kind Outpost accepts, up to 25 MiB, a name that does not contradict the
    /// content), then the bytes are kept in the encrypted cache and the attachment is queued;
    /// the sync engine uploads it before it pushes the change.
    pub async fn attach_file(
        &self,
        ticket_id: TicketId,
        filename: &str,
        data: Vec<u8>,
    ) -> DeskResult<AttachmentView> {
        let head = &data[..data.len().min(SNIFF_BYTES)];
        let kind = check_upload(None, filename, head, data.len() as u64)
            .map_err(|refusal| DeskError::FileRefused(refusal.to_string()))?;
        let name = sanitise_filename(filename);
        let view = self
            .with_store(move |s, actor| {
                let change =
                    s.add_attachment(actor, ticket_id, &name, kind.mime(), &data, now())?;
                let attachment_id = change
                    .entries
                    .iter()
                    .find_map(|e| match &e.body {
                        outpost_core::model::EntryBody::Attachment { attachment_id, .. } => {
                            Some(*attachment_id)
                        }
                        _ => None,
                    })
                    .ok_or_else(|| StoreError::Corrupt("no attachment entry was made".into()))?;
                s.attachment_view(ticket_id, attachment_id)?
                    .ok_or(StoreError::AttachmentNotFound(attachment_id))
            })
            .await?;
        let engine = self.engine().await?;
        let _ = engine.refresh_counts().await;
        engine.notify_local(vec![ticket_id]);
        engine.wake();
        Ok(view)
    }

    /// Upload progress of this profile's attachments.
    pub async fn attachment_progress(
        &self,
    ) -> DeskResult<tokio::sync::broadcast::Receiver<AttachmentProgress>> {
        Ok(self.engine().await?.progress())
    }

    /// A ticket's attachments with where their bytes are.
    pub async fn attachments(&self, ticket_id: TicketId) -> DeskResult<Vec<AttachmentView>> {
        self.with_store(move |s, _| s.attachments(ticket_id)).await
    }

    /// Starts downloading the ticket's small attachments (≤ 512 KiB) that are not in the
    /// cache yet (when the ticket is opened).
    pub(crate) async fn prefetch_attachments(&self, ticket_id: TicketId) -> DeskResult<()> {
        let views = self.attachments(ticket_id).await?;
        prefetch(self.engine().await?, ticket_id, views);
        Ok(())
    }

    /// Downloads an attachment into the cache now (online only).
    pub async fn fetch_attachment(
        &self,
        ticket_id: TicketId,
        attachment_id: Uuid,
    ) -> DeskResult<AttachmentView> {
        download(&self.engine().await?, ticket_id, attachment_id).await
    }

    /// An attachment's bytes, downloaded first if they are not in the cache.
    pub async fn attachment_bytes(
        &self,
        ticket_id: TicketId,
        attachment_id: Uuid,
    ) -> DeskResult<(AttachmentView, Vec<u8>)> {
        let view = self.fetch_attachment(ticket_id, attachment_id).await?;
        let data = self
            .with_store(move |s, _| s.attachment(attachment_id))
            .await?
            .ok_or(DeskError::Store(StoreError::AttachmentNotFound(
                attachment_id,
            )))?;
        Ok((view, data))
    }

    /// The bytes of an attachment as this cache holds them (`None` when they are not here),
    /// without downloading: for tools that inspect the cache (the whole-system tests check
    /// that a redaction removed them). No shell command exposes it.
    pub async fn cached_attachment(&self, attachment_id: Uuid) -> DeskResult<Option<Vec<u8>>> {
        self.with_store(move |s, _| s.attachment(attachment_id))
            .await
    }

    /// Withdraws an attachment that has not been pushed: stops its upload, removes it from the
    /// outbox and the cache, and cancels the server's upload (best effort: the server forgets
    /// unfinished uploads after 24 hours anyway). Refused once the change reached the server.
    pub async fn cancel_attachment(
        &self,
        ticket_id: TicketId,
        attachment_id: Uuid,
    ) -> DeskResult<()> {
        let engine = self.engine().await?;
        engine.set_cancelling(attachment_id, true);
        let withdrawn = {
            let _no_push = engine.exclusive().await;
            self.with_store(move |s, actor| {
                s.cancel_attachment(actor, ticket_id, attachment_id, now())
            })
            .await
        };
        engine.set_cancelling(attachment_id, false);
        let upload_id = withdrawn?;
        let _ = engine.refresh_counts().await;
        engine.notify_local(vec![ticket_id]);
        if let Some(upload_id) = upload_id {
            let cancelled = engine
                .call(|api, token| {
                    let upload_id = upload_id.clone();
                    async move { api.cancel_upload(&token, &upload_id).await }
                })
                .await;
            if let Err(e) = cancelled {
                tracing::debug!("the server's upload stays until it expires: {e}");
            }
        }
        engine.wake();
        Ok(())
    }
}
