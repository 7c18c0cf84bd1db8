//! `GET /v1/sync/events`: server-sent pokes ("the cursor is now N"); the client then pulls.
//!
//! Every committed change bumps a local watch channel. With PostgreSQL, commits also `NOTIFY`
//! and every instance `LISTEN`s, so a client connected to instance A hears about a change
//! written through instance B.
//!
//! A stream belongs to the session of the token that opened it. When a session ends (logout, a
//! reused refresh token, the user disabled or given a new password) a second watch channel is
//! bumped, and on PostgreSQL a `NOTIFY` on [`SESSIONS_CHANNEL`] bumps it on every instance; each
//! stream then re-reads its session and, if it ended, sends a last `signed_out` event and closes.
//! The session is also re-read with every poke and every [`RECHECK`], which bounds how long a
//! lost notice (a listener reconnecting, a CLI command against SQLite) keeps a stream open.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use outpost_core::error::ErrorCode;
use outpost_core::sync::Poke;
use uuid::Uuid;

use crate::auth::AuthSession;
use crate::db::{Db, Kind};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

pub const CHANNEL: &str = "outpost_changes";
/// Notices that a session ended; every instance's streams re-check theirs.
pub const SESSIONS_CHANNEL: &str = "outpost_sessions";
/// How often an open stream re-reads its session even without a notice.
pub const RECHECK: Duration = Duration::from_secs(30);

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
    session: Uuid,
    changes: tokio::sync::watch::Receiver<u64>,
    sessions_ended: tokio::sync::watch::Receiver<u64>,
    first: bool,
    /// `signed_out` was sent; the stream ends.
    done: bool,
}

/// Why a stream woke up.
enum Wake {
    /// A commit: send a poke.
    Change,
    /// A session ended somewhere, or it is time to look: check ours.
    Check,
}

/// The change cursor, and whether the stream's session is still live and its user active, in
/// one read. `None` when the database cannot answer (the stream ends; the client reconnects).
async fn head_and_live(db: &Db, user: Uuid, session: Uuid) -> Option<(u64, bool)> {
    let (cursor, live) = sqlx::query_as::<_, (i64, i64)>(
        "SELECT (SELECT value FROM counters WHERE name = 'change_seq'),
                (SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.family = $1 AND u.id = $2 AND s.ended_at IS NULL AND u.active = 1)",
    )
    .bind(session.to_string())
    .bind(user.to_string())
    .fetch_one(&db.pool)
    .await
    .ok()?;
    Some((cursor as u64, live > 0))
}

/// The last event of a stream whose session ended: the client signs in again rather than
/// reconnecting.
fn signed_out() -> Event {
    let body = crate::error::ErrorBody {
        code: ErrorCode::SessionRevoked,
        message: ApiError::SessionRevoked.to_string(),
    };
    Event::default()
        .event("signed_out")
        .json_data(body)
        .unwrap_or_else(|_| Event::default().event("signed_out"))
}

#[utoipa::path(get, path = "/v1/sync/events", security(("bearer" = [])), responses((status = 200, description = "text/event-stream of `poke` events carrying a Poke; when the session ends (logout, revocation, the user disabled) a last `signed_out` event carrying an ErrorBody (`session_revoked`), then the stream closes", content_type = "text/event-stream"), (status = 401, body = crate::error::ErrorBody), (status = 429, description = "Too many open streams", body = crate::error::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    AuthSession { user, session }: AuthSession,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    if !state
        .streams
        .acquire(user.id, state.config.max_streams_per_user)
    {
        return Err(ApiError::RateLimited);
    }
    let changes = state.changed.subscribe();
    let sessions_ended = state.sessions_ended.subscribe();
    let start = StreamState {
        slot: StreamSlot {
            state,
            user: user.id,
        },
        session,
        changes,
        sessions_ended,
        first: true,
        done: false,
    };
    let stream = stream::unfold(start, |mut s| async move {
        if s.done {
            return None;
        }
        loop {
            let wake = if s.first {
                s.first = false;
                Wake::Change
            } else {
                tokio::select! {
                    changed = s.changes.changed() => {
                        changed.ok()?;
                        Wake::Change
                    }
                    ended = s.sessions_ended.changed() => {
                        ended.ok()?;
                        Wake::Check
                    }
                    () = tokio::time::sleep(RECHECK) => Wake::Check,
                }
            };
            let (cursor, live) = head_and_live(&s.slot.state.db, s.slot.user, s.session).await?;
            if !live {
                s.done = true;
                return Some((Ok(signed_out()), s));
            }
            if let Wake::Change = wake {
                let event = Event::default()
                    .event("poke")
                    .json_data(Poke { cursor })
                    .unwrap_or_else(|_| Event::default().event("poke"));
                return Some((Ok(event), s));
            }
        }
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

/// Tells every instance's streams that a session ended (PostgreSQL only; with SQLite the
/// in-process signal and the periodic re-check suffice). Used by the server after a logout,
/// revocation or disabling, and by the command line (`user disable`, `user reset-password`).
pub async fn notify_sessions_ended(db: &Db) {
    if db.kind == Kind::Postgres {
        let sent = sqlx::query("SELECT pg_notify($1, '')")
            .bind(SESSIONS_CHANNEL)
            .execute(&db.pool)
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "NOTIFY failed; other instances' streams close at their next check");
        }
    }
}

/// Listens for other instances' commits and ended sessions and wakes local streams. Reconnects
/// with a pause.
pub fn spawn_listener(state: AppState, url: String) {
    tokio::spawn(async move {
        loop {
            match sqlx::postgres::PgListener::connect(&url).await {
                Ok(mut listener) => {
                    if let Err(e) = listener.listen_all([CHANNEL, SESSIONS_CHANNEL]).await {
                        tracing::warn!(error = %e, "LISTEN failed");
                    } else {
                        // Sessions may have ended while nobody listened: streams look now.
                        state.sessions_ended.send_modify(|n| *n += 1);
                        while let Ok(notice) = listener.recv().await {
                            if notice.channel() == SESSIONS_CHANNEL {
                                state.sessions_ended.send_modify(|n| *n += 1);
                            } else {
                                state.changed.send_modify(|n| *n += 1);
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot connect the change listener"),
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
}
