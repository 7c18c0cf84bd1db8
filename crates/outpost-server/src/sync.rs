//! `POST /v1/sync/push` and `GET /v1/sync/pull`: the server side of the sync protocol.
//!
//! Push is an adapter over [`crate::change`]: the push writer groups concurrent pushes into one
//! transaction, checks that each device's mutation ids have no gaps (duplicates are answered,
//! not applied again), and hands every mutation to `change::decide` / `change::commit` as a
//! device origin. Pull returns every row changed after the cursor that the user may see
//! (`change::visible_sql`), ordered by the organisation's change sequence.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use outpost_core::error::ErrorCode;
use outpost_core::model::{Department, Role, User};
use outpost_core::sync::{
    ChangeKind, MutationEnvelope, MutationOutcome, MutationResult, PullResponse, PushRequest,
    PushResponse, DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, MAX_PUSH_BATCH,
};
use serde::Deserialize;
use sqlx::Row;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::change::{commit, decide, visible_sql, Decision, Origin};
use crate::db::WriteTx;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::{AppState, ClientAddr};

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
        .flat_map(|j| j.mutations.iter().filter_map(|m| m.mutation.ticket_id()))
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
        // The files of blobs a redaction deleted (their keys went with the commit).
        state.blobs.sweep().await;
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
        // Ids are stored as BIGINT: outside 1..=i64::MAX one would wrap to a negative number and
        // read as already applied.
        let Some(id) = i64::try_from(envelope.mutation_id)
            .ok()
            .filter(|id| *id >= 1)
        else {
            results.push(MutationResult {
                mutation_id: envelope.mutation_id,
                outcome: MutationOutcome::Rejected {
                    code: ErrorCode::Invalid,
                    reason: format!(
                        "mutation_id {} is out of range; ids run from 1 to {}",
                        envelope.mutation_id,
                        i64::MAX
                    ),
                },
            });
            continue;
        };
        let outcome = if id <= last {
            MutationOutcome::Duplicate
        } else if id != last + 1 {
            MutationOutcome::Rejected {
                code: ErrorCode::MutationGap,
                reason: format!(
                    "expected mutation {} from this device, got {id}; push in order",
                    last + 1
                ),
            }
        } else {
            last = id;
            // `decide` only reads, so a refusal has nothing to roll back; a failure while writing
            // aborts the whole transaction (nothing is committed and the pushes are retried).
            let origin = Origin::Device {
                user: &job.user,
                device_id: job.device_id,
                address: job.address.as_deref(),
            };
            let decided = if envelope.mutation.is_admin() {
                // Settings, departments and templates: `settings::apply` decides and writes.
                crate::settings::apply(tx, origin, Some(envelope.mutation_id), &envelope.mutation)
                    .await?
                    .map(|applied| {
                        *applied_any = true;
                        MutationOutcome::Applied {
                            revision: crate::settings::revision(&applied),
                        }
                    })
            } else {
                match decide(tx, origin, envelope).await? {
                    Ok(decision) => {
                        *applied_any |= matches!(decision, Decision::Change(_));
                        Ok(commit(state, tx, origin, envelope, decision).await?)
                    }
                    Err(rejection) => Err(rejection),
                }
            };
            decided.unwrap_or_else(|rejection| MutationOutcome::Rejected {
                code: rejection.code(),
                reason: rejection.to_string(),
            })
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
    let (vis, vis_args) = visible_sql(&user, 3);
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
    let sql = "SELECT seq, code, name, active FROM departments WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3";
    for (seq, row) in
        page.source(fetch(&state, sql, cursor, upper, &[], page.fetch_limit()).await?)?
    {
        let department = ChangeKind::Department(Department {
            code: row.try_get("code").map_err(anyhow::Error::from)?,
            name: row.try_get("name").map_err(anyhow::Error::from)?,
            active: row
                .try_get::<i64, _>("active")
                .map_err(anyhow::Error::from)?
                != 0,
        });
        page.candidates.push((seq, WireKind::typed(&department)?));
    }
    let sql = "SELECT seq, kind, version, doc, updated_by, updated_at FROM settings WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3";
    for (seq, row) in
        page.source(fetch(&state, sql, cursor, upper, &[], page.fetch_limit()).await?)?
    {
        let settings = ChangeKind::Settings(crate::settings_docs::decode(&row)?);
        page.candidates.push((seq, WireKind::typed(&settings)?));
    }
    let sql = "SELECT seq, id, name, email, role, departments, skills, active, away, shifts
               FROM users WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3";
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
