//! `POST /v1/sync/push` and `GET /v1/sync/pull`: the server side of the sync protocol.
//!
//! Push applies each mutation in its own transaction with the same domain code the client runs
//! (`outpost_core::apply`), after checking that the device's mutation ids have no gaps and that
//! the user may touch the ticket. Pull returns every row changed after the cursor that the user
//! may see, ordered by the organisation's change sequence.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use outpost_core::apply::{apply, ApplyContext, Rejection};
use outpost_core::audit::{AuditEvent, Hash32};
use outpost_core::model::{Department, Entry, EntryBody, Role, Ticket, User};
use outpost_core::rules::VerificationPolicy;
use outpost_core::sync::{
    Change, ChangeKind, FieldConflict, Mutation, MutationEnvelope, MutationOutcome, MutationResult,
    PullResponse, PushRequest, PushResponse, MAX_PULL_LIMIT, MAX_PUSH_BATCH,
};
use serde::Deserialize;
use sqlx::Row;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::{next, next_block, Tx};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::{AppState, ClientAddr};

/// Whether `user` may see (and so change) a ticket in `department` held by `assignee`.
pub fn can_see(user: &User, department: Option<&str>, assignee: Option<Uuid>) -> bool {
    match user.role {
        Role::Supervisor | Role::Admin => true,
        Role::Agent => {
            assignee == Some(user.id)
                || department.is_some_and(|d| user.departments.iter().any(|u| u == d))
        }
    }
}

pub(crate) async fn load_ticket(tx: &mut Tx<'_>, id: Uuid) -> anyhow::Result<Option<Ticket>> {
    let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM tickets WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(doc.map(|d| serde_json::from_str(&d)).transpose()?)
}

async fn load_timeline(tx: &mut Tx<'_>, id: Uuid) -> anyhow::Result<Vec<Entry>> {
    let docs: Vec<String> =
        sqlx::query_scalar("SELECT doc FROM entries WHERE ticket_id = $1 ORDER BY seq")
            .bind(id.to_string())
            .fetch_all(&mut **tx)
            .await?;
    docs.iter().map(|d| Ok(serde_json::from_str(d)?)).collect()
}

fn digest(ticket: &Ticket) -> anyhow::Result<Hash32> {
    Ok(Hash32::digest(&serde_json::to_vec(ticket)?))
}

/// Applies a push batch in one transaction, so the batch pays for a single commit; refused
/// mutations write nothing. `Err` is an infrastructure failure: nothing of the batch is kept and
/// the client retries.
async fn apply_batch(
    state: &AppState,
    user: &User,
    device_id: Uuid,
    address: Option<&str>,
    envelopes: &[MutationEnvelope],
) -> anyhow::Result<(Vec<MutationResult>, i64)> {
    let mut tx = state.db.begin_write().await?;
    let mut last: i64 =
        sqlx::query_scalar("SELECT last_mutation_id FROM devices WHERE device_id = $1")
            .bind(device_id.to_string())
            .fetch_optional(&mut **tx)
            .await?
            .unwrap_or(0);
    let start = last;
    let mut applied_any = false;
    let mut results = Vec::with_capacity(envelopes.len());
    for envelope in envelopes {
        let id = envelope.mutation_id as i64;
        let outcome = if id <= last {
            MutationOutcome::Duplicate
        } else if id != last + 1 {
            MutationOutcome::Rejected {
                code: "mutation_gap".into(),
                reason: format!(
                    "expected mutation {} from this device, got {id}; push in order",
                    last + 1
                ),
            }
        } else {
            last = id;
            // `decide` only reads, so a refusal has nothing to roll back; a failure while writing
            // aborts the whole batch (nothing is committed and the client retries).
            match decide(state, &mut tx, user, device_id, envelope).await? {
                Ok(decided) => {
                    applied_any = true;
                    commit_applied(
                        &mut tx,
                        &user.id.to_string(),
                        device_id,
                        address,
                        envelope.mutation.name(),
                        envelope.mutation_id,
                        decided,
                    )
                    .await?
                }
                Err(rejection) => MutationOutcome::Rejected {
                    code: rejection.code().into(),
                    reason: rejection.to_string(),
                },
            }
        };
        results.push(MutationResult {
            mutation_id: envelope.mutation_id,
            outcome,
        });
    }
    if last != start {
        sqlx::query(
            "INSERT INTO devices (device_id, user_id, last_mutation_id) VALUES ($1, $2, $3)
             ON CONFLICT (device_id) DO UPDATE SET last_mutation_id = $3",
        )
        .bind(device_id.to_string())
        .bind(user.id.to_string())
        .bind(last)
        .execute(&mut **tx)
        .await?;
    }
    tx.commit().await?;
    if applied_any {
        state.notify_changed().await;
    }
    Ok((results, last))
}

pub(crate) struct Decided {
    pub before: Option<Ticket>,
    pub ticket: Ticket,
    pub entries: Vec<Entry>,
    /// Fields where this change lost to a concurrent one (reported as a conflict).
    pub conflicts: Vec<FieldConflict>,
}

/// Runs the domain rules and the permission checks; `Ok(Err(_))` is a refusal to report.
async fn decide(
    state: &AppState,
    tx: &mut Tx<'_>,
    user: &User,
    device_id: Uuid,
    envelope: &MutationEnvelope,
) -> anyhow::Result<Result<Decided, Rejection>> {
    let ticket_id = envelope.mutation.ticket_id();
    let before = load_ticket(tx, ticket_id).await?;
    let visible = match (&before, &envelope.mutation) {
        (Some(t), _) => can_see(user, t.department.as_deref(), t.assignee),
        (None, Mutation::CreateTicket(new)) => can_see(user, new.department.as_deref(), None),
        (None, _) => false,
    };
    if !visible {
        // Indistinguishable from "does not exist", so ids of hidden tickets do not leak.
        return Ok(Err(Rejection::TicketNotFound));
    }
    let timeline = match envelope.mutation {
        Mutation::FreezeAccount(_)
        | Mutation::InterceptTransaction(_)
        | Mutation::UnfreezeAccount(_) => load_timeline(tx, ticket_id).await?,
        _ => Vec::new(),
    };
    let ctx = ApplyContext {
        actor: Some(user.id),
        device_id,
        mutation_id: envelope.mutation_id,
        client_time: envelope.client_time,
        now: DateTime::<Utc>::from(std::time::SystemTime::now()),
        verification: &state.verification,
        timeline: &timeline,
    };
    let applied = match apply(before.as_ref(), &envelope.mutation, &ctx) {
        Ok(applied) => applied,
        Err(rejection) => return Ok(Err(rejection)),
    };
    if let (Mutation::SetDescription { description, .. }, Some(current), Some(base)) =
        (&envelope.mutation, &before, envelope.base_revision)
    {
        let changed_at: i64 =
            sqlx::query_scalar("SELECT COALESCE(description_rev, 0) FROM tickets WHERE id = $1")
                .bind(ticket_id.to_string())
                .fetch_one(&mut **tx)
                .await?;
        if changed_at as u64 > base && current.description != *description {
            // Long text never silently loses: the server's description stays, this device's
            // version is kept as an internal note, and the device is told.
            let mut seed = device_id.as_bytes().to_vec();
            seed.extend_from_slice(&envelope.mutation_id.to_be_bytes());
            seed.extend_from_slice(b"description-conflict");
            let note = Entry {
                id: outpost_core::apply::derived_uuid_v7(envelope.client_time, &seed),
                ticket_id,
                author: Some(user.id),
                body: EntryBody::Note {
                    text: format!(
                        "Conflicting edit of the description (kept here):\n\n{description}"
                    ),
                },
                created_at: ctx.now,
            };
            let mut ticket = current.clone();
            ticket.updated_at = ctx.now;
            let winner = current.description.clone();
            let changed_at = current.updated_at;
            return Ok(Ok(Decided {
                before: Some(current.clone()),
                ticket,
                entries: vec![note],
                conflicts: vec![FieldConflict {
                    field: "description".into(),
                    yours: serde_json::Value::String(description.clone()),
                    winner: serde_json::Value::String(winner),
                    changed_by: None,
                    changed_at: Some(changed_at),
                }],
            }));
        }
    }
    Ok(Ok(Decided {
        before,
        ticket: applied.ticket,
        entries: applied.entries,
        conflicts: Vec::new(),
    }))
}

/// Inserts or updates a ticket row with its derived columns. `description_changed` moves the
/// revision at which the description last changed (for long-text conflicts).
pub(crate) async fn write_ticket_row(
    tx: &mut Tx<'_>,
    ticket: &Ticket,
    seq: i64,
    description_changed: bool,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO tickets (id, key, department, assignee, seq, doc, status, priority, description_rev)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET key = $2, department = $3, assignee = $4, seq = $5, doc = $6,
             status = $7, priority = $8,
             description_rev = CASE WHEN $10 = 1 THEN $9 ELSE tickets.description_rev END",
    )
    .bind(ticket.id.to_string())
    .bind(ticket.key.clone())
    .bind(ticket.department.clone())
    .bind(ticket.assignee.map(|a| a.to_string()))
    .bind(seq)
    .bind(serde_json::to_string(ticket)?)
    .bind(ticket.status.as_str())
    .bind(ticket.priority.as_str())
    .bind(ticket.revision as i64)
    .bind(i64::from(description_changed))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inserts a timeline entry once (a retried change never duplicates it).
pub(crate) async fn write_entry(tx: &mut Tx<'_>, entry: &Entry, seq: i64) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO entries (id, ticket_id, seq, doc) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING")
        .bind(entry.id.to_string())
        .bind(entry.ticket_id.to_string())
        .bind(seq)
        .bind(serde_json::to_string(entry)?)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Writes an applied change: ticket row (with its key and revision), entries, a revocation when
/// the department changed, and the audit event. `actor` is a user id or a system source such as
/// `intake:web_form`.
pub(crate) async fn commit_applied(
    tx: &mut Tx<'_>,
    actor: &str,
    device_id: Uuid,
    address: Option<&str>,
    action: &str,
    mutation_id: u64,
    decided: Decided,
) -> anyhow::Result<MutationOutcome> {
    let Decided {
        before,
        mut ticket,
        entries,
        conflicts,
    } = decided;
    if ticket.key.is_none() {
        ticket.key = Some(format!("OP-{}", next(tx, "ticket_key").await?));
    }
    ticket.revision = before.as_ref().map_or(0, |t| t.revision) + 1;
    let moved = before
        .as_ref()
        .and_then(|b| b.department.clone())
        .filter(|old| ticket.department.as_deref() != Some(old.as_str()));
    // One reservation for every row this change writes: the ticket, its entries, a revocation.
    let rows = 1 + entries.len() as i64 + i64::from(moved.is_some());
    let mut seq = next_block(tx, "change_seq", rows).await?;
    let mut take = || {
        let current = seq;
        seq += 1;
        current
    };
    let ticket_seq = take();
    let description_changed = before
        .as_ref()
        .is_none_or(|b| b.description != ticket.description);
    write_ticket_row(tx, &ticket, ticket_seq, description_changed).await?;
    for entry in &entries {
        write_entry(tx, entry, take()).await?;
    }
    if let Some(old) = moved {
        sqlx::query("INSERT INTO revocations (seq, ticket_id, department) VALUES ($1, $2, $3)")
            .bind(take())
            .bind(ticket.id.to_string())
            .bind(old)
            .execute(&mut **tx)
            .await?;
    }
    crate::audit::append(
        tx,
        AuditEvent {
            seq: 0,
            at: DateTime::<Utc>::from(std::time::SystemTime::now()),
            actor: actor.to_owned(),
            device: Some(device_id.to_string()),
            address: address.map(str::to_owned),
            action: action.to_owned(),
            ticket_id: Some(ticket.id),
            before: before.as_ref().map(digest).transpose()?,
            after: Some(digest(&ticket)?),
            detail: serde_json::json!({ "mutation_id": mutation_id, "revision": ticket.revision })
                .to_string(),
        },
    )
    .await?;
    Ok(if conflicts.is_empty() {
        MutationOutcome::Applied {
            revision: ticket.revision,
        }
    } else {
        MutationOutcome::Conflict {
            revision: ticket.revision,
            fields: conflicts,
        }
    })
}

#[utoipa::path(post, path = "/v1/sync/push", security(("bearer" = [])), request_body = PushRequest, responses((status = 200, body = PushResponse), (status = 400, description = "Malformed request", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody)))]
pub async fn push(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ClientAddr(address): ClientAddr,
    ApiJson(request): ApiJson<PushRequest>,
) -> ApiResult<Json<PushResponse>> {
    if request.mutations.len() > MAX_PUSH_BATCH {
        return Err(ApiError::BadRequest(format!(
            "a push carries at most {MAX_PUSH_BATCH} mutations; split the batch"
        )));
    }
    let owner: Option<String> =
        sqlx::query_scalar("SELECT user_id FROM devices WHERE device_id = $1")
            .bind(request.device_id.to_string())
            .fetch_optional(&state.db.pool)
            .await?;
    if owner.is_some_and(|o| o != user.id.to_string()) {
        return Err(ApiError::Conflict(
            "this device id belongs to another user; sign in again on this device".into(),
        ));
    }
    let (results, last) = apply_batch(
        &state,
        &user,
        request.device_id,
        address.as_deref(),
        &request.mutations,
    )
    .await?;
    Ok(Json(PushResponse {
        results,
        last_mutation_id: last as u64,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PullQuery {
    #[serde(default)]
    pub cursor: u64,
    pub limit: Option<u32>,
    /// The pulling device. Clients send it: it reports `last_mutation_id` (confirming outbox
    /// entries) and lets the server ask a device to re-bootstrap after the user's view shrank.
    pub device_id: Option<Uuid>,
}

/// SQL restricting `tickets` alias `t` to what `user` may see, with its parameters (numbered
/// from `first`).
fn visibility(user: &User, first: usize) -> (String, Vec<String>) {
    if user.role != Role::Agent {
        return (String::new(), Vec::new());
    }
    let mut args: Vec<String> = user.departments.clone();
    let list: Vec<String> = (0..args.len()).map(|i| format!("${}", first + i)).collect();
    let assignee = format!("${}", first + args.len());
    args.push(user.id.to_string());
    let departments = if list.is_empty() {
        "FALSE".to_owned()
    } else {
        format!("t.department IN ({})", list.join(", "))
    };
    (
        // COALESCE: with no assignee the test must be false, not NULL, or `NOT (…)` (used for
        // revocations) would drop the row.
        format!(" AND ({departments} OR COALESCE(t.assignee, '') = {assignee})"),
        args,
    )
}

async fn fetch(
    state: &AppState,
    sql: &str,
    cursor: i64,
    args: &[String],
    limit: i64,
) -> anyhow::Result<Vec<sqlx::any::AnyRow>> {
    // Only placeholders and server-side numbers are formatted into `sql`; request values are
    // always bound.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).bind(cursor);
    for arg in args {
        query = query.bind(arg.clone());
    }
    Ok(query.bind(limit).fetch_all(&state.db.pool).await?)
}

#[utoipa::path(get, path = "/v1/sync/pull", security(("bearer" = [])), params(PullQuery), responses((status = 200, body = PullResponse), (status = 400, description = "Malformed request", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody)))]
pub async fn pull(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(query): ApiQuery<PullQuery>,
) -> ApiResult<Json<PullResponse>> {
    let limit = query
        .limit
        .unwrap_or(MAX_PULL_LIMIT)
        .clamp(1, MAX_PULL_LIMIT) as usize;
    let cursor = i64::try_from(query.cursor)
        .map_err(|_| ApiError::BadRequest("cursor out of range".into()))?;
    // Everything at or below this sequence number is committed (see `db::next`).
    let head: i64 = sqlx::query_scalar("SELECT value FROM counters WHERE name = 'change_seq'")
        .fetch_one(&state.db.pool)
        .await?;
    let last_mutation_id: i64 = match query.device_id {
        Some(device) => sqlx::query_scalar(
            "SELECT last_mutation_id FROM devices WHERE device_id = $1 AND user_id = $2",
        )
        .bind(device.to_string())
        .bind(user.id.to_string())
        .fetch_optional(&state.db.pool)
        .await?
        .unwrap_or(0),
        None => 0,
    };
    let user_view: i64 =
        sqlx::query_scalar("SELECT COALESCE(view_seq, 0) FROM users WHERE id = $1")
            .bind(user.id.to_string())
            .fetch_one(&state.db.pool)
            .await?;
    // Which view this device bootstrapped under: recorded when it pulls from zero.
    let mut stale_view = false;
    if let Some(device) = query.device_id {
        if cursor == 0 {
            let mut tx = state.db.begin_write().await?;
            sqlx::query(
                "INSERT INTO devices (device_id, user_id, last_mutation_id, view_seq) VALUES ($1, $2, 0, $3)
                 ON CONFLICT (device_id) DO UPDATE SET view_seq = $3 WHERE devices.user_id = $2",
            )
            .bind(device.to_string())
            .bind(user.id.to_string())
            .bind(user_view)
            .execute(&mut **tx)
            .await?;
            tx.commit().await?;
        } else {
            let device_view: Option<i64> = sqlx::query_scalar(
                "SELECT COALESCE(view_seq, 0) FROM devices WHERE device_id = $1 AND user_id = $2",
            )
            .bind(device.to_string())
            .bind(user.id.to_string())
            .fetch_optional(&state.db.pool)
            .await?;
            stale_view = device_view.is_some_and(|v| v < user_view);
        }
    }
    // A cursor from another database or before a restore, or a device that bootstrapped before
    // this user's view shrank: drop server rows, keep the outbox, pull from zero.
    if cursor > head || stale_view {
        return Ok(Json(PullResponse {
            changes: Vec::new(),
            cursor: 0,
            has_more: true,
            last_mutation_id: last_mutation_id as u64,
            reset_required: true,
        }));
    }
    let (vis, vis_args) = visibility(&user, 2);
    let n = vis_args.len() + 2;
    let mut page = PageBuilder {
        limit,
        boundary: None,
        candidates: Vec::new(),
    };

    let sql = format!("SELECT t.seq, t.doc FROM tickets t WHERE t.seq > $1{vis} AND t.seq <= {head} ORDER BY t.seq LIMIT ${n}");
    for (seq, row) in
        page.source(fetch(&state, &sql, cursor, &vis_args, page.fetch_limit()).await?)?
    {
        let ticket: Ticket = serde_json::from_str(
            &row.try_get::<String, _>("doc")
                .map_err(anyhow::Error::from)?,
        )
        .map_err(anyhow::Error::from)?;
        page.candidates
            .push((seq, ChangeKind::Ticket(Box::new(ticket))));
    }
    let sql = format!("SELECT e.seq, e.doc FROM entries e JOIN tickets t ON t.id = e.ticket_id WHERE e.seq > $1{vis} AND e.seq <= {head} ORDER BY e.seq LIMIT ${n}");
    for (seq, row) in
        page.source(fetch(&state, &sql, cursor, &vis_args, page.fetch_limit()).await?)?
    {
        let entry: Entry = serde_json::from_str(
            &row.try_get::<String, _>("doc")
                .map_err(anyhow::Error::from)?,
        )
        .map_err(anyhow::Error::from)?;
        page.candidates
            .push((seq, ChangeKind::Entry(Box::new(entry))));
    }
    if user.role == Role::Agent && !user.departments.is_empty() {
        // Tickets that left one of this agent's departments and that they can no longer see.
        let departments: Vec<String> = (0..user.departments.len())
            .map(|i| format!("${}", i + 2))
            .collect();
        let sql = format!(
            "SELECT r.seq, r.ticket_id FROM revocations r JOIN tickets t ON t.id = r.ticket_id
             WHERE r.seq > $1{vis_not} AND r.seq <= {head} AND r.department IN ({list}) ORDER BY r.seq LIMIT ${n}",
            vis_not = vis.replacen(" AND (", " AND NOT (", 1),
            list = departments.join(", "),
        );
        for (seq, row) in
            page.source(fetch(&state, &sql, cursor, &vis_args, page.fetch_limit()).await?)?
        {
            let ticket_id: String = row.try_get("ticket_id").map_err(anyhow::Error::from)?;
            page.candidates.push((
                seq,
                ChangeKind::Revoke {
                    ticket_id: ticket_id.parse().map_err(anyhow::Error::from)?,
                },
            ));
        }
    }
    let sql = format!("SELECT seq, code, name FROM departments WHERE seq > $1 AND seq <= {head} ORDER BY seq LIMIT $2");
    for (seq, row) in page.source(fetch(&state, &sql, cursor, &[], page.fetch_limit()).await?)? {
        page.candidates.push((
            seq,
            ChangeKind::Department(Department {
                code: row.try_get("code").map_err(anyhow::Error::from)?,
                name: row.try_get("name").map_err(anyhow::Error::from)?,
            }),
        ));
    }
    let sql =
        format!("SELECT seq, id FROM users WHERE seq > $1 AND seq <= {head} ORDER BY seq LIMIT $2");
    for (seq, row) in page.source(fetch(&state, &sql, cursor, &[], page.fetch_limit()).await?)? {
        let id: String = row.try_get("id").map_err(anyhow::Error::from)?;
        if let Some(u) =
            crate::users::load(&state.db.pool, id.parse().map_err(anyhow::Error::from)?).await?
        {
            page.candidates.push((seq, ChangeKind::User(u)));
        }
    }

    let (changes, has_more) = page.finish();
    let next_cursor = match changes.last() {
        Some(change) if has_more => change.seq as i64,
        _ => head.max(cursor),
    };
    Ok(Json(PullResponse {
        changes,
        cursor: next_cursor as u64,
        has_more,
        last_mutation_id: last_mutation_id as u64,
        reset_required: false,
    }))
}

/// Merges several seq-ordered sources into one page. A source that returned more than `limit`
/// rows sets a boundary: rows at or past it (from any source) wait for the next page, so no row
/// of the truncated source is ever skipped.
struct PageBuilder {
    limit: usize,
    boundary: Option<i64>,
    candidates: Vec<(i64, ChangeKind)>,
}

impl PageBuilder {
    fn fetch_limit(&self) -> i64 {
        self.limit as i64 + 1
    }

    fn source(
        &mut self,
        rows: Vec<sqlx::any::AnyRow>,
    ) -> anyhow::Result<Vec<(i64, sqlx::any::AnyRow)>> {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push((row.try_get::<i64, _>("seq")?, row));
        }
        if out.len() > self.limit {
            let edge = out[self.limit].0;
            self.boundary = Some(self.boundary.map_or(edge, |b| b.min(edge)));
        }
        Ok(out)
    }

    fn finish(mut self) -> (Vec<Change>, bool) {
        if let Some(boundary) = self.boundary {
            self.candidates.retain(|(seq, _)| *seq < boundary);
        }
        self.candidates.sort_by_key(|(seq, _)| *seq);
        let has_more = self.boundary.is_some() || self.candidates.len() > self.limit;
        self.candidates.truncate(self.limit);
        let changes = self
            .candidates
            .into_iter()
            .map(|(seq, kind)| Change {
                seq: seq as u64,
                kind,
            })
            .collect();
        (changes, has_more)
    }
}

/// The verification policy the server enforces before risk actions.
pub fn default_policy() -> VerificationPolicy {
    VerificationPolicy::default()
}
