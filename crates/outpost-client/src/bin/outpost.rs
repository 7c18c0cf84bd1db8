//! `outpost`: the Desk service from a terminal, for power users, scripts and tests.
//!
//! Secrets are never taken as command-line arguments (they would show in `ps` and shell
//! history): the password comes from `OUTPOST_PASSWORD` or the first line of standard input,
//! a passphrase from `OUTPOST_PASSPHRASE`.

use std::io::BufRead;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use outpost_client::desk::{Desk, DeskConfig, DeskError, ErrorDto, Unlock};
use outpost_client::sync::Connectivity;
use outpost_client::vault::Vault;
use outpost_core::model::Status;
use outpost_core::sync::Mutation;
use outpost_store::{QueueFilter, QueueSort};

#[derive(Parser)]
#[command(
    name = "outpost",
    about = "Outpost helpdesk from the terminal",
    version
)]
struct Cli {
    /// Where profiles and caches live.
    #[arg(long, env = "OUTPOST_DATA_DIR", global = true)]
    data_dir: Option<std::path::PathBuf>,
    /// Print results as JSON (for scripts).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in to a server and load its tickets (password from OUTPOST_PASSWORD or stdin).
    Login {
        server: String,
        email: String,
        /// Authenticator code, when the account has a second factor.
        #[arg(long)]
        totp: Option<String>,
        /// Protect the cache with OUTPOST_PASSPHRASE instead of the OS keychain.
        #[arg(long)]
        passphrase: bool,
    },
    /// The queue, most urgent first.
    Queue {
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Only these statuses (new, assigned, in_progress, pending, resolved, closed …).
        #[arg(long, value_delimiter = ',')]
        status: Vec<String>,
    },
    /// A ticket with its timeline (`OP-12` or an id).
    Show { ticket: String },
    /// Reply to the customer.
    Reply { ticket: String, text: String },
    /// Add an internal note.
    Note { ticket: String, text: String },
    /// Change a ticket's status.
    SetStatus { ticket: String, status: String },
    /// Search tickets (Chinese and English).
    Search { query: String },
    /// Push local changes and pull the server's now.
    Sync,
    /// Connectivity, unsent changes, conflicts and sync problems.
    Status,
    /// Conflicts and sync problems.
    Problems,
    /// The audit trail (supervisors): list, verify, export; check an export offline.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// A report from the local cache (supervisors; works offline). Dates are YYYY-MM-DD, `to`
    /// exclusive; the default is the last 30 days.
    Report {
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// Only these departments (comma-separated codes).
        #[arg(long, value_delimiter = ',')]
        department: Vec<String>,
        /// Recurring issues: same account and category within this many days.
        #[arg(long, default_value_t = 30)]
        recurring_days: u32,
    },
    /// Sign out: forget the keychain entries and delete the cache.
    Logout {
        /// Discard changes the server has not received.
        #[arg(long)]
        discard_unsent: bool,
    },
}

/// Filters shared by `audit list` and `audit export`.
#[derive(clap::Args)]
struct AuditFilters {
    /// From this time (RFC 3339, or a date YYYY-MM-DD).
    #[arg(long, value_parser = outpost_core::audit_export::parse_time_arg)]
    from: Option<chrono::DateTime<chrono::Utc>>,
    /// Until this time, exclusive (RFC 3339, or a date).
    #[arg(long, value_parser = outpost_core::audit_export::parse_time_arg)]
    to: Option<chrono::DateTime<chrono::Utc>>,
    /// A user id, or system / customer.
    #[arg(long)]
    actor: Option<String>,
    /// A ticket key (OP-12) or id.
    #[arg(long)]
    ticket: Option<String>,
    /// An action, or a family ending in a dot (risk.).
    #[arg(long)]
    action: Option<String>,
    #[arg(long)]
    department: Option<String>,
    #[arg(long)]
    device: Option<String>,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Newest events first.
    List {
        #[command(flatten)]
        filters: AuditFilters,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Read the whole chain from the server and recompute every hash here; exit 1 if broken.
    Verify,
    /// Export the selected events with the chain head (to the Downloads folder).
    Export {
        #[command(flatten)]
        filters: AuditFilters,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormatArg,
    },
    /// Check an export file offline (no server, no sign-in); exit 1 if it does not verify.
    VerifyExport {
        file: std::path::PathBuf,
        /// A head noted earlier, SEQ:HASH: the file must agree with it.
        #[arg(long, value_parser = outpost_core::audit_export::parse_head_arg)]
        head: Option<outpost_core::audit::ChainHead>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormatArg {
    Csv,
    Json,
}

/// Set when a verification fails: the command printed why and exits 1.
static FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

async fn audit_query(
    desk: &Desk,
    f: AuditFilters,
) -> Result<outpost_core::audit_export::AuditQuery, DeskError> {
    let ticket_id = match &f.ticket {
        Some(t) => Some(desk.resolve(t).await?),
        None => None,
    };
    Ok(outpost_core::audit_export::AuditQuery {
        from: f.from,
        to: f.to,
        actor: f.actor,
        ticket_id,
        action: f.action,
        department: f.department,
        device: f.device,
        ..Default::default()
    })
}

fn verify_export_file(
    file: &std::path::Path,
    anchor: Option<&outpost_core::audit::ChainHead>,
    json: bool,
) -> Result<(), DeskError> {
    let io = |e: std::io::Error| DeskError::Io {
        path: file.to_owned(),
        detail: e.to_string(),
    };
    let text = std::fs::read_to_string(file).map_err(io)?;
    let check = outpost_client::supervisor::check_export(&text, anchor);
    if json {
        print_json(&check);
    } else if let Some(v) = &check.verified {
        println!(
            "✓ {} events verified (#{}–#{}{}){}",
            v.count,
            v.first_seq,
            v.last_seq,
            if v.filtered { ", filtered export" } else { "" },
            if v.reaches_head {
                ", ends at the stated head"
            } else {
                ""
            }
        );
    } else if let Some(p) = &check.problem {
        println!("✗ {p}");
    } else if let Some(u) = &check.unreadable {
        println!("✗ {u}");
    }
    if check.verified.is_none() {
        FAILED.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    Ok(())
}

fn unlock_from_env() -> Unlock {
    match std::env::var("OUTPOST_PASSPHRASE") {
        Ok(p) if !p.is_empty() => Unlock::Passphrase(p),
        _ => Unlock::Keychain,
    }
}

fn password() -> Result<String, DeskError> {
    if let Ok(p) = std::env::var("OUTPOST_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| DeskError::Io {
            path: "stdin".into(),
            detail: e.to_string(),
        })?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn print_json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    );
}

async fn run(cli: Cli) -> Result<(), DeskError> {
    let config = DeskConfig {
        data_dir: cli
            .data_dir
            .clone()
            .unwrap_or_else(DeskConfig::default_data_dir),
        ca_pem: None,
    };
    let desk = Desk::new(Vault::system(), config);
    if let Command::Login {
        server,
        email,
        totp,
        passphrase,
    } = &cli.command
    {
        let unlock = if *passphrase {
            match unlock_from_env() {
                Unlock::Keychain => {
                    return Err(DeskError::Io {
                        path: "OUTPOST_PASSPHRASE".into(),
                        detail: "--passphrase needs the passphrase in OUTPOST_PASSPHRASE".into(),
                    })
                }
                p @ Unlock::Passphrase(_) => p,
            }
        } else {
            Unlock::Keychain
        };
        let me = desk
            .sign_in(server, email, &password()?, totp.as_deref(), unlock)
            .await?;
        let status = desk.sync_now().await?;
        if cli.json {
            print_json(&serde_json::json!({ "me": me, "status": status }));
        } else {
            println!(
                "signed in to {} as {} ({}); {} unsent",
                me.server,
                me.user.name,
                me.user.role.as_str(),
                status.unsent
            );
        }
        return Ok(());
    }
    if let Command::Audit {
        command: AuditCommand::VerifyExport { file, head },
    } = &cli.command
    {
        // Offline by design: no profile, no server.
        return verify_export_file(file, head.as_ref(), cli.json);
    }
    if let Command::Logout { discard_unsent } = cli.command {
        desk.resume(unlock_from_env()).await?;
        desk.sign_out(discard_unsent).await?;
        println!("signed out; the local cache was deleted");
        return Ok(());
    }
    desk.resume(unlock_from_env()).await?;
    match cli.command {
        Command::Login { .. } | Command::Logout { .. } => unreachable!("handled above"),
        Command::Audit { command } => match command {
            AuditCommand::VerifyExport { .. } => unreachable!("handled above"),
            AuditCommand::List { filters, limit } => {
                let mut query = audit_query(&desk, filters).await?;
                query.limit = Some(limit.clamp(1, outpost_core::audit_export::MAX_AUDIT_PAGE));
                let page = desk.audit_page(query).await?;
                if cli.json {
                    print_json(&page);
                } else {
                    for r in &page.events {
                        let e = &r.chained.event;
                        println!(
                            "#{:<8} {}  {:<22} {:<36} {:<8} {}  {}",
                            e.seq,
                            e.at.format("%Y-%m-%d %H:%M:%S"),
                            e.action,
                            e.actor,
                            r.department.as_deref().unwrap_or("-"),
                            e.ticket_id.map_or_else(|| "-".into(), |t| t.to_string()),
                            e.detail
                        );
                    }
                    println!("head #{} {}", page.head.last_seq, page.head.hash.to_hex());
                }
            }
            AuditCommand::Verify => {
                // On a terminal, how far it has got (a million events take seconds).
                let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
                let check = desk
                    .audit_verify_with(|p| {
                        if tty {
                            eprint!("\rverifying: {} of {} events checked", p.checked, p.head);
                        }
                    })
                    .await;
                if tty {
                    eprint!("\r\x1b[2K");
                }
                let check = check?;
                if cli.json {
                    print_json(&check);
                } else if let Some(b) = &check.broken {
                    println!("✗ {b}");
                } else if check.previous_matches == Some(false) {
                    println!(
                        "✗ the chain no longer contains the head this device verified before (#{})",
                        check.previous.as_ref().map_or(0, |p| p.last_seq)
                    );
                } else {
                    println!(
                        "✓ {} events verified, head #{} {} ({:.2} s)",
                        check.checked,
                        check.verified_head.last_seq,
                        check.verified_head.hash.to_hex(),
                        check.seconds
                    );
                }
                if !check.ok() {
                    FAILED.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
            AuditCommand::Export { filters, format } => {
                let query = audit_query(&desk, filters).await?;
                let format = match format {
                    ExportFormatArg::Csv => outpost_client::supervisor::ExportFormat::Csv,
                    ExportFormatArg::Json => outpost_client::supervisor::ExportFormat::Json,
                };
                let saved = desk.audit_export(query, format).await?;
                if cli.json {
                    print_json(&saved);
                } else {
                    println!(
                        "{} events (#{}–#{}) written to {}; chain head #{} {}",
                        saved.header.count,
                        saved.header.first_seq,
                        saved.header.last_seq,
                        saved.file.path,
                        saved.header.head.last_seq,
                        saved.header.head.hash.to_hex()
                    );
                }
            }
        },
        Command::Report {
            from,
            to,
            department,
            recurring_days,
        } => {
            let today =
                chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()).date_naive();
            let to = to.unwrap_or(today + chrono::Duration::days(1));
            let from = from.unwrap_or(to - chrono::Duration::days(30));
            let report = desk
                .report(outpost_store::ReportParams {
                    from: from.and_hms_opt(0, 0, 0).expect("midnight").and_utc(),
                    to: to.and_hms_opt(0, 0, 0).expect("midnight").and_utc(),
                    departments: department,
                    assignee: None,
                    recurring_days,
                    utc_offset_minutes: 0,
                })
                .await?;
            if cli.json {
                print_json(&report);
            } else {
                let pct = |r: Option<f64>| r.map_or("—".into(), |r| format!("{:.1}%", r * 100.0));
                println!(
                    "{from} – {to}: {} created, {} resolved; SLA attainment {}",
                    report.created,
                    report.resolved,
                    pct(report.sla_total.overall.rate)
                );
                for d in &report.department_ranking {
                    println!(
                        "  #{} {:<12} {} ({} tickets)",
                        d.rank,
                        d.department,
                        pct(d.attainment.rate),
                        d.tickets
                    );
                }
                let top: Vec<String> = report
                    .by_category
                    .iter()
                    .filter(|c| c.top)
                    .map(|c| format!("{} ({})", c.key, c.count))
                    .collect();
                println!("  top 3 types: {}", top.join(", "));
                println!(
                    "  CSAT: {} responses, average {}, distribution {:?}; reopen rate {}",
                    report.csat.responses,
                    report
                        .csat
                        .average
                        .map_or("—".into(), |a| format!("{a:.2}")),
                    report.csat.distribution,
                    pct(report.reopen.rate)
                );
                println!("  recurring issues: {}", report.recurring.len());
            }
        }
        Command::Queue { limit, status } => {
            let statuses = status
                .iter()
                .map(|s| s.parse::<Status>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| DeskError::Io {
                    path: "--status".into(),
                    detail: e.to_string(),
                })?;
            let filter = QueueFilter {
                statuses,
                ..QueueFilter::default()
            };
            let page = desk.queue(filter, QueueSort::SlaDue, None, limit).await?;
            if cli.json {
                print_json(&page.rows);
            } else {
                for row in page.rows {
                    println!(
                        "{:<9} {:<3} {:<12} {}",
                        row.key.as_deref().unwrap_or("(new)"),
                        row.priority.as_str(),
                        row.status.as_str(),
                        row.subject
                    );
                }
            }
        }
        Command::Show { ticket } => {
            let id = desk.resolve(&ticket).await?;
            let detail = desk.ticket(id).await?;
            if cli.json {
                print_json(&detail);
            } else {
                let t = &detail.ticket;
                println!(
                    "{} [{} {} {}] {}",
                    t.key.as_deref().unwrap_or("(new)"),
                    t.priority.as_str(),
                    t.status.as_str(),
                    t.category.as_str(),
                    t.subject
                );
                println!("{}\n", t.description);
                for entry in &detail.entries {
                    println!(
                        "- {} {}",
                        entry.created_at.format("%Y-%m-%d %H:%M"),
                        serde_json::to_string(&entry.body).unwrap_or_default()
                    );
                }
                if detail.unsent > 0 {
                    println!("\n{} change(s) not yet sent", detail.unsent);
                }
            }
        }
        Command::Reply { ticket, text } => {
            let id = desk.resolve(&ticket).await?;
            desk.reply(id, text).await?;
            report_after_change(&desk, cli.json).await?;
        }
        Command::Note { ticket, text } => {
            let id = desk.resolve(&ticket).await?;
            desk.note(id, text).await?;
            report_after_change(&desk, cli.json).await?;
        }
        Command::SetStatus { ticket, status } => {
            let id = desk.resolve(&ticket).await?;
            let status = status.parse::<Status>().map_err(|e| DeskError::Io {
                path: "status".into(),
                detail: e.to_string(),
            })?;
            desk.change(Mutation::SetStatus {
                ticket_id: id,
                status,
                reason: None,
            })
            .await?;
            report_after_change(&desk, cli.json).await?;
        }
        Command::Search { query } => {
            let hits = desk.search(query, 20).await?;
            if cli.json {
                print_json(&hits);
            } else {
                for hit in hits {
                    println!(
                        "{:<9} {}",
                        hit.key.as_deref().unwrap_or("(new)"),
                        hit.subject.text
                    );
                }
            }
        }
        Command::Sync => {
            let status = desk.sync_now().await?;
            if cli.json {
                print_json(&status);
            } else {
                println!("synced; {} unsent", status.unsent);
            }
        }
        Command::Status => {
            // One attempt, so the state printed is what happened just now.
            let _ = desk.sync_now().await;
            let status = desk.sync_status().await?;
            if cli.json {
                print_json(&status);
            } else {
                let state = match &status.connectivity {
                    Connectivity::Starting => "starting".to_owned(),
                    Connectivity::Syncing => "syncing".to_owned(),
                    Connectivity::Online { .. } => "online".to_owned(),
                    Connectivity::Offline { reason, .. } => format!("offline ({reason})"),
                    Connectivity::Error { reason, .. } => format!("error ({reason})"),
                };
                println!(
                    "{state}; {} unsent, {} conflicts, {} sync problems",
                    status.unsent, status.conflicts, status.problems
                );
            }
        }
        Command::Problems => {
            let conflicts = desk.conflicts().await?;
            let problems = desk.sync_problems().await?;
            if cli.json {
                print_json(&serde_json::json!({ "conflicts": conflicts, "problems": problems }));
            } else {
                for c in conflicts {
                    println!(
                        "conflict #{}: {} — you set {}, kept {}",
                        c.id, c.field, c.yours, c.winner
                    );
                }
                for p in problems {
                    println!("problem #{}: {} ({})", p.id, p.reason, p.code);
                }
            }
        }
    }
    Ok(())
}

/// After a local change: try to send it now; offline is fine (it stays queued).
async fn report_after_change(desk: &Desk, json: bool) -> Result<(), DeskError> {
    let _ = desk.sync_now().await;
    let status = desk.sync_status().await?;
    if json {
        print_json(&status);
    } else if status.unsent > 0 {
        println!(
            "saved; {} change(s) queued until the server is reachable",
            status.unsent
        );
    } else {
        println!("saved and sent");
    }
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OUTPOST_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("outpost: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) if FAILED.load(std::sync::atomic::Ordering::SeqCst) => ExitCode::FAILURE,
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                print_json(&ErrorDto::from(&e));
            } else {
                eprintln!("outpost: {e}");
                if e.code() == outpost_core::error::ErrorCode::NoKeychain {
                    eprintln!(
                        "hint: set OUTPOST_PASSPHRASE and run `outpost login --passphrase …` \
                         (later commands read OUTPOST_PASSPHRASE to unlock)"
                    );
                }
            }
            ExitCode::FAILURE
        }
    }
}
