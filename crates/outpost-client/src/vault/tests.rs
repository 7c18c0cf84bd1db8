//! Unit tests on keyring's mock credential store (error injection with
//! `MockCredential::set_error`); `tests/keychain.rs` runs against a real Secret Service.

use std::any::Any;
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};

use keyring::credential::{Credential, CredentialApi, CredentialBuilderApi, CredentialPersistence};
use keyring::mock::MockCredential;

use super::*;

/// keyring's mock credentials, one per account, shared by every credential built for
/// that pair: values persist across calls like a real keychain (keyring's own mock builder
/// starts each entry empty), and a test injects errors with `MockCredential::set_error`.
#[derive(Clone, Default)]
struct MockKeychain {
    /// By account; the service is always [`SERVICE`] (checked in `build`).
    entries: Arc<Mutex<HashMap<String, Arc<MockCredential>>>>,
    threads: Arc<Mutex<Vec<ThreadId>>>,
}

impl MockKeychain {
    fn vault(&self) -> Vault {
        Vault::new(Box::new(self.clone()), SERVICE).with_kdf_params(fast_kdf())
    }

    fn credential(&self, account: &str) -> Arc<MockCredential> {
        self.entries
            .lock()
            .unwrap()
            .entry(account.to_owned())
            .or_default()
            .clone()
    }

    /// What the keychain holds for `account`, read around the vault.
    fn stored(&self, account: &str) -> Option<Vec<u8>> {
        let credential = self.credential(account);
        let data = credential.inner.lock().unwrap();
        let secret = data.borrow().secret.clone();
        secret
    }

    fn put(&self, account: &str, secret: &[u8]) {
        self.credential(account).set_secret(secret).unwrap();
    }

    fn fail_next(&self, account: &str, error: keyring::Error) {
        self.credential(account).set_error(error);
    }
}

impl CredentialBuilderApi for MockKeychain {
    fn build(
        &self,
        _target: Option<&str>,
        service: &str,
        user: &str,
    ) -> keyring::Result<Box<Credential>> {
        assert_eq!(service, SERVICE);
        self.threads.lock().unwrap().push(thread::current().id());
        Ok(Box::new(Shared(self.credential(user))))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn persistence(&self) -> CredentialPersistence {
        CredentialPersistence::ProcessOnly
    }
}

struct Shared(Arc<MockCredential>);

impl CredentialApi for Shared {
    fn set_password(&self, password: &str) -> keyring::Result<()> {
        self.0.set_password(password)
    }
    fn set_secret(&self, secret: &[u8]) -> keyring::Result<()> {
        self.0.set_secret(secret)
    }
    fn get_password(&self) -> keyring::Result<String> {
        self.0.get_password()
    }
    fn get_secret(&self) -> keyring::Result<Vec<u8>> {
        self.0.get_secret()
    }
    fn delete_credential(&self) -> keyring::Result<()> {
        self.0.delete_credential()
    }
    fn as_any(&self) -> &dyn Any {
        self.0.as_ref()
    }
}

/// Argon2id at its floor: these tests check the construction, not the cost.
fn fast_kdf() -> KdfParams {
    KdfParams::new(64, 1, 1).unwrap()
}

fn profile() -> Profile {
    Profile::new("https://desk.example.com", "alice@example.com").unwrap()
}

fn db_account(profile: &Profile) -> String {
    format!("{}/db-key", profile.id())
}

fn token_account(profile: &Profile) -> String {
    format!("{}/refresh-token", profile.id())
}

/// What a headless Linux without a Secret Service reports (via keyring's `PlatformFailure`).
fn no_secret_service() -> keyring::Error {
    keyring::Error::PlatformFailure(Box::new(io::Error::other(
        "D-Bus error: The name org.freedesktop.secrets was not provided by any .service files",
    )))
}

/// What a locked collection reports (via keyring's `NoStorageAccess`).
fn locked() -> keyring::Error {
    keyring::Error::NoStorageAccess(Box::new(io::Error::other("SS error: object locked")))
}

const PASSPHRASE: &str = "correct horse battery staple";

/// The raw bytes and every hex spelling of `secret`: none may appear in a file on disk.
fn spellings(secret: &[u8]) -> Vec<Vec<u8>> {
    vec![
        secret.to_vec(),
        hex::encode(secret).into_bytes(),
        hex::encode_upper(secret).into_bytes(),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn assert_holds_none_of(path: &Path, secrets: &[&[u8]]) {
    let bytes = fs::read(path).unwrap();
    for secret in secrets {
        for spelling in spellings(secret) {
            assert!(
                !contains(&bytes, &spelling),
                "{} contains a secret",
                path.display()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Profiles

#[test]
fn equivalent_server_urls_and_users_name_the_same_profile() {
    let canonical = profile();
    assert_eq!(canonical.server_url(), "https://desk.example.com");
    assert_eq!(canonical.user(), "alice@example.com");
    for (url, user) in [
        ("https://desk.example.com/", "alice@example.com"),
        ("HTTPS://Desk.Example.COM:443", " Alice@Example.com "),
        (" https://desk.example.com// ", "ALICE@EXAMPLE.COM"),
    ] {
        assert_eq!(Profile::new(url, user).unwrap(), canonical, "{url} {user}");
    }
    let id = canonical.id().as_str();
    assert_eq!(id.len(), 32);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
}

#[test]
fn ports_paths_schemes_and_users_tell_profiles_apart() {
    let with_path = Profile::new("http://127.0.0.1:8080/outpost/", "bob").unwrap();
    assert_eq!(with_path.server_url(), "http://127.0.0.1:8080/outpost");
    let others = [
        profile(),
        with_path,
        Profile::new("http://desk.example.com", "alice@example.com").unwrap(),
        Profile::new("https://desk.example.com:8443", "alice@example.com").unwrap(),
        Profile::new("https://desk.example.com/eu", "alice@example.com").unwrap(),
        Profile::new("https://desk.example.com", "bob@example.com").unwrap(),
        Profile::new("https://[::1]:9000", "alice@example.com").unwrap(),
    ];
    for (i, a) in others.iter().enumerate() {
        for b in &others[i + 1..] {
            assert_ne!(a.id(), b.id(), "{a:?} vs {b:?}");
        }
    }
}

#[test]
fn unusable_server_urls_and_users_are_refused() {
    for url in [
        "desk.example.com",
        "ftp://desk.example.com",
        "mailto:alice@example.com",
        "https://alice:secret@desk.example.com",
        "https://desk.example.com/?tenant=1",
        "https://desk.example.com/#top",
        "",
    ] {
        let err = Profile::new(url, "alice@example.com").unwrap_err();
        assert!(matches!(err, VaultError::InvalidProfile { .. }), "{url}");
    }
    let err = Profile::new("https://alice:secret@desk.example.com", "a").unwrap_err();
    assert!(!err.to_string().contains("secret"), "{err}");
    for user in ["", "   ", "ali\nce", "ali\0ce"] {
        assert!(Profile::new("https://desk.example.com", user).is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// Keychain profiles

#[test]
fn first_unlock_stores_a_fresh_key_and_later_unlocks_return_it() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();

    assert_eq!(keychain.vault().mode(&profile, dir.path()).unwrap(), None);
    let first = keychain
        .vault()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap();
    assert_eq!(first.mode(), VaultMode::Keychain);
    assert_eq!(
        keychain.vault().mode(&profile, dir.path()).unwrap(),
        Some(VaultMode::Keychain)
    );
    // Stored as the 64 hex characters SQLCipher's raw-key pragma takes.
    assert_eq!(
        keychain.stored(&db_account(&profile)).unwrap(),
        hex::encode(first.db_key().as_bytes()).into_bytes()
    );

    let again = keychain
        .vault()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap();
    assert_eq!(again.db_key(), first.db_key());

    let other_dir = tempfile::tempdir().unwrap();
    let other = Profile::new("https://desk.example.com", "bob@example.com").unwrap();
    let bob = keychain
        .vault()
        .unlock_with_keychain(&other, other_dir.path())
        .unwrap();
    assert_ne!(bob.db_key(), first.db_key());

    let header = fs::read_to_string(dir.path().join(HEADER_FILE)).unwrap();
    assert!(header.contains(r#""mode": "keychain""#), "{header}");
    assert_holds_none_of(&dir.path().join(HEADER_FILE), &[first.db_key().as_bytes()]);
}

#[test]
fn no_keychain_is_a_clear_error_and_writes_nothing() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();
    keychain.fail_next(&db_account(&profile), no_secret_service());

    let err = keychain
        .vault()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap_err();
    assert!(matches!(err, VaultError::NoKeychain { .. }), "{err:?}");
    assert!(err.offers_passphrase());
    let message = err.to_string();
    assert!(
        message.starts_with("no system keychain is available"),
        "{message}"
    );
    assert!(message.contains("org.freedesktop.secrets"), "{message}");
    assert!(message.contains("passphrase"), "{message}");
    assert!(!dir.path().join(HEADER_FILE).exists());
    assert_eq!(keychain.stored(&db_account(&profile)), None);

    // The user chooses a passphrase instead.
    let unlocked = keychain
        .vault()
        .create_with_passphrase(&profile, dir.path(), PASSPHRASE)
        .unwrap();
    assert_eq!(unlocked.mode(), VaultMode::Passphrase);
}

#[test]
fn a_locked_keychain_is_a_clear_error() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();
    let key = keychain
        .vault()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap();

    keychain.fail_next(&db_account(&profile), locked());
    let err = keychain
        .vault()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap_err();
    assert!(matches!(err, VaultError::KeychainLocked { .. }), "{err:?}");
    assert!(err.offers_passphrase());
    let message = err.to_string();
    assert!(
        message.starts_with("the system keychain is locked"),
        "{message}"
    );
    assert!(message.contains("Unlock it"), "{message}");

    // Once unlocked, the same key comes back.
    let again = keychain
        .vault()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap();
    assert_eq!(again.db_key(), key.db_key());
}

/// keyring reports a refused item creation in a locked Secret Service collection as a platform
/// failure wrapping the D-Bus error; its name must still read as "locked".
#[cfg(target_os = "linux")]
#[test]
fn a_locked_secret_service_collection_is_reported_as_locked() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();
    let refusal = |name: &str| {
        keyring::Error::PlatformFailure(Box::new(dbus::Error::new_custom(
            name,
            "Cannot create an item in a locked collection",
        )))
    };

    keychain.fail_next(
        &db_account(&profile),
        refusal("org.freedesktop.Secret.Error.IsLocked"),
    );
    let err = keychain
        .vault()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap_err();
    assert!(matches!(err, VaultError::KeychainLocked { .. }), "{err:?}");

    keychain.fail_next(
        &db_account(&profile),
        refusal("org.freedesktop.DBus.Error.ServiceUnknown"),
    );
    let err = keychain
        .vault()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap_err();
    assert!(matches!(err, VaultError::NoKeychain { .. }), "{err:?}");
}

#[test]
fn a_key_gone_from_the_keychain_is_reported_not_replaced() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();
    keychain
        .vault()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap();
    keychain
        .credential(&db_account(&profile))
        .delete_credential()
        .unwrap();

    let err = keychain
        .vault()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap_err();
    assert!(matches!(err, VaultError::KeyMissing), "{err:?}");
    assert_eq!(keychain.stored(&db_account(&profile)), None);
}

#[test]
fn a_key_stored_before_a_cut_short_first_run_is_reused() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();
    let earlier = [0x5a; 32];
    keychain.put(&db_account(&profile), hex::encode(earlier).as_bytes());

    let unlocked = keychain
        .vault()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap();
    assert_eq!(unlocked.db_key().as_bytes(), &earlier);
    assert!(dir.path().join(HEADER_FILE).exists());
}

#[test]
fn damaged_keychain_entries_are_reported_without_their_content() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();

    keychain.put(&db_account(&profile), b"hunter2-not-a-key");
    let err = keychain
        .vault()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap_err();
    assert!(matches!(err, VaultError::CorruptEntry { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("hunter2"));

    keychain.fail_next(
        &db_account(&profile),
        keyring::Error::BadEncoding(b"hunter2\xff".to_vec()),
    );
    let err = keychain
        .vault()
        .unlock_with_keychain(&profile, dir.path())
        .unwrap_err();
    assert!(matches!(err, VaultError::CorruptEntry { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("hunter2"));
}

#[test]
fn keychain_refresh_tokens_are_stored_rotated_and_cleared() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();
    let vault = keychain.vault();
    let unlocked = vault.unlock_with_keychain(&profile, dir.path()).unwrap();

    assert!(vault.refresh_token(&unlocked).unwrap().is_none());
    vault
        .store_refresh_token(&unlocked, &RefreshToken::new("rt-one"))
        .unwrap();
    assert_eq!(
        keychain.stored(&token_account(&profile)).unwrap(),
        b"rt-one"
    );
    vault
        .store_refresh_token(&unlocked, &RefreshToken::new("rt-two"))
        .unwrap();
    let token = keychain.vault().refresh_token(&unlocked).unwrap().unwrap();
    assert_eq!(token.expose(), "rt-two");

    keychain.fail_next(&token_account(&profile), locked());
    let err = vault.refresh_token(&unlocked).unwrap_err();
    assert!(matches!(err, VaultError::KeychainLocked { .. }), "{err:?}");

    vault.clear_refresh_token(&unlocked).unwrap();
    vault.clear_refresh_token(&unlocked).unwrap();
    assert!(vault.refresh_token(&unlocked).unwrap().is_none());
    // Nothing but the header on disk.
    let files: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, [HEADER_FILE]);
}

#[test]
fn forget_removes_both_entries_and_the_header() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();
    let vault = keychain.vault();
    let unlocked = vault.unlock_with_keychain(&profile, dir.path()).unwrap();
    vault
        .store_refresh_token(&unlocked, &RefreshToken::new("rt"))
        .unwrap();

    vault.forget(&profile, dir.path()).unwrap();
    assert_eq!(keychain.stored(&db_account(&profile)), None);
    assert_eq!(keychain.stored(&token_account(&profile)), None);
    assert_eq!(vault.mode(&profile, dir.path()).unwrap(), None);
    // Forgetting again, or a profile never set up, is fine.
    vault.forget(&profile, dir.path()).unwrap();
    let never = tempfile::tempdir().unwrap();
    vault.forget(&profile, never.path()).unwrap();

    // A rotation arriving after sign-out does not resurrect the profile.
    let err = vault
        .store_refresh_token(&unlocked, &RefreshToken::new("late"))
        .unwrap_err();
    assert!(matches!(err, VaultError::NotInitialised), "{err:?}");
    assert_eq!(keychain.stored(&token_account(&profile)), None);
}

#[test]
fn forget_keeps_the_header_when_the_keychain_cannot_delete() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();
    let vault = keychain.vault();
    vault.unlock_with_keychain(&profile, dir.path()).unwrap();

    keychain.fail_next(&db_account(&profile), locked());
    let err = vault.forget(&profile, dir.path()).unwrap_err();
    assert!(matches!(err, VaultError::KeychainLocked { .. }), "{err:?}");
    assert_eq!(
        vault.mode(&profile, dir.path()).unwrap(),
        Some(VaultMode::Keychain)
    );
    vault.forget(&profile, dir.path()).unwrap();
    assert_eq!(keychain.stored(&db_account(&profile)), None);
}

// ---------------------------------------------------------------------------------------------
// Passphrase profiles

#[test]
fn passphrase_round_trip() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();
    let created = keychain
        .vault()
        .create_with_passphrase(&profile, dir.path(), PASSPHRASE)
        .unwrap();
    assert_eq!(created.mode(), VaultMode::Passphrase);
    assert_eq!(
        keychain.vault().mode(&profile, dir.path()).unwrap(),
        Some(VaultMode::Passphrase)
    );

    let unlocked = keychain
        .vault()
        .unlock_with_passphrase(&profile, dir.path(), PASSPHRASE)
        .unwrap();
    assert_eq!(unlocked.db_key(), created.db_key());
    // The keychain is never touched.
    assert!(keychain.entries.lock().unwrap().is_empty());

    // Same passphrase, another profile (another salt): another key.
    let other_dir = tempfile::tempdir().unwrap();
    let other = Profile::new("https://desk.example.com", "bob@example.com").unwrap();
    let bob = keychain
        .vault()
        .create_with_passphrase(&other, other_dir.path(), PASSPHRASE)
        .unwrap();
    assert_ne!(bob.db_key(), created.db_key());
}

#[test]
fn a_wrong_passphrase_is_rejected() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();
    keychain
        .vault()
        .create_with_passphrase(&profile, dir.path(), PASSPHRASE)
        .unwrap();
    for wrong in [
        "correct horse battery stapl",
        "Correct horse battery staple",
        "",
    ] {
        let err = keychain
            .vault()
            .unlock_with_passphrase(&profile, dir.path(), wrong)
            .unwrap_err();
        assert!(matches!(err, VaultError::WrongPassphrase), "{err:?}");
        assert_eq!(err.to_string(), "wrong passphrase for this profile");
    }
}

#[test]
fn the_header_holds_no_secret() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();
    let unlocked = keychain
        .vault()
        .create_with_passphrase(&profile, dir.path(), PASSPHRASE)
        .unwrap();
    let path = dir.path().join(HEADER_FILE);
    assert_holds_none_of(
        &path,
        &[unlocked.db_key().as_bytes(), PASSPHRASE.as_bytes()],
    );
    let key = unlocked.inner.token_key.as_ref().unwrap();
    assert_holds_none_of(&path, &[key.0.as_slice()]);

    let header: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(header["mode"], "passphrase");
    assert_eq!(header["profile"], profile.id().as_str());
    assert_eq!(header["passphrase"]["kdf"], "argon2id");
    assert_eq!(header["passphrase"]["memory_kib"], 64);
    assert_eq!(header["passphrase"]["salt"].as_str().unwrap().len(), 32);
    assert_eq!(header["passphrase"]["check"].as_str().unwrap().len(), 64);
}

#[test]
fn passphrase_setup_is_refused_when_unsafe() {
    let keychain = MockKeychain::default();
    let vault = keychain.vault();
    let profile = profile();
    let dir = tempfile::tempdir().unwrap();

    let err = vault
        .create_with_passphrase(&profile, dir.path(), "short")
        .unwrap_err();
    assert!(
        matches!(err, VaultError::PassphraseTooShort { min: 8 }),
        "{err:?}"
    );
    // Eight characters, not eight bytes.
    vault
        .create_with_passphrase(&profile, dir.path(), "登录冻结退款四个")
        .unwrap();

    // Already set up: creating again would orphan the cache.
    let err = vault
        .create_with_passphrase(&profile, dir.path(), PASSPHRASE)
        .unwrap_err();
    assert!(matches!(
        err,
        VaultError::AlreadyInitialised {
            mode: VaultMode::Passphrase
        }
    ));
    let err = vault
        .unlock_with_keychain(&profile, dir.path())
        .unwrap_err();
    assert!(matches!(err, VaultError::PassphraseRequired), "{err:?}");

    let keychain_dir = tempfile::tempdir().unwrap();
    vault
        .unlock_with_keychain(&profile, keychain_dir.path())
        .unwrap();
    let err = vault
        .create_with_passphrase(&profile, keychain_dir.path(), PASSPHRASE)
        .unwrap_err();
    assert!(matches!(
        err,
        VaultError::AlreadyInitialised {
            mode: VaultMode::Keychain
        }
    ));
    let err = vault
        .unlock_with_passphrase(&profile, keychain_dir.path(), PASSPHRASE)
        .unwrap_err();
    assert!(matches!(err, VaultError::NotPassphraseProfile), "{err:?}");

    let empty = tempfile::tempdir().unwrap();
    let err = vault
        .unlock_with_passphrase(&profile, empty.path(), PASSPHRASE)
        .unwrap_err();
    assert!(matches!(err, VaultError::NotInitialised), "{err:?}");
}

#[test]
fn passphrase_refresh_tokens_are_sealed_on_disk() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();
    let vault = keychain.vault();
    let created = vault
        .create_with_passphrase(&profile, dir.path(), PASSPHRASE)
        .unwrap();
    assert!(vault.refresh_token(&created).unwrap().is_none());

    let token = "rt-7f3a9c0e5b1d-secret-token";
    vault
        .store_refresh_token(&created, &RefreshToken::new(token))
        .unwrap();
    let sealed_path = dir.path().join(SEALED_TOKEN_FILE);
    assert_holds_none_of(&sealed_path, &[token.as_bytes()]);

    // After a restart (a fresh unlock) the token is back; rotation replaces it.
    let unlocked = vault
        .unlock_with_passphrase(&profile, dir.path(), PASSPHRASE)
        .unwrap();
    assert_eq!(
        vault.refresh_token(&unlocked).unwrap().unwrap().expose(),
        token
    );
    vault
        .store_refresh_token(&unlocked, &RefreshToken::new("rt-rotated"))
        .unwrap();
    assert_eq!(
        vault.refresh_token(&created).unwrap().unwrap().expose(),
        "rt-rotated"
    );
    assert!(keychain.entries.lock().unwrap().is_empty());

    // Any flipped bit is detected.
    let mut sealed = fs::read(&sealed_path).unwrap();
    let last = sealed.len() - 1;
    sealed[last] ^= 1;
    fs::write(&sealed_path, &sealed).unwrap();
    let err = vault.refresh_token(&unlocked).unwrap_err();
    assert!(matches!(err, VaultError::TokenUnreadable { .. }), "{err:?}");

    vault.clear_refresh_token(&unlocked).unwrap();
    assert!(!sealed_path.exists());
    assert!(vault.refresh_token(&unlocked).unwrap().is_none());
}

#[test]
fn a_sealed_token_is_bound_to_its_profile() {
    let key = TokenKey(Zeroizing::new([7; 32]));
    let alice = profile();
    let bob = Profile::new("https://desk.example.com", "bob@example.com").unwrap();
    let sealed = passphrase::seal(&key, alice.id(), "rt").unwrap();
    assert_eq!(
        passphrase::open(&key, alice.id(), &sealed)
            .unwrap()
            .as_str(),
        "rt"
    );
    assert!(passphrase::open(&key, bob.id(), &sealed).is_none());
    let other_key = TokenKey(Zeroizing::new([8; 32]));
    assert!(passphrase::open(&other_key, alice.id(), &sealed).is_none());
    assert!(passphrase::open(&key, alice.id(), &sealed[..10]).is_none());
    assert!(passphrase::open(&key, alice.id(), &[]).is_none());
    // Two seals of one token differ (random nonces).
    assert_ne!(sealed, passphrase::seal(&key, alice.id(), "rt").unwrap());
}

#[test]
fn forgetting_a_passphrase_profile_needs_no_keychain() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();
    let vault = keychain.vault();
    let unlocked = vault
        .create_with_passphrase(&profile, dir.path(), PASSPHRASE)
        .unwrap();
    vault
        .store_refresh_token(&unlocked, &RefreshToken::new("rt"))
        .unwrap();
    keychain.fail_next(&db_account(&profile), no_secret_service());
    keychain.fail_next(&token_account(&profile), locked());

    vault.forget(&profile, dir.path()).unwrap();
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn tampered_or_foreign_headers_are_refused() {
    let keychain = MockKeychain::default();
    let vault = keychain.vault();
    let profile = profile();
    let dir = tempfile::tempdir().unwrap();
    vault
        .create_with_passphrase(&profile, dir.path(), PASSPHRASE)
        .unwrap();
    let path = dir.path().join(HEADER_FILE);
    let original: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    let rewrite = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut header = original.clone();
        edit(&mut header);
        fs::write(&path, serde_json::to_vec(&header).unwrap()).unwrap();
    };

    // Weaker parameters derive another key: the check refuses it.
    rewrite(&|h| h["passphrase"]["iterations"] = 2.into());
    let err = vault
        .unlock_with_passphrase(&profile, dir.path(), PASSPHRASE)
        .unwrap_err();
    assert!(matches!(err, VaultError::WrongPassphrase), "{err:?}");

    // Unbounded parameters are refused before any work.
    rewrite(&|h| h["passphrase"]["memory_kib"] = u32::MAX.into());
    let err = vault
        .unlock_with_passphrase(&profile, dir.path(), PASSPHRASE)
        .unwrap_err();
    assert!(matches!(err, VaultError::BadHeader { .. }), "{err:?}");

    rewrite(&|h| h["version"] = 2.into());
    let err = vault.mode(&profile, dir.path()).unwrap_err();
    assert!(err.to_string().contains("update Outpost"), "{err}");

    rewrite(&|h| h["mode"] = "keychain".into());
    let err = vault.mode(&profile, dir.path()).unwrap_err();
    assert!(matches!(err, VaultError::BadHeader { .. }), "{err:?}");

    rewrite(&|_| {});
    let bob = Profile::new("https://desk.example.com", "bob@example.com").unwrap();
    let err = vault
        .unlock_with_passphrase(&bob, dir.path(), PASSPHRASE)
        .unwrap_err();
    assert!(err.to_string().contains("belongs to profile"), "{err}");

    fs::write(&path, b"{ not json").unwrap();
    let err = vault
        .unlock_with_keychain(&profile, dir.path())
        .unwrap_err();
    assert!(matches!(err, VaultError::BadHeader { .. }), "{err:?}");
    // Signing out still works.
    vault.forget(&profile, dir.path()).unwrap();
    assert!(!path.exists());
}

#[test]
fn kdf_parameters_are_bounded() {
    assert_eq!(KdfParams::default(), KdfParams::new(65536, 3, 1).unwrap());
    for (m, t, p) in [
        (7, 1, 1),
        (63, 1, 8),
        (64, 0, 1),
        (64, 65, 1),
        (64, 1, 0),
        (4 * 1024 * 1024 + 1, 1, 1),
    ] {
        assert!(KdfParams::new(m, t, p).is_err(), "{m} {t} {p}");
    }
}

// ---------------------------------------------------------------------------------------------
// Redaction and the async API

#[test]
fn debug_output_never_shows_a_secret() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();
    let vault = keychain.vault();
    let unlocked = vault
        .create_with_passphrase(&profile, dir.path(), PASSPHRASE)
        .unwrap();
    let token = RefreshToken::new("rt-visible?");
    let key_hex = hex::encode(unlocked.db_key().as_bytes());
    let token_key_hex = hex::encode(unlocked.inner.token_key.as_ref().unwrap().0.as_slice());

    let printed = format!("{unlocked:?} {token:?} {vault:?} {:?}", vault.clone());
    assert!(printed.contains("<redacted>"), "{printed}");
    for secret in [&key_hex, &token_key_hex, "rt-visible?", PASSPHRASE] {
        assert!(!printed.contains(secret), "{printed}");
    }
    assert_eq!(format!("{token:?}"), "RefreshToken(<redacted>)");
}

#[tokio::test(flavor = "current_thread")]
async fn the_async_api_runs_keychain_calls_off_the_runtime_thread() {
    let keychain = MockKeychain::default();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile();
    let vault = AsyncVault::new(keychain.vault());

    let unlocked = vault
        .unlock_with_keychain(&profile, dir.path())
        .await
        .unwrap();
    vault
        .store_refresh_token(&unlocked, &RefreshToken::new("rt-async"))
        .await
        .unwrap();
    let token = vault.refresh_token(&unlocked).await.unwrap().unwrap();
    assert_eq!(token.expose(), "rt-async");
    assert_eq!(
        vault.mode(&profile, dir.path()).await.unwrap(),
        Some(VaultMode::Keychain)
    );
    vault.clear_refresh_token(&unlocked).await.unwrap();
    vault.forget(&profile, dir.path()).await.unwrap();
    assert_eq!(keychain.stored(&db_account(&profile)), None);

    let runtime_thread = thread::current().id();
    let threads = keychain.threads.lock().unwrap().clone();
    assert!(!threads.is_empty());
    assert!(threads.iter().all(|id| *id != runtime_thread));

    keychain.fail_next(&db_account(&profile), no_secret_service());
    let err = vault
        .unlock_with_keychain(&profile, dir.path())
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::NoKeychain { .. }), "{err:?}");
    let created = vault
        .create_with_passphrase(&profile, dir.path(), PASSPHRASE)
        .await
        .unwrap();
    let unlocked = vault
        .unlock_with_passphrase(&profile, dir.path(), PASSPHRASE)
        .await
        .unwrap();
    assert_eq!(created.db_key(), unlocked.db_key());
}
