//! What a desktop shell needs beside the Desk calls: the start-up picture, per-machine settings,
//! the events streamed to the UI, idle auto-lock and the desktop alerts (new P1 ticket, SLA at
//! risk, SLA breached, conflict). Transport-agnostic: the Tauri shell wires these to a window.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use outpost_core::model::{Priority, TicketId};
use outpost_store::{AssigneeFilter, QueueFilter, QueueSort, SlaFilter};
use serde::{Deserialize, Serialize};

use crate::desk::{Desk, DeskResult, Me};
use crate::sync::{ChangeNotice, SyncStatus};
use crate::vault::{KeychainState, VaultMode};

/// Per-machine preferences (`<data dir>/settings.json`; no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Settings {
    /// Lock after this many minutes without keyboard or pointer input; 0 never locks.
    pub idle_lock_minutes: u32,
    pub theme: Theme,
    pub language: Language,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            idle_lock_minutes: 15,
            theme: Theme::System,
            language: Language::En,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    Light,
    Dark,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Language {
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

/// Longest idle time a user may set (a week); longer values are clamped.
pub const MAX_IDLE_LOCK_MINUTES: u32 = 7 * 24 * 60;

impl Settings {
    pub(crate) const FILE: &'static str = "settings.json";

    /// The saved settings; defaults when there are none or the file is unreadable (a broken
    /// preferences file must never keep the app from starting).
    pub fn load(data_dir: &Path) -> Settings {
        std::fs::read(data_dir.join(Self::FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Settings>(&bytes).ok())
            .map(Settings::clamped)
            .unwrap_or_default()
    }

    /// Saves atomically (temporary file, then rename), private to the user.
    pub fn save(&self, data_dir: &Path) -> std::io::Result<Settings> {
        let clamped = self.clone().clamped();
        crate::private_files::create_dir(data_dir)?;
        crate::private_files::write_atomic(
            &data_dir.join(Self::FILE),
            &serde_json::to_vec_pretty(&clamped)?,
        )?;
        Ok(clamped)
    }

    fn clamped(mut self) -> Settings {
        self.idle_lock_minutes = self.idle_lock_minutes.min(MAX_IDLE_LOCK_MINUTES);
        self
    }
}

/// The last profile, as the sign-in and lock screens show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProfileInfo {
    pub server: String,
    pub email: String,
    /// `None` when the profile was never unlocked on this machine.
    pub mode: Option<VaultMode>,
}

/// Everything the UI needs to pick its first screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StartInfo {
    pub profile: Option<ProfileInfo>,
    /// Set when the shell is already signed in (an unlocked session, or `make run`).
    pub me: Option<Me>,
    pub keychain: KeychainState,
    pub settings: Settings,
}

impl Desk {
    /// The start-up picture: the last profile, whether it is open, the keychain, the settings.
    pub async fn start_info(&self) -> DeskResult<StartInfo> {
        let profile = match self.last_profile()? {
            Some((server, email)) => Some(ProfileInfo {
                server,
                email,
                mode: self.last_profile_mode().await?,
            }),
            None => None,
        };
        Ok(StartInfo {
            profile,
            me: self.me().await.ok(),
            keychain: self.keychain_state().await,
            settings: Settings::load(self.data_dir()),
        })
    }
}

/// A desktop notification worth interrupting the agent for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Alert {
    /// A P1 ticket arrived in one of the agent's departments (or assigned to them).
    NewP1 {
        ticket_id: TicketId,
        key: Option<String>,
        subject: String,
    },
    /// A ticket of the agent's passed its SLA warning point.
    SlaAtRisk {
        ticket_id: TicketId,
        key: Option<String>,
        subject: String,
        due_at: DateTime<Utc>,
    },
    /// A ticket of the agent's missed its SLA deadline.
    SlaBreached {
        ticket_id: TicketId,
        key: Option<String>,
        subject: String,
    },
    /// The server kept other values than this device set.
    Conflict { count: u32 },
}

/// What the shell streams to the UI.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeskEvent {
    Status {
        status: SyncStatus,
    },
    Changes {
        notice: ChangeNotice,
    },
    Alert {
        alert: Alert,
    },
    /// The desk locked itself (idle time); the UI shows the lock screen.
    Locked,
    /// An attachment's upload moved on (the composer's progress bar).
    AttachmentProgress {
        progress: crate::attachments::AttachmentProgress,
    },
}

/// Decides which alerts are new. Remembers what it announced, so each ticket's P1 arrival,
/// SLA risk and breach is announced once per session, and conflicts only when their number
/// grows. The first check only takes note of what already exists: starting the app does not
/// replay the backlog as notifications.
#[derive(Debug, Default)]
pub struct AlertWatch {
    primed: bool,
    p1: HashSet<TicketId>,
    at_risk: HashSet<TicketId>,
    breached: HashSet<TicketId>,
    conflicts: u32,
}

/// How many tickets of each kind one check looks at (the most urgent first).
const ALERT_WINDOW: u32 = 200;

impl AlertWatch {
    pub fn new() -> AlertWatch {
        AlertWatch::default()
    }

    /// The agent's scope: tickets assigned to them, or unassigned in their departments.
    fn scopes(me: &Me) -> Vec<QueueFilter> {
        let mine = QueueFilter {
            assignee: AssigneeFilter::User { id: me.user.id },
            ..QueueFilter::default()
        };
        let unassigned = QueueFilter {
            assignee: AssigneeFilter::Unassigned,
            departments: me.user.departments.clone(),
            ..QueueFilter::default()
        };
        if me.user.departments.is_empty() {
            vec![mine]
        } else {
            vec![mine, unassigned]
        }
    }

    /// Looks at the cache and returns the alerts not announced yet.
    pub async fn check(&mut self, desk: &Desk, status: &SyncStatus) -> DeskResult<Vec<Alert>> {
        let me = desk.me().await?;
        let mut alerts = Vec::new();
        let open = outpost_core::model::Status::ALL
            .iter()
            .copied()
            .filter(|s| s.is_open())
            .collect::<Vec<_>>();
        for scope in Self::scopes(&me) {
            let p1 = QueueFilter {
                priorities: vec![Priority::P1],
                statuses: open.clone(),
                ..scope.clone()
            };
            for row in desk
                .queue(p1, QueueSort::Updated, None, ALERT_WINDOW)
                .await?
                .rows
            {
                if self.p1.insert(row.id) && self.primed {
                    alerts.push(Alert::NewP1 {
                        ticket_id: row.id,
                        key: row.key,
                        subject: row.subject,
                    });
                }
            }
            for (sla, seen) in [
                (SlaFilter::AtRisk, &mut self.at_risk),
                (SlaFilter::Breached, &mut self.breached),
            ] {
                let filter = QueueFilter {
                    sla: Some(sla),
                    statuses: open.clone(),
                    ..scope.clone()
                };
                for row in desk
                    .queue(filter, QueueSort::SlaDue, None, ALERT_WINDOW)
                    .await?
                    .rows
                {
                    if seen.insert(row.id) && self.primed {
                        alerts.push(match (sla, row.sla_due_at) {
                            (SlaFilter::AtRisk, Some(due_at)) => Alert::SlaAtRisk {
                                ticket_id: row.id,
                                key: row.key,
                                subject: row.subject,
                                due_at,
                            },
                            _ => Alert::SlaBreached {
                                ticket_id: row.id,
                                key: row.key,
                                subject: row.subject,
                            },
                        });
                    }
                }
            }
        }
        let conflicts = u32::try_from(status.conflicts).unwrap_or(u32::MAX);
        if conflicts > self.conflicts && self.primed {
            alerts.push(Alert::Conflict { count: conflicts });
        }
        self.conflicts = conflicts;
        self.primed = true;
        Ok(alerts)
    }
}

/// Idle auto-lock: the UI reports activity, the shell asks whether the limit has passed.
#[derive(Debug)]
pub struct IdleClock {
    last: Instant,
}

impl Default for IdleClock {
    fn default() -> Self {
        IdleClock::new()
    }
}

impl IdleClock {
    pub fn new() -> IdleClock {
        IdleClock {
            last: Instant::now(),
        }
    }

    pub fn touch(&mut self) {
        self.last = Instant::now();
    }

    /// Whether `minutes` of idleness have passed at `now` (never for 0).
    pub fn expired(&self, minutes: u32, now: Instant) -> bool {
        minutes > 0
            && now.saturating_duration_since(self.last)
                >= Duration::from_secs(u64::from(minutes) * 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_survive_a_round_trip_and_a_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Settings::load(dir.path()), Settings::default());
        let saved = Settings {
            idle_lock_minutes: u32::MAX,
            theme: Theme::Dark,
            language: Language::ZhCn,
        }
        .save(dir.path())
        .unwrap();
        assert_eq!(saved.idle_lock_minutes, MAX_IDLE_LOCK_MINUTES);
        assert_eq!(Settings::load(dir.path()), saved);
        let text = std::fs::read_to_string(dir.path().join("settings.json")).unwrap();
        assert!(text.contains("\"zh-CN\""), "{text}");
        std::fs::write(dir.path().join("settings.json"), b"{not json").unwrap();
        assert_eq!(Settings::load(dir.path()), Settings::default());
        // Missing fields take their defaults.
        std::fs::write(dir.path().join("settings.json"), br#"{"theme":"light"}"#).unwrap();
        let partial = Settings::load(dir.path());
        assert_eq!(partial.theme, Theme::Light);
        assert_eq!(partial.idle_lock_minutes, 15);
    }

    #[test]
    fn idle_clock_expires_after_the_limit_and_never_at_zero() {
        let mut clock = IdleClock::new();
        let start = clock.last;
        assert!(!clock.expired(1, start + Duration::from_secs(59)));
        assert!(clock.expired(1, start + Duration::from_secs(60)));
        assert!(!clock.expired(0, start + Duration::from_secs(86400)));
        clock.touch();
        assert!(!clock.expired(1, clock.last + Duration::from_secs(30)));
    }

    #[test]
    fn events_serialise_with_a_kind_tag() {
        let alert = DeskEvent::Alert {
            alert: Alert::Conflict { count: 2 },
        };
        assert_eq!(
            serde_json::to_value(&alert).unwrap(),
            serde_json::json!({"kind": "alert", "alert": {"kind": "conflict", "count": 2}})
        );
        assert_eq!(
            serde_json::to_value(DeskEvent::Locked).unwrap(),
            serde_json::json!({"kind": "locked"})
        );
    }
}
