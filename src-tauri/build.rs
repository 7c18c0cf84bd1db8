//! Declares the app's commands in an AppManifest: each gets an `allow-…` permission that the
//! capabilities grant per window (capabilities/*.json). A command not granted there cannot be
//! called from a webview, even though it is registered. The names come from the one command
//! table (src/command_table.rs), read here without its types; they are also handed to the
//! crate as OUTPOST_MANIFEST_COMMANDS, so a test can check the manifest and the crate agree.

fn main() {
    // The front end is embedded when this crate compiles: a new `ui/dist` (make ui) must
    // recompile it. Cargo scans a directory given here for any changed file.
    println!("cargo:rerun-if-changed=../ui/dist");
    println!("cargo:rerun-if-changed=src/command_table.rs");
    println!(
        "cargo:rustc-env=OUTPOST_MANIFEST_COMMANDS={}",
        MANIFEST_COMMANDS.join(",")
    );
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(MANIFEST_COMMANDS)),
    )
    .expect("tauri build step");
}

/// The table's reader for the manifest: names only (the types are not in scope here).
macro_rules! manifest_names {
    ($( $(#[$meta:meta])* fn $name:ident $params:tt -> $ret:ty $body:block )*) => {
        const MANIFEST_COMMANDS: &[&str] = &[$(stringify!($name)),*];
    };
}

include!("src/command_table.rs");
for_each_command!(manifest_names);
