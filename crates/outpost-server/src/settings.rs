//! The organisation's settings on the server: the settings documents (organisation profile and
//! form, SLA policies and calendar, classification rules, verification policy, catalogue),
//! departments and reply templates.
//!
//! An admin changes them with the intents `settings.set`, `department.put` and `template.put`,
//! pushed like every other mutation (so an offline edit queues in the outbox). [`apply`] decides
//! them with `outpost_core::settings::apply_admin` (the code the client runs optimistically)
//! against what this transaction reads, writes the row with a new change sequence number (so
//! every client pulls it), and appends the audit event with the document before and after. The
//! server's own changes (`settings import`, the demo's templates, `department add`) take the
//! same path as the server origin.
//!
//! Nothing is cached: everything that depends on the settings (the SLA monitor, intake, the
//! verification gate, the customer form) reads them where it runs ([`load`], five rows by
//! primary key), so several instances never disagree for longer than a commit.

use outpost_core::apply::Rejection;
use outpost_core::model::{Department, Template};
use outpost_core::rules::{RuleSet, VerificationPolicy};
use outpost_core::settings::{
    apply_admin, AdminApplied, AdminChange, AdminFacts, Catalogue, OrgProfile, SettingsDoc,
    SettingsKind, VersionedSettings,
};
use outpost_core::sla::SlaSettings;
use outpost_core::sync::Mutation;
use toml::Spanned;

use crate::audit::AuditEntry;
use crate::change::Origin;
use crate::db::{next, Db, WriteTx};

pub use crate::settings_docs::{decode, departments, load, load_from, templates};

/// What [`apply`] answers a push with: the settings document's new version, 0 for a department
/// or a template (they carry no version).
pub(crate) fn revision(applied: &AdminApplied) -> u64 {
    match &applied.change {
        AdminChange::Settings(v) => v.version,
        AdminChange::Department(_) | AdminChange::Template(_) => 0,
    }
}

/// Decides an admin intent from `origin` against the settings, departments and templates read
/// in `tx`, and when accepted writes it (a new change sequence number, so clients pull it) and
/// its audit event. `Ok(Err(_))` is a refusal (an agent or supervisor, an invalid document, an
/// edit made on an older version); nothing was written.
pub(crate) async fn apply(
    tx: &mut WriteTx,
    origin: Origin<'_>,
    mutation_id: Option<u64>,
    mutation: &Mutation,
) -> anyhow::Result<Result<AdminApplied, Rejection>> {
    let settings = load(tx).await?;
    let departments = departments(tx).await?;
    let templates = match mutation {
        Mutation::PutTemplate(_) => templates(tx).await?,
        _ => Vec::new(),
    };
    let facts = AdminFacts {
        settings: &settings,
        departments: &departments,
        templates: &templates,
    };
    let user = origin.user();
    let applied = match apply_admin(
        &facts,
        mutation,
        user.map(|u| u.id),
        user.map(|u| u.role),
        crate::db::now(),
    ) {
        Ok(applied) => applied,
        Err(rejection) => return Ok(Err(rejection)),
    };
    let seq = next(tx, "change_seq").await?;
    let target = match &applied.change {
        AdminChange::Settings(doc) => {
            write_settings(tx, doc, seq).await?;
            serde_json::json!({ "kind": doc.settings.kind().as_str() })
        }
        AdminChange::Department(d) => {
            sqlx::query(
                "INSERT INTO departments (code, name, active, seq) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (code) DO UPDATE SET name = $2, active = $3, seq = $4",
            )
            .bind(&d.code)
            .bind(&d.name)
            .bind(i64::from(d.active))
            .bind(seq)
            .execute(&mut **tx)
            .await?;
            serde_json::json!({ "department": d.code })
        }
        AdminChange::Template(t) => {
            sqlx::query(
                "INSERT INTO templates (id, name, language, doc, seq) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET name = $2, language = $3, doc = $4, seq = $5",
            )
            .bind(t.id.to_string())
            .bind(&t.name)
            .bind(&t.language)
            .bind(serde_json::to_string(t)?)
            .bind(seq)
            .execute(&mut **tx)
            .await?;
            serde_json::json!({ "template": t.id })
        }
    };
    let device = match origin {
        Origin::Device { device_id, .. } => Some(device_id),
        Origin::Server { .. } => None,
    };
    AuditEntry::admin_changed(
        &origin.actor(),
        device,
        origin.address(),
        mutation.name(),
        mutation_id,
        target,
        applied.before.as_ref(),
        &applied.after,
    )?
    .append(tx)
    .await?;
    Ok(Ok(applied))
}

async fn write_settings(tx: &mut WriteTx, doc: &VersionedSettings, seq: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO settings (kind, version, doc, updated_by, updated_at, seq) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (kind) DO UPDATE SET version = $2, doc = $3, updated_by = $4, updated_at = $5, seq = $6",
    )
    .bind(doc.settings.kind().as_str())
    .bind(doc.version as i64)
    .bind(serde_json::to_string(&doc.settings)?)
    .bind(doc.updated_by.map(|u| u.to_string()))
    .bind(doc.updated_at.map(|t| t.timestamp_millis()))
    .bind(seq)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An admin intent made by the server itself (`actor` is its audit name, such as `cli`),
/// decided and written like a pushed one. A refusal is an error naming the field.
pub async fn apply_as_server(
    tx: &mut WriteTx,
    actor: &str,
    mutation: &Mutation,
) -> anyhow::Result<AdminApplied> {
    let origin = Origin::Server {
        actor,
        address: None,
    };
    apply(tx, origin, None, mutation)
        .await?
        .map_err(|rejection| anyhow::anyhow!("{}: {rejection}", mutation.name()))
}

/// What `outpost-server settings export` writes and `settings import` reads: every settings
/// document, the departments and the templates, as TOML (configuration as code).
#[derive(serde::Serialize)]
struct ExportFile<'a> {
    organisation: &'a OrgProfile,
    sla: &'a SlaSettings,
    rules: &'a RuleSet,
    verification: &'a VerificationPolicy,
    catalogue: &'a Catalogue,
    departments: &'a [Department],
    templates: &'a [Template],
}

/// [`ExportFile`] as read back: every part optional (an import changes what it names), each
/// with its place in the file so a refusal can name the line.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportFile {
    organisation: Option<Spanned<OrgProfile>>,
    sla: Option<Spanned<SlaSettings>>,
    rules: Option<Spanned<RuleSet>>,
    verification: Option<Spanned<VerificationPolicy>>,
    catalogue: Option<Spanned<Catalogue>>,
    #[serde(default)]
    departments: Vec<Spanned<Department>>,
    #[serde(default)]
    templates: Vec<Spanned<Template>>,
}

/// The organisation's settings, departments and templates as a TOML document.
pub async fn export_toml(pool: &sqlx::AnyPool) -> anyhow::Result<String> {
    let mut conn = pool.acquire().await?;
    let settings = load(&mut conn).await?;
    let departments = departments(&mut conn).await?;
    let templates = templates(&mut conn).await?;
    let file = ExportFile {
        organisation: settings.profile(),
        sla: settings.sla_settings(),
        rules: settings.rule_set(),
        verification: settings.verification_policy(),
        catalogue: settings.catalogue(),
        departments: &departments,
        templates: &templates,
    };
    let versions: Vec<String> = SettingsKind::ALL
        .iter()
        .map(|k| format!("{} v{}", k.as_str(), settings.get(*k).version))
        .collect();
    Ok(format!(
        "# Outpost organisation settings, exported {} ({}).\n\
         # `outpost-server settings import FILE` applies what differs, validated and audited.\n\n{}",
        crate::db::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        versions.join(", "),
        toml::to_string_pretty(&file)?
    ))
}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.get(..at).unwrap_or(text).matches('\n').count() + 1
}

/// Where a refused field is written: the first line from `span` on, within the file's
/// `section` (its own tables included, such as `[organisation.form]`), that assigns the field's
/// last path segment (`form.accent_colour` → `accent_colour = …`); else the span's first line.
fn field_line(text: &str, span: &std::ops::Range<usize>, section: &str, field: &str) -> usize {
    let leaf = field.rsplit('.').next().unwrap_or(field);
    let mut offset = span.start;
    for (i, line) in text
        .get(span.start..)
        .unwrap_or_default()
        .split_inclusive('\n')
        .enumerate()
    {
        let trimmed = line.trim_start();
        // The section ends at the next header that is not one of its own tables.
        if i > 0 && trimmed.starts_with('[') {
            let header = trimmed.trim_start_matches('[').trim_start();
            if !header.starts_with(&format!("{section}.")) {
                break;
            }
        }
        let key = trimmed.split('=').next().unwrap_or_default().trim();
        if line.contains('=') && key.trim_matches('"') == leaf {
            return line_of(text, offset);
        }
        offset += line.len();
    }
    line_of(text, span.start)
}

/// Imports a TOML document written by [`export_toml`] (or by hand): every part it names that
/// differs from what is stored is applied as the server (`actor` `cli`) with the same checks and
/// audit events as an admin's change, all in one transaction; `dry_run` checks everything and
/// keeps nothing. Returns one line per part changed. A refusal names the file's line and the
/// field, and nothing is kept.
pub async fn import_toml(db: &Db, text: &str, dry_run: bool) -> anyhow::Result<Vec<String>> {
    let file: ImportFile = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| format!("line {}: ", line_of(text, s.start)))
            .unwrap_or_default();
        anyhow::anyhow!("{at}{}", e.message())
    })?;
    let mut tx = db.begin_write().await?;
    let mut report = Vec::new();
    // Departments first (rules and the default department may name new ones), but retiring one
    // waits until the documents that may still name it have changed.
    let (active, retired): (Vec<_>, Vec<_>) = file
        .departments
        .into_iter()
        .partition(|d| d.get_ref().active);
    fn doc<T>(
        part: Option<Spanned<T>>,
        wrap: fn(T) -> SettingsDoc,
    ) -> Option<(std::ops::Range<usize>, SettingsDoc)> {
        part.map(|p| (p.span(), wrap(p.into_inner())))
    }
    let docs = [
        doc(file.organisation, SettingsDoc::Organisation),
        doc(file.sla, SettingsDoc::Sla),
        doc(file.rules, SettingsDoc::Rules),
        doc(file.verification, SettingsDoc::Verification),
        doc(file.catalogue, SettingsDoc::Catalogue),
    ];
    let mut steps: Vec<(std::ops::Range<usize>, String, Mutation)> = Vec::new();
    let current_departments = departments(&mut tx).await?;
    for department in active.into_iter().chain(retired) {
        let span = department.span();
        let department = department.into_inner();
        if current_departments.contains(&department) {
            continue;
        }
        steps.push((
            span,
            format!("department {}", department.code),
            Mutation::PutDepartment(department),
        ));
    }
    let retired_from = steps
        .iter()
        .position(|(_, _, m)| matches!(m, Mutation::PutDepartment(d) if !d.active))
        .unwrap_or(steps.len());
    let current_templates = templates(&mut tx).await?;
    let mut template_steps = Vec::new();
    for template in file.templates {
        let span = template.span();
        let template = template.into_inner();
        if current_templates.contains(&template) {
            continue;
        }
        template_steps.push((
            span,
            format!("template {:?} ({})", template.name, template.language),
            Mutation::PutTemplate(template),
        ));
    }
    let retiring = steps.split_off(retired_from);
    for (span, label, mutation) in steps {
        apply_import_step(&mut tx, text, &span, &label, &mutation, &mut report).await?;
    }
    for (span, doc) in docs.into_iter().flatten() {
        let label = doc.kind().as_str();
        // Made on the stored version: an import replaces the document as a whole.
        let current = load(&mut tx).await?;
        let stored = current.get(doc.kind());
        if stored.settings == doc {
            continue;
        }
        let mutation = Mutation::SetSettings {
            base_version: stored.version,
            settings: doc,
        };
        apply_import_step(&mut tx, text, &span, label, &mutation, &mut report).await?;
    }
    for (span, label, mutation) in retiring.into_iter().chain(template_steps) {
        apply_import_step(&mut tx, text, &span, &label, &mutation, &mut report).await?;
    }
    if !dry_run {
        tx.commit().await?;
    }
    Ok(report)
}

async fn apply_import_step(
    tx: &mut WriteTx,
    text: &str,
    span: &std::ops::Range<usize>,
    label: &str,
    mutation: &Mutation,
    report: &mut Vec<String>,
) -> anyhow::Result<()> {
    let origin = Origin::Server {
        actor: "cli",
        address: None,
    };
    let section = match mutation {
        Mutation::PutDepartment(_) => "departments",
        Mutation::PutTemplate(_) => "templates",
        Mutation::SetSettings { settings, .. } => settings.kind().as_str(),
        _ => "",
    };
    match apply(tx, origin, None, mutation).await? {
        Ok(applied) => {
            report.push(match &applied.change {
                AdminChange::Settings(v) => format!("{label}: now version {}", v.version),
                _ => format!("{label}: saved"),
            });
            Ok(())
        }
        Err(Rejection::Invalid { field, problem }) => anyhow::bail!(
            "line {}: {label}: {field}: {problem}; nothing was imported",
            field_line(text, span, section, &field)
        ),
        Err(other) => anyhow::bail!(
            "line {}: {label}: {other}; nothing was imported",
            line_of(text, span.start)
        ),
    }
}
