//! The Outpost desktop app: a Tauri 2 shell over the Desk service. The window loads the SolidJS
//! workspace embedded in the binary (ui/dist); every command is a one-line wrapper over the Desk
//! (commands.rs), granted to the main window by capabilities/main.json.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
#[allow(dead_code)]
mod commands_list;
mod notify;
mod shell;

use std::path::PathBuf;

use clap::Parser;
use outpost_client::desk::{Desk, DeskConfig, DeskError, Unlock};
use outpost_client::vault::{Vault, VaultMode};
use tauri::Manager;

use crate::shell::Shell;

#[derive(Parser, Debug)]
#[command(
    name = "outpost-desktop",
    version,
    about = "The Outpost desktop helpdesk"
)]
struct Cli {
    /// Where profiles, caches and settings live (default: OUTPOST_DATA_DIR, else the platform
    /// data directory).
    #[arg(long, env = "OUTPOST_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Sign in to this server at start (with --email; the password from OUTPOST_PASSWORD).
    #[arg(long, env = "OUTPOST_SERVER", requires = "email")]
    server: Option<String>,
    #[arg(long, env = "OUTPOST_EMAIL", requires = "server")]
    email: Option<String>,
}

/// When `main` started: the UI's start-up marks are logged against it (`commands::startup_mark`).
pub(crate) static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

fn main() {
    STARTED.get_or_init(std::time::Instant::now);
    // WebKitGTK's accelerated compositing costs this list-and-form UI ~150 MiB in the web
    // process and a third of its scroll latency (BENCHMARKS.md, desktop); without it pages are
    // painted directly. Set before GTK starts; an explicit setting in the environment wins.
    // GTK cannot start without a display and tao panics when it fails: say it plainly instead.
    #[cfg(target_os = "linux")]
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!(
            "outpost-desktop: no graphical session (neither DISPLAY nor WAYLAND_DISPLAY is set). \
             Start it from a desktop session; the `outpost` CLI works without one."
        );
        std::process::exit(1);
    }
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    // tauri-driver and WebKitWebDriver pass arguments of their own; unknown ones are ignored.
    let cli = Cli::try_parse().unwrap_or_else(|_| Cli {
        data_dir: std::env::var_os("OUTPOST_DATA_DIR").map(PathBuf::from),
        server: None,
        email: None,
    });
    let data_dir = cli
        .data_dir
        .clone()
        .unwrap_or_else(DeskConfig::default_data_dir);
    let desk = Desk::new(
        Vault::system(),
        DeskConfig {
            data_dir,
            ca_pem: None,
        },
    );
    let shell = Shell::new(desk);

    let app = tauri::Builder::default()
        // First, so a second launch only focuses the running window (one process owns the
        // cache and the keychain entries).
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_window_state::Builder::new().build())
        .plugin(
            tauri_plugin_log::Builder::new()
                .level(log::LevelFilter::Info)
                .level_for("tao", log::LevelFilter::Warn)
                .level_for("wry", log::LevelFilter::Warn)
                .build(),
        )
        .plugin(tauri_plugin_notification::init())
        .manage(shell.clone())
        .invoke_handler(tauri::generate_handler![
            commands::app_start,
            commands::sign_in,
            commands::unlock,
            commands::lock,
            commands::sign_out,
            commands::activity,
            commands::settings_set,
            commands::subscribe,
            commands::queue,
            commands::queue_count,
            commands::ticket,
            commands::resolve_key,
            commands::search,
            commands::change,
            commands::reply,
            commands::note,
            commands::templates,
            commands::directory,
            commands::status_machine,
            commands::conflicts,
            commands::sync_problems,
            commands::dismiss,
            commands::reapply,
            commands::sync_status,
            commands::sync_now,
            commands::startup_mark,
            commands::report,
            commands::audit_page,
            commands::audit_verify,
            commands::audit_export,
            commands::audit_check_export,
            commands::save_file,
            commands::ticket_keys,
        ])
        .setup(move |app| {
            shell.attach(app.handle().clone());
            let shell = shell.clone();
            let start = (cli.server, cli.email);
            tauri::async_runtime::spawn(async move {
                match start {
                    (Some(server), Some(email)) => auto_sign_in(&shell, &server, &email).await,
                    _ => auto_resume(&shell).await,
                }
                shell.set_ready();
            });
            Ok(())
        })
        .build(tauri::generate_context!());
    // No display, no WebKitGTK, an unwritable data directory: say so and exit, no panic trace.
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!(
                "outpost-desktop: the window could not be created: {e}. A graphical session \
                 (DISPLAY or WAYLAND_DISPLAY) and WebKitGTK 4.1 are needed; the `outpost` CLI \
                 works without them."
            );
            std::process::exit(1);
        }
    };
    app.run(|_, _| {});
}

/// A profile whose key is in the OS keychain opens at start without a prompt (the keychain is
/// unlocked with the desktop session); a passphrase profile waits on the lock screen.
async fn auto_resume(shell: &Shell) {
    if !matches!(
        shell.desk.last_profile_mode().await,
        Ok(Some(VaultMode::Keychain))
    ) {
        return;
    }
    if let Err(e) = shell.unlock(Unlock::Keychain).await {
        log::info!("the last profile stays locked ({}): {e}", e.code());
    }
}

/// `--server/--email` (as `make run` passes them): sign in before the UI asks, with the
/// keychain, or the passphrase in OUTPOST_PASSPHRASE when there is no keychain. Failures are
/// logged and the UI shows the sign-in screen.
async fn auto_sign_in(shell: &Shell, server: &str, email: &str) {
    let Ok(password) = std::env::var("OUTPOST_PASSWORD") else {
        log::warn!("--server given without OUTPOST_PASSWORD: showing the sign-in screen");
        return;
    };
    let passphrase = std::env::var("OUTPOST_PASSPHRASE").ok();
    let mut result = shell
        .sign_in(server, email, &password, None, Unlock::Keychain)
        .await;
    if let (Err(e), Some(passphrase)) = (&result, passphrase) {
        if e.code() == "no_keychain" || e.code() == "passphrase_required" {
            result = shell
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
