//! Business calendars: when a team is open, in its own time zone.
//!
//! "8 business hours" only means something against the hours a team works, and those hours are
//! local (09:00 in Shanghai), with holidays and special periods (a 调休 working Saturday, a
//! closure) overriding the weekly pattern on given dates. Local opening hours are turned into UTC
//! spans one local day at a time, so a DST day is as long as it really is and a year-long span
//! costs a few hundred conversions, not half a million minute steps.

use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Minutes in a (nominal) local day; an interval may end here to mean "until midnight".
pub const MINUTES_PER_DAY: u16 = 1440;

/// `add_business` gives up after this many consecutive days without open time, so a calendar
/// that is closed for good answers `None` instead of looping forever.
const CLOSED_HORIZON_DAYS: usize = 3 * 366;

/// `add_business` never looks further ahead than this: no SLA target is a century long.
const SCAN_LIMIT_DAYS: usize = 100 * 366;

/// An opening interval in local time, as minutes from midnight, `start_minute..end_minute` with
/// the end excluded.
///
/// Minutes rather than `NaiveTime` because "open until midnight" needs an end of 24:00 (1440),
/// which `NaiveTime` cannot hold, and because whole minutes are all business hours need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OpenInterval {
    pub start_minute: u16,
    pub end_minute: u16,
}

impl OpenInterval {
    pub const ALL_DAY: OpenInterval = OpenInterval {
        start_minute: 0,
        end_minute: MINUTES_PER_DAY,
    };

    /// An `end` of 00:00 means the midnight that ends the day (00:00 cannot end an interval that
    /// starts on the same day). Seconds are dropped: business hours are minute-granular.
    pub fn new(start: NaiveTime, end: NaiveTime) -> OpenInterval {
        let minute_of = |t: NaiveTime| (t.hour() * 60 + t.minute()) as u16;
        let end_minute = match minute_of(end) {
            0 => MINUTES_PER_DAY,
            m => m,
        };
        OpenInterval {
            start_minute: minute_of(start),
            end_minute,
        }
    }

    fn is_valid(self) -> bool {
        self.start_minute < self.end_minute && self.end_minute <= MINUTES_PER_DAY
    }
}

impl fmt::Display for OpenInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, e) = (self.start_minute, self.end_minute);
        write!(f, "{:02}:{:02}–{:02}:{:02}", s / 60, s % 60, e / 60, e % 60)
    }
}

/// Opening intervals for each weekday, in the calendar's local time. An empty list = closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WeeklyHours {
    pub monday: Vec<OpenInterval>,
    pub tuesday: Vec<OpenInterval>,
    pub wednesday: Vec<OpenInterval>,
    pub thursday: Vec<OpenInterval>,
    pub friday: Vec<OpenInterval>,
    pub saturday: Vec<OpenInterval>,
    pub sunday: Vec<OpenInterval>,
}

impl WeeklyHours {
    pub fn on(&self, day: Weekday) -> &[OpenInterval] {
        match day {
            Weekday::Mon => &self.monday,
            Weekday::Tue => &self.tuesday,
            Weekday::Wed => &self.wednesday,
            Weekday::Thu => &self.thursday,
            Weekday::Fri => &self.friday,
            Weekday::Sat => &self.saturday,
            Weekday::Sun => &self.sunday,
        }
    }

    fn days(&self) -> [(Weekday, &[OpenInterval]); 7] {
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ]
        .map(|day| (day, self.on(day)))
    }
}

/// A date on which the team is closed all day (unless a special period says otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
}

/// Hours that replace the weekly hours on `from..=to` (empty `hours` = closed): a closure, a
/// working weekend, shortened hours. It beats a holiday on the same date, which is how a 调休
/// working day inside a holiday season is said. Who recorded it, when and why are kept because
/// holiday and special-period adjustments must be logged (PRODUCT.md), and SLA explanations
/// quote them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SpecialPeriod {
    pub from: NaiveDate,
    /// Inclusive.
    pub to: NaiveDate,
    pub hours: Vec<OpenInterval>,
    pub reason: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

impl SpecialPeriod {
    fn covers(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }
}

/// A holiday or special period that fell inside a span, so an SLA explanation can say why the
/// clock did not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CalendarAdjustment {
    Holiday(Holiday),
    SpecialPeriod(SpecialPeriod),
}

impl CalendarAdjustment {
    fn first_date(&self) -> NaiveDate {
        match self {
            CalendarAdjustment::Holiday(h) => h.date,
            CalendarAdjustment::SpecialPeriod(p) => p.from,
        }
    }
}

/// A calendar that cannot be trusted to count time; each message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{context}: opening interval {interval} is empty or ends before it starts; make the end later than the start")]
    InvertedInterval {
        context: String,
        interval: OpenInterval,
    },
    #[error("{context}: opening interval {interval} runs past midnight; end it at 24:00 and open again on the next day")]
    PastMidnight {
        context: String,
        interval: OpenInterval,
    },
    #[error("{context}: opening intervals {first} and {second} overlap; merge them into one")]
    OverlappingIntervals {
        context: String,
        first: OpenInterval,
        second: OpenInterval,
    },
    #[error("special period `{reason}` ends on {to}, before it starts on {from}; swap the dates")]
    InvertedSpecialPeriod {
        reason: String,
        from: NaiveDate,
        to: NaiveDate,
    },
    #[error("special periods `{first}` and `{second}` both cover {date}; a date can have only one override, so shorten one of them")]
    OverlappingSpecialPeriods {
        first: String,
        second: String,
        date: NaiveDate,
    },
    #[error("{date} is listed as a holiday twice (`{first}` and `{second}`); remove one")]
    DuplicateHoliday {
        date: NaiveDate,
        first: String,
        second: String,
    },
}

/// One local date as [`BusinessCalendar::day`] reads it: the hours that apply, and the holiday
/// or special period that set them (none: the weekly hours). A holiday overridden by a special
/// period is not named: it did not change the hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarDay<'a> {
    pub hours: &'a [OpenInterval],
    pub holiday: Option<&'a Holiday>,
    pub special_period: Option<&'a SpecialPeriod>,
}

/// When a team is open: weekly hours in a time zone, with holidays and special periods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BusinessCalendar {
    pub name: String,
    /// An IANA time zone name (`Europe/Lisbon`).
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub tz: Tz,
    pub weekly: WeeklyHours,
    pub holidays: Vec<Holiday>,
    pub special_periods: Vec<SpecialPeriod>,
}

impl BusinessCalendar {
    /// Open around the clock. The zone only matters for naming local days; durations are
    /// plain elapsed time, so a 23-hour DST day counts 23 hours.
    pub fn always_open(tz: Tz) -> BusinessCalendar {
        let all_day = vec![OpenInterval::ALL_DAY];
        BusinessCalendar {
            name: "24×7".to_owned(),
            tz,
            weekly: WeeklyHours {
                monday: all_day.clone(),
                tuesday: all_day.clone(),
                wednesday: all_day.clone(),
                thursday: all_day.clone(),
                friday: all_day.clone(),
                saturday: all_day.clone(),
                sunday: all_day,
            },
            holidays: Vec::new(),
            special_periods: Vec::new(),
        }
    }

    /// Monday to Friday, `open..close` local time (a `close` of 00:00 means midnight).
    pub fn weekdays(
        name: impl Into<String>,
        tz: Tz,
        open: NaiveTime,
        close: NaiveTime,
    ) -> BusinessCalendar {
        let hours = vec![OpenInterval::new(open, close)];
        BusinessCalendar {
            name: name.into(),
            tz,
            weekly: WeeklyHours {
                monday: hours.clone(),
                tuesday: hours.clone(),
                wednesday: hours.clone(),
                thursday: hours.clone(),
                friday: hours,
                saturday: Vec::new(),
                sunday: Vec::new(),
            },
            holidays: Vec::new(),
            special_periods: Vec::new(),
        }
    }

    /// The opening intervals that apply on a local date: a special period first, then a
    /// holiday (closed), then the weekly hours.
    pub fn hours_on(&self, date: NaiveDate) -> &[OpenInterval] {
        self.day(date).hours
    }

    /// What applies on a local date and why: the special period covering it, else the holiday
    /// on it, else the weekly hours. The admin's month view shows this, so it is decided here
    /// once, for counting time and for showing it.
    pub fn day(&self, date: NaiveDate) -> CalendarDay<'_> {
        if let Some(period) = self.special_periods.iter().find(|p| p.covers(date)) {
            return CalendarDay {
                hours: &period.hours,
                holiday: None,
                special_period: Some(period),
            };
        }
        if let Some(holiday) = self.holidays.iter().find(|h| h.date == date) {
            return CalendarDay {
                hours: &[],
                holiday: Some(holiday),
                special_period: None,
            };
        }
        CalendarDay {
            hours: self.weekly.on(date.weekday()),
            holiday: None,
            special_period: None,
        }
    }

    /// Open time between two instants; zero when `to <= from`.
    pub fn business_duration(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        let mut total = Duration::zero();
        for date in self.days_touching(from, to) {
            for (open, close) in self.open_spans_on(date) {
                let (start, end) = (open.max(from), close.min(to));
                if end > start {
                    total += end - start;
                }
            }
        }
        total
    }

    /// The instant at which `amount` of open time has elapsed after `from`: the earliest `t` with
    /// `business_duration(from, t) == amount`. `None` when the calendar has no open time for
    /// about three years running, or the answer is more than a century away.
    pub fn add_business(&self, from: DateTime<Utc>, amount: Duration) -> Option<DateTime<Utc>> {
        if amount <= Duration::zero() {
            return Some(from);
        }
        let mut remaining = amount;
        let mut closed_run = 0;
        let first = self.local_date(from);
        let first = first.pred_opt().unwrap_or(first);
        for date in first.iter_days().take(SCAN_LIMIT_DAYS) {
            let mut open_today = false;
            for (open, close) in self.open_spans_on(date) {
                let start = open.max(from);
                if close <= start {
                    continue;
                }
                open_today = true;
                let available = close - start;
                if remaining <= available {
                    return start.checked_add_signed(remaining);
                }
                remaining -= available;
            }
            closed_run = if open_today { 0 } else { closed_run + 1 };
            if closed_run > CLOSED_HORIZON_DAYS {
                return None;
            }
        }
        None
    }

    /// Holidays and special periods whose local days overlap `from..to`, oldest first. A holiday
    /// overridden by a special period is left out: it did not change the hours.
    pub fn adjustments_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<CalendarAdjustment> {
        let overlaps = |first: NaiveDate, last: NaiveDate| {
            self.local_days_span(first, last)
                .is_some_and(|(start, end)| start < to && end > from)
        };
        let mut found: Vec<CalendarAdjustment> = self
            .special_periods
            .iter()
            .filter(|p| overlaps(p.from, p.to))
            .cloned()
            .map(CalendarAdjustment::SpecialPeriod)
            .chain(
                self.holidays
                    .iter()
                    .filter(|h| !self.special_periods.iter().any(|p| p.covers(h.date)))
                    .filter(|h| overlaps(h.date, h.date))
                    .cloned()
                    .map(CalendarAdjustment::Holiday),
            )
            .collect();
        found.sort_by_key(CalendarAdjustment::first_date);
        found
    }

    /// Rejects calendars that would count time in a surprising way. Counting never panics on an
    /// invalid calendar (bad intervals are ignored, overlaps merged), but the result is unlikely
    /// to be what whoever typed it meant.
    pub fn validate(&self) -> Result<(), CalendarError> {
        validate_shifts(&self.weekly)?;
        for (i, period) in self.special_periods.iter().enumerate() {
            if period.from > period.to {
                return Err(CalendarError::InvertedSpecialPeriod {
                    reason: period.reason.clone(),
                    from: period.from,
                    to: period.to,
                });
            }
            check_hours(
                &format!("special period `{}`", period.reason),
                &period.hours,
            )?;
            if let Some(other) = self.special_periods[..i]
                .iter()
                .find(|o| o.from <= period.to && period.from <= o.to)
            {
                return Err(CalendarError::OverlappingSpecialPeriods {
                    first: other.reason.clone(),
                    second: period.reason.clone(),
                    date: other.from.max(period.from),
                });
            }
        }
        for (i, holiday) in self.holidays.iter().enumerate() {
            if let Some(other) = self.holidays[..i].iter().find(|o| o.date == holiday.date) {
                return Err(CalendarError::DuplicateHoliday {
                    date: holiday.date,
                    first: other.name.clone(),
                    second: holiday.name.clone(),
                });
            }
        }
        Ok(())
    }

    /// Whether `at` falls inside an open span (a holiday or special period counts as it
    /// overrides the weekly hours). The end of a span is excluded.
    pub fn is_open_at(&self, at: DateTime<Utc>) -> bool {
        self.days_touching(at, at).any(|date| {
            self.open_spans_on(date)
                .into_iter()
                .any(|(open, close)| open <= at && at < close)
        })
    }

    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// Local dates whose open spans can touch `from..to`. One day of margin either side: with
    /// the earliest-reading rule of `to_utc`, a repeated hour around midnight belongs to the
    /// neighbouring day.
    fn days_touching(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Iterator<Item = NaiveDate> {
        let first = self.local_date(from);
        let first = first.pred_opt().unwrap_or(first);
        let last = self.local_date(to);
        let last = last.succ_opt().unwrap_or(last);
        first.iter_days().take_while(move |d| *d <= last)
    }

    /// Open spans of one local date as UTC instants, sorted and disjoint. Invalid intervals are
    /// skipped and overlapping ones merged, so counting stays additive whatever was configured.
    fn open_spans_on(&self, date: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut minutes: Vec<(u16, u16)> = self
            .hours_on(date)
            .iter()
            .filter(|i| i.is_valid())
            .map(|i| (i.start_minute, i.end_minute))
            .collect();
        minutes.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(minutes.len());
        for (start, end) in minutes {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
            .into_iter()
            .filter_map(|(start, end)| {
                let open = self.local_minute_to_utc(date, start)?;
                let close = self.local_minute_to_utc(date, end)?;
                // A span wholly inside a spring-forward gap collapses to nothing.
                (close > open).then_some((open, close))
            })
            .collect()
    }

    /// UTC span from the start of local day `first` to the end of local day `last`.
    fn local_days_span(
        &self,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        Some((
            self.local_minute_to_utc(first, 0)?,
            self.local_minute_to_utc(last, MINUTES_PER_DAY)?,
        ))
    }

    fn local_minute_to_utc(&self, date: NaiveDate, minute: u16) -> Option<DateTime<Utc>> {
        let naive = if minute >= MINUTES_PER_DAY {
            date.succ_opt()?.and_time(NaiveTime::MIN)
        } else {
            date.and_hms_opt(u32::from(minute / 60), u32::from(minute % 60), 0)?
        };
        Some(self.to_utc(naive))
    }

    /// The first instant at which local clocks read `naive` or later. An ambiguous (repeated)
    /// reading takes its first occurrence; a reading skipped by a spring-forward gap maps to the
    /// end of the gap. The mapping is monotonic, so adjacent intervals and days tile exactly.
    fn to_utc(&self, naive: NaiveDateTime) -> DateTime<Utc> {
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(a, b) => a.with_timezone(&Utc).min(b.with_timezone(&Utc)),
            LocalResult::None => self.end_of_gap(naive),
        }
    }

    /// Binary search for the transition that skipped `naive`: between reading it with the
    /// offset after the gap (an instant before the transition) and with the offset before it
    /// (an instant after).
    fn end_of_gap(&self, naive: NaiveDateTime) -> DateTime<Utc> {
        let as_utc = naive.and_utc();
        let offset_at = |secs: i64| {
            DateTime::from_timestamp(secs, 0).map_or(0, |t| {
                i64::from(
                    self.tz
                        .offset_from_utc_datetime(&t.naive_utc())
                        .fix()
                        .local_minus_utc(),
                )
            })
        };
        let reading = as_utc.timestamp();
        let day = 86_400;
        let (before, after) = (offset_at(reading - day), offset_at(reading + day));
        let (mut lo, mut hi) = (reading - after, reading - before);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if mid + offset_at(mid) >= reading {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        DateTime::from_timestamp(hi, 0).unwrap_or(as_utc)
    }
}

/// A person's weekly working hours read in `tz` (the organisation's business-calendar zone),
/// with the same local-time rules as a business calendar: whether they work at `now`. No
/// schedule (`None`) means always available.
pub fn on_shift(shifts: Option<&WeeklyHours>, tz: Tz, now: DateTime<Utc>) -> bool {
    shifts.is_none_or(|weekly| shift_calendar(weekly, tz).is_open_at(now))
}

/// Rejects a weekly shift schedule with an empty, inverted, past-midnight or overlapping
/// interval, with the calendar's messages (the day names the context).
pub fn validate_shifts(shifts: &WeeklyHours) -> Result<(), CalendarError> {
    for (day, hours) in shifts.days() {
        check_hours(&day.to_string(), hours)?;
    }
    Ok(())
}

fn shift_calendar(weekly: &WeeklyHours, tz: Tz) -> BusinessCalendar {
    BusinessCalendar {
        name: "shifts".to_owned(),
        tz,
        weekly: weekly.clone(),
        holidays: Vec::new(),
        special_periods: Vec::new(),
    }
}

fn check_hours(context: &str, hours: &[OpenInterval]) -> Result<(), CalendarError> {
    for interval in hours {
        if interval.end_minute > MINUTES_PER_DAY {
            return Err(CalendarError::PastMidnight {
                context: context.to_owned(),
                interval: *interval,
            });
        }
        if interval.start_minute >= interval.end_minute {
            return Err(CalendarError::InvertedInterval {
                context: context.to_owned(),
                interval: *interval,
            });
        }
    }
    let mut sorted = hours.to_vec();
    sorted.sort_unstable();
    if let Some(pair) = sorted
        .windows(2)
        .find(|w| w[1].start_minute < w[0].end_minute)
    {
        return Err(CalendarError::OverlappingIntervals {
            context: context.to_owned(),
            first: pair[0],
            second: pair[1],
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::{America::New_York, Asia::Shanghai, Australia::Lord_Howe, Europe::Berlin};

    use super::*;
    use crate::sla::test_support::{date, local, utc};

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
    }

    fn minutes(start: u16, end: u16) -> OpenInterval {
        OpenInterval {
            start_minute: start,
            end_minute: end,
        }
    }

    fn shanghai_office() -> BusinessCalendar {
        BusinessCalendar::weekdays("office", Shanghai, hm(9, 0), hm(18, 0))
    }

    fn sundays(tz: Tz, hours: Vec<OpenInterval>) -> BusinessCalendar {
        BusinessCalendar {
            name: "sundays".to_owned(),
            tz,
            weekly: WeeklyHours {
                sunday: hours,
                ..WeeklyHours::default()
            },
            holidays: Vec::new(),
            special_periods: Vec::new(),
        }
    }

    fn special(from: NaiveDate, to: NaiveDate, hours: Vec<OpenInterval>) -> SpecialPeriod {
        SpecialPeriod {
            from,
            to,
            hours,
            reason: "调休".to_owned(),
            recorded_by: "wang".to_owned(),
            recorded_at: utc(2025, 6, 1, 8, 0),
        }
    }

    #[test]
    fn interval_ending_at_midnight_ends_the_day() {
        let interval = OpenInterval::new(hm(22, 30), hm(0, 0));
        assert_eq!(interval, minutes(1350, 1440));
        assert_eq!(interval.to_string(), "22:30–24:00");
    }

    #[test]
    fn always_open_counts_real_hours_on_dst_days() {
        let ny = BusinessCalendar::always_open(New_York);
        let spring = ny.business_duration(
            local(New_York, 2025, 3, 9, 0, 0),
            local(New_York, 2025, 3, 10, 0, 0),
        );
        let fall = ny.business_duration(
            local(New_York, 2025, 11, 2, 0, 0),
            local(New_York, 2025, 11, 3, 0, 0),
        );
        assert_eq!((spring, fall), (Duration::hours(23), Duration::hours(25)));

        let berlin = BusinessCalendar::always_open(Berlin);
        let spring = berlin.business_duration(
            local(Berlin, 2025, 3, 30, 0, 0),
            local(Berlin, 2025, 3, 31, 0, 0),
        );
        let fall = berlin.business_duration(
            local(Berlin, 2025, 10, 26, 0, 0),
            local(Berlin, 2025, 10, 27, 0, 0),
        );
        assert_eq!((spring, fall), (Duration::hours(23), Duration::hours(25)));
    }

    #[test]
    fn local_hours_across_a_dst_change_count_the_real_time_open() {
        // Berlin springs 02:00 -> 03:00 and falls 03:00 -> 02:00: 01:00-04:00 is 2 h, then 4 h.
        let berlin = sundays(Berlin, vec![minutes(60, 240)]);
        let whole = |d: NaiveDate| {
            let noon_before =
                local(Berlin, d.year(), d.month(), d.day(), 0, 0) - Duration::hours(12);
            berlin.business_duration(noon_before, noon_before + Duration::hours(48))
        };
        assert_eq!(whole(date(2025, 3, 30)), Duration::hours(2));
        assert_eq!(whole(date(2025, 10, 26)), Duration::hours(4));
        assert_eq!(whole(date(2025, 6, 8)), Duration::hours(3));
    }

    #[test]
    fn opening_inside_a_spring_gap_opens_when_the_gap_ends() {
        // New York skips 02:00-03:00 on 2025-03-09: 02:30-03:30 opens at 03:00 EDT (07:00 UTC).
        let ny = sundays(New_York, vec![minutes(150, 210)]);
        let day = (utc(2025, 3, 9, 0, 0), utc(2025, 3, 10, 0, 0));
        assert_eq!(ny.business_duration(day.0, day.1), Duration::minutes(30));
        assert_eq!(
            ny.add_business(day.0, Duration::minutes(1)),
            Some(utc(2025, 3, 9, 7, 1))
        );
        // Wholly inside the gap: never open.
        let gap_only = sundays(New_York, vec![minutes(130, 170)]);
        assert_eq!(gap_only.business_duration(day.0, day.1), Duration::zero());
    }

    #[test]
    fn a_repeated_hour_is_counted_from_its_first_occurrence() {
        // New York repeats 01:00-02:00 on 2025-11-02: 01:00 EDT (05:00 UTC) to 02:00 EST (07:00 UTC).
        let ny = sundays(New_York, vec![minutes(60, 120)]);
        assert_eq!(
            ny.business_duration(utc(2025, 11, 2, 0, 0), utc(2025, 11, 3, 0, 0)),
            Duration::hours(2)
        );
        assert_eq!(
            ny.add_business(utc(2025, 11, 2, 0, 0), Duration::hours(2)),
            Some(utc(2025, 11, 2, 7, 0))
        );
    }

    #[test]
    fn half_hour_dst_shifts_are_handled() {
        // Lord Howe springs 02:00 -> 02:30 (first Sunday of October) and falls 02:00 -> 01:30
        // (first Sunday of April). Open 01:00-03:00 every day.
        let mut lord_howe = BusinessCalendar::always_open(Lord_Howe);
        lord_howe.weekly = WeeklyHours {
            sunday: vec![minutes(60, 180)],
            ..WeeklyHours::default()
        };
        let sunday = |d: NaiveDate| {
            let start = Lord_Howe
                .from_local_datetime(&d.and_time(NaiveTime::MIN))
                .earliest()
                .expect("midnight exists");
            lord_howe.business_duration(
                start.with_timezone(&Utc),
                start.with_timezone(&Utc) + Duration::hours(30),
            )
        };
        assert_eq!(sunday(date(2025, 10, 5)), Duration::minutes(90));
        assert_eq!(sunday(date(2025, 4, 6)), Duration::minutes(150));
    }

    #[test]
    fn weekdays_skip_nights_and_weekends() {
        let cal = shanghai_office();
        let friday_4pm = local(Shanghai, 2025, 6, 13, 16, 0);
        let monday_10am = local(Shanghai, 2025, 6, 16, 10, 0);
        assert_eq!(
            cal.business_duration(friday_4pm, monday_10am),
            Duration::hours(3)
        );
        assert_eq!(
            cal.business_duration(monday_10am, friday_4pm),
            Duration::zero()
        );
        let saturday = local(Shanghai, 2025, 6, 14, 10, 0);
        assert_eq!(
            cal.business_duration(saturday, saturday + Duration::hours(20)),
            Duration::zero()
        );
    }

    #[test]
    fn a_year_of_weekdays_is_counted_day_by_day() {
        // 2025 starts on a Wednesday: 52 weeks and one extra weekday = 261 days of 9 h.
        let cal = shanghai_office();
        let year = cal.business_duration(
            local(Shanghai, 2025, 1, 1, 0, 0),
            local(Shanghai, 2026, 1, 1, 0, 0),
        );
        assert_eq!(year, Duration::hours(261 * 9));
        assert_eq!(
            cal.add_business(local(Shanghai, 2025, 1, 1, 0, 0), year),
            Some(local(Shanghai, 2025, 12, 31, 18, 0))
        );
    }

    #[test]
    fn eight_business_hours_from_friday_afternoon_end_on_monday() {
        let cal = shanghai_office();
        let friday_4pm = local(Shanghai, 2025, 6, 13, 16, 0);
        assert_eq!(
            cal.add_business(friday_4pm, Duration::hours(8)),
            Some(local(Shanghai, 2025, 6, 16, 15, 0))
        );
        // From closed time, counting starts at the next opening.
        let saturday = local(Shanghai, 2025, 6, 14, 10, 0);
        assert_eq!(
            cal.add_business(saturday, Duration::hours(1)),
            Some(local(Shanghai, 2025, 6, 16, 10, 0))
        );
        assert_eq!(cal.add_business(saturday, Duration::zero()), Some(saturday));
        // Ending exactly at closing time, not at the next opening.
        assert_eq!(
            cal.add_business(friday_4pm, Duration::hours(2)),
            Some(local(Shanghai, 2025, 6, 13, 18, 0))
        );
    }

    #[test]
    fn a_holiday_is_closed_all_day() {
        let mut cal = shanghai_office();
        cal.holidays.push(Holiday {
            date: date(2025, 6, 16),
            name: "Office move".to_owned(),
        });
        let friday_4pm = local(Shanghai, 2025, 6, 13, 16, 0);
        assert_eq!(
            cal.add_business(friday_4pm, Duration::hours(8)),
            Some(local(Shanghai, 2025, 6, 17, 15, 0))
        );
        let adjustments = cal.adjustments_between(friday_4pm, local(Shanghai, 2025, 6, 17, 15, 0));
        assert_eq!(
            adjustments,
            vec![CalendarAdjustment::Holiday(cal.holidays[0].clone())]
        );
        // A span that ends at the holiday's local midnight does not touch it.
        assert!(cal
            .adjustments_between(friday_4pm, local(Shanghai, 2025, 6, 16, 0, 0))
            .is_empty());
    }

    #[test]
    fn a_special_period_replaces_the_weekly_hours_and_beats_a_holiday() {
        let mut cal = shanghai_office();
        // A working Saturday (调休).
        cal.special_periods.push(special(
            date(2025, 6, 14),
            date(2025, 6, 14),
            vec![minutes(540, 1080)],
        ));
        let friday_4pm = local(Shanghai, 2025, 6, 13, 16, 0);
        assert_eq!(
            cal.add_business(friday_4pm, Duration::hours(8)),
            Some(local(Shanghai, 2025, 6, 14, 15, 0))
        );

        // A holiday on Monday, overridden by a special morning shift.
        let mut cal = shanghai_office();
        cal.holidays.push(Holiday {
            date: date(2025, 6, 16),
            name: "Festival".to_owned(),
        });
        cal.special_periods.push(special(
            date(2025, 6, 16),
            date(2025, 6, 16),
            vec![minutes(540, 720)],
        ));
        assert_eq!(
            cal.add_business(friday_4pm, Duration::hours(8)),
            Some(local(Shanghai, 2025, 6, 17, 12, 0))
        );
        let adjustments = cal.adjustments_between(friday_4pm, local(Shanghai, 2025, 6, 17, 12, 0));
        assert_eq!(
            adjustments,
            vec![CalendarAdjustment::SpecialPeriod(
                cal.special_periods[0].clone()
            )]
        );

        // A closure spanning two weekdays.
        let mut cal = shanghai_office();
        cal.special_periods
            .push(special(date(2025, 6, 16), date(2025, 6, 17), Vec::new()));
        assert_eq!(
            cal.add_business(friday_4pm, Duration::hours(8)),
            Some(local(Shanghai, 2025, 6, 18, 15, 0))
        );
    }

    #[test]
    fn a_calendar_that_never_opens_gives_up() {
        let closed = BusinessCalendar {
            weekly: WeeklyHours::default(),
            ..shanghai_office()
        };
        assert_eq!(
            closed.add_business(utc(2025, 1, 1, 0, 0), Duration::minutes(1)),
            None
        );
        assert_eq!(
            closed.business_duration(utc(2025, 1, 1, 0, 0), utc(2026, 1, 1, 0, 0)),
            Duration::zero()
        );
    }

    #[test]
    fn validation_names_the_problem() {
        assert_eq!(shanghai_office().validate(), Ok(()));
        assert_eq!(BusinessCalendar::always_open(Berlin).validate(), Ok(()));

        let mut cal = shanghai_office();
        cal.weekly.monday = vec![minutes(600, 540)];
        let err = cal.validate().unwrap_err();
        assert_eq!(
            err,
            CalendarError::InvertedInterval {
                context: "Mon".to_owned(),
                interval: minutes(600, 540)
            }
        );
        assert_eq!(err.to_string(), "Mon: opening interval 10:00–09:00 is empty or ends before it starts; make the end later than the start");

        cal.weekly.monday = vec![minutes(540, 1500)];
        assert!(matches!(
            cal.validate(),
            Err(CalendarError::PastMidnight { .. })
        ));

        cal.weekly.monday = vec![minutes(780, 1080), minutes(540, 800)];
        assert_eq!(
            cal.validate(),
            Err(CalendarError::OverlappingIntervals {
                context: "Mon".to_owned(),
                first: minutes(540, 800),
                second: minutes(780, 1080)
            })
        );
        // Adjacent intervals are fine.
        cal.weekly.monday = vec![minutes(780, 1080), minutes(540, 780)];
        assert_eq!(cal.validate(), Ok(()));

        let mut cal = shanghai_office();
        cal.special_periods
            .push(special(date(2025, 6, 17), date(2025, 6, 16), Vec::new()));
        assert!(matches!(
            cal.validate(),
            Err(CalendarError::InvertedSpecialPeriod { .. })
        ));

        let mut cal = shanghai_office();
        cal.special_periods
            .push(special(date(2025, 6, 10), date(2025, 6, 16), Vec::new()));
        cal.special_periods
            .push(special(date(2025, 6, 16), date(2025, 6, 20), Vec::new()));
        assert!(
            matches!(cal.validate(), Err(CalendarError::OverlappingSpecialPeriods { date: d, .. }) if d == date(2025, 6, 16))
        );

        let mut cal = shanghai_office();
        cal.special_periods.push(special(
            date(2025, 6, 16),
            date(2025, 6, 16),
            vec![minutes(0, 0)],
        ));
        assert!(matches!(
            cal.validate(),
            Err(CalendarError::InvertedInterval { .. })
        ));

        let mut cal = shanghai_office();
        cal.holidays.push(Holiday {
            date: date(2025, 10, 1),
            name: "国庆节".to_owned(),
        });
        cal.holidays.push(Holiday {
            date: date(2025, 10, 1),
            name: "National Day".to_owned(),
        });
        assert!(matches!(
            cal.validate(),
            Err(CalendarError::DuplicateHoliday { .. })
        ));
    }

    #[test]
    fn invalid_hours_are_ignored_and_overlaps_merged_when_counting() {
        let mut cal = shanghai_office();
        cal.weekly.monday = vec![
            minutes(540, 720),
            minutes(600, 780),
            minutes(900, 800),
            minutes(100, 2000),
        ];
        let monday = local(Shanghai, 2025, 6, 16, 0, 0);
        assert_eq!(
            cal.business_duration(monday, monday + Duration::days(1)),
            Duration::hours(4)
        );
    }

    #[test]
    fn calendars_round_trip_through_json() {
        let mut cal = shanghai_office();
        cal.holidays.push(Holiday {
            date: date(2025, 10, 1),
            name: "国庆节".to_owned(),
        });
        cal.special_periods.push(special(
            date(2025, 9, 28),
            date(2025, 9, 28),
            vec![minutes(540, 1080)],
        ));
        let json = serde_json::to_value(&cal).expect("serializes");
        assert_eq!(json["tz"], "Asia/Shanghai");
        assert_eq!(json["weekly"]["monday"][0]["start_minute"], 540);
        assert_eq!(
            serde_json::from_value::<BusinessCalendar>(json).expect("deserializes"),
            cal
        );
        assert!(
            serde_json::from_str::<BusinessCalendar>(r#"{"name":"x","tz":"Mars/Olympus"}"#)
                .is_err()
        );
    }

    fn lunch_break_shift() -> WeeklyHours {
        let hours = vec![minutes(9 * 60, 12 * 60), minutes(13 * 60, 18 * 60)];
        WeeklyHours {
            monday: hours.clone(),
            wednesday: hours,
            ..WeeklyHours::default()
        }
    }

    #[test]
    fn no_schedule_is_always_on_shift() {
        assert!(on_shift(None, Shanghai, utc(2025, 6, 1, 20, 0)));
    }

    #[test]
    fn shift_with_a_break_counts_in_the_calendar_zone() {
        let shifts = lunch_break_shift();
        let at = |d, h, mi| on_shift(Some(&shifts), Shanghai, local(Shanghai, 2025, 6, d, h, mi));
        // Monday 2 June 2025.
        assert!(!at(2, 8, 59));
        assert!(at(2, 9, 0));
        assert!(at(2, 11, 59));
        assert!(!at(2, 12, 0), "the lunch break is off shift");
        assert!(!at(2, 12, 30));
        assert!(at(2, 13, 0));
        assert!(!at(2, 18, 0), "the end of a shift is excluded");
        assert!(!at(3, 10, 0), "no hours on Tuesday");
        assert!(at(4, 10, 0));
        // 10:00 in Shanghai is 02:00 UTC: read in UTC the person would be off.
        assert!(on_shift(Some(&shifts), Shanghai, utc(2025, 6, 2, 2, 0)));
        assert!(!on_shift(
            Some(&shifts),
            chrono_tz::UTC,
            utc(2025, 6, 2, 2, 0)
        ));
    }

    #[test]
    fn shift_on_a_dst_day_follows_local_clocks() {
        // Berlin springs forward on Sunday 30 March 2025 at 02:00 CET -> 03:00 CEST.
        let shifts = WeeklyHours {
            sunday: vec![minutes(60, 4 * 60)],
            ..WeeklyHours::default()
        };
        let at = |h, mi| on_shift(Some(&shifts), Berlin, utc(2025, 3, 30, h, mi));
        assert!(at(0, 0), "01:00 CET");
        assert!(at(1, 30), "03:30 CEST");
        assert!(
            !at(2, 0),
            "04:00 CEST ends the shift, an hour earlier in UTC"
        );
        assert!(!at(2, 30), "a fixed +01:00 reading would still say 03:30");
        // New York falls back on Sunday 2 November 2025: 01:00-02:00 happens twice.
        let night = WeeklyHours {
            sunday: vec![minutes(0, 2 * 60)],
            ..WeeklyHours::default()
        };
        let ny = |h, mi| on_shift(Some(&night), New_York, utc(2025, 11, 2, h, mi));
        assert!(ny(4, 0), "00:00 EDT");
        assert!(ny(5, 30), "01:30 EDT");
        assert!(ny(6, 30), "01:30 EST, the repeated hour");
        assert!(!ny(7, 0), "02:00 EST");
    }

    #[test]
    fn shift_validation_reuses_the_calendar_rules() {
        assert_eq!(validate_shifts(&lunch_break_shift()), Ok(()));
        let overlapping = WeeklyHours {
            friday: vec![minutes(540, 720), minutes(700, 800)],
            ..WeeklyHours::default()
        };
        assert!(matches!(
            validate_shifts(&overlapping),
            Err(CalendarError::OverlappingIntervals { context, .. }) if context == "Fri"
        ));
        let inverted = WeeklyHours {
            monday: vec![minutes(600, 540)],
            ..WeeklyHours::default()
        };
        assert!(matches!(
            validate_shifts(&inverted),
            Err(CalendarError::InvertedInterval { .. })
        ));
        let past_midnight = WeeklyHours {
            monday: vec![minutes(600, 1500)],
            ..WeeklyHours::default()
        };
        assert!(matches!(
            validate_shifts(&past_midnight),
            Err(CalendarError::PastMidnight { .. })
        ));
    }
}
