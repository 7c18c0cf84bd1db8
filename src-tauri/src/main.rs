//! The Outpost desktop app: a Tauri 2 shell over the Desk service. The window loads the SolidJS
//! workspace embedded in the binary (ui/dist); the commands are declared once in the library's
//! `command_table.rs` and become `#[tauri::command]`s here, granted to the main window by
//! capabilities/main.json (generated from the same table).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::PathBuf;

use clap::Parser;
use outpost_client::desk::{Desk, DeskConfig};
use outpost_client::vault::Vault;
use outpost_desktop::shell::Shell;
use tauri::Manager;

/// The table's reader for Tauri: one `#[tauri::command]` per entry (arguments as the page sends
/// them, a `Channel` for a `@channel` argument, the raw body and headers for a `#body` one) and
/// the `generate_handler!` list.
macro_rules! tauri_commands {
    ($(
        $(#[doc = $doc:literal])*
        $(#[ts($($hint:ident = $value:ident),*)])?
        fn $name:ident(
            $shell:ident $(, $arg:ident: $ty:ty)* $(, @$chan:ident: $msg:ty)?
            $(, #$raw:ident)? $(,)?
        ) -> $ret:ty $body:block
    )*) => {
        $(
            tauri_command! {
                [$(#[doc = $doc])*] $name $shell [$($arg: $ty),*] [$($chan: $msg)?] [$($raw)?]
                $ret $body
            }
        )*

        /// Every command, registered.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }

        /// The names given to `generate_handler!`, for the test that the lists agree.
        #[cfg(test)]
        pub const HANDLED: &[&str] = &[$(stringify!($name)),*];
    };
}

/// One command of [`tauri_commands!`]: JSON arguments (and a channel), or a raw body with the
/// arguments in `x-outpost-…` headers.
macro_rules! tauri_command {
    (
        [$($doc:tt)*] $name:ident $shell:ident [$($arg:ident: $ty:ty),*]
        [$($chan:ident: $msg:ty)?] [] $ret:ty $body:block
    ) => {
        $($doc)*
        #[tauri::command]
        pub async fn $name(
            $shell: tauri::State<'_, Shell>,
            $($arg: $ty,)*
            $($chan: tauri::ipc::Channel<$msg>,)?
        ) -> Result<$ret, ErrorDto> {
            // A channel whose webview went away (reload) fails: the message is dropped.
            $(let $chan = Events::new(move |m: $msg| $chan.send(m).is_ok());)?
            let _ = &$shell;
            $body
        }
    };
    (
        [$($doc:tt)*] $name:ident $shell:ident [$($arg:ident: $ty:ty),*]
        [] [$raw:ident] $ret:ty $body:block
    ) => {
        $($doc)*
        #[tauri::command]
        pub async fn $name(
            $shell: tauri::State<'_, Shell>,
            request: tauri::ipc::Request<'_>,
        ) -> Result<$ret, ErrorDto> {
            #[derive(serde::Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Args { $($arg: $ty,)* }
            let args = outpost_desktop::commands::args_from_headers(
                request.headers().iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
            )?;
            let Args { $($arg,)* } = serde_json::from_value(args).map_err(|e| ErrorDto {
                code: outpost_core::error::ErrorCode::BadRequest,
                message: format!("invalid arguments for `{}`: {e}", stringify!($name)),
            })?;
            let $raw: Vec<u8> = match request.body() {
                tauri::ipc::InvokeBody::Raw(bytes) => bytes.clone(),
                tauri::ipc::InvokeBody::Json(_) => {
                    return Err(outpost_desktop::commands::not_raw(stringify!($name)))
                }
            };
            let _ = &$shell;
            $body
        }
    };
}

mod commands {
    use outpost_desktop::commands::prelude::*;
    outpost_desktop::for_each_command!(tauri_commands);
}

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

fn main() {
    outpost_desktop::STARTED.get_or_init(std::time::Instant::now);
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
        // Used from Rust only (the save dialog); the webview is granted none of its commands.
        .plugin(tauri_plugin_dialog::init())
        .manage(shell.clone())
        .invoke_handler(commands::handler())
        .setup(move |app| {
            let handle = app.handle().clone();
            shell.set_notifier(Box::new(move |title, body| {
                use tauri_plugin_notification::NotificationExt;
                let shown = handle
                    .notification()
                    .builder()
                    .title(title)
                    .body(body)
                    .show();
                if let Err(e) = shown {
                    // No notification daemon (a bare X server, CI): the UI still gets the event.
                    log::debug!("desktop notification not shown: {e}");
                }
            }));
            let dialogs = app.handle().clone();
            shell.set_save_dialog(std::sync::Arc::new(move |name| {
                use tauri_plugin_dialog::DialogExt;
                dialogs
                    .dialog()
                    .file()
                    .set_file_name(name)
                    .blocking_save_file()
                    .and_then(|path| path.into_path().ok())
            }));
            let idle = shell.clone();
            tauri::async_runtime::spawn(async move { idle.idle_loop().await });
            let shell = shell.clone();
            let sign_in = cli.server.zip(cli.email);
            tauri::async_runtime::spawn(async move { shell.start(sign_in).await });
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

#[cfg(test)]
mod tests {
    /// The handler registers exactly the table's commands (the library's reading of it).
    #[test]
    fn the_handler_registers_every_command() {
        assert_eq!(
            super::commands::HANDLED,
            outpost_desktop::commands::COMMAND_NAMES
        );
    }
}
