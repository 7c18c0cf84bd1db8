//! `outpost-server`: the team's sync server and its administration commands.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use outpost_core::audit::ChainHead;
use outpost_core::audit_export::{AuditExport, AuditPage, AuditQuery};
use outpost_core::model::Role;
use outpost_server::audit::AuditEntry;
use outpost_server::config::Config;
use outpost_server::db::Db;
use outpost_server::routes::{create_user, AddUserRequest, InviteKind};
use outpost_server::{admin, secrets, AppState};
use uuid::Uuid;

#[derive(Parser)]
#[command(
    name = "outpost-server",
    version,
    about = "The team's Outpost sync server"
)]
struct Cli {
    /// TOML configuration file (see README); OUTPOST_BIND and OUTPOST_DATABASE_URL override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Database URL: sqlite://path/to/outpost.db (default ./outpost.db) or postgres://…
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// The master key file (default: beside a SQLite database, `outpost.db` →
    /// `outpost.master-key`). OUTPOST_MASTER_KEY or the systemd credential `outpost-master-key`
    /// take precedence.
    #[arg(long, global = true)]
    master_key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the database, the organisation (name, time zone, business hours) and its first
    /// admin (prints how to sign in, with a one-time password), and the master key file (mode
    /// 0600) unless a master key is configured already. On a terminal, asks for what the flags
    /// do not give.
    Init {
        /// The organisation's name.
        #[arg(long, alias = "org")]
        org_name: Option<String>,
        #[arg(long)]
        admin_email: Option<String>,
        #[arg(long, default_value = "Administrator")]
        admin_name: String,
        /// The business calendar's IANA time zone, such as Europe/Lisbon or Asia/Shanghai.
        #[arg(long)]
        time_zone: Option<String>,
        /// Weekly business hours, such as "Mon-Fri 09:00-18:00" or
        /// "Mon-Fri 09:00-12:00,13:00-18:00; Sat 10:00-14:00".
        #[arg(long)]
        hours: Option<String>,
    },
    /// Serve the API.
    Serve,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage departments.
    Department {
        #[command(subcommand)]
        command: DepartmentCommand,
    },
    /// Audit chain operations.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Manage intake API keys (web form, webhook, e-mail bridge): they create tickets and read
    /// and confirm the outbound message queue.
    IntakeKey {
        #[command(subcommand)]
        command: IntakeKeyCommand,
    },
    /// The master key that seals the server's secrets (see README, Security).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The organisation's settings, departments and templates as TOML (configuration as code).
    Settings {
        #[command(subcommand)]
        command: SettingsCommand,
    },
    /// Load a demo organisation (agents, supervisors, tickets) into an initialised database.
    Demo {
        #[arg(long, default_value_t = 300)]
        tickets: usize,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; prints a one-time password.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Comma-separated department codes.
        #[arg(long, value_delimiter = ',')]
        departments: Vec<String>,
        /// `password` prints a one-time password; `link` an invitation link (7 days, once)
        /// where the user sets their own.
        #[arg(long, value_enum, default_value_t = InviteArg::Password)]
        invite: InviteArg,
    },
    /// Disable a user and end their sessions.
    Disable { id: Uuid },
    /// Set the departments a user works in (their clients drop what they no longer see).
    SetDepartments {
        id: Uuid,
        /// Comma-separated department codes.
        #[arg(long, value_delimiter = ',')]
        departments: Vec<String>,
    },
    /// Set a new one-time password (or send an invitation link) and end the user's sessions.
    ResetPassword {
        id: Uuid,
        #[arg(long, value_enum, default_value_t = InviteArg::Password)]
        invite: InviteArg,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum InviteArg {
    Password,
    Link,
}

impl From<InviteArg> for InviteKind {
    fn from(arg: InviteArg) -> InviteKind {
        match arg {
            InviteArg::Password => InviteKind::Password,
            InviteArg::Link => InviteKind::Link,
        }
    }
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Where the master key comes from, its id, and which key the database's secrets are
    /// sealed with.
    Status,
    /// Create a master key file for a database made before encryption at rest and seal its
    /// secrets with it.
    Init,
    /// Seal every secret with a new master key in one transaction, then put the new key file
    /// in place (mode 0600) and keep the previous one beside it as a backup.
    Rotate {
        /// Where to write the new key when the current one comes from OUTPOST_MASTER_KEY or a
        /// systemd credential (a new file; install its content there afterwards).
        #[arg(long)]
        new_key_file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum SettingsCommand {
    /// Write every settings document, the departments and the templates as TOML (to standard
    /// output, or to `--out`).
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Apply a TOML file written by `settings export` (or by hand): what differs is validated
    /// like an admin's change and audited, all in one transaction; a refusal names the line.
    Import {
        file: PathBuf,
        /// Check everything, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum DepartmentCommand {
    Add { code: String, name: String },
}

#[derive(Subcommand)]
enum IntakeKeyCommand {
    /// Create a key for a channel (web_form, email, api, …); prints it once.
    Add {
        #[arg(long, value_parser = parse_channel)]
        channel: outpost_core::model::Channel,
        #[arg(long)]
        name: String,
    },
}

fn parse_channel(s: &str) -> Result<outpost_core::model::Channel, String> {
    s.parse()
        .map_err(|e: outpost_core::model::UnknownValue| e.to_string())
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the whole chain; names the first broken event (exit code 2 when broken).
    Verify,
    /// List events, newest first.
    List {
        #[command(flatten)]
        filters: AuditFilters,
        /// Most events to show (1 to 5000).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Continue a listing: only events older than this sequence number.
        #[arg(long)]
        before_seq: Option<u64>,
        /// Print the page as JSON (`AuditPage`, as `GET /v1/audit/events` answers).
        #[arg(long)]
        json: bool,
    },
    /// Export events (oldest first) with the chain head to a file that can be verified offline.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[command(flatten)]
        filters: AuditFilters,
        /// The file to write (must not exist yet).
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify an export file offline (no database, no server). Exit code 0 when it verifies,
    /// 1 otherwise, naming the first event that does not fit.
    VerifyExport {
        file: PathBuf,
        /// A head noted independently (an earlier export, a printed report), as SEQ:HASH; the
        /// file's event with that number must carry that hash.
        #[arg(long, value_parser = outpost_core::audit_export::parse_head_arg)]
        head: Option<ChainHead>,
    },
    /// Retention: copy the events older than the retention period (`audit_retention_years`) or
    /// `--before` to a verified archive file and record it. Nothing is deleted.
    Archive {
        /// Archive events before this time (RFC 3339 or YYYY-MM-DD, UTC) instead of the
        /// retention period.
        #[arg(long, value_parser = outpost_core::audit_export::parse_time_arg)]
        before: Option<DateTime<Utc>>,
        /// The directory for archive files (default: `audit_archive_dir` from the config).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// The filters of `audit list` and `audit export` (those of `GET /v1/audit/events`).
#[derive(Args, Clone, Default)]
struct AuditFilters {
    /// Events at or after this time (RFC 3339, or YYYY-MM-DD for midnight UTC).
    #[arg(long, value_parser = outpost_core::audit_export::parse_time_arg)]
    from: Option<DateTime<Utc>>,
    /// Events before this time (exclusive).
    #[arg(long, value_parser = outpost_core::audit_export::parse_time_arg)]
    to: Option<DateTime<Utc>>,
    /// A user id, or system, customer, cli, intake:<channel>, dispatch.
    #[arg(long)]
    actor: Option<String>,
    /// A ticket id or key (OP-1042).
    #[arg(long)]
    ticket: Option<String>,
    /// An action (ticket.set_status) or a family ending in a dot (risk.).
    #[arg(long)]
    action: Option<String>,
    #[arg(long)]
    department: Option<String>,
    #[arg(long)]
    device: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Csv,
    Json,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse().map_err(|e: outpost_core::model::UnknownValue| {
        format!("{e}; use agent, supervisor or admin")
    })
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OUTPOST_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    // Needs nothing but the file: no configuration, no database, no server.
    if let Command::Audit {
        command: AuditCommand::VerifyExport { file, head },
    } = &cli.command
    {
        return Ok(verify_export(file, head.as_ref()));
    }
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(url) = cli.database_url {
        config.database_url = url;
    }
    if let Some(path) = cli.master_key_file {
        config.master_key_file = Some(path);
    }
    let db = Db::connect(&config.database_url).await?;
    match cli.command {
        Command::Init {
            org_name,
            admin_email,
            admin_name,
            time_zone,
            hours,
        } => {
            let answers = init_answers(org_name, admin_email, time_zone, hours)?;
            let (key, source, created) = secrets::load_or_create(&config)?;
            let done =
                admin::init_with(&db, &key, &answers.setup, &answers.admin_email, &admin_name)
                    .await?;
            if created {
                println!(
                    "Created master key {} in {source}. Back it up apart from the database: \
                     without it the server cannot start (see README, Security).",
                    key.id()
                );
            } else {
                println!("Secrets sealed with master key {} from {source}.", key.id());
            }
            let (tz, weekly) = answers
                .setup
                .calendar
                .as_ref()
                .expect("init_answers always sets the calendar");
            println!(
                "Organisation {:?} created with departments support, finance, tech, risk; \
                 business hours {} ({tz}).",
                answers.setup.name,
                admin::describe_hours(weekly)
            );
            if answers.defaulted_calendar {
                println!(
                    "No --time-zone or --hours given: the default calendar is set. An admin \
                     changes it in the app (Admin → Business hours)."
                );
            }
            println!(
                "To sign in: start the server (outpost-server serve), open the Outpost app, \
                 enter the server address {} and sign in as {} with the one-time password \
                 below.",
                config.public_base_url(),
                answers.admin_email
            );
            println!(
                "Admin {} ({}) one-time password: {}",
                answers.admin_email, done.admin_id, done.one_time_password
            );
        }
        Command::Serve => {
            let (key, source) = secrets::load(&config)?;
            tracing::info!(key = key.id(), "master key from {source}");
            outpost_server::serve(AppState::new(db, config, key).await?).await?;
        }
        Command::Keys { command } => keys(&db, &config, command).await?,
        Command::User { command } => match command {
            UserCommand::Add {
                email,
                name,
                role,
                departments,
                invite,
            } => {
                let request = AddUserRequest {
                    email,
                    name,
                    role,
                    departments,
                    skills: Vec::new(),
                    invite: invite.into(),
                };
                let added = create_user(&db, "cli", None, &request, &config.public_base_url())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                match (added.one_time_password, added.invite_link) {
                    (Some(password), _) => println!(
                        "Added {} ({}); one-time password: {password}",
                        added.user.email, added.user.id
                    ),
                    (None, Some(link)) => println!(
                        "Added {} ({}); invitation link (valid 7 days, once): {link}",
                        added.user.email, added.user.id
                    ),
                    (None, None) => anyhow::bail!("the user was added without a credential"),
                }
            }
            UserCommand::Disable { id } => {
                let mut tx = db.begin_write().await?;
                anyhow::ensure!(
                    outpost_server::users::set_active(&mut tx, id, false).await?,
                    "no user {id}"
                );
                AuditEntry::user_disabled("cli", None, id)
                    .append(&mut tx)
                    .await?;
                tx.commit().await?;
                outpost_server::events::notify_sessions_ended(&db).await;
                println!("Disabled {id}; their sessions are revoked.");
            }
            UserCommand::SetDepartments { id, departments } => {
                let mut tx = db.begin_write().await?;
                anyhow::ensure!(
                    outpost_server::users::set_departments(&mut tx, id, &departments).await?,
                    "no user {id}"
                );
                AuditEntry::user_departments_set("cli", None, id, &departments)
                    .append(&mut tx)
                    .await?;
                tx.commit().await?;
                println!("{id} now works in: {}", departments.join(", "));
            }
            UserCommand::ResetPassword { id, invite } => {
                let invite = InviteKind::from(invite);
                let password = match invite {
                    InviteKind::Password => Some(outpost_server::auth::random_token(12)?),
                    InviteKind::Link => None,
                };
                let hash = match &password {
                    Some(p) => outpost_server::auth::hash_password(p)?,
                    None => outpost_server::auth::hash_password(
                        &outpost_server::auth::random_token(32)?,
                    )?,
                };
                let mut tx = db.begin_write().await?;
                anyhow::ensure!(
                    outpost_server::users::set_password(&mut tx, id, &hash).await?,
                    "no user {id}"
                );
                let link = match invite {
                    InviteKind::Link => Some(
                        outpost_server::invite::create_link(
                            &mut tx,
                            id,
                            "cli",
                            &config.public_base_url(),
                        )
                        .await?,
                    ),
                    InviteKind::Password => None,
                };
                AuditEntry::password_reset("cli", None, id, invite.as_str())
                    .append(&mut tx)
                    .await?;
                tx.commit().await?;
                outpost_server::events::notify_sessions_ended(&db).await;
                match (password, link) {
                    (Some(password), _) => {
                        println!("New one-time password for {id}: {password}");
                    }
                    (None, Some(link)) => println!(
                        "Invitation link for {id} (valid 7 days, once; the old password no longer works): {link}"
                    ),
                    (None, None) => anyhow::bail!("no credential was made"),
                }
            }
        },
        Command::Department {
            command: DepartmentCommand::Add { code, name },
        } => {
            // The same checked, audited path as an admin's `department.put`.
            let code = code.trim().to_lowercase();
            let department = outpost_core::model::Department {
                code: code.clone(),
                name: name.trim().to_owned(),
                active: true,
            };
            let mut tx = db.begin_write().await?;
            outpost_server::settings::apply_as_server(
                &mut tx,
                "cli",
                &outpost_core::sync::Mutation::PutDepartment(department),
            )
            .await?;
            tx.commit().await?;
            println!("Added department {code}.");
        }
        Command::Settings { command } => settings(&db, command).await?,
        Command::Audit { command } => return audit(&db, &config, command).await,
        Command::IntakeKey {
            command: IntakeKeyCommand::Add { channel, name },
        } => {
            let mut tx = db.begin_write().await?;
            let (id, key) =
                outpost_server::intake_keys::create_key(&mut tx, channel, &name).await?;
            AuditEntry::intake_key_added("cli", None, id, channel, &name)
                .append(&mut tx)
                .await?;
            tx.commit().await?;
            println!("Intake key for {channel} ({name}), shown once: {key}");
        }
        Command::Demo { tickets } => {
            for (email, role, password) in admin::demo(&db, tickets).await? {
                println!("{role:<10} {email:<40} {password}");
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// What `init` was told or, on a terminal, asked.
struct InitAnswers {
    setup: admin::OrgSetup,
    admin_email: String,
    /// No time zone or hours were given and there was nobody to ask: the product default.
    defaulted_calendar: bool,
}

/// Asks on the terminal for a value the flags did not give; `None` when stdin is not a terminal.
fn ask(question: &str, default: Option<&str>) -> anyhow::Result<Option<String>> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let mut out = std::io::stderr();
    match default {
        Some(d) => write!(out, "{question} [{d}]: ")?,
        None => write!(out, "{question}: ")?,
    }
    out.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim();
    Ok(Some(if line.is_empty() {
        default.unwrap_or_default().to_owned()
    } else {
        line.to_owned()
    }))
}

/// Asks again (on a terminal) until `parse` accepts the answer; with a flag, checks it once.
fn answer<T>(
    flag: Option<String>,
    flag_name: &str,
    question: &str,
    default: Option<&str>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> anyhow::Result<Option<T>> {
    if let Some(value) = flag {
        return parse(&value)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{flag_name}: {e}"));
    }
    loop {
        let Some(value) = ask(question, default)? else {
            return Ok(None);
        };
        match parse(&value) {
            Ok(parsed) => return Ok(Some(parsed)),
            Err(e) => eprintln!("{e}"),
        }
    }
}

fn parse_time_zone(text: &str) -> Result<chrono_tz::Tz, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "{text:?} is not an IANA time zone; write a name such as Europe/Lisbon, \
             America/New_York or Asia/Shanghai"
        )
    })
}

fn init_answers(
    org_name: Option<String>,
    admin_email: Option<String>,
    time_zone: Option<String>,
    hours: Option<String>,
) -> anyhow::Result<InitAnswers> {
    let not_empty = |what: &'static str| {
        move |text: &str| {
            let text = text.trim();
            if text.is_empty() {
                Err(format!("the {what} must not be empty"))
            } else {
                Ok(text.to_owned())
            }
        }
    };
    let name = answer(
        org_name,
        "--org-name",
        "Organisation name",
        None,
        not_empty("organisation's name"),
    )?
    .ok_or_else(|| anyhow::anyhow!("--org-name is required (no terminal to ask on)"))?;
    let admin_email = answer(
        admin_email,
        "--admin-email",
        "First admin's e-mail",
        None,
        |text: &str| {
            outpost_core::model::check_user_fields("admin", text, &[])
                .map(|()| text.trim().to_owned())
                .map_err(|e| e.to_string())
        },
    )?
    .ok_or_else(|| anyhow::anyhow!("--admin-email is required (no terminal to ask on)"))?;
    let defaults = outpost_core::sla::SlaSettings::defaults();
    let default_tz = defaults.calendar.tz.name().to_owned();
    let default_hours = admin::describe_hours(&defaults.calendar.weekly);
    let tz = answer(
        time_zone,
        "--time-zone",
        "Time zone (IANA)",
        Some(&default_tz),
        parse_time_zone,
    )?;
    let weekly = answer(
        hours,
        "--hours",
        "Business hours",
        Some(&default_hours),
        admin::parse_weekly_hours,
    )?;
    let defaulted_calendar = tz.is_none() && weekly.is_none();
    let tz = tz.unwrap_or(defaults.calendar.tz);
    let weekly = weekly.unwrap_or(defaults.calendar.weekly);
    Ok(InitAnswers {
        setup: admin::OrgSetup {
            name,
            calendar: Some((tz, weekly)),
        },
        admin_email,
        defaulted_calendar,
    })
}

async fn settings(db: &Db, command: SettingsCommand) -> anyhow::Result<()> {
    match command {
        SettingsCommand::Export { out } => {
            let text = outpost_server::settings::export_toml(&db.pool).await?;
            match out {
                Some(path) => {
                    std::fs::write(&path, text)
                        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
                    println!("Wrote the organisation's settings to {}.", path.display());
                }
                None => print!("{text}"),
            }
        }
        SettingsCommand::Import { file, dry_run } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let changed = outpost_server::settings::import_toml(db, &text, dry_run)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e:#}", file.display()))?;
            for line in &changed {
                println!("{line}");
            }
            match (changed.is_empty(), dry_run) {
                (true, _) => println!("Nothing to change."),
                (false, true) => {
                    println!("Dry run: {} change(s) checked, none kept.", changed.len());
                }
                (false, false) => println!("Imported {} change(s).", changed.len()),
            }
        }
    }
    Ok(())
}

async fn keys(db: &Db, config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Status => {
            let (by_key, clear) = secrets::status(db).await?;
            for (id, count) in &by_key {
                println!("{count} secret(s) sealed with key {id}");
            }
            if clear > 0 {
                println!(
                    "{clear} secret(s) not sealed yet (sealed when the server starts with a key)"
                );
            }
            match secrets::find(config)? {
                Ok((key, source)) => {
                    println!("Master key {} from {source}.", key.id());
                    // Every sealed value must open with it: a wrong key fails here, by name.
                    let opened = secrets::check_all(db, &key).await?;
                    println!("It opens all {opened} sealed secret(s).");
                }
                Err(path) => println!(
                    "No master key found (the key file {} does not exist).",
                    path.display()
                ),
            }
        }
        KeysCommand::Init => {
            let (key, source, created) = secrets::load_or_create(config)?;
            let sealed = secrets::seal_clear_values(db, &key).await?;
            secrets::check_all(db, &key).await?;
            if created {
                println!("Created master key {} in {source}.", key.id());
            } else {
                println!("Using master key {} from {source}.", key.id());
            }
            println!("Sealed {sealed} secret(s). Back the key up apart from the database.");
        }
        KeysCommand::Rotate { new_key_file } => {
            let (old, source) = secrets::load(config)?;
            let target = match (&source, new_key_file) {
                (_, Some(path)) => path,
                (secrets::KeySource::File(path), None) => path.clone(),
                (_, None) => anyhow::bail!(
                    "the master key comes from {source}, which this command cannot replace: \
                     pass --new-key-file PATH, then install that file's content there"
                ),
            };
            // The new key is on disk (0600, synced) before any secret is sealed with it.
            let new = secrets::MasterKey::generate()?;
            let staged = {
                let mut name = target.clone().into_os_string();
                name.push(".new");
                PathBuf::from(name)
            };
            secrets::write_key_file(&staged, &new).map_err(|e| {
                anyhow::anyhow!(
                    "{e} (a file left by an interrupted rotation? see README, Security)"
                )
            })?;
            let rotated = match secrets::rotate(db, &old, &new).await {
                Ok(rotated) => rotated,
                Err(e) => {
                    let _ = std::fs::remove_file(&staged);
                    return Err(e.context("nothing was changed"));
                }
            };
            let backup = if target.exists() {
                let mut name = target.clone().into_os_string();
                name.push(format!(".{}.old", old.id()));
                let backup = PathBuf::from(name);
                std::fs::rename(&target, &backup)?;
                Some(backup)
            } else {
                None
            };
            std::fs::rename(&staged, &target)?;
            if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
                if let Ok(dir) = std::fs::File::open(dir) {
                    let _ = dir.sync_all();
                }
            }
            println!(
                "Re-sealed {} secret(s) with master key {} (was {}); the new key is in {}.",
                rotated.values,
                new.id(),
                old.id(),
                target.display()
            );
            if let Some(backup) = backup {
                println!(
                    "The previous key is kept in {}: only database backups made before now need \
                     it. Store it with those backups, then delete it here.",
                    backup.display()
                );
            }
            if !matches!(source, secrets::KeySource::File(_)) {
                println!(
                    "Put the new key where {source} is read from before the next start: the \
                     server no longer starts with the old one."
                );
            }
        }
    }
    Ok(())
}

async fn audit_query(db: &Db, filters: AuditFilters) -> anyhow::Result<AuditQuery> {
    let ticket_id = match filters.ticket {
        None => None,
        Some(ticket) => {
            if let Ok(id) = ticket.parse::<Uuid>() {
                Some(id)
            } else {
                let id: Option<String> =
                    sqlx::query_scalar("SELECT id FROM tickets WHERE key = $1")
                        .bind(&ticket)
                        .fetch_optional(&db.pool)
                        .await?;
                Some(
                    id.ok_or_else(|| anyhow::anyhow!("no ticket {ticket:?}"))?
                        .parse()?,
                )
            }
        }
    };
    Ok(AuditQuery {
        from: filters.from,
        to: filters.to,
        actor: filters.actor,
        ticket_id,
        action: filters.action,
        department: filters.department,
        device: filters.device,
        ..AuditQuery::default()
    })
}

/// Who runs the command, for exports and archives.
fn operator() -> String {
    match std::env::var("USER") {
        Ok(user) if !user.is_empty() => format!("cli:{user}"),
        _ => "cli".to_owned(),
    }
}

async fn audit(
    db: &Db,
    config: &Config,
    command: AuditCommand,
) -> anyhow::Result<std::process::ExitCode> {
    match command {
        AuditCommand::Verify => match outpost_server::audit::verify(&db.pool).await? {
            Ok(verified) => println!(
                "✓ {} events verified, head #{} {}",
                verified.count, verified.head.last_seq, verified.head.hash
            ),
            Err(broken) => {
                println!("✗ {broken}");
                return Ok(std::process::ExitCode::from(2));
            }
        },
        AuditCommand::List {
            filters,
            limit,
            before_seq,
            json,
        } => {
            let query = AuditQuery {
                limit: Some(limit),
                before_seq,
                ..audit_query(db, filters).await?
            };
            let query = outpost_server::audit::normalise(query).map_err(|e| anyhow::anyhow!(e))?;
            let page = outpost_server::audit::page(&db.pool, &query).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&page)?);
            } else {
                print_table(db, &page).await?;
            }
        }
        AuditCommand::Export {
            format,
            filters,
            out,
        } => {
            let query = audit_query(db, filters).await?;
            let export = outpost_server::audit::export(
                &db.pool,
                query,
                &operator(),
                &config.public_base_url(),
                outpost_server::db::now(),
            )
            .await?;
            let text = match format {
                ExportFormat::Csv => export.to_csv(),
                ExportFormat::Json => export.to_json(),
            };
            {
                use std::io::Write;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&out)
                    .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
                file.write_all(text.as_bytes())?;
                file.sync_all()?;
            }
            let h = &export.header;
            println!(
                "Exported {} events (#{}–#{}{}) to {}; chain head #{} {}",
                h.count,
                h.first_seq,
                h.last_seq,
                if h.filtered { ", filtered" } else { "" },
                out.display(),
                h.head.last_seq,
                h.head.hash
            );
            // Read back what was written and check it, as a recipient would.
            let code = verify_export(&out, None);
            if code != std::process::ExitCode::SUCCESS {
                return Ok(std::process::ExitCode::from(2));
            }
        }
        AuditCommand::VerifyExport { file, head } => {
            return Ok(verify_export(&file, head.as_ref()))
        }
        AuditCommand::Archive { before, dir } => {
            let now = outpost_server::db::now();
            let cutoff = match before {
                Some(t) => t,
                None => now
                    .checked_sub_months(chrono::Months::new(
                        config.audit_retention_years.saturating_mul(12),
                    ))
                    .ok_or_else(|| anyhow::anyhow!("audit_retention_years is too large"))?,
            };
            let dir = dir.unwrap_or_else(|| config.audit_archive_dir.clone());
            match outpost_server::audit::archive(
                db,
                &dir,
                cutoff,
                &operator(),
                &config.public_base_url(),
            )
            .await?
            {
                None => println!(
                    "Nothing to archive: every event before {} is archived already.",
                    cutoff.to_rfc3339()
                ),
                Some(a) => println!(
                    "✓ archived {} events (#{}–#{}, before {}) to {}\n  file SHA-256 {}\n  chain head #{} {}\n  Nothing was deleted.",
                    a.count,
                    a.first_seq,
                    a.last_seq,
                    cutoff.to_rfc3339(),
                    a.file.display(),
                    a.file_sha256,
                    a.head.last_seq,
                    a.head.hash
                ),
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `audit verify-export`: 0 when the file verifies, 1 (with the first problem named) otherwise.
fn verify_export(file: &Path, head: Option<&ChainHead>) -> std::process::ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) => {
            println!("✗ cannot read {}: {e}", file.display());
            return std::process::ExitCode::FAILURE;
        }
    };
    let export = match AuditExport::parse(&text) {
        Ok(export) => export,
        Err(e) => {
            println!("✗ {}: {e}", file.display());
            return std::process::ExitCode::FAILURE;
        }
    };
    match export.verify_with_anchor(head) {
        Ok(v) => {
            let h = &export.header;
            println!(
                "✓ {}: {} events (#{}–#{}) verified{}; exported {} by {} from {}; chain head then #{} {}{}",
                file.display(),
                v.count,
                v.first_seq,
                v.last_seq,
                if v.filtered {
                    ", filtered (holes between them are by design)"
                } else {
                    ", contiguous"
                },
                h.exported_at.to_rfc3339(),
                h.exported_by,
                h.source,
                h.head.last_seq,
                h.head.hash,
                if v.reaches_head {
                    " (the export reaches it)"
                } else {
                    ""
                }
            );
            std::process::ExitCode::SUCCESS
        }
        Err(problem) => {
            println!("✗ {}: {problem}", file.display());
            std::process::ExitCode::FAILURE
        }
    }
}

/// A page as a table: who (e-mail for users), what, which ticket (key), where.
async fn print_table(db: &Db, page: &AuditPage) -> anyhow::Result<()> {
    let mut names = std::collections::HashMap::new();
    for (id, email) in sqlx::query_as::<_, (String, String)>("SELECT id, email FROM users")
        .fetch_all(&db.pool)
        .await?
    {
        names.insert(id, email);
    }
    let mut keys = std::collections::HashMap::new();
    for record in &page.events {
        if let Some(ticket) = record.chained.event.ticket_id {
            if let std::collections::hash_map::Entry::Vacant(slot) = keys.entry(ticket) {
                let key: Option<String> =
                    sqlx::query_scalar("SELECT key FROM tickets WHERE id = $1")
                        .bind(ticket.to_string())
                        .fetch_optional(&db.pool)
                        .await?;
                slot.insert(key.unwrap_or_else(|| ticket.to_string()));
            }
        }
    }
    println!(
        "{:>8}  {:<20}  {:<28}  {:<24}  {:<10}  {:<10}  DEVICE",
        "SEQ", "AT (UTC)", "ACTOR", "ACTION", "TICKET", "DEPARTMENT"
    );
    for record in &page.events {
        let e = &record.chained.event;
        println!(
            "{:>8}  {:<20}  {:<28}  {:<24}  {:<10}  {:<10}  {}",
            e.seq,
            e.at.format("%Y-%m-%d %H:%M:%S"),
            names.get(&e.actor).unwrap_or(&e.actor),
            e.action,
            e.ticket_id
                .and_then(|t| keys.get(&t).cloned())
                .unwrap_or_default(),
            record.department.as_deref().unwrap_or(""),
            e.device.as_deref().unwrap_or("")
        );
    }
    let last = page.events.last().map(|r| r.chained.event.seq);
    match (page.has_more, last) {
        (true, Some(seq)) => println!("… more with --before-seq {seq}"),
        _ => println!("({} events)", page.events.len()),
    }
    println!("chain head #{} {}", page.head.last_seq, page.head.hash);
    Ok(())
}
