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
use outpost_server::routes::{create_user, AddUserRequest};
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
    /// Create the database, the organisation and its first admin (prints a one-time password),
    /// and the master key file (mode 0600) unless a master key is configured already.
    Init {
        #[arg(long)]
        org: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long, default_value = "Administrator")]
        admin_name: String,
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
    /// Set a new one-time password and end the user's sessions.
    ResetPassword { id: Uuid },
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
            org,
            admin_email,
            admin_name,
        } => {
            let (key, source, created) = secrets::load_or_create(&config)?;
            let done = admin::init(&db, &key, &org, &admin_email, &admin_name).await?;
            if created {
                println!(
                    "Created master key {} in {source}. Back it up apart from the database: \
                     without it the server cannot start (see README, Security).",
                    key.id()
                );
            } else {
                println!("Secrets sealed with master key {} from {source}.", key.id());
            }
            println!("Organisation {org:?} created with departments support, finance, tech, risk.");
            println!(
                "Admin {admin_email} ({}) one-time password: {}",
                done.admin_id, done.one_time_password
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
            } => {
                let request = AddUserRequest {
                    email,
                    name,
                    role,
                    departments,
                    skills: Vec::new(),
                };
                let added = create_user(&db, "cli", None, &request)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!(
                    "Added {} ({}); one-time password: {}",
                    added.user.email, added.user.id, added.one_time_password
                );
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
            UserCommand::ResetPassword { id } => {
                let password = outpost_server::auth::random_token(12)?;
                let hash = outpost_server::auth::hash_password(&password)?;
                let mut tx = db.begin_write().await?;
                anyhow::ensure!(
                    outpost_server::users::set_password(&mut tx, id, &hash).await?,
                    "no user {id}"
                );
                AuditEntry::password_reset("cli", None, id)
                    .append(&mut tx)
                    .await?;
                tx.commit().await?;
                outpost_server::events::notify_sessions_ended(&db).await;
                println!("New one-time password for {id}: {password}");
            }
        },
        Command::Department {
            command: DepartmentCommand::Add { code, name },
        } => {
            let mut tx = db.begin_write().await?;
            outpost_server::users::add_department(&mut tx, &code, &name).await?;
            AuditEntry::department_added("cli", None, &code)
                .append(&mut tx)
                .await?;
            tx.commit().await?;
            println!("Added department {code}.");
        }
        Command::Audit { command } => return audit(&db, &config, command).await,
        Command::IntakeKey {
            command: IntakeKeyCommand::Add { channel, name },
        } => {
            let mut tx = db.begin_write().await?;
            let key = outpost_server::intake_keys::add_key(&mut tx, channel, &name).await?;
            AuditEntry::intake_key_added("cli", None, channel, &name)
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
