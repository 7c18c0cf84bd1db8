//! What the desktop client writes under its data directory is private to the user (Unix): after
//! a real sign-in, the initial sync, an audit verification and a settings save, every directory
//! is 0700 and every file 0600, although this process creates plain files 0644 (umask 022).

#![cfg(unix)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use outpost_client::app::Settings;
use outpost_system_tests::{Backend, Client, Server};

/// Permission bits of everything under `root`, by relative path (`""` is `root`).
fn modes(root: &Path) -> BTreeMap<String, (bool, u32)> {
    let mut found = BTreeMap::new();
    let mut pending = vec![root.to_owned()];
    while let Some(path) = pending.pop() {
        let metadata = std::fs::metadata(&path).unwrap();
        if metadata.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                pending.push(entry.unwrap().path());
            }
        }
        let name = path.strip_prefix(root).unwrap().display().to_string();
        found.insert(
            name,
            (metadata.is_dir(), metadata.permissions().mode() & 0o777),
        );
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_profile_is_private_to_the_user() {
    let server = Server::start(Backend::Sqlite).await;
    let admin = Client::ready(&server.url(), &server.org.admin).await;
    let check = admin.desk.audit_verify().await.unwrap();
    assert!(check.ok(), "{check:?}");
    Settings::default().save(admin.data_dir()).unwrap();

    let data_dir = admin.data_dir().to_owned();
    // Without the client's care the files would be readable by others here.
    let control = data_dir.join("control");
    std::fs::write(&control, b"x").unwrap();
    let control_mode = std::fs::metadata(&control).unwrap().permissions().mode() & 0o777;
    std::fs::remove_file(&control).unwrap();

    let found = modes(&data_dir);
    let names: Vec<&str> = found
        .keys()
        .filter_map(|path| path.rsplit('/').next())
        .collect();
    for expected in [
        "last-profile",
        "settings.json",
        "vault.json",
        "refresh-token.sealed",
        "profile.json",
        "cache.db",
        "cache.db-wal",
        "audit-head.json",
    ] {
        assert!(names.contains(&expected), "no {expected} in {found:?}");
    }
    for (path, (is_dir, mode)) in &found {
        let wanted = if *is_dir { 0o700 } else { 0o600 };
        assert_eq!(
            *mode, wanted,
            "{path:?} is {mode:o} (plain files here are {control_mode:o})"
        );
    }

    // Signing out leaves nothing of the profile behind: not the verified head, not a journal.
    let profile_dir = data_dir.join(
        found
            .keys()
            .find(|path| path.ends_with("/profile.json"))
            .and_then(|path| path.rsplit_once('/'))
            .map(|(dir, _)| dir.to_owned())
            .expect("a profile directory"),
    );
    assert!(profile_dir.is_dir());
    admin.desk.sign_out(true).await.unwrap();
    assert!(
        !profile_dir.exists(),
        "left behind: {:?}",
        std::fs::read_dir(&profile_dir)
            .map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
    );
}
