//! Supervisor tools on the Desk: the audit trail (read from the server, verified here), exports
//! and their offline check, and reports from the local cache.
//!
//! Verification never trusts the server's word: the client pages through the whole chain and
//! recomputes every hash itself with [`outpost_core::audit::Verifier`]. It also remembers the
//! head it last verified on this device (`audit-head.json` in the profile directory, no secret),
//! so a server whose history was rewritten consistently after that check is still caught.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use outpost_core::audit::{BreakKind, ChainBreak, ChainHead, Verifier};
use outpost_core::audit_export::{
    AuditExport, AuditPage, AuditQuery, ExportHeader, ExportProblem, ExportVerified, MAX_AUDIT_PAGE,
};
use outpost_core::model::Role;
use outpost_store::{Report, ReportParams};
use serde::{Deserialize, Serialize};

use crate::desk::{Desk, DeskError, DeskResult};

/// How far a verification of the server's chain has got: events checked so far, of the server's
/// head (sent after each page, for a progress bar).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VerifyProgress {
    pub checked: u64,
    pub head: u64,
}

/// The result of verifying the server's chain from this device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChainCheck {
    pub checked_at: DateTime<Utc>,
    /// Events this device read and recomputed.
    pub checked: u64,
    /// The last event that verified.
    pub verified_head: ChainHead,
    /// What the server says the head is.
    pub server_head: ChainHead,
    /// The first event that does not fit, if any.
    pub broken: Option<ChainBreak>,
    /// The head this device verified last time, and whether today's chain still contains it.
    pub previous: Option<ChainHead>,
    pub previous_matches: Option<bool>,
    pub seconds: f64,
}

impl ChainCheck {
    pub fn ok(&self) -> bool {
        self.broken.is_none() && self.previous_matches != Some(false)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Json,
}

/// A file the Desk wrote for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SavedFile {
    pub path: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SavedExport {
    pub file: SavedFile,
    pub header: ExportHeader,
}

/// What checking an export file found. Exactly one of `verified`, `problem`, `unreadable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportCheck {
    pub header: Option<ExportHeader>,
    pub verified: Option<ExportVerified>,
    pub problem: Option<ExportProblem>,
    /// The file is not an Outpost audit export (or is damaged beyond reading).
    pub unreadable: Option<String>,
}

/// Checks an export's text offline (no server, no cache): the CLI's `outpost audit
/// verify-export` and the desktop's "Check an export" both call this.
pub fn check_export(text: &str, anchor: Option<&ChainHead>) -> ExportCheck {
    match AuditExport::parse(text) {
        Err(e) => ExportCheck {
            header: None,
            verified: None,
            problem: None,
            unreadable: Some(e.to_string()),
        },
        Ok(export) => {
            let result = export.verify_with_anchor(anchor);
            ExportCheck {
                header: Some(export.header),
                verified: result.as_ref().ok().cloned(),
                problem: result.err(),
                unreadable: None,
            }
        }
    }
}

/// Where exports go: `$OUTPOST_EXPORT_DIR`, else the XDG download directory, else
/// `~/Downloads`, else the data directory's `exports/`.
pub fn export_dir(data_dir: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("OUTPOST_EXPORT_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_DOWNLOAD_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
        // xdg-user-dirs: XDG_DOWNLOAD_DIR="$HOME/Downloads"
        let config =
            std::env::var_os("XDG_CONFIG_HOME").map_or_else(|| home.join(".config"), PathBuf::from);
        if let Ok(text) = std::fs::read_to_string(config.join("user-dirs.dirs")) {
            for line in text.lines() {
                if let Some(value) = line.trim().strip_prefix("XDG_DOWNLOAD_DIR=") {
                    let value = value
                        .trim_matches('"')
                        .replace("$HOME", &home.to_string_lossy());
                    return PathBuf::from(value);
                }
            }
        }
        let downloads = home.join("Downloads");
        if downloads.is_dir() {
            return downloads;
        }
    }
    data_dir.join("exports")
}

/// A file name from page-supplied text: letters, digits, `-`, `_`, `.`; no path, no hidden file.
pub fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "outpost-export".into()
    } else {
        cleaned
    }
}

/// Writes `bytes` to `dir/name` without replacing an existing file (`name (2).csv`…), through a
/// temporary file and a rename, so a half-written export never carries the final name.
///
/// Unlike the data directory's files, an export gets the user's usual mode (the umask): it is a
/// document the user asked for, saved in their own Downloads or chosen folder to be handed on
/// (to an auditor, a spreadsheet), like any file an application saves there. The fallback
/// `<data dir>/exports` sits inside the private data directory.
pub fn write_new_file(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = safe_file_name(name);
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
        _ => (name.clone(), String::new()),
    };
    let tmp = dir.join(format!(".{stem}.{}.part", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    for n in 1..1000 {
        let candidate = if n == 1 {
            dir.join(&name)
        } else {
            dir.join(format!("{stem} ({n}){ext}"))
        };
        // Reserve the name (create_new fails if it is taken, so no other writer's file is
        // replaced), then move the complete file over the empty placeholder. Works on every
        // file system, hard links or not.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(_) => {
                return match std::fs::rename(&tmp, &candidate) {
                    Ok(()) => Ok(candidate),
                    Err(e) => {
                        let _ = std::fs::remove_file(&candidate);
                        let _ = std::fs::remove_file(&tmp);
                        Err(e)
                    }
                };
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        }
    }
    let _ = std::fs::remove_file(&tmp);
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "too many files with this name",
    ))
}

pub(crate) const HEAD_FILE: &str = "audit-head.json";

impl Desk {
    async fn require_supervisor(&self) -> DeskResult<()> {
        match self.me().await?.user.role {
            Role::Supervisor | Role::Admin => Ok(()),
            Role::Agent => Err(DeskError::Forbidden(
                "the audit trail and reports are for supervisors".into(),
            )),
        }
    }

    /// One page of the audit trail from the server (online only).
    pub async fn audit_page(&self, query: AuditQuery) -> DeskResult<AuditPage> {
        self.require_supervisor().await?;
        Ok(self.engine().await?.audit_page(&query).await?)
    }

    /// Reads the whole chain from the server and verifies every event here.
    pub async fn audit_verify(&self) -> DeskResult<ChainCheck> {
        self.audit_verify_with(|_| {}).await
    }

    /// [`Desk::audit_verify`], calling `progress` after each page is checked.
    pub async fn audit_verify_with(
        &self,
        progress: impl Fn(VerifyProgress) + Send,
    ) -> DeskResult<ChainCheck> {
        self.require_supervisor().await?;
        let engine = self.engine().await?;
        let started = Instant::now();
        let head_path = self.open_dir().await?.join(HEAD_FILE);
        let previous: Option<ChainHead> = std::fs::read(&head_path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let mut verifier = Verifier::new();
        let mut previous_matches = None;
        let mut broken = None;
        // The next page is fetched (and decoded, on another thread) while this one is checked.
        let fetch = |after: u64| {
            let engine = engine.clone();
            tokio::spawn(async move {
                engine
                    .audit_page(&AuditQuery {
                        after_seq: Some(after),
                        limit: Some(MAX_AUDIT_PAGE),
                        ..AuditQuery::default()
                    })
                    .await
            })
        };
        let joined = |r: Result<_, tokio::task::JoinError>| {
            r.map_err(|e| {
                DeskError::Sync(crate::sync::SyncError::Api(crate::api::ApiError::Protocol(
                    format!("reading the chain: {e}"),
                )))
            })
        };
        let mut pending = fetch(0);
        let mut checked = 0u64;
        let server_head = loop {
            let page = joined(pending.await)??;
            let mut next = match page.events.last() {
                Some(last) if page.has_more => Some(fetch(last.chained.event.seq)),
                _ => None,
            };
            for record in &page.events {
                let seq = record.chained.event.seq;
                if seq > page.head.last_seq {
                    // Served, but past the server's own counter: added behind its back.
                    broken = Some(ChainBreak {
                        seq,
                        index: verifier.clone().finish().count as usize,
                        kind: BreakKind::BeyondHead {
                            head: page.head.last_seq,
                        },
                    });
                    break;
                }
                if let Err(b) = verifier.push(&record.chained) {
                    broken = Some(b);
                    break;
                }
                if let Some(p) = previous
                    .as_ref()
                    .filter(|p| p.last_seq == record.chained.event.seq)
                {
                    previous_matches = Some(p.hash == record.chained.hash);
                }
            }
            checked += page.events.len() as u64;
            progress(VerifyProgress {
                checked: checked.min(page.head.last_seq),
                head: page.head.last_seq,
            });
            match next.take() {
                Some(next) if broken.is_none() => pending = next,
                other => {
                    if let Some(unused) = other {
                        unused.abort();
                    }
                    break page.head;
                }
            }
        };
        let verified = verifier.finish();
        if broken.is_none() && server_head.last_seq > verified.head.last_seq {
            // The server's own counter says there are more events than it served.
            broken = Some(ChainBreak {
                seq: verified.head.last_seq + 1,
                index: verified.count as usize,
                kind: BreakKind::Truncated {
                    expected_last: server_head.last_seq,
                    found_last: verified.head.last_seq,
                },
            });
        }
        if let (Some(p), None) = (&previous, previous_matches) {
            if broken.is_none() && p.last_seq > verified.head.last_seq {
                // Verified further last time than the chain reaches now.
                previous_matches = Some(false);
            }
        }
        let check = ChainCheck {
            checked_at: crate::desk::now(),
            checked: verified.count,
            verified_head: verified.head.clone(),
            server_head,
            broken,
            previous,
            previous_matches,
            seconds: started.elapsed().as_secs_f64(),
        };
        if check.ok() {
            let json = serde_json::to_vec(&verified.head).expect("heads serialise");
            crate::private_files::write_atomic(&head_path, &json)?;
        }
        Ok(check)
    }

    /// Exports the events the query selects (oldest first) with the chain head, to a new file in
    /// the export directory.
    pub async fn audit_export(
        &self,
        mut query: AuditQuery,
        format: ExportFormat,
    ) -> DeskResult<SavedExport> {
        self.require_supervisor().await?;
        let engine = self.engine().await?;
        query.before_seq = None;
        query.limit = Some(MAX_AUDIT_PAGE);
        let mut after = 0u64;
        let mut events = Vec::new();
        let head = loop {
            query.after_seq = Some(after);
            let page = engine.audit_page(&query).await?;
            if let Some(last) = page.events.last() {
                after = last.chained.event.seq;
            }
            let done = !page.has_more || page.events.is_empty();
            events.extend(page.events.into_iter().map(|r| r.chained));
            if done {
                break page.head;
            }
        };
        let me = self.me().await?;
        let export = AuditExport::new(
            events,
            head,
            &query,
            me.user.id.to_string(),
            me.server.clone(),
            crate::desk::now(),
        );
        let (text, ext) = match format {
            ExportFormat::Csv => (export.to_csv(), "csv"),
            ExportFormat::Json => (export.to_json(), "json"),
        };
        let name = format!(
            "outpost-audit-{}-{}.{ext}",
            export.header.first_seq, export.header.last_seq
        );
        let file = self.save_file(&name, text.as_bytes()).await?;
        Ok(SavedExport {
            file,
            header: export.header,
        })
    }

    /// Saves page-made content (a report table as CSV) under a sanitised name in the export
    /// directory.
    #[allow(
        clippy::unused_async,
        reason = "every Desk call is awaited alike; writing a report table is quick enough inline"
    )]
    pub async fn save_file(&self, name: &str, bytes: &[u8]) -> DeskResult<SavedFile> {
        let dir = export_dir(self.data_dir());
        let path = write_new_file(&dir, name, bytes).map_err(|e| DeskError::Io {
            path: dir.clone(),
            detail: e.to_string(),
        })?;
        Ok(SavedFile {
            path: path.to_string_lossy().into_owned(),
            bytes: bytes.len() as u64,
        })
    }

    /// Reports from the local cache; works offline.
    pub async fn report(&self, params: ReportParams) -> DeskResult<Report> {
        self.require_supervisor().await?;
        self.with_store(move |s, _| s.report(&params, crate::desk::now()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_files_never_replace_one_another_and_names_cannot_escape() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_new_file(dir.path(), "report.csv", b"first").unwrap();
        let b = write_new_file(dir.path(), "report.csv", b"second").unwrap();
        assert_eq!(a, dir.path().join("report.csv"));
        assert_eq!(b, dir.path().join("report (2).csv"));
        assert_eq!(std::fs::read(&a).unwrap(), b"first");
        assert_eq!(std::fs::read(&b).unwrap(), b"second");
        let c = write_new_file(dir.path(), "../../etc/.passwd", b"x").unwrap();
        assert_eq!(c.parent(), Some(dir.path()));
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names
                .iter()
                .all(|n| Path::new(n).extension().is_none_or(|e| e != "part")),
            "{names:?}"
        );
        assert_eq!(names.len(), 3);
    }
}
