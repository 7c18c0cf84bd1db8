//! Harness for Outpost's whole-system tests: the real `outpost-server` and `outpost` binaries as
//! child processes on loopback, in-process [`outpost_client::desk::Desk`] clients, a
//! fault-injecting HTTP proxy, and snapshots of what the server and each cache hold.
//!
//! Every child process is killed when its guard is dropped, every wait is bounded, and nothing
//! listens or connects beyond 127.0.0.1.

pub mod client;
pub mod process;
pub mod proxy;
pub mod server;
pub mod snapshot;
pub mod webdriver;

use std::future::Future;
use std::time::{Duration, Instant};

pub use client::{Client, PASSPHRASE};
pub use process::{cli_bin, server_bin, ChildGuard};
pub use proxy::{FaultStats, Proxy};
pub use server::{Account, Backend, Org, Server};
pub use snapshot::Snapshot;

/// Polls `check` every `every` until it returns `Some`, or panics with `what` after `limit`.
pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, every: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(every).await;
    }
}

/// Where scratch files go: `/dev/shm` when there is one (these tests commit thousands of small
/// transactions, each synced to disk; process kills do not depend on the disk), else the
/// system's temporary directory.
pub fn scratch_root() -> std::path::PathBuf {
    static ROOT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let usable = shm.is_dir()
            && tempfile::Builder::new()
                .prefix("outpost-probe-")
                .tempdir_in(shm)
                .is_ok();
        if usable {
            shm.to_owned()
        } else {
            std::env::temp_dir()
        }
    })
    .clone()
}

/// A fresh scratch directory, deleted when dropped.
pub fn scratch_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("outpost-system-")
        .tempdir_in(scratch_root())
        .expect("a scratch directory")
}

/// A seed for this run's randomness, printed so a failure can be replayed with
/// `OUTPOST_TEST_SEED=<seed>`.
pub fn seed(test: &str) -> u64 {
    let seed = if let Ok(s) = std::env::var("OUTPOST_TEST_SEED") {
        s.parse().expect("OUTPOST_TEST_SEED must be a number")
    } else {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        (nanos as u64) ^ u64::from(std::process::id())
    };
    eprintln!("{test}: seed {seed} (replay with OUTPOST_TEST_SEED={seed})");
    seed
}
