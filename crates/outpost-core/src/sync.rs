//! Sync wire types, shared by the client and the server so they cannot drift apart.
//!
//! A mutation is a named intent (`ticket.set_status`), not a row diff: the server re-validates the
//! intent against its own truth, which is what lets offline edits converge safely.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ErrorCode;
use crate::model::{
    Category, Channel, Department, DepartmentCode, Entry, EntryId, Priority, Requester, RiskLevel,
    Status, Template, Ticket, TicketId, TicketLink, User, UserId, VerificationCheck,
};

/// `POST /v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// Required when the account has TOTP enabled.
    pub totp: Option<String>,
}

/// `POST /v1/auth/refresh` and `/v1/auth/logout`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// A signed-in session: a short-lived access token and a rotating refresh token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub user: User,
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshRequest(<redacted>)")
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("expires_in", &self.expires_in)
            .field("user", &self.user.id)
            .finish_non_exhaustive()
    }
}

/// Every API error body: a stable machine-readable `code` and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

/// Most mutations one push may carry.
pub const MAX_PUSH_BATCH: usize = 500;
/// Changes one pull returns when the request names no limit; what a caught-up client asks for.
pub const DEFAULT_PULL_LIMIT: u32 = 1_000;
/// Most changes one pull may return (larger limits are clamped to it). A client that is
/// bootstrapping asks for pages this large: fewer round trips and page queries.
pub const MAX_PULL_LIMIT: u32 = 5_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewTicket {
    pub id: TicketId,
    pub subject: String,
    pub description: String,
    pub requester: Requester,
    pub channel: Channel,
    pub language: String,
    pub category: Category,
    pub priority: Priority,
    pub risk: RiskLevel,
    pub department: Option<DepartmentCode>,
    pub tags: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RiskActionArgs {
    pub entry_id: EntryId,
    pub ticket_id: TicketId,
    /// The account or transaction acted on.
    pub target: String,
    pub reason: String,
}

/// A named intent. The serde tag is the wire name and also the audit action name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "name", content = "args")]
pub enum Mutation {
    #[serde(rename = "ticket.create")]
    CreateTicket(NewTicket),
    #[serde(rename = "ticket.set_status")]
    SetStatus {
        ticket_id: TicketId,
        status: Status,
        reason: Option<String>,
    },
    #[serde(rename = "ticket.reopen")]
    Reopen {
        ticket_id: TicketId,
        reason: Option<String>,
    },
    #[serde(rename = "ticket.set_priority")]
    SetPriority {
        ticket_id: TicketId,
        priority: Priority,
    },
    #[serde(rename = "ticket.set_category")]
    SetCategory {
        ticket_id: TicketId,
        category: Category,
    },
    #[serde(rename = "ticket.set_risk")]
    SetRisk {
        ticket_id: TicketId,
        risk: RiskLevel,
    },
    #[serde(rename = "ticket.set_assignee")]
    SetAssignee {
        ticket_id: TicketId,
        assignee: Option<UserId>,
    },
    #[serde(rename = "ticket.set_department")]
    SetDepartment {
        ticket_id: TicketId,
        department: Option<DepartmentCode>,
    },
    #[serde(rename = "ticket.add_tag")]
    AddTag { ticket_id: TicketId, tag: String },
    #[serde(rename = "ticket.remove_tag")]
    RemoveTag { ticket_id: TicketId, tag: String },
    #[serde(rename = "ticket.set_subject")]
    SetSubject {
        ticket_id: TicketId,
        subject: String,
    },
    /// Corrects who asked: name, contact, account id or tier (a typo, a merged identity).
    #[serde(rename = "ticket.set_requester")]
    SetRequester {
        ticket_id: TicketId,
        requester: Requester,
    },
    #[serde(rename = "ticket.set_description")]
    SetDescription {
        ticket_id: TicketId,
        description: String,
    },
    #[serde(rename = "ticket.link")]
    Link {
        ticket_id: TicketId,
        link: TicketLink,
    },
    #[serde(rename = "entry.add_reply")]
    AddReply {
        entry_id: EntryId,
        ticket_id: TicketId,
        text: String,
    },
    #[serde(rename = "entry.add_note")]
    AddNote {
        entry_id: EntryId,
        ticket_id: TicketId,
        text: String,
    },
    #[serde(rename = "entry.add_attachment")]
    AddAttachment {
        entry_id: EntryId,
        ticket_id: TicketId,
        attachment_id: Uuid,
        filename: String,
        mime: String,
        size: u64,
        sha256: String,
    },
    #[serde(rename = "verification.record")]
    RecordVerification {
        entry_id: EntryId,
        ticket_id: TicketId,
        checks: Vec<VerificationCheck>,
    },
    #[serde(rename = "risk.freeze")]
    FreezeAccount(RiskActionArgs),
    #[serde(rename = "risk.intercept")]
    InterceptTransaction(RiskActionArgs),
    #[serde(rename = "risk.unfreeze")]
    UnfreezeAccount(RiskActionArgs),
    /// Someone opened a sensitive ticket: recorded in the audit chain ("who viewed this"), the
    /// ticket itself does not change.
    #[serde(rename = "ticket.view")]
    RecordView { ticket_id: TicketId },
    /// A supervisor removes a reply, note, customer message or attachment (privacy request).
    #[serde(rename = "entry.redact")]
    RedactEntry {
        ticket_id: TicketId,
        entry_id: EntryId,
        reason: String,
    },
    /// The customer wrote to the team (their status page; later, a connector relaying their
    /// message). Only the server sends it; devices are refused.
    #[serde(rename = "customer.message")]
    CustomerMessage {
        ticket_id: TicketId,
        entry_id: EntryId,
        text: String,
    },
    /// The customer rated the resolution, 1 to 5. A low score (`LOW_CSAT_SCORE` or less)
    /// reopens the ticket with a revisit due 24 hours later. Only the server sends it; devices
    /// are refused.
    #[serde(rename = "customer.csat")]
    CustomerRating {
        ticket_id: TicketId,
        score: u8,
        comment: Option<String>,
        /// Who takes the ticket back when a low score reopens it and nobody holds it: the agent
        /// who resolved it (`apply::last_resolver`), if the server knows them to be still
        /// active.
        return_to: Option<UserId>,
    },
    /// An admin replaces one settings document, made on `base_version` of it (refused if the
    /// document has changed since). Applied by `settings::apply_admin`, not by `apply`.
    #[serde(rename = "settings.set")]
    SetSettings {
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        base_version: u64,
        settings: crate::settings::SettingsDoc,
    },
    /// An admin adds, renames, retires or restores a department.
    #[serde(rename = "department.put")]
    PutDepartment(Department),
    /// An admin adds, edits, retires or restores a reply template or macro.
    #[serde(rename = "template.put")]
    PutTemplate(Template),
}

impl Mutation {
    /// The wire name (also the audit action).
    pub fn name(&self) -> &'static str {
        match self {
            Mutation::CreateTicket(_) => "ticket.create",
            Mutation::SetStatus { .. } => "ticket.set_status",
            Mutation::Reopen { .. } => "ticket.reopen",
            Mutation::SetPriority { .. } => "ticket.set_priority",
            Mutation::SetCategory { .. } => "ticket.set_category",
            Mutation::SetRisk { .. } => "ticket.set_risk",
            Mutation::SetAssignee { .. } => "ticket.set_assignee",
            Mutation::SetDepartment { .. } => "ticket.set_department",
            Mutation::AddTag { .. } => "ticket.add_tag",
            Mutation::RemoveTag { .. } => "ticket.remove_tag",
            Mutation::SetSubject { .. } => "ticket.set_subject",
            Mutation::SetRequester { .. } => "ticket.set_requester",
            Mutation::SetDescription { .. } => "ticket.set_description",
            Mutation::Link { .. } => "ticket.link",
            Mutation::AddReply { .. } => "entry.add_reply",
            Mutation::AddNote { .. } => "entry.add_note",
            Mutation::AddAttachment { .. } => "entry.add_attachment",
            Mutation::RecordVerification { .. } => "verification.record",
            Mutation::FreezeAccount(_) => "risk.freeze",
            Mutation::InterceptTransaction(_) => "risk.intercept",
            Mutation::UnfreezeAccount(_) => "risk.unfreeze",
            Mutation::RecordView { .. } => "ticket.view",
            Mutation::RedactEntry { .. } => "entry.redact",
            Mutation::CustomerMessage { .. } => "customer.message",
            Mutation::CustomerRating { .. } => "customer.csat",
            Mutation::SetSettings { .. } => "settings.set",
            Mutation::PutDepartment(_) => "department.put",
            Mutation::PutTemplate(_) => "template.put",
        }
    }

    /// Intents the server applies for the customer (their messages and ratings). Devices never
    /// send them: `apply` refuses them when a signed-in user is the actor.
    pub fn server_only(&self) -> bool {
        matches!(
            self,
            Mutation::CustomerMessage { .. } | Mutation::CustomerRating { .. }
        )
    }

    /// Whether applying this intent reads the ticket's timeline (risk actions check earlier
    /// verification records and actions; a redaction replaces an entry).
    pub fn reads_timeline(&self) -> bool {
        matches!(
            self,
            Mutation::FreezeAccount(_)
                | Mutation::InterceptTransaction(_)
                | Mutation::UnfreezeAccount(_)
                | Mutation::RedactEntry { .. }
        )
    }

    /// Intents that change the organisation's settings rather than a ticket
    /// (`settings::apply_admin`); only admins may send them.
    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            Mutation::SetSettings { .. } | Mutation::PutDepartment(_) | Mutation::PutTemplate(_)
        )
    }

    /// The ticket a ticket intent changes; `None` for an admin intent.
    pub fn ticket_id(&self) -> Option<TicketId> {
        Some(match self {
            Mutation::SetSettings { .. }
            | Mutation::PutDepartment(_)
            | Mutation::PutTemplate(_) => return None,
            Mutation::CreateTicket(t) => t.id,
            Mutation::FreezeAccount(a)
            | Mutation::InterceptTransaction(a)
            | Mutation::UnfreezeAccount(a) => a.ticket_id,
            Mutation::SetStatus { ticket_id, .. }
            | Mutation::Reopen { ticket_id, .. }
            | Mutation::SetPriority { ticket_id, .. }
            | Mutation::SetCategory { ticket_id, .. }
            | Mutation::SetRisk { ticket_id, .. }
            | Mutation::SetAssignee { ticket_id, .. }
            | Mutation::SetDepartment { ticket_id, .. }
            | Mutation::AddTag { ticket_id, .. }
            | Mutation::RemoveTag { ticket_id, .. }
            | Mutation::SetSubject { ticket_id, .. }
            | Mutation::SetRequester { ticket_id, .. }
            | Mutation::SetDescription { ticket_id, .. }
            | Mutation::Link { ticket_id, .. }
            | Mutation::AddReply { ticket_id, .. }
            | Mutation::AddNote { ticket_id, .. }
            | Mutation::AddAttachment { ticket_id, .. }
            | Mutation::RecordVerification { ticket_id, .. }
            | Mutation::RecordView { ticket_id }
            | Mutation::RedactEntry { ticket_id, .. }
            | Mutation::CustomerMessage { ticket_id, .. }
            | Mutation::CustomerRating { ticket_id, .. } => *ticket_id,
        })
    }
}

/// A mutation as queued in the outbox and pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationEnvelope {
    /// Per-device, strictly increasing from 1; the server skips ids it has seen and refuses gaps.
    pub mutation_id: u64,
    /// When the agent made the change (the device clock; informative, never trusted for order).
    pub client_time: DateTime<Utc>,
    /// The ticket revision the agent saw, for conflict detection on long text.
    pub base_revision: Option<u64>,
    pub mutation: Mutation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    pub device_id: Uuid,
    pub mutations: Vec<MutationEnvelope>,
}

/// One field where the server's value won over the pushed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldConflict {
    pub field: String,
    /// What this device set, and what the server kept, as JSON values.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub yours: serde_json::Value,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub winner: serde_json::Value,
    pub changed_by: Option<UserId>,
    pub changed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MutationOutcome {
    Applied {
        revision: u64,
    },
    /// Already applied earlier (a retry after a lost response).
    Duplicate,
    /// Applied in part, or kept both versions; the listed fields did not take this device's value.
    Conflict {
        revision: u64,
        fields: Vec<FieldConflict>,
    },
    /// Not applied. `code` is stable for programs, `reason` is for people.
    Rejected {
        code: ErrorCode,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationResult {
    pub mutation_id: u64,
    #[serde(flatten)]
    pub outcome: MutationOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub results: Vec<MutationResult>,
    /// Highest mutation id the server has processed for this device.
    pub last_mutation_id: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ChangeKind {
    Ticket(Box<Ticket>),
    Entry(Box<Entry>),
    /// The ticket left this user's view (moved department, access changed): purge it locally.
    Revoke {
        ticket_id: TicketId,
    },
    Department(Department),
    User(User),
    Template(Template),
    /// One of the organisation's settings documents, at its new version.
    Settings(crate::settings::VersionedSettings),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// The organisation's change sequence number of this change.
    pub seq: u64,
    #[serde(flatten)]
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    pub changes: Vec<Change>,
    /// Pass this back as `cursor` on the next pull.
    pub cursor: u64,
    pub has_more: bool,
    /// Highest mutation id from this device the server has processed: outbox entries up to it
    /// are confirmed and may be dropped.
    pub last_mutation_id: u64,
    /// The client's cursor is too old or its view changed wholesale: drop server-truth rows,
    /// keep the outbox, and pull from zero.
    pub reset_required: bool,
}

/// What `GET /v1/sync/events` sends: only "there is something new".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Poke {
    pub cursor: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn samples() -> Vec<Mutation> {
        let t = Uuid::from_u128(1);
        let e = Uuid::from_u128(2);
        let args = RiskActionArgs {
            entry_id: e,
            ticket_id: t,
            target: "acct-9".into(),
            reason: "x".into(),
        };
        vec![
            Mutation::SetStatus {
                ticket_id: t,
                status: Status::Pending,
                reason: None,
            },
            Mutation::Reopen {
                ticket_id: t,
                reason: None,
            },
            Mutation::SetPriority {
                ticket_id: t,
                priority: Priority::P1,
            },
            Mutation::SetCategory {
                ticket_id: t,
                category: Category::INQUIRY,
            },
            Mutation::SetRisk {
                ticket_id: t,
                risk: RiskLevel::L1,
            },
            Mutation::SetAssignee {
                ticket_id: t,
                assignee: None,
            },
            Mutation::SetDepartment {
                ticket_id: t,
                department: Some("risk".into()),
            },
            Mutation::AddTag {
                ticket_id: t,
                tag: "vip".into(),
            },
            Mutation::RemoveTag {
                ticket_id: t,
                tag: "vip".into(),
            },
            Mutation::SetSubject {
                ticket_id: t,
                subject: "s".into(),
            },
            Mutation::SetDescription {
                ticket_id: t,
                description: "d".into(),
            },
            Mutation::Link {
                ticket_id: t,
                link: TicketLink {
                    kind: crate::model::LinkKind::Related,
                    other: e,
                },
            },
            Mutation::AddReply {
                entry_id: e,
                ticket_id: t,
                text: "hi".into(),
            },
            Mutation::AddNote {
                entry_id: e,
                ticket_id: t,
                text: "hi".into(),
            },
            Mutation::AddAttachment {
                entry_id: e,
                ticket_id: t,
                attachment_id: e,
                filename: "a.png".into(),
                mime: "image/png".into(),
                size: 3,
                sha256: "00".into(),
            },
            Mutation::RecordVerification {
                entry_id: e,
                ticket_id: t,
                checks: vec![],
            },
            Mutation::FreezeAccount(args.clone()),
            Mutation::InterceptTransaction(args.clone()),
            Mutation::UnfreezeAccount(args),
        ]
    }

    #[test]
    fn wire_name_matches_the_serde_tag_and_round_trips() {
        for m in samples() {
            let envelope = MutationEnvelope {
                mutation_id: 7,
                client_time: Utc.timestamp_opt(1_790_000_000, 0).unwrap(),
                base_revision: Some(3),
                mutation: m.clone(),
            };
            let json = serde_json::to_value(&envelope).unwrap();
            assert_eq!(json["mutation"]["name"], m.name());
            assert_eq!(m.ticket_id(), Some(Uuid::from_u128(1)));
            let back: MutationEnvelope = serde_json::from_value(json).unwrap();
            assert_eq!(back, envelope);
        }
    }

    #[test]
    fn unknown_intents_and_wrong_types_are_refused() {
        let unknown = r#"{"name":"ticket.delete_everything","args":{}}"#;
        assert!(serde_json::from_str::<Mutation>(unknown).is_err());
        let wrong = r#"{"name":"ticket.set_priority","args":{"ticket_id":"00000000-0000-0000-0000-000000000001","priority":"P9"}}"#;
        assert!(serde_json::from_str::<Mutation>(wrong).is_err());
    }

    #[test]
    fn results_flatten_their_outcome() {
        let r = MutationResult {
            mutation_id: 4,
            outcome: MutationOutcome::Rejected {
                code: ErrorCode::IllegalTransition,
                reason: "no".into(),
            },
        };
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["outcome"], "rejected");
        assert_eq!(json["code"], "illegal_transition");
        assert_eq!(serde_json::from_value::<MutationResult>(json).unwrap(), r);
    }
}
