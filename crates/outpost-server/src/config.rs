//! Server configuration: defaults, then a TOML file, then `OUTPOST_*` environment variables.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Loopback unless told otherwise.
    pub bind: SocketAddr,
    /// `sqlite://outpost.db` (created when missing) or `postgres://user@host/db`.
    pub database_url: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_days: i64,
    pub max_body_bytes: usize,
    /// How long a handler may take to answer (a stream, once answered, is not cut): 408 after.
    pub request_timeout_secs: u64,
    /// How long a connection may take to send a request's headers (also how long an idle
    /// connection stays open, and the TLS handshake's limit); the connection is closed after.
    pub header_read_timeout_secs: u64,
    /// How long a request body may stall between two pieces: 408 after.
    pub body_read_timeout_secs: u64,
    /// Failed sign-ins allowed per account and per address within a minute.
    pub login_attempts_per_minute: u32,
    /// Open `/v1/sync/events` streams allowed per user (a few devices and windows).
    pub max_streams_per_user: usize,
    /// How often the SLA monitor scans open tickets.
    pub sla_monitor_interval_secs: u64,
    /// Serve HTTPS with these PEM files; plain HTTP (e.g. behind a reverse proxy) when absent.
    pub tls: Option<TlsConfig>,
    /// The address customers reach this server at (`https://help.example.com`), for the links
    /// the server sends them (the satisfaction survey on resolution, queued for connectors in
    /// the outbound queue; never on the agents' timeline). Defaults to the bound
    /// address, which is only right when customers reach the server directly.
    pub public_base_url: Option<String>,
    /// How long audit events stay in the live chain before `audit archive` copies them to a
    /// verified archive file. A policy for archiving, never for erasing: no event is deleted.
    pub audit_retention_years: u32,
    /// Where `audit archive` writes its files.
    pub audit_archive_dir: PathBuf,
    /// The master key file that seals the server's secrets (see `secrets.rs` and README,
    /// Security). Default: beside a SQLite database (`outpost.db` → `outpost.master-key`);
    /// PostgreSQL needs this, `OUTPOST_MASTER_KEY` or the systemd credential `outpost-master-key`.
    pub master_key_file: Option<PathBuf>,
    /// Where attachment bytes are kept (`blobs.rs`): `filesystem` or `database`. Default: files
    /// beside a SQLite database, the database itself with PostgreSQL (every instance then serves
    /// the same files).
    pub blob_store: Option<BlobStoreKind>,
    /// The directory of the filesystem blob store. Default: beside a SQLite database
    /// (`outpost.db` → `outpost.blobs/`). Setting it chooses the filesystem store.
    pub blob_dir: Option<PathBuf>,
}

/// Which blob store backend (see [`Config::blob_store`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobStoreKind {
    Filesystem,
    Database,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8750)),
            database_url: "sqlite://outpost.db".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_days: 30,
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout_secs: 30,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 15,
            login_attempts_per_minute: 10,
            max_streams_per_user: 8,
            sla_monitor_interval_secs: 60,
            tls: None,
            public_base_url: None,
            audit_retention_years: 5,
            audit_archive_dir: PathBuf::from("audit-archive"),
            master_key_file: None,
            blob_store: None,
            blob_dir: None,
        }
    }
}

impl Config {
    /// [`Config::public_base_url`] without a trailing slash, or the bound address.
    pub fn public_base_url(&self) -> String {
        if let Some(url) = &self.public_base_url {
            url.trim_end_matches('/').to_owned()
        } else {
            let scheme = if self.tls.is_some() { "https" } else { "http" };
            format!("{scheme}://{}", self.bind)
        }
    }

    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
                toml::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("config {} is invalid: {e}", path.display()))?
            }
            None => Config::default(),
        };
        if let Ok(bind) = std::env::var("OUTPOST_BIND") {
            config.bind = bind
                .parse()
                .map_err(|e| anyhow::anyhow!("OUTPOST_BIND={bind:?} is not an address: {e}"))?;
        }
        if let Ok(url) = std::env::var("OUTPOST_DATABASE_URL") {
            config.database_url = url;
        }
        for (name, secs) in [
            ("request_timeout_secs", config.request_timeout_secs),
            ("header_read_timeout_secs", config.header_read_timeout_secs),
            ("body_read_timeout_secs", config.body_read_timeout_secs),
        ] {
            if secs == 0 {
                anyhow::bail!("{name} must be at least 1");
            }
        }
        if let Some(url) = &config.public_base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                anyhow::bail!("public_base_url {url:?} must start with http:// or https://");
            }
        }
        Ok(config)
    }
}
