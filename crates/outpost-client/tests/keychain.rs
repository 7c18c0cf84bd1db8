//! The vault against a real Secret Service (Linux). `make keychain-test` runs this file in
//! throwaway D-Bus sessions, selecting the scenario with `OUTPOST_TEST_SECRET_SERVICE`:
//!
//! - `1`: gnome-keyring running with an unlocked login keyring;
//! - `locked`: gnome-keyring started on demand by D-Bus, where nobody unlocked anything and no
//!   prompt can be shown. Run twice: before any keyring file exists (the service has no
//!   collection: keyring's `NoStorageAccess`) and after `1` created the login keyring (a locked
//!   collection refuses the new item: a D-Bus `IsLocked` error);
//! - `no-bus`: no session bus at all (a headless machine).
//!
//! Without the variable, or with another scenario's value, each test prints "skipped: …" and
//! passes. Profiles use unique `.invalid` server names, and every test forgets what it stored.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use outpost_client::vault::{
    AsyncVault, KdfParams, Profile, RefreshToken, Vault, VaultError, VaultMode, HEADER_FILE,
    SERVICE,
};

const SCENARIO: &str = "OUTPOST_TEST_SECRET_SERVICE";

/// True when this run is for `scenario`; otherwise says why the test does nothing.
fn runs_in(scenario: &str) -> bool {
    let current = std::env::var(SCENARIO).unwrap_or_default();
    if current == scenario {
        return true;
    }
    eprintln!(
        "skipped: needs {SCENARIO}={scenario} (now {current:?}); `make keychain-test` runs every \
         scenario in a throwaway D-Bus session"
    );
    false
}

/// A profile no other test run (or real user) has: a random server name under `.invalid`.
fn unique_profile(user: &str) -> Profile {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u32(COUNTER.fetch_add(1, Ordering::Relaxed));
    let server = format!("https://keychain-test-{:016x}.invalid", hasher.finish());
    Profile::new(&server, user).unwrap()
}

/// Forgets the profile when the test ends, pass or fail, so no entry outlives it.
struct Forget<'a>(&'a Profile, &'a Path);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        let _ = Vault::system().forget(self.0, self.1);
    }
}

/// The entry as any other Secret Service client sees it: service `outpost`, account
/// `<profile-id>/<name>`.
fn raw_entry(profile: &Profile, name: &str) -> Option<String> {
    let account = format!("{}/{name}", profile.id());
    match keyring::Entry::new(SERVICE, &account)
        .unwrap()
        .get_password()
    {
        Ok(secret) => Some(secret),
        Err(keyring::Error::NoEntry) => None,
        Err(err) => panic!("reading {account}: {err}"),
    }
}

#[test]
fn a_generated_key_is_read_back_identical_by_a_fresh_vault() {
    if !runs_in("1") {
        return;
    }
    let profile = unique_profile("alice@example.com");
    let dir = tempfile::tempdir().unwrap();
    let _forget = Forget(&profile, dir.path());

    let created = Vault::system()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap();
    assert_eq!(
        raw_entry(&profile, "db-key").unwrap(),
        hex::encode(created.db_key().as_bytes())
    );
    let header = std::fs::read_to_string(dir.path().join(HEADER_FILE)).unwrap();
    assert!(!header.contains(&hex::encode(created.db_key().as_bytes())));

    let reopened = Vault::system()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap();
    assert_eq!(reopened.db_key(), created.db_key());
    assert_eq!(
        Vault::system().mode(&profile, dir.path()).unwrap(),
        Some(VaultMode::Keychain)
    );
}

#[test]
fn refresh_tokens_are_stored_rotated_and_read_back() {
    if !runs_in("1") {
        return;
    }
    let profile = unique_profile("alice@example.com");
    let dir = tempfile::tempdir().unwrap();
    let _forget = Forget(&profile, dir.path());
    let unlocked = Vault::system()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap();

    assert!(Vault::system().refresh_token(&unlocked).unwrap().is_none());
    Vault::system()
        .store_refresh_token(&unlocked, &RefreshToken::new("rt-first"))
        .unwrap();
    Vault::system()
        .store_refresh_token(&unlocked, &RefreshToken::new("rt-rotated"))
        .unwrap();
    let fresh = Vault::system()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap();
    let token = Vault::system().refresh_token(&fresh).unwrap().unwrap();
    assert_eq!(token.expose(), "rt-rotated");
    assert_eq!(raw_entry(&profile, "refresh-token").unwrap(), "rt-rotated");

    Vault::system().clear_refresh_token(&fresh).unwrap();
    assert!(Vault::system().refresh_token(&fresh).unwrap().is_none());
    assert_eq!(raw_entry(&profile, "db-key").unwrap().len(), 64);
}

#[test]
fn forget_removes_the_key_and_the_refresh_token() {
    if !runs_in("1") {
        return;
    }
    let profile = unique_profile("alice@example.com");
    let dir = tempfile::tempdir().unwrap();
    let _forget = Forget(&profile, dir.path());
    let vault = Vault::system();
    let unlocked = vault.unlock_with_keychain(&profile, dir.path()).unwrap();
    vault
        .store_refresh_token(&unlocked, &RefreshToken::new("rt"))
        .unwrap();
    assert!(raw_entry(&profile, "db-key").is_some());
    assert!(raw_entry(&profile, "refresh-token").is_some());

    vault.forget(&profile, dir.path()).unwrap();
    assert_eq!(raw_entry(&profile, "db-key"), None);
    assert_eq!(raw_entry(&profile, "refresh-token"), None);
    assert!(!dir.path().join(HEADER_FILE).exists());
    // Already gone: still fine.
    vault.forget(&profile, dir.path()).unwrap();

    // The next sign-in starts over with a new key.
    let again = vault.unlock_with_keychain(&profile, dir.path()).unwrap();
    assert_ne!(again.db_key(), unlocked.db_key());
}

#[test]
fn two_profiles_do_not_collide() {
    if !runs_in("1") {
        return;
    }
    let alice = unique_profile("alice@example.com");
    // Same server, another user.
    let bob = Profile::new(alice.server_url(), "bob@example.com").unwrap();
    let (alice_dir, bob_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let _forget_alice = Forget(&alice, alice_dir.path());
    let _forget_bob = Forget(&bob, bob_dir.path());
    let vault = Vault::system();

    let a = vault
        .unlock_with_keychain(&alice, alice_dir.path())
        .unwrap();
    let b = vault.unlock_with_keychain(&bob, bob_dir.path()).unwrap();
    assert_ne!(a.db_key(), b.db_key());
    vault
        .store_refresh_token(&a, &RefreshToken::new("rt-alice"))
        .unwrap();
    vault
        .store_refresh_token(&b, &RefreshToken::new("rt-bob"))
        .unwrap();

    vault.forget(&alice, alice_dir.path()).unwrap();
    assert_eq!(raw_entry(&alice, "db-key"), None);
    let b_again = vault.unlock_with_keychain(&bob, bob_dir.path()).unwrap();
    assert_eq!(b_again.db_key(), b.db_key());
    assert_eq!(
        vault.refresh_token(&b_again).unwrap().unwrap().expose(),
        "rt-bob"
    );
}

#[tokio::test]
async fn the_async_api_works_against_the_secret_service() {
    if !runs_in("1") {
        return;
    }
    let profile = unique_profile("carol@example.com");
    let dir = tempfile::tempdir().unwrap();
    let _forget = Forget(&profile, dir.path());
    let vault = AsyncVault::new(Vault::system());

    let unlocked = vault
        .unlock_with_keychain(&profile, dir.path())
        .await
        .unwrap();
    vault
        .store_refresh_token(&unlocked, &RefreshToken::new("rt-async"))
        .await
        .unwrap();
    let again = vault
        .unlock_with_keychain(&profile, dir.path())
        .await
        .unwrap();
    assert_eq!(again.db_key(), unlocked.db_key());
    let token = vault.refresh_token(&again).await.unwrap().unwrap();
    assert_eq!(token.expose(), "rt-async");
    vault.forget(&profile, dir.path()).await.unwrap();
    assert_eq!(raw_entry(&profile, "db-key"), None);
}

#[test]
fn a_secret_service_without_an_unlocked_keyring_is_reported_as_locked() {
    if !runs_in("locked") {
        return;
    }
    let profile = unique_profile("alice@example.com");
    let dir = tempfile::tempdir().unwrap();
    let err = Vault::system()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap_err();
    assert!(matches!(err, VaultError::KeychainLocked { .. }), "{err:?}");
    assert!(err.offers_passphrase());
    assert!(!dir.path().join(HEADER_FILE).exists());
    eprintln!("reported: {err}");
    passphrase_still_works(&profile, dir.path());
}

#[test]
fn no_session_bus_is_reported_as_no_keychain() {
    if !runs_in("no-bus") {
        return;
    }
    let profile = unique_profile("alice@example.com");
    let dir = tempfile::tempdir().unwrap();
    let err = Vault::system()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap_err();
    assert!(matches!(err, VaultError::NoKeychain { .. }), "{err:?}");
    assert!(err.offers_passphrase());
    assert!(!dir.path().join(HEADER_FILE).exists());
    eprintln!("reported: {err}");
    passphrase_still_works(&profile, dir.path());
}

/// The way out the errors offer: a passphrase profile, usable and removable without a keychain.
fn passphrase_still_works(profile: &Profile, dir: &Path) {
    let vault = Vault::system().with_kdf_params(KdfParams::new(1024, 1, 1).unwrap());
    let created = vault
        .create_with_passphrase(profile, dir, "a passphrase for a headless box")
        .unwrap();
    vault
        .store_refresh_token(&created, &RefreshToken::new("rt-sealed"))
        .unwrap();
    let unlocked = vault
        .unlock_with_passphrase(profile, dir, "a passphrase for a headless box")
        .unwrap();
    assert_eq!(unlocked.db_key(), created.db_key());
    assert_eq!(
        vault.refresh_token(&unlocked).unwrap().unwrap().expose(),
        "rt-sealed"
    );
    vault.forget(profile, dir).unwrap();
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0);
}
