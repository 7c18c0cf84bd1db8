//! The ticket model shared by the client, the server and the local cache.
//!
//! Every timestamp is UTC; presentation in a time zone is the UI's job. Ids are UUIDv7 minted by
//! whoever creates the thing (usually the client, offline), so they sort by creation time.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub type TicketId = Uuid;
pub type EntryId = Uuid;
pub type UserId = Uuid;
/// Departments are few and named by the organisation (`support`, `finance`, `tech`, `risk`), so a
/// short stable code reads better on the wire and in rules than a UUID.
pub type DepartmentCode = String;

/// Defines a field-less enum with a stable snake_case wire/database name for every variant, so
/// the store, the server and the rules all spell a value the same way.
///
/// The name is matched as a `tt`, not a `literal`: a `literal` fragment reaches derive macros
/// wrapped in an invisible group, which serde and ts-rs see through but utoipa does not (the
/// OpenAPI document then listed Rust variant names such as `Triaged`).
macro_rules! named_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { kind: stringify!($name), value: s.to_owned() }),
                }
            }
        }
    };
}

pub(crate) use named_enum;

/// A string that names no variant of the enum it was parsed as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a known {kind}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

named_enum! {
    /// P1 is the most urgent. `Ord` follows urgency: `P1 < P2 < P3 < P4`.
    pub enum Priority {
        P1 => "P1",
        P2 => "P2",
        P3 => "P3",
        P4 => "P4",
    }
}

named_enum! {
    /// Risk grading from the seeds. `L1` is the most severe (active takeover, large abnormal
    /// transaction: freeze within 10 minutes).
    pub enum RiskLevel {
        None => "none",
        L3 => "L3",
        L2 => "L2",
        L1 => "L1",
    }
}

named_enum! {
    /// Ticket lifecycle. `reopened` is an event, not a status: a reopened ticket goes back to
    /// `assigned` (or `triaged` when nobody holds it).
    pub enum Status {
        New => "new",
        Triaged => "triaged",
        Assigned => "assigned",
        InProgress => "in_progress",
        Pending => "pending",
        Resolved => "resolved",
        Closed => "closed",
    }
}

impl Status {
    /// Statuses in which the ticket still needs work from the team (pending included: it comes
    /// back).
    pub const OPEN: &'static [Status] = &[
        Status::New,
        Status::Triaged,
        Status::Assigned,
        Status::InProgress,
        Status::Pending,
    ];

    pub fn is_open(self) -> bool {
        Status::OPEN.contains(&self)
    }
}

named_enum! {
    pub enum Channel {
        WebForm => "web_form",
        Email => "email",
        Phone => "phone",
        Chat => "chat",
        WeChat => "wechat",
        App => "app",
        Api => "api",
    }
}

named_enum! {
    pub enum CustomerTier {
        Standard => "standard",
        Vip => "vip",
        Enterprise => "enterprise",
    }
}

/// Longest category code, in characters.
pub const MAX_CATEGORY_CODE_CHARS: usize = 40;

/// A ticket's category: a stable code such as `login_anomaly` (`[a-z0-9_]`, 2 to
/// [`MAX_CATEGORY_CODE_CHARS`] characters). The product ships [`Category::BUILT_IN`] (the
/// account-issue domain of PRODUCT.md, then the general ones); an organisation adds its own in
/// its catalogue (`settings::Catalogue`), which also says which ones are in use. On the wire
/// and in the database it is the plain code.
///
/// The built-in constants can be matched on (`Category::KYC_REVIEW => …`): equality is derived,
/// and [`Category::new`] always gives a built-in code its built-in form.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Category(#[cfg_attr(feature = "ts", ts(type = "string"))] Code);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Code {
    BuiltIn(&'static str),
    Own(Box<str>),
}

/// A string that is not a category code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{value:?} is not a category code: use 2 to {MAX_CATEGORY_CODE_CHARS} lowercase letters, \
     digits or _ (such as merchant_onboarding)"
)]
pub struct InvalidCategory {
    pub value: String,
}

impl Category {
    pub const LOGIN_ANOMALY: Category = Category::built_in("login_anomaly");
    pub const ACCOUNT_TAKEOVER: Category = Category::built_in("account_takeover");
    pub const TRANSACTION_FAILURE: Category = Category::built_in("transaction_failure");
    pub const FUNDS_NOT_ARRIVED: Category = Category::built_in("funds_not_arrived");
    pub const RECONCILIATION_MISMATCH: Category = Category::built_in("reconciliation_mismatch");
    pub const PERMISSION_CHANGE: Category = Category::built_in("permission_change");
    pub const PROFILE_CHANGE: Category = Category::built_in("profile_change");
    pub const VERIFICATION_CODE_NOT_RECEIVED: Category =
        Category::built_in("verification_code_not_received");
    pub const ACTIVATION_FAILURE: Category = Category::built_in("activation_failure");
    pub const PASSWORD_RESET: Category = Category::built_in("password_reset");
    pub const ACCOUNT_RESTRICTED: Category = Category::built_in("account_restricted");
    pub const KYC_REVIEW: Category = Category::built_in("kyc_review");
    pub const SECURITY_ALERT: Category = Category::built_in("security_alert");
    pub const COMPLAINT: Category = Category::built_in("complaint");
    pub const INQUIRY: Category = Category::built_in("inquiry");
    pub const TECHNICAL_FAULT: Category = Category::built_in("technical_fault");
    pub const FEATURE_REQUEST: Category = Category::built_in("feature_request");

    /// The product's categories, account-domain first: every organisation has them (it may
    /// retire them, never delete them).
    pub const BUILT_IN: &'static [Category] = &[
        Category::LOGIN_ANOMALY,
        Category::ACCOUNT_TAKEOVER,
        Category::TRANSACTION_FAILURE,
        Category::FUNDS_NOT_ARRIVED,
        Category::RECONCILIATION_MISMATCH,
        Category::PERMISSION_CHANGE,
        Category::PROFILE_CHANGE,
        Category::VERIFICATION_CODE_NOT_RECEIVED,
        Category::ACTIVATION_FAILURE,
        Category::PASSWORD_RESET,
        Category::ACCOUNT_RESTRICTED,
        Category::KYC_REVIEW,
        Category::SECURITY_ALERT,
        Category::COMPLAINT,
        Category::INQUIRY,
        Category::TECHNICAL_FAULT,
        Category::FEATURE_REQUEST,
    ];

    /// The built-in categories that do not touch a customer's account.
    const GENERAL: &'static [Category] = &[
        Category::COMPLAINT,
        Category::INQUIRY,
        Category::TECHNICAL_FAULT,
        Category::FEATURE_REQUEST,
    ];

    const fn built_in(code: &'static str) -> Category {
        Category(Code::BuiltIn(code))
    }

    /// A category from its code, checked.
    pub fn new(code: impl Into<String>) -> Result<Category, InvalidCategory> {
        let code = code.into();
        let ok = (2..=MAX_CATEGORY_CODE_CHARS).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(InvalidCategory { value: code });
        }
        Ok(
            match Category::BUILT_IN.iter().find(|c| c.as_str() == code) {
                Some(known) => known.clone(),
                None => Category(Code::Own(code.into_boxed_str())),
            },
        )
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Code::BuiltIn(code) => code,
            Code::Own(code) => code,
        }
    }

    pub fn is_built_in(&self) -> bool {
        matches!(self.0, Code::BuiltIn(_))
    }

    /// Account-domain categories: tickets in them touch a customer's account and are treated as
    /// sensitive (access is audited). Only the built-in general categories (complaint, inquiry,
    /// technical fault, feature request) are not; an organisation's own categories are, which
    /// is the safe side.
    pub fn is_account_domain(&self) -> bool {
        !Category::GENERAL.contains(self)
    }
}

impl std::hash::Hash for Category {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// By code, so lists sort the same way in every process.
impl Ord for Category {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Category {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = InvalidCategory;
    fn from_str(s: &str) -> Result<Self, InvalidCategory> {
        Category::new(s)
    }
}

impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Category::new(code).map_err(serde::de::Error::custom)
    }
}

/// The API document describes a category as its code: a pattern-constrained string.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Category {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A category code: one of the product's categories or one the organisation added \
                 to its catalogue.",
            ))
            .pattern(Some("^[a-z0-9_]{2,40}$"))
            .min_length(Some(2))
            .max_length(Some(MAX_CATEGORY_CODE_CHARS))
            .examples([serde_json::json!("login_anomaly")])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Category {}

named_enum! {
    pub enum Role {
        Agent => "agent",
        Supervisor => "supervisor",
        Admin => "admin",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Requester {
    pub name: String,
    /// E-mail address, phone number or chat handle, as the channel supplied it. No control
    /// characters; when it contains `@` it must be one e-mail address (`name@example.com`).
    pub contact: String,
    pub account_id: Option<String>,
    pub tier: CustomerTier,
}

named_enum! {
    pub enum LinkKind {
        Related => "related",
        DuplicateOf => "duplicate_of",
        ParentOf => "parent_of",
        ChildOf => "child_of",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TicketLink {
    pub kind: LinkKind,
    pub other: TicketId,
}

/// A satisfaction score at or below this reopens the ticket for second handling and a revisit
/// within 24 h (the seeds' rule); reports count such scores as low.
pub const LOW_CSAT_SCORE: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Csat {
    /// 1 (very unhappy) to 5 (very happy).
    pub score: u8,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

/// A span during which SLA clocks did not run (the ticket was `pending`). `end == None` means
/// the ticket is still paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PauseSpan {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Ticket {
    pub id: TicketId,
    /// Human key such as `OP-1042`, assigned by the server; `None` until the first sync.
    pub key: Option<String>,
    pub subject: String,
    pub description: String,
    pub requester: Requester,
    pub channel: Channel,
    /// BCP 47 tag of the customer's language (`zh-CN`, `en`); replies and templates follow it.
    pub language: String,
    pub category: Category,
    pub tags: BTreeSet<String>,
    pub priority: Priority,
    pub risk: RiskLevel,
    pub status: Status,
    pub assignee: Option<UserId>,
    pub department: Option<DepartmentCode>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// First public reply from the team (stops the first-response clock).
    pub first_response_at: Option<DateTime<Utc>>,
    /// Latest public reply from the team (restarts the periodic-update clock).
    pub last_update_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Set when a low CSAT score reopened the ticket: the revisit is due 24 h later.
    pub revisit_due_at: Option<DateTime<Utc>>,
    pub pauses: Vec<PauseSpan>,
    pub csat: Option<Csat>,
    pub links: Vec<TicketLink>,
    /// Server revision of this row; 0 for a ticket the server has not seen yet.
    pub revision: u64,
}

impl Ticket {
    /// Sensitive tickets (a risk level set, or an account-domain category) have their views
    /// recorded in the audit chain.
    pub fn is_sensitive(&self) -> bool {
        self.risk != RiskLevel::None || self.category.is_account_domain()
    }

    /// Whether SLA clocks are paused at the end of the recorded history.
    pub fn is_paused(&self) -> bool {
        self.pauses.last().is_some_and(|p| p.end.is_none())
    }
}

named_enum! {
    /// Identity-verification dimensions from the seeds (multi-factor checks before sensitive
    /// account actions).
    pub enum VerificationDimension {
        SmsCode => "sms_code",
        RealNameInfo => "real_name_info",
        TransactionPassword => "transaction_password",
        IdDocument => "id_document",
        UsualDevice => "usual_device",
        TransactionHabits => "transaction_habits",
        FaceLiveness => "face_liveness",
        EmailLink => "email_link",
    }
}

named_enum! {
    pub enum VerificationResult {
        Passed => "passed",
        Failed => "failed",
        NotAvailable => "not_available",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VerificationCheck {
    pub dimension: VerificationDimension,
    pub result: VerificationResult,
    /// How it was checked ("called back on registered number", "video call"…).
    pub method: String,
}

named_enum! {
    /// Emergency account actions from the risk seeds.
    pub enum RiskActionKind {
        FreezeAccount => "freeze_account",
        InterceptTransaction => "intercept_transaction",
        UnfreezeAccount => "unfreeze_account",
    }
}

named_enum! {
    pub enum EntryKind {
        CustomerMessage => "customer_message",
        Reply => "reply",
        Note => "note",
        Event => "event",
        Verification => "verification",
        RiskAction => "risk_action",
        Attachment => "attachment",
    }
}

/// What happened to a ticket, recorded in its timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TicketEvent {
    Created,
    StatusChanged {
        from: Status,
        to: Status,
        reason: Option<String>,
    },
    Reopened {
        from: Status,
        to: Status,
        reason: Option<String>,
    },
    PriorityChanged {
        from: Priority,
        to: Priority,
    },
    CategoryChanged {
        from: Category,
        to: Category,
    },
    RiskChanged {
        from: RiskLevel,
        to: RiskLevel,
    },
    AssigneeChanged {
        from: Option<UserId>,
        to: Option<UserId>,
    },
    DepartmentChanged {
        from: Option<DepartmentCode>,
        to: Option<DepartmentCode>,
    },
    TagAdded {
        tag: String,
    },
    TagRemoved {
        tag: String,
    },
    SubjectChanged,
    DescriptionChanged,
    /// The requester was corrected. Which fields changed, and the tier before and after; the
    /// customer's name and contact stay out of events (and so out of the audit chain).
    RequesterChanged {
        fields: Vec<String>,
        tier_from: CustomerTier,
        tier_to: CustomerTier,
    },
    Linked {
        link: TicketLink,
    },
    CsatReceived {
        score: u8,
    },
    /// An SLA clock passed its warning share (emitted by the server's SLA monitor).
    SlaAtRisk {
        clock: crate::sla::ClockKind,
        due_at: DateTime<Utc>,
    },
    /// An SLA clock passed its target.
    SlaBreached {
        clock: crate::sla::ClockKind,
        due_at: DateTime<Utc>,
    },
    /// A supervisor removed an entry's content (a privacy request, a leaked secret).
    EntryRedacted {
        entry_id: EntryId,
        kind: EntryKind,
        /// SHA-256 (hex) of the removed body's JSON, the same value the audit chain keeps.
        removed_sha256: String,
    },
}

/// The typed content of a timeline entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntryBody {
    CustomerMessage {
        text: String,
    },
    Reply {
        text: String,
    },
    Note {
        text: String,
    },
    Event {
        event: TicketEvent,
    },
    Verification {
        checks: Vec<VerificationCheck>,
    },
    RiskAction {
        action: RiskActionKind,
        target: String,
        reason: String,
    },
    Attachment {
        attachment_id: Uuid,
        filename: String,
        mime: String,
        size: u64,
        sha256: String,
    },
    /// What is left of an entry after redaction: no content, only who removed it, why, and the
    /// hash of what was removed (so the removal can be proven without keeping the text).
    Redacted {
        original: EntryKind,
        reason: String,
        by: Option<UserId>,
        at: DateTime<Utc>,
        removed_sha256: String,
    },
}

impl EntryBody {
    pub fn kind(&self) -> EntryKind {
        match self {
            EntryBody::CustomerMessage { .. } => EntryKind::CustomerMessage,
            EntryBody::Reply { .. } => EntryKind::Reply,
            EntryBody::Note { .. } => EntryKind::Note,
            EntryBody::Event { .. } => EntryKind::Event,
            EntryBody::Verification { .. } => EntryKind::Verification,
            EntryBody::RiskAction { .. } => EntryKind::RiskAction,
            EntryBody::Attachment { .. } => EntryKind::Attachment,
            EntryBody::Redacted { original, .. } => *original,
        }
    }

    /// Whether a supervisor may redact an entry of this kind: free text and files. Events,
    /// verification records and risk actions are evidence and stay.
    pub fn is_redactable(&self) -> bool {
        matches!(
            self,
            EntryBody::CustomerMessage { .. }
                | EntryBody::Reply { .. }
                | EntryBody::Note { .. }
                | EntryBody::Attachment { .. }
        )
    }

    /// SHA-256 (hex) of the body's JSON: what a redaction records about the removed content.
    pub fn content_sha256(&self) -> String {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(&json))
    }

    /// The free text a person wrote, for full-text search; `None` for structured entries.
    pub fn searchable_text(&self) -> Option<&str> {
        match self {
            EntryBody::CustomerMessage { text }
            | EntryBody::Reply { text }
            | EntryBody::Note { text } => Some(text),
            EntryBody::RiskAction { reason, .. } => Some(reason),
            EntryBody::Attachment { filename, .. } => Some(filename),
            EntryBody::Event { .. }
            | EntryBody::Verification { .. }
            | EntryBody::Redacted { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Entry {
    pub id: EntryId,
    pub ticket_id: TicketId,
    /// `None` for the customer or the system.
    pub author: Option<UserId>,
    pub body: EntryBody,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Department {
    pub code: DepartmentCode,
    pub name: String,
    /// A retired department is no longer offered; its tickets stay where they are.
    #[serde(default = "default_true")]
    pub active: bool,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub departments: Vec<DepartmentCode>,
    pub skills: Vec<String>,
    pub active: bool,
    /// Away (holiday, sick, off shift): dispatch skips them and the assignee picker says so.
    #[serde(default)]
    pub away: bool,
    /// The hours the person works each week, in the organisation's business-calendar time zone
    /// (dispatch reads it with `sla::calendar::on_shift`). `None`: no schedule, always available.
    /// Left out of the JSON when `None`: people without a schedule serialise as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub shifts: Option<crate::sla::calendar::WeeklyHours>,
}

/// A reply template in one language, with `{{customer.name}}`-style placeholders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Template {
    pub id: Uuid,
    pub name: String,
    pub language: String,
    pub body: String,
    pub categories: Vec<Category>,
    /// A macro: field changes applied with the text. Empty for a plain template.
    #[serde(default)]
    pub changes: crate::settings::MacroChanges,
    /// A retired template is no longer offered.
    #[serde(default = "default_true")]
    pub active: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_their_names() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(*s));
            assert_eq!(
                serde_json::to_string(s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        for c in Category::BUILT_IN {
            assert_eq!(c.as_str().parse::<Category>().as_ref(), Ok(c));
            assert_eq!(
                serde_json::to_string(c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
        }
        let err = "urgent".parse::<Priority>().unwrap_err();
        assert_eq!(err.to_string(), "`urgent` is not a known Priority");
    }

    #[test]
    fn category_codes_are_checked_wherever_they_are_read() {
        let own: Category = serde_json::from_str("\"merchant_onboarding\"").unwrap();
        assert_eq!(own.as_str(), "merchant_onboarding");
        assert!(!own.is_built_in());
        assert_eq!(
            serde_json::to_string(&own).unwrap(),
            "\"merchant_onboarding\""
        );
        assert_eq!("kyc_review".parse::<Category>(), Ok(Category::KYC_REVIEW));
        assert!(Category::KYC_REVIEW.is_built_in());
        let longest = "a".repeat(MAX_CATEGORY_CODE_CHARS);
        assert!(Category::new(longest.clone()).is_ok());
        for bad in [
            "",
            "x",
            "Login",
            "merchant-onboarding",
            "有效",
            "a b",
            "drop table;",
            &format!("{longest}a"),
        ] {
            let err = Category::new(bad).unwrap_err();
            assert!(
                err.to_string().contains("2 to 40 lowercase letters"),
                "{err}"
            );
            let json = serde_json::to_string(bad).unwrap();
            let err = serde_json::from_str::<Category>(&json).unwrap_err();
            assert!(err.to_string().contains("is not a category code"), "{err}");
        }
        assert!(serde_json::from_str::<Category>("17").is_err());
    }

    #[test]
    fn only_the_built_in_general_categories_are_outside_the_account_domain() {
        let general: Vec<&str> = Category::BUILT_IN
            .iter()
            .filter(|c| !c.is_account_domain())
            .map(Category::as_str)
            .collect();
        assert_eq!(
            general,
            ["complaint", "inquiry", "technical_fault", "feature_request"]
        );
        assert!(Category::new("merchant_onboarding")
            .unwrap()
            .is_account_domain());
        assert!(Category::new("general_question")
            .unwrap()
            .is_account_domain());
    }

    #[test]
    fn priority_orders_by_urgency() {
        assert!(Priority::P1 < Priority::P4);
    }

    fn requester(name: &str, contact: &str) -> Requester {
        Requester {
            name: name.into(),
            contact: contact.into(),
            account_id: None,
            tier: CustomerTier::Standard,
        }
    }

    #[test]
    fn e_mail_addresses_parse_as_one_addr_spec() {
        for ok in [
            "ann@example.com",
            "a.b+tag@mail.example.cn",
            "李@例子.中国",
            "x@localhost",
        ] {
            assert!(is_email_address(ok), "{ok}");
        }
        for bad in [
            "ann@",
            "@example.com",
            "ann@@example.com",
            "a..b@example.com",
            ".a@example.com",
            "ann@example..com",
            "ann@-example.com",
            "Ann <ann@example.com>",
            "ann@example.com, bob@example.com",
            "ann@example.com\r\nBcc: eve@example.com",
            "ann @example.com",
        ] {
            assert!(!is_email_address(bad), "{bad}");
        }
    }

    #[test]
    fn requesters_refuse_control_characters_oversize_and_bad_addresses() {
        assert_eq!(requester("Ann", "ann@example.com").validate(), Ok(()));
        assert_eq!(requester("王", "+86 138 0000 0000").validate(), Ok(()));
        let injected = requester("Ann", "ann@example.com\r\nBcc: eve@example.com").validate();
        assert_eq!(injected.unwrap_err().field, "requester.contact");
        for contact in ["a\nb", "a\0b", "a\u{85}b", "a\tb"] {
            assert!(requester("Ann", contact).validate().is_err(), "{contact:?}");
        }
        assert_eq!(
            requester("Ann\r\nX: y", "ann@example.com")
                .validate()
                .unwrap_err()
                .field,
            "requester.name"
        );
        assert!(requester("Ann", "bob@").validate().is_err());
        let long = "1".repeat(MAX_CONTACT_CHARS + 1);
        let err = requester("Ann", &long).validate().unwrap_err();
        assert!(err.problem.contains("limit is 254"), "{err}");
        assert!(requester("Ann", &"1".repeat(MAX_CONTACT_CHARS))
            .validate()
            .is_ok());
        assert!(requester(&"n".repeat(MAX_NAME_CHARS + 1), "b")
            .validate()
            .is_err());
        assert!(requester(" ", "b").validate().is_err());
        let mut r = requester("Ann", "b");
        r.account_id = Some("a".repeat(MAX_ACCOUNT_ID_CHARS + 1));
        assert!(r.validate().is_err());
    }

    #[test]
    fn language_tags_are_bcp47_shaped() {
        for ok in ["en", "zh-CN", "zh-Hant-TW", "es-419"] {
            assert_eq!(check_language(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "zh_CN",
            "en-",
            "-en",
            "1en",
            "en\r\nX: y",
            "toolongprimary",
            &"a".repeat(36),
        ] {
            assert!(check_language(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn user_fields_are_limited_and_headers_safe() {
        let ok = |name: &str, email: &str, skills: &[&str]| {
            let skills: Vec<String> = skills.iter().map(|s| (*s).to_owned()).collect();
            check_user_fields(name, email, &skills).map_err(|e| e.field)
        };
        assert_eq!(ok("Wang Fang", "wang@acme.example", &["kyc"]), Ok(()));
        assert_eq!(ok(" ", "wang@acme.example", &[]), Err("name"));
        assert_eq!(ok(&"x".repeat(201), "wang@acme.example", &[]), Err("name"));
        assert_eq!(
            ok("Wang\r\nBcc: x@y.z", "wang@acme.example", &[]),
            Err("name")
        );
        for bad in [
            "wang",
            "wang@acme.example\r\nBcc: x@y.z",
            "a@b@c",
            "Wang <w@a.example>",
        ] {
            assert_eq!(ok("Wang", bad, &[]), Err("email"), "{bad:?}");
        }
        assert_eq!(
            ok("Wang", &format!("{}@a.example", "w".repeat(250)), &[]),
            Err("email")
        );
        assert_eq!(ok("Wang", "w@a.example", &[""]), Err("skills"));
        assert_eq!(ok("Wang", "w@a.example", &[&"s".repeat(65)]), Err("skills"));
        let many: Vec<&str> = std::iter::repeat_n("kyc", MAX_SKILLS + 1).collect();
        assert_eq!(ok("Wang", "w@a.example", &many), Err("skills"));
    }
}

/// Longest requester name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest contact (e-mail address, phone number or chat handle), in characters; 254 is the
/// longest e-mail address SMTP can carry.
pub const MAX_CONTACT_CHARS: usize = 254;
/// Longest customer account id, in characters.
pub const MAX_ACCOUNT_ID_CHARS: usize = 128;
/// Longest language tag, in characters (RFC 5646 asks implementations to accept 35).
pub const MAX_LANGUAGE_CHARS: usize = 35;

/// A field that failed validation and why, in English (shown to the caller as `{code, message}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub problem: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

impl std::error::Error for FieldError {}

fn field_error(field: &'static str, problem: impl Into<String>) -> FieldError {
    FieldError {
        field,
        problem: problem.into(),
    }
}

/// Checks a value that may end up in a message header (e-mail `To`/`Subject`, a connector's
/// request line): at most `max_chars` characters and no control characters (C0, DEL, C1), so
/// CR/LF can never inject a header.
pub fn check_header_text(
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> Result<(), FieldError> {
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(field_error(
            field,
            format!("is {chars} characters; the limit is {max_chars}"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(field_error(
            field,
            "must not contain control characters (line breaks, tabs, NUL)",
        ));
    }
    Ok(())
}

/// Whether `address` is one RFC 5322 addr-spec (`local@domain`) in the dot-atom form mail
/// systems exchange: no display name, comments, quoted local parts or address literals.
pub fn is_email_address(address: &str) -> bool {
    const ATEXT: &str = "!#$%&'*+-/=?^_`{|}~";
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let atom_ok = |atom: &str| {
        !atom.is_empty()
            && atom
                .chars()
                .all(|c| c.is_alphanumeric() || ATEXT.contains(c))
    };
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.chars().count() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    local.len() <= 64
        && local.split('.').all(atom_ok)
        && domain.len() <= 253
        && domain.split('.').all(label_ok)
}

/// Checks a BCP 47 language tag's shape: 1 to 35 characters, ASCII letters and digits in
/// subtags of 1 to 8 separated by `-`, the first made of letters (`en`, `zh-CN`, `zh-Hant-TW`).
pub fn check_language(language: &str) -> Result<(), FieldError> {
    check_header_text("language", language, MAX_LANGUAGE_CHARS)?;
    let mut subtags = language.split('-');
    let primary_ok = subtags
        .next()
        .is_some_and(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    if !primary_ok
        || !subtags
            .all(|s| (1..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(field_error(
            "language",
            "must be a BCP 47 language tag such as en or zh-CN",
        ));
    }
    Ok(())
}

/// Most skills one user may have.
pub const MAX_SKILLS: usize = 32;
/// Longest skill name, in characters.
pub const MAX_SKILL_CHARS: usize = 64;

/// Checks a new team member's name, e-mail address and skills before the account is stored:
/// the name and address reach mail headers (invitations, notifications), so the same limits as
/// a requester's apply, and the address must be one e-mail address.
pub fn check_user_fields(name: &str, email: &str, skills: &[String]) -> Result<(), FieldError> {
    if name.trim().is_empty() {
        return Err(field_error("name", "must not be empty"));
    }
    check_header_text("name", name, MAX_NAME_CHARS)?;
    check_header_text("email", email, MAX_CONTACT_CHARS)?;
    if !is_email_address(email.trim()) {
        return Err(field_error(
            "email",
            "is not a valid e-mail address (expected name@example.com)",
        ));
    }
    if skills.len() > MAX_SKILLS {
        return Err(field_error(
            "skills",
            format!("has {} entries; the limit is {MAX_SKILLS}", skills.len()),
        ));
    }
    for skill in skills {
        if skill.trim().is_empty() {
            return Err(field_error("skills", "must not contain an empty skill"));
        }
        check_header_text("skills", skill, MAX_SKILL_CHARS)?;
    }
    Ok(())
}

impl Requester {
    /// Checks every field before the requester is stored or reaches a connector: sizes, no
    /// control characters in anything that can reach a header, and a contact containing `@`
    /// must be one e-mail address.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.name.trim().is_empty() {
            return Err(field_error("requester.name", "must not be empty"));
        }
        check_header_text("requester.name", &self.name, MAX_NAME_CHARS)?;
        if self.contact.trim().is_empty() {
            return Err(field_error("requester.contact", "must not be empty"));
        }
        check_header_text("requester.contact", &self.contact, MAX_CONTACT_CHARS)?;
        if self.contact.contains('@') && !is_email_address(&self.contact) {
            return Err(field_error(
                "requester.contact",
                "is not a valid e-mail address (expected name@example.com)",
            ));
        }
        if let Some(account) = &self.account_id {
            check_header_text("requester.account_id", account, MAX_ACCOUNT_ID_CHARS)?;
        }
        Ok(())
    }
}
