//! `POST /v1/intake`: tickets from outside (web form, webhook, e-mail bridge), authenticated by
//! a per-channel API key. Each ticket is classified by the rules, dispatched by load and skills,
//! and its SLA clocks start from the moment it is stored.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use outpost_core::apply::{apply, ApplyContext};
use outpost_core::model::{
    Category, Channel, CustomerTier, Priority, Requester, RiskLevel, Status,
};
use outpost_core::rules::{choose, AgentState, ClassifyInput, DispatchPolicy, RuleSet};
use outpost_core::sync::{Mutation, NewTicket};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use uuid::Uuid;

use crate::auth::{random_token, sha256_hex};
use crate::db::{next, now_millis, WriteTx};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::sync::{commit_applied, Decided, Origin};
use crate::{AppState, ClientAddr};

#[derive(utoipa::ToSchema, Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequesterInput {
    pub name: String,
    pub contact: String,
    pub account_id: Option<String>,
    pub tier: Option<CustomerTier>,
}

#[derive(utoipa::ToSchema, Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeRequest {
    pub subject: String,
    #[serde(default)]
    pub description: String,
    pub requester: RequesterInput,
    /// BCP 47; `zh-CN` or `en` when omitted, guessed from the text.
    pub language: Option<String>,
    /// Free-form business line the rules can match ("payment", "saas", "kyc").
    pub business_type: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(utoipa::ToSchema, Debug, Clone, Serialize, Deserialize)]
pub struct IntakeResponse {
    pub ticket_id: Uuid,
    pub key: String,
    pub category: Category,
    pub priority: Priority,
    pub risk: RiskLevel,
    pub department: Option<String>,
    pub assignee: Option<Uuid>,
    pub matched_rules: Vec<String>,
    pub suggested_templates: Vec<String>,
    /// Path of the customer's status page (unguessable; the only way to reach it).
    pub status_path: String,
}

/// Creates an intake key for `channel`; only its hash is stored.
pub async fn add_key(tx: &mut WriteTx, channel: Channel, name: &str) -> anyhow::Result<String> {
    let key = format!("opk_{}", random_token(24)?);
    sqlx::query(
        "INSERT INTO intake_keys (key_hash, channel, name, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(sha256_hex(&key))
    .bind(channel.as_str())
    .bind(name)
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(key)
}

fn guess_language(text: &str) -> &'static str {
    if text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)) {
        "zh-CN"
    } else {
        "en"
    }
}

/// Agents of `department` with their open load, for the dispatch rules.
async fn agents(tx: &mut WriteTx, department: &str) -> anyhow::Result<Vec<AgentState>> {
    // Counts open tickets with SQL: this transaction's buffered rows must be written first.
    crate::writes::flush(tx).await?;
    let rows = sqlx::query(
        "SELECT u.id, u.departments, u.skills, COALESCE(d.last_assigned, 0) AS last_assigned
         FROM users u LEFT JOIN agent_dispatch d ON d.user_id = u.id
         WHERE u.role = 'agent' AND u.active = 1",
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut agents = Vec::new();
    for row in rows {
        let departments: Vec<String> =
            serde_json::from_str(&row.try_get::<String, _>("departments")?)?;
        if !departments.iter().any(|d| d == department) {
            continue;
        }
        let id: String = row.try_get("id")?;
        let load = sqlx::query(
            "SELECT priority, count(*) AS n FROM tickets
             WHERE assignee = $1 AND status IN ('new', 'triaged', 'assigned', 'in_progress', 'pending')
             GROUP BY priority",
        )
        .bind(&id)
        .fetch_all(&mut **tx)
        .await?;
        let mut open_load = Vec::new();
        for l in load {
            let priority: Option<String> = l.try_get("priority")?;
            if let Some(p) = priority.and_then(|p| p.parse::<Priority>().ok()) {
                open_load.push((p, l.try_get::<i64, _>("n")? as u32));
            }
        }
        agents.push(AgentState {
            user_id: id.parse()?,
            departments,
            skills: serde_json::from_str(&row.try_get::<String, _>("skills")?)?,
            // Shift schedules are not modelled yet: every active agent counts as on shift.
            on_shift: true,
            open_load,
            last_assigned_seq: row.try_get::<i64, _>("last_assigned")? as u64,
            active: true,
        });
    }
    Ok(agents)
}

/// Creates a customer link to `ticket`; returns its path.
pub async fn customer_link(tx: &mut WriteTx, ticket: Uuid) -> anyhow::Result<String> {
    let token = random_token(24)?;
    sqlx::query(
        "INSERT INTO customer_links (token_hash, ticket_id, created_at) VALUES ($1, $2, $3)",
    )
    .bind(sha256_hex(&token))
    .bind(ticket.to_string())
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(format!("/c/t/{token}"))
}

/// Classifies, stores, dispatches and audits one incoming ticket. `source` is the audit actor.
pub async fn create(
    state: &AppState,
    channel: Channel,
    source: &str,
    address: Option<&str>,
    request: IntakeRequest,
) -> ApiResult<IntakeResponse> {
    let rules = RuleSet::defaults();
    let tier = request.requester.tier.unwrap_or(CustomerTier::Standard);
    let classification = rules.classify(&ClassifyInput {
        subject: &request.subject,
        description: &request.description,
        tier,
        channel,
        business_type: request.business_type.as_deref(),
    });
    let department = classification
        .department
        .clone()
        .or_else(|| Some("support".to_owned()));
    let language = request.language.clone().unwrap_or_else(|| {
        guess_language(&format!("{} {}", request.subject, request.description)).to_owned()
    });
    let mut tags: BTreeSet<String> = classification.tags.clone();
    tags.extend(request.tags.iter().cloned());
    let new = NewTicket {
        id: Uuid::now_v7(),
        subject: request.subject.clone(),
        description: request.description.clone(),
        requester: Requester {
            name: request.requester.name.clone(),
            contact: request.requester.contact.clone(),
            account_id: request.requester.account_id.clone(),
            tier,
        },
        channel,
        language,
        category: classification.category.unwrap_or(Category::Inquiry),
        priority: classification.priority_or(Priority::P3),
        risk: classification.risk.unwrap_or(RiskLevel::None),
        department: department.clone(),
        tags,
    };
    let now = crate::db::now();
    let device = Uuid::nil();
    let mut tx = state.db.begin_write().await?;
    // Intake mutations are numbered from the change sequence so derived entry ids never repeat.
    let mutation_id = next(&mut tx, "change_seq").await? as u64;
    let ctx = |id: u64| ApplyContext {
        actor: None,
        device_id: device,
        mutation_id: id,
        client_time: now,
        now,
        verification: &state.verification,
        timeline: &[],
    };
    let create = Mutation::CreateTicket(new);
    let created =
        apply(None, &create, &ctx(mutation_id)).map_err(|r| ApiError::BadRequest(r.to_string()))?;
    let ticket_id = created.ticket.id;
    commit_applied(
        state,
        &mut tx,
        Origin {
            actor: source,
            device_id: device,
            address,
        },
        create.name(),
        mutation_id,
        Decided {
            before: None,
            ticket: created.ticket.clone(),
            entries: created.entries,
            conflicts: Vec::new(),
        },
    )
    .await?;
    let mut ticket = crate::sync::load_ticket(&mut tx, ticket_id)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;

    let assignee = match &department {
        Some(d) => choose(
            &DispatchPolicy::default(),
            d,
            &[],
            &agents(&mut tx, d).await?,
        ),
        None => None,
    };
    if let Some(agent) = assignee {
        let id = next(&mut tx, "change_seq").await? as u64;
        let assign = Mutation::SetAssignee {
            ticket_id,
            assignee: Some(agent),
        };
        let applied = apply(Some(&ticket), &assign, &ctx(id))
            .map_err(|r| ApiError::Conflict(r.to_string()))?;
        commit_applied(
            state,
            &mut tx,
            Origin {
                actor: "dispatch",
                device_id: device,
                address,
            },
            assign.name(),
            id,
            Decided {
                before: Some(ticket.clone()),
                ticket: applied.ticket,
                entries: applied.entries,
                conflicts: Vec::new(),
            },
        )
        .await?;
        let stamp = next(&mut tx, "change_seq").await?;
        sqlx::query(
            "INSERT INTO agent_dispatch (user_id, last_assigned) VALUES ($1, $2)
             ON CONFLICT (user_id) DO UPDATE SET last_assigned = $2",
        )
        .bind(agent.to_string())
        .bind(stamp)
        .execute(&mut *tx)
        .await?;
        ticket = crate::sync::load_ticket(&mut tx, ticket_id)
            .await?
            .ok_or(ApiError::NotFound("ticket"))?;
    }
    let status_path = customer_link(&mut tx, ticket_id).await?;
    tx.commit().await?;
    state.notify_changed().await;
    debug_assert!(ticket.status == Status::New || ticket.status == Status::Assigned);
    Ok(IntakeResponse {
        ticket_id,
        key: ticket.key.clone().unwrap_or_default(),
        category: ticket.category,
        priority: ticket.priority,
        risk: ticket.risk,
        department: ticket.department.clone(),
        assignee: ticket.assignee,
        matched_rules: classification.matched_rules,
        suggested_templates: classification.templates,
        status_path,
    })
}

#[utoipa::path(post, path = "/v1/intake", request_body = IntakeRequest, params(("x-outpost-key" = String, Header, description = "Per-channel intake key")), responses((status = 200, body = IntakeResponse), (status = 400, description = "Malformed request", body = crate::error::ErrorBody), (status = 401, description = "Not signed in", body = crate::error::ErrorBody)))]
pub async fn intake(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    ApiJson(request): ApiJson<IntakeRequest>,
) -> ApiResult<Json<IntakeResponse>> {
    let caller = IntakeCaller::from_headers(&state, &headers).await?;
    Ok(Json(
        create(
            &state,
            caller.channel,
            &caller.actor(),
            address.as_deref(),
            request,
        )
        .await?,
    ))
}

/// A connector authenticated by its intake key (`x-outpost-key`). Agents' bearer tokens are not
/// intake keys: the intake endpoints never look at `Authorization`.
pub struct IntakeCaller {
    /// The channel the key was made for.
    pub channel: Channel,
    /// The key's name (`intake-key add --name`).
    pub name: String,
}

impl IntakeCaller {
    /// The key in `x-outpost-key`, checked against the stored hashes; 401 when it is missing or
    /// unknown.
    pub async fn from_headers(state: &AppState, headers: &HeaderMap) -> ApiResult<IntakeCaller> {
        let key = headers
            .get("x-outpost-key")
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthenticated)?;
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT channel, name FROM intake_keys WHERE key_hash = $1")
                .bind(sha256_hex(key))
                .fetch_optional(&state.db.pool)
                .await?;
        let (channel, name) = row.ok_or(ApiError::Unauthenticated)?;
        let channel = channel
            .parse()
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored channel: {e}")))?;
        Ok(IntakeCaller { channel, name })
    }

    /// The audit actor: `intake:<channel>`.
    pub fn actor(&self) -> String {
        format!("intake:{}", self.channel)
    }
}
