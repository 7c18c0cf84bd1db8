//! SLA policies: which targets apply to a ticket, and against which calendar.

use std::borrow::Cow;

use chrono::{Duration, NaiveTime};
use serde::{Deserialize, Serialize};

use super::calendar::{BusinessCalendar, CalendarError};
use crate::model::{Category, CustomerTier, Priority, Ticket};

/// The clocks a ticket can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Creation until the first public reply.
    FirstResponse,
    /// The last public reply (or creation) until the next one, while the ticket is open.
    PeriodicUpdate,
    /// Creation until resolution.
    Resolution,
    /// A low CSAT score until the revisit, 24 h of wall-clock time.
    Revisit,
}

/// Targets for tickets of one priority, optionally narrowed to a category and/or customer tier.
///
/// Targets are whole minutes of counted time: business minutes when `business_hours`, otherwise
/// plain minutes on a 24×7 calendar in the business calendar's zone. `None` = no such clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SlaPolicy {
    pub name: String,
    pub priority: Priority,
    pub category: Option<Category>,
    pub tier: Option<CustomerTier>,
    pub first_response_minutes: Option<u32>,
    pub periodic_update_minutes: Option<u32>,
    pub resolution_minutes: Option<u32>,
    pub business_hours: bool,
}

impl SlaPolicy {
    pub fn target(&self, kind: ClockKind) -> Option<Duration> {
        let minutes = match kind {
            ClockKind::FirstResponse => self.first_response_minutes,
            ClockKind::PeriodicUpdate => self.periodic_update_minutes,
            ClockKind::Resolution => self.resolution_minutes,
            ClockKind::Revisit => None,
        }?;
        Some(Duration::minutes(i64::from(minutes)))
    }

    fn matches(&self, ticket: &Ticket) -> bool {
        self.priority == ticket.priority
            && self.category.as_ref().is_none_or(|c| *c == ticket.category)
            && self.tier.is_none_or(|t| t == ticket.requester.tier)
    }

    /// Category and tier beat category, which beats tier, which beats priority alone.
    fn specificity(&self) -> u8 {
        u8::from(self.category.is_some()) * 2 + u8::from(self.tier.is_some())
    }
}

/// Settings that make SLA configuration unusable; each message says how to fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsError {
    #[error("business calendar: {0}")]
    Calendar(#[from] CalendarError),
    #[error(
        "the warning share must be above 0 and at most 1 (0.75 warns at 75 % of a target), not {0}"
    )]
    WarnShare(f64),
    #[error("policies `{first}` and `{second}` apply to exactly the same tickets; remove or narrow one of them")]
    DuplicatePolicy { first: String, second: String },
}

/// Everything the SLA engine needs besides the ticket and `now`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SlaSettings {
    pub policies: Vec<SlaPolicy>,
    pub calendar: BusinessCalendar,
    /// A running clock is at risk once this share of its target is used (0.75 = 75 %).
    pub warn_share: f64,
}

/// `warn_share` is never NaN: JSON cannot carry one and `validate` refuses it, so equality is
/// total for every settings document that can be stored.
impl Eq for SlaSettings {}

impl SlaSettings {
    /// The defaults from PRODUCT.md. The business calendar is Asia/Shanghai, Monday to Friday
    /// 09:00–18:00, so a business day is 9 business hours: P3's 5 business days are 45 h, P4's
    /// 2 and 10 business days are 18 h and 90 h. Targets are stored in business minutes, so
    /// they keep their length if the hours are changed later.
    pub fn defaults() -> SlaSettings {
        const HOUR: u32 = 60;
        const BUSINESS_DAY: u32 = 9 * HOUR;
        let policy = |priority: Priority,
                      first_response: u32,
                      periodic_update: Option<u32>,
                      resolution: u32,
                      business_hours: bool| SlaPolicy {
            name: priority.as_str().to_owned(),
            priority,
            category: None,
            tier: None,
            first_response_minutes: Some(first_response),
            periodic_update_minutes: periodic_update,
            resolution_minutes: Some(resolution),
            business_hours,
        };
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN);
        let six_pm = NaiveTime::from_hms_opt(18, 0, 0).unwrap_or(NaiveTime::MIN);
        SlaSettings {
            policies: vec![
                policy(Priority::P1, 15, Some(HOUR), 2 * HOUR, false),
                policy(Priority::P2, 2 * HOUR, None, 24 * HOUR, false),
                policy(Priority::P3, 8 * HOUR, None, 5 * BUSINESS_DAY, true),
                policy(
                    Priority::P4,
                    2 * BUSINESS_DAY,
                    None,
                    10 * BUSINESS_DAY,
                    true,
                ),
            ],
            calendar: BusinessCalendar::weekdays(
                "Mon–Fri 09:00–18:00",
                chrono_tz::Asia::Shanghai,
                nine,
                six_pm,
            ),
            warn_share: 0.75,
        }
    }

    /// The most specific policy for the ticket's priority; the earliest listed wins a tie.
    pub fn policy_for(&self, ticket: &Ticket) -> Option<&SlaPolicy> {
        let mut best: Option<&SlaPolicy> = None;
        for policy in self.policies.iter().filter(|p| p.matches(ticket)) {
            if best.is_none_or(|b| policy.specificity() > b.specificity()) {
                best = Some(policy);
            }
        }
        best
    }

    /// The calendar a policy's clocks count on.
    pub fn calendar_for(&self, policy: &SlaPolicy) -> Cow<'_, BusinessCalendar> {
        if policy.business_hours {
            Cow::Borrowed(&self.calendar)
        } else {
            Cow::Owned(BusinessCalendar::always_open(self.calendar.tz))
        }
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        self.calendar.validate()?;
        if !(self.warn_share > 0.0 && self.warn_share <= 1.0) {
            return Err(SettingsError::WarnShare(self.warn_share));
        }
        for (i, policy) in self.policies.iter().enumerate() {
            let same_scope = |o: &&SlaPolicy| {
                o.priority == policy.priority
                    && o.category == policy.category
                    && o.tier == policy.tier
            };
            if let Some(other) = self.policies[..i].iter().find(same_scope) {
                return Err(SettingsError::DuplicatePolicy {
                    first: other.name.clone(),
                    second: policy.name.clone(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::test_support::{ticket, utc};

    fn scoped(name: &str, category: Option<Category>, tier: Option<CustomerTier>) -> SlaPolicy {
        SlaPolicy {
            name: name.to_owned(),
            category,
            tier,
            ..SlaSettings::defaults().policies[2].clone()
        }
    }

    #[test]
    fn defaults_follow_product_targets() {
        let settings = SlaSettings::defaults();
        assert_eq!(settings.validate(), Ok(()));
        let targets: Vec<_> = settings
            .policies
            .iter()
            .map(|p| {
                (
                    p.priority,
                    p.first_response_minutes,
                    p.periodic_update_minutes,
                    p.resolution_minutes,
                    p.business_hours,
                )
            })
            .collect();
        assert_eq!(
            targets,
            vec![
                (Priority::P1, Some(15), Some(60), Some(120), false),
                (Priority::P2, Some(120), None, Some(1440), false),
                (Priority::P3, Some(480), None, Some(45 * 60), true),
                (Priority::P4, Some(18 * 60), None, Some(90 * 60), true),
            ]
        );
        assert_eq!(settings.calendar.tz, chrono_tz::Asia::Shanghai);
        assert!((settings.warn_share - 0.75).abs() < f64::EPSILON);
        assert_eq!(
            settings.policies[0].target(ClockKind::FirstResponse),
            Some(Duration::minutes(15))
        );
        assert_eq!(settings.policies[0].target(ClockKind::Revisit), None);
    }

    #[test]
    fn the_most_specific_policy_wins() {
        let mut settings = SlaSettings::defaults();
        settings.policies.extend([
            scoped("P3 vip", None, Some(CustomerTier::Vip)),
            scoped("P3 login", Some(Category::LOGIN_ANOMALY), None),
            scoped(
                "P3 login vip",
                Some(Category::LOGIN_ANOMALY),
                Some(CustomerTier::Vip),
            ),
            scoped("P3 login again", Some(Category::LOGIN_ANOMALY), None),
        ]);
        let mut t = ticket(Priority::P3, utc(2025, 6, 13, 8, 0));
        let chosen =
            |settings: &SlaSettings, t: &Ticket| settings.policy_for(t).map(|p| p.name.clone());

        t.requester.tier = CustomerTier::Vip;
        assert_eq!(chosen(&settings, &t).as_deref(), Some("P3 login vip"));
        t.requester.tier = CustomerTier::Standard;
        assert_eq!(
            chosen(&settings, &t).as_deref(),
            Some("P3 login"),
            "earliest of equally specific"
        );
        t.category = Category::INQUIRY;
        t.requester.tier = CustomerTier::Vip;
        assert_eq!(chosen(&settings, &t).as_deref(), Some("P3 vip"));
        t.requester.tier = CustomerTier::Enterprise;
        assert_eq!(chosen(&settings, &t).as_deref(), Some("P3"));
        t.priority = Priority::P1;
        assert_eq!(chosen(&settings, &t).as_deref(), Some("P1"));

        settings.policies.retain(|p| p.priority != Priority::P1);
        assert_eq!(chosen(&settings, &t), None);
    }

    #[test]
    fn settings_validation_names_the_problem() {
        let mut settings = SlaSettings::defaults();
        settings.warn_share = 0.0;
        assert_eq!(settings.validate(), Err(SettingsError::WarnShare(0.0)));
        settings.warn_share = f64::NAN;
        assert!(matches!(
            settings.validate(),
            Err(SettingsError::WarnShare(_))
        ));

        let mut settings = SlaSettings::defaults();
        settings.policies.push(scoped("P3 copy", None, None));
        let err = settings.validate().unwrap_err();
        assert_eq!(
            err,
            SettingsError::DuplicatePolicy {
                first: "P3".to_owned(),
                second: "P3 copy".to_owned()
            }
        );

        let mut settings = SlaSettings::defaults();
        settings
            .calendar
            .weekly
            .friday
            .push(settings.calendar.weekly.friday[0]);
        assert!(matches!(
            settings.validate(),
            Err(SettingsError::Calendar(
                CalendarError::OverlappingIntervals { .. }
            ))
        ));
    }

    #[test]
    fn clock_kinds_and_settings_use_stable_wire_names() {
        assert_eq!(
            serde_json::to_string(&ClockKind::FirstResponse).expect("serializes"),
            "\"first_response\""
        );
        let settings = SlaSettings::defaults();
        let json = serde_json::to_string(&settings).expect("serializes");
        assert!(json.contains("\"first_response_minutes\":15"));
        assert_eq!(
            serde_json::from_str::<SlaSettings>(&json).expect("deserializes"),
            settings
        );
        assert!(serde_json::from_str::<SlaSettings>(
            r#"{"policies":[{"name":"x","priority":"P9"}]}"#
        )
        .is_err());
    }
}
