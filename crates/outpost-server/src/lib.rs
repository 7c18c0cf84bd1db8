//! The team's Outpost server: authentication, roles, the sync endpoints and the organisation's
//! audit chain, over SQLite (embedded default) or PostgreSQL.
//!
//! Architecture invariants: every ticket change goes through [`change`] and so through
//! `outpost_core::apply` (the same code the client runs), and appends to the audit chain in the
//! same transaction; the adapters (`sync`, `intake`, `customer`, `outbound`) never depend on each
//! other; audit rows are only inserted; handlers never format SQL from request values (only
//! placeholders).

pub mod admin;
pub mod audit;
pub mod auth;
pub mod blobs;
pub(crate) mod change;
pub mod config;
pub(crate) mod customer;
mod customer_uploads;
pub mod db;
pub mod error;
pub mod events;
pub(crate) mod extract;
pub(crate) mod intake;
pub mod intake_keys;
pub mod invite;
mod invite_page;
pub(crate) mod limits;
mod multipart;
pub(crate) mod new_ticket;
pub mod openapi;
pub(crate) mod outbound;
mod pages;
pub mod routes;
pub mod secrets;
pub mod settings;
mod settings_docs;
pub mod sla_monitor;
pub(crate) mod sync;
pub mod templates;
pub(crate) mod totp;
pub(crate) mod uploads;
pub mod users;
mod writes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::{get, patch, post};
use axum::Router;
use tokio::sync::watch;

use crate::auth::{RateLimiter, Tokens};
use crate::config::Config;
use crate::db::Db;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub config: Config,
    pub tokens: Tokens,
    pub limiter: RateLimiter,
    pub streams: events::StreamCounts,
    /// Bumped after every committed change; SSE streams and tests wait on it.
    pub changed: watch::Sender<u64>,
    /// Bumped after a session ended (logout, reused refresh token, user disabled, password
    /// reset): open event streams re-check theirs and close if it ended.
    pub sessions_ended: watch::Sender<u64>,
    /// Pushes waiting for the push writer (see `sync::run_push_writer`).
    pub push_queue: tokio::sync::mpsc::Sender<sync::PushJob>,
    /// Seals and opens the secrets the database stores (`secrets.rs`).
    pub master_key: secrets::MasterKey,
    /// Attachment bytes, encrypted (`blobs.rs`).
    pub blobs: blobs::BlobStore,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Loads the organisation's signing secret; the database must have been initialised.
    /// Secrets written before encryption at rest are sealed with `master_key` first; a wrong
    /// key is refused here, naming the key the database was sealed with.
    pub async fn new(
        db: Db,
        config: Config,
        master_key: secrets::MasterKey,
    ) -> anyhow::Result<AppState> {
        let sealed = secrets::seal_clear_values(&db, &master_key).await?;
        if sealed > 0 {
            tracing::info!(
                sealed,
                key = master_key.id(),
                "sealed secrets stored before encryption at rest"
            );
        }
        let secret = secrets::token_secret(&db, &master_key).await?;
        secrets::check_all(&db, &master_key).await?;
        let tokens = Tokens::new(
            &secret,
            config.access_token_ttl_secs,
            config.refresh_token_ttl_days,
        );
        let blobs = blobs::BlobStore::open(&config, db.clone(), master_key.clone())?;
        let (push_queue, queued) = tokio::sync::mpsc::channel(4096);
        Ok(AppState(Arc::new_cyclic(|weak| {
            tokio::spawn(sync::run_push_writer(weak.clone(), queued));
            Inner {
                db,
                config,
                tokens,
                limiter: RateLimiter::default(),
                streams: events::StreamCounts::default(),
                changed: watch::channel(0).0,
                sessions_ended: watch::channel(0).0,
                push_queue,
                master_key,
                blobs,
            }
        })))
    }

    /// Wakes this instance's event streams and, on PostgreSQL, the other instances'.
    pub async fn notify_changed(&self) {
        self.changed.send_modify(|n| *n += 1);
        events::notify_others(&self.db).await;
    }

    /// After a session ended: closes its event streams on this instance and, on PostgreSQL,
    /// the other instances'.
    pub async fn notify_sessions_ended(&self) {
        self.sessions_ended.send_modify(|n| *n += 1);
        events::notify_sessions_ended(&self.db).await;
    }
}

/// The peer address when the server runs with connect info (absent in in-process tests).
pub struct ClientAddr(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
        ))
    }
}

pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    Router::new()
        .route("/health", get(routes::health))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/v1/ping", get(routes::ping))
        .route("/v1/auth/login", post(routes::login))
        .route("/v1/auth/refresh", post(routes::refresh))
        .route("/v1/auth/logout", post(routes::logout))
        .route("/v1/me", get(routes::me))
        .route("/v1/auth/totp/setup", post(totp::setup))
        .route("/v1/auth/totp/enable", post(totp::enable))
        .route("/v1/auth/totp/disable", post(totp::disable))
        .route(
            "/v1/admin/users",
            get(routes::list_users).post(routes::add_user),
        )
        .route("/v1/admin/users/{id}", patch(routes::update_user))
        .route("/v1/admin/users/{id}/disable", post(routes::disable_user))
        .route("/v1/admin/users/{id}/enable", post(routes::enable_user))
        .route(
            "/v1/admin/users/{id}/reset-password",
            post(routes::reset_password),
        )
        .route("/v1/admin/users/{id}/reset-totp", post(routes::reset_totp))
        .route(
            "/v1/admin/intake-keys",
            get(intake_keys::list).post(intake_keys::create),
        )
        .route(
            "/v1/admin/intake-keys/{id}/revoke",
            post(intake_keys::revoke),
        )
        .route(
            "/v1/admin/users/{id}/departments",
            post(routes::set_departments),
        )
        .route("/v1/tickets/{id}/uploads", post(uploads::create))
        .route(
            "/v1/uploads/{id}",
            get(uploads::status)
                .put(uploads::put_chunk)
                .delete(uploads::cancel),
        )
        .route(
            "/v1/tickets/{id}/attachments/{attachment_id}",
            get(uploads::download),
        )
        .route("/v1/sync/push", post(sync::push))
        .route("/v1/sync/pull", get(sync::pull))
        .route("/v1/sync/events", get(events::events))
        .route("/v1/audit/events", get(audit::events))
        .route("/v1/intake", post(intake::intake))
        .route("/v1/intake/outbound", get(outbound::list_outbound))
        .route(
            "/v1/intake/outbound/{id}/delivered",
            post(outbound::mark_delivered),
        )
        .route(
            "/c/new",
            get(customer::new_ticket_form).post(customer::submit_ticket),
        )
        .route("/c/logo.png", get(customer::logo))
        .route("/c/t/{token}", get(customer::status_page))
        .route("/c/t/{token}/message", post(customer::post_message))
        .route(
            "/c/t/{token}/files/{attachment_id}",
            get(customer::download),
        )
        .route("/c/t/{token}/csat", post(customer::post_csat))
        .route(
            "/invite/{token}",
            get(invite::form).post(invite::set_password),
        )
        .fallback(limits::no_such_endpoint)
        .layer(axum::middleware::from_fn(extract::refuse_nul_in_uri))
        .layer(DefaultBodyLimit::max(body_limit))
        // Outermost: body size and pace, the request's time, `{code, message}` for the layer's
        // own errors (`limits.rs`).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::guard,
        ))
        .with_state(state)
}

/// Serves until Ctrl-C. Use [`serve_with`] to learn the bound address or stop it yourself.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stopper.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    serve_with(state, handle).await
}

/// Serves on `config.bind` (HTTPS when `config.tls` is set) until `handle` shuts it down.
pub async fn serve_with(
    state: AppState,
    handle: axum_server::Handle<SocketAddr>,
) -> anyhow::Result<()> {
    if state.db.kind == db::Kind::Postgres {
        events::spawn_listener(state.clone(), state.config.database_url.clone());
    }
    sla_monitor::spawn(
        state.clone(),
        Duration::from_secs(state.config.sla_monitor_interval_secs.max(1)),
    );
    blobs::spawn_housekeeping(state.blobs.clone(), Duration::from_secs(10 * 60));
    let bind = state.config.bind;
    let tls = state.config.tls.clone();
    let header_timeout = Duration::from_secs(state.config.header_read_timeout_secs);
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let announce = handle.clone();
    tokio::spawn(async move {
        if let Some(addr) = announce.listening().await {
            tracing::info!("outpost-server listening on {scheme}://{addr}");
        }
    });
    // Each connection's first bytes, then its request heads, arrive within `header_timeout`
    // (`limits.rs`).
    match tls {
        None => {
            let mut server = axum_server::bind(bind)
                .handle(handle)
                .map(|plain| limits::FirstBytesDeadline::new(plain, header_timeout));
            limits::configure_http(server.http_builder(), header_timeout);
            server.serve(app).await
        }
        Some(tls) => {
            // Several servers may run in one process (tests): installing twice is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot load TLS certificate {} and key {}: {e}",
                        tls.cert.display(),
                        tls.key.display()
                    )
                })?;
            let mut server = axum_server::bind_rustls(bind, config)
                .handle(handle)
                .map(|tls| {
                    limits::FirstBytesDeadline::new(
                        tls.handshake_timeout(header_timeout),
                        header_timeout,
                    )
                });
            limits::configure_http(server.http_builder(), header_timeout);
            server.serve(app).await
        }
    }
    .map_err(|e| anyhow::anyhow!("cannot serve on {bind}: {e}"))
}
