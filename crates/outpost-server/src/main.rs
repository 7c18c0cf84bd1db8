//! `outpost-server`: the team's sync server and its administration commands.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use outpost_core::model::Role;
use outpost_server::config::Config;
use outpost_server::db::Db;
use outpost_server::routes::{create_user, AddUserRequest};
use outpost_server::{admin, AppState};
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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the database, the organisation and its first admin (prints a one-time password).
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
    /// Manage intake API keys (web form, webhook, e-mail bridge).
    IntakeKey {
        #[command(subcommand)]
        command: IntakeKeyCommand,
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
    /// Verify the whole chain; names the first broken event.
    Verify,
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
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(url) = cli.database_url {
        config.database_url = url;
    }
    let db = Db::connect(&config.database_url).await?;
    match cli.command {
        Command::Init {
            org,
            admin_email,
            admin_name,
        } => {
            let done = admin::init(&db, &org, &admin_email, &admin_name).await?;
            println!("Organisation {org:?} created with departments support, finance, tech, risk.");
            println!(
                "Admin {admin_email} ({}) one-time password: {}",
                done.admin_id, done.one_time_password
            );
        }
        Command::Serve => outpost_server::serve(AppState::new(db, config).await?).await?,
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
                outpost_server::routes::audit_action(
                    &mut tx,
                    "cli",
                    None,
                    "user.disable",
                    serde_json::json!({ "user": id }),
                )
                .await?;
                tx.commit().await?;
                println!("Disabled {id}; their sessions are revoked.");
            }
            UserCommand::SetDepartments { id, departments } => {
                let mut tx = db.begin_write().await?;
                anyhow::ensure!(
                    outpost_server::users::set_departments(&mut tx, id, &departments).await?,
                    "no user {id}"
                );
                outpost_server::routes::audit_action(
                    &mut tx,
                    "cli",
                    None,
                    "user.set_departments",
                    serde_json::json!({ "user": id, "departments": departments }),
                )
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
                outpost_server::routes::audit_action(
                    &mut tx,
                    "cli",
                    None,
                    "user.reset_password",
                    serde_json::json!({ "user": id }),
                )
                .await?;
                tx.commit().await?;
                println!("New one-time password for {id}: {password}");
            }
        },
        Command::Department {
            command: DepartmentCommand::Add { code, name },
        } => {
            let mut tx = db.begin_write().await?;
            outpost_server::users::add_department(&mut tx, &code, &name).await?;
            outpost_server::routes::audit_action(
                &mut tx,
                "cli",
                None,
                "department.add",
                serde_json::json!({ "code": code }),
            )
            .await?;
            tx.commit().await?;
            println!("Added department {code}.");
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => match outpost_server::audit::verify(&db.pool).await? {
            Ok(verified) => println!(
                "✓ {} events verified, head {}",
                verified.count, verified.head.hash
            ),
            Err(broken) => {
                println!("✗ {broken}");
                return Ok(std::process::ExitCode::from(2));
            }
        },
        Command::IntakeKey {
            command: IntakeKeyCommand::Add { channel, name },
        } => {
            let mut tx = db.begin_write().await?;
            let key = outpost_server::intake::add_key(&mut tx, channel, &name).await?;
            outpost_server::routes::audit_action(
                &mut tx,
                "cli",
                None,
                "intake_key.add",
                serde_json::json!({ "channel": channel, "name": name }),
            )
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
