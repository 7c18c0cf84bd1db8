//! Messages for customers that leave through a connector (an e-mail bridge, a chat or SMS
//! gateway), never through the agents' timeline: today the satisfaction survey, whose text holds
//! a customer link (a bearer secret for the customer's status page).
//!
//! The server queues a message in the transaction that decides to send it ([`queue`]).
//! Connectors authenticate with an intake key exactly like `POST /v1/intake`, read pending
//! messages in order (`GET /v1/intake/outbound`) and confirm each one
//! (`POST /v1/intake/outbound/{id}/delivered`). Confirming erases the body: the row keeps the
//! metadata and the body's SHA-256, so clear customer links do not accumulate in the database
//! (on SQLite the freed space is zeroed and the write-ahead log truncated, as after a
//! redaction).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use chrono::{DateTime, Utc};
use outpost_core::audit::AuditEvent;
use outpost_core::model::{Channel, Ticket};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::sha256_hex;
use crate::db::{next, WriteTx};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::intake::IntakeCaller;
use crate::{AppState, ClientAddr};

/// Messages per page when no `limit` is given.
pub const DEFAULT_OUTBOUND_PAGE: u32 = 100;
/// Most messages one page returns (larger limits are clamped).
pub const MAX_OUTBOUND_PAGE: u32 = 1_000;

/// What [`queue`] needs besides the ticket.
pub(crate) struct NewMessage<'a> {
    pub id: Uuid,
    /// What the message is, for connectors that treat kinds differently (`csat_survey`).
    pub kind: &'a str,
    /// `en` or `zh-CN`: the language `subject` and `body` are written in.
    pub language: &'a str,
    pub subject: String,
    pub body: String,
}

/// Queues a message to `ticket`'s requester inside `tx`, numbered from `change_seq` (so on
/// PostgreSQL the numbers are handed out in commit order and a connector paging with `after`
/// never skips a late commit). Returns the number.
pub(crate) async fn queue(
    tx: &mut WriteTx,
    ticket: &Ticket,
    message: NewMessage<'_>,
) -> anyhow::Result<i64> {
    let seq = next(tx, "change_seq").await?;
    let body_sha256 = sha256_hex(&message.body);
    sqlx::query(
        "INSERT INTO outbound_messages (id, seq, kind, ticket_id, ticket_key, contact, channel, language, subject, body, body_sha256, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(message.id.to_string())
    .bind(seq)
    .bind(message.kind)
    .bind(ticket.id.to_string())
    .bind(ticket.key.clone().unwrap_or_default())
    .bind(ticket.requester.contact.clone())
    .bind(ticket.channel.as_str())
    .bind(message.language)
    .bind(message.subject)
    .bind(message.body)
    .bind(body_sha256)
    .bind(crate::db::now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(seq)
}

/// One pending message, as a connector receives it.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize, Deserialize)]
pub struct OutboundMessage {
    pub id: Uuid,
    /// Ordering: pass the last one you processed as `after` to read on.
    pub seq: u64,
    /// `csat_survey`: the satisfaction survey sent when a ticket is resolved.
    pub kind: String,
    pub ticket_id: Uuid,
    /// The ticket's human key (`OP-1042`).
    pub ticket_key: String,
    /// The requester's contact as the ticket records it (e-mail address or phone number).
    pub contact: String,
    /// The channel the ticket came in through.
    pub channel: Channel,
    /// `en` or `zh-CN`.
    pub language: String,
    pub subject: String,
    /// Plain text for the customer. It may contain a customer link: deliver it only to
    /// `contact`, and do not log it.
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(utoipa::ToSchema, Debug, Clone, Serialize, Deserialize)]
pub struct OutboundPage {
    /// Undelivered messages after `after`, oldest first.
    pub messages: Vec<OutboundMessage>,
    /// More pending messages follow the last one.
    pub has_more: bool,
}

#[derive(utoipa::ToSchema, Debug, Clone, Serialize, Deserialize)]
pub struct Delivered {
    pub id: Uuid,
    /// When the message was first confirmed (a repeated confirmation answers the same time).
    pub delivered_at: DateTime<Utc>,
    /// SHA-256 (hex) of the erased body.
    pub body_sha256: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboundQuery {
    /// Only messages with a larger `seq`; 0 when omitted.
    #[serde(default)]
    pub after: u64,
    /// Most messages to return: 1 to 1 000 (larger values are clamped); 100 when omitted.
    pub limit: Option<u32>,
}

fn millis(value: i64) -> anyhow::Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(value)
        .ok_or_else(|| anyhow::anyhow!("stored time {value} is out of range"))
}

type PendingRow = (
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
);

#[utoipa::path(get, path = "/v1/intake/outbound", params(("x-outpost-key" = String, Header, description = "Intake key (any channel); agents' bearer tokens are not accepted"), OutboundQuery), responses((status = 200, description = "Pending messages for customers, in order", body = OutboundPage), (status = 400, description = "Malformed query", body = crate::error::ErrorBody), (status = 401, description = "No valid intake key", body = crate::error::ErrorBody)))]
pub async fn list_outbound(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<OutboundQuery>,
) -> ApiResult<Json<OutboundPage>> {
    IntakeCaller::from_headers(&state, &headers).await?;
    let limit = query
        .limit
        .unwrap_or(DEFAULT_OUTBOUND_PAGE)
        .clamp(1, MAX_OUTBOUND_PAGE) as usize;
    let after = i64::try_from(query.after)
        .map_err(|_| ApiError::BadRequest("after out of range".into()))?;
    let rows: Vec<PendingRow> = sqlx::query_as(
        "SELECT id, seq, kind, ticket_id, ticket_key, contact, channel, language, subject, body, created_at
         FROM outbound_messages WHERE delivered_at IS NULL AND seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit as i64 + 1)
    .fetch_all(&state.db.pool)
    .await?;
    let has_more = rows.len() > limit;
    let mut messages = Vec::with_capacity(rows.len().min(limit));
    for row in rows.into_iter().take(limit) {
        let (id, seq, kind, ticket_id, ticket_key, contact, channel, language, subject, body, at) =
            row;
        messages.push(OutboundMessage {
            id: id.parse().map_err(anyhow::Error::from)?,
            seq: seq as u64,
            kind,
            ticket_id: ticket_id.parse().map_err(anyhow::Error::from)?,
            ticket_key,
            contact,
            channel: channel
                .parse()
                .map_err(|e| anyhow::anyhow!("stored channel {channel:?}: {e}"))?,
            language,
            subject,
            body: body.ok_or_else(|| anyhow::anyhow!("pending message {id} has no body"))?,
            created_at: millis(at)?,
        });
    }
    Ok(Json(OutboundPage { messages, has_more }))
}

#[utoipa::path(post, path = "/v1/intake/outbound/{id}/delivered", params(("x-outpost-key" = String, Header, description = "Intake key (any channel); agents' bearer tokens are not accepted"), ("id" = Uuid, Path, description = "Message id")), responses((status = 200, description = "Delivered (idempotent); the body is erased", body = Delivered), (status = 400, description = "Malformed id", body = crate::error::ErrorBody), (status = 401, description = "No valid intake key", body = crate::error::ErrorBody), (status = 404, description = "No such message", body = crate::error::ErrorBody)))]
pub async fn mark_delivered(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Delivered>> {
    let caller = IntakeCaller::from_headers(&state, &headers).await?;
    let mut tx = state.db.begin_write().await?;
    let now = crate::db::now();
    // One statement decides who confirms first, also between instances on PostgreSQL (the row
    // lock): a repeated or concurrent confirmation changes nothing and appends no audit event.
    let marked: Option<(String, String, String, String)> = sqlx::query_as(
        "UPDATE outbound_messages SET delivered_at = $1, body = NULL WHERE id = $2 AND delivered_at IS NULL
         RETURNING ticket_id, kind, channel, body_sha256",
    )
    .bind(now.timestamp_millis())
    .bind(id.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((ticket_id, kind, channel, body_sha256)) = marked else {
        let earlier: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT body_sha256, delivered_at FROM outbound_messages WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        return match earlier {
            Some((body_sha256, Some(at))) => Ok(Json(Delivered {
                id,
                delivered_at: millis(at)?,
                body_sha256,
            })),
            _ => Err(ApiError::NotFound("message")),
        };
    };
    let ticket_id: Uuid = ticket_id.parse().map_err(anyhow::Error::from)?;
    let department = crate::sync::load_ticket(&mut tx, ticket_id)
        .await?
        .and_then(|t| t.department);
    crate::audit::append(
        &mut tx,
        AuditEvent {
            seq: 0,
            at: now,
            actor: caller.actor(),
            device: None,
            address,
            action: "outbound.delivered".into(),
            ticket_id: Some(ticket_id),
            before: None,
            after: None,
            detail: serde_json::json!({
                "message_id": id,
                "kind": kind,
                "channel": channel,
                "intake_key": caller.name,
                "body_sha256": body_sha256,
                "department": department,
            })
            .to_string(),
        },
        department.as_deref(),
    )
    .await?;
    tx.commit().await?;
    // The erased body must not survive in SQLite's write-ahead log either.
    state.db.erase_freed().await;
    Ok(Json(Delivered {
        id,
        delivered_at: now,
        body_sha256,
    }))
}
