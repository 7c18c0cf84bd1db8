//! `GET /v1/sync/events`: server-sent pokes ("the cursor is now N"); the client then pulls.
//!
//! Every committed change bumps a local watch channel. With PostgreSQL, commits also `NOTIFY`
//! and every instance `LISTEN`s, so a client connected to instance A hears about a change
//! written through instance B.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use outpost_core::sync::Poke;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::{Db, Kind};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

pub const CHANNEL: &str = "outpost_changes";

/// Open event streams per user, bounded so one client cannot exhaust the server.
#[derive(Default)]
pub struct StreamCounts(Mutex<HashMap<Uuid, usize>>);

/// Holds a stream slot; releases it when the stream is dropped (client gone, shutdown).
struct StreamSlot {
    state: AppState,
    user: Uuid,
}

impl StreamCounts {
    fn acquire(&self, user: Uuid, max: usize) -> bool {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = map.entry(user).or_default();
        if *n >= max {
            return false;
        }
        *n += 1;
        true
    }

    fn release(&self, user: Uuid) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = map.get_mut(&user) {
            *n -= 1;
            if *n == 0 {
                map.remove(&user);
            }
        }
    }

    /// Streams currently open for `user`.
    pub fn open(&self, user: Uuid) -> usize {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&user)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.state.streams.release(self.user);
    }
}

struct StreamState {
    slot: StreamSlot,
    changes: tokio::sync::watch::Receiver<u64>,
    first: bool,
}

async fn head(db: &Db) -> Option<u64> {
    sqlx::query_scalar::<_, i64>("SELECT value FROM counters WHERE name = 'change_seq'")
        .fetch_one(&db.pool)
        .await
        .ok()
        .map(|v| v as u64)
}

#[utoipa::path(get, path = "/v1/sync/events", security(("bearer" = [])), responses((status = 200, description = "text/event-stream of `poke` events carrying a Poke", content_type = "text/event-stream"), (status = 401, body = crate::error::ErrorBody), (status = 429, description = "Too many open streams", body = crate::error::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    if !state
        .streams
        .acquire(user.id, state.config.max_streams_per_user)
    {
        return Err(ApiError::RateLimited);
    }
    let changes = state.changed.subscribe();
    let start = StreamState {
        slot: StreamSlot {
            state,
            user: user.id,
        },
        changes,
        first: true,
    };
    let stream = stream::unfold(start, |mut s| async move {
        if !s.first {
            s.changes.changed().await.ok()?;
        }
        s.first = false;
        let cursor = head(&s.slot.state.db).await?;
        let event = Event::default()
            .event("poke")
            .json_data(Poke { cursor })
            .unwrap_or_else(|_| Event::default().event("poke"));
        Some((Ok(event), s))
    });
    Ok(Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("heartbeat"),
    ))
}

/// Tells other instances about a commit (PostgreSQL only; SQLite has one instance).
pub async fn notify_others(db: &Db) {
    if db.kind == Kind::Postgres {
        let sent = sqlx::query("SELECT pg_notify($1, '')")
            .bind(CHANNEL)
            .execute(&db.pool)
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "NOTIFY failed; other instances will catch up on their next poke");
        }
    }
}

/// Listens for other instances' commits and wakes local streams. Reconnects with a pause.
pub fn spawn_listener(state: AppState, url: String) {
    tokio::spawn(async move {
        loop {
            match sqlx::postgres::PgListener::connect(&url).await {
                Ok(mut listener) => {
                    if let Err(e) = listener.listen(CHANNEL).await {
                        tracing::warn!(error = %e, "LISTEN failed");
                    } else {
                        while listener.recv().await.is_ok() {
                            state.changed.send_modify(|n| *n += 1);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot connect the change listener"),
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
}
