//! The desktop shell without its window: the [`shell::Shell`] around the Desk, and the app's
//! commands, declared once in `command_table.rs` ([`for_each_command!`]) and expanded by each
//! reader — the desktop binary (main.rs: Tauri commands), the development bridge (`dev-bridge`
//! feature: the same commands over loopback HTTP for the browser preview), build.rs (the
//! AppManifest) and the TypeScript generator (`ts` feature, tests/commands.rs).

mod command_table;
pub mod commands;
#[cfg(feature = "dev-bridge")]
pub mod dev_bridge;
pub mod notify;
pub mod preview;
pub mod shell;

/// When the process started: the UI's start-up marks are logged against it
/// ([`commands::log_startup_mark`]). Set first thing in `main`.
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
