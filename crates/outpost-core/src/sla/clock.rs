//! SLA clocks: where each of a ticket's clocks stands at `now`, and why.
//!
//! A clock counts time on its calendar from its start until it stops (or `now`), minus the time
//! the ticket spent pending. Every figure an explanation quotes is a field of [`SlaClock`], so
//! the UI, reports and the explanation can never disagree.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::{BusinessCalendar, CalendarAdjustment, OpenInterval, WeeklyHours};
use super::policy::{ClockKind, SlaSettings};
use crate::model::{PauseSpan, Ticket};
use crate::Lang;

/// Where a clock stands. A running clock is `OnTrack`, `AtRisk` or `Breached`; it is breached
/// once counted time exceeds the target strictly, so a reply exactly at `due_at` is on time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
        matches!(
            self,
            ClockState::OnTrack | ClockState::AtRisk | ClockState::Breached
        )
    }
}

/// One clock of one ticket, evaluated at some `now`.
///
/// On the wire, durations are whole seconds in `*_seconds` fields (`target_seconds: 7200`), so
/// the unit is in the name and any JSON reader can do arithmetic on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SlaClock {
    pub kind: ClockKind,
    pub state: ClockState,
    #[serde(rename = "target_seconds", with = "duration_seconds")]
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub target: Duration,
    /// Counted time: open time on the clock's calendar, pauses excluded.
    #[serde(rename = "elapsed_seconds", with = "duration_seconds")]
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub elapsed: Duration,
    /// Open time on the calendar that fell inside pauses (not counted).
    #[serde(rename = "paused_seconds", with = "duration_seconds")]
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub paused: Duration,
    /// `target - elapsed`; negative once breached.
    #[serde(rename = "remaining_seconds", with = "duration_seconds")]
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub remaining: Duration,
    /// Wall-clock time inside the span when the calendar was closed (not counted).
    #[serde(rename = "outside_hours_seconds", with = "duration_seconds")]
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub outside_hours: Duration,
    pub started_at: DateTime<Utc>,
    /// When counted time reaches the target (in the past once breached). `None` unless running.
    pub due_at: Option<DateTime<Utc>>,
    /// When counted time reaches the warning share of the target. `None` unless running.
    pub warn_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// Holidays and special periods between the start and the later of now/stop and `due_at`.
    pub adjustments: Vec<CalendarAdjustment>,
    /// The calendar the clock counted on, so the explanation can name it.
    #[serde(default)]
    pub calendar: ClockCalendar,
}

/// Which hours a clock counts: its calendar's IANA zone and weekly hours, or around the clock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ClockCalendar {
    /// `Europe/Lisbon`; empty when unknown (a clock from an older peer).
    pub zone: String,
    /// The weekly opening hours; `None` when the clock counts around the clock.
    pub weekly: Option<WeeklyHours>,
}

impl ClockCalendar {
    fn of(calendar: &BusinessCalendar) -> ClockCalendar {
        let always = [
            &calendar.weekly.monday,
            &calendar.weekly.tuesday,
            &calendar.weekly.wednesday,
            &calendar.weekly.thursday,
            &calendar.weekly.friday,
            &calendar.weekly.saturday,
            &calendar.weekly.sunday,
        ]
        .iter()
        .all(|day| day.as_slice() == [OpenInterval::ALL_DAY]);
        ClockCalendar {
            zone: calendar.tz.name().to_owned(),
            weekly: (!always).then(|| calendar.weekly.clone()),
        }
    }

    /// "business hours Europe/Lisbon, Mon–Fri 09:00–18:00" or "around the clock (Europe/Lisbon)".
    fn render(&self, lang: Lang) -> String {
        let Some(weekly) = &self.weekly else {
            return match lang {
                Lang::En => format!("around the clock ({})", self.zone),
                Lang::ZhCn => format!("全天候计时（{}）", self.zone),
            };
        };
        let days = [
            &weekly.monday,
            &weekly.tuesday,
            &weekly.wednesday,
            &weekly.thursday,
            &weekly.friday,
            &weekly.saturday,
            &weekly.sunday,
        ];
        // Runs of consecutive days with the same hours: "Mon–Fri 09:00–18:00".
        let mut groups: Vec<(usize, usize)> = Vec::new();
        for (i, hours) in days.iter().enumerate() {
            if hours.is_empty() {
                continue;
            }
            match groups.last_mut() {
                Some((_, last)) if *last + 1 == i && days[*last] == *hours => *last = i,
                _ => groups.push((i, i)),
            }
        }
        let names: [&str; 7] = match lang {
            Lang::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            Lang::ZhCn => ["周一", "周二", "周三", "周四", "周五", "周六", "周日"],
        };
        let through = match lang {
            Lang::En => "–",
            Lang::ZhCn => "至",
        };
        let hours: Vec<String> = groups
            .iter()
            .map(|&(first, last)| {
                let span = if first == last {
                    names[first].to_owned()
                } else {
                    format!("{}{through}{}", names[first], names[last])
                };
                let intervals: Vec<String> = days[first].iter().map(ToString::to_string).collect();
                format!("{span} {}", intervals.join(", "))
            })
            .collect();
        match lang {
            Lang::En if hours.is_empty() => format!("business hours {}, always closed", self.zone),
            Lang::En => format!("business hours {}, {}", self.zone, hours.join(" and ")),
            Lang::ZhCn if hours.is_empty() => format!("工作时间 {}，全周休息", self.zone),
            Lang::ZhCn => format!("工作时间 {}，{}", self.zone, hours.join("，")),
        }
    }
}

/// All clocks of a ticket and the policy that set their targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
                c.due_at.map(|due_at| Deadline {
                    kind: c.kind,
                    due_at,
                    warn_at: c.warn_at,
                })
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
            let last_update = ticket
                .last_update_at
                .map_or(ticket.created_at, |u| u.max(ticket.created_at));
            let specs = [
                (
                    ClockKind::FirstResponse,
                    ticket.created_at,
                    ticket.first_response_at.or(finished),
                ),
                (ClockKind::PeriodicUpdate, last_update, finished),
                (
                    ClockKind::Resolution,
                    ticket.created_at,
                    ticket.resolved_at.or(finished),
                ),
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
        SlaReport {
            policy: policy.map(|p| p.name.clone()),
            clocks,
        }
    }
}

/// When a ticket that is no longer open stopped needing work; `None` while open. Falls back to
/// the last change when the stamps are missing, so an inconsistent row still stops its clocks.
fn finished_at(ticket: &Ticket) -> Option<DateTime<Utc>> {
    (!ticket.status.is_open()).then(|| {
        ticket
            .resolved_at
            .or(ticket.closed_at)
            .unwrap_or(ticket.updated_at)
    })
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
        let paused: Duration = pauses
            .iter()
            .map(|&(s, e)| calendar.business_duration(s, e))
            .sum();
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
            calendar: ClockCalendar::of(calendar),
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

/// One statement an explanation makes. Which statements apply is decided once, in
/// [`SlaClock::facts`]; [`Fact::render`] only words them.
enum Fact<'a> {
    Used {
        elapsed: Duration,
        target: Duration,
    },
    Met {
        elapsed: Duration,
        target: Duration,
    },
    MetLate {
        elapsed: Duration,
        target: Duration,
        over: Duration,
    },
    Paused {
        time: Duration,
        ongoing: bool,
    },
    OutsideHours(Duration),
    Calendar(&'a ClockCalendar),
    Adjustment(&'a CalendarAdjustment),
    Left(Duration),
    BreachedBy(Duration),
}

impl SlaClock {
    /// A one-line account of the clock, e.g. "Resolution: 1 h 38 min of 2 h used; paused
    /// 2 h 10 min while pending; business hours Europe/Lisbon, Mon–Fri 09:00–18:00; holiday
    /// Natal (2026-12-25) not counted; 22 min left".
    pub fn explain(&self, lang: Lang) -> String {
        let (colon, separator) = match lang {
            Lang::En => (": ", "; "),
            Lang::ZhCn => ("：", "；"),
        };
        let facts: Vec<String> = self.facts().iter().map(|f| f.render(lang)).collect();
        format!(
            "{}{colon}{}",
            kind_label(self.kind, lang),
            facts.join(separator)
        )
    }

    fn facts(&self) -> Vec<Fact<'_>> {
        let (elapsed, target) = (self.elapsed, self.target);
        let mut facts = vec![match self.state {
            ClockState::Met => Fact::Met { elapsed, target },
            ClockState::MetLate => Fact::MetLate {
                elapsed,
                target,
                over: -self.remaining,
            },
            _ => Fact::Used { elapsed, target },
        }];
        let ongoing = self.state == ClockState::Paused;
        if self.paused > Duration::zero() || ongoing {
            facts.push(Fact::Paused {
                time: self.paused,
                ongoing,
            });
        }
        if self.outside_hours > Duration::zero() {
            facts.push(Fact::OutsideHours(self.outside_hours));
        }
        if !self.calendar.zone.is_empty() {
            facts.push(Fact::Calendar(&self.calendar));
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
            (Fact::Used { elapsed, target }, Lang::En) => {
                format!("{} of {} used", d(elapsed), d(target))
            }
            (Fact::Used { elapsed, target }, Lang::ZhCn) => {
                format!("已用 {} / {}", d(elapsed), d(target))
            }
            (Fact::Met { elapsed, target }, Lang::En) => {
                format!("met after {} (target {})", d(elapsed), d(target))
            }
            (Fact::Met { elapsed, target }, Lang::ZhCn) => {
                format!("已达成，用时 {}（时限 {}）", d(elapsed), d(target))
            }
            (
                Fact::MetLate {
                    elapsed,
                    target,
                    over,
                },
                Lang::En,
            ) => {
                format!(
                    "met late after {}, {} over the {} target",
                    d(elapsed),
                    d(over),
                    d(target)
                )
            }
            (
                Fact::MetLate {
                    elapsed,
                    target,
                    over,
                },
                Lang::ZhCn,
            ) => {
                format!(
                    "超时达成，用时 {}，超出时限 {} 共 {}",
                    d(elapsed),
                    d(target),
                    d(over)
                )
            }
            (
                Fact::Paused {
                    time,
                    ongoing: false,
                },
                Lang::En,
            ) => format!("paused {} while pending", d(time)),
            (
                Fact::Paused {
                    time,
                    ongoing: false,
                },
                Lang::ZhCn,
            ) => format!("待客户回复暂停 {}", d(time)),
            (
                Fact::Paused {
                    time,
                    ongoing: true,
                },
                Lang::En,
            ) => {
                format!("paused {} while pending (still pending)", d(time))
            }
            (
                Fact::Paused {
                    time,
                    ongoing: true,
                },
                Lang::ZhCn,
            ) => format!("待客户回复暂停 {}（仍在暂停）", d(time)),
            (Fact::OutsideHours(time), Lang::En) => {
                format!("{} outside business hours not counted", d(time))
            }
            (Fact::OutsideHours(time), Lang::ZhCn) => format!("非工作时间 {} 不计", d(time)),
            (Fact::Calendar(calendar), _) => calendar.render(lang),
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
                let hours = p
                    .hours
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
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

#[cfg(test)]
mod tests {
    use chrono_tz::{Asia::Shanghai, Europe::Berlin, Europe::Lisbon};

    use super::*;
    use crate::model::{Csat, Priority, Status};
    use crate::sla::calendar::{Holiday, SpecialPeriod};
    use crate::sla::test_support::{date, local, ticket, utc};

    fn clock(report: &SlaReport, kind: ClockKind) -> &SlaClock {
        report
            .clocks
            .iter()
            .find(|c| c.kind == kind)
            .expect("clock present")
    }

    fn pause(start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> PauseSpan {
        PauseSpan { start, end }
    }

    /// P1 created 10:00 UTC, answered 10:05, pending 10:30-12:40, looked at 13:48.
    fn p1_with_a_pause() -> Ticket {
        let mut t = ticket(Priority::P1, utc(2025, 6, 10, 10, 0));
        t.first_response_at = Some(utc(2025, 6, 10, 10, 5));
        t.last_update_at = Some(utc(2025, 6, 10, 10, 5));
        t.pauses = vec![pause(
            utc(2025, 6, 10, 10, 30),
            Some(utc(2025, 6, 10, 12, 40)),
        )];
        t.status = Status::InProgress;
        t
    }

    #[test]
    fn p1_around_the_clock_excludes_the_pause() {
        let report = SlaSettings::defaults().evaluate(&p1_with_a_pause(), utc(2025, 6, 10, 13, 48));
        assert_eq!(report.policy.as_deref(), Some("P1"));
        let kinds: Vec<_> = report.clocks.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                ClockKind::FirstResponse,
                ClockKind::PeriodicUpdate,
                ClockKind::Resolution
            ]
        );

        let first = clock(&report, ClockKind::FirstResponse);
        assert_eq!(
            (first.state, first.elapsed, first.due_at),
            (ClockState::Met, Duration::minutes(5), None)
        );
        assert_eq!(first.stopped_at, Some(utc(2025, 6, 10, 10, 5)));

        let resolution = clock(&report, ClockKind::Resolution);
        assert_eq!(resolution.state, ClockState::AtRisk);
        assert_eq!(resolution.elapsed, Duration::minutes(98));
        assert_eq!(resolution.paused, Duration::minutes(130));
        assert_eq!(resolution.remaining, Duration::minutes(22));
        assert_eq!(resolution.outside_hours, Duration::zero());
        assert_eq!(resolution.due_at, Some(utc(2025, 6, 10, 14, 10)));
        // 90 min counted: 30 before the pause, 60 after it.
        assert_eq!(resolution.warn_at, Some(utc(2025, 6, 10, 13, 40)));
        assert_eq!(
            resolution.explain(Lang::En),
            "Resolution: 1 h 38 min of 2 h used; paused 2 h 10 min while pending; around the clock (Asia/Shanghai); 22 min left"
        );
        assert_eq!(
            resolution.explain(Lang::ZhCn),
            "解决时限：已用 1 小时 38 分 / 2 小时；待客户回复暂停 2 小时 10 分；全天候计时（Asia/Shanghai）；剩余 22 分钟"
        );

        // Since the reply at 10:05: 25 min, the pause, then 68 min: due 35 min after the pause.
        let update = clock(&report, ClockKind::PeriodicUpdate);
        assert_eq!(update.state, ClockState::Breached);
        assert_eq!(update.remaining, Duration::minutes(-33));
        assert_eq!(update.due_at, Some(utc(2025, 6, 10, 13, 15)));
        assert_eq!(
            update.explain(Lang::En),
            "Periodic update: 1 h 33 min of 1 h used; paused 2 h 10 min while pending; around the clock (Asia/Shanghai); breached by 33 min"
        );
        assert_eq!(
            update.explain(Lang::ZhCn),
            "定期更新时限：已用 1 小时 33 分 / 1 小时；待客户回复暂停 2 小时 10 分；全天候计时（Asia/Shanghai）；已超时 33 分钟"
        );

        // Warned at 45 counted minutes: 25 before the pause, 20 after it.
        let next = report.next_deadline().expect("running clocks");
        assert_eq!(
            next,
            Deadline {
                kind: ClockKind::PeriodicUpdate,
                due_at: utc(2025, 6, 10, 13, 15),
                warn_at: Some(utc(2025, 6, 10, 13, 0))
            }
        );
    }

    #[test]
    fn a_ticket_pending_now_has_paused_clocks_without_due_times() {
        let mut t = p1_with_a_pause();
        t.status = Status::Pending;
        t.pauses.push(pause(utc(2025, 6, 10, 13, 0), None));
        let report = SlaSettings::defaults().evaluate(&t, utc(2025, 6, 10, 13, 48));
        let resolution = clock(&report, ClockKind::Resolution);
        assert_eq!(resolution.state, ClockState::Paused);
        assert_eq!((resolution.due_at, resolution.warn_at), (None, None));
        assert_eq!(resolution.elapsed, Duration::minutes(50));
        assert_eq!(resolution.paused, Duration::minutes(178));
        assert_eq!(
            resolution.explain(Lang::En),
            "Resolution: 50 min of 2 h used; paused 2 h 58 min while pending (still pending); around the clock (Asia/Shanghai); 1 h 10 min left"
        );
        assert_eq!(resolution.explain(Lang::ZhCn), "解决时限：已用 50 分钟 / 2 小时；待客户回复暂停 2 小时 58 分（仍在暂停）；全天候计时（Asia/Shanghai）；剩余 1 小时 10 分");
        // The first-response clock had already stopped; only running clocks give a deadline.
        assert_eq!(
            clock(&report, ClockKind::FirstResponse).state,
            ClockState::Met
        );
        assert_eq!(report.next_deadline(), None);
    }

    #[test]
    fn first_response_met_late_and_breach_are_told_apart() {
        let created = utc(2025, 6, 10, 10, 0);
        let settings = SlaSettings::defaults();
        let mut t = ticket(Priority::P1, created);

        t.first_response_at = Some(created + Duration::minutes(15));
        let on_time = settings.evaluate(&t, created + Duration::hours(1));
        let first = clock(&on_time, ClockKind::FirstResponse);
        assert_eq!(
            first.state,
            ClockState::Met,
            "a reply exactly at the target is on time"
        );
        assert_eq!(
            first.explain(Lang::En),
            "First response: met after 15 min (target 15 min); around the clock (Asia/Shanghai)"
        );
        assert_eq!(
            first.explain(Lang::ZhCn),
            "首次响应时限：已达成，用时 15 分钟（时限 15 分钟）；全天候计时（Asia/Shanghai）"
        );

        t.first_response_at = Some(created + Duration::minutes(40));
        let late = settings.evaluate(&t, created + Duration::hours(1));
        let first = clock(&late, ClockKind::FirstResponse);
        assert_eq!(first.state, ClockState::MetLate);
        assert_eq!(
            first.explain(Lang::En),
            "First response: met late after 40 min, 25 min over the 15 min target; around the clock (Asia/Shanghai)"
        );
        assert_eq!(
            first.explain(Lang::ZhCn),
            "首次响应时限：超时达成，用时 40 分钟，超出时限 15 分钟 共 25 分钟；全天候计时（Asia/Shanghai）"
        );

        t.first_response_at = None;
        let at = |minutes: i64, seconds: i64| {
            let report = settings.evaluate(
                &t,
                created + Duration::minutes(minutes) + Duration::seconds(seconds),
            );
            clock(&report, ClockKind::FirstResponse).state
        };
        assert_eq!(at(11, 0), ClockState::OnTrack);
        assert_eq!(at(11, 15), ClockState::AtRisk);
        assert_eq!(at(15, 0), ClockState::AtRisk);
        assert_eq!(at(15, 1), ClockState::Breached);
        let breached =
            settings.evaluate(&t, created + Duration::minutes(15) + Duration::seconds(20));
        let first = clock(&breached, ClockKind::FirstResponse);
        assert_eq!(first.due_at, Some(created + Duration::minutes(15)));
        assert_eq!(
            first.explain(Lang::En),
            "First response: 15 min of 15 min used; around the clock (Asia/Shanghai); breached by < 1 min"
        );
        assert_eq!(
            first.explain(Lang::ZhCn),
            "首次响应时限：已用 15 分钟 / 15 分钟；全天候计时（Asia/Shanghai）；已超时 不足 1 分钟"
        );
    }

    #[test]
    fn p3_runs_on_business_hours_across_a_weekend() {
        let created = local(Shanghai, 2025, 6, 13, 16, 0); // Friday
        let t = ticket(Priority::P3, created);
        let report = SlaSettings::defaults().evaluate(&t, local(Shanghai, 2025, 6, 16, 10, 0));
        assert_eq!(report.policy.as_deref(), Some("P3"));
        assert_eq!(report.clocks.len(), 2, "P3 has no periodic update");
        let first = clock(&report, ClockKind::FirstResponse);
        assert_eq!(first.state, ClockState::OnTrack);
        assert_eq!(first.elapsed, Duration::hours(3));
        assert_eq!(first.outside_hours, Duration::hours(63));
        assert_eq!(first.due_at, Some(local(Shanghai, 2025, 6, 16, 15, 0)));
        assert_eq!(first.warn_at, Some(local(Shanghai, 2025, 6, 16, 13, 0)));
        assert_eq!(
            first.explain(Lang::En),
            "First response: 3 h of 8 h used; 63 h outside business hours not counted; business hours Asia/Shanghai, Mon–Fri 09:00–18:00; 5 h left"
        );
        assert_eq!(
            first.explain(Lang::ZhCn),
            "首次响应时限：已用 3 小时 / 8 小时；非工作时间 63 小时 不计；工作时间 Asia/Shanghai，周一至周五 09:00–18:00；剩余 5 小时"
        );
        // 45 business hours: Fri 2 h, then Mon-Fri 9 h each for 43 h = Fri 2025-06-20 16:00.
        let resolution = clock(&report, ClockKind::Resolution);
        assert_eq!(resolution.due_at, Some(local(Shanghai, 2025, 6, 20, 16, 0)));
    }

    #[test]
    fn holidays_and_special_periods_move_due_times_and_are_explained() {
        let mut settings = SlaSettings::defaults();
        settings.calendar.holidays.push(Holiday {
            date: date(2025, 6, 16),
            name: "Office move".to_owned(),
        });
        settings.calendar.special_periods.push(SpecialPeriod {
            from: date(2025, 6, 17),
            to: date(2025, 6, 17),
            hours: Vec::new(),
            reason: "System migration".to_owned(),
            recorded_by: "wang".to_owned(),
            recorded_at: utc(2025, 6, 1, 8, 0),
        });
        let t = ticket(Priority::P3, local(Shanghai, 2025, 6, 13, 16, 0));
        let report = settings.evaluate(&t, local(Shanghai, 2025, 6, 18, 10, 0));
        let first = clock(&report, ClockKind::FirstResponse);
        assert_eq!(first.elapsed, Duration::hours(3));
        assert_eq!(first.due_at, Some(local(Shanghai, 2025, 6, 18, 15, 0)));
        assert_eq!(first.adjustments.len(), 2);
        assert_eq!(
            first.explain(Lang::En),
            "First response: 3 h of 8 h used; 111 h outside business hours not counted; \
             business hours Asia/Shanghai, Mon–Fri 09:00–18:00; holiday Office move (2025-06-16) not counted; \
             special period 2025-06-17: closed (System migration; recorded by wang at 2025-06-01 08:00 UTC); 5 h left"
        );
        assert_eq!(
            first.explain(Lang::ZhCn),
            "首次响应时限：已用 3 小时 / 8 小时；非工作时间 111 小时 不计；工作时间 Asia/Shanghai，周一至周五 09:00–18:00；节假日「Office move」（2025-06-16）不计；\
             特殊时段 2025-06-17：停止服务（System migration；wang 于 2025-06-01 08:00 UTC 记录）；剩余 5 小时"
        );
        // An upcoming holiday that pushes the due time is explained before it happens.
        let early = settings.evaluate(&t, local(Shanghai, 2025, 6, 13, 17, 0));
        assert_eq!(clock(&early, ClockKind::FirstResponse).adjustments.len(), 2);
    }

    #[test]
    fn explanations_name_the_calendar_and_its_zone() {
        let mut settings = SlaSettings::defaults();
        settings.calendar = BusinessCalendar::weekdays(
            "Lisboa",
            Lisbon,
            chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            chrono::NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
        );
        settings.calendar.weekly.saturday = vec![OpenInterval {
            start_minute: 10 * 60,
            end_minute: 13 * 60,
        }];
        settings.calendar.holidays.push(Holiday {
            date: date(2026, 12, 25),
            name: "Natal".to_owned(),
        });
        let created = local(Lisbon, 2026, 12, 24, 17, 0);
        let report = settings.evaluate(
            &ticket(Priority::P3, created),
            local(Lisbon, 2026, 12, 28, 10, 0),
        );
        let first = clock(&report, ClockKind::FirstResponse);
        assert_eq!(first.calendar.zone, "Europe/Lisbon");
        let en = first.explain(Lang::En);
        assert!(
            en.contains(
                "business hours Europe/Lisbon, Mon–Fri 09:00–18:00 and Sat 10:00–13:00; \
                 holiday Natal (2026-12-25) not counted"
            ),
            "{en}"
        );
        let zh = first.explain(Lang::ZhCn);
        assert!(
            zh.contains(
                "工作时间 Europe/Lisbon，周一至周五 09:00–18:00，周六 10:00–13:00；节假日「Natal」（2026-12-25）不计"
            ),
            "{zh}"
        );
        // A clock that counts around the clock says so, in the calendar's zone.
        let p1 = settings.evaluate(&ticket(Priority::P1, created), created);
        let en = clock(&p1, ClockKind::FirstResponse).explain(Lang::En);
        assert!(en.contains("around the clock (Europe/Lisbon)"), "{en}");
        // A clock from an older peer, without its calendar, is explained without it.
        let mut old = clock(&report, ClockKind::FirstResponse).clone();
        old.calendar = ClockCalendar::default();
        assert!(!old.explain(Lang::En).contains("Europe/Lisbon"));
    }

    #[test]
    fn resolved_and_closed_tickets_stop_their_clocks() {
        let settings = SlaSettings::defaults();
        let mut t = ticket(Priority::P2, utc(2025, 6, 10, 10, 0));
        t.status = Status::Resolved;
        t.resolved_at = Some(utc(2025, 6, 10, 13, 0));
        let a = settings.evaluate(&t, utc(2025, 6, 10, 14, 0));
        let b = settings.evaluate(&t, utc(2026, 1, 1, 0, 0));
        assert_eq!(a, b, "a resolved ticket's clocks do not depend on now");
        // Never answered: the first response clock stops at resolution, late.
        let first = clock(&a, ClockKind::FirstResponse);
        assert_eq!(
            (first.state, first.stopped_at),
            (ClockState::MetLate, Some(utc(2025, 6, 10, 13, 0)))
        );
        let resolution = clock(&a, ClockKind::Resolution);
        assert_eq!(
            (resolution.state, resolution.elapsed),
            (ClockState::Met, Duration::hours(3))
        );

        // Closed without a resolution stamp: stopped at closed_at.
        t.status = Status::Closed;
        t.resolved_at = None;
        t.closed_at = Some(utc(2025, 6, 11, 12, 0));
        let closed = settings.evaluate(&t, utc(2026, 1, 1, 0, 0));
        let resolution = clock(&closed, ClockKind::Resolution);
        assert_eq!(
            (resolution.state, resolution.elapsed),
            (ClockState::MetLate, Duration::hours(26))
        );
        assert_eq!(
            resolution.explain(Lang::En),
            "Resolution: met late after 26 h, 2 h over the 24 h target; around the clock (Asia/Shanghai)"
        );
        assert_eq!(closed.next_deadline(), None);

        // A P1 periodic update clock stops at resolution too.
        let mut t = p1_with_a_pause();
        t.status = Status::Resolved;
        t.resolved_at = Some(utc(2025, 6, 10, 12, 50));
        let report = settings.evaluate(&t, utc(2026, 1, 1, 0, 0));
        let update = clock(&report, ClockKind::PeriodicUpdate);
        assert_eq!(
            (update.state, update.elapsed),
            (ClockState::Met, Duration::minutes(35))
        );
    }

    #[test]
    fn periodic_update_restarts_at_each_public_update() {
        let settings = SlaSettings::defaults();
        let mut t = ticket(Priority::P1, utc(2025, 6, 10, 10, 0));
        t.first_response_at = Some(utc(2025, 6, 10, 10, 10));
        t.last_update_at = Some(utc(2025, 6, 10, 11, 30));
        let report = settings.evaluate(&t, utc(2025, 6, 10, 11, 45));
        let update = clock(&report, ClockKind::PeriodicUpdate);
        assert_eq!(update.started_at, utc(2025, 6, 10, 11, 30));
        assert_eq!(
            (update.state, update.elapsed),
            (ClockState::OnTrack, Duration::minutes(15))
        );
        assert_eq!(update.due_at, Some(utc(2025, 6, 10, 12, 30)));
    }

    #[test]
    fn revisit_counts_wall_clock_time_even_while_pending() {
        let settings = SlaSettings::defaults();
        let csat_at = local(Shanghai, 2025, 6, 14, 10, 0); // a Saturday: no business hours
        let mut t = ticket(Priority::P3, local(Shanghai, 2025, 6, 10, 10, 0));
        t.first_response_at = Some(local(Shanghai, 2025, 6, 10, 11, 0));
        t.csat = Some(Csat {
            score: 1,
            comment: None,
            at: csat_at,
        });
        t.revisit_due_at = Some(csat_at + Duration::hours(24));
        t.status = Status::Pending;
        t.pauses = vec![pause(csat_at + Duration::hours(1), None)];
        let report = settings.evaluate(&t, csat_at + Duration::hours(20));
        let revisit = clock(&report, ClockKind::Revisit);
        assert_eq!(revisit.state, ClockState::AtRisk);
        assert_eq!(
            (revisit.elapsed, revisit.target, revisit.paused),
            (Duration::hours(20), Duration::hours(24), Duration::zero())
        );
        assert_eq!(revisit.due_at, Some(csat_at + Duration::hours(24)));
        assert_eq!(
            revisit.explain(Lang::En),
            "Revisit: 20 h of 24 h used; around the clock (UTC); 4 h left"
        );
        assert_eq!(
            revisit.explain(Lang::ZhCn),
            "回访时限：已用 20 小时 / 24 小时；全天候计时（UTC）；剩余 4 小时"
        );
        assert_eq!(
            report.next_deadline().map(|d| d.kind),
            Some(ClockKind::Revisit)
        );

        t.status = Status::Resolved;
        t.resolved_at = Some(csat_at + Duration::hours(3));
        let report = settings.evaluate(&t, csat_at + Duration::hours(20));
        assert!(report.clocks.iter().all(|c| c.kind != ClockKind::Revisit));
    }

    #[test]
    fn a_ticket_without_a_policy_has_no_policy_clocks() {
        let mut settings = SlaSettings::defaults();
        settings.policies.clear();
        let report = settings.evaluate(
            &ticket(Priority::P1, utc(2025, 6, 10, 10, 0)),
            utc(2025, 6, 10, 11, 0),
        );
        assert_eq!(
            report,
            SlaReport {
                policy: None,
                clocks: Vec::new()
            }
        );
        assert_eq!(report.next_deadline(), None);
    }

    #[test]
    fn around_the_clock_targets_span_dst_changes_in_real_hours() {
        // P2 created on the Saturday before Berlin springs forward: 24 h later is Sunday 13:00 CEST.
        let mut settings = SlaSettings::defaults();
        settings.calendar.tz = Berlin;
        let created = local(Berlin, 2025, 3, 29, 12, 0);
        let report =
            settings.evaluate(&ticket(Priority::P2, created), created + Duration::hours(1));
        let resolution = clock(&report, ClockKind::Resolution);
        assert_eq!(resolution.due_at, Some(local(Berlin, 2025, 3, 30, 13, 0)));
    }

    #[test]
    fn bad_rows_do_not_make_time_negative() {
        let settings = SlaSettings::defaults();
        let mut t = ticket(Priority::P1, utc(2025, 6, 10, 10, 0));
        // Overlapping pauses, one before creation, one that "ends" before it starts.
        t.pauses = vec![
            pause(utc(2025, 6, 10, 9, 0), Some(utc(2025, 6, 10, 10, 20))),
            pause(utc(2025, 6, 10, 10, 10), Some(utc(2025, 6, 10, 10, 30))),
            pause(utc(2025, 6, 10, 10, 50), Some(utc(2025, 6, 10, 10, 40))),
        ];
        let report = settings.evaluate(&t, utc(2025, 6, 10, 11, 0));
        let resolution = clock(&report, ClockKind::Resolution);
        assert_eq!(
            (resolution.elapsed, resolution.paused),
            (Duration::minutes(30), Duration::minutes(30))
        );
        // Now before creation: nothing counted yet.
        let early = settings.evaluate(&t, utc(2025, 6, 10, 9, 0));
        assert_eq!(
            clock(&early, ClockKind::Resolution).elapsed,
            Duration::zero()
        );
    }

    #[test]
    fn clocks_serialize_durations_as_seconds() {
        let report = SlaSettings::defaults().evaluate(&p1_with_a_pause(), utc(2025, 6, 10, 13, 48));
        let json = serde_json::to_value(&report).expect("serializes");
        let resolution = &json["clocks"][2];
        assert_eq!(resolution["kind"], "resolution");
        assert_eq!(resolution["state"], "at_risk");
        assert_eq!(resolution["target_seconds"], 7200);
        assert_eq!(resolution["remaining_seconds"], 22 * 60);
        assert_eq!(json["clocks"][1]["remaining_seconds"], -33 * 60);
        assert_eq!(
            serde_json::from_value::<SlaReport>(json).expect("deserializes"),
            report
        );
        assert_eq!(
            serde_json::to_string(&Lang::ZhCn).expect("serializes"),
            "\"zh-CN\""
        );
        let bad = r#"{"policy":null,"clocks":[{"kind":"resolution","state":"met","target_seconds":"2h"}]}"#;
        assert!(serde_json::from_str::<SlaReport>(bad).is_err());
    }
}
