//! Administration commands run from the shell: create the organisation, add users and
//! departments, load demo data.

use chrono_tz::Tz;
use outpost_core::model::Role;
use outpost_core::settings::SettingsDoc;
use outpost_core::sla::{OpenInterval, WeeklyHours};
use outpost_core::sync::Mutation;
use outpost_synth::{tickets_with_entries, SynthConfig};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::auth::{hash_password, random_token};
use crate::db::{next, now_millis, Db};
use crate::secrets::MasterKey;
use crate::writes::{write_entry, write_ticket_row, WriteTx};

pub const DEFAULT_DEPARTMENTS: &[(&str, &str)] = &[
    ("support", "Support 客服部"),
    ("finance", "Finance 财务部"),
    ("tech", "Tech 技术部"),
    ("risk", "Risk 风控部"),
];

pub struct Initialised {
    pub admin_id: Uuid,
    pub one_time_password: String,
}

/// What `outpost-server init` knows about the organisation besides its first admin.
#[derive(Debug, Clone)]
pub struct OrgSetup {
    pub name: String,
    /// The business calendar: time zone and weekly hours. With one, the name and the calendar
    /// are written as the first version of the organisation and SLA documents; `None` leaves
    /// every settings document at the product default (version 0).
    pub calendar: Option<(Tz, WeeklyHours)>,
}

/// Creates the organisation, the default departments and the first admin. The token-signing
/// secret is stored sealed with `master_key`; it is never written in the clear.
pub async fn init(
    db: &Db,
    master_key: &MasterKey,
    org_name: &str,
    admin_email: &str,
    admin_name: &str,
) -> anyhow::Result<Initialised> {
    let setup = OrgSetup {
        name: org_name.to_owned(),
        calendar: None,
    };
    init_with(db, master_key, &setup, admin_email, admin_name).await
}

/// [`init`], also writing the organisation profile (its name) and the business calendar, when
/// given, as the first versions of those settings documents, decided by `apply_admin` like any
/// admin change and audited.
pub async fn init_with(
    db: &Db,
    master_key: &MasterKey,
    setup: &OrgSetup,
    admin_email: &str,
    admin_name: &str,
) -> anyhow::Result<Initialised> {
    let org_name = setup.name.trim();
    anyhow::ensure!(
        !org_name.is_empty(),
        "the organisation's name must not be empty"
    );
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM org")
        .fetch_optional(&db.pool)
        .await?;
    if exists.is_some() {
        anyhow::bail!("this database already has an organisation; nothing was changed");
    }
    let password = random_token(12)?;
    let hash = tokio::task::spawn_blocking({
        let password = password.clone();
        move || hash_password(&password)
    })
    .await??;
    let org_id = Uuid::now_v7().to_string();
    let token_secret = master_key.seal_str(
        crate::secrets::Purpose::TOKEN_SECRET,
        &org_id,
        &zeroize::Zeroizing::new(random_token(32)?),
    )?;
    let mut tx = db.begin_write().await?;
    sqlx::query("INSERT INTO org (id, name, token_secret, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&org_id)
        .bind(org_name)
        .bind(token_secret)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
    for (code, name) in DEFAULT_DEPARTMENTS {
        crate::users::add_department(&mut tx, code, name).await?;
    }
    let departments: Vec<String> = DEFAULT_DEPARTMENTS
        .iter()
        .map(|(c, _)| c.to_string())
        .collect();
    let admin = crate::users::create(
        &mut tx,
        crate::users::NewUser {
            email: admin_email,
            name: admin_name,
            role: Role::Admin,
            departments: &departments,
            skills: &[],
            password_hash: &hash,
        },
    )
    .await?;
    AuditEntry::org_initialised(admin.id)
        .append(&mut tx)
        .await?;
    write_first_settings(&mut tx, setup).await?;
    tx.commit().await?;
    Ok(Initialised {
        admin_id: admin.id,
        one_time_password: password,
    })
}

/// Loads a realistic demo organisation: synthetic agents and supervisors, and `tickets` tickets
/// with their timelines. Returns each demo user's e-mail and one-time password.
pub async fn demo(db: &Db, tickets: usize) -> anyhow::Result<Vec<(String, Role, String)>> {
    let cfg = SynthConfig {
        tickets,
        entries: tickets * 3,
        now: crate::db::now(),
        agents: 8,
        ..SynthConfig::default()
    };
    let stream = tickets_with_entries(&cfg);
    let mut credentials = Vec::new();
    let mut tx = db.begin_write().await?;
    for user in stream.users() {
        let password = random_token(9)?;
        let hash = hash_password(&password)?;
        let seq = next(&mut tx, "change_seq").await?;
        sqlx::query(
            "INSERT INTO users (id, email, name, role, departments, skills, password_hash, active, seq, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(user.id.to_string())
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(serde_json::to_string(&user.departments)?)
        .bind(serde_json::to_string(&user.skills)?)
        .bind(hash)
        .bind(i64::from(user.active))
        .bind(seq)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        credentials.push((user.email.clone(), user.role, password));
    }
    let mut highest_key = 0i64;
    for (ticket, entries) in stream {
        if let Some(n) = ticket
            .key
            .as_deref()
            .and_then(|k| k.strip_prefix("OP-"))
            .and_then(|n| n.parse::<i64>().ok())
        {
            highest_key = highest_key.max(n);
        }
        let seq = next(&mut tx, "change_seq").await?;
        write_ticket_row(&mut tx, &ticket, seq, true).await?;
        for entry in &entries {
            let seq = next(&mut tx, "change_seq").await?;
            write_entry(&mut tx, entry, seq);
        }
    }
    tx.raise("ticket_key", highest_key).await?;
    for template in crate::templates::demo() {
        crate::templates::put(&mut tx, &template).await?;
    }
    AuditEntry::demo_loaded(tickets).append(&mut tx).await?;
    tx.commit().await?;
    Ok(credentials)
}

/// With a calendar (what `outpost-server init` always gives), the organisation profile with the
/// organisation's name and the SLA settings with that calendar: version 1 of each, through
/// `settings::apply_as_server` (validated, audited). Without one, nothing: every document stays
/// the product default at version 0.
async fn write_first_settings(tx: &mut WriteTx, setup: &OrgSetup) -> anyhow::Result<()> {
    let Some((tz, weekly)) = &setup.calendar else {
        return Ok(());
    };
    let current = crate::settings_docs::load(tx).await?;
    let mut profile = current.profile().clone();
    profile.name = setup.name.trim().to_owned();
    let mut sla = current.sla_settings().clone();
    sla.calendar.tz = *tz;
    sla.calendar.weekly = weekly.clone();
    sla.calendar.name = describe_hours(weekly);
    let changes = [
        Mutation::SetSettings {
            base_version: current.organisation.version,
            settings: SettingsDoc::Organisation(profile),
        },
        Mutation::SetSettings {
            base_version: current.sla.version,
            settings: SettingsDoc::Sla(sla),
        },
    ];
    for change in &changes {
        crate::settings::apply_as_server(tx, "system", change).await?;
    }
    Ok(())
}

const DAY_NAMES: [(&str, chrono::Weekday); 7] = [
    ("mon", chrono::Weekday::Mon),
    ("tue", chrono::Weekday::Tue),
    ("wed", chrono::Weekday::Wed),
    ("thu", chrono::Weekday::Thu),
    ("fri", chrono::Weekday::Fri),
    ("sat", chrono::Weekday::Sat),
    ("sun", chrono::Weekday::Sun),
];

fn day_slot(weekly: &mut WeeklyHours, day: chrono::Weekday) -> &mut Vec<OpenInterval> {
    match day {
        chrono::Weekday::Mon => &mut weekly.monday,
        chrono::Weekday::Tue => &mut weekly.tuesday,
        chrono::Weekday::Wed => &mut weekly.wednesday,
        chrono::Weekday::Thu => &mut weekly.thursday,
        chrono::Weekday::Fri => &mut weekly.friday,
        chrono::Weekday::Sat => &mut weekly.saturday,
        chrono::Weekday::Sun => &mut weekly.sunday,
    }
}

fn parse_day(text: &str) -> Result<usize, String> {
    let lower = text.trim().to_lowercase();
    (0..7)
        .find(|&i| lower == DAY_NAMES[i].0 || lower == DAY_NAMES_FULL[i])
        .ok_or_else(|| format!("{text:?} is not a day; write Mon, Tue, Wed, Thu, Fri, Sat or Sun"))
}

const DAY_NAMES_FULL: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

fn parse_time(text: &str) -> Result<u16, String> {
    let bad = || {
        format!("{text:?} is not a time; write HH:MM on a 24-hour clock, such as 09:00 or 18:30")
    };
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Weekly business hours from text such as `Mon-Fri 09:00-18:00`, or with a lunch break and a
/// Saturday morning `Mon-Fri 09:00-12:00,13:00-18:00; Sat 10:00-14:00`: groups separated by `;`,
/// each a day, a range of days or a comma list of them, then one or more `HH:MM-HH:MM`
/// intervals (24:00 is midnight at the end of the day). Days not named are closed. Every error
/// names the piece that is wrong and how to write it.
pub fn parse_weekly_hours(text: &str) -> Result<WeeklyHours, String> {
    let mut weekly = WeeklyHours::default();
    let mut named = [false; 7];
    let groups: Vec<&str> = text
        .split(';')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .collect();
    if groups.is_empty() {
        return Err("no hours given; write them like \"Mon-Fri 09:00-18:00\"".into());
    }
    for group in groups {
        let normalised = group.replace(['–', '—'], "-");
        let (days, times) = normalised.split_once(char::is_whitespace).ok_or_else(|| {
            format!("{group:?} needs days and hours, such as \"Mon-Fri 09:00-18:00\"")
        })?;
        let mut chosen = Vec::new();
        for part in days.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('-') {
                Some((from, to)) => {
                    let (from, to) = (parse_day(from)?, parse_day(to)?);
                    if from > to {
                        return Err(format!(
                            "{part:?} runs backwards; write the week from Monday to Sunday, such as Mon-Fri"
                        ));
                    }
                    chosen.extend(from..=to);
                }
                None => chosen.push(parse_day(part)?),
            }
        }
        let mut intervals = Vec::new();
        for interval in times.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (start, end) = interval.split_once('-').ok_or_else(|| {
                format!(
                    "{interval:?} is not an interval; write it as HH:MM-HH:MM, such as 09:00-18:00"
                )
            })?;
            let (start, end) = (parse_time(start)?, parse_time(end)?);
            if start >= end {
                return Err(format!(
                    "{interval:?} ends before it starts; hours past midnight go on the next day"
                ));
            }
            intervals.push(OpenInterval {
                start_minute: start,
                end_minute: end,
            });
        }
        if intervals.is_empty() {
            return Err(format!(
                "{group:?} has no hours; add them, such as 09:00-18:00"
            ));
        }
        intervals.sort();
        for pair in intervals.windows(2) {
            if pair[0].end_minute > pair[1].start_minute {
                return Err(format!(
                    "{group:?}: intervals {} and {} overlap; merge them",
                    pair[0], pair[1]
                ));
            }
        }
        for day in chosen {
            if std::mem::replace(&mut named[day], true) {
                return Err(format!(
                    "{} is given hours twice; name each day once",
                    DAY_NAMES_FULL[day]
                ));
            }
            day_slot(&mut weekly, DAY_NAMES[day].1).clone_from(&intervals);
        }
    }
    Ok(weekly)
}

/// The hours as a calendar's name: `Mon–Fri 09:00–18:00`, days with the same hours grouped.
pub fn describe_hours(weekly: &WeeklyHours) -> String {
    let short = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let days: Vec<&[OpenInterval]> = DAY_NAMES.iter().map(|(_, d)| weekly.on(*d)).collect();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < 7 {
        let mut j = i;
        while j + 1 < 7 && days[j + 1] == days[i] {
            j += 1;
        }
        if !days[i].is_empty() {
            let span = if i == j {
                short[i].to_owned()
            } else {
                format!("{}–{}", short[i], short[j])
            };
            let hours: Vec<String> = days[i].iter().map(ToString::to_string).collect();
            parts.push(format!("{span} {}", hours.join(", ")));
        }
        i = j + 1;
    }
    if parts.is_empty() {
        "closed".into()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(start: u16, end: u16) -> OpenInterval {
        OpenInterval {
            start_minute: start,
            end_minute: end,
        }
    }

    #[test]
    fn hours_read_like_a_sign_on_the_door() {
        let weekly = parse_weekly_hours("Mon-Fri 09:00-18:00").unwrap();
        assert_eq!(weekly.monday, [interval(540, 1080)]);
        assert_eq!(weekly.friday, [interval(540, 1080)]);
        assert!(weekly.saturday.is_empty() && weekly.sunday.is_empty());
        assert_eq!(describe_hours(&weekly), "Mon–Fri 09:00–18:00");

        let weekly = parse_weekly_hours(
            "mon–thu 09:00-12:00, 13:00-18:00; Friday 09:00-16:00; Sat,Sun 10:00-24:00",
        )
        .unwrap();
        assert_eq!(weekly.tuesday, [interval(540, 720), interval(780, 1080)]);
        assert_eq!(weekly.friday, [interval(540, 960)]);
        assert_eq!(weekly.sunday, [interval(600, 1440)]);
        assert_eq!(
            describe_hours(&weekly),
            "Mon–Thu 09:00–12:00, 13:00–18:00; Fri 09:00–16:00; Sat–Sun 10:00–24:00"
        );
    }

    #[test]
    fn wrong_hours_are_refused_naming_the_piece() {
        for (text, expected) in [
            ("", "no hours given"),
            ("Mon-Fir 09:00-18:00", "\"Fir\" is not a day"),
            ("Moon 09:00-18:00", "\"Moon\" is not a day"),
            ("Fri-Mon 09:00-18:00", "runs backwards"),
            ("Mon-Fri", "needs days and hours"),
            ("Mon-Fri 9-18", "\"9\" is not a time"),
            ("Mon-Fri 09:00", "\"09:00\" is not an interval"),
            ("Mon-Fri 09:00-25:00", "\"25:00\" is not a time"),
            ("Mon-Fri 09:60-18:00", "\"09:60\" is not a time"),
            ("Mon-Fri 18:00-09:00", "ends before it starts"),
            ("Mon 09:00-13:00,12:00-18:00", "overlap"),
            (
                "Mon-Fri 09:00-18:00; Fri 10:00-12:00",
                "friday is given hours twice",
            ),
        ] {
            let error = parse_weekly_hours(text).expect_err(text);
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }
}
