//! The `outpost-server audit …` commands as an operator runs them: the real binary against the
//! test's database. `verify-export` runs with no database at all (an empty working directory,
//! no `--database-url`, no `OUTPOST_DATABASE_URL`).

#[macro_use]
mod common;

use std::path::Path;

use common::*;
use outpost_core::audit_export::{AuditExport, AuditPage};
use outpost_core::sync::Mutation;
use uuid::Uuid;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cli(cwd: &Path, args: &[&str]) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_outpost-server"))
        .args(args)
        .current_dir(cwd)
        .env_remove("OUTPOST_DATABASE_URL")
        .env_remove("OUTPOST_BIND")
        .env("OUTPOST_LOG", "warn")
        .output()
        .expect("run outpost-server");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn audit_rows(s: &Server) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit")
        .fetch_one(&s.db.pool)
        .await
        .unwrap()
}

async fn export_then_verify_offline_and_archive(s: Server) {
    let (_, agent) = s.user("agent@acme.example", "agent", &["support"]).await;
    let (_, lead) = s
        .user("lead@acme.example", "supervisor", &["support"])
        .await;
    let ticket = Uuid::now_v7();
    let note = Uuid::now_v7();
    let (_, body) = s
        .push(
            &agent,
            Uuid::now_v7(),
            vec![
                (1, new_ticket(ticket, "support")),
                (
                    2,
                    Mutation::AddNote {
                        entry_id: note,
                        ticket_id: ticket,
                        text: "a password, pasted by mistake".into(),
                    },
                ),
                (3, Mutation::RecordView { ticket_id: ticket }),
            ],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied", "applied", "applied"]);
    let (_, body) = s
        .push(
            &lead,
            Uuid::now_v7(),
            vec![(
                1,
                Mutation::RedactEntry {
                    ticket_id: ticket,
                    entry_id: note,
                    reason: "a password".into(),
                },
            )],
        )
        .await;
    assert_eq!(outcomes(&body), ["applied"]);

    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let db = s.url.as_str();

    let run = cli(dir, &["--database-url", db, "audit", "verify"]);
    assert_eq!(run.code, 0, "{} {}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("✓"), "{}", run.stdout);

    let run = cli(
        dir,
        &["--database-url", db, "audit", "list", "--limit", "5"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("SEQ") && run.stdout.contains("entry.redact"));
    assert!(run.stdout.contains("lead@acme.example"), "actors by e-mail");
    assert!(run.stdout.contains("… more with --before-seq"));
    let run = cli(
        dir,
        &[
            "--database-url",
            db,
            "audit",
            "list",
            "--json",
            "--action",
            "ticket.",
            "--department",
            "support",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let page: AuditPage = serde_json::from_str(&run.stdout).unwrap();
    let actions: Vec<&str> = page
        .events
        .iter()
        .map(|r| r.chained.event.action.as_str())
        .collect();
    assert_eq!(actions, ["ticket.view", "ticket.create"]);
    let run = cli(
        dir,
        &["--database-url", db, "audit", "list", "--from", "yesterday"],
    );
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("RFC 3339"), "{}", run.stderr);

    // A whole-chain export, checked offline: no database anywhere near.
    let csv = dir.join("trail.csv");
    let out = csv.to_str().unwrap();
    let run = cli(
        dir,
        &[
            "--database-url",
            db,
            "audit",
            "export",
            "--format",
            "csv",
            "--out",
            out,
        ],
    );
    assert_eq!(run.code, 0, "{} {}", run.stdout, run.stderr);
    let run = cli(
        dir,
        &[
            "--database-url",
            db,
            "audit",
            "export",
            "--format",
            "csv",
            "--out",
            out,
        ],
    );
    assert_eq!(run.code, 1, "an existing file is not overwritten");
    let offline = tempfile::tempdir().unwrap();
    let run = cli(offline.path(), &["audit", "verify-export", out]);
    assert_eq!(run.code, 0, "{} {}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("verified, contiguous"),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read_dir(offline.path()).unwrap().count(),
        0,
        "verify-export opened no database"
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let export = AuditExport::parse(&text).unwrap();
    assert_eq!(export.header.first_seq, 1);
    assert_eq!(export.header.head.last_seq, export.header.last_seq);
    assert!(!text.contains("pasted by mistake"));

    // An anchor noted earlier must match.
    let noted = &export.events[4];
    let good = format!("{}:{}", noted.event.seq, noted.hash);
    let run = cli(
        offline.path(),
        &["audit", "verify-export", out, "--head", &good],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let wrong = format!("{}:{}", noted.event.seq, export.events[3].hash);
    let run = cli(
        offline.path(),
        &["audit", "verify-export", out, "--head", &wrong],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("rewritten"), "{}", run.stdout);

    // One line edited (event #3's time moved by a microsecond): named.
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_owned).collect();
    let line = &mut lines[3 + 2];
    assert!(line.starts_with("\"3\","), "{line}");
    *line = line.replacen("000Z\"", "001Z\"", 1);
    let edited = dir.join("edited.csv");
    std::fs::write(&edited, lines.join("\r\n")).unwrap();
    let run = cli(
        offline.path(),
        &["audit", "verify-export", edited.to_str().unwrap()],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("event #3") && run.stdout.contains("altered"),
        "{}",
        run.stdout
    );
    let run = cli(
        offline.path(),
        &["audit", "verify-export", "/nonexistent/export.csv"],
    );
    assert_eq!(run.code, 1);

    // A filtered JSON export verifies too, and says it is filtered.
    let json = dir.join("views.json");
    let run = cli(
        dir,
        &[
            "--database-url",
            db,
            "audit",
            "export",
            "--format",
            "json",
            "--action",
            "ticket.view",
            "--out",
            json.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{} {}", run.stdout, run.stderr);
    let run = cli(
        offline.path(),
        &["audit", "verify-export", json.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("1 events") && run.stdout.contains("filtered"));

    // Retention: nothing is older than five years; an explicit cutoff archives, deletes nothing.
    let archive = dir.join("archive");
    let archive_dir = archive.to_str().unwrap();
    let run = cli(
        dir,
        &[
            "--database-url",
            db,
            "audit",
            "archive",
            "--dir",
            archive_dir,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("Nothing to archive"),
        "{}",
        run.stdout
    );
    let rows = audit_rows(&s).await;
    let cutoff = (outpost_server::db::now() + chrono::Duration::seconds(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let run = cli(
        dir,
        &[
            "--database-url",
            db,
            "audit",
            "archive",
            "--before",
            &cutoff,
            "--dir",
            archive_dir,
        ],
    );
    assert_eq!(run.code, 0, "{} {}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Nothing was deleted"), "{}", run.stdout);
    assert_eq!(
        audit_rows(&s).await,
        rows + 1,
        "every event stays; the archive itself is audited"
    );
    let files: Vec<_> = std::fs::read_dir(&archive)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let run = cli(
        offline.path(),
        &["audit", "verify-export", files[0].to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let bytes = std::fs::read(&files[0]).unwrap();
    let (recorded_sha, first, last): (String, i64, i64) =
        sqlx::query_as("SELECT file_sha256, first_seq, last_seq FROM audit_archives")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    use sha2::Digest;
    assert_eq!(recorded_sha, hex::encode(sha2::Sha256::digest(&bytes)));
    assert_eq!((first, last), (1, rows));
    // The same cutoff again: nothing new.
    let run = cli(
        dir,
        &[
            "--database-url",
            db,
            "audit",
            "archive",
            "--before",
            &cutoff,
            "--dir",
            archive_dir,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("Nothing to archive"),
        "{}",
        run.stdout
    );

    let run = cli(dir, &["--database-url", db, "audit", "verify"]);
    assert_eq!(run.code, 0, "{} {}", run.stdout, run.stderr);
}

on_both_databases!(export_then_verify_offline_and_archive);
