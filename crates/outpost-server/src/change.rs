//! A ticket changes: the one place in the server where that happens.
//!
//! Every change arrives as a core intent (`outpost_core::sync::Mutation`) from an [`Origin`]: a
//! signed-in user's device (push), or the server itself acting on its own or for someone outside
//! (intake, dispatch, the customer's pages). The adapters (`sync`, `intake`, `customer`) only
//! translate their request into an origin and an intent; this module
//!
//! 1. decides ([`decide`]): who may see the ticket ([`can_see`]), that a linked ticket exists
//!    and is visible, the domain rules through `outpost_core::apply` (the code the client runs)
//!    with the directory facts the intent names (assignee, department), the long-text
//!    conflict check;
//! 2. commits ([`commit`]): the ticket row with its key and revision, its entries, a revocation
//!    when it left a department, and the audit event, in the caller's transaction;
//! 3. runs the hooks that follow a change in the same transaction: resolving a ticket the
//!    customer has not rated sends the satisfaction survey ([`send_csat_link`]).
//!
//! The customer's intents (`customer.message`, `customer.csat`) are refused by `apply` itself
//! when a signed-in user is the actor, so no device can speak for the customer.

use chrono::{DateTime, Utc};
use outpost_core::apply::{apply, derived_uuid_v7, ApplyContext, Directory, Rejection};
use outpost_core::model::{Entry, EntryBody, Role, Status, Ticket, TicketEvent, User};
use outpost_core::sync::{FieldConflict, Mutation, MutationEnvelope, MutationOutcome};
use outpost_core::Lang;
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::auth::{random_token, sha256_hex};
use crate::db::{next, next_block, now_millis, WriteTx};
use crate::writes::{
    description_rev, load_ticket, load_timeline, replace_entry, write_entry, write_revocation,
    write_ticket_row,
};
use crate::AppState;

/// Whether `user` may see (and so change) a ticket in `department` held by `assignee`.
pub(crate) fn can_see(user: &User, department: Option<&str>, assignee: Option<Uuid>) -> bool {
    match user.role {
        Role::Supervisor | Role::Admin => true,
        Role::Agent => {
            assignee == Some(user.id)
                || department.is_some_and(|d| user.departments.iter().any(|u| u == d))
        }
    }
}

/// [`can_see`] as SQL over `tickets` alias `t`, for pulls: the condition to append and its
/// parameters, numbered from `first`.
pub(crate) fn visible_sql(user: &User, first: usize) -> (String, Vec<String>) {
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

/// Who makes a change and from where, as the audit chain records it.
#[derive(Clone, Copy)]
pub(crate) enum Origin<'a> {
    /// A signed-in user's device, pushing its outbox.
    Device {
        user: &'a User,
        device_id: Uuid,
        address: Option<&'a str>,
    },
    /// The server, on its own or for someone outside: `actor` is a source such as
    /// `intake:web_form`, `dispatch` or `customer`. Its device id is the nil id.
    Server {
        actor: &'a str,
        address: Option<&'a str>,
    },
}

impl Origin<'_> {
    /// The audit actor: the user's id, or the server source.
    pub(crate) fn actor(&self) -> String {
        match self {
            Origin::Device { user, .. } => user.id.to_string(),
            Origin::Server { actor, .. } => (*actor).to_owned(),
        }
    }

    fn device_id(&self) -> Uuid {
        match self {
            Origin::Device { device_id, .. } => *device_id,
            Origin::Server { .. } => Uuid::nil(),
        }
    }

    pub(crate) fn address(&self) -> Option<&str> {
        match self {
            Origin::Device { address, .. } | Origin::Server { address, .. } => *address,
        }
    }

    pub(crate) fn user(&self) -> Option<&User> {
        match self {
            Origin::Device { user, .. } => Some(user),
            Origin::Server { .. } => None,
        }
    }
}

/// A change the rules accepted, ready to be written.
pub(crate) struct Decided {
    before: Option<Ticket>,
    ticket: Ticket,
    entries: Vec<Entry>,
    /// Fields where this change lost to a concurrent one (reported as a conflict).
    conflicts: Vec<FieldConflict>,
}

/// What an intent amounts to once checked.
pub(crate) enum Decision {
    /// A ticket change to write.
    Change(Box<Decided>),
    /// `ticket.view`: an audit event only, with the ticket's revision and department as the
    /// viewer saw them.
    View {
        ticket_id: Uuid,
        revision: u64,
        department: Option<String>,
    },
}

/// Runs the permission checks and the domain rules; `Ok(Err(_))` is a refusal to report. Only
/// reads, so a refusal has nothing to roll back; the one write is an accepted rating's claim on
/// its resolution ([`claim_rating`]), which is the change's own row.
///
/// The organisation's settings (read in `tx`, so a settings change earlier in the same group
/// counts) decide what the product defaults used to: the verification policy risk actions
/// need, the categories still offered, and where a new ticket from the app without a
/// department goes (the creator's first department, else the organisation's default), so a
/// ticket is never created where no agent can see it.
pub(crate) async fn decide(
    tx: &mut WriteTx,
    origin: Origin<'_>,
    envelope: &MutationEnvelope,
) -> anyhow::Result<Result<Decision, Rejection>> {
    let Some(ticket_id) = envelope.mutation.ticket_id() else {
        // Admin intents are `settings::apply`'s; the adapters route them there.
        return Ok(Err(Rejection::Invalid {
            field: "name".into(),
            problem: format!(
                "{} changes the organisation's settings, not a ticket",
                envelope.mutation.name()
            ),
        }));
    };
    let settings = if needs_settings(&envelope.mutation) {
        Some(crate::settings_docs::load(tx).await?)
    } else {
        None
    };
    let placed;
    let mutation = match (&envelope.mutation, &settings) {
        (Mutation::CreateTicket(new), Some(settings)) if new.department.is_none() => {
            let active: Vec<String> = crate::settings_docs::departments(tx)
                .await?
                .into_iter()
                .filter(|d| d.active)
                .map(|d| d.code)
                .collect();
            let mut new = new.clone();
            new.department = origin
                .user()
                .and_then(|u| u.departments.iter().find(|d| active.contains(d)).cloned())
                .or_else(|| settings.profile().default_department.clone());
            placed = Mutation::CreateTicket(new);
            &placed
        }
        (m, _) => m,
    };
    let before = load_ticket(tx, ticket_id).await?;
    if let Some(user) = origin.user() {
        let visible = match (&before, mutation) {
            (Some(t), _) => can_see(user, t.department.as_deref(), t.assignee),
            (None, Mutation::CreateTicket(new)) => can_see(user, new.department.as_deref(), None),
            (None, _) => false,
        };
        if !visible {
            // Indistinguishable from "does not exist", so ids of hidden tickets do not leak.
            return Ok(Err(Rejection::TicketNotFound));
        }
        if matches!(mutation, Mutation::RedactEntry { .. }) && user.role == Role::Agent {
            return Ok(Err(Rejection::Forbidden(
                "only supervisors and admins can redact entries".into(),
            )));
        }
        // A blob's hash is not a capability: the device's user must have uploaded exactly
        // these bytes to this ticket (`blobs.rs`).
        if let Mutation::AddAttachment {
            sha256, size, mime, ..
        } = mutation
        {
            let refusal =
                crate::blobs::check_push(tx, user.id, ticket_id, sha256, *size, mime).await?;
            if let Some(refusal) = refusal {
                return Ok(Err(refusal));
            }
        }
    }
    if let Some(settings) = &settings {
        let category = match mutation {
            Mutation::CreateTicket(new) => Some(&new.category),
            Mutation::SetCategory { category, .. } => Some(category),
            _ => None,
        };
        if let Some(problem) = category.and_then(|c| settings.catalogue().why_not_offered(c)) {
            return Ok(Err(Rejection::Invalid {
                field: "category".into(),
                problem,
            }));
        }
    }
    if let (Mutation::RecordView { .. }, Some(ticket)) = (mutation, &before) {
        return Ok(Ok(Decision::View {
            ticket_id,
            revision: ticket.revision,
            department: ticket.department.clone(),
        }));
    }
    if let Mutation::Link { link, .. } = mutation {
        // The linked ticket must exist and be one the actor may see; a hidden one reads as
        // missing, like everywhere else.
        let other = load_ticket(tx, link.other).await?;
        let visible = other.as_ref().is_some_and(|t| {
            origin
                .user()
                .is_none_or(|u| can_see(u, t.department.as_deref(), t.assignee))
        });
        if !visible && link.other != ticket_id {
            return Ok(Err(Rejection::Invalid {
                field: "link".into(),
                problem: "there is no ticket with this id that you can see".into(),
            }));
        }
    }
    let timeline = match before {
        Some(_) if mutation.reads_timeline() => load_timeline(tx, ticket_id).await?,
        _ => Vec::new(),
    };
    let holder = before.as_ref().and_then(|t| t.assignee);
    let (users, departments) = directory_facts(tx, origin, mutation, holder).await?;
    let policy = settings
        .as_ref()
        .map(|s| s.verification_policy().clone())
        .unwrap_or_default();
    let directory = Directory {
        users: &users,
        departments: &departments,
    };
    let ctx = ApplyContext {
        actor: origin.user().map(|u| u.id),
        device_id: origin.device_id(),
        mutation_id: envelope.mutation_id,
        client_time: envelope.client_time,
        now: crate::db::now(),
        verification: &policy,
        timeline: &timeline,
        directory: Some(&directory),
    };
    let applied = match apply(before.as_ref(), mutation, &ctx) {
        Ok(applied) => applied,
        Err(rejection) => return Ok(Err(rejection)),
    };
    if let (Mutation::CustomerRating { score, .. }, Some(rated)) = (mutation, &before) {
        if !claim_rating(tx, rated, *score).await? {
            return Ok(Err(Rejection::Invalid {
                field: "score".into(),
                problem: RATED_ALREADY.into(),
            }));
        }
    }
    if let (Mutation::SetDescription { description, .. }, Some(current), Some(base)) =
        (mutation, &before, envelope.base_revision)
    {
        let changed_at = description_rev(tx, ticket_id).await?;
        if changed_at as u64 > base && current.description != *description {
            // Long text never silently loses: the server's description stays, this device's
            // version is kept as an internal note, and the device is told.
            let mut seed = ctx.device_id.as_bytes().to_vec();
            seed.extend_from_slice(&envelope.mutation_id.to_be_bytes());
            seed.extend_from_slice(b"description-conflict");
            let note = Entry {
                id: derived_uuid_v7(envelope.client_time, &seed),
                ticket_id,
                author: ctx.actor,
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

/// Intents whose decision reads the organisation's settings: new tickets and category changes
/// (the catalogue, the default department) and those that read the timeline (risk actions and
/// their verification policy).
fn needs_settings(mutation: &Mutation) -> bool {
    matches!(
        mutation,
        Mutation::CreateTicket(_) | Mutation::SetCategory { .. }
    ) || mutation.reads_timeline()
}

/// Why a second rating of one resolution is refused.
pub(crate) const RATED_ALREADY: &str = "the ticket is rated already";

/// Claims the customer's rating of `ticket`'s current resolution (its resolution time, or its
/// closing time, as the ticket was before the rating) with a row in `csat_ratings`, in the
/// rating's transaction. The table's primary key, not a read of the ticket, is what makes a
/// resolution rated once: of concurrent ratings exactly one inserts its row, the others find it
/// (PostgreSQL waits for the inserting transaction to end) and are refused. False when this
/// resolution is rated already.
async fn claim_rating(tx: &mut WriteTx, ticket: &Ticket, score: u8) -> anyhow::Result<bool> {
    let resolution = ticket
        .resolved_at
        .or(ticket.closed_at)
        .map_or(0, |at| at.timestamp_millis());
    let claimed: Option<String> = sqlx::query_scalar(
        "INSERT INTO csat_ratings (ticket_id, resolved_at, score, rated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING RETURNING ticket_id",
    )
    .bind(ticket.id.to_string())
    .bind(resolution)
    .bind(i64::from(score))
    .bind(now_millis())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(claimed.is_some())
}

/// The directory facts `apply` checks the intent's references against: the acting user and
/// the user and department the intent names (for a department move, the ticket's current
/// `holder`, who keeps it only if they may hold it there), read in `tx`. Anything not found is
/// left out, so `apply` reads it as missing; so is a retired department, which no new ticket or
/// move may use.
async fn directory_facts(
    tx: &mut WriteTx,
    origin: Origin<'_>,
    mutation: &Mutation,
    holder: Option<Uuid>,
) -> anyhow::Result<(Vec<User>, Vec<String>)> {
    let mut users: Vec<User> = origin.user().cloned().into_iter().collect();
    let mut departments = Vec::new();
    let (user_ref, department_ref) = match mutation {
        Mutation::SetAssignee { assignee, .. } => (*assignee, None),
        Mutation::SetDepartment { department, .. } => (holder, department.as_deref()),
        Mutation::CreateTicket(new) => (None, new.department.as_deref()),
        _ => (None, None),
    };
    if let Some(id) = user_ref.filter(|id| users.iter().all(|u| u.id != *id)) {
        let row = sqlx::query(
            "SELECT id, name, email, role, departments, skills, active, away, shifts FROM users WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(row) = row {
            users.push(crate::users::decode(&row)?);
        }
    }
    if let Some(code) = department_ref {
        let known: Option<String> =
            sqlx::query_scalar("SELECT code FROM departments WHERE code = $1 AND active = 1")
                .bind(code)
                .fetch_optional(&mut **tx)
                .await?;
        departments.extend(known);
    }
    Ok((users, departments))
}

/// Writes what [`decide`] accepted, in `tx`. A view is an audit event only (with the device and
/// the time the client reports; no ticket write, no new revision). A change writes the ticket
/// row (with its key and revision), its entries, a revocation when the department changed and
/// the audit event ([`AuditEntry::ticket_changed`]: before/after values, never customer or reply
/// text; a redaction's replaced entry overwrites the stored one, same id, new change sequence
/// number). A change that resolves a ticket the customer has not rated yet also sends them the
/// satisfaction survey ([`send_csat_link`]).
pub(crate) async fn commit(
    state: &AppState,
    tx: &mut WriteTx,
    origin: Origin<'_>,
    envelope: &MutationEnvelope,
    decision: Decision,
) -> anyhow::Result<MutationOutcome> {
    let decided = match decision {
        Decision::View {
            ticket_id,
            revision,
            department,
        } => {
            AuditEntry::ticket_viewed(
                &origin.actor(),
                origin.device_id(),
                origin.address(),
                ticket_id,
                department.as_deref(),
                envelope.mutation_id,
                revision,
                envelope.client_time,
            )
            .append(tx)
            .await?;
            return Ok(MutationOutcome::Applied { revision });
        }
        Decision::Change(decided) => *decided,
    };
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
            // A redacted attachment's bytes leave the server unless another entry names them.
            crate::blobs::release_reference(tx, entry.id, ticket.id, ticket.department.as_deref())
                .await?;
        } else {
            write_entry(tx, entry, take());
            crate::blobs::record_reference(tx, origin.user().map(|u| u.id), entry).await?;
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
    AuditEntry::ticket_changed(
        &origin.actor(),
        origin.device_id(),
        origin.address(),
        envelope.mutation.name(),
        envelope.mutation_id,
        before.as_ref(),
        &ticket,
        &changes,
    )?
    .append(tx)
    .await?;
    // Rated already (a reopened ticket resolved again): the status page has no form to offer.
    let resolved_now = ticket.status == Status::Resolved
        && before.as_ref().is_none_or(|b| b.status != Status::Resolved)
        && ticket.csat.is_none();
    if resolved_now {
        send_csat_link(state, tx, &ticket).await?;
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

/// Decides and commits `mutation` from a server origin inside `tx`. The intent is numbered from
/// the change sequence, so the ids of the entries it derives never repeat. `Ok(Err(_))` is a
/// refusal; nothing was written.
pub(crate) async fn apply_for(
    state: &AppState,
    tx: &mut WriteTx,
    origin: Origin<'_>,
    mutation: Mutation,
) -> anyhow::Result<Result<MutationOutcome, Rejection>> {
    let envelope = MutationEnvelope {
        mutation_id: next(tx, "change_seq").await? as u64,
        client_time: crate::db::now(),
        base_revision: None,
        mutation,
    };
    Ok(match decide(tx, origin, &envelope).await? {
        Ok(decision) => Ok(commit(state, tx, origin, &envelope, decision).await?),
        Err(rejection) => Err(rejection),
    })
}

/// Creates a customer link to `ticket` (only its hash is stored); returns its path.
pub(crate) async fn new_customer_link(tx: &mut WriteTx, ticket: Uuid) -> anyhow::Result<String> {
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

/// The tag the customer's pages and messages use for `lang`.
fn tag(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::ZhCn => "zh-CN",
    }
}

/// The survey's reply on the timeline, in the ticket's language: what agents (and the customer,
/// on their status page) see. It carries no link: the link goes only to the outbound queue.
fn csat_notice(lang: Lang, key: &str) -> String {
    match lang {
        Lang::En => format!(
            "Your ticket {key} has been resolved. We have sent you our satisfaction survey: please rate our help (1 to 5) on your ticket's page."
        ),
        Lang::ZhCn => format!(
            "您的工单 {key} 已解决。我们已向您发送满意度调查，请在工单页面为本次服务评分（1 至 5 分）。"
        ),
    }
}

/// The subject of the survey message a connector delivers.
fn csat_subject(lang: Lang, key: &str) -> String {
    match lang {
        Lang::En => format!("Your ticket {key} has been resolved: how did we do?"),
        Lang::ZhCn => format!("您的工单 {key} 已解决，请为本次服务评分"),
    }
}

/// The survey message a connector delivers, with the status page's address.
fn csat_message(lang: Lang, key: &str, url: &str) -> String {
    match lang {
        Lang::En => format!(
            "Your ticket {key} has been resolved. How did we do? Please rate our help (1 to 5) on your ticket's page: {url}"
        ),
        Lang::ZhCn => format!("您的工单 {key} 已解决。请在工单页面为本次服务评分（1 至 5 分）：{url}"),
    }
}

/// Sends the customer the satisfaction survey for a resolution of `ticket` (called in the
/// transaction that resolved it). One per resolution: the ids are derived from the ticket and
/// the resolution time, and a second call for the same resolution does nothing.
///
/// - A new customer link (only its hash is stored, so the link cannot be looked up later).
/// - The survey message with the link's full address, queued in `outbound_messages` (numbered
///   from `change_seq`, so on PostgreSQL a connector paging with `after` never skips a late
///   commit), which connectors (`outbound`) deliver to the requester's contact. This is the only
///   place the link is written in clear.
/// - A reply from the team (no author, so shown as the support team) in the ticket's language
///   saying the survey was sent and asking the customer to rate on their ticket's page, without
///   the link: timeline entries sync to every agent's cache, and whoever holds the link can rate
///   the ticket as the customer.
/// - The audit event `customer.csat_link`, which names the entry and the message, never the link.
async fn send_csat_link(state: &AppState, tx: &mut WriteTx, ticket: &Ticket) -> anyhow::Result<()> {
    let now = crate::db::now();
    let resolved_at: DateTime<Utc> = ticket.resolved_at.unwrap_or(now);
    let seed = format!("csat-link/{}/{}", ticket.id, resolved_at.timestamp_millis());
    let id = derived_uuid_v7(resolved_at, seed.as_bytes());
    crate::writes::flush(tx).await?;
    let sent: Option<String> = sqlx::query_scalar("SELECT id FROM entries WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    if sent.is_some() {
        return Ok(());
    }
    let lang = Lang::from_tag(&ticket.language);
    let key = ticket.key.as_deref().unwrap_or("");
    let path = new_customer_link(tx, ticket.id).await?;
    let url = format!(
        "{}{path}?lang={}",
        state.config.public_base_url(),
        tag(lang)
    );
    let message_seed = format!(
        "csat-message/{}/{}",
        ticket.id,
        resolved_at.timestamp_millis()
    );
    let message_id = derived_uuid_v7(resolved_at, message_seed.as_bytes());
    let body = csat_message(lang, key, &url);
    let body_sha256 = sha256_hex(&body);
    let message_seq = next(tx, "change_seq").await?;
    sqlx::query(
        "INSERT INTO outbound_messages (id, seq, kind, ticket_id, ticket_key, contact, channel, language, subject, body, body_sha256, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(message_id.to_string())
    .bind(message_seq)
    .bind("csat_survey")
    .bind(ticket.id.to_string())
    .bind(key)
    .bind(ticket.requester.contact.clone())
    .bind(ticket.channel.as_str())
    .bind(tag(lang))
    .bind(csat_subject(lang, key))
    .bind(body)
    .bind(body_sha256)
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    let entry = Entry {
        id,
        ticket_id: ticket.id,
        author: None,
        body: EntryBody::Reply {
            text: csat_notice(lang, key),
        },
        created_at: now,
    };
    let seq = next(tx, "change_seq").await?;
    write_entry(tx, &entry, seq);
    AuditEntry::survey_sent(
        ticket.id,
        ticket.department.as_deref(),
        id,
        message_id,
        resolved_at,
    )
    .append(tx)
    .await?;
    Ok(())
}
