//! Messages for customers that leave through a connector (an e-mail bridge, a chat or SMS
//! gateway), never through the agents' timeline: today the satisfaction survey, whose text holds
//! a customer link (a bearer secret for the customer's status page).
//!
//! The server queues a message in the transaction that decides to send it (the survey:
//! `change::send_csat_link`). This module is the connectors' side: they authenticate with an
//! intake key exactly like `POST /v1/intake`, read pending messages in order
//! (`GET /v1/intake/outbound`) and confirm each one (`POST /v1/intake/outbound/{id}/delivered`). Confirming erases the body: the row keeps the
//! metadata and the body's SHA-256, so clear customer links do not accumulate in the database
//! (on SQLite the freed space is zeroed and the write-ahead log truncated, as after a
//! redaction).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use chrono::{DateTime, Utc};
use outpost_core::model::Channel;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::intake_keys::IntakeCaller;
use crate::{AppState, ClientAddr};

/// Messages per page when no `limit` is given.
pub const DEFAULT_OUTBOUND_PAGE: u32 = 100;
/// Most messages one page returns (larger limits are clamped).
pub const MAX_OUTBOUND_PAGE: u32 = 1_000;

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
#[allow(
    clippy::struct_field_names,
    reason = "`delivered_at` is the wire name connectors already read"
)]
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

#[utoipa::path(get, path = "/v1/intake/outbound", security(("intake_key" = [])), params(OutboundQuery), responses((status = 200, description = "Pending messages for customers, in order", body = OutboundPage), (status = 400, description = "Malformed query", body = crate::error::ErrorBody), (status = 401, description = "No valid intake key", body = crate::error::ErrorBody)))]
pub async fn list_outbound(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<ApiQuery<OutboundQuery>, ApiError>,
) -> ApiResult<Json<OutboundPage>> {
    IntakeCaller::from_headers(&state, &headers).await?;
    // Read after the key check, so a caller without one learns nothing from its validation.
    let ApiQuery(query) = query?;
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

#[utoipa::path(post, path = "/v1/intake/outbound/{id}/delivered", security(("intake_key" = [])), params(("id" = Uuid, Path, description = "Message id")), responses((status = 200, description = "Delivered (idempotent); the body is erased", body = Delivered), (status = 400, description = "Malformed id", body = crate::error::ErrorBody), (status = 401, description = "No valid intake key", body = crate::error::ErrorBody), (status = 404, description = "No such message", body = crate::error::ErrorBody)))]
pub async fn mark_delivered(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    id: Result<ApiPath<Uuid>, ApiError>,
) -> ApiResult<Json<Delivered>> {
    let caller = IntakeCaller::from_headers(&state, &headers).await?;
    let ApiPath(id) = id?;
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
    let department = crate::writes::load_ticket(&mut tx, ticket_id)
        .await?
        .and_then(|t| t.department);
    AuditEntry::outbound_delivered(
        &caller.actor(),
        address.as_deref(),
        &caller.name,
        ticket_id,
        department.as_deref(),
        id,
        &kind,
        &channel,
        &body_sha256,
    )
    .append(&mut tx)
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
