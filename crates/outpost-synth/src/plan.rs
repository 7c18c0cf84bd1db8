//! The cheap first pass: when each ticket arrives, what it is about, which language it is in and
//! how many timeline entries it gets, so the second pass can stream tickets in creation order
//! while the entry total comes out exact.

use chrono::{DateTime, Datelike, Utc, Weekday};
use outpost_core::model::Category;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::text::Lang;

pub(crate) const MINUTE: i64 = 60_000;
pub(crate) const HOUR: i64 = 60 * MINUTE;
pub(crate) const DAY: i64 = 24 * HOUR;

#[derive(Debug, Clone, Copy)]
pub(crate) struct TicketPlan {
    /// Unix milliseconds; strictly increasing over the plan and below `now`.
    pub created: i64,
    pub category: &'static Category,
    pub lang: Lang,
    /// Created on a day with a platform incident (more faults, more SMS trouble).
    pub incident: bool,
    pub entries: u32,
}

/// Relative frequency of each category on a normal day: the account problems the seeds name as
/// most frequent dominate, takeovers are rare.
fn category_weight(category: &Category, incident: bool) -> u32 {
    let base = match *category {
        Category::LOGIN_ANOMALY => 140,
        Category::VERIFICATION_CODE_NOT_RECEIVED => 120,
        Category::FUNDS_NOT_ARRIVED => 120,
        Category::TRANSACTION_FAILURE => 120,
        Category::PASSWORD_RESET => 70,
        Category::INQUIRY => 70,
        Category::ACCOUNT_RESTRICTED => 50,
        Category::PROFILE_CHANGE => 50,
        Category::TECHNICAL_FAULT => 50,
        Category::RECONCILIATION_MISMATCH => 40,
        Category::COMPLAINT => 40,
        Category::KYC_REVIEW => 40,
        Category::ACTIVATION_FAILURE => 30,
        Category::PERMISSION_CHANGE => 30,
        Category::SECURITY_ALERT => 30,
        Category::FEATURE_REQUEST => 25,
        Category::ACCOUNT_TAKEOVER => 10,
        // Only built-in categories are drawn.
        _ => 0,
    };
    let surge = match *category {
        Category::TECHNICAL_FAULT => 6,
        Category::VERIFICATION_CODE_NOT_RECEIVED => 3,
        Category::TRANSACTION_FAILURE | Category::LOGIN_ANOMALY | Category::COMPLAINT => 2,
        _ => 1,
    };
    if incident {
        base * surge
    } else {
        base
    }
}

/// How much timeline a ticket of this category tends to collect, relative to an average one.
fn category_entry_factor(category: &Category) -> f64 {
    match *category {
        Category::ACCOUNT_TAKEOVER => 3.0,
        Category::RECONCILIATION_MISMATCH => 1.6,
        Category::KYC_REVIEW | Category::COMPLAINT => 1.5,
        Category::SECURITY_ALERT | Category::ACCOUNT_RESTRICTED => 1.4,
        Category::FUNDS_NOT_ARRIVED | Category::TECHNICAL_FAULT => 1.2,
        Category::TRANSACTION_FAILURE | Category::PROFILE_CHANGE => 1.1,
        Category::LOGIN_ANOMALY | Category::PERMISSION_CHANGE => 1.0,
        Category::ACTIVATION_FAILURE => 0.9,
        Category::VERIFICATION_CODE_NOT_RECEIVED | Category::PASSWORD_RESET => 0.8,
        Category::INQUIRY | Category::FEATURE_REQUEST => 0.6,
        _ => 1.0,
    }
}

/// Hourly arrival weights in the customer's local day (0 h … 23 h).
const LOCAL_HOUR_WEIGHTS: [u32; 24] = [
    3, 2, 1, 1, 1, 2, 4, 7, 10, 13, 14, 13, 11, 12, 13, 13, 12, 11, 10, 10, 11, 10, 8, 5,
];

fn cumulative(weights: impl IntoIterator<Item = u64>) -> Vec<u64> {
    let mut total = 0;
    weights
        .into_iter()
        .map(|w| {
            total += w;
            total
        })
        .collect()
}

/// Index drawn with probability proportional to the step in `cum`.
fn draw(rng: &mut ChaCha8Rng, cum: &[u64]) -> usize {
    let total = *cum.last().expect("non-empty weights");
    let x = rng.random_range(0..total);
    cum.partition_point(|&c| c <= x)
}

pub(crate) fn plan(
    rng: &mut ChaCha8Rng,
    tickets: usize,
    entries: usize,
    now: DateTime<Utc>,
    span_days: u32,
) -> Vec<TicketPlan> {
    let span_days = i64::from(span_days.max(1));
    let now_ms = now.timestamp_millis();
    let start = now_ms - span_days * DAY;

    // Volume grows over the period, weekends are quieter, a few incident days spike.
    let incident_days: Vec<i64> = if span_days >= 10 {
        (0..3).map(|_| rng.random_range(0..span_days)).collect()
    } else {
        Vec::new()
    };
    let day_cum = cumulative((0..span_days).map(|d| {
        let trend = 75 + 50 * d / span_days;
        let weekday =
            DateTime::from_timestamp_millis(start + d * DAY).map_or(Weekday::Mon, |t| t.weekday());
        let weekend = if matches!(weekday, Weekday::Sat | Weekday::Sun) {
            65
        } else {
            100
        };
        let spike = if incident_days.contains(&d) { 220 } else { 100 };
        (trend * weekend * spike) as u64
    }));
    let hour_cum = cumulative(LOCAL_HOUR_WEIGHTS.iter().map(|&w| u64::from(w)));
    let cat_cum = |incident: bool| {
        cumulative(
            Category::BUILT_IN
                .iter()
                .map(|c| u64::from(category_weight(c, incident))),
        )
    };
    let (normal_cum, incident_cum) = (cat_cum(false), cat_cum(true));

    let mut plans: Vec<TicketPlan> = (0..tickets)
        .map(|_| {
            let lang = if rng.random_bool(0.55) {
                Lang::Zh
            } else {
                Lang::En
            };
            let day = draw(rng, &day_cum) as i64;
            let local_hour = draw(rng, &hour_cum) as i64;
            // Chinese customers live at UTC+8; English ones are spread from the Americas to
            // Asia, so their local hour maps to UTC with a random offset.
            let offset = match lang {
                Lang::Zh => 8,
                Lang::En => [-5i64, 0, 1, 4, 8]
                    .get(rng.random_range(0..5))
                    .copied()
                    .unwrap_or(0),
            };
            let mut created =
                start + day * DAY + (local_hour - offset) * HOUR + rng.random_range(0..HOUR);
            if created < start {
                created += DAY;
            }
            if created >= now_ms {
                created -= DAY;
            }
            let incident = incident_days.contains(&day);
            let cum = if incident { &incident_cum } else { &normal_cum };
            let category = &Category::BUILT_IN[draw(rng, cum)];
            TicketPlan {
                created: created.max(start),
                category,
                lang,
                incident,
                entries: 0,
            }
        })
        .collect();
    plans.sort_by_key(|p| p.created);
    make_strictly_increasing(&mut plans, now_ms);
    apportion_entries(rng, &mut plans, entries, now_ms);
    plans
}

/// Distinct creation milliseconds keep ticket ids (UUIDv7) in the same order as the list.
fn make_strictly_increasing(plans: &mut [TicketPlan], now_ms: i64) {
    for i in 1..plans.len() {
        if plans[i].created <= plans[i - 1].created {
            plans[i].created = plans[i - 1].created + 1;
        }
    }
    if let Some(last) = plans.last_mut() {
        if last.created >= now_ms {
            last.created = now_ms - 1;
        }
    }
    for i in (0..plans.len().saturating_sub(1)).rev() {
        if plans[i].created >= plans[i + 1].created {
            plans[i].created = plans[i + 1].created - 1;
        }
    }
}

/// Splits `total` entries over the tickets in proportion to a weight (older and more complex
/// tickets collect more), so that the sum is exactly `total`.
fn apportion_entries(rng: &mut ChaCha8Rng, plans: &mut [TicketPlan], total: usize, now_ms: i64) {
    const SPREAD: [f64; 8] = [0.4, 0.7, 1.0, 1.0, 1.3, 1.8, 2.5, 4.0];
    let weights: Vec<u64> = plans
        .iter()
        .map(|p| {
            let age = now_ms - p.created;
            let age_factor = if age < 2 * HOUR {
                0.35
            } else if age < DAY {
                0.7
            } else if age < 3 * DAY {
                0.9
            } else {
                1.0 + (age.min(30 * DAY) as f64) / (60 * DAY) as f64
            };
            let spread = SPREAD[rng.random_range(0..SPREAD.len())];
            let w = age_factor * category_entry_factor(p.category) * spread;
            (w * 1000.0) as u64 + 1
        })
        .collect();
    // Every ticket gets one entry when there are enough to go round; the rest by weight.
    let base = u32::from(total >= plans.len() && !plans.is_empty());
    let total = (total - base as usize * plans.len()) as u128;
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    // Largest remainder in running form: share(i) = ⌊T·Cᵢ/W⌋ − ⌊T·Cᵢ₋₁/W⌋ telescopes to T.
    let mut cum: u128 = 0;
    let mut given: u128 = 0;
    for (plan, &w) in plans.iter_mut().zip(&weights) {
        cum += u128::from(w);
        let upto = total * cum / sum.max(1);
        plan.entries = base + u32::try_from(upto - given).unwrap_or(u32::MAX - 1);
        given = upto;
    }
}
