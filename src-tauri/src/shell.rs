//! The shell's state: the Desk, the UI's event channels, the per-session task that streams
//! sync status and cache changes to the UI and raises desktop notifications, and idle
//! auto-lock. Nothing here knows Tauri: the desktop hands it channels and a notifier, and the
//! development bridge serves the same shell over loopback HTTP.

use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use outpost_client::app::{Alert, AlertWatch, DeskEvent, IdleClock, Settings, StartInfo};
use outpost_client::attachments::AttachmentProgress;
use outpost_client::desk::{Desk, DeskError, DeskResult, ErrorDto, Me, Unlock};
use outpost_client::supervisor::SavedFile;
use outpost_client::sync::ChangeNotice;
use outpost_client::vault::VaultMode;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::commands::Events;

/// How often the session task looks for SLA risks and breaches without a change to prompt it.
const ALERT_PERIOD: Duration = Duration::from_secs(30);
/// At most one alert check per this interval when changes arrive in a burst.
const ALERT_MIN_GAP: Duration = Duration::from_secs(5);
/// How often idle time is compared with the limit.
const IDLE_CHECK: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Shell(Arc<Inner>);

/// Shows a desktop notification: title and body.
pub type Notifier = Box<dyn Fn(&str, &str) + Send + Sync>;

/// Asks the user where to save a file (the system's save dialog), suggesting a name; `None`
/// when they cancelled. Blocking: called on Tokio's blocking pool.
pub type SaveDialog = Arc<dyn Fn(&str) -> Option<std::path::PathBuf> + Send + Sync>;

pub struct Inner {
    pub desk: Desk,
    notifier: OnceLock<Notifier>,
    save_dialog: OnceLock<SaveDialog>,
    channels: Mutex<Vec<Events<DeskEvent>>>,
    session: Mutex<Option<JoinHandle<()>>>,
    idle: Mutex<IdleClock>,
    settings: Mutex<Settings>,
    /// False until the start-up sign-in (if any) has finished; `app_start` waits for it.
    ready: watch::Sender<bool>,
}

impl Deref for Shell {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shell {
    pub fn new(desk: Desk) -> Shell {
        let settings = Settings::load(desk.data_dir());
        Shell(Arc::new(Inner {
            desk,
            notifier: OnceLock::new(),
            save_dialog: OnceLock::new(),
            channels: Mutex::new(Vec::new()),
            session: Mutex::new(None),
            idle: Mutex::new(IdleClock::new()),
            settings: Mutex::new(settings),
            ready: watch::channel(false).0,
        }))
    }

    /// Where alerts become desktop notifications (the desktop's notification plugin).
    pub fn set_notifier(&self, notifier: Notifier) {
        let _ = self.notifier.set(notifier);
    }

    /// Marks start-up finished (after the optional automatic sign-in).
    fn set_ready(&self) {
        self.ready.send_replace(true);
    }

    pub async fn start_info(&self) -> DeskResult<StartInfo> {
        let mut ready = self.ready.subscribe();
        let _ = ready.wait_for(|r| *r).await;
        self.desk.start_info().await
    }

    pub async fn sign_in(
        &self,
        server: &str,
        email: &str,
        password: &str,
        totp: Option<&str>,
        unlock: Unlock,
    ) -> DeskResult<Me> {
        let me = self
            .desk
            .sign_in(server, email, password, totp, unlock)
            .await?;
        self.session_started().await?;
        log::info!("signed in to {server} as {}", me.user.id);
        Ok(me)
    }

    pub async fn unlock(&self, unlock: Unlock) -> DeskResult<Me> {
        let me = match self.desk.me().await {
            Ok(me) => me,
            Err(_) => self.desk.resume(unlock).await?,
        };
        self.session_started().await?;
        Ok(me)
    }

    pub async fn lock(&self) {
        self.end_session();
        self.desk.lock().await;
        log::info!("locked");
    }

    pub async fn sign_out(&self, discard_unsent: bool) -> DeskResult<()> {
        self.desk.sign_out(discard_unsent).await?;
        self.end_session();
        log::info!("signed out");
        Ok(())
    }

    pub fn touch(&self) {
        lock(&self.idle).touch();
    }

    pub fn save_settings(&self, settings: Settings) -> Result<Settings, ErrorDto> {
        let saved = settings.save(self.desk.data_dir()).map_err(|e| {
            ErrorDto::from(&DeskError::Io {
                path: self.desk.data_dir().join("settings.json"),
                detail: e.to_string(),
            })
        })?;
        *lock(&self.settings) = saved.clone();
        Ok(saved)
    }

    pub fn subscribe(&self, channel: Events<DeskEvent>) {
        lock(&self.channels).push(channel);
    }

    fn emit(&self, event: DeskEvent) {
        // A channel whose webview went away (reload) fails; it is dropped.
        lock(&self.channels).retain(|c| c.send(event.clone()));
    }

    fn end_session(&self) {
        if let Some(task) = lock(&self.session).take() {
            task.abort();
        }
    }

    /// Starts background sync and the task that streams its status and changes to the UI.
    async fn session_started(&self) -> DeskResult<()> {
        self.desk.start_sync().await?;
        let status = self.desk.watch_status().await?;
        let changes = self.desk.subscribe().await?;
        let progress = self.desk.attachment_progress().await?;
        self.touch();
        let shell = self.clone();
        let task = tokio::spawn(async move {
            shell.forward(status, changes, progress).await;
        });
        if let Some(old) = lock(&self.session).replace(task) {
            old.abort();
        }
        Ok(())
    }

    async fn forward(
        &self,
        mut status: watch::Receiver<outpost_client::sync::SyncStatus>,
        mut changes: broadcast::Receiver<ChangeNotice>,
        mut progress: broadcast::Receiver<AttachmentProgress>,
    ) {
        let mut alerts = AlertWatch::new();
        let mut tick = tokio::time::interval(ALERT_PERIOD);
        let mut last_check: Option<Instant> = None;
        let current = status.borrow_and_update().clone();
        self.emit(DeskEvent::Status { status: current });
        loop {
            let check = tokio::select! {
                changed = status.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let current = status.borrow_and_update().clone();
                    self.emit(DeskEvent::Status { status: current });
                    false
                }
                notice = changes.recv() => {
                    match notice {
                        Ok(notice) => self.emit(DeskEvent::Changes { notice }),
                        // Fell behind: the UI reloads what it shows.
                        Err(broadcast::error::RecvError::Lagged(_)) => self.emit(DeskEvent::Changes {
                            notice: ChangeNotice { tickets: Vec::new(), revoked: Vec::new(), everything: true, reference: true },
                        }),
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                    last_check.is_none_or(|t| t.elapsed() >= ALERT_MIN_GAP)
                }
                moved = progress.recv() => {
                    match moved {
                        Ok(progress) => self.emit(DeskEvent::AttachmentProgress { progress }),
                        // A bar that missed a step catches up with the next one.
                        Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                    false
                }
                _ = tick.tick() => true,
            };
            if check {
                last_check = Some(Instant::now());
                let current = status.borrow().clone();
                match alerts.check(&self.desk, &current).await {
                    Ok(found) => {
                        for alert in found {
                            self.notify(&alert);
                            self.emit(DeskEvent::Alert { alert });
                        }
                    }
                    Err(DeskError::Locked) => break,
                    Err(e) => log::warn!("alert check failed: {e}"),
                }
            }
        }
    }

    /// Sets how the shell asks where to save a file (the desktop's save dialog). Without one
    /// (the development bridge), files are saved to the export directory under their name.
    pub fn set_save_dialog(&self, dialog: SaveDialog) {
        let _ = self.save_dialog.set(dialog);
    }

    /// Saves an attachment's bytes where the user chooses; `None` when they cancelled. The file
    /// is the user's own document: written with the usual mode, never opened or run.
    pub async fn save_as(&self, filename: &str, data: Vec<u8>) -> DeskResult<Option<SavedFile>> {
        let Some(dialog) = self.save_dialog.get().cloned() else {
            return self.desk.save_file(filename, &data).await.map(Some);
        };
        let suggested = filename.to_owned();
        tokio::task::spawn_blocking(move || {
            let Some(path) = dialog(&suggested) else {
                return Ok(None);
            };
            std::fs::write(&path, &data).map_err(|e| DeskError::Io {
                path: path.clone(),
                detail: e.to_string(),
            })?;
            Ok(Some(SavedFile {
                path: path.to_string_lossy().into_owned(),
                bytes: data.len() as u64,
            }))
        })
        .await
        .map_err(|e| DeskError::Io {
            path: std::path::PathBuf::new(),
            detail: e.to_string(),
        })?
    }

    fn notify(&self, alert: &Alert) {
        let Some(notifier) = self.notifier.get() else {
            return;
        };
        let language = lock(&self.settings).language;
        let (title, body) = crate::notify::text(alert, language);
        notifier(&title, &body);
    }

    /// Locks the cache after the idle time the user chose (runs for the life of the process).
    pub async fn idle_loop(&self) {
        let mut tick = tokio::time::interval(IDLE_CHECK);
        loop {
            tick.tick().await;
            let minutes = lock(&self.settings).idle_lock_minutes;
            let expired = lock(&self.idle).expired(minutes, Instant::now());
            if expired && self.desk.me().await.is_ok() {
                log::info!("idle for {minutes} min: locking");
                self.lock().await;
                self.emit(DeskEvent::Locked);
            }
        }
    }

    /// Start-up: with `sign_in` (server and e-mail, as `make run` passes them), signs in before
    /// the UI asks; otherwise opens the last profile if its key is in the keychain. Then marks
    /// start-up finished.
    pub async fn start(&self, sign_in: Option<(String, String)>) {
        match sign_in {
            Some((server, email)) => self.auto_sign_in(&server, &email).await,
            None => self.auto_resume().await,
        }
        self.set_ready();
    }

    /// A profile whose key is in the OS keychain opens at start without a prompt (the keychain
    /// is unlocked with the desktop session); a passphrase profile waits on the lock screen.
    async fn auto_resume(&self) {
        if !matches!(
            self.desk.last_profile_mode().await,
            Ok(Some(VaultMode::Keychain))
        ) {
            return;
        }
        if let Err(e) = self.unlock(Unlock::Keychain).await {
            log::info!("the last profile stays locked ({}): {e}", e.code());
        }
    }

    /// Signs in with the keychain, or the passphrase in OUTPOST_PASSPHRASE when there is no
    /// keychain; the password comes from OUTPOST_PASSWORD. Failures are logged and the UI shows
    /// the sign-in screen.
    async fn auto_sign_in(&self, server: &str, email: &str) {
        let Ok(password) = std::env::var("OUTPOST_PASSWORD") else {
            log::warn!("--server given without OUTPOST_PASSWORD: showing the sign-in screen");
            return;
        };
        let passphrase = std::env::var("OUTPOST_PASSPHRASE").ok();
        let mut result = self
            .sign_in(server, email, &password, None, Unlock::Keychain)
            .await;
        if let (Err(e), Some(passphrase)) = (&result, passphrase) {
            if e.code() == outpost_core::error::ErrorCode::NoKeychain {
                result = self
                    .sign_in(
                        server,
                        email,
                        &password,
                        None,
                        Unlock::Passphrase(passphrase),
                    )
                    .await;
            }
        }
        match result {
            Ok(_) => {}
            Err(DeskError::Vault(e)) => log::warn!("automatic sign-in: {e}"),
            Err(e) => log::warn!("automatic sign-in failed ({}): {e}", e.code()),
        }
    }
}
