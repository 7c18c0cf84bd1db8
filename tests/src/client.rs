//! Clients: in-process [`Desk`]s on passphrase profiles (no keychain), and the `outpost` CLI as
//! a child process on the same data directory.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use outpost_client::desk::{Desk, DeskConfig, DeskError, Unlock};
use outpost_client::sync::{SyncError, SyncStatus};
use outpost_client::vault::{KdfParams, Vault};
use outpost_core::model::TicketId;
use outpost_store::{QueueFilter, QueueSort};

use crate::process::{cli_bin, ChildGuard};
use crate::server::Account;
use crate::snapshot::Snapshot;

/// Every test profile's passphrase.
pub const PASSPHRASE: &str = "outpost system tests passphrase";

/// A vault on keyring's mock store with cheap Argon2id parameters (recorded in each profile's
/// header, so the CLI unlocks the same profiles just as cheaply).
pub fn vault() -> Vault {
    Vault::new(
        keyring::mock::default_credential_builder(),
        "outpost-system-tests",
    )
    .with_kdf_params(KdfParams::new(64, 1, 1).expect("small KDF parameters"))
}

/// Whether retrying a failed sync may help (the network or the server, not the client).
pub fn is_transient(error: &DeskError) -> bool {
    match error {
        DeskError::Server(e) | DeskError::Sync(SyncError::Api(e)) => e.is_transient(),
        _ => false,
    }
}

/// One signed-in desktop client with its own data directory.
pub struct Client {
    pub desk: Desk,
    pub account: Account,
    dir: tempfile::TempDir,
}

fn desk_in(dir: &Path) -> Desk {
    Desk::new(
        vault(),
        DeskConfig {
            data_dir: dir.to_owned(),
            ca_pem: None,
        },
    )
}

impl Client {
    /// Signs in (network needed) without syncing.
    pub async fn sign_in(server: &str, account: &Account) -> Client {
        let dir = crate::scratch_dir();
        let desk = desk_in(dir.path());
        desk.sign_in(
            server,
            &account.email,
            &account.password,
            None,
            Unlock::Passphrase(PASSPHRASE.into()),
        )
        .await
        .unwrap_or_else(|e| panic!("{} cannot sign in: {e}", account.email));
        Client {
            desk,
            account: account.clone(),
            dir,
        }
    }

    /// Signs in and completes the initial sync.
    pub async fn ready(server: &str, account: &Account) -> Client {
        let client = Client::sign_in(server, account).await;
        client.settle(5).await;
        client
    }

    /// Opens a data directory another process used (the CLI), offline.
    pub async fn resume(dir: tempfile::TempDir, account: &Account) -> Client {
        let desk = desk_in(dir.path());
        desk.resume(Unlock::Passphrase(PASSPHRASE.into()))
            .await
            .unwrap_or_else(|e| panic!("cannot resume {}: {e}", account.email));
        Client {
            desk,
            account: account.clone(),
            dir,
        }
    }

    /// Closes the cache and hands over the data directory (for the CLI or [`Client::resume`]).
    pub async fn lock(self) -> tempfile::TempDir {
        self.desk.lock().await;
        self.dir
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub async fn sync(&self) -> Result<SyncStatus, DeskError> {
        self.desk.sync_now().await
    }

    /// Syncs until a sync succeeds with nothing left to send, retrying transient failures;
    /// panics after `attempts` syncs or on any other error.
    pub async fn settle(&self, attempts: u32) -> SyncStatus {
        let mut last = String::new();
        for _ in 0..attempts {
            match self.desk.sync_now().await {
                Ok(status) if status.unsent == 0 => return status,
                Ok(status) => last = format!("{} unsent after a successful sync", status.unsent),
                Err(e) if is_transient(&e) => last = e.to_string(),
                Err(e) => panic!("{}: sync failed: {e} ({})", self.account.email, e.code()),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{}: not settled after {attempts} syncs; last: {last}",
            self.account.email
        );
    }

    /// Every ticket in the cache.
    pub async fn ticket_ids(&self) -> BTreeSet<TicketId> {
        let mut ids = BTreeSet::new();
        let mut after = None;
        for _ in 0..1_000 {
            let page = self
                .desk
                .queue(QueueFilter::default(), QueueSort::Updated, after, 500)
                .await
                .expect("a queue page");
            ids.extend(page.rows.iter().map(|r| r.id));
            match page.next {
                Some(next) => after = Some(next),
                None => return ids,
            }
        }
        panic!("the queue did not end within 1 000 pages");
    }

    /// The cache's tickets and timelines (every ticket, or only `ids`). Panics if a timeline
    /// holds the same entry id twice.
    pub async fn view(&self, ids: Option<&BTreeSet<TicketId>>) -> Snapshot {
        let ids = match ids {
            Some(ids) => ids.clone(),
            None => self.ticket_ids().await,
        };
        let mut snapshot = Snapshot::default();
        for id in ids {
            let detail = self
                .desk
                .inspect_ticket(id)
                .await
                .unwrap_or_else(|e| panic!("{}: ticket {id}: {e}", self.account.email));
            let timeline = snapshot.entries.entry(id).or_default();
            for entry in detail.entries {
                let entry_id = entry.id;
                assert!(
                    timeline.insert(entry_id, entry).is_none(),
                    "{}: entry {entry_id} appears twice in ticket {id}",
                    self.account.email
                );
            }
            snapshot.tickets.insert(id, detail.ticket);
        }
        snapshot
    }
}

/// Starts `outpost <args>` on a data directory (passphrase from the environment, as a user
/// without a keychain would run it). Output goes to `<log_dir>/<name>.out|.err`.
pub fn spawn_cli(data_dir: &Path, args: &[&str], name: &str, log_dir: &Path) -> ChildGuard {
    let mut command = Command::new(cli_bin());
    command
        .args(args)
        .env("OUTPOST_DATA_DIR", data_dir)
        .env("OUTPOST_PASSPHRASE", PASSPHRASE)
        .env("OUTPOST_LOG", "warn,outpost_client=debug")
        .env_remove("OUTPOST_PASSWORD");
    ChildGuard::spawn(command, name, log_dir)
}
