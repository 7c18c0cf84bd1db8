//! The app's commands: each is a one-line wrapper over the Desk (or the shell's own state).
//! Errors cross as `{code, message}` ([`ErrorDto`]). Every name here is listed in
//! `commands_list.rs` (the AppManifest) and granted in `capabilities/main.json`.

use outpost_client::app::{DeskEvent, Settings, StartInfo};
use outpost_client::desk::{DeskError, ErrorDto, Me, Unlock};
use outpost_client::sync::SyncStatus;
use outpost_core::model::{Status, Template, TicketId};
use outpost_core::sync::Mutation;
use outpost_store::{
    ConflictRecord, Directory, LocalChange, QueueCursor, QueueFilter, QueuePage, QueueSort,
    SearchHit, SyncProblem, TicketDetail,
};
use tauri::ipc::Channel;
use tauri::State;

use outpost_client::supervisor::{
    ChainCheck, ExportCheck, ExportFormat, SavedExport, SavedFile, VerifyProgress,
};
use outpost_core::audit_export::{AuditPage, AuditQuery};
use outpost_store::{Report, ReportParams};

use crate::shell::Shell;

type Res<T> = Result<T, ErrorDto>;

fn dto(e: DeskError) -> ErrorDto {
    ErrorDto::from(&e)
}

/// The largest queue page the UI may ask for (it asks for ~100 rows at a time).
const MAX_PAGE: u32 = 500;
/// The most search hits per query.
const MAX_HITS: u32 = 200;

fn unlock_with(passphrase: Option<String>) -> Unlock {
    passphrase.map_or(Unlock::Keychain, Unlock::Passphrase)
}

#[tauri::command]
pub async fn app_start(shell: State<'_, Shell>) -> Res<StartInfo> {
    shell.start_info().await.map_err(dto)
}

#[tauri::command]
pub async fn sign_in(
    shell: State<'_, Shell>,
    server: String,
    email: String,
    password: String,
    totp: Option<String>,
    passphrase: Option<String>,
) -> Res<Me> {
    shell
        .sign_in(
            &server,
            &email,
            &password,
            totp.as_deref(),
            unlock_with(passphrase),
        )
        .await
        .map_err(dto)
}

#[tauri::command]
pub async fn unlock(shell: State<'_, Shell>, passphrase: Option<String>) -> Res<Me> {
    shell.unlock(unlock_with(passphrase)).await.map_err(dto)
}

#[tauri::command]
pub async fn lock(shell: State<'_, Shell>) -> Res<()> {
    shell.lock().await;
    Ok(())
}

#[tauri::command]
pub async fn sign_out(shell: State<'_, Shell>, discard_unsent: bool) -> Res<()> {
    shell.sign_out(discard_unsent).await.map_err(dto)
}

#[tauri::command]
pub fn activity(shell: State<'_, Shell>) {
    shell.touch();
}

#[tauri::command]
pub fn settings_set(shell: State<'_, Shell>, settings: Settings) -> Res<Settings> {
    shell.save_settings(settings)
}

#[tauri::command]
pub fn subscribe(shell: State<'_, Shell>, on_event: Channel<DeskEvent>) {
    shell.subscribe(on_event);
}

#[tauri::command]
pub async fn queue(
    shell: State<'_, Shell>,
    filter: QueueFilter,
    sort: QueueSort,
    cursor: Option<QueueCursor>,
    limit: u32,
) -> Res<QueuePage> {
    shell
        .desk
        .queue(filter, sort, cursor, limit.clamp(1, MAX_PAGE))
        .await
        .map_err(dto)
}

#[tauri::command]
pub async fn queue_count(shell: State<'_, Shell>, filter: QueueFilter) -> Res<u64> {
    shell.desk.queue_count(filter).await.map_err(dto)
}

#[tauri::command]
pub async fn ticket(shell: State<'_, Shell>, id: TicketId) -> Res<TicketDetail> {
    shell.desk.ticket(id).await.map_err(dto)
}

#[tauri::command]
pub async fn resolve_key(shell: State<'_, Shell>, key: String) -> Res<TicketId> {
    shell.desk.resolve(&key).await.map_err(dto)
}

#[tauri::command]
pub async fn search(shell: State<'_, Shell>, query: String, limit: u32) -> Res<Vec<SearchHit>> {
    shell
        .desk
        .search(query, limit.clamp(1, MAX_HITS))
        .await
        .map_err(dto)
}

#[tauri::command]
pub async fn change(shell: State<'_, Shell>, mutation: Mutation) -> Res<LocalChange> {
    shell.desk.change(mutation).await.map_err(dto)
}

#[tauri::command]
pub async fn reply(shell: State<'_, Shell>, ticket_id: TicketId, text: String) -> Res<LocalChange> {
    shell.desk.reply(ticket_id, text).await.map_err(dto)
}

#[tauri::command]
pub async fn note(shell: State<'_, Shell>, ticket_id: TicketId, text: String) -> Res<LocalChange> {
    shell.desk.note(ticket_id, text).await.map_err(dto)
}

#[tauri::command]
pub async fn templates(shell: State<'_, Shell>) -> Res<Vec<Template>> {
    shell.desk.templates().await.map_err(dto)
}

#[tauri::command]
pub async fn directory(shell: State<'_, Shell>) -> Res<Directory> {
    shell.desk.directory().await.map_err(dto)
}

#[tauri::command]
pub fn status_machine() -> Vec<(Status, Vec<Status>)> {
    outpost_client::desk::Desk::status_machine()
}

#[tauri::command]
pub async fn conflicts(shell: State<'_, Shell>) -> Res<Vec<ConflictRecord>> {
    shell.desk.conflicts().await.map_err(dto)
}

#[tauri::command]
pub async fn sync_problems(shell: State<'_, Shell>) -> Res<Vec<SyncProblem>> {
    shell.desk.sync_problems().await.map_err(dto)
}

#[tauri::command]
pub async fn dismiss(shell: State<'_, Shell>, record: i64) -> Res<()> {
    shell.desk.dismiss(record).await.map_err(dto)
}

#[tauri::command]
pub async fn reapply(shell: State<'_, Shell>, record: i64) -> Res<LocalChange> {
    shell.desk.reapply(record).await.map_err(dto)
}

#[tauri::command]
pub async fn sync_status(shell: State<'_, Shell>) -> Res<SyncStatus> {
    shell.desk.sync_status().await.map_err(dto)
}

#[tauri::command]
pub async fn sync_now(shell: State<'_, Shell>) -> Res<SyncStatus> {
    shell.desk.sync_now().await.map_err(dto)
}

/// The UI reached a start-up milestone (`signin-ready`: the sign-in form; `queue-ready`: the
/// queue's first rows on screen). Logged once each to standard error with the milliseconds
/// since `main` started — the app log marker the start-up benchmark reads. Other names are
/// ignored (nothing from the page is written to the log verbatim).
#[tauri::command]
pub fn startup_mark(name: String) {
    static SEEN: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let Some(known) = ["signin-ready", "queue-ready"]
        .into_iter()
        .find(|n| *n == name)
    else {
        return;
    };
    let mut seen = SEEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if seen.contains(&known) {
        return;
    }
    seen.push(known);
    let ms = crate::STARTED.get().map_or(0, |t| t.elapsed().as_millis());
    eprintln!("outpost-startup: {known} {ms} ms");
}

/// The largest file the page may hand over for saving (a report table as CSV) or checking (an
/// audit export), in bytes.
const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;

fn too_large(what: &str) -> ErrorDto {
    ErrorDto {
        code: "too_large".into(),
        message: format!("the {what} is larger than {} MiB", MAX_FILE_BYTES >> 20),
    }
}

#[tauri::command]
pub async fn report(shell: State<'_, Shell>, params: ReportParams) -> Res<Report> {
    shell.desk.report(params).await.map_err(dto)
}

#[tauri::command]
pub async fn audit_page(shell: State<'_, Shell>, query: AuditQuery) -> Res<AuditPage> {
    shell.desk.audit_page(query).await.map_err(dto)
}

#[tauri::command]
pub async fn audit_verify(
    shell: State<'_, Shell>,
    on_progress: Channel<VerifyProgress>,
) -> Res<ChainCheck> {
    shell
        .desk
        .audit_verify_with(|p| drop(on_progress.send(p)))
        .await
        .map_err(dto)
}

#[tauri::command]
pub async fn audit_export(
    shell: State<'_, Shell>,
    query: AuditQuery,
    format: ExportFormat,
) -> Res<SavedExport> {
    shell.desk.audit_export(query, format).await.map_err(dto)
}

/// Checks an export file the user picked (its text; the page reads it, Rust never opens paths
/// the page names).
#[tauri::command]
pub fn audit_check_export(text: String) -> Res<ExportCheck> {
    if text.len() > MAX_FILE_BYTES {
        return Err(too_large("file"));
    }
    Ok(outpost_client::supervisor::check_export(&text, None))
}

#[tauri::command]
pub async fn save_file(shell: State<'_, Shell>, name: String, content: String) -> Res<SavedFile> {
    if content.len() > MAX_FILE_BYTES {
        return Err(too_large("file"));
    }
    shell
        .desk
        .save_file(&name, content.as_bytes())
        .await
        .map_err(dto)
}

/// The most ids one `ticket_keys` call may look up (the audit table asks per page).
const MAX_KEY_LOOKUPS: usize = 1_000;

#[tauri::command]
pub async fn ticket_keys(
    shell: State<'_, Shell>,
    ids: Vec<TicketId>,
) -> Res<Vec<(TicketId, String)>> {
    if ids.len() > MAX_KEY_LOOKUPS {
        return Err(ErrorDto {
            code: "too_large".into(),
            message: format!("at most {MAX_KEY_LOOKUPS} tickets per lookup"),
        });
    }
    shell.desk.ticket_keys(ids).await.map_err(dto)
}
