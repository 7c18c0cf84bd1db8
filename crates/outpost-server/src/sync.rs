//! `POST /v1/sync/push` and `GET /v1/sync/pull`: the server side of the sync protocol.
//!
//! Push applies mutations with the same domain code the client runs (`outpost_core::apply`),
//! concurrent pushes grouped into one transaction by the push writer, after checking that the device's mutation ids have no gaps and that
//! the user may touch the ticket. Pull returns every row changed after the cursor that the user
//! may see, ordered by the organisation's change sequence.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use outpost_core::apply::{apply, ApplyContext, Rejection};
use outpost_core::audit::{AuditEvent, Hash32};
use outpost_core::model::{Department, Entry, EntryBody, Role, Status, Ticket, TicketEvent, User};
use outpost_core::rules::VerificationPolicy;
use outpost_core::sync::{
    ChangeKind, FieldConflict, Mutation, MutationEnvelope, MutationOutcome, MutationResult,
    PullResponse, PushRequest, PushResponse, DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, MAX_PUSH_BATCH,
};
use serde::Deserialize;
use sqlx::Row;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::{next, next_block, WriteTx};
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

use crate::writes::{description_rev, load_timeline, replace_entry, write_revocation};
pub(crate) use crate::writes::{load_ticket, write_entry, write_ticket_row};

fn digest(ticket: &Ticket) -> anyhow::Result<Hash32> {
    Ok(Hash32::digest(&serde_json::to_vec(ticket)?))
}

/// One push request waiting for the writer.
pub struct PushJob {
    user: User,
    device_id: Uuid,
    address: Option<String>,
    mutations: Vec<MutationEnvelope>,
    reply: tokio::sync::oneshot::Sender<ApiResult<PushResponse>>,
}

/// Most mutations one group transaction takes from the queue.
const MAX_GROUP_MUTATIONS: usize = 2_000;

/// The push writer: takes every push waiting in the queue and applies them in one transaction
/// (group commit), so concurrent pushes share the commit, the counter reservation and the audit
/// chain head. The queue is per server instance; on PostgreSQL several instances still serialise
/// on the counter rows.
///
/// A group that fails for an infrastructure reason is rolled back whole and its pushes are
/// retried one transaction each, so one bad push never fails its neighbours. The writer runs as
/// its own task: a client that disconnects cannot cancel a transaction half-way.
pub(crate) async fn run_push_writer(
    state: std::sync::Weak<crate::Inner>,
    mut queue: tokio::sync::mpsc::Receiver<PushJob>,
) {
    while let Some(first) = queue.recv().await {
        let mut count = first.mutations.len();
        let mut jobs = vec![first];
        while count < MAX_GROUP_MUTATIONS {
            match queue.try_recv() {
                Ok(job) => {
                    count += job.mutations.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let Some(inner) = state.upgrade() else { break };
        apply_group(&AppState(inner), jobs).await;
    }
}

async fn apply_group(state: &AppState, jobs: Vec<PushJob>) {
    if jobs.len() > 1 {
        match apply_jobs(state, &jobs).await {
            Ok((answers, applied_any)) => {
                if applied_any {
                    state.notify_changed().await;
                }
                for (job, answer) in jobs.into_iter().zip(answers) {
                    let _ = job.reply.send(answer);
                }
                return;
            }
            Err(error) => {
                tracing::warn!(
                    "group of {} pushes failed, retrying one by one: {error:#}",
                    jobs.len()
                );
            }
        }
    }
    for job in jobs {
        let answer = match apply_jobs(state, std::slice::from_ref(&job)).await {
            Ok((mut answers, applied_any)) => {
                if applied_any {
                    state.notify_changed().await;
                }
                answers.pop().expect("one answer per job")
            }
            Err(error) => Err(ApiError::Internal(error)),
        };
        let _ = job.reply.send(answer);
    }
}

/// Applies pushes in one transaction. `Err` is an infrastructure failure: nothing is kept and
/// the caller retries. A refused push (inner `Err`) and refused mutations write nothing.
async fn apply_jobs(
    state: &AppState,
    jobs: &[PushJob],
) -> anyhow::Result<(Vec<ApiResult<PushResponse>>, bool)> {
    let mut tx = state.db.begin_write().await?;
    // Everything the group reads, in two queries: the tickets it touches and its devices.
    let tickets: Vec<Uuid> = jobs
        .iter()
        .flat_map(|j| j.mutations.iter().map(|m| m.mutation.ticket_id()))
        .collect();
    crate::writes::prefetch_tickets(&mut tx, &tickets).await?;
    let mut devices = load_devices(&mut tx, jobs).await?;
    let mut answers = Vec::with_capacity(jobs.len());
    let mut applied_any = false;
    for job in jobs {
        answers.push(apply_push(state, &mut tx, &mut devices, job, &mut applied_any).await?);
    }
    save_devices(&mut tx, &devices).await?;
    let redacted = tx.redacted;
    tx.commit().await?;
    if redacted {
        state.db.erase_freed().await;
    }
    Ok((answers, applied_any))
}

/// A device's owner and last processed mutation id, and whether this group moved it.
struct DeviceState {
    owner: String,
    last: i64,
    moved: bool,
}

async fn load_devices(
    tx: &mut WriteTx,
    jobs: &[PushJob],
) -> anyhow::Result<HashMap<Uuid, DeviceState>> {
    let mut ids: Vec<String> = jobs.iter().map(|j| j.device_id.to_string()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut devices = HashMap::new();
    for chunk in ids.chunks(500) {
        let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT device_id, user_id, last_mutation_id FROM devices WHERE device_id IN ({})",
            list.join(", ")
        );
        let mut query = sqlx::query_as::<_, (String, String, i64)>(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id);
        }
        for (id, owner, last) in query.fetch_all(&mut **tx).await? {
            devices.insert(
                id.parse()?,
                DeviceState {
                    owner,
                    last,
                    moved: false,
                },
            );
        }
    }
    Ok(devices)
}

async fn save_devices(
    tx: &mut WriteTx,
    devices: &HashMap<Uuid, DeviceState>,
) -> anyhow::Result<()> {
    let moved: Vec<(&Uuid, &DeviceState)> = devices.iter().filter(|(_, d)| d.moved).collect();
    for chunk in moved.chunks(500) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO devices (device_id, user_id, last_mutation_id) VALUES {}
             ON CONFLICT (device_id) DO UPDATE SET last_mutation_id = excluded.last_mutation_id",
            rows.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, device) in chunk {
            query = query
                .bind(id.to_string())
                .bind(device.owner.clone())
                .bind(device.last);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

async fn apply_push(
    state: &AppState,
    tx: &mut WriteTx,
    devices: &mut HashMap<Uuid, DeviceState>,
    job: &PushJob,
    applied_any: &mut bool,
) -> anyhow::Result<ApiResult<PushResponse>> {
    let user_id = job.user.id.to_string();
    let device = devices.entry(job.device_id).or_insert_with(|| DeviceState {
        owner: user_id.clone(),
        last: 0,
        moved: false,
    });
    if device.owner != user_id {
        return Ok(Err(ApiError::Conflict(
            "this device id belongs to another user; sign in again on this device".into(),
        )));
    }
    let mut last = device.last;
    let start = last;
    let mut results = Vec::with_capacity(job.mutations.len());
    for envelope in &job.mutations {
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
            // aborts the whole transaction (nothing is committed and the pushes are retried).
            match decide(state, tx, &job.user, job.device_id, envelope).await? {
                Ok(Decision::View {
                    revision,
                    department,
                }) => {
                    record_view(
                        tx,
                        Origin {
                            actor: &user_id,
                            device_id: job.device_id,
                            address: job.address.as_deref(),
                        },
                        envelope,
                        revision,
                        department.as_deref(),
                    )
                    .await?
                }
                Ok(Decision::Change(decided)) => {
                    *applied_any = true;
                    commit_applied(
                        state,
                        tx,
                        Origin {
                            actor: &user_id,
                            device_id: job.device_id,
                            address: job.address.as_deref(),
                        },
                        envelope.mutation.name(),
                        envelope.mutation_id,
                        *decided,
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
        let device = devices.get_mut(&job.device_id).expect("inserted above");
        device.last = last;
        device.moved = true;
    }
    Ok(Ok(PushResponse {
        results,
        last_mutation_id: last as u64,
    }))
}

/// What a pushed mutation amounts to once checked.
enum Decision {
    /// A ticket change to write.
    Change(Box<Decided>),
    /// `ticket.view`: an audit event only, with the ticket's revision and department as the
    /// viewer saw them.
    View {
        revision: u64,
        department: Option<String>,
    },
}

/// Records that `user_id` opened `ticket` (`ticket.view`): an audit event with the device, the
/// time the client reports and the ticket's department; no ticket write, no new revision.
async fn record_view(
    tx: &mut WriteTx,
    origin: Origin<'_>,
    envelope: &MutationEnvelope,
    revision: u64,
    department: Option<&str>,
) -> anyhow::Result<MutationOutcome> {
    crate::audit::append(
        tx,
        AuditEvent {
            seq: 0,
            at: crate::db::now(),
            actor: origin.actor.to_owned(),
            device: Some(origin.device_id.to_string()),
            address: origin.address.map(str::to_owned),
            action: envelope.mutation.name().to_owned(),
            ticket_id: Some(envelope.mutation.ticket_id()),
            before: None,
            after: None,
            detail: serde_json::json!({
                "mutation_id": envelope.mutation_id,
                "revision": revision,
                "viewed_at": envelope.client_time,
                "department": department,
            })
            .to_string(),
        },
        department,
    )
    .await?;
    Ok(MutationOutcome::Applied { revision })
}

/// Who made a change and from where, as the audit chain records it.
pub(crate) struct Origin<'a> {
    /// A user id, or a system source such as `intake:web_form`, `dispatch`, `customer`.
    pub actor: &'a str,
    pub device_id: Uuid,
    pub address: Option<&'a str>,
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
    tx: &mut WriteTx,
    user: &User,
    device_id: Uuid,
    envelope: &MutationEnvelope,
) -> anyhow::Result<Result<Decision, Rejection>> {
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
    match (&envelope.mutation, &before) {
        (Mutation::RecordView { .. }, Some(ticket)) => {
            return Ok(Ok(Decision::View {
                revision: ticket.revision,
                department: ticket.department.clone(),
            }));
        }
        (Mutation::RedactEntry { .. }, _) if user.role == Role::Agent => {
            return Ok(Err(Rejection::Forbidden(
                "only supervisors and admins can redact entries".into(),
            )));
        }
        _ => {}
    }
    let timeline = match envelope.mutation {
        Mutation::FreezeAccount(_)
        | Mutation::InterceptTransaction(_)
        | Mutation::UnfreezeAccount(_)
        | Mutation::RedactEntry { .. } => load_timeline(tx, ticket_id).await?,
        _ => Vec::new(),
    };
    let ctx = ApplyContext {
        actor: Some(user.id),
        device_id,
        mutation_id: envelope.mutation_id,
        client_time: envelope.client_time,
        now: crate::db::now(),
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
        let changed_at = description_rev(tx, ticket_id).await?;
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
            return Ok(Ok(Decision::Change(Box::new(Decided {
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
            }))));
        }
    }
    Ok(Ok(Decision::Change(Box::new(Decided {
        before,
        ticket: applied.ticket,
        entries: applied.entries,
        conflicts: Vec::new(),
    }))))
}

/// Writes an applied change: ticket row (with its key and revision), entries, a revocation when
/// the department changed, and the audit event, made by `origin`.
///
/// The audit `detail` carries the mutation id, the new revision, the ticket's department after
/// the change and `changes`: the [`TicketEvent`]s the change produced (before/after values such
/// as `status_changed {from, to}`), never customer or reply text. A redaction's event has
/// `before` = the SHA-256 of the removed content, and its replaced entry overwrites the stored
/// one (same id, new change sequence number). A change that resolves a ticket the customer has
/// not rated yet also sends them the satisfaction survey ([`crate::customer::send_csat_link`]:
/// the link through the outbound queue only, a reply without it on the timeline).
pub(crate) async fn commit_applied(
    state: &AppState,
    tx: &mut WriteTx,
    origin: Origin<'_>,
    action: &str,
    mutation_id: u64,
    decided: Decided,
) -> anyhow::Result<MutationOutcome> {
    let Origin {
        actor,
        device_id,
        address,
    } = origin;
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
        if matches!(entry.body, EntryBody::Redacted { .. }) {
            replace_entry(tx, entry, take());
        } else {
            write_entry(tx, entry, take());
        }
    }
    if let Some(old) = moved {
        write_revocation(tx, take(), ticket.id, old);
    }
    let changes: Vec<&TicketEvent> = entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Event { event } => Some(event),
            _ => None,
        })
        .collect();
    let mut detail = serde_json::json!({
        "mutation_id": mutation_id,
        "revision": ticket.revision,
        "department": ticket.department,
        "changes": changes,
    });
    let mut before_hash = before.as_ref().map(digest).transpose()?;
    for event in &changes {
        if let TicketEvent::EntryRedacted {
            entry_id,
            removed_sha256,
            ..
        } = event
        {
            before_hash = Some(Hash32::from_hex(removed_sha256).map_err(|e| {
                anyhow::anyhow!("removed_sha256 {removed_sha256:?} is not hex: {e}")
            })?);
            detail["entry_id"] = serde_json::json!(entry_id);
            detail["removed_sha256"] = serde_json::json!(removed_sha256);
        }
    }
    crate::audit::append(
        tx,
        AuditEvent {
            seq: 0,
            at: crate::db::now(),
            actor: actor.to_owned(),
            device: Some(device_id.to_string()),
            address: address.map(str::to_owned),
            action: action.to_owned(),
            ticket_id: Some(ticket.id),
            before: before_hash,
            after: Some(digest(&ticket)?),
            detail: detail.to_string(),
        },
        ticket.department.as_deref(),
    )
    .await?;
    // Rated already (a reopened ticket resolved again): the status page has no form to offer.
    let resolved_now = ticket.status == Status::Resolved
        && before.as_ref().is_none_or(|b| b.status != Status::Resolved)
        && ticket.csat.is_none();
    if resolved_now {
        crate::customer::send_csat_link(state, tx, &ticket).await?;
    }
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
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job = PushJob {
        user,
        device_id: request.device_id,
        address,
        mutations: request.mutations,
        reply,
    };
    state
        .push_queue
        .send(job)
        .await
        .map_err(|_| anyhow::anyhow!("the push writer has stopped"))?;
    let response = answer
        .await
        .map_err(|_| anyhow::anyhow!("the push writer dropped a push"))??;
    Ok(Json(response))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PullQuery {
    #[serde(default)]
    pub cursor: u64,
    /// Most changes to return: 1 to 5 000 (larger values are clamped); 1 000 when omitted.
    /// Clients ask for 5 000 while bootstrapping.
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

/// Runs a page query with `$1` = cursor, `$2` = head, then `args`, then the limit. The SQL text
/// depends only on the user's number of departments, so prepared statements are reused.
async fn fetch(
    state: &AppState,
    sql: &str,
    cursor: i64,
    head: i64,
    args: &[String],
    limit: i64,
) -> anyhow::Result<Vec<sqlx::any::AnyRow>> {
    // Only placeholders and server-side numbers are formatted into `sql`; request values are
    // always bound.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(cursor)
        .bind(head);
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
) -> ApiResult<Json<WirePull>> {
    let limit = query
        .limit
        .unwrap_or(DEFAULT_PULL_LIMIT)
        .clamp(1, MAX_PULL_LIMIT) as usize;
    let cursor = i64::try_from(query.cursor)
        .map_err(|_| ApiError::BadRequest("cursor out of range".into()))?;
    // One round trip for the page's bounds. Everything at or below `head` is committed (see
    // `WriteTx`).
    let device = query.device_id.map(|d| d.to_string()).unwrap_or_default();
    let (head, user_view, last_mutation_id, device_view): (i64, i64, Option<i64>, Option<i64>) =
        sqlx::query_as(
            "SELECT (SELECT value FROM counters WHERE name = 'change_seq'),
                    (SELECT COALESCE(view_seq, 0) FROM users WHERE id = $1),
                    (SELECT last_mutation_id FROM devices WHERE device_id = $2 AND user_id = $1),
                    (SELECT COALESCE(view_seq, 0) FROM devices WHERE device_id = $2 AND user_id = $1)",
        )
        .bind(user.id.to_string())
        .bind(&device)
        .fetch_one(&state.db.pool)
        .await?;
    let last_mutation_id = last_mutation_id.unwrap_or(0);
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
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        } else {
            stale_view = device_view.is_some_and(|v| v < user_view);
        }
    }
    // A cursor from another database or before a restore, or a device that bootstrapped before
    // this user's view shrank: drop server rows, keep the outbox, pull from zero.
    if cursor > head || stale_view {
        return Ok(Json(WirePull {
            changes: Vec::new(),
            cursor: 0,
            has_more: true,
            last_mutation_id: last_mutation_id as u64,
            reset_required: true,
        }));
    }
    let (vis, vis_args) = visibility(&user, 3);
    let n = vis_args.len() + 3;
    // The page's upper bound, from sequence numbers alone: the (limit + 1)-th ticket or entry
    // change after the cursor (each source capped at limit + 1 rows). The document queries
    // below then read only rows that fit in the page instead of limit + 1 documents from every
    // source. Every source uses the same bound, so nothing below it is skipped.
    let bound_sql = format!(
        "SELECT seq FROM (
             SELECT seq FROM (SELECT t.seq AS seq FROM tickets t WHERE t.seq > $1 AND t.seq <= $2{vis} ORDER BY t.seq LIMIT ${n}) a
             UNION ALL
             SELECT seq FROM (SELECT e.seq AS seq FROM entries e JOIN tickets t ON t.id = e.ticket_id WHERE e.seq > $1 AND e.seq <= $2{vis} ORDER BY e.seq LIMIT ${n}) b
         ) s ORDER BY seq LIMIT 1 OFFSET ${}",
        n + 1
    );
    let mut bound_query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(bound_sql))
        .bind(cursor)
        .bind(head);
    for arg in &vis_args {
        bound_query = bound_query.bind(arg.clone());
    }
    let bound: Option<i64> = bound_query
        .bind(limit as i64 + 1)
        .bind(limit as i64)
        .fetch_optional(&state.db.pool)
        .await?;
    let upper = bound.map_or(head, |b| b - 1);
    let mut page = PageBuilder {
        limit,
        boundary: bound,
        candidates: Vec::new(),
    };

    let sql = format!("SELECT t.seq, t.doc FROM tickets t WHERE t.seq > $1 AND t.seq <= $2{vis} ORDER BY t.seq LIMIT ${n}");
    for (seq, row) in
        page.source(fetch(&state, &sql, cursor, upper, &vis_args, page.fetch_limit()).await?)?
    {
        page.candidates.push((seq, stored_doc("ticket", &row)?));
    }
    let sql = format!("SELECT e.seq, e.doc FROM entries e JOIN tickets t ON t.id = e.ticket_id WHERE e.seq > $1 AND e.seq <= $2{vis} ORDER BY e.seq LIMIT ${n}");
    for (seq, row) in
        page.source(fetch(&state, &sql, cursor, upper, &vis_args, page.fetch_limit()).await?)?
    {
        page.candidates.push((seq, stored_doc("entry", &row)?));
    }
    if user.role == Role::Agent && !user.departments.is_empty() {
        // Tickets that left one of this agent's departments and that they can no longer see.
        let departments: Vec<String> = (0..user.departments.len())
            .map(|i| format!("${}", i + 3))
            .collect();
        let sql = format!(
            "SELECT r.seq, r.ticket_id FROM revocations r JOIN tickets t ON t.id = r.ticket_id
             WHERE r.seq > $1 AND r.seq <= $2{vis_not} AND r.department IN ({list}) ORDER BY r.seq LIMIT ${n}",
            vis_not = vis.replacen(" AND (", " AND NOT (", 1),
            list = departments.join(", "),
        );
        for (seq, row) in
            page.source(fetch(&state, &sql, cursor, upper, &vis_args, page.fetch_limit()).await?)?
        {
            let ticket_id: String = row.try_get("ticket_id").map_err(anyhow::Error::from)?;
            let ticket_id: Uuid = ticket_id.parse().map_err(anyhow::Error::from)?;
            page.candidates
                .push((seq, WireKind::typed(&ChangeKind::Revoke { ticket_id })?));
        }
    }
    let sql = "SELECT seq, code, name FROM departments WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3";
    for (seq, row) in
        page.source(fetch(&state, sql, cursor, upper, &[], page.fetch_limit()).await?)?
    {
        let department = ChangeKind::Department(Department {
            code: row.try_get("code").map_err(anyhow::Error::from)?,
            name: row.try_get("name").map_err(anyhow::Error::from)?,
        });
        page.candidates.push((seq, WireKind::typed(&department)?));
    }
    let sql = "SELECT seq, id, name, email, role, departments, skills, active FROM users
               WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3";
    for (seq, row) in
        page.source(fetch(&state, sql, cursor, upper, &[], page.fetch_limit()).await?)?
    {
        let user = crate::users::decode(&row)?;
        page.candidates
            .push((seq, WireKind::typed(&ChangeKind::User(user))?));
    }
    let sql = "SELECT seq, doc FROM templates WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3";
    for (seq, row) in
        page.source(fetch(&state, sql, cursor, upper, &[], page.fetch_limit()).await?)?
    {
        page.candidates.push((seq, stored_doc("template", &row)?));
    }
    let (changes, has_more) = page.finish();
    let next_cursor = match changes.last() {
        Some(change) if has_more => change.seq as i64,
        _ => head.max(cursor),
    };
    Ok(Json(WirePull {
        changes,
        cursor: next_cursor as u64,
        has_more,
        last_mutation_id: last_mutation_id as u64,
        reset_required: false,
    }))
}

/// A pull response as written on the wire: the same JSON as [`PullResponse`] (the documented
/// contract, which clients decode), but ticket and entry documents are copied from the database
/// as stored JSON rather than decoded and re-encoded.
#[derive(serde::Serialize)]
pub struct WirePull {
    changes: Vec<WireChange>,
    cursor: u64,
    has_more: bool,
    last_mutation_id: u64,
    reset_required: bool,
}

/// One [`outpost_core::sync::Change`]: `{"seq": …, "type": …, "data": …}`.
#[derive(serde::Serialize)]
struct WireChange {
    seq: u64,
    #[serde(rename = "type")]
    kind: String,
    data: Box<serde_json::value::RawValue>,
}

struct WireKind {
    kind: String,
    data: Box<serde_json::value::RawValue>,
}

impl WireKind {
    /// Encodes a [`ChangeKind`] exactly as its own `Serialize` does.
    fn typed(change: &ChangeKind) -> anyhow::Result<WireKind> {
        #[derive(serde::Deserialize)]
        struct Tagged {
            #[serde(rename = "type")]
            kind: String,
            data: Box<serde_json::value::RawValue>,
        }
        let tagged: Tagged = serde_json::from_str(&serde_json::to_string(change)?)?;
        Ok(WireKind {
            kind: tagged.kind,
            data: tagged.data,
        })
    }
}

/// A stored ticket or entry document, passed through as written by `write_ticket_row` /
/// `write_entry` (which encode the core types).
fn stored_doc(kind: &str, row: &sqlx::any::AnyRow) -> anyhow::Result<WireKind> {
    let doc: String = row.try_get("doc")?;
    Ok(WireKind {
        kind: kind.to_owned(),
        data: serde_json::value::RawValue::from_string(doc)?,
    })
}

/// Merges several seq-ordered sources into one page. A source that returned more than `limit`
/// rows sets a boundary: rows at or past it (from any source) wait for the next page, so no row
/// of the truncated source is ever skipped.
struct PageBuilder {
    limit: usize,
    boundary: Option<i64>,
    candidates: Vec<(i64, WireKind)>,
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

    fn finish(mut self) -> (Vec<WireChange>, bool) {
        if let Some(boundary) = self.boundary {
            self.candidates.retain(|(seq, _)| *seq < boundary);
        }
        self.candidates.sort_by_key(|(seq, _)| *seq);
        let has_more = self.boundary.is_some() || self.candidates.len() > self.limit;
        self.candidates.truncate(self.limit);
        let changes = self
            .candidates
            .into_iter()
            .map(|(seq, kind)| WireChange {
                seq: seq as u64,
                kind: kind.kind,
                data: kind.data,
            })
            .collect();
        (changes, has_more)
    }
}

/// The verification policy the server enforces before risk actions.
pub fn default_policy() -> VerificationPolicy {
    VerificationPolicy::default()
}
