//! Properties of time counting that must hold for every calendar and instant, not just the
//! hand-computed examples beside the code.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::{America::New_York, Asia::Shanghai, Australia::Lord_Howe, Europe::Berlin, Tz};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

use super::calendar::{BusinessCalendar, Holiday, OpenInterval, SpecialPeriod, WeeklyHours};
use super::clock::SlaClock;
use super::policy::{ClockKind, SlaSettings};
use super::test_support::{date, ticket, utc};
use crate::model::{PauseSpan, Priority};

fn minutes(start: u16, end: u16) -> OpenInterval {
    OpenInterval {
        start_minute: start,
        end_minute: end,
    }
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
}

/// Shanghai office hours with a holiday week and a working Sunday inside it.
fn shanghai() -> BusinessCalendar {
    let mut cal = BusinessCalendar::weekdays("office", Shanghai, hm(9, 0), hm(18, 0));
    cal.holidays = (1..=7)
        .map(|d| Holiday {
            date: date(2025, 10, d),
            name: "国庆节".to_owned(),
        })
        .collect();
    cal.special_periods.push(SpecialPeriod {
        from: date(2025, 9, 28),
        to: date(2025, 9, 28),
        hours: vec![minutes(540, 1080)],
        reason: "调休".to_owned(),
        recorded_by: "wang".to_owned(),
        recorded_at: utc(2025, 9, 1, 0, 0),
    });
    cal
}

/// Split weekday hours, plus Saturday small hours that straddle the spring and autumn changes.
fn berlin() -> BusinessCalendar {
    let day = vec![minutes(480, 720), minutes(780, 1050)];
    BusinessCalendar {
        name: "berlin".to_owned(),
        tz: Berlin,
        weekly: WeeklyHours {
            monday: day.clone(),
            tuesday: day.clone(),
            wednesday: day.clone(),
            thursday: day.clone(),
            friday: day,
            saturday: Vec::new(),
            sunday: vec![minutes(0, 210)],
        },
        holidays: Vec::new(),
        special_periods: Vec::new(),
    }
}

/// Weekdays plus Sunday night hours around New York's 02:00 changes.
fn new_york() -> BusinessCalendar {
    let mut cal = BusinessCalendar::weekdays("ny", New_York, hm(9, 0), hm(17, 0));
    cal.weekly.sunday = vec![minutes(60, 180), minutes(1380, 1440)];
    cal
}

/// Every day 01:00-03:00 where DST moves by half an hour at 02:00.
fn lord_howe() -> BusinessCalendar {
    let mut cal = BusinessCalendar::always_open(Lord_Howe);
    let small_hours = vec![minutes(60, 180)];
    cal.weekly = WeeklyHours {
        monday: small_hours.clone(),
        tuesday: small_hours.clone(),
        wednesday: small_hours.clone(),
        thursday: small_hours.clone(),
        friday: small_hours.clone(),
        saturday: small_hours.clone(),
        sunday: small_hours,
    };
    cal
}

fn calendars() -> Vec<BusinessCalendar> {
    vec![
        shanghai(),
        berlin(),
        new_york(),
        lord_howe(),
        BusinessCalendar::always_open(New_York),
    ]
}

fn calendar() -> impl Strategy<Value = BusinessCalendar> {
    proptest::sample::select(calendars())
}

/// Instants from 2024 to 2026, at whole seconds.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let (lo, hi) = (
        utc(2024, 1, 1, 0, 0).timestamp(),
        utc(2027, 1, 1, 0, 0).timestamp(),
    );
    (lo..hi).prop_map(|s| DateTime::from_timestamp(s, 0).expect("in range"))
}

/// A span of up to `max_days`, in seconds.
fn span(max_days: i64) -> impl Strategy<Value = Duration> {
    (0..max_days * 86_400).prop_map(Duration::seconds)
}

/// DST changes from 2024 to 2026 in the zones above.
const DST_CHANGES: &[(i32, u32, u32)] = &[
    (2024, 3, 10),
    (2024, 11, 3),
    (2025, 3, 9),
    (2025, 11, 2),
    (2024, 3, 31),
    (2024, 10, 27),
    (2025, 3, 30),
    (2025, 10, 26),
    (2026, 3, 29),
    (2026, 10, 25),
    (2024, 4, 7),
    (2024, 10, 6),
    (2025, 4, 6),
    (2025, 10, 5),
];

/// Instants within three days of a DST change.
fn near_dst_change() -> impl Strategy<Value = DateTime<Utc>> {
    (
        proptest::sample::select(DST_CHANGES),
        -3 * 86_400..3 * 86_400i64,
    )
        .prop_map(|((y, m, d), offset)| utc(y, m, d, 12, 0) + Duration::seconds(offset))
}

fn local_midnight(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    tz.from_local_datetime(&day.and_time(NaiveTime::MIN))
        .earliest()
        .expect("midnight exists in these zones")
        .with_timezone(&Utc)
}

/// Counted time computed the long way: open time over the gaps between pauses.
fn counted_outside(
    cal: &BusinessCalendar,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    pauses: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Duration {
    let mut total = Duration::zero();
    let mut cursor = start;
    for &(s, e) in pauses {
        total += cal.business_duration(cursor, s.min(end));
        cursor = cursor.max(e);
    }
    total + cal.business_duration(cursor, end)
}

/// Sorted, disjoint pauses after `start`, from (gap before, length) pairs in minutes.
fn pauses_from(start: DateTime<Utc>, raw: &[(i64, i64)]) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut cursor = start;
    raw.iter()
        .map(|&(gap, length)| {
            let s = cursor + Duration::minutes(gap);
            let e = s + Duration::minutes(length);
            cursor = e;
            (s, e)
        })
        .collect()
}

fn resolution(clocks: &[SlaClock]) -> &SlaClock {
    clocks
        .iter()
        .find(|c| c.kind == ClockKind::Resolution)
        .expect("resolution clock")
}

proptest! {
    // Failing cases are kept next to this file, inside the module that owns them.
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn business_time_never_exceeds_wall_time(cal in calendar(), a in instant(), len in span(40)) {
        let d = cal.business_duration(a, a + len);
        prop_assert!(d >= Duration::zero() && d <= len);
    }

    #[test]
    fn business_duration_is_monotonic_in_to(cal in calendar(), a in instant(), x in span(40), y in span(40)) {
        let (short, long) = (x.min(y), x.max(y));
        prop_assert!(cal.business_duration(a, a + short) <= cal.business_duration(a, a + long));
    }

    #[test]
    fn business_duration_is_additive(cal in calendar(), a in instant(), x in span(30), y in span(30)) {
        let (b, c) = (a + x, a + x + y);
        prop_assert_eq!(cal.business_duration(a, c), cal.business_duration(a, b) + cal.business_duration(b, c));
    }

    #[test]
    fn add_business_inverts_business_duration(cal in calendar(), a in instant(), len in span(30)) {
        let to = a + len;
        let d = cal.business_duration(a, to);
        let reached = cal.add_business(a, d).expect("these calendars open every week");
        prop_assert!(reached <= to);
        prop_assert!(reached >= a);
        prop_assert_eq!(cal.business_duration(a, reached), d);
    }

    #[test]
    fn add_business_reaches_exactly_the_amount(cal in calendar(), a in instant(), amount in span(5)) {
        let reached = cal.add_business(a, amount).expect("these calendars open every week");
        prop_assert_eq!(cal.business_duration(a, reached), amount);
        // And not a second later than needed: the last second before it was open time.
        if amount > Duration::zero() {
            prop_assert_eq!(cal.business_duration(reached - Duration::seconds(1), reached), Duration::seconds(1));
        }
    }

    #[test]
    fn closed_hours_count_nothing(day in 0..1096u64, start in 0..1440u16, length in 1..1440u16) {
        // Shanghai is closed on weekends (outside the 调休 Sunday), holidays and 18:00-09:00;
        // Berlin at lunch 12:00-13:00 and all Saturday.
        let d = date(2024, 1, 1) + chrono::Days::new(day);
        let cal = shanghai();
        if cal.hours_on(d).is_empty() {
            let from = local_midnight(Shanghai, d) + Duration::minutes(i64::from(start));
            let to = (from + Duration::minutes(i64::from(length))).min(local_midnight(Shanghai, d + chrono::Days::new(1)));
            prop_assert_eq!(cal.business_duration(from, to), Duration::zero());
        }
        let evening = local_midnight(Shanghai, d) + Duration::hours(18);
        let night = Duration::minutes(i64::from(start) * 15 / 24); // up to 15 h: 18:00 to 09:00
        let offset = Duration::minutes(i64::from(length) * 15 / 1440).min(Duration::hours(15) - night);
        prop_assert_eq!(cal.business_duration(evening + offset, evening + offset + night), Duration::zero());

        let cal = berlin();
        let lunch = local_midnight(Berlin, d) + Duration::hours(12);
        let within = Duration::minutes(i64::from(start % 60));
        prop_assert_eq!(cal.business_duration(lunch + within, lunch + Duration::hours(1)), Duration::zero());
        if d.weekday() == Weekday::Sat {
            let from = local_midnight(Berlin, d) + Duration::minutes(i64::from(start));
            let to = (from + Duration::minutes(i64::from(length))).min(local_midnight(Berlin, d + chrono::Days::new(1)));
            prop_assert_eq!(cal.business_duration(from, to), Duration::zero());
        }
    }

    #[test]
    fn pauses_are_never_counted(
        created in instant(),
        business_hours in any::<bool>(),
        raw in proptest::collection::vec((0..3000i64, 0..3000i64), 0..6),
        after in span(20),
    ) {
        let priority = if business_hours { Priority::P4 } else { Priority::P1 };
        let now = created + after;
        let pauses = pauses_from(created, &raw);
        let mut t = ticket(priority, created);
        t.pauses = pauses.iter().map(|&(start, end)| PauseSpan { start, end: Some(end) }).collect();
        let settings = SlaSettings::defaults();
        let cal = if business_hours { settings.calendar.clone() } else { BusinessCalendar::always_open(settings.calendar.tz) };

        let report = settings.evaluate(&t, now);
        let clock = resolution(&report.clocks);
        prop_assert_eq!(clock.elapsed, counted_outside(&cal, created, now, &pauses));
        prop_assert_eq!(clock.elapsed + clock.paused, cal.business_duration(created, now));
        prop_assert_eq!(clock.outside_hours, (now - created) - cal.business_duration(created, now));
        // The due time is where counted time, computed the long way, reaches the target; pause
        // rows after `now` cannot have happened yet and are ignored.
        let past: Vec<_> = pauses.iter().filter(|p| p.0 < now).map(|&(s, e)| (s, e.min(now))).collect();
        let due = clock.due_at.expect("running clock has a due time");
        prop_assert_eq!(counted_outside(&cal, created, due, &past), clock.target);
        let warn = clock.warn_at.expect("running clock has a warning time");
        prop_assert!(warn <= due);
    }

    #[test]
    fn always_open_counts_elapsed_time_across_dst(a in near_dst_change(), len in span(3)) {
        for tz in [New_York, Berlin, Lord_Howe] {
            let cal = BusinessCalendar::always_open(tz);
            prop_assert_eq!(cal.business_duration(a, a + len), len);
            prop_assert_eq!(cal.add_business(a, len), Some(a + len));
        }
    }

    #[test]
    fn dst_days_keep_counting_consistent(cal in calendar(), a in near_dst_change(), x in span(2), y in span(2)) {
        let (b, c) = (a + x, a + x + y);
        let whole = cal.business_duration(a, c);
        prop_assert_eq!(whole, cal.business_duration(a, b) + cal.business_duration(b, c));
        let reached = cal.add_business(a, whole).expect("these calendars open every week");
        prop_assert!(reached <= c);
        prop_assert_eq!(cal.business_duration(a, reached), whole);
    }

    #[test]
    fn weekday_hours_away_from_the_change_keep_their_length(a in near_dst_change()) {
        // Berlin's weekday hours are far from 02:00-03:00, so every weekday is 8.5 h even in a
        // DST week; New York's are 8 h.
        for (cal, hours) in [(berlin(), Duration::minutes(510)), (new_york(), Duration::hours(8))] {
            let day = a.with_timezone(&cal.tz).date_naive();
            let open = cal.business_duration(local_midnight(cal.tz, day), local_midnight(cal.tz, day + chrono::Days::new(1)));
            if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                prop_assert_eq!(open, hours);
            }
        }
    }
}
