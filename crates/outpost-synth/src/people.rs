//! The team (departments, agents, supervisors, an admin) and the customers who write in.

use chrono::{DateTime, Utc};
use outpost_core::model::{
    Category, Channel, CustomerTier, Department, Requester, Role, User, UserId,
};
use rand::seq::IndexedRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::ids::uuid_at;
use crate::text::{self, Lang};

pub(crate) const SUPPORT: usize = 0;
pub(crate) const FINANCE: usize = 1;
pub(crate) const TECH: usize = 2;
pub(crate) const RISK: usize = 3;
pub(crate) const DEPARTMENT_CODES: [&str; 4] = ["support", "finance", "tech", "risk"];

/// Departments with bilingual display names ("客服部 Support").
pub fn departments() -> Vec<Department> {
    DEPARTMENT_CODES
        .iter()
        .zip(text::DEPARTMENT_NAMES)
        .map(|(code, [zh, en])| Department {
            code: (*code).to_owned(),
            name: format!("{zh} {en}"),
            active: true,
        })
        .collect()
}

/// Staff names: (display name, e-mail local part, speaks Chinese).
const STAFF: &[(&str, &str, bool)] = &[
    ("陈静", "chen.jing", true),
    ("Alice Morgan", "alice.morgan", false),
    ("刘洋", "liu.yang", true),
    ("王磊", "wang.lei", true),
    ("Ben Carter", "ben.carter", false),
    ("赵敏", "zhao.min", true),
    ("孙悦", "sun.yue", true),
    ("Chloe Nguyen", "chloe.nguyen", false),
    ("周杰", "zhou.jie", true),
    ("吴婷", "wu.ting", true),
    ("David Kim", "david.kim", false),
    ("郑浩", "zheng.hao", true),
    ("黄丽", "huang.li", true),
    ("Fiona Walsh", "fiona.walsh", false),
    ("林峰", "lin.feng", true),
    ("何雪", "he.xue", true),
    ("Grace Lee", "grace.lee", true),
    ("高翔", "gao.xiang", true),
    ("Henry Patel", "henry.patel", false),
    ("马琳", "ma.lin", true),
    ("罗斌", "luo.bin", true),
    ("Isabel Rossi", "isabel.rossi", false),
    ("梁晓", "liang.xiao", true),
    ("Jack Turner", "jack.turner", false),
    ("宋佳", "song.jia", true),
    ("Kenji Tanaka", "kenji.tanaka", true),
    ("唐宁", "tang.ning", true),
    ("Laura Schmidt", "laura.schmidt", false),
];

/// Department of the i-th agent: support gets the biggest share, as in a real team.
const DEPARTMENT_CYCLE: [usize; 10] = [
    SUPPORT, FINANCE, SUPPORT, TECH, RISK, SUPPORT, FINANCE, TECH, RISK, SUPPORT,
];

const SKILLS: [&[&str]; 4] = [
    &[
        "account_access",
        "payments",
        "complaints",
        "profile_changes",
    ],
    &["reconciliation", "payouts", "refunds", "cross_border"],
    &["mobile_app", "api", "sms_gateway", "activation"],
    &["fraud", "kyc", "emergency_freeze", "identity_verification"],
];

/// An agent as the dispatcher sees them.
#[derive(Debug, Clone)]
pub(crate) struct Staff {
    pub id: UserId,
    pub name: String,
    pub department: usize,
    pub speaks_zh: bool,
    /// Tickets created after this instant are not given to this person (they left).
    pub available_until: Option<DateTime<Utc>>,
}

pub(crate) struct Team {
    pub users: Vec<User>,
    /// Agents per department (indices into `staff`); supervisors stand in for an empty one.
    pub by_department: [Vec<usize>; 4],
    pub staff: Vec<Staff>,
}

impl Team {
    /// Index (into `staff`) of someone in `department` who could take a ticket created at
    /// `at`, preferring a speaker of the ticket's language; `None` only when the team is empty.
    pub fn pick(
        &self,
        rng: &mut ChaCha8Rng,
        department: usize,
        lang: Lang,
        at: DateTime<Utc>,
    ) -> Option<usize> {
        let usable = |&i: &usize| self.staff[i].available_until.is_none_or(|until| at < until);
        let mut pool: Vec<usize> = self.by_department[department]
            .iter()
            .copied()
            .filter(usable)
            .collect();
        if pool.is_empty() {
            pool = (0..self.staff.len()).filter(usable).collect();
        }
        // A Chinese ticket goes to a Chinese speaker when there is one; English ones to anyone.
        if lang == Lang::Zh && pool.iter().any(|&i| self.staff[i].speaks_zh) {
            pool.retain(|&i| self.staff[i].speaks_zh);
        }
        pool.choose(rng).copied()
    }
}

/// Builds `agents` agents, two supervisors and one admin, minted a month before the history.
pub(crate) fn team(rng: &mut ChaCha8Rng, agents: usize, start: DateTime<Utc>) -> Team {
    let mut users = Vec::with_capacity(agents + 3);
    let mut staff = Vec::new();
    let mut by_department: [Vec<usize>; 4] = Default::default();
    let minted = start - chrono::Duration::days(30);
    let total = agents + 3;
    for i in 0..total {
        let (role, departments) = if i < agents {
            let main = DEPARTMENT_CYCLE[i % DEPARTMENT_CYCLE.len()];
            let mut deps = vec![main];
            // Some support agents also cover finance questions, some risk agents do KYC support.
            if i % 7 == 3 && main != SUPPORT {
                deps.push(SUPPORT);
            }
            (Role::Agent, deps)
        } else if i < agents + 2 {
            (Role::Supervisor, vec![SUPPORT, FINANCE, TECH, RISK])
        } else {
            (Role::Admin, Vec::new())
        };
        let (name, local, speaks_zh) = staff_name(i);
        let mut skills: Vec<String> = Vec::new();
        if speaks_zh {
            skills.push("zh-CN".to_owned());
        }
        if !speaks_zh || rng.random_bool(0.7) {
            skills.push("en".to_owned());
        }
        for &d in &departments {
            let pool = SKILLS[d];
            let n = rng.random_range(1..=pool.len().min(3));
            for s in pool.choose_multiple(rng, n) {
                skills.push((*s).to_owned());
            }
        }
        skills.sort();
        skills.dedup();
        let id = uuid_at(minted + chrono::Duration::minutes(i as i64), rng, 0);
        // The last agent of a larger team left half-way through the history.
        let available_until = (role == Role::Agent && agents >= 8 && i + 1 == agents)
            .then(|| start + chrono::Duration::days(60));
        if role != Role::Admin {
            let index = staff.len();
            staff.push(Staff {
                id,
                name: name.clone(),
                department: departments[0],
                speaks_zh,
                available_until,
            });
            if role == Role::Agent {
                for &d in &departments {
                    by_department[d].push(index);
                }
            }
        }
        users.push(User {
            id,
            name,
            email: format!("{local}@outpost.example"),
            role,
            departments: departments
                .iter()
                .map(|&d| DEPARTMENT_CODES[d].to_owned())
                .collect(),
            skills,
            active: available_until.is_none(),
            away: false,
            shifts: None,
        });
    }
    Team {
        users,
        by_department,
        staff,
    }
}

fn staff_name(i: usize) -> (String, String, bool) {
    let (name, local, zh) = STAFF[i % STAFF.len()];
    let round = i / STAFF.len();
    if round == 0 {
        (name.to_owned(), local.to_owned(), zh)
    } else {
        // Larger teams than the name list: suffix like a directory would ("陈静2").
        (
            format!("{name}{}", round + 1),
            format!("{local}{}", round + 1),
            zh,
        )
    }
}

/// A customer with their display forms.
#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub requester: Requester,
    pub lang: Lang,
    /// How replies address them ("王先生", "Emma").
    pub greet: String,
    pub company: Option<String>,
}

pub(crate) fn customer(
    rng: &mut ChaCha8Rng,
    lang: Lang,
    channel: Channel,
    tier: CustomerTier,
    category: &Category,
) -> Customer {
    let (name, greet, local) = match lang {
        Lang::Zh => {
            let (sur, sur_py) = *text::ZH_SURNAMES.choose(rng).expect("surnames");
            let (given, given_py) = *text::ZH_GIVEN.choose(rng).expect("given names");
            let title = if rng.random_bool(0.5) {
                "先生"
            } else {
                "女士"
            };
            let full = format!("{sur}{given}");
            // Chat and phone often only give a polite form of the surname.
            let name = if matches!(channel, Channel::Phone | Channel::Chat | Channel::WeChat)
                && rng.random_bool(0.3)
            {
                format!("{sur}{title}")
            } else {
                full
            };
            let local = format!("{sur_py}{given_py}{}", rng.random_range(1..999));
            (name, format!("{sur}{title}"), local)
        }
        Lang::En => {
            let first = *text::EN_FIRST.choose(rng).expect("first names");
            let last = *text::EN_LAST.choose(rng).expect("last names");
            let local = format!(
                "{}.{}{}",
                ascii_lower(first),
                ascii_lower(last),
                if rng.random_bool(0.4) {
                    rng.random_range(1..99).to_string()
                } else {
                    String::new()
                }
            );
            (format!("{first} {last}"), first.to_owned(), local)
        }
    };
    let company = (tier == CustomerTier::Enterprise
        || matches!(
            *category,
            Category::KYC_REVIEW | Category::RECONCILIATION_MISMATCH | Category::PERMISSION_CHANGE
        ))
    .then(|| company_name(rng, lang));
    let domain = *text::MAIL_DOMAINS.choose(rng).expect("domains");
    let contact = match channel {
        Channel::Phone | Channel::App => phone(rng, lang),
        Channel::WeChat => format!("wxid_{}", random_alnum(rng, 10)),
        Channel::Chat if rng.random_bool(0.5) => format!("chat:{}", random_alnum(rng, 8)),
        Channel::Api => format!("api:{}", random_alnum(rng, 12)),
        _ => format!("{local}@{domain}"),
    };
    let account_id = if matches!(*category, Category::INQUIRY | Category::FEATURE_REQUEST)
        && rng.random_bool(0.3)
    {
        None
    } else if tier == CustomerTier::Enterprise || company.is_some() {
        Some(format!(
            "M{:08}",
            rng.random_range(10_000_000..99_999_999u32)
        ))
    } else {
        Some(format!(
            "U{:010}",
            rng.random_range(1_000_000_000..9_999_999_999u64)
        ))
    };
    Customer {
        requester: Requester {
            name,
            contact,
            account_id,
            tier,
        },
        lang,
        greet,
        company,
    }
}

fn company_name(rng: &mut ChaCha8Rng, lang: Lang) -> String {
    let pick = |rng: &mut ChaCha8Rng, pool: &[&'static str]| *pool.choose(rng).expect("non-empty");
    match lang {
        Lang::Zh => {
            let [a, b, c] = text::COMPANY_PARTS_ZH;
            let city = pick(rng, text::CITIES[0]);
            format!("{city}{}{}{}", pick(rng, a), pick(rng, b), pick(rng, c))
        }
        Lang::En => {
            let [a, b, c] = text::COMPANY_PARTS_EN;
            format!("{} {} {}", pick(rng, a), pick(rng, b), pick(rng, c))
        }
    }
}

pub(crate) fn phone(rng: &mut ChaCha8Rng, lang: Lang) -> String {
    match lang {
        Lang::Zh => {
            let prefix = *["138", "139", "136", "150", "186", "177", "199", "135"]
                .choose(rng)
                .expect("prefixes");
            format!("+86 {prefix}****{:04}", rng.random_range(0..10_000))
        }
        Lang::En => {
            let cc = *["+44", "+1", "+65", "+49", "+61", "+971"]
                .choose(rng)
                .expect("codes");
            format!("{cc} ****{:04}", rng.random_range(0..10_000))
        }
    }
}

fn ascii_lower(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn random_alnum(rng: &mut ChaCha8Rng, n: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}
