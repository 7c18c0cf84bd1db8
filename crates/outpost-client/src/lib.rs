//! The Outpost desktop client library: the vault (keys and tokens in the OS keychain), the
//! sync engine, and the Desk service the desktop shell and the `outpost` CLI call.

pub mod admin;
pub mod api;
pub mod app;
pub mod attachments;
pub mod desk;
mod private_files;
pub mod supervisor;
pub mod sync;
pub mod vault;
