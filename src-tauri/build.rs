//! Declares the app's commands in an AppManifest: each gets an `allow-…` permission that the
//! capabilities grant per window (capabilities/*.json). A command not granted there cannot be
//! called from a webview, even though it is registered.

fn main() {
    // The front end is embedded when this crate compiles: a new `ui/dist` (make ui) must
    // recompile it. Cargo scans a directory given here for any changed file.
    println!("cargo:rerun-if-changed=../ui/dist");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(outpost_commands::ALL)),
    )
    .expect("tauri build step");
}

#[path = "src/commands_list.rs"]
mod outpost_commands;
