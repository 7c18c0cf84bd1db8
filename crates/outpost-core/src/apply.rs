//! Applying a mutation to a ticket: the one implementation of "what an intent does".
//!
//! The client runs it optimistically on its cache and the server runs it authoritatively on its
//! truth; both must agree, so it lives here. Timeline entries that an intent creates (events)
//! get ids derived from the device and mutation id, so the server's copy of an event replaces
//! the client's optimistic copy instead of duplicating it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ErrorCode;
use crate::files::{sanitise_filename, FileType};
use crate::model::{
    Csat, DepartmentCode, Entry, EntryBody, PauseSpan, RiskActionKind, RiskLevel, Role, Status,
    Ticket, TicketEvent, User, UserId, LOW_CSAT_SCORE,
};
use crate::rules::{
    check_risk_action, AccountRiskState, RiskRefusal, SensitiveAction, VerificationPolicy,
};
use crate::status::{check_transition, reopen, TransitionFacts, TransitionRefusal};
use crate::sync::{Mutation, NewTicket, RiskActionArgs};

/// Longest subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 500;
/// Longest description, reply or note, in bytes (customer e-mails with quoted history are long).
pub const MAX_TEXT_BYTES: usize = 256 * 1024;
/// Largest attachment, in bytes.
pub const MAX_ATTACHMENT_BYTES: u64 = 25 * 1024 * 1024;
/// Longest tag, in characters (one word).
pub const MAX_TAG_CHARS: usize = 64;
/// Most tags one ticket may carry.
pub const MAX_TAGS: usize = 50;
/// How long after a low satisfaction score the customer is due a revisit, in hours.
pub const REVISIT_AFTER_LOW_SCORE_HOURS: i64 = 24;

#[derive(Debug, Clone, Copy)]
pub struct ApplyContext<'a> {
    /// The signed-in user making the change; `None` when the server makes it on its own or for
    /// the customer (intake, dispatch, the customer's pages).
    pub actor: Option<UserId>,
    pub device_id: Uuid,
    pub mutation_id: u64,
    /// When the agent made the change; used for derived ids so client and server agree.
    pub client_time: DateTime<Utc>,
    /// When this application happens (client clock offline, server clock on the server).
    pub now: DateTime<Utc>,
    /// How much identity verification risk actions need.
    pub verification: &'a VerificationPolicy,
    /// The ticket's timeline so far; risk actions are checked against its verification records
    /// and earlier risk actions. Other intents ignore it.
    pub timeline: &'a [Entry],
    /// The directory facts the intent's references are checked against; `None` skips the
    /// reference checks (the client's optimistic apply, which the server re-checks).
    pub directory: Option<&'a Directory<'a>>,
}

/// What the directory knows about the people and departments an intent names: the actor, the
/// users and the departments it references. A user or department missing here does not exist.
#[derive(Debug, Clone, Copy, Default)]
pub struct Directory<'a> {
    pub users: &'a [User],
    pub departments: &'a [DepartmentCode],
}

impl Directory<'_> {
    fn user(&self, id: UserId) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    fn has_department(&self, code: &str) -> bool {
        self.departments.iter().any(|d| d == code)
    }
}

impl Directory<'_> {
    /// The role the directory gives `actor`; the server itself (`None`) acts with every right.
    fn role_of(&self, actor: Option<UserId>) -> Option<Role> {
        actor.map(|a| self.user(a).map_or(Role::Agent, |u| u.role))
    }

    /// Whether `user` may hold a ticket in `department`: they work there, or they are a
    /// supervisor or admin, who see every department.
    fn may_hold(&self, user: UserId, department: Option<&str>) -> bool {
        self.user(user).is_some_and(|u| {
            u.active
                && (matches!(u.role, Role::Supervisor | Role::Admin)
                    || department.is_some_and(|d| u.departments.iter().any(|ud| ud == d)))
        })
    }
}

/// Whether someone in `role` may move a ticket's risk level from `from` to `to`. Raising it is
/// always allowed; lowering it is a supervisor's (or admin's) decision, because the level sets
/// how many identity checks a freeze or an interception needs: an agent who could lower it
/// could talk themselves past the verification gate. `None` is the server itself.
#[must_use]
pub fn may_set_risk(role: Option<Role>, from: RiskLevel, to: RiskLevel) -> bool {
    to >= from || matches!(role, None | Some(Role::Supervisor | Role::Admin))
}

/// The risk levels someone in `role` may choose for a ticket now at `current`, in
/// `RiskLevel::ALL` order: what the risk select offers.
#[must_use]
pub fn settable_risks(role: Role, current: RiskLevel) -> Vec<RiskLevel> {
    RiskLevel::ALL
        .iter()
        .copied()
        .filter(|to| may_set_risk(Some(role), current, *to))
        .collect()
}

/// Whether someone in `actor_role` (`None`: the server itself) may hand a ticket in
/// `department`, now held by `holder`, to `assignee` (whose being active is checked apart).
/// Supervisors and admins assign across departments; anyone may hand a ticket to a supervisor
/// or admin, who see every department; an agent otherwise only to someone who works in the
/// ticket's department. Naming the current holder again changes nothing, so it hands nothing
/// over (a supervisor may have assigned them across departments). What the assignee picker
/// offers comes from here too.
#[must_use]
pub fn may_assign(
    actor_role: Option<Role>,
    assignee: &User,
    department: Option<&str>,
    holder: Option<UserId>,
) -> bool {
    let across_allowed = matches!(actor_role, None | Some(Role::Supervisor | Role::Admin));
    let in_department = department.is_some_and(|d| assignee.departments.iter().any(|ad| ad == d));
    let sees_everything = matches!(assignee.role, Role::Supervisor | Role::Admin);
    across_allowed || in_department || sees_everything || holder == Some(assignee.id)
}

/// Every user and department an intent names must exist (users also active), and an agent may
/// only hand a ticket to someone who works in its department. Supervisors and admins may assign
/// across departments (the audit event records who did it, before and after); so may the server
/// itself (dispatch). Anyone may hand a ticket to a supervisor or admin, who see every department.
/// Only supervisors and admins lower a ticket's risk level ([`may_set_risk`]).
fn check_references(
    directory: &Directory<'_>,
    actor: Option<UserId>,
    current: Option<&Ticket>,
    mutation: &Mutation,
) -> Result<(), Rejection> {
    let department = current.and_then(|t| t.department.as_deref());
    let department_exists = |code: &str| {
        if directory.has_department(code) {
            Ok(())
        } else {
            Err(Rejection::invalid(
                "department",
                format!("there is no department {code:?}"),
            ))
        }
    };
    match mutation {
        Mutation::CreateTicket(new) => {
            if let Some(code) = &new.department {
                department_exists(code)?;
            }
        }
        Mutation::SetDepartment {
            department: Some(code),
            ..
        } => department_exists(code)?,
        Mutation::SetAssignee {
            assignee: Some(id), ..
        } => {
            let assignee = directory.user(*id).filter(|u| u.active).ok_or_else(|| {
                Rejection::invalid("assignee", "there is no active user with this id")
            })?;
            let holder = current.and_then(|t| t.assignee);
            if !may_assign(directory.role_of(actor), assignee, department, holder) {
                return Err(Rejection::Forbidden(format!(
                    "{} does not work in this ticket's department; only a supervisor can assign it across departments",
                    assignee.name
                )));
            }
        }
        Mutation::SetRisk { risk, .. } => {
            if let Some(ticket) = current {
                if !may_set_risk(directory.role_of(actor), ticket.risk, *risk) {
                    return Err(Rejection::Forbidden(format!(
                        "only a supervisor can lower a ticket's risk level ({} to {}): the level decides how many identity checks a risk action needs",
                        ticket.risk.as_str(),
                        risk.as_str()
                    )));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Why an intent could not be applied. Stable `code`s; messages for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Rejection {
    #[error("the ticket does not exist or is not visible to you")]
    TicketNotFound,
    #[error("a ticket with this id already exists")]
    TicketExists,
    #[error("{0}")]
    Transition(TransitionRefusal),
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
    #[error("{0}")]
    Verification(String),
    #[error("{0}")]
    RiskRefused(String),
    /// The user's role does not allow this intent (e.g. an agent redacting an entry).
    #[error("{0}")]
    Forbidden(String),
    /// The intent was made on a version of a settings document that has changed since.
    #[error("{0}")]
    Stale(String),
    /// A file may not be attached: its kind, size or name (`files::check_upload`).
    #[error("{0}")]
    FileRefused(String),
}

impl Rejection {
    pub fn code(&self) -> ErrorCode {
        match self {
            Rejection::TicketNotFound => ErrorCode::TicketNotFound,
            Rejection::TicketExists => ErrorCode::TicketExists,
            Rejection::Transition(_) => ErrorCode::IllegalTransition,
            Rejection::Invalid { .. } => ErrorCode::Invalid,
            Rejection::Verification(_) => ErrorCode::VerificationRequired,
            Rejection::RiskRefused(_) => ErrorCode::RiskActionRefused,
            Rejection::Forbidden(_) => ErrorCode::Forbidden,
            Rejection::Stale(_) => ErrorCode::Conflict,
            Rejection::FileRefused(_) => ErrorCode::FileRefused,
        }
    }

    fn invalid(field: &str, problem: impl Into<String>) -> Self {
        Rejection::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// The new state of the ticket and the timeline entries the intent added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub ticket: Ticket,
    pub entries: Vec<Entry>,
}

/// A UUIDv7 whose time part is `at` and whose random part is derived from `seed`, so two parties
/// that know the same seed mint the same id.
pub fn derived_uuid_v7(at: DateTime<Utc>, seed: &[u8]) -> Uuid {
    let digest = Sha256::digest(seed);
    let mut random = [0u8; 10];
    random.copy_from_slice(&digest[..10]);
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

/// An attachment entry names a file that went through `files::check_upload`: a sanitised name,
/// one of the accepted kinds' media types, a size within the limit and a SHA-256 in lowercase
/// hex (the server also holds the bytes of exactly that hash and size before it accepts one).
fn check_attachment(filename: &str, mime: &str, size: u64, sha256: &str) -> Result<(), Rejection> {
    check_text("filename", filename, false)?;
    let clean = sanitise_filename(filename);
    if clean != filename {
        return Err(Rejection::invalid(
            "filename",
            format!("{filename:?} is not a safe file name; send it as {clean:?}"),
        ));
    }
    if FileType::from_mime(mime).is_none() {
        let accepted: Vec<&str> = FileType::ALL.iter().map(|t| t.mime()).collect();
        return Err(Rejection::invalid(
            "mime",
            format!("{mime:?} is not one of {}", accepted.join(", ")),
        ));
    }
    if size == 0 || size > MAX_ATTACHMENT_BYTES {
        return Err(Rejection::invalid(
            "size",
            format!("is {size} bytes; a file must have 1 to {MAX_ATTACHMENT_BYTES}"),
        ));
    }
    if sha256.len() != 64
        || !sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(Rejection::invalid(
            "sha256",
            "must be 64 lowercase hexadecimal digits",
        ));
    }
    Ok(())
}

fn check_text(field: &str, text: &str, allow_empty: bool) -> Result<(), Rejection> {
    if !allow_empty && text.trim().is_empty() {
        return Err(Rejection::invalid(field, "must not be empty"));
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(Rejection::invalid(
            field,
            format!("is {} bytes; the limit is {MAX_TEXT_BYTES}", text.len()),
        ));
    }
    // PostgreSQL text cannot hold U+0000, and no person types it: refused here, so a device
    // never queues a change the server must turn away.
    if text.contains('\0') {
        return Err(Rejection::invalid(field, "must not contain NUL characters"));
    }
    Ok(())
}

fn check_subject(subject: &str) -> Result<(), Rejection> {
    check_text("subject", subject, false)?;
    // The subject becomes an e-mail `Subject:` header: no line breaks or other controls.
    crate::model::check_header_text("subject", subject, MAX_SUBJECT_CHARS).map_err(field_rejection)
}

/// The checks a new ticket's customer-written fields get in `apply`, for a form that wants to
/// name the field it refuses before anything is classified: the subject, the description and
/// the requester. The `Invalid` rejection's `field` says which.
pub fn check_new_ticket_text(
    subject: &str,
    description: &str,
    requester: &crate::model::Requester,
) -> Result<(), Rejection> {
    check_subject(subject)?;
    check_text("description", description, true)?;
    requester.validate().map_err(field_rejection)
}

fn field_rejection(e: crate::model::FieldError) -> Rejection {
    Rejection::invalid(e.field, e.problem)
}

/// Tags are case-insensitive single words; normalising here keeps "VIP" and "vip" one tag.
pub fn normalize_tag(tag: &str) -> Result<String, Rejection> {
    let tag = tag.trim().to_lowercase();
    if tag.is_empty()
        || tag.chars().count() > MAX_TAG_CHARS
        || tag.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Rejection::invalid(
            "tag",
            format!("must be one word of 1 to {MAX_TAG_CHARS} characters"),
        ));
    }
    Ok(tag)
}

struct Builder<'c> {
    ctx: &'c ApplyContext<'c>,
    ticket: Ticket,
    entries: Vec<Entry>,
}

impl Builder<'_> {
    fn push(&mut self, id: Option<Uuid>, body: EntryBody) {
        let id = id.unwrap_or_else(|| {
            let mut seed = Vec::with_capacity(32);
            seed.extend_from_slice(self.ctx.device_id.as_bytes());
            seed.extend_from_slice(&self.ctx.mutation_id.to_be_bytes());
            seed.extend_from_slice(&(self.entries.len() as u64).to_be_bytes());
            derived_uuid_v7(self.ctx.client_time, &seed)
        });
        self.entries.push(Entry {
            id,
            ticket_id: self.ticket.id,
            author: self.ctx.actor,
            body,
            created_at: self.ctx.now,
        });
    }

    fn event(&mut self, event: TicketEvent) {
        self.push(None, EntryBody::Event { event });
    }

    /// Replaces an entry's content with a redaction marker (same entry id, so every copy is
    /// overwritten) and records the redaction as an event.
    fn redact(&mut self, entry_id: Uuid, reason: &str) -> Result<(), Rejection> {
        check_text("reason", reason, false)?;
        let original = self
            .ctx
            .timeline
            .iter()
            .find(|e| e.id == entry_id && e.ticket_id == self.ticket.id)
            .ok_or_else(|| Rejection::invalid("entry", "no such entry on this ticket"))?;
        if !original.body.is_redactable() {
            return Err(Rejection::invalid(
                "entry",
                match original.body {
                    EntryBody::Redacted { .. } => "is already redacted",
                    _ => "events, verification records and risk actions cannot be redacted",
                },
            ));
        }
        let removed_sha256 = original.body.content_sha256();
        let kind = original.body.kind();
        self.entries.push(Entry {
            body: EntryBody::Redacted {
                original: kind,
                reason: reason.trim().to_owned(),
                by: self.ctx.actor,
                at: self.ctx.now,
                removed_sha256: removed_sha256.clone(),
            },
            ..original.clone()
        });
        self.event(TicketEvent::EntryRedacted {
            entry_id,
            kind,
            removed_sha256,
        });
        Ok(())
    }

    fn facts(&self) -> TransitionFacts {
        TransitionFacts {
            has_assignee: self.ticket.assignee.is_some(),
        }
    }

    /// Moves to `to`, keeping pause spans and resolution timestamps consistent.
    /// Dropping a ticket in work sends it back to triage so it is not lost.
    fn back_to_triage(&mut self) {
        let from = self.ticket.status;
        self.move_status(Status::Triaged);
        self.event(TicketEvent::StatusChanged {
            from,
            to: Status::Triaged,
            reason: None,
        });
    }

    /// Takes the ticket from whoever holds it (a department move to where they cannot hold it).
    fn unassign(&mut self) {
        let from = self.ticket.assignee.take();
        self.event(TicketEvent::AssigneeChanged { from, to: None });
        if matches!(self.ticket.status, Status::Assigned | Status::InProgress) {
            self.back_to_triage();
        }
    }

    fn move_status(&mut self, to: Status) {
        let now = self.ctx.now;
        let from = self.ticket.status;
        if from == Status::Pending {
            if let Some(open) = self.ticket.pauses.last_mut().filter(|p| p.end.is_none()) {
                open.end = Some(now);
            }
        }
        if to == Status::Pending {
            self.ticket.pauses.push(PauseSpan {
                start: now,
                end: None,
            });
        }
        match to {
            Status::Resolved => self.ticket.resolved_at = Some(now),
            Status::Closed => self.ticket.closed_at = Some(now),
            _ => {}
        }
        self.ticket.status = to;
    }

    fn set_status(&mut self, to: Status, reason: Option<String>) -> Result<(), Rejection> {
        let from = self.ticket.status;
        check_transition(from, to, self.facts()).map_err(Rejection::Transition)?;
        self.move_status(to);
        self.event(TicketEvent::StatusChanged { from, to, reason });
        Ok(())
    }

    fn reopen(&mut self, reason: Option<String>) -> Result<(), Rejection> {
        let from = self.ticket.status;
        let to = reopen(from, self.facts()).map_err(Rejection::Transition)?;
        self.ticket.resolved_at = None;
        self.ticket.closed_at = None;
        self.move_status(to);
        self.event(TicketEvent::Reopened { from, to, reason });
        Ok(())
    }

    /// `customer.message`: the customer's text on the timeline. Their answer ends the wait: a
    /// pending ticket that someone holds goes back to work.
    fn customer_message(&mut self, entry_id: Uuid, text: &str) -> Result<(), Rejection> {
        check_text("text", text, false)?;
        if self.ticket.status == Status::Closed {
            return Err(Rejection::Transition(TransitionRefusal::NotAllowed {
                from: Status::Closed,
                to: Status::InProgress,
            }));
        }
        self.push(
            Some(entry_id),
            EntryBody::CustomerMessage {
                text: text.to_owned(),
            },
        );
        if self.ticket.status == Status::Pending && self.ticket.assignee.is_some() {
            self.set_status(Status::InProgress, Some("customer replied".into()))?;
        }
        Ok(())
    }

    /// `customer.csat`: one rating per ticket, once it is resolved or closed. A low score
    /// ([`LOW_CSAT_SCORE`] or less) reopens it for second handling with a revisit due
    /// [`REVISIT_AFTER_LOW_SCORE_HOURS`] after the rating; nobody holding it, it goes back to
    /// `return_to` (the resolver, when still active), otherwise to triage.
    fn rate(
        &mut self,
        score: u8,
        comment: Option<&str>,
        return_to: Option<UserId>,
    ) -> Result<(), Rejection> {
        if !(1..=5).contains(&score) {
            return Err(Rejection::invalid("score", "must be 1 to 5"));
        }
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if let Some(comment) = comment {
            check_text("comment", comment, true)?;
        }
        let status = self.ticket.status;
        if !matches!(status, Status::Resolved | Status::Closed) {
            return Err(Rejection::invalid(
                "score",
                format!("only a resolved or closed ticket can be rated; this one is {status}"),
            ));
        }
        if self.ticket.csat.is_some() {
            return Err(Rejection::invalid("score", "the ticket is rated already"));
        }
        let now = self.ctx.now;
        self.ticket.csat = Some(Csat {
            score,
            comment: comment.map(str::to_owned),
            at: now,
        });
        self.event(TicketEvent::CsatReceived { score });
        if score <= LOW_CSAT_SCORE {
            self.ticket.revisit_due_at =
                Some(now + chrono::Duration::hours(REVISIT_AFTER_LOW_SCORE_HOURS));
            if let (None, Some(agent)) = (self.ticket.assignee, return_to) {
                self.ticket.assignee = Some(agent);
                self.event(TicketEvent::AssigneeChanged {
                    from: None,
                    to: Some(agent),
                });
            }
            self.reopen(Some(format!("CSAT {score}")))?;
        }
        Ok(())
    }

    fn risk_action(
        &mut self,
        action: RiskActionKind,
        args: &RiskActionArgs,
    ) -> Result<(), Rejection> {
        check_text("target", &args.target, false)?;
        check_text("reason", &args.reason, false)?;
        let mut checks = Vec::new();
        let mut account = AccountRiskState::default();
        for entry in self.ctx.timeline {
            match &entry.body {
                EntryBody::Verification { checks: c } => checks.extend(c.iter().cloned()),
                EntryBody::RiskAction { action, target, .. } => {
                    // Replays what earlier actions did to the account; history was valid when
                    // written, so a refusal here only means the state did not change.
                    if let Ok(next) = account.after(*action, target) {
                        account = next;
                    }
                }
                _ => {}
            }
        }
        let decision = self.ctx.verification.evaluate(
            SensitiveAction::from(action),
            self.ticket.risk,
            &checks,
        );
        check_risk_action(action, &args.target, &account, &decision).map_err(|refusal| {
            match refusal {
                RiskRefusal::VerificationRefused { .. } => {
                    Rejection::Verification(refusal.to_string())
                }
                other => Rejection::RiskRefused(other.to_string()),
            }
        })?;
        self.push(
            Some(args.entry_id),
            EntryBody::RiskAction {
                action,
                target: args.target.clone(),
                reason: args.reason.clone(),
            },
        );
        Ok(())
    }
}

fn too_many_tags() -> Rejection {
    Rejection::invalid(
        "tags",
        format!("a ticket carries at most {MAX_TAGS} tags; remove one first"),
    )
}

fn create(new: &NewTicket, ctx: &ApplyContext<'_>) -> Result<Applied, Rejection> {
    check_new_ticket_text(&new.subject, &new.description, &new.requester)?;
    crate::model::check_language(&new.language).map_err(field_rejection)?;
    let tags: std::collections::BTreeSet<String> = new
        .tags
        .iter()
        .map(|t| normalize_tag(t))
        .collect::<Result<_, _>>()?;
    if tags.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    let ticket = Ticket {
        id: new.id,
        key: None,
        subject: new.subject.clone(),
        description: new.description.clone(),
        requester: new.requester.clone(),
        channel: new.channel,
        language: new.language.clone(),
        category: new.category.clone(),
        tags,
        priority: new.priority,
        risk: new.risk,
        status: Status::New,
        assignee: None,
        department: new.department.clone(),
        created_at: ctx.now,
        updated_at: ctx.now,
        first_response_at: None,
        last_update_at: None,
        resolved_at: None,
        closed_at: None,
        revisit_due_at: None,
        pauses: Vec::new(),
        csat: None,
        links: Vec::new(),
        revision: 0,
    };
    let mut b = Builder {
        ctx,
        ticket,
        entries: Vec::new(),
    };
    b.event(TicketEvent::Created);
    Ok(Applied {
        ticket: b.ticket,
        entries: b.entries,
    })
}

/// The agent who last resolved the ticket, from its timeline: who takes it back when a low
/// satisfaction score reopens it and nobody holds it.
pub fn last_resolver(timeline: &[Entry]) -> Option<UserId> {
    timeline
        .iter()
        .rev()
        .find_map(|e| match (&e.body, e.author) {
            (
                EntryBody::Event {
                    event:
                        TicketEvent::StatusChanged {
                            to: Status::Resolved,
                            ..
                        },
                },
                Some(author),
            ) => Some(author),
            _ => None,
        })
}

/// Applies `mutation` to `current` (the ticket it names, if it exists).
///
/// Intents the server makes for the customer ([`Mutation::server_only`]) are refused when a
/// signed-in user is the actor: a device cannot speak for the customer.
pub fn apply(
    current: Option<&Ticket>,
    mutation: &Mutation,
    ctx: &ApplyContext<'_>,
) -> Result<Applied, Rejection> {
    if mutation.server_only() && ctx.actor.is_some() {
        return Err(Rejection::Forbidden(format!(
            "{} is recorded by the server for the customer; devices cannot send it",
            mutation.name()
        )));
    }
    if mutation.is_admin() {
        return Err(Rejection::invalid(
            "name",
            format!(
                "{} changes the organisation's settings, not a ticket",
                mutation.name()
            ),
        ));
    }
    if let Some(directory) = ctx.directory {
        check_references(directory, ctx.actor, current, mutation)?;
    }
    if let Mutation::CreateTicket(new) = mutation {
        return match current {
            Some(_) => Err(Rejection::TicketExists),
            None => create(new, ctx),
        };
    }
    let ticket = current.ok_or(Rejection::TicketNotFound)?.clone();
    if let Mutation::RecordView { .. } = mutation {
        // A view is recorded in the audit chain only; the ticket does not change.
        return Ok(Applied {
            ticket,
            entries: Vec::new(),
        });
    }
    let mut b = Builder {
        ctx,
        ticket,
        entries: Vec::new(),
    };
    match mutation {
        Mutation::CreateTicket(_)
        | Mutation::SetSettings { .. }
        | Mutation::PutDepartment(_)
        | Mutation::PutTemplate(_) => unreachable!("handled above"),
        Mutation::SetStatus { status, reason, .. } => b.set_status(*status, reason.clone())?,
        Mutation::Reopen { reason, .. } => b.reopen(reason.clone())?,
        Mutation::SetPriority { priority, .. } => {
            let from = b.ticket.priority;
            if from != *priority {
                b.ticket.priority = *priority;
                b.event(TicketEvent::PriorityChanged {
                    from,
                    to: *priority,
                });
            }
        }
        Mutation::SetCategory { category, .. } => {
            if b.ticket.category != *category {
                let from = std::mem::replace(&mut b.ticket.category, category.clone());
                b.event(TicketEvent::CategoryChanged {
                    from,
                    to: category.clone(),
                });
            }
        }
        Mutation::SetRisk { risk, .. } => {
            let from = b.ticket.risk;
            if from != *risk {
                b.ticket.risk = *risk;
                b.event(TicketEvent::RiskChanged { from, to: *risk });
            }
        }
        Mutation::SetAssignee { assignee, .. } => {
            let from = b.ticket.assignee;
            if from != *assignee {
                b.ticket.assignee = *assignee;
                b.event(TicketEvent::AssigneeChanged {
                    from,
                    to: *assignee,
                });
                // Assignment drives the workflow: taking a fresh ticket assigns it, and dropping
                // one in work sends it back to triage so it is not lost.
                match (b.ticket.status, assignee) {
                    (Status::New | Status::Triaged, Some(_)) => {
                        b.set_status(Status::Assigned, None)?;
                    }
                    (Status::Assigned | Status::InProgress, None) => b.back_to_triage(),
                    _ => {}
                }
            }
        }
        Mutation::SetDepartment { department, .. } => {
            let from = b.ticket.department.clone();
            if department.is_none() && from.is_some() {
                // Agents see tickets through their departments: one in none would be seen by
                // supervisors only, and nobody would work it.
                return Err(Rejection::invalid(
                    "department",
                    "a ticket must stay in a department, or no agent can see it; move it to \
                     another department instead",
                ));
            }
            if from != *department {
                b.ticket.department.clone_from(department);
                b.event(TicketEvent::DepartmentChanged {
                    from,
                    to: department.clone(),
                });
                // A move hands the ticket over: it arrives in the new department's queue, held
                // only by someone who may hold it there. Otherwise an agent could take a ticket,
                // move it into a department they do not work in and keep it.
                if let (Some(directory), Some(holder)) = (b.ctx.directory, b.ticket.assignee) {
                    if !directory.may_hold(holder, department.as_deref()) {
                        b.unassign();
                    }
                }
            }
        }
        Mutation::AddTag { tag, .. } => {
            let tag = normalize_tag(tag)?;
            if b.ticket.tags.len() >= MAX_TAGS && !b.ticket.tags.contains(&tag) {
                return Err(too_many_tags());
            }
            if b.ticket.tags.insert(tag.clone()) {
                b.event(TicketEvent::TagAdded { tag });
            }
        }
        Mutation::RemoveTag { tag, .. } => {
            let tag = normalize_tag(tag)?;
            if b.ticket.tags.remove(&tag) {
                b.event(TicketEvent::TagRemoved { tag });
            }
        }
        Mutation::SetSubject { subject, .. } => {
            check_subject(subject)?;
            if b.ticket.subject != *subject {
                b.ticket.subject.clone_from(subject);
                b.event(TicketEvent::SubjectChanged);
            }
        }
        Mutation::SetRequester { requester, .. } => {
            requester.validate().map_err(field_rejection)?;
            let from = &b.ticket.requester;
            let fields: Vec<String> = [
                ("name", from.name != requester.name),
                ("contact", from.contact != requester.contact),
                ("account_id", from.account_id != requester.account_id),
                ("tier", from.tier != requester.tier),
            ]
            .iter()
            .filter(|(_, changed)| *changed)
            .map(|(field, _)| (*field).to_owned())
            .collect();
            if !fields.is_empty() {
                let tier_from = from.tier;
                b.ticket.requester = requester.clone();
                b.event(TicketEvent::RequesterChanged {
                    fields,
                    tier_from,
                    tier_to: requester.tier,
                });
            }
        }
        Mutation::SetDescription { description, .. } => {
            check_text("description", description, true)?;
            if b.ticket.description != *description {
                b.ticket.description.clone_from(description);
                b.event(TicketEvent::DescriptionChanged);
            }
        }
        Mutation::Link { link, .. } => {
            if link.other == b.ticket.id {
                return Err(Rejection::invalid("link", "a ticket cannot link to itself"));
            }
            if !b.ticket.links.contains(link) {
                b.ticket.links.push(link.clone());
                b.event(TicketEvent::Linked { link: link.clone() });
            }
        }
        Mutation::AddReply { entry_id, text, .. } => {
            check_text("reply", text, false)?;
            if b.ticket.status == Status::Closed {
                return Err(Rejection::Transition(TransitionRefusal::NotAllowed {
                    from: Status::Closed,
                    to: Status::InProgress,
                }));
            }
            b.ticket.first_response_at.get_or_insert(ctx.now);
            b.ticket.last_update_at = Some(ctx.now);
            b.push(Some(*entry_id), EntryBody::Reply { text: text.clone() });
        }
        Mutation::AddNote { entry_id, text, .. } => {
            check_text("note", text, false)?;
            b.push(Some(*entry_id), EntryBody::Note { text: text.clone() });
        }
        Mutation::AddAttachment {
            entry_id,
            attachment_id,
            filename,
            mime,
            size,
            sha256,
            ..
        } => {
            check_attachment(filename, mime, *size, sha256)?;
            b.push(
                Some(*entry_id),
                EntryBody::Attachment {
                    attachment_id: *attachment_id,
                    filename: filename.clone(),
                    mime: mime.clone(),
                    size: *size,
                    sha256: sha256.clone(),
                },
            );
        }
        Mutation::RecordVerification {
            entry_id, checks, ..
        } => {
            if checks.is_empty() {
                return Err(Rejection::invalid("checks", "record at least one check"));
            }
            b.push(
                Some(*entry_id),
                EntryBody::Verification {
                    checks: checks.clone(),
                },
            );
        }
        Mutation::FreezeAccount(args) => b.risk_action(RiskActionKind::FreezeAccount, args)?,
        Mutation::InterceptTransaction(args) => {
            b.risk_action(RiskActionKind::InterceptTransaction, args)?;
        }
        Mutation::UnfreezeAccount(args) => b.risk_action(RiskActionKind::UnfreezeAccount, args)?,
        Mutation::RecordView { .. } => unreachable!("handled above"),
        Mutation::RedactEntry {
            entry_id, reason, ..
        } => b.redact(*entry_id, reason)?,
        Mutation::CustomerMessage { entry_id, text, .. } => b.customer_message(*entry_id, text)?,
        Mutation::CustomerRating {
            score,
            comment,
            return_to,
            ..
        } => b.rate(*score, comment.as_deref(), *return_to)?,
    }
    b.ticket.updated_at = ctx.now;
    Ok(Applied {
        ticket: b.ticket,
        entries: b.entries,
    })
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Category, Channel, CustomerTier, Priority, Requester};
    use chrono::{Duration, TimeZone};

    fn person(n: u128, role: Role, departments: &[&str]) -> User {
        serde_json::from_value(serde_json::json!({
            "id": Uuid::from_u128(n), "name": format!("P{n}"), "email": format!("p{n}@example.com"),
            "role": role, "departments": departments, "skills": [], "active": true,
        }))
        .unwrap()
    }

    #[test]
    fn who_may_assign_whom() {
        let inside = person(1, Role::Agent, &["billing"]);
        let outside = person(2, Role::Agent, &["tech"]);
        let supervisor = person(3, Role::Supervisor, &[]);
        let billing = Some("billing");
        // An agent: within the department, or to a supervisor, or the holder again.
        assert!(may_assign(Some(Role::Agent), &inside, billing, None));
        assert!(!may_assign(Some(Role::Agent), &outside, billing, None));
        assert!(!may_assign(Some(Role::Agent), &outside, None, None));
        assert!(may_assign(Some(Role::Agent), &supervisor, billing, None));
        assert!(may_assign(
            Some(Role::Agent),
            &outside,
            billing,
            Some(outside.id)
        ));
        assert!(!may_assign(
            Some(Role::Agent),
            &outside,
            billing,
            Some(inside.id)
        ));
        // Supervisors, admins and the server itself: anyone.
        for role in [Some(Role::Supervisor), Some(Role::Admin), None] {
            assert!(may_assign(role, &outside, billing, None));
        }
        // apply's reference check refuses an agent's hand-over to the outsider only.
        let agent = person(4, Role::Agent, &["billing"]);
        let all = [
            inside.clone(),
            outside.clone(),
            supervisor.clone(),
            agent.clone(),
        ];
        let departments = ["billing".to_string(), "tech".to_string()];
        let directory = Directory {
            users: &all,
            departments: &departments,
        };
        let mut ticket = new_ticket();
        ticket.department = Some("billing".into());
        for (u, allowed) in [(&inside, true), (&outside, false), (&supervisor, true)] {
            let m = Mutation::SetAssignee {
                ticket_id: ticket.id,
                assignee: Some(u.id),
            };
            let checked = check_references(&directory, Some(agent.id), Some(&ticket), &m);
            assert_eq!(checked.is_ok(), allowed, "{}", u.name);
        }
    }

    static POLICY: std::sync::LazyLock<VerificationPolicy> =
        std::sync::LazyLock::new(VerificationPolicy::default);

    fn ctx(n: u64) -> ApplyContext<'static> {
        let t = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap() + Duration::minutes(n as i64);
        ApplyContext {
            actor: Some(Uuid::from_u128(7)),
            device_id: Uuid::from_u128(99),
            mutation_id: n,
            client_time: t,
            now: t,
            verification: &POLICY,
            timeline: &[],
            directory: None,
        }
    }

    fn new_ticket() -> Ticket {
        let m = Mutation::CreateTicket(NewTicket {
            id: Uuid::from_u128(1),
            subject: "无法登录 App".into(),
            description: "登录时提示错误码 E1023".into(),
            requester: Requester {
                name: "王先生".into(),
                contact: "wang@example.com".into(),
                account_id: Some("A-1".into()),
                tier: CustomerTier::Vip,
            },
            channel: Channel::App,
            language: "zh-CN".into(),
            category: Category::LOGIN_ANOMALY,
            priority: Priority::P3,
            risk: RiskLevel::None,
            department: Some("support".into()),
            tags: ["VIP".to_string()].into(),
        });
        let applied = apply(None, &m, &ctx(1)).unwrap();
        assert_eq!(
            applied.ticket.tags.iter().next().map(String::as_str),
            Some("vip")
        );
        applied.ticket
    }

    fn run(t: &Ticket, m: Mutation, n: u64) -> Result<Applied, Rejection> {
        apply(Some(t), &m, &ctx(n))
    }

    #[test]
    fn a_ticket_cannot_be_moved_out_of_every_department() {
        let t = new_ticket();
        let out = Mutation::SetDepartment {
            ticket_id: t.id,
            department: None,
        };
        assert!(matches!(
            run(&t, out, 2),
            Err(Rejection::Invalid { ref field, .. }) if field == "department"
        ));
        let moved = Mutation::SetDepartment {
            ticket_id: t.id,
            department: Some("finance".into()),
        };
        assert_eq!(
            run(&t, moved, 3).unwrap().ticket.department.as_deref(),
            Some("finance")
        );
    }

    #[test]
    fn a_corrected_requester_names_the_changed_fields_but_not_their_text() {
        let t = new_ticket();
        let requester = Requester {
            name: "王小明".into(),
            tier: CustomerTier::Standard,
            ..t.requester.clone()
        };
        let m = Mutation::SetRequester {
            ticket_id: t.id,
            requester: requester.clone(),
        };
        let applied = run(&t, m, 2).unwrap();
        assert_eq!(applied.ticket.requester, requester);
        let [entry] = applied.entries.as_slice() else {
            panic!("one event")
        };
        let EntryBody::Event {
            event:
                TicketEvent::RequesterChanged {
                    fields,
                    tier_from,
                    tier_to,
                },
        } = &entry.body
        else {
            panic!("a requester event")
        };
        assert_eq!(fields, &["name", "tier"]);
        assert_eq!(
            (*tier_from, *tier_to),
            (CustomerTier::Vip, CustomerTier::Standard)
        );
        assert!(!serde_json::to_string(&entry.body)
            .unwrap()
            .contains("王小明"));

        let same = Mutation::SetRequester {
            ticket_id: t.id,
            requester: t.requester.clone(),
        };
        assert!(run(&t, same, 3).unwrap().entries.is_empty());
        let bad = Mutation::SetRequester {
            ticket_id: t.id,
            requester: Requester {
                contact: "a\r\nBcc: x@example.com".into(),
                ..t.requester.clone()
            },
        };
        assert!(matches!(run(&t, bad, 4), Err(Rejection::Invalid { .. })));
    }

    #[test]
    fn texts_and_tags_refuse_nul_and_control_characters() {
        let t = new_ticket();
        let note = Mutation::AddNote {
            entry_id: Uuid::from_u128(50),
            ticket_id: t.id,
            text: "before\0after".into(),
        };
        assert!(matches!(run(&t, note, 2), Err(Rejection::Invalid { .. })));
        for tag in ["a\0b", "a\u{7}b"] {
            let m = Mutation::AddTag {
                ticket_id: t.id,
                tag: tag.into(),
            };
            assert!(
                matches!(run(&t, m, 3), Err(Rejection::Invalid { .. })),
                "{tag:?}"
            );
        }
    }

    #[test]
    fn a_ticket_carries_a_bounded_number_of_tags() {
        let mut t = new_ticket();
        for n in 1..MAX_TAGS {
            let m = Mutation::AddTag {
                ticket_id: t.id,
                tag: format!("tag{n}"),
            };
            t = run(&t, m, 10 + n as u64).unwrap().ticket;
        }
        assert_eq!(t.tags.len(), MAX_TAGS);
        let again = Mutation::AddTag {
            ticket_id: t.id,
            tag: "tag1".into(),
        };
        assert!(
            run(&t, again, 1000).is_ok(),
            "an existing tag is no new one"
        );
        let one_more = Mutation::AddTag {
            ticket_id: t.id,
            tag: "overflow".into(),
        };
        assert!(matches!(
            run(&t, one_more, 1001),
            Err(Rejection::Invalid { ref field, .. }) if field == "tags"
        ));
        let new = NewTicket {
            id: Uuid::from_u128(2),
            subject: "s".into(),
            description: String::new(),
            requester: t.requester.clone(),
            channel: Channel::App,
            language: "en".into(),
            category: Category::INQUIRY,
            priority: Priority::P3,
            risk: RiskLevel::None,
            department: None,
            tags: (0..=MAX_TAGS).map(|n| format!("t{n}")).collect(),
        };
        assert!(matches!(
            apply(None, &Mutation::CreateTicket(new), &ctx(2000)),
            Err(Rejection::Invalid { ref field, .. }) if field == "tags"
        ));
    }

    #[test]
    fn assignment_moves_a_new_ticket_and_pending_pauses_the_clock() {
        let t = new_ticket();
        let id = t.id;
        let a = run(
            &t,
            Mutation::SetAssignee {
                ticket_id: id,
                assignee: Some(Uuid::from_u128(7)),
            },
            2,
        )
        .unwrap();
        assert_eq!(a.ticket.status, Status::Assigned);
        assert_eq!(a.entries.len(), 2, "assignee event and status event");
        let p = run(
            &a.ticket,
            Mutation::SetStatus {
                ticket_id: id,
                status: Status::Pending,
                reason: None,
            },
            3,
        )
        .unwrap();
        assert!(p.ticket.is_paused());
        let w = run(
            &p.ticket,
            Mutation::SetStatus {
                ticket_id: id,
                status: Status::InProgress,
                reason: None,
            },
            4,
        )
        .unwrap();
        assert!(!w.ticket.is_paused());
        assert_eq!(w.ticket.pauses.len(), 1);
        assert_eq!(w.ticket.pauses[0].end, Some(ctx(4).now));
    }

    #[test]
    fn replies_stop_first_response_and_refusals_change_nothing() {
        let t = new_ticket();
        let id = t.id;
        let r = run(
            &t,
            Mutation::AddReply {
                entry_id: Uuid::from_u128(5),
                ticket_id: id,
                text: "您好".into(),
            },
            2,
        )
        .unwrap();
        assert_eq!(r.ticket.first_response_at, Some(ctx(2).now));
        assert_eq!(r.entries[0].id, Uuid::from_u128(5));
        let err = run(
            &r.ticket,
            Mutation::SetStatus {
                ticket_id: id,
                status: Status::InProgress,
                reason: None,
            },
            3,
        )
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::IllegalTransition);
        assert!(err.to_string().contains("assign"));
        let err = run(
            &r.ticket,
            Mutation::AddNote {
                entry_id: Uuid::from_u128(6),
                ticket_id: id,
                text: "  ".into(),
            },
            3,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "note: must not be empty");
    }

    #[test]
    fn derived_event_ids_are_stable_across_parties() {
        let t = new_ticket();
        let m = Mutation::SetPriority {
            ticket_id: t.id,
            priority: Priority::P1,
        };
        let client = run(&t, m.clone(), 9).unwrap();
        let mut server_ctx = ctx(9);
        server_ctx.now += Duration::seconds(40);
        let server = apply(Some(&t), &m, &server_ctx).unwrap();
        assert_eq!(client.entries[0].id, server.entries[0].id);
        assert_ne!(client.entries[0].created_at, server.entries[0].created_at);
    }

    #[test]
    fn reopen_clears_resolution() {
        let mut t = new_ticket();
        t.assignee = Some(Uuid::from_u128(7));
        t.status = Status::Resolved;
        t.resolved_at = Some(ctx(1).now);
        let r = run(
            &t,
            Mutation::Reopen {
                ticket_id: t.id,
                reason: Some("CSAT 1".into()),
            },
            5,
        )
        .unwrap();
        assert_eq!(r.ticket.status, Status::Assigned);
        assert_eq!(r.ticket.resolved_at, None);
    }

    #[test]
    fn hostile_input_is_refused_with_a_reason() {
        let t = new_ticket();
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        let err = run(
            &t,
            Mutation::AddReply {
                entry_id: Uuid::from_u128(5),
                ticket_id: t.id,
                text: long,
            },
            2,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("reply: is 262145 bytes"));
        let err = run(
            &t,
            Mutation::AddTag {
                ticket_id: t.id,
                tag: "two words".into(),
            },
            2,
        )
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Invalid);
        assert_eq!(
            apply(
                None,
                &Mutation::AddTag {
                    ticket_id: t.id,
                    tag: "x".into()
                },
                &ctx(2)
            )
            .unwrap_err(),
            Rejection::TicketNotFound
        );
    }

    #[test]
    fn risk_actions_need_enough_verification_and_a_consistent_account_state() {
        use crate::model::{VerificationCheck, VerificationDimension as D, VerificationResult};
        let mut t = new_ticket();
        t.risk = RiskLevel::L1;
        let args = RiskActionArgs {
            entry_id: Uuid::from_u128(40),
            ticket_id: t.id,
            target: "ACC-1".into(),
            reason: "active takeover".into(),
        };
        let check = |d| VerificationCheck {
            dimension: d,
            result: VerificationResult::Passed,
            method: "call".into(),
        };
        let verification = |dims: &[D]| Entry {
            id: Uuid::from_u128(50),
            ticket_id: t.id,
            author: None,
            body: EntryBody::Verification {
                checks: dims.iter().map(|d| check(*d)).collect(),
            },
            created_at: ctx(1).now,
        };
        let four = [verification(&[
            D::SmsCode,
            D::RealNameInfo,
            D::IdDocument,
            D::UsualDevice,
        ])];
        let c = ApplyContext {
            timeline: &four,
            directory: None,
            ..ctx(3)
        };
        let err = apply(Some(&t), &Mutation::FreezeAccount(args.clone()), &c).unwrap_err();
        assert_eq!(err.code(), ErrorCode::VerificationRequired);

        let five = [verification(&[
            D::SmsCode,
            D::RealNameInfo,
            D::IdDocument,
            D::UsualDevice,
            D::FaceLiveness,
        ])];
        let c = ApplyContext {
            timeline: &five,
            directory: None,
            ..ctx(3)
        };
        let frozen = apply(Some(&t), &Mutation::FreezeAccount(args.clone()), &c).unwrap();
        assert!(matches!(
            frozen.entries[0].body,
            EntryBody::RiskAction {
                action: RiskActionKind::FreezeAccount,
                ..
            }
        ));

        let history = [five[0].clone(), frozen.entries[0].clone()];
        let c = ApplyContext {
            timeline: &history,
            directory: None,
            ..ctx(4)
        };
        let err = apply(Some(&frozen.ticket), &Mutation::FreezeAccount(args), &c).unwrap_err();
        assert_eq!(err.code(), ErrorCode::RiskActionRefused);
    }

    #[test]
    fn redaction_replaces_the_content_keeps_its_hash_and_refuses_evidence() {
        let t = new_ticket();
        let reply = run(
            &t,
            Mutation::AddReply {
                entry_id: Uuid::from_u128(50),
                ticket_id: t.id,
                text: "your password is hunter2".into(),
            },
            2,
        )
        .unwrap();
        let removed = reply.entries[0].body.content_sha256();
        let timeline = reply.entries.clone();
        let c = ApplyContext {
            timeline: &timeline,
            directory: None,
            ..ctx(3)
        };
        let redact = |entry_id, reason: &str| Mutation::RedactEntry {
            ticket_id: t.id,
            entry_id,
            reason: reason.into(),
        };
        let out = apply(
            Some(&reply.ticket),
            &redact(Uuid::from_u128(50), "leaked password"),
            &c,
        )
        .unwrap();
        assert_eq!(out.entries.len(), 2);
        let replaced = &out.entries[0];
        assert_eq!(replaced.id, Uuid::from_u128(50));
        assert_eq!(replaced.created_at, reply.entries[0].created_at);
        let json = serde_json::to_string(replaced).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        assert!(matches!(
            &replaced.body,
            EntryBody::Redacted { original: crate::model::EntryKind::Reply, removed_sha256, .. }
                if *removed_sha256 == removed
        ));
        assert!(matches!(
            &out.entries[1].body,
            EntryBody::Event { event: TicketEvent::EntryRedacted { removed_sha256, .. } }
                if *removed_sha256 == removed
        ));

        // Twice, an event, an unknown entry and an empty reason are refused.
        let twice = [replaced.clone()];
        let c2 = ApplyContext {
            timeline: &twice,
            directory: None,
            ..ctx(4)
        };
        let err = apply(
            Some(&out.ticket),
            &redact(Uuid::from_u128(50), "again"),
            &c2,
        )
        .unwrap_err();
        assert!(err.to_string().contains("already redacted"), "{err}");
        let event = [out.entries[1].clone()];
        let c3 = ApplyContext {
            timeline: &event,
            directory: None,
            ..ctx(5)
        };
        let err = apply(Some(&out.ticket), &redact(out.entries[1].id, "x"), &c3).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Invalid);
        let err = apply(Some(&out.ticket), &redact(Uuid::from_u128(51), "x"), &c).unwrap_err();
        assert!(err.to_string().contains("no such entry"), "{err}");
        let err = apply(Some(&reply.ticket), &redact(Uuid::from_u128(50), "  "), &c).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Invalid);
    }

    #[test]
    fn a_view_changes_nothing() {
        let t = new_ticket();
        let out = run(&t, Mutation::RecordView { ticket_id: t.id }, 2).unwrap();
        assert_eq!(out.ticket, t);
        assert!(out.entries.is_empty());
    }

    #[test]
    fn an_attachment_entry_must_name_a_checked_file() {
        let t = new_ticket();
        let attach =
            |filename: &str, mime: &str, size: u64, sha256: &str| Mutation::AddAttachment {
                entry_id: Uuid::from_u128(70),
                ticket_id: t.id,
                attachment_id: Uuid::from_u128(71),
                filename: filename.into(),
                mime: mime.into(),
                size,
                sha256: sha256.into(),
            };
        let hash = "0a".repeat(32);
        let ok = run(
            &t,
            attach("营业执照.pdf", "application/pdf", 2048, &hash),
            2,
        )
        .unwrap();
        assert!(matches!(
            ok.entries[0].body,
            EntryBody::Attachment { size: 2048, .. }
        ));
        let field = |m: Mutation| match run(&t, m, 3) {
            Err(Rejection::Invalid { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(
            field(attach("../x.pdf", "application/pdf", 1, &hash)),
            "filename"
        );
        assert_eq!(
            field(attach("a\u{202E}fdp.exe", "application/pdf", 1, &hash)),
            "filename"
        );
        assert_eq!(
            field(attach("x.pdf", "application/x-msdownload", 1, &hash)),
            "mime"
        );
        assert_eq!(field(attach("x.pdf", "application/pdf", 0, &hash)), "size");
        let too_big = MAX_ATTACHMENT_BYTES + 1;
        assert_eq!(
            field(attach("x.pdf", "application/pdf", too_big, &hash)),
            "size"
        );
        assert_eq!(
            field(attach("x.pdf", "application/pdf", 1, &"0A".repeat(32))),
            "sha256"
        );
        assert_eq!(field(attach("x.pdf", "application/pdf", 1, "0a")), "sha256");
    }
}
