//! SLA clocks: where each of a ticket's clocks stands at `now`, and why.
//!
//! A clock counts time on its calendar from its start until it stops (or `now`), minus the time
//! the ticket spent pending. Every figure an explanation quotes is a field of [`SlaClock`], so
//! the UI, reports and the explanation can never disagree.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::{BusinessCalendar, CalendarAdjustment};
use super::policy::{ClockKind, SlaSettings};
use crate::model::{PauseSpan, Ticket};

/// Where a clock stands. A running clock is `OnTrack`, `AtRisk` or `Breached`; it is breached
/// once counted time exceeds the target strictly, so a reply exactly at `due_at` is on time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    OnTrack,
    AtRisk,
    Breached,
    /// The ticket is pending right now; the clock resumes when it is not.
    Paused,
    /// Stopped within the target.
    Met,
    /// Stopped after the target.
    MetLate,
}

impl ClockState {
    pub fn is_running(self) -> bool {
        matches!(self, ClockState::OnTrack | ClockState::AtRisk | ClockState::Breached)
    }
}

/// One clock of one ticket, evaluated at some `now`.
///
/// On the wire, durations are whole seconds in `*_seconds` fields (`target_seconds: 7200`), so
/// the unit is in the name and any JSON reader can do arithmetic on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClock {
    pub kind: ClockKind,
    pub state: ClockState,
    #[serde(rename = "target_seconds", with = "duration_seconds")]
    pub target: Duration,
    /// Counted time: open time on the clock's calendar, pauses excluded.
    #[serde(rename = "elapsed_seconds", with = "duration_seconds")]
    pub elapsed: Duration,
    /// Open time on the calendar that fell inside pauses (not counted).
    #[serde(rename = "paused_seconds", with = "duration_seconds")]
    pub paused: Duration,
    /// `target - elapsed`; negative once breached.
    #[serde(rename = "remaining_seconds", with = "duration_seconds")]
    pub remaining: Duration,
    /// Wall-clock time inside the span when the calendar was closed (not counted).
    #[serde(rename = "outside_hours_seconds", with = "duration_seconds")]
    pub outside_hours: Duration,
    pub started_at: DateTime<Utc>,
    /// When counted time reaches the target (in the past once breached). `None` unless running.
    pub due_at: Option<DateTime<Utc>>,
    /// When counted time reaches the warning share of the target. `None` unless running.
    pub warn_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// Holidays and special periods between the start and the later of now/stop and `due_at`.
    pub adjustments: Vec<CalendarAdjustment>,
}

/// All clocks of a ticket and the policy that set their targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaReport {
    /// Name of the matched policy; `None` when no policy covers the ticket.
    pub policy: Option<String>,
    pub clocks: Vec<SlaClock>,
}

/// The next thing a running clock needs, for queue sorting and countdowns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub kind: ClockKind,
    pub due_at: DateTime<Utc>,
    pub warn_at: Option<DateTime<Utc>>,
}

impl SlaReport {
    /// The earliest due time among running clocks (a breached clock's due time is in the past,
    /// so it sorts first).
    pub fn next_deadline(&self) -> Option<Deadline> {
        self.clocks
            .iter()
            .filter(|c| c.state.is_running())
            .filter_map(|c| {
                c.due_at.map(|due_at| Deadline { kind: c.kind, due_at, warn_at: c.warn_at })
            })
            .min_by_key(|d| d.due_at)
    }
}

impl SlaSettings {
    /// Every clock of the ticket at `now`, in the order first response, periodic update,
    /// resolution, revisit. Clocks of a resolved or closed ticket are stopped when it was
    /// resolved (or closed), so the answer for such a ticket does not depend on `now`.
    pub fn evaluate(&self, ticket: &Ticket, now: DateTime<Utc>) -> SlaReport {
        let policy = self.policy_for(ticket);
        let mut clocks = Vec::new();
        if let Some(policy) = policy {
            let calendar = self.calendar_for(policy);
            let finished = finished_at(ticket);
            let last_update = ticket.last_update_at.map_or(ticket.created_at, |u| u.max(ticket.created_at));
            let specs = [
                (ClockKind::FirstResponse, ticket.created_at, ticket.first_response_at.or(finished)),
                (ClockKind::PeriodicUpdate, last_update, finished),
                (ClockKind::Resolution, ticket.created_at, ticket.resolved_at.or(finished)),
            ];
            for (kind, start, stop) in specs {
                if let Some(target) = policy.target(kind) {
                    let run = ClockRun {
                        kind,
                        calendar: &calendar,
                        start,
                        stop,
                        target,
                        pauses: &ticket.pauses,
                        paused_now: ticket.is_paused(),
                    };
                    clocks.push(run.evaluate(now, self.warn_share));
                }
            }
        }
        if let (true, Some(due)) = (ticket.status.is_open(), ticket.revisit_due_at) {
            // The revisit is promised in wall-clock hours, pending or not.
            let promised = due.checked_sub_signed(Duration::hours(24)).unwrap_or(due);
            let start = ticket.csat.as_ref().map_or(promised, |c| c.at).min(due);
            let wall_clock = BusinessCalendar::always_open(chrono_tz::UTC);
            let run = ClockRun {
                kind: ClockKind::Revisit,
                calendar: &wall_clock,
                start,
                stop: None,
                target: due - start,
                pauses: &[],
                paused_now: false,
            };
            clocks.push(run.evaluate(now, self.warn_share));
        }
        SlaReport { policy: policy.map(|p| p.name.clone()), clocks }
    }
}

/// When a ticket that is no longer open stopped needing work; `None` while open. Falls back to
/// the last change when the stamps are missing, so an inconsistent row still stops its clocks.
fn finished_at(ticket: &Ticket) -> Option<DateTime<Utc>> {
    (!ticket.status.is_open())
        .then(|| ticket.resolved_at.or(ticket.closed_at).unwrap_or(ticket.updated_at))
}

/// The facts needed to evaluate one clock.
struct ClockRun<'a> {
    kind: ClockKind,
    calendar: &'a BusinessCalendar,
    start: DateTime<Utc>,
    stop: Option<DateTime<Utc>>,
    target: Duration,
    pauses: &'a [PauseSpan],
    paused_now: bool,
}

impl ClockRun<'_> {
    fn evaluate(&self, now: DateTime<Utc>, warn_share: f64) -> SlaClock {
        let calendar = self.calendar;
        let end = self.stop.unwrap_or(now).max(self.start);
        let pauses = pause_spans(self.pauses, self.start, end);
        let total = calendar.business_duration(self.start, end);
        let paused: Duration = pauses.iter().map(|&(s, e)| calendar.business_duration(s, e)).sum();
        let elapsed = total - paused;
        let warn = share_of(self.target, warn_share);
        let state = match self.stop {
            Some(_) if elapsed <= self.target => ClockState::Met,
            Some(_) => ClockState::MetLate,
            None if self.paused_now => ClockState::Paused,
            None if elapsed > self.target => ClockState::Breached,
            None if elapsed >= warn => ClockState::AtRisk,
            None => ClockState::OnTrack,
        };
        let (due_at, warn_at) = if state.is_running() {
            (
                counted_instant(calendar, self.start, &pauses, self.target),
                counted_instant(calendar, self.start, &pauses, warn),
            )
        } else {
            (None, None)
        };
        let horizon = due_at.map_or(end, |due| due.max(end));
        SlaClock {
            kind: self.kind,
            state,
            target: self.target,
            elapsed,
            paused,
            remaining: self.target - elapsed,
            outside_hours: (end - self.start) - total,
            started_at: self.start,
            due_at,
            warn_at,
            stopped_at: self.stop,
            adjustments: calendar.adjustments_between(self.start, horizon),
        }
    }
}

/// Pause spans clipped to `start..end`, sorted and merged (an open pause runs to `end`), so
/// overlapping or out-of-range rows cannot make counted time negative.
fn pause_spans(
    pauses: &[PauseSpan],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut clipped: Vec<_> = pauses
        .iter()
        .map(|p| (p.start.max(start), p.end.unwrap_or(end).min(end)))
        .filter(|(s, e)| e > s)
        .collect();
    clipped.sort_unstable();
    let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::with_capacity(clipped.len());
    for (s, e) in clipped {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// The instant at which `amount` of counted time (open and not paused) has passed since
/// `start`; past the last pause, open time runs on into the future.
fn counted_instant(
    calendar: &BusinessCalendar,
    start: DateTime<Utc>,
    pauses: &[(DateTime<Utc>, DateTime<Utc>)],
    amount: Duration,
) -> Option<DateTime<Utc>> {
    let mut cursor = start;
    let mut remaining = amount;
    for &(pause_start, pause_end) in pauses {
        let available = calendar.business_duration(cursor, pause_start);
        if remaining <= available {
            return calendar.add_business(cursor, remaining);
        }
        remaining -= available;
        cursor = cursor.max(pause_end);
    }
    calendar.add_business(cursor, remaining)
}

/// `share` of `target`, to the millisecond; a nonsensical share falls back to the target.
fn share_of(target: Duration, share: f64) -> Duration {
    let millis = (target.num_milliseconds() as f64 * share).round();
    if millis.is_finite() {
        Duration::try_milliseconds(millis as i64).unwrap_or(target)
    } else {
        target
    }
}

/// A language an explanation can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lang {
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

/// One statement an explanation makes. Which statements apply is decided once, in
/// [`SlaClock::facts`]; [`Fact::render`] only words them.
enum Fact<'a> {
    Used { elapsed: Duration, target: Duration },
    Met { elapsed: Duration, target: Duration },
    MetLate { elapsed: Duration, target: Duration, over: Duration },
    Paused { time: Duration, ongoing: bool },
    OutsideHours(Duration),
    Adjustment(&'a CalendarAdjustment),
    Left(Duration),
    BreachedBy(Duration),
}

impl SlaClock {
    /// A one-line account of the clock, e.g. "Resolution: 1 h 38 min of 2 h used; paused
    /// 2 h 10 min while pending; 22 min left".
    pub fn explain(&self, lang: Lang) -> String {
        let (colon, separator) = match lang {
            Lang::En => (": ", "; "),
            Lang::ZhCn => ("：", "；"),
        };
        let facts: Vec<String> = self.facts().iter().map(|f| f.render(lang)).collect();
        format!("{}{colon}{}", kind_label(self.kind, lang), facts.join(separator))
    }

    fn facts(&self) -> Vec<Fact<'_>> {
        let (elapsed, target) = (self.elapsed, self.target);
        let mut facts = vec![match self.state {
            ClockState::Met => Fact::Met { elapsed, target },
            ClockState::MetLate => Fact::MetLate { elapsed, target, over: -self.remaining },
            _ => Fact::Used { elapsed, target },
        }];
        let ongoing = self.state == ClockState::Paused;
        if self.paused > Duration::zero() || ongoing {
            facts.push(Fact::Paused { time: self.paused, ongoing });
        }
        if self.outside_hours > Duration::zero() {
            facts.push(Fact::OutsideHours(self.outside_hours));
        }
        facts.extend(self.adjustments.iter().map(Fact::Adjustment));
        if self.stopped_at.is_none() {
            facts.push(if self.remaining < Duration::zero() {
                Fact::BreachedBy(-self.remaining)
            } else {
                Fact::Left(self.remaining)
            });
        }
        facts
    }
}

impl Fact<'_> {
    fn render(&self, lang: Lang) -> String {
        let d = |x: &Duration| format_duration(*x, lang);
        match (self, lang) {
            (Fact::Used { elapsed, target }, Lang::En) => format!("{} of {} used", d(elapsed), d(target)),
            (Fact::Used { elapsed, target }, Lang::ZhCn) => format!("已用 {} / {}", d(elapsed), d(target)),
            (Fact::Met { elapsed, target }, Lang::En) => format!("met after {} (target {})", d(elapsed), d(target)),
            (Fact::Met { elapsed, target }, Lang::ZhCn) => format!("已达成，用时 {}（时限 {}）", d(elapsed), d(target)),
            (Fact::MetLate { elapsed, target, over }, Lang::En) => {
                format!("met late after {}, {} over the {} target", d(elapsed), d(over), d(target))
            }
            (Fact::MetLate { elapsed, target, over }, Lang::ZhCn) => {
                format!("超时达成，用时 {}，超出时限 {} 共 {}", d(elapsed), d(target), d(over))
            }
            (Fact::Paused { time, ongoing: false }, Lang::En) => format!("paused {} while pending", d(time)),
            (Fact::Paused { time, ongoing: false }, Lang::ZhCn) => format!("待客户回复暂停 {}", d(time)),
            (Fact::Paused { time, ongoing: true }, Lang::En) => {
                format!("paused {} while pending (still pending)", d(time))
            }
            (Fact::Paused { time, ongoing: true }, Lang::ZhCn) => format!("待客户回复暂停 {}（仍在暂停）", d(time)),
            (Fact::OutsideHours(time), Lang::En) => format!("{} outside business hours not counted", d(time)),
            (Fact::OutsideHours(time), Lang::ZhCn) => format!("非工作时间 {} 不计", d(time)),
            (Fact::Adjustment(CalendarAdjustment::Holiday(h)), Lang::En) => {
                format!("holiday {} ({}) not counted", h.name, h.date)
            }
            (Fact::Adjustment(CalendarAdjustment::Holiday(h)), Lang::ZhCn) => {
                format!("节假日「{}」（{}）不计", h.name, h.date)
            }
            (Fact::Adjustment(CalendarAdjustment::SpecialPeriod(p)), _) => {
                let dates = if p.from == p.to {
                    p.from.to_string()
                } else {
                    let to = match lang {
                        Lang::En => "to",
                        Lang::ZhCn => "至",
                    };
                    format!("{} {to} {}", p.from, p.to)
                };
                let hours = p.hours.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
                let at = p.recorded_at.format("%Y-%m-%d %H:%M UTC");
                match (lang, hours.is_empty()) {
                    (Lang::En, true) => format!(
                        "special period {dates}: closed ({}; recorded by {} at {at})",
                        p.reason, p.recorded_by
                    ),
                    (Lang::En, false) => format!(
                        "special period {dates}: open {hours} ({}; recorded by {} at {at})",
                        p.reason, p.recorded_by
                    ),
                    (Lang::ZhCn, true) => format!(
                        "特殊时段 {dates}：停止服务（{}；{} 于 {at} 记录）",
                        p.reason, p.recorded_by
                    ),
                    (Lang::ZhCn, false) => format!(
                        "特殊时段 {dates}：营业时间 {hours}（{}；{} 于 {at} 记录）",
                        p.reason, p.recorded_by
                    ),
                }
            }
            (Fact::Left(time), Lang::En) => format!("{} left", d(time)),
            (Fact::Left(time), Lang::ZhCn) => format!("剩余 {}", d(time)),
            (Fact::BreachedBy(time), Lang::En) => format!("breached by {}", d(time)),
            (Fact::BreachedBy(time), Lang::ZhCn) => format!("已超时 {}", d(time)),
        }
    }
}

fn kind_label(kind: ClockKind, lang: Lang) -> &'static str {
    match (kind, lang) {
        (ClockKind::FirstResponse, Lang::En) => "First response",
        (ClockKind::FirstResponse, Lang::ZhCn) => "首次响应时限",
        (ClockKind::PeriodicUpdate, Lang::En) => "Periodic update",
        (ClockKind::PeriodicUpdate, Lang::ZhCn) => "定期更新时限",
        (ClockKind::Resolution, Lang::En) => "Resolution",
        (ClockKind::Resolution, Lang::ZhCn) => "解决时限",
        (ClockKind::Revisit, Lang::En) => "Revisit",
        (ClockKind::Revisit, Lang::ZhCn) => "回访时限",
    }
}

/// Hours and minutes, rounded down to the minute; business targets read best in hours
/// ("45 h"), since a business day is not 24 of them. Chinese says 分 after 小时 and 分钟 alone.
fn format_duration(d: Duration, lang: Lang) -> String {
    let minutes = d.num_minutes().abs();
    let (hours, minutes) = (minutes / 60, minutes % 60);
    match (lang, hours, minutes) {
        (Lang::En, 0, 0) if !d.is_zero() => "< 1 min".to_owned(),
        (Lang::ZhCn, 0, 0) if !d.is_zero() => "不足 1 分钟".to_owned(),
        (Lang::En, 0, m) => format!("{m} min"),
        (Lang::ZhCn, 0, m) => format!("{m} 分钟"),
        (Lang::En, h, 0) => format!("{h} h"),
        (Lang::ZhCn, h, 0) => format!("{h} 小时"),
        (Lang::En, h, m) => format!("{h} h {m} min"),
        (Lang::ZhCn, h, m) => format!("{h} 小时 {m} 分"),
    }
}

/// `Duration` as whole seconds on the wire (sub-second precision is not an SLA concern).
mod duration_seconds {
    use chrono::Duration;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(d.num_seconds())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let seconds = i64::deserialize(deserializer)?;
        Duration::try_seconds(seconds)
            .ok_or_else(|| D::Error::custom(format!("{seconds} seconds is out of range")))
    }
}
