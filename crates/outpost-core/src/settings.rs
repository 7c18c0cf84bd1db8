//! The organisation's settings: versioned documents that every cache holds.
//!
//! An admin changes them with intents like any other change (`settings.set`, `department.put`,
//! `template.put`); [`apply_admin`] is the one implementation of what such an intent does, run
//! optimistically by the client and authoritatively by the server. A settings document carries
//! a version: an edit names the version it was made on, and is refused when someone changed the
//! document since (an admin's offline edit never silently overwrites a newer one).
//!
//! The SLA engine, classification, dispatch and the verification gate read these documents,
//! never compiled-in values; [`OrgSettings::defaults`] is only what a new organisation starts
//! with.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::apply::{normalize_tag, Rejection};
use crate::files::AttachmentPolicy;
use crate::model::{
    check_header_text, Category, Department, DepartmentCode, Priority, Role, Status, Template,
    UserId,
};
use crate::rules::{RuleSet, VerificationPolicy};
use crate::sla::SlaSettings;
use crate::sync::Mutation;

/// Longest organisation, form or category name, in characters.
pub const MAX_SETTINGS_NAME_CHARS: usize = 200;
/// Longest department code, in characters (`[a-z0-9_-]`).
pub const MAX_DEPARTMENT_CODE_CHARS: usize = 32;
/// Largest form logo, in bytes of the decoded image.
pub const MAX_LOGO_BYTES: usize = 64 * 1024;
/// Longest template or macro body, in characters.
pub const MAX_TEMPLATE_BODY_CHARS: usize = 10_000;
/// Placeholders a template body may use; the desktop fills them in the ticket's language.
pub const TEMPLATE_PLACEHOLDERS: &[&str] = &[
    "customer.name",
    "ticket.key",
    "ticket.subject",
    "agent.name",
];
/// Languages templates, the form and the app ship in.
pub const LANGUAGES: &[&str] = &["en", "zh-CN"];

/// Which settings document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SettingsKind {
    Organisation,
    Sla,
    Rules,
    Verification,
    Catalogue,
}

impl SettingsKind {
    pub const ALL: &'static [SettingsKind] = &[
        SettingsKind::Organisation,
        SettingsKind::Sla,
        SettingsKind::Rules,
        SettingsKind::Verification,
        SettingsKind::Catalogue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SettingsKind::Organisation => "organisation",
            SettingsKind::Sla => "sla",
            SettingsKind::Rules => "rules",
            SettingsKind::Verification => "verification",
            SettingsKind::Catalogue => "catalogue",
        }
    }
}

/// Who the organisation is and how it greets customers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct OrgProfile {
    pub name: String,
    /// Where a new ticket goes when nothing else places it (the creator works in no department,
    /// no rule names one), so no ticket is ever left where nobody can see it.
    pub default_department: Option<DepartmentCode>,
    /// Every user must sign in with a second factor.
    #[serde(default)]
    pub require_two_factor: bool,
    pub form: FormBranding,
    /// What customers may attach (the public form, the status page, the intake API).
    #[serde(default)]
    pub attachments: AttachmentPolicy,
}

/// The customer form's look and promise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct FormBranding {
    /// The form's heading; the organisation's name when empty.
    #[serde(default)]
    pub title: String,
    /// A PNG logo, base64 (standard alphabet), at most [`MAX_LOGO_BYTES`] decoded.
    #[serde(default)]
    pub logo_png_base64: Option<String>,
    /// `#rrggbb`.
    pub accent_colour: String,
    /// `en` or `zh-CN`: the form's language when the browser asks for neither.
    pub default_language: String,
    /// "We answer within N hours", shown on the form; `None` promises nothing.
    #[serde(default)]
    pub response_promise_hours: Option<u32>,
}

/// A category as the organisation names it: one of the product's ([`Category::BUILT_IN`], which
/// the organisation may rename and retire but never delete) or one it added (with both names).
/// A retired category is no longer offered for new tickets, category changes, rules or SLA
/// policies; tickets already in it keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct CategoryEntry {
    pub category: Category,
    /// Display names; an empty one falls back to the product's own label (a category the
    /// organisation added needs both).
    #[serde(default)]
    pub label_en: String,
    #[serde(default)]
    pub label_zh: String,
    #[serde(default)]
    pub retired: bool,
}

/// A tag the organisation suggests to its agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct TagEntry {
    pub tag: String,
    #[serde(default)]
    pub retired: bool,
}

/// Categories and tags as the organisation uses them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    #[serde(default)]
    pub categories: Vec<CategoryEntry>,
    #[serde(default)]
    pub tags: Vec<TagEntry>,
}

impl Catalogue {
    /// Whether new tickets, category changes, rules and SLA policies may use `category`.
    pub fn offers(&self, category: &Category) -> bool {
        self.why_not_offered(category).is_none()
    }

    /// Why `category` may not be used, for a refusal; `None` when it is in use.
    pub fn why_not_offered(&self, category: &Category) -> Option<String> {
        match self.categories.iter().find(|e| e.category == *category) {
            Some(entry) if entry.retired => Some(format!(
                "{category} is retired by the organisation; choose a category in use"
            )),
            Some(_) => None,
            None if category.is_built_in() => None,
            None => Some(format!(
                "{category} is not one of the organisation's categories; choose one in use or \
                 add it to the catalogue first"
            )),
        }
    }

    /// Whether tickets can be in `category` at all: a built-in one or one the organisation
    /// added, retired or not.
    pub fn knows(&self, category: &Category) -> bool {
        category.is_built_in() || self.categories.iter().any(|e| e.category == *category)
    }

    /// Every category tickets can be in, retired ones too: the product's in their order, then
    /// the organisation's own in the catalogue's order.
    fn known_in_order(&self) -> impl Iterator<Item = &Category> {
        let own = self
            .categories
            .iter()
            .map(|e| &e.category)
            .filter(|c| !c.is_built_in());
        Category::BUILT_IN.iter().chain(own)
    }

    /// The categories in use: the product's in their order, then the organisation's own in the
    /// catalogue's order.
    pub fn in_use(&self) -> Vec<Category> {
        self.known_in_order()
            .filter(|c| self.offers(c))
            .cloned()
            .collect()
    }

    /// Every category the organisation has, in the order of [`Catalogue::in_use`] with the
    /// retired ones in their place: each with the catalogue's names (empty where it names none)
    /// and `retired` set exactly when it is not in use. This is what the desk draws its
    /// category controls from.
    pub fn listing(&self) -> Vec<CategoryEntry> {
        let in_use = self.in_use();
        self.known_in_order()
            .map(|category| {
                let named = self.categories.iter().find(|e| e.category == *category);
                CategoryEntry {
                    category: category.clone(),
                    label_en: named.map(|e| e.label_en.clone()).unwrap_or_default(),
                    label_zh: named.map(|e| e.label_zh.clone()).unwrap_or_default(),
                    retired: !in_use.contains(category),
                }
            })
            .collect()
    }
}

/// One settings document. On the wire `{"kind": "sla", "doc": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", content = "doc", rename_all = "snake_case")]
pub enum SettingsDoc {
    Organisation(OrgProfile),
    Sla(SlaSettings),
    Rules(RuleSet),
    Verification(VerificationPolicy),
    Catalogue(Catalogue),
}

/// The API document describes a settings document as `{kind, doc}`; the documents themselves
/// (calendars, rule trees) are validated by the server with messages that name the field.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for SettingsDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .property(
                "kind",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(SettingsKind::ALL.iter().map(|k| k.as_str()))),
            )
            .property("doc", ObjectBuilder::new().schema_type(Type::Object))
            .required("kind")
            .required("doc")
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for SettingsDoc {}

impl SettingsDoc {
    pub fn kind(&self) -> SettingsKind {
        match self {
            SettingsDoc::Organisation(_) => SettingsKind::Organisation,
            SettingsDoc::Sla(_) => SettingsKind::Sla,
            SettingsDoc::Rules(_) => SettingsKind::Rules,
            SettingsDoc::Verification(_) => SettingsKind::Verification,
            SettingsDoc::Catalogue(_) => SettingsKind::Catalogue,
        }
    }
}

/// A settings document as the server keeps it: which version, who changed it last and when.
/// Version 0 is the product default nobody has changed yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VersionedSettings {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub version: u64,
    pub updated_by: Option<UserId>,
    pub updated_at: Option<DateTime<Utc>>,
    pub settings: SettingsDoc,
}

/// Every settings document of an organisation: what a cache or the server works with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OrgSettings {
    pub organisation: VersionedSettings,
    pub sla: VersionedSettings,
    pub rules: VersionedSettings,
    pub verification: VersionedSettings,
    pub catalogue: VersionedSettings,
}

impl OrgSettings {
    /// What a new organisation starts with: the product's fintech defaults (PRODUCT.md).
    pub fn defaults() -> OrgSettings {
        let v0 = |settings| VersionedSettings {
            version: 0,
            updated_by: None,
            updated_at: None,
            settings,
        };
        OrgSettings {
            organisation: v0(SettingsDoc::Organisation(OrgProfile {
                name: "Outpost".into(),
                default_department: Some("support".into()),
                require_two_factor: false,
                form: FormBranding {
                    title: String::new(),
                    logo_png_base64: None,
                    accent_colour: "#2563eb".into(),
                    default_language: "zh-CN".into(),
                    response_promise_hours: None,
                },
                attachments: AttachmentPolicy::default(),
            })),
            sla: v0(SettingsDoc::Sla(SlaSettings::defaults())),
            rules: v0(SettingsDoc::Rules(RuleSet::defaults())),
            verification: v0(SettingsDoc::Verification(VerificationPolicy::default())),
            catalogue: v0(SettingsDoc::Catalogue(Catalogue::default())),
        }
    }

    pub fn get(&self, kind: SettingsKind) -> &VersionedSettings {
        match kind {
            SettingsKind::Organisation => &self.organisation,
            SettingsKind::Sla => &self.sla,
            SettingsKind::Rules => &self.rules,
            SettingsKind::Verification => &self.verification,
            SettingsKind::Catalogue => &self.catalogue,
        }
    }

    /// Replaces the document of `doc`'s kind.
    pub fn put(&mut self, doc: VersionedSettings) {
        let slot = match doc.settings.kind() {
            SettingsKind::Organisation => &mut self.organisation,
            SettingsKind::Sla => &mut self.sla,
            SettingsKind::Rules => &mut self.rules,
            SettingsKind::Verification => &mut self.verification,
            SettingsKind::Catalogue => &mut self.catalogue,
        };
        *slot = doc;
    }

    pub fn profile(&self) -> &OrgProfile {
        match &self.organisation.settings {
            SettingsDoc::Organisation(p) => p,
            _ => unreachable!("OrgSettings::put keeps each document in its own slot"),
        }
    }

    pub fn sla_settings(&self) -> &SlaSettings {
        match &self.sla.settings {
            SettingsDoc::Sla(s) => s,
            _ => unreachable!("OrgSettings::put keeps each document in its own slot"),
        }
    }

    pub fn rule_set(&self) -> &RuleSet {
        match &self.rules.settings {
            SettingsDoc::Rules(r) => r,
            _ => unreachable!("OrgSettings::put keeps each document in its own slot"),
        }
    }

    pub fn verification_policy(&self) -> &VerificationPolicy {
        match &self.verification.settings {
            SettingsDoc::Verification(v) => v,
            _ => unreachable!("OrgSettings::put keeps each document in its own slot"),
        }
    }

    pub fn catalogue(&self) -> &Catalogue {
        match &self.catalogue.settings {
            SettingsDoc::Catalogue(c) => c,
            _ => unreachable!("OrgSettings::put keeps each document in its own slot"),
        }
    }
}

/// Field changes a macro makes besides inserting its text. Each is applied as its own ticket
/// intent, so the status machine and the permission checks judge it as if made by hand.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default, deny_unknown_fields)]
pub struct MacroChanges {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub add_tags: Vec<String>,
}

impl MacroChanges {
    pub fn is_empty(&self) -> bool {
        self == &MacroChanges::default()
    }
}

/// What the admin intents are checked against: the current settings, departments and
/// templates (server truth on the server; the cache's view on a client).
#[derive(Debug, Clone, Copy)]
pub struct AdminFacts<'a> {
    pub settings: &'a OrgSettings,
    pub departments: &'a [Department],
    pub templates: &'a [Template],
}

/// What an admin intent changed: the new document and its before/after for the audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminApplied {
    pub change: AdminChange,
    /// The audited values before and after (whole documents; settings hold no customer text).
    pub before: Option<serde_json::Value>,
    pub after: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminChange {
    Settings(VersionedSettings),
    Department(Department),
    Template(Template),
}

fn invalid(field: &str, problem: impl Into<String>) -> Rejection {
    Rejection::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// Applies an admin intent (`settings.set`, `department.put`, `template.put`). `role` is the
/// actor's; `None` is the server itself (`settings import`, `init`). Only admins may.
pub fn apply_admin(
    facts: &AdminFacts<'_>,
    mutation: &Mutation,
    actor: Option<UserId>,
    role: Option<Role>,
    now: DateTime<Utc>,
) -> Result<AdminApplied, Rejection> {
    if !matches!(role, None | Some(Role::Admin)) {
        return Err(Rejection::Forbidden(format!(
            "{} changes the organisation's settings; only an admin may",
            mutation.name()
        )));
    }
    match mutation {
        Mutation::SetSettings {
            base_version,
            settings,
        } => {
            let current = facts.settings.get(settings.kind());
            if current.version != *base_version {
                return Err(Rejection::Stale(format!(
                    "the {} settings were changed (version {}) after this edit was made on \
                     version {}; open them again and redo the change",
                    settings.kind().as_str(),
                    current.version,
                    base_version
                )));
            }
            check_settings(settings, facts)?;
            let next = VersionedSettings {
                version: current.version + 1,
                updated_by: actor,
                updated_at: Some(now),
                settings: settings.clone(),
            };
            Ok(AdminApplied {
                before: Some(to_json(&current.settings)),
                after: to_json(&next.settings),
                change: AdminChange::Settings(next),
            })
        }
        Mutation::PutDepartment(department) => {
            check_department(department, facts)?;
            let before = facts.departments.iter().find(|d| d.code == department.code);
            Ok(AdminApplied {
                before: before.map(to_json),
                after: to_json(department),
                change: AdminChange::Department(department.clone()),
            })
        }
        Mutation::PutTemplate(template) => {
            check_template(template)?;
            let catalogue = facts.settings.catalogue();
            if let Some(unknown) = template.categories.iter().find(|c| !catalogue.knows(c)) {
                return Err(invalid(
                    "categories",
                    format!("{unknown} is not one of the organisation's categories"),
                ));
            }
            let before = facts.templates.iter().find(|t| t.id == template.id);
            if facts.templates.iter().any(|t| {
                t.id != template.id
                    && t.active
                    && template.active
                    && t.language == template.language
                    && t.name == template.name
            }) {
                return Err(invalid(
                    "name",
                    format!(
                        "another {} template is called {:?}; give this one another name",
                        template.language, template.name
                    ),
                ));
            }
            Ok(AdminApplied {
                before: before.map(to_json),
                after: to_json(template),
                change: AdminChange::Template(template.clone()),
            })
        }
        other => Err(invalid(
            "name",
            format!("{} is a ticket intent, not an admin one", other.name()),
        )),
    }
}

fn check_name(field: &str, value: &str) -> Result<(), Rejection> {
    if value.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    check_header_text("name", value, MAX_SETTINGS_NAME_CHARS).map_err(|e| invalid(field, e.problem))
}

fn department_usable(facts: &AdminFacts<'_>, code: &str) -> bool {
    facts.departments.iter().any(|d| d.code == code && d.active)
}

/// Checks a settings document on its own and against the directory.
pub fn check_settings(doc: &SettingsDoc, facts: &AdminFacts<'_>) -> Result<(), Rejection> {
    match doc {
        SettingsDoc::Organisation(profile) => check_profile(profile, facts),
        SettingsDoc::Sla(sla) => {
            sla.validate().map_err(|e| invalid("sla", e.to_string()))?;
            let catalogue = facts.settings.catalogue();
            for policy in &sla.policies {
                if let Some(why) = policy
                    .category
                    .as_ref()
                    .and_then(|c| catalogue.why_not_offered(c))
                {
                    return Err(invalid(
                        "sla",
                        format!("policy {:?} is narrowed to {why}", policy.name),
                    ));
                }
            }
            Ok(())
        }
        SettingsDoc::Rules(rules) => {
            rules.validate().map_err(|errors| {
                let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
                invalid("rules", all.join("; "))
            })?;
            let catalogue = facts.settings.catalogue();
            for rule in &rules.rules {
                if let Some(why) = rule
                    .then
                    .category
                    .as_ref()
                    .and_then(|c| catalogue.why_not_offered(c))
                {
                    return Err(invalid(
                        "rules",
                        format!("rule {:?} files tickets under {why}", rule.name),
                    ));
                }
                if let Some(code) = &rule.then.department {
                    if !department_usable(facts, code) {
                        return Err(invalid(
                            "rules",
                            format!(
                                "rule {:?} sends tickets to department {code:?}, which does not \
                                 exist or is retired",
                                rule.name
                            ),
                        ));
                    }
                }
            }
            Ok(())
        }
        SettingsDoc::Verification(policy) => policy
            .validate()
            .map_err(|problem| invalid("verification", problem)),
        SettingsDoc::Catalogue(catalogue) => check_catalogue(catalogue, facts),
    }
}

fn check_profile(profile: &OrgProfile, facts: &AdminFacts<'_>) -> Result<(), Rejection> {
    check_name("name", &profile.name)?;
    if let Some(code) = &profile.default_department {
        if !department_usable(facts, code) {
            return Err(invalid(
                "default_department",
                format!("department {code:?} does not exist or is retired"),
            ));
        }
    }
    let form = &profile.form;
    if !form.title.is_empty() {
        check_name("form.title", &form.title)?;
    }
    let colour = form.accent_colour.as_bytes();
    if colour.len() != 7 || colour[0] != b'#' || !colour[1..].iter().all(u8::is_ascii_hexdigit) {
        return Err(invalid(
            "form.accent_colour",
            "must be a colour written #rrggbb, such as #2563eb",
        ));
    }
    if !LANGUAGES.contains(&form.default_language.as_str()) {
        return Err(invalid(
            "form.default_language",
            format!("must be one of {}", LANGUAGES.join(", ")),
        ));
    }
    if form
        .response_promise_hours
        .is_some_and(|h| h == 0 || h > 24 * 30)
    {
        return Err(invalid(
            "form.response_promise_hours",
            "must be between 1 and 720 hours",
        ));
    }
    if let Some(logo) = &form.logo_png_base64 {
        check_logo(logo)?;
    }
    profile
        .attachments
        .validate()
        .map_err(|problem| invalid("attachments", problem))?;
    Ok(())
}

/// The decoded length of standard base64 without decoding; also checks the alphabet.
fn check_logo(logo: &str) -> Result<(), Rejection> {
    let bytes = logo.as_bytes();
    let alphabet_ok = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if !alphabet_ok || !bytes.len().is_multiple_of(4) {
        return Err(invalid("form.logo_png_base64", "is not base64"));
    }
    if bytes.len() / 4 * 3 > MAX_LOGO_BYTES + 2 {
        return Err(invalid(
            "form.logo_png_base64",
            format!("the logo is larger than {} KiB", MAX_LOGO_BYTES / 1024),
        ));
    }
    // A PNG starts with 0x89 'P' 'N' 'G', which is "iVBORw" in base64.
    if !logo.starts_with("iVBORw") {
        return Err(invalid("form.logo_png_base64", "must be a PNG image"));
    }
    Ok(())
}

fn check_catalogue(catalogue: &Catalogue, facts: &AdminFacts<'_>) -> Result<(), Rejection> {
    let mut seen = BTreeSet::new();
    for entry in &catalogue.categories {
        if !seen.insert(&entry.category) {
            return Err(invalid(
                "categories",
                format!("{} is listed twice; keep one entry", entry.category),
            ));
        }
        if !entry.category.is_built_in()
            && (entry.label_en.trim().is_empty() || entry.label_zh.trim().is_empty())
        {
            return Err(invalid(
                "categories",
                format!("{} needs an English and a Chinese name", entry.category),
            ));
        }
        for label in [&entry.label_en, &entry.label_zh] {
            if !label.is_empty() {
                check_name("categories", label)?;
            }
        }
    }
    // Tickets may be in a category the organisation added: it can be retired, never dropped,
    // so its names stay.
    if let Some(dropped) = facts
        .settings
        .catalogue()
        .categories
        .iter()
        .map(|e| &e.category)
        .find(|c| !c.is_built_in() && !catalogue.knows(c))
    {
        return Err(invalid(
            "categories",
            format!("{dropped} cannot be deleted, only retired: tickets may be filed under it"),
        ));
    }
    if catalogue.in_use().is_empty() {
        return Err(invalid(
            "categories",
            "at least one category must stay in use",
        ));
    }
    let mut tags = BTreeSet::new();
    for entry in &catalogue.tags {
        if normalize_tag(&entry.tag)? != entry.tag {
            return Err(invalid(
                "tags",
                format!(
                    "{:?} must be written in lower case without spaces",
                    entry.tag
                ),
            ));
        }
        if !tags.insert(entry.tag.as_str()) {
            return Err(invalid(
                "tags",
                format!("{:?} is listed twice; keep one entry", entry.tag),
            ));
        }
    }
    Ok(())
}

fn check_department(department: &Department, facts: &AdminFacts<'_>) -> Result<(), Rejection> {
    let code = department.code.as_str();
    let code_ok = !code.is_empty()
        && code.len() <= MAX_DEPARTMENT_CODE_CHARS
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'));
    if !code_ok {
        return Err(invalid(
            "code",
            format!(
                "must be 1 to {MAX_DEPARTMENT_CODE_CHARS} lowercase letters, digits, _ or - \
                 (such as billing)"
            ),
        ));
    }
    check_name("name", &department.name)?;
    if !department.active {
        if facts.settings.profile().default_department.as_deref() == Some(code) {
            return Err(invalid(
                "active",
                "this is the organisation's default department; choose another default first",
            ));
        }
        if facts
            .departments
            .iter()
            .filter(|d| d.active && d.code != code)
            .count()
            == 0
        {
            return Err(invalid("active", "the last department cannot be retired"));
        }
    }
    Ok(())
}

/// Checks a template or macro: name, language, body and placeholders, and its field changes.
pub fn check_template(template: &Template) -> Result<(), Rejection> {
    check_name("name", &template.name)?;
    if !LANGUAGES.contains(&template.language.as_str()) {
        return Err(invalid(
            "language",
            format!(
                "{:?} is not a language Outpost ships ({})",
                template.language,
                LANGUAGES.join(", ")
            ),
        ));
    }
    if template.body.trim().is_empty() || template.body.chars().count() > MAX_TEMPLATE_BODY_CHARS {
        return Err(invalid(
            "body",
            format!("needs 1 to {MAX_TEMPLATE_BODY_CHARS} characters"),
        ));
    }
    if template.body.contains('\0') {
        return Err(invalid("body", "must not contain NUL characters"));
    }
    check_placeholders(&template.body)?;
    for tag in &template.changes.add_tags {
        normalize_tag(tag)?;
    }
    if template.changes.add_tags.len() > crate::apply::MAX_TAGS {
        return Err(invalid(
            "changes.add_tags",
            format!("at most {} tags", crate::apply::MAX_TAGS),
        ));
    }
    Ok(())
}

/// Every `{{…}}` in `body` names a known placeholder.
pub fn check_placeholders(body: &str) -> Result<(), Rejection> {
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| invalid("body", "has a {{ that is never closed with }}"))?;
        let name = after[..end].trim();
        if !TEMPLATE_PLACEHOLDERS.contains(&name) {
            return Err(invalid(
                "body",
                format!(
                    "unknown placeholder {{{{{name}}}}}; known: {}",
                    TEMPLATE_PLACEHOLDERS.join(", ")
                ),
            ));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

#[cfg(test)]
mod tests;
