//! A ticket from outside: the intake pipeline the intake endpoint (`POST /v1/intake`, connectors)
//! and the customer's web form share. Each ticket is classified by the rules, stored, dispatched
//! by load and skills, and given a customer link; its SLA clocks start from the moment it is
//! stored. The ticket is created and assigned through [`crate::change`] like every other change
//! (origins `intake:<channel>` or `customer:web_form`, then `dispatch`); the customer's files,
//! already in the blob store, are attached in the same transaction.

use std::collections::BTreeSet;

use outpost_core::model::{
    check_header_text, check_language, Category, Channel, CustomerTier, Priority, Requester,
    RiskLevel, Status,
};
use outpost_core::rules::{choose, AgentState, ClassifyInput, DispatchPolicy};
use outpost_core::sla::calendar::WeeklyHours;
use outpost_core::sync::{Mutation, NewTicket};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use uuid::Uuid;

use crate::change::{apply_for, new_customer_link, Origin};
use crate::customer_uploads::CustomerFile;
use crate::db::{next, WriteTx};
use crate::error::{ApiError, ApiResult};
use crate::writes::load_ticket;
use crate::AppState;

/// Longest business line, in characters.
pub(crate) const MAX_BUSINESS_TYPE_CHARS: usize = 64;

#[derive(utoipa::ToSchema, Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequesterInput {
    /// No control characters.
    pub name: String,
    /// E-mail address, phone number or chat handle; no control characters, and when it contains
    /// `@` it must be one e-mail address (`name@example.com`).
    pub contact: String,
    pub account_id: Option<String>,
    pub tier: Option<CustomerTier>,
}

#[derive(utoipa::ToSchema, Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeRequest {
    /// One line: no control characters.
    pub subject: String,
    /// At most 262144 bytes of UTF-8.
    #[serde(default)]
    pub description: String,
    pub requester: RequesterInput,
    /// BCP 47; `zh-CN` or `en` when omitted, guessed from the text.
    pub language: Option<String>,
    /// Free-form business line the rules can match ("payment", "saas", "kyc").
    pub business_type: Option<String>,
    /// One word each, at most 64 characters.
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

fn guess_language(text: &str) -> &'static str {
    if text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)) {
        "zh-CN"
    } else {
        "en"
    }
}

/// Agents of `department` with their open load, for the dispatch rules. An agent's shifts are
/// read in `tz`, the organisation calendar's zone, at the moment of dispatch.
async fn agents(
    tx: &mut WriteTx,
    department: &str,
    tz: chrono_tz::Tz,
) -> anyhow::Result<Vec<AgentState>> {
    let now = crate::db::now();
    // Counts open tickets with SQL: this transaction's buffered rows must be written first.
    crate::writes::flush(tx).await?;
    let rows = sqlx::query(
        "SELECT u.id, u.departments, u.skills, u.shifts, COALESCE(d.last_assigned, 0) AS last_assigned
         FROM users u LEFT JOIN agent_dispatch d ON d.user_id = u.id
         WHERE u.role = 'agent' AND u.active = 1 AND u.away = 0",
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
        let shifts: Option<WeeklyHours> = row
            .try_get::<Option<String>, _>("shifts")?
            .map(|s| serde_json::from_str(&s))
            .transpose()?;
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
            on_shift: outpost_core::sla::calendar::on_shift(shifts.as_ref(), tz, now),
            open_load,
            last_assigned_seq: row.try_get::<i64, _>("last_assigned")? as u64,
            active: true,
        });
    }
    Ok(agents)
}

/// Classifies, stores, dispatches and audits one incoming ticket with the customer's `files`.
/// `source` is the audit actor.
pub(crate) async fn create(
    state: &AppState,
    channel: Channel,
    source: &str,
    address: Option<&str>,
    request: IntakeRequest,
    files: &[CustomerFile],
) -> ApiResult<IntakeResponse> {
    let tier = request.requester.tier.unwrap_or(CustomerTier::Standard);
    let requester = Requester {
        name: request.requester.name.clone(),
        contact: request.requester.contact.clone(),
        account_id: request.requester.account_id.clone(),
        tier,
    };
    // Refused before anything is classified or written; `apply` checks the same rules again.
    requester
        .validate()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if let Some(language) = &request.language {
        check_language(language).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    }
    if let Some(business) = &request.business_type {
        check_header_text("business_type", business, MAX_BUSINESS_TYPE_CHARS)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    }
    // The organisation's rules, catalogue and default department, read where the ticket is
    // written (so a change committed before it counts).
    let mut tx = state.db.begin_write().await?;
    let settings = crate::settings_docs::load(&mut tx).await?;
    let active: Vec<String> = crate::settings_docs::departments(&mut tx)
        .await?
        .into_iter()
        .filter(|d| d.active)
        .map(|d| d.code)
        .collect();
    let classification = settings.rule_set().classify(&ClassifyInput {
        subject: &request.subject,
        description: &request.description,
        tier,
        channel,
        business_type: request.business_type.as_deref(),
    });
    // A rule's department retired since the rule was written: the default takes the ticket.
    let department = classification
        .department
        .clone()
        .filter(|d| active.contains(d))
        .or_else(|| settings.profile().default_department.clone())
        .filter(|d| active.contains(d))
        .or_else(|| active.first().cloned());
    // A category the organisation retired (or a rule's that is no longer in the catalogue) is
    // not used for new tickets: an enquiry, or the first category still in use.
    let catalogue = settings.catalogue();
    let category = classification
        .category
        .clone()
        .filter(|c| catalogue.offers(c))
        .or_else(|| Some(Category::INQUIRY).filter(|c| catalogue.offers(c)))
        .or_else(|| catalogue.in_use().into_iter().next())
        .unwrap_or(Category::INQUIRY);
    let language = request.language.clone().unwrap_or_else(|| {
        guess_language(&format!("{} {}", request.subject, request.description)).to_owned()
    });
    let mut tags: BTreeSet<String> = classification.tags.clone();
    tags.extend(request.tags.iter().cloned());
    let new = NewTicket {
        id: Uuid::now_v7(),
        subject: request.subject.clone(),
        description: request.description.clone(),
        requester,
        channel,
        language,
        category,
        priority: classification.priority_or(Priority::P3),
        risk: classification.risk.unwrap_or(RiskLevel::None),
        department: department.clone(),
        tags,
    };
    let ticket_id = new.id;
    let origin = Origin::Server {
        actor: source,
        address,
    };
    apply_for(state, &mut tx, origin, Mutation::CreateTicket(new))
        .await?
        .map_err(|r| ApiError::BadRequest(r.to_string()))?;
    for file in files {
        apply_for(state, &mut tx, origin, file.mutation(ticket_id))
            .await?
            .map_err(|r| ApiError::BadRequest(r.to_string()))?;
    }
    let mut ticket = load_ticket(&mut tx, ticket_id)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;

    let assignee = match &department {
        Some(d) => choose(
            &DispatchPolicy::default(),
            d,
            &[],
            &agents(&mut tx, d, settings.sla_settings().calendar.tz).await?,
        ),
        None => None,
    };
    if let Some(agent) = assignee {
        let assign = Mutation::SetAssignee {
            ticket_id,
            assignee: Some(agent),
        };
        let dispatch = Origin::Server {
            actor: "dispatch",
            address,
        };
        apply_for(state, &mut tx, dispatch, assign)
            .await?
            .map_err(|r| ApiError::Conflict(r.to_string()))?;
        let stamp = next(&mut tx, "change_seq").await?;
        sqlx::query(
            "INSERT INTO agent_dispatch (user_id, last_assigned) VALUES ($1, $2)
             ON CONFLICT (user_id) DO UPDATE SET last_assigned = $2",
        )
        .bind(agent.to_string())
        .bind(stamp)
        .execute(&mut *tx)
        .await?;
        ticket = load_ticket(&mut tx, ticket_id)
            .await?
            .ok_or(ApiError::NotFound("ticket"))?;
    }
    let status_path = new_customer_link(&mut tx, ticket_id).await?;
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
