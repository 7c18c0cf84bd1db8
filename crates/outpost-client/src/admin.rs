//! The admin area's half of the Desk: the organisation's settings (read from the cache, changed
//! through the outbox like any change, so they work offline) and the admin endpoints for users
//! and intake keys (online only).
//!
//! Everything here except reading the settings is for admins; other roles are refused before
//! anything is queued or sent (the server refuses them too).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use outpost_core::model::{Channel, Department, Role, Template, User, UserId};
use outpost_core::rules::{Classification, ClassifyInput, RuleSet};
use outpost_core::settings::SettingsDoc;
use outpost_core::sla::calendar::{BusinessCalendar, OpenInterval, WeeklyHours};
use outpost_core::sla::SlaSettings;
use outpost_core::sync::Mutation;
use outpost_store::{CalendarEffect, OrgSettingsView};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::desk::{now, Desk, DeskError, DeskResult};
use crate::sync::SyncError;

/// How a new or reset user gets their first password.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum InviteKind {
    /// A one-time password in the answer, for the admin to pass on.
    #[default]
    Password,
    /// A link, valid for 7 days and once, where the user sets their own password.
    Link,
}

/// `POST /v1/admin/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub departments: Vec<String>,
    pub skills: Vec<String>,
    pub invite: InviteKind,
}

/// A user the server added, with what to hand on to them (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AddedUser {
    pub user: User,
    pub one_time_password: Option<String>,
    pub invite_link: Option<String>,
}

/// A new password as the admin hands it on: a one-time password or an invitation link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Credentials {
    pub one_time_password: Option<String>,
    pub invite_link: Option<String>,
}

/// `PATCH /v1/admin/users/{id}`: the fields to change; absent ones stay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub departments: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub skills: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub away: Option<bool>,
    /// The person's weekly shifts, in three states as the server reads them: absent (`None`)
    /// leaves them, `null` (`Some(None)`) removes the schedule (always available), a value
    /// (`Some(Some(hours))`) replaces it. The server refuses invalid intervals.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "ts", ts(optional))]
    #[allow(
        clippy::option_option,
        reason = "the wire has three states (absent, null, a value); this is their serde form"
    )]
    pub shifts: Option<Option<WeeklyHours>>,
}

/// A field that is present in the JSON, `null` included: `null` becomes `Some(None)`, so a
/// patch can say "clear" apart from "leave" (absent, the serde default `None`).
#[allow(
    clippy::option_option,
    reason = "serde's `deserialize_with` for an `Option<Option<T>>` field"
)]
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A person as the admin's people list shows them (`GET /v1/admin/users`): the directory's
/// fields and whether their second factor is set up (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AdminUser {
    #[serde(flatten)]
    pub user: User,
    pub totp_enabled: bool,
}

/// An intake key as an admin sees it (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IntakeKeyInfo {
    pub id: Uuid,
    pub name: String,
    pub channel: Channel,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A new intake key: `key` is shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CreatedIntakeKey {
    pub id: Uuid,
    pub name: String,
    pub channel: Channel,
    pub key: String,
}

/// One day of the admin's month view, as the calendar itself reads it
/// ([`BusinessCalendar::day`]): the hours that apply (none: closed), and the holiday or special
/// period that set them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MonthDay {
    pub date: NaiveDate,
    pub hours: Vec<OpenInterval>,
    /// The holiday that closes this day (a special period on the same date beats it).
    pub holiday: Option<String>,
    /// The reason of the special period whose hours apply this day.
    pub special_period: Option<String>,
}

/// Every day of `month` (1–12) of `year` under `calendar`, first to last; `None` for a month
/// that does not exist.
pub fn calendar_month(calendar: &BusinessCalendar, year: i32, month: u32) -> Option<Vec<MonthDay>> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    Some(
        first
            .iter_days()
            .take_while(|d| d.month() == month)
            .map(|date| {
                let day = calendar.day(date);
                MonthDay {
                    date,
                    hours: day.hours.to_vec(),
                    holiday: day.holiday.map(|h| h.name.clone()),
                    special_period: day.special_period.map(|p| p.reason.clone()),
                }
            })
            .collect(),
    )
}

/// An admin endpoint's failure: the server's own code reaches the UI (`conflict` for a taken
/// e-mail, `offline` without a network), not the sync engine's.
fn admin_error(e: SyncError) -> DeskError {
    match e {
        SyncError::Api(api) => DeskError::from(api),
        other => DeskError::Sync(other),
    }
}

impl Desk {
    /// The signed-in user's role as the server last sent it (the profile's copy until the
    /// first pull).
    async fn current_role(&self) -> DeskResult<Role> {
        let me = self.me().await?.user;
        let id: UserId = me.id;
        let cached = self.with_store(move |s, _| s.user(id)).await?;
        Ok(cached.map_or(me.role, |u| u.role))
    }

    async fn require_admin(&self) -> DeskResult<Role> {
        match self.current_role().await? {
            Role::Admin => Ok(Role::Admin),
            Role::Agent | Role::Supervisor => Err(DeskError::Forbidden(
                "the organisation's settings, users and intake keys are for admins".into(),
            )),
        }
    }

    /// The organisation's settings, departments and templates as this device sees them (with
    /// this admin's edits that have not reached the server yet). Works offline.
    pub async fn org_settings(&self) -> DeskResult<OrgSettingsView> {
        self.with_store(|s, _| Ok(s.org_settings().clone())).await
    }

    /// Queues an admin intent (`settings.set`, `department.put`, `template.put`): checked
    /// here with the core's rules, shown at once, pushed like any change.
    pub async fn change_admin(&self, mutation: Mutation) -> DeskResult<OrgSettingsView> {
        let role = self.require_admin().await?;
        let view = self
            .with_store(move |s, actor| s.apply_admin_local(actor, role, mutation, now()))
            .await?;
        let engine = self.engine().await?;
        let _ = engine.refresh_counts().await;
        engine.notify_reference();
        engine.wake();
        Ok(view)
    }

    /// Replaces one settings document, made on `base_version` of it.
    pub async fn change_settings(
        &self,
        base_version: u64,
        settings: SettingsDoc,
    ) -> DeskResult<OrgSettingsView> {
        self.change_admin(Mutation::SetSettings {
            base_version,
            settings,
        })
        .await
    }

    pub async fn put_department(&self, department: Department) -> DeskResult<OrgSettingsView> {
        self.change_admin(Mutation::PutDepartment(department)).await
    }

    pub async fn put_template(&self, template: Template) -> DeskResult<OrgSettingsView> {
        self.change_admin(Mutation::PutTemplate(template)).await
    }

    /// What `rules` make of a text, as intake would classify it (a standard customer writing
    /// through the web form).
    pub async fn preview_rules(
        &self,
        rules: RuleSet,
        subject: String,
        description: String,
    ) -> DeskResult<Classification> {
        self.require_admin().await?;
        Ok(rules.classify(&ClassifyInput {
            subject: &subject,
            description: &description,
            tier: outpost_core::model::CustomerTier::Standard,
            channel: Channel::WebForm,
            business_type: None,
        }))
    }

    /// How many open tickets in the cache would see their deadline move under `sla`.
    pub async fn calendar_effect(&self, sla: SlaSettings) -> DeskResult<CalendarEffect> {
        self.require_admin().await?;
        self.with_store(move |s, _| s.calendar_effect(&sla, now()))
            .await
    }

    /// The month view of a calendar being edited (not yet saved): what each day of `month`
    /// (1–12) of `year` is, decided by the core's calendar. Admins only.
    pub async fn calendar_month(
        &self,
        calendar: BusinessCalendar,
        year: i32,
        month: u32,
    ) -> DeskResult<Vec<MonthDay>> {
        self.require_admin().await?;
        calendar_month(&calendar, year, month)
            .ok_or_else(|| DeskError::Invalid(format!("there is no month {month} in year {year}")))
    }

    /// Runs an admin endpoint; a pull follows so the cache shows its effect.
    async fn admin_call<T, F, Fut>(&self, call: F) -> DeskResult<T>
    where
        F: Fn(crate::api::ServerApi, String) -> Fut,
        Fut: std::future::Future<Output = Result<T, crate::api::ApiError>>,
    {
        self.require_admin().await?;
        let engine = self.engine().await?;
        let answer = engine.call(call).await.map_err(admin_error)?;
        engine.wake();
        Ok(answer)
    }

    pub async fn admin_add_user(&self, user: NewUser) -> DeskResult<AddedUser> {
        self.admin_call(|api, token| {
            let user = user.clone();
            async move { api.admin_add_user(&token, &user).await }
        })
        .await
    }

    pub async fn admin_update_user(&self, id: UserId, patch: UserPatch) -> DeskResult<User> {
        self.admin_call(|api, token| {
            let patch = patch.clone();
            async move { api.admin_update_user(&token, id, &patch).await }
        })
        .await
    }

    pub async fn admin_enable_user(&self, id: UserId) -> DeskResult<User> {
        self.admin_call(|api, token| async move { api.admin_enable_user(&token, id).await })
            .await
    }

    pub async fn admin_disable_user(&self, id: UserId) -> DeskResult<()> {
        self.admin_call(|api, token| async move { api.admin_disable_user(&token, id).await })
            .await
    }

    /// A new password for a user (their sessions end).
    pub async fn admin_reset_password(
        &self,
        id: UserId,
        invite: InviteKind,
    ) -> DeskResult<Credentials> {
        self.admin_call(
            |api, token| async move { api.admin_reset_password(&token, id, invite).await },
        )
        .await
    }

    /// Removes a user's second factor (their sessions end).
    pub async fn admin_reset_totp(&self, id: UserId) -> DeskResult<User> {
        self.admin_call(|api, token| async move { api.admin_reset_totp(&token, id).await })
            .await
    }

    /// Everyone with their second factor's state (online only).
    pub async fn admin_users(&self) -> DeskResult<Vec<AdminUser>> {
        self.admin_call(|api, token| async move { api.admin_users(&token).await })
            .await
    }

    pub async fn admin_intake_keys(&self) -> DeskResult<Vec<IntakeKeyInfo>> {
        self.admin_call(|api, token| async move { api.admin_intake_keys(&token).await })
            .await
    }

    pub async fn admin_add_intake_key(&self, name: String) -> DeskResult<CreatedIntakeKey> {
        self.admin_call(|api, token| {
            let name = name.clone();
            async move { api.admin_add_intake_key(&token, &name).await }
        })
        .await
    }

    pub async fn admin_revoke_intake_key(&self, id: Uuid) -> DeskResult<IntakeKeyInfo> {
        self.admin_call(|api, token| async move { api.admin_revoke_intake_key(&token, id).await })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use outpost_core::sla::calendar::OpenInterval;

    #[test]
    fn the_month_view_is_the_calendars_own_reading_of_each_day() {
        use outpost_core::sla::calendar::{Holiday, SpecialPeriod};
        let date = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        let office = vec![OpenInterval {
            start_minute: 540,
            end_minute: 1080,
        }];
        let morning = vec![OpenInterval {
            start_minute: 540,
            end_minute: 720,
        }];
        let mut calendar = BusinessCalendar::weekdays(
            "Lisboa",
            "Europe/Lisbon".parse().unwrap(),
            chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            chrono::NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
        );
        calendar.holidays = vec![
            Holiday {
                date: date(25),
                name: "Natal".into(),
            },
            // Overridden by the special period below: not named, its hours do not apply.
            Holiday {
                date: date(31),
                name: "Véspera".into(),
            },
        ];
        calendar.special_periods = vec![SpecialPeriod {
            from: date(30),
            to: date(31),
            hours: morning.clone(),
            reason: "Fecho do ano".into(),
            recorded_by: "admin".into(),
            recorded_at: Utc::now(),
        }];

        let days = calendar_month(&calendar, 2026, 12).unwrap();
        assert_eq!(days.len(), 31);
        assert_eq!(days.first().map(|d| d.date), Some(date(1)));
        let day = |d: u32| days[d as usize - 1].clone();
        // A weekday, a Saturday, a holiday on a Friday, a special period beating a holiday.
        assert_eq!(
            day(24),
            MonthDay {
                date: date(24),
                hours: office,
                holiday: None,
                special_period: None
            }
        );
        assert!(day(26).hours.is_empty() && day(26).holiday.is_none());
        assert_eq!(day(25).holiday.as_deref(), Some("Natal"));
        assert!(day(25).hours.is_empty());
        for d in [30, 31] {
            assert_eq!(day(d).hours, morning);
            assert_eq!(day(d).special_period.as_deref(), Some("Fecho do ano"));
            assert_eq!(day(d).holiday, None);
        }
        // Each day says what counting time uses.
        for d in &days {
            assert_eq!(d.hours, calendar.hours_on(d.date));
        }

        assert_eq!(calendar_month(&calendar, 2026, 2).unwrap().len(), 28);
        assert_eq!(calendar_month(&calendar, 2028, 2).unwrap().len(), 29);
        assert_eq!(calendar_month(&calendar, 2026, 13), None);
        assert_eq!(calendar_month(&calendar, 2026, 0), None);
    }

    #[test]
    fn a_user_patch_keeps_absent_null_and_a_schedule_apart() {
        let absent: UserPatch = serde_json::from_str(r#"{"away":true}"#).unwrap();
        assert_eq!(absent.shifts, None);
        assert_eq!(serde_json::to_string(&absent).unwrap(), r#"{"away":true}"#);

        let cleared: UserPatch = serde_json::from_str(r#"{"shifts":null}"#).unwrap();
        assert_eq!(cleared.shifts, Some(None));
        assert_eq!(
            serde_json::to_string(&cleared).unwrap(),
            r#"{"shifts":null}"#
        );

        let week = WeeklyHours {
            monday: vec![OpenInterval {
                start_minute: 540,
                end_minute: 1020,
            }],
            ..WeeklyHours::default()
        };
        let set = UserPatch {
            shifts: Some(Some(week.clone())),
            ..UserPatch::default()
        };
        let json = serde_json::to_string(&set).unwrap();
        let back: UserPatch = serde_json::from_str(&json).unwrap();
        assert_eq!(back.shifts, Some(Some(week)));
    }
}
