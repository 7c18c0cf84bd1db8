//! The second pass: one ticket at a time, in creation order. A ticket's whole life is drawn
//! first (triage, assignment, replies, pauses, resolution, CSAT, reopening), then cut at `now`;
//! the ticket's fields and its timeline entries are both read off that one history, so they
//! agree with each other.

use std::collections::{BTreeSet, VecDeque};

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use outpost_core::model::{
    Category, Channel, Csat, CustomerTier, Entry, EntryBody, LinkKind, PauseSpan, Priority,
    RiskActionKind, RiskLevel, Status, Ticket, TicketEvent, TicketId, TicketLink,
    VerificationCheck, VerificationDimension, VerificationResult,
};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::ids::uuid_at;
use crate::people::{self, Customer, Team, DEPARTMENT_CODES, FINANCE, RISK, SUPPORT, TECH};
use crate::plan::{TicketPlan, DAY, HOUR, MINUTE};
use crate::text::{self, category_text, fill, Lang, Slots};

const SECOND: i64 = 1_000;

/// How a category is handled: where it goes, how urgent and risky it usually is.
struct Profile {
    department: usize,
    /// Where it goes when first line cannot finish it, and how often that happens.
    escalation: Option<(usize, f64)>,
    /// Weights for P1..P4.
    priority: [u32; 4],
    /// Weights for none, L3, L2, L1.
    risk: [u32; 4],
    /// Chance of a `pending` phase (waiting for the customer or a bank).
    pause: f64,
    /// Multiplier on the resolution time.
    slowness: f64,
    /// Simple questions are often answered and solved in the first reply.
    one_touch: f64,
}

fn profile(category: &Category) -> Profile {
    let p = |department, escalation, priority, risk, pause, slowness, one_touch| Profile {
        department,
        escalation,
        priority,
        risk,
        pause,
        slowness,
        one_touch,
    };
    match *category {
        Category::LOGIN_ANOMALY => p(
            SUPPORT,
            Some((TECH, 0.12)),
            [5, 30, 65, 0],
            [60, 30, 10, 0],
            0.15,
            1.0,
            0.1,
        ),
        Category::ACCOUNT_TAKEOVER => p(RISK, None, [85, 15, 0, 0], [0, 0, 25, 75], 0.3, 1.2, 0.0),
        Category::TRANSACTION_FAILURE => p(
            SUPPORT,
            Some((FINANCE, 0.15)),
            [5, 35, 60, 0],
            [85, 10, 4, 1],
            0.25,
            1.0,
            0.05,
        ),
        Category::FUNDS_NOT_ARRIVED => {
            p(FINANCE, None, [5, 40, 55, 0], [90, 10, 0, 0], 0.3, 1.2, 0.0)
        }
        Category::RECONCILIATION_MISMATCH => {
            p(FINANCE, None, [0, 40, 60, 0], [100, 0, 0, 0], 0.3, 1.3, 0.0)
        }
        Category::PERMISSION_CHANGE => p(
            SUPPORT,
            Some((TECH, 0.1)),
            [0, 10, 80, 10],
            [80, 20, 0, 0],
            0.25,
            1.0,
            0.1,
        ),
        Category::PROFILE_CHANGE => p(
            SUPPORT,
            Some((RISK, 0.12)),
            [0, 5, 80, 15],
            [75, 25, 0, 0],
            0.35,
            1.0,
            0.1,
        ),
        Category::VERIFICATION_CODE_NOT_RECEIVED => p(
            SUPPORT,
            Some((TECH, 0.3)),
            [0, 25, 75, 0],
            [100, 0, 0, 0],
            0.1,
            0.8,
            0.3,
        ),
        Category::ACTIVATION_FAILURE => {
            p(TECH, None, [0, 30, 70, 0], [100, 0, 0, 0], 0.15, 1.0, 0.2)
        }
        Category::PASSWORD_RESET => p(
            SUPPORT,
            None,
            [0, 5, 85, 10],
            [85, 15, 0, 0],
            0.1,
            0.7,
            0.35,
        ),
        Category::ACCOUNT_RESTRICTED => {
            p(RISK, None, [0, 30, 70, 0], [30, 50, 20, 0], 0.45, 1.2, 0.0)
        }
        Category::KYC_REVIEW => p(RISK, None, [0, 25, 70, 5], [55, 40, 5, 0], 0.55, 1.5, 0.0),
        Category::SECURITY_ALERT => p(RISK, None, [15, 50, 35, 0], [5, 45, 40, 10], 0.1, 0.8, 0.1),
        Category::COMPLAINT => p(
            SUPPORT,
            Some((FINANCE, 0.2)),
            [10, 45, 45, 0],
            [100, 0, 0, 0],
            0.15,
            1.2,
            0.0,
        ),
        Category::INQUIRY => p(
            SUPPORT,
            None,
            [0, 0, 70, 30],
            [100, 0, 0, 0],
            0.05,
            0.6,
            0.6,
        ),
        Category::TECHNICAL_FAULT => p(TECH, None, [15, 40, 45, 0], [100, 0, 0, 0], 0.1, 1.0, 0.05),
        Category::FEATURE_REQUEST => p(TECH, None, [0, 0, 10, 90], [100, 0, 0, 0], 0.05, 2.0, 0.3),
        // The synthetic data draws only built-in categories; any other is handled like an
        // enquiry.
        _ => profile(&Category::INQUIRY),
    }
}

fn weighted<T: Copy>(rng: &mut ChaCha8Rng, items: &[T], weights: &[u32]) -> T {
    let total: u32 = weights.iter().sum();
    let mut x = rng.random_range(0..total.max(1));
    for (item, &w) in items.iter().zip(weights) {
        if x < w {
            return *item;
        }
        x -= w;
    }
    items[items.len() - 1]
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, pool: &[T]) -> T {
    *pool.choose(rng).expect("non-empty pool")
}

/// A duration between `lo` and `hi`, skewed toward `lo` for `power > 1` (most tickets are quick,
/// a long tail is slow) without transcendental functions, so every platform draws the same.
fn skew(rng: &mut ChaCha8Rng, lo: i64, hi: i64, power: i32) -> i64 {
    let u: f64 = rng.random();
    lo + ((hi - lo) as f64 * u.powi(power)) as i64
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("synthetic timestamps are in range")
}

/// One recent ticket, remembered so later ones can come from the same customer or duplicate it.
struct Recent {
    id: TicketId,
    key: String,
    customer: Customer,
    channel: Channel,
    category: &'static Category,
}

/// A change of status in the drawn history.
struct Step {
    at: i64,
    to: Status,
    reopen: bool,
    reason: Option<String>,
    by: Option<usize>,
}

#[derive(Clone, Copy)]
enum ReplyKind {
    First,
    Update,
    Ask,
    Resolution,
    Duplicate,
    Revisit,
}

#[derive(Clone, Copy)]
enum CustomerKind {
    /// Chasing before the first answer.
    FollowUp,
    /// More detail after the first answer.
    Detail,
    Resume,
    Thanks,
}

#[derive(Clone)]
enum What {
    Created,
    Status(usize),
    Reply(ReplyKind),
    Customer(CustomerKind),
    CategoryNote,
    GenericNote,
    EscalationNote(usize),
    Event(TicketEvent),
    Verification { strong: bool },
    RiskAction(RiskActionKind),
}

/// A possible timeline entry; `rank` orders what survives when the ticket's entry budget is
/// smaller than its history (0 = keep first).
struct Candidate {
    at: i64,
    rank: u8,
    tiebreak: u32,
    by: Option<usize>,
    what: What,
}

pub(crate) struct TicketGen {
    rng: ChaCha8Rng,
    team: Team,
    now: i64,
    recent: VecDeque<Recent>,
    next_key: u64,
}

const RECENT: usize = 512;

impl TicketGen {
    pub fn new(rng: ChaCha8Rng, team: Team, now: DateTime<Utc>) -> Self {
        TicketGen {
            rng,
            team,
            now: now.timestamp_millis(),
            recent: VecDeque::with_capacity(RECENT),
            next_key: 1000,
        }
    }

    pub fn team(&self) -> &Team {
        &self.team
    }

    pub fn ticket(&mut self, plan: &TicketPlan) -> (Ticket, Vec<Entry>) {
        let rng = &mut self.rng;
        let now = self.now;
        let c = plan.created;
        let category = plan.category;
        let prof = profile(category);
        let key = format!("OP-{}", self.next_key);
        self.next_key += 1;
        let counter: u16 = rng.random();
        let id = uuid_at(at(c), rng, counter);

        // Who writes in: a returning customer, a duplicate of a recent ticket, or someone new.
        let mut links = Vec::new();
        let mut duplicate_of: Option<String> = None;
        let mut repeat = false;
        let reuse = if rng.random_bool(0.015) {
            let found = self
                .recent
                .iter()
                .rev()
                .take(200)
                .find(|r| r.category == category && r.customer.lang == plan.lang);
            found.map(|r| {
                links.push(TicketLink {
                    kind: LinkKind::DuplicateOf,
                    other: r.id,
                });
                duplicate_of = Some(r.key.clone());
                (r.customer.clone(), r.channel)
            })
        } else if rng.random_bool(0.06) && !self.recent.is_empty() {
            let r = &self.recent[rng.random_range(0..self.recent.len())];
            repeat = true;
            if rng.random_bool(0.5) {
                links.push(TicketLink {
                    kind: LinkKind::Related,
                    other: r.id,
                });
            }
            Some((r.customer.clone(), r.channel))
        } else {
            None
        };
        let (customer, channel) = if let Some(found) = reuse {
            found
        } else {
            let tier = weighted(
                rng,
                &[
                    CustomerTier::Standard,
                    CustomerTier::Vip,
                    CustomerTier::Enterprise,
                ],
                &[85, 10, 5],
            );
            let channel = draw_channel(rng, plan.lang, tier);
            (
                people::customer(rng, plan.lang, channel, tier, category),
                channel,
            )
        };
        let lang = customer.lang;
        let tier = customer.requester.tier;

        // Classification: priority and risk follow the category; important customers get a bump.
        let classified = weighted(
            rng,
            &[Priority::P1, Priority::P2, Priority::P3, Priority::P4],
            &prof.priority,
        );
        let mut priority = classified;
        if tier != CustomerTier::Standard && rng.random_bool(0.35) {
            priority = match classified {
                Priority::P2 if rng.random_bool(0.3) => Priority::P1,
                Priority::P3 => Priority::P2,
                Priority::P4 => Priority::P3,
                p => p,
            };
        }
        let risk = weighted(
            rng,
            &[RiskLevel::None, RiskLevel::L3, RiskLevel::L2, RiskLevel::L1],
            &prof.risk,
        );
        if risk == RiskLevel::L1 {
            priority = Priority::P1;
        }

        let mut slots = slots(rng, plan, &customer, risk);
        let ct = category_text(category);
        let subject = subject(
            rng,
            ct,
            &slots,
            lang,
            priority,
            tier,
            duplicate_of.is_some(),
        );
        let description = description(rng, ct, &slots, lang, priority);

        // ---- the drawn history ------------------------------------------------------------
        let one_touch = duplicate_of.is_some() || rng.random_bool(prof.one_touch);
        let (sla_fr, work_lo, work_hi, work_pow) = match priority {
            Priority::P1 => (15 * MINUTE, 20 * MINUTE, 3 * HOUR, 2),
            Priority::P2 => (2 * HOUR, HOUR, 30 * HOUR, 2),
            Priority::P3 => (16 * HOUR, 2 * HOUR, 6 * DAY, 3),
            Priority::P4 => (2 * DAY, DAY, 25 * DAY, 2),
        };
        let t_tri = c + if priority == Priority::P1 {
            skew(rng, 30 * SECOND, 5 * MINUTE, 2)
        } else if rng.random_bool(0.4) {
            skew(rng, 5 * SECOND, MINUTE, 1)
        } else if rng.random_bool(0.25) {
            // Overnight and weekend backlog: nobody looked at it for hours.
            skew(rng, HOUR, 20 * HOUR, 1)
        } else {
            skew(rng, 2 * MINUTE, 3 * HOUR, 3)
        };
        let t_asg = t_tri
            + match priority {
                Priority::P1 => skew(rng, MINUTE, 10 * MINUTE, 2),
                Priority::P2 => skew(rng, 3 * MINUTE, 90 * MINUTE, 2),
                _ => skew(rng, 5 * MINUTE, 10 * HOUR, 3),
            };
        let breach = rng.random_bool(0.08);
        let fr_delay = if breach {
            skew(rng, sla_fr, 3 * sla_fr, 1)
        } else {
            skew(rng, sla_fr / 10, sla_fr, 2)
        };
        let fr = (c + fr_delay).max(t_asg + skew(rng, MINUTE, 20 * MINUTE, 2));
        let t_start = (fr - skew(rng, 10 * SECOND, 3 * MINUTE, 1)).max(t_asg + SECOND);
        let mut work = (skew(rng, work_lo, work_hi, work_pow) as f64 * prof.slowness) as i64;
        if rng.random_bool(0.08) {
            work = work * 3 / 2 + skew(rng, 0, work * 2, 1);
        }

        let department = prof.department;
        let assignee_first = self.team.pick(rng, department, lang, at(c));
        let mut steps: Vec<Step> = Vec::new();
        let mut cands: Vec<Candidate> = Vec::new();
        let mut replies: Vec<i64> = Vec::new();
        let mut pauses: Vec<(i64, i64)> = Vec::new();

        push(&mut cands, rng, c, 3, None, What::Created);
        steps.push(Step {
            at: t_tri,
            to: Status::Triaged,
            reopen: false,
            reason: None,
            by: None,
        });
        push(
            &mut cands,
            rng,
            t_tri + 2 * SECOND,
            5,
            None,
            What::Event(TicketEvent::DepartmentChanged {
                from: None,
                to: Some(DEPARTMENT_CODES[department].to_owned()),
            }),
        );
        if priority != classified {
            push(
                &mut cands,
                rng,
                t_tri + SECOND,
                6,
                None,
                What::Event(TicketEvent::PriorityChanged {
                    from: classified,
                    to: priority,
                }),
            );
        }
        if risk != RiskLevel::None {
            push(
                &mut cands,
                rng,
                t_tri + 3 * SECOND,
                5,
                None,
                What::Event(TicketEvent::RiskChanged {
                    from: RiskLevel::None,
                    to: risk,
                }),
            );
        }
        steps.push(Step {
            at: t_asg,
            to: Status::Assigned,
            reopen: false,
            reason: None,
            by: None,
        });
        if let Some(a) = assignee_first {
            push(
                &mut cands,
                rng,
                t_asg + SECOND,
                4,
                None,
                What::Event(TicketEvent::AssigneeChanged {
                    from: None,
                    to: Some(self.team.staff[a].id),
                }),
            );
        }
        for link in &links {
            push(
                &mut cands,
                rng,
                c + 500,
                4,
                None,
                What::Event(TicketEvent::Linked { link: link.clone() }),
            );
        }

        // Escalation to another department part-way through the work.
        // It always lands before the resolution: the shortest work is longer than its window.
        let escalation: Option<(i64, usize, Option<usize>)> = match prof.escalation {
            Some((target, p)) if !one_touch && rng.random_bool(p) => {
                let t = t_start + skew(rng, 10 * MINUTE, (work / 2).max(11 * MINUTE), 2);
                Some((t, target, self.team.pick(rng, target, lang, at(t))))
            }
            _ => None,
        };
        let assignee_at = move |t: i64| match escalation {
            Some((te, _, second)) if t >= te => second,
            _ if t >= t_asg => assignee_first,
            _ => None,
        };

        let mut t_res;
        let mut t_close;
        let mut csat: Option<(i64, u8, Option<String>)> = None;
        let mut reopen_at = None;
        if duplicate_of.is_some() {
            replies.push(fr);
            push(
                &mut cands,
                rng,
                fr,
                0,
                assignee_at(fr),
                What::Reply(ReplyKind::Duplicate),
            );
            t_res = fr + skew(rng, 30 * SECOND, 10 * MINUTE, 1);
            t_close = t_res + skew(rng, MINUTE, HOUR, 2);
            steps.push(Step {
                at: t_res,
                to: Status::Resolved,
                reopen: false,
                reason: Some(["重复工单", "duplicate"][lang.idx()].to_owned()),
                by: assignee_at(t_res),
            });
        } else {
            steps.push(Step {
                at: t_start,
                to: Status::InProgress,
                reopen: false,
                reason: None,
                by: assignee_at(t_start),
            });
            replies.push(fr);
            push(
                &mut cands,
                rng,
                fr,
                0,
                assignee_at(fr),
                What::Reply(if one_touch {
                    ReplyKind::Resolution
                } else {
                    ReplyKind::First
                }),
            );
            if one_touch {
                t_res = fr + skew(rng, 30 * SECOND, 10 * MINUTE, 1);
            } else {
                // A pending phase while the customer (or a bank) owes us something.
                let mut paused = 0;
                if rng.random_bool(prof.pause) {
                    let ps = fr + skew(rng, 5 * MINUTE, (work / 2).max(6 * MINUTE), 1);
                    let dur = if rng.random_bool(0.85) {
                        skew(rng, 30 * MINUTE, 3 * DAY, 2)
                    } else {
                        skew(rng, 3 * DAY, 40 * DAY, 2)
                    };
                    let ask = ps - skew(rng, 5 * SECOND, 2 * MINUTE, 1);
                    if ask > fr {
                        replies.push(ask);
                        push(
                            &mut cands,
                            rng,
                            ask,
                            2,
                            assignee_at(ask),
                            What::Reply(ReplyKind::Ask),
                        );
                    }
                    let reason = pick(rng, text::PENDING_REASONS[lang.idx()]).to_owned();
                    steps.push(Step {
                        at: ps,
                        to: Status::Pending,
                        reopen: false,
                        reason: Some(reason),
                        by: assignee_at(ps),
                    });
                    let pe = ps + dur;
                    push(
                        &mut cands,
                        rng,
                        pe,
                        2,
                        None,
                        What::Customer(CustomerKind::Resume),
                    );
                    let resume = pe + 2 * SECOND;
                    steps.push(Step {
                        at: resume,
                        to: Status::InProgress,
                        reopen: false,
                        reason: None,
                        by: None,
                    });
                    pauses.push((ps, resume));
                    paused = resume - ps;
                }
                t_res = fr + work + paused;
                // Progress updates: hourly for P1, now and then for the others.
                let updates = match priority {
                    Priority::P1 => ((t_res - fr) / (55 * MINUTE)).min(6),
                    _ if work > DAY => rng.random_range(0..=2),
                    _ => i64::from(rng.random_bool(0.3)),
                };
                for _ in 0..updates {
                    let t = fr
                        + skew(
                            rng,
                            10 * MINUTE,
                            (t_res - fr - 10 * MINUTE).max(11 * MINUTE),
                            1,
                        );
                    let in_pause = pauses.iter().any(|&(s, e)| t >= s - 3 * MINUTE && t <= e);
                    if t < t_res - 5 * MINUTE && !in_pause {
                        replies.push(t);
                        push(
                            &mut cands,
                            rng,
                            t,
                            3,
                            assignee_at(t),
                            What::Reply(ReplyKind::Update),
                        );
                    }
                }
                let rr = t_res - skew(rng, 10 * SECOND, 3 * MINUTE, 1);
                replies.push(rr);
                push(
                    &mut cands,
                    rng,
                    rr,
                    1,
                    assignee_at(rr),
                    What::Reply(ReplyKind::Resolution),
                );
                // Internal notes while working.
                let notes = weighted(rng, &[0, 1, 2, 3], &[20, 45, 25, 10]);
                for i in 0..notes {
                    let t =
                        t_start + skew(rng, MINUTE, (t_res - t_start - MINUTE).max(2 * MINUTE), 1);
                    let by = if rng.random_bool(0.2) {
                        self.team.pick(rng, department, lang, at(t))
                    } else {
                        assignee_at(t)
                    };
                    let (what, rank) = if i == 0 {
                        (What::CategoryNote, 2)
                    } else {
                        (What::GenericNote, 4)
                    };
                    push(&mut cands, rng, t, rank, by, what);
                }
                // The customer chases when the first answer is slow.
                if fr - c > 4 * HOUR && rng.random_bool(0.5) {
                    let t = c + (fr - c) * rng.random_range(40..90) / 100;
                    push(
                        &mut cands,
                        rng,
                        t,
                        2,
                        None,
                        What::Customer(CustomerKind::FollowUp),
                    );
                }
                // …and often answers the first reply with more detail.
                if rng.random_bool(0.5) {
                    let t = fr + skew(rng, MINUTE, (work / 3).max(2 * MINUTE), 2);
                    let in_pause = pauses.iter().any(|&(s, e)| t >= s && t <= e);
                    if t < t_res - 5 * MINUTE && !in_pause {
                        push(
                            &mut cands,
                            rng,
                            t,
                            2,
                            None,
                            What::Customer(CustomerKind::Detail),
                        );
                    }
                }
            }
            steps.push(Step {
                at: t_res,
                to: Status::Resolved,
                reopen: false,
                reason: None,
                by: assignee_at(t_res),
            });
            let confirms = rng.random_bool(0.3);
            t_close = t_res
                + if confirms {
                    skew(rng, 10 * MINUTE, 2 * DAY, 2)
                } else {
                    3 * DAY
                };

            // Satisfaction after resolution; a low score reopens the ticket for a second pass.
            if rng.random_bool(0.45) {
                let mut ct_at = t_res + skew(rng, 5 * MINUTE, 2 * DAY, 2);
                if ct_at >= t_close - MINUTE {
                    ct_at = t_res + (t_close - t_res) / 2;
                }
                let mut score = weighted(rng, &[5u8, 4, 3, 2, 1], &[55, 25, 9, 6, 5]);
                if breach && score > 1 && rng.random_bool(0.4) {
                    score -= 1;
                }
                let comment = if rng.random_bool(if score <= 2 { 0.7 } else { 0.35 }) {
                    let pool = if score <= 2 {
                        text::CSAT_BAD
                    } else {
                        text::CSAT_GOOD
                    };
                    Some(pick(rng, pool[lang.idx()]).to_owned())
                } else {
                    None
                };
                push(
                    &mut cands,
                    rng,
                    ct_at,
                    2,
                    None,
                    What::Event(TicketEvent::CsatReceived { score }),
                );
                csat = Some((ct_at, score, comment));
                if score <= 2 && rng.random_bool(0.6) {
                    let ro = ct_at + skew(rng, MINUTE, 30 * MINUTE, 2);
                    reopen_at = Some(ro);
                    let reason = pick(rng, text::REOPEN_REASONS[lang.idx()]).to_owned();
                    steps.push(Step {
                        at: ro,
                        to: Status::Assigned,
                        reopen: true,
                        reason: Some(reason),
                        by: None,
                    });
                    let s2 = ro + skew(rng, 10 * MINUTE, 3 * HOUR, 2);
                    steps.push(Step {
                        at: s2,
                        to: Status::InProgress,
                        reopen: false,
                        reason: None,
                        by: assignee_at(s2),
                    });
                    let revisit = s2 + skew(rng, MINUTE, 10 * MINUTE, 1);
                    replies.push(revisit);
                    push(
                        &mut cands,
                        rng,
                        revisit,
                        1,
                        assignee_at(revisit),
                        What::Reply(ReplyKind::Revisit),
                    );
                    t_res = revisit + skew(rng, HOUR, 20 * HOUR, 2);
                    let rr = t_res - skew(rng, 10 * SECOND, 3 * MINUTE, 1);
                    replies.push(rr);
                    push(
                        &mut cands,
                        rng,
                        rr,
                        1,
                        assignee_at(rr),
                        What::Reply(ReplyKind::Resolution),
                    );
                    steps.push(Step {
                        at: t_res,
                        to: Status::Resolved,
                        reopen: false,
                        reason: None,
                        by: assignee_at(t_res),
                    });
                    t_close = t_res + 3 * DAY;
                }
            }
            if confirms && reopen_at.is_none() {
                push(
                    &mut cands,
                    rng,
                    t_close - MINUTE,
                    3,
                    None,
                    What::Customer(CustomerKind::Thanks),
                );
            }
        }
        steps.push(Step {
            at: t_close,
            to: Status::Closed,
            reopen: false,
            reason: None,
            by: None,
        });

        if let Some((te, target, second)) = escalation {
            push(
                &mut cands,
                rng,
                te,
                2,
                assignee_first,
                What::EscalationNote(target),
            );
            push(
                &mut cands,
                rng,
                te + SECOND,
                3,
                assignee_first,
                What::Event(TicketEvent::DepartmentChanged {
                    from: Some(DEPARTMENT_CODES[department].to_owned()),
                    to: Some(DEPARTMENT_CODES[target].to_owned()),
                }),
            );
            if let Some(s) = second {
                push(
                    &mut cands,
                    rng,
                    te + 2 * SECOND,
                    4,
                    assignee_first,
                    What::Event(TicketEvent::AssigneeChanged {
                        from: assignee_first.map(|a| self.team.staff[a].id),
                        to: Some(self.team.staff[s].id),
                    }),
                );
            }
        }

        // Identity checks and emergency actions on risky account tickets.
        if duplicate_of.is_none()
            && category.is_account_domain()
            && matches!(risk, RiskLevel::L1 | RiskLevel::L2)
        {
            let risk_agent = match assignee_first {
                Some(a) if self.team.staff[a].department == RISK => Some(a),
                _ => self.team.pick(rng, RISK, lang, at(c)),
            };
            let end = t_res - 2 * MINUTE;
            if risk == RiskLevel::L1 {
                let freeze = c + skew(rng, 2 * MINUTE, 9 * MINUTE, 1);
                push(
                    &mut cands,
                    rng,
                    freeze,
                    1,
                    risk_agent,
                    What::RiskAction(RiskActionKind::FreezeAccount),
                );
                let v = t_start.max(freeze)
                    + skew(rng, 10 * MINUTE, ((end - t_start) / 2).max(11 * MINUTE), 1);
                let unfreeze = v + skew(rng, MINUTE, 15 * MINUTE, 1);
                if unfreeze < end {
                    // Ranked above the unfreeze so a kept unfreeze always has its checks.
                    push(
                        &mut cands,
                        rng,
                        v,
                        1,
                        risk_agent,
                        What::Verification { strong: true },
                    );
                    push(
                        &mut cands,
                        rng,
                        unfreeze,
                        2,
                        risk_agent,
                        What::RiskAction(RiskActionKind::UnfreezeAccount),
                    );
                }
            } else {
                if rng.random_bool(0.4) {
                    let t = c + skew(rng, 5 * MINUTE, HOUR, 1);
                    if t < end {
                        push(
                            &mut cands,
                            rng,
                            t,
                            2,
                            risk_agent,
                            What::RiskAction(RiskActionKind::InterceptTransaction),
                        );
                    }
                }
                let v = t_start + skew(rng, 5 * MINUTE, ((end - t_start) / 2).max(6 * MINUTE), 1);
                if v < end {
                    push(
                        &mut cands,
                        rng,
                        v,
                        2,
                        risk_agent,
                        What::Verification { strong: false },
                    );
                }
            }
        }

        // ---- cut the history at `now` ---------------------------------------------------------
        steps.sort_by_key(|s| s.at);
        let done: Vec<usize> = (0..steps.len()).filter(|&i| steps[i].at <= now).collect();
        let status = done.last().map_or(Status::New, |&i| steps[i].to);
        let last_step = done.last().copied();
        for (i, s) in steps.iter().enumerate() {
            let rank = if Some(i) == last_step {
                0
            } else if s.reopen {
                1
            } else {
                4
            };
            cands.push(Candidate {
                at: s.at,
                rank,
                tiebreak: rng.random(),
                by: s.by,
                what: What::Status(i),
            });
        }
        cands.retain(|c| c.at <= now);
        replies.sort_unstable();
        replies.retain(|&t| t <= now);
        let first_response_at = replies.first().copied();
        let last_update_at = replies.last().copied();
        let resolved_at = match status {
            Status::Resolved | Status::Closed => done
                .iter()
                .rev()
                .map(|&i| &steps[i])
                .find(|s| s.to == Status::Resolved)
                .map(|s| s.at),
            _ => None,
        };
        let closed_at = (status == Status::Closed).then_some(t_close);
        let pause_spans: Vec<PauseSpan> = pauses
            .iter()
            .filter(|&&(s, _)| s <= now)
            .map(|&(s, e)| PauseSpan {
                start: at(s),
                end: (e <= now).then(|| at(e)),
            })
            .collect();
        let csat = csat.filter(|(t, _, _)| *t <= now);
        let revisit_due_at = reopen_at
            .filter(|&t| t <= now)
            .and(csat.as_ref().map(|(t, _, _)| *t + DAY));
        let assignee_now = if status == Status::New || status == Status::Triaged {
            None
        } else {
            assignee_at(now)
        };
        let department_now = if status == Status::New {
            None
        } else {
            match escalation {
                Some((te, target, _)) if te <= now => Some(target),
                _ => Some(department),
            }
        };

        let tags = tags(
            rng,
            category,
            tier,
            &slots,
            plan,
            repeat,
            duplicate_of.is_some(),
            escalation.is_some_and(|(te, _, _)| te <= now),
            risk,
        );
        for tag in tags.iter().take(2) {
            if t_tri + 4 * SECOND <= now {
                push(
                    &mut cands,
                    rng,
                    t_tri + 4 * SECOND,
                    6,
                    None,
                    What::Event(TicketEvent::TagAdded { tag: tag.clone() }),
                );
            }
        }

        // ---- fit the history to the entry budget ----------------------------------------------
        let budget = plan.entries as usize;
        let window = Window {
            created: c,
            end: resolved_at.or(closed_at).unwrap_or(now).min(now),
            first_response: first_response_at,
            last_update: last_update_at,
            assignee_at: &assignee_at,
        };
        let picked = select(rng, cands, budget, &window);

        // ---- render ---------------------------------------------------------------------------
        let ticket_id = id;
        let mut entries = Vec::with_capacity(picked.len());
        slots.topic = ct.topic[lang.idx()];
        slots.other = duplicate_of.clone().unwrap_or_default();
        for (n, cand) in picked.into_iter().enumerate() {
            let author = cand.by.map(|i| self.team.staff[i].id);
            let body = match cand.what {
                What::Status(i) => {
                    // `from` is the status before this step in the full history, so every event
                    // is a legal transition even when the budget left earlier steps out.
                    let prev = if i == 0 { Status::New } else { steps[i - 1].to };
                    let s = &steps[i];
                    let event = if s.reopen {
                        TicketEvent::Reopened {
                            from: prev,
                            to: s.to,
                            reason: s.reason.clone(),
                        }
                    } else {
                        TicketEvent::StatusChanged {
                            from: prev,
                            to: s.to,
                            reason: s.reason.clone(),
                        }
                    };
                    EntryBody::Event { event }
                }
                what => render(rng, &self.team, what, cand.by, lang, ct, &mut slots),
            };
            let id = uuid_at(at(cand.at), rng, n.min(0x0FFF) as u16);
            entries.push(Entry {
                id,
                ticket_id,
                author,
                body,
                created_at: at(cand.at),
            });
        }

        let mut updated = c;
        for t in [first_response_at, last_update_at, resolved_at, closed_at]
            .into_iter()
            .flatten()
        {
            updated = updated.max(t);
        }
        if let Some(&i) = last_step.as_ref() {
            updated = updated.max(steps[i].at);
        }
        if let Some((t, _, _)) = &csat {
            updated = updated.max(*t);
        }
        if let Some(e) = entries.last() {
            updated = updated.max(e.created_at.timestamp_millis());
        }

        let ticket = Ticket {
            id,
            key: Some(key.clone()),
            subject,
            description,
            requester: customer.requester.clone(),
            channel,
            language: lang.tag().to_owned(),
            category: category.clone(),
            tags,
            priority,
            risk,
            status,
            assignee: assignee_now.map(|i| self.team.staff[i].id),
            department: department_now.map(|d| DEPARTMENT_CODES[d].to_owned()),
            created_at: at(c),
            updated_at: at(updated),
            first_response_at: first_response_at.map(at),
            last_update_at: last_update_at.map(at),
            resolved_at: resolved_at.map(at),
            closed_at: closed_at.map(at),
            revisit_due_at: revisit_due_at.map(at),
            pauses: pause_spans,
            csat: csat.map(|(t, score, comment)| Csat {
                score,
                comment,
                at: at(t),
            }),
            links,
            revision: 1,
        };

        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(Recent {
            id,
            key,
            customer,
            channel,
            category,
        });
        (ticket, entries)
    }
}

fn push(
    cands: &mut Vec<Candidate>,
    rng: &mut ChaCha8Rng,
    at: i64,
    rank: u8,
    by: Option<usize>,
    what: What,
) {
    cands.push(Candidate {
        at,
        rank,
        tiebreak: rng.random(),
        by,
        what,
    });
}

fn draw_channel(rng: &mut ChaCha8Rng, lang: Lang, tier: CustomerTier) -> Channel {
    use Channel::{Api, App, Chat, Email, Phone, WeChat, WebForm};
    let channels = [WebForm, Email, Phone, Chat, WeChat, App, Api];
    let mut w: [u32; 7] = match lang {
        Lang::Zh => [10, 8, 12, 15, 25, 28, 2],
        Lang::En => [25, 30, 5, 20, 0, 15, 5],
    };
    if tier == CustomerTier::Enterprise {
        w[1] = w[1] * 3 / 2;
        w[6] *= 4;
        w[4] /= 2;
        w[5] /= 2;
    }
    weighted(rng, &channels, &w)
}

fn money(rng: &mut ChaCha8Rng, lang: Lang, lo: u64, hi: u64) -> String {
    let cents = rng.random_range(lo * 100..hi * 100);
    // Round most amounts the way people type them.
    let cents = if rng.random_bool(0.6) {
        cents / 100 * 100
    } else {
        cents
    };
    let whole = group_thousands(cents / 100);
    let frac = cents % 100;
    match lang {
        Lang::Zh => match rng.random_range(0..3) {
            0 => format!("¥{whole}.{frac:02}"),
            1 if frac == 0 => format!("{whole}元"),
            _ => format!("{whole}.{frac:02}元"),
        },
        Lang::En => {
            let sym = pick(rng, &["$", "$", "€", "£", "S$"]);
            format!("{sym}{whole}.{frac:02}")
        }
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|g| std::str::from_utf8(g).expect("ASCII digits"))
        .collect();
    groups.join(",")
}

fn slots(rng: &mut ChaCha8Rng, plan: &TicketPlan, customer: &Customer, risk: RiskLevel) -> Slots {
    let lang = customer.lang;
    let l = lang.idx();
    let created = at(plan.created);
    let (lo, hi) = match (risk, plan.category) {
        (RiskLevel::L1, _) => (20_000, 500_000),
        (_, &Category::COMPLAINT) => (5, 400),
        (_, &Category::RECONCILIATION_MISMATCH) => (200, 80_000),
        _ => match rng.random_range(0..20) {
            0..=10 => (10, 2_000),
            11..=18 => (2_000, 50_000),
            _ => (50_000, 300_000),
        },
    };
    let amount = money(rng, lang, lo, hi);
    let local = created + Duration::hours(if lang == Lang::Zh { 8 } else { 0 });
    let order_day = local - Duration::hours(rng.random_range(0..48));
    let order = match rng.random_range(0..5) {
        0..=2 => format!(
            "TX{:04}{:02}{:02}{:06}",
            order_day.year(),
            order_day.month(),
            order_day.day(),
            rng.random_range(0..1_000_000)
        ),
        3 => format!(
            "{:018}",
            rng.random_range(100_000_000_000_000_000u64..999_999_999_999_999_999)
        ),
        _ => format!(
            "ORD-{:04}-{:04}",
            rng.random_range(0..10_000),
            rng.random_range(0..10_000)
        ),
    };
    let when_t = local - Duration::minutes(rng.random_range(5..30 * 60));
    let when = match lang {
        Lang::Zh => {
            if when_t.date_naive() == local.date_naive() && rng.random_bool(0.5) {
                let part = match when_t.hour() {
                    0..=5 => "凌晨",
                    6..=11 => "上午",
                    12..=17 => "下午",
                    _ => "晚上",
                };
                format!("今天{part} {}:{:02}", when_t.hour(), when_t.minute())
            } else {
                format!(
                    "{}月{}日 {}:{:02}",
                    when_t.month(),
                    when_t.day(),
                    when_t.hour(),
                    when_t.minute()
                )
            }
        }
        Lang::En => {
            const MONTHS: [&str; 12] = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            if when_t.date_naive() == local.date_naive() && rng.random_bool(0.4) {
                match when_t.hour() {
                    0..=11 => format!(
                        "this morning around {}:{:02}",
                        when_t.hour(),
                        when_t.minute()
                    ),
                    12..=17 => {
                        format!("this afternoon at {}:{:02}", when_t.hour(), when_t.minute())
                    }
                    _ => format!("this evening at {}:{:02}", when_t.hour(), when_t.minute()),
                }
            } else {
                format!(
                    "{} {} at {}:{:02}",
                    MONTHS[when_t.month0() as usize],
                    when_t.day(),
                    when_t.hour(),
                    when_t.minute()
                )
            }
        }
    };
    let prev_month = (local - Duration::days(i64::from(local.day()))).month();
    let month = match lang {
        Lang::Zh => format!("{prev_month}月"),
        Lang::En => [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ][prev_month as usize - 1]
            .to_owned(),
    };
    let codes = category_text(plan.category).codes;
    let code_index = if codes.is_empty() {
        rng.random_range(0..text::ERROR_CODES.len())
    } else {
        pick(rng, codes)
    };
    let (code, err) = text::ERROR_CODES[code_index];
    let (device, os) = pick(rng, text::DEVICES);
    let email = if customer.requester.contact.contains('@') {
        customer.requester.contact.clone()
    } else {
        format!("user{}@example.com", rng.random_range(100..99_999))
    };
    Slots {
        name: customer.requester.name.clone(),
        greet: customer.greet.clone(),
        amount,
        order,
        bank: pick(rng, text::BANKS[l]),
        card: format!("{:04}", rng.random_range(0..10_000)),
        device,
        os,
        ver: format!(
            "{}.{}.{}",
            rng.random_range(5..9),
            rng.random_range(0..10),
            rng.random_range(0..6)
        ),
        code,
        err,
        when,
        month,
        city: pick(rng, text::CITIES[l]),
        company: customer
            .company
            .clone()
            .unwrap_or_else(|| ["我们公司", "our company"][l].to_owned()),
        field: pick(rng, text::FIELDS[l]),
        role: pick(rng, text::ROLES[l]),
        doc: pick(rng, text::DOCS[l]),
        email,
        account: customer
            .requester
            .account_id
            .clone()
            .unwrap_or_else(|| "-".to_owned()),
        merchant: format!("{}", rng.random_range(10_000_000..99_999_999u32)),
        count: rng.random_range(2..13),
        mins: rng.random_range(5..61),
        hours: rng.random_range(2..25),
        ..Slots::default()
    }
}

fn subject(
    rng: &mut ChaCha8Rng,
    ct: &text::CategoryText,
    s: &Slots,
    lang: Lang,
    priority: Priority,
    tier: CustomerTier,
    duplicate: bool,
) -> String {
    let l = lang.idx();
    let template = pick(rng, ct.subjects[l]);
    let mut out = String::new();
    let prefixes = text::SUBJECT_PREFIX[l];
    if duplicate && rng.random_bool(0.5) {
        out.push_str(prefixes[if lang == Lang::Zh { 3 } else { 2 }]);
    } else if matches!(priority, Priority::P1 | Priority::P2) && rng.random_bool(0.2) {
        out.push_str(prefixes[rng.random_range(0..3)]);
    } else if tier == CustomerTier::Vip && rng.random_bool(0.2) {
        out.push_str(prefixes[4]);
    }
    out.push_str(&fill(template, s));
    // Slot-free subjects get a personal touch more often, as real ones do.
    let suffix_chance = if template.contains('{') { 0.15 } else { 0.65 };
    if rng.random_bool(suffix_chance) {
        out.push_str(&fill(pick(rng, text::SUBJECT_SUFFIX[l]), s));
    }
    out
}

fn description(
    rng: &mut ChaCha8Rng,
    ct: &text::CategoryText,
    s: &Slots,
    lang: Lang,
    priority: Priority,
) -> String {
    let l = lang.idx();
    let sep = if lang == Lang::Zh { "" } else { " " };
    let mut body: Vec<String> = Vec::with_capacity(4);
    body.push(fill(pick(rng, ct.problems[l]), s));
    let mut details: Vec<&str> = ct.details[l].to_vec();
    details.shuffle(rng);
    let n = weighted(rng, &[0usize, 1, 2], &[30, 50, 20]).min(details.len());
    for d in &details[..n] {
        body.push(fill(d, s));
    }
    let mut out = String::new();
    let opening = pick(rng, text::OPENINGS[l]);
    if !opening.is_empty() {
        out.push_str(opening);
        // E-mail style in English ("Hi,\n\n…"), run-on in Chinese ("你好,…").
        if lang == Lang::En {
            out.push_str("\n\n");
        }
    }
    out.push_str(&body.join(sep));
    if lang == Lang::Zh && rng.random_bool(0.25) {
        // Chinese customers paste the English error text the app shows.
        out.push_str(&format!("\n报错信息:\"{} ({})\"", s.err, s.code));
    }
    let closing = if priority == Priority::P1 && rng.random_bool(0.5) {
        ["情况紧急,请马上处理!", "This is urgent, please act now!"][l]
    } else {
        pick(rng, text::CLOSINGS[l])
    };
    if !closing.is_empty() {
        out.push('\n');
        out.push_str(closing);
    }
    out
}

#[allow(
    clippy::too_many_arguments,
    reason = "each argument is one independent draw of the ticket being made"
)]
fn tags(
    rng: &mut ChaCha8Rng,
    category: &Category,
    tier: CustomerTier,
    s: &Slots,
    plan: &TicketPlan,
    repeat: bool,
    duplicate: bool,
    escalated: bool,
    risk: RiskLevel,
) -> BTreeSet<String> {
    let mut tags = BTreeSet::new();
    let mut add = |t: &str| {
        tags.insert(t.to_owned());
    };
    match tier {
        CustomerTier::Vip => add("vip"),
        CustomerTier::Enterprise => add("enterprise"),
        CustomerTier::Standard => {}
    }
    let app_related = matches!(
        *category,
        Category::LOGIN_ANOMALY
            | Category::VERIFICATION_CODE_NOT_RECEIVED
            | Category::ACTIVATION_FAILURE
            | Category::PASSWORD_RESET
            | Category::TECHNICAL_FAULT
            | Category::TRANSACTION_FAILURE
    );
    if app_related && rng.random_bool(0.6) {
        let os_tag = if s.os.starts_with("iOS") || s.os.starts_with("iPadOS") {
            "ios"
        } else if s.os.starts_with("Android") {
            "android"
        } else if s.os.starts_with("HarmonyOS") {
            "harmonyos"
        } else {
            "web"
        };
        add(os_tag);
    }
    if matches!(
        *category,
        Category::TRANSACTION_FAILURE | Category::FUNDS_NOT_ARRIVED | Category::COMPLAINT
    ) && rng.random_bool(0.3)
    {
        add("refund");
    }
    match *category {
        Category::VERIFICATION_CODE_NOT_RECEIVED => add("sms"),
        Category::KYC_REVIEW => add("kyc"),
        Category::ACCOUNT_TAKEOVER => add("fraud"),
        Category::FUNDS_NOT_ARRIVED if rng.random_bool(0.2) => add("cross_border"),
        _ => {}
    }
    if risk == RiskLevel::L1 {
        add("large_amount");
    }
    if plan.incident
        && matches!(
            *category,
            Category::TECHNICAL_FAULT
                | Category::VERIFICATION_CODE_NOT_RECEIVED
                | Category::TRANSACTION_FAILURE
                | Category::LOGIN_ANOMALY
        )
    {
        add("outage");
    }
    if repeat {
        add("repeat");
    }
    if duplicate {
        add("duplicate");
    }
    if escalated {
        add("escalated");
    }
    tags
}

/// Where filler conversation may go in a ticket's life.
struct Window<'a> {
    created: i64,
    /// Resolution (or `now` for open tickets): customers stop writing once it is solved.
    end: i64,
    first_response: Option<i64>,
    last_update: Option<i64>,
    assignee_at: &'a dyn Fn(i64) -> Option<usize>,
}

/// Keeps exactly `budget` candidates: the most important ones, then filler conversation when the
/// budget exceeds the history.
fn select(
    rng: &mut ChaCha8Rng,
    mut cands: Vec<Candidate>,
    budget: usize,
    window: &Window<'_>,
) -> Vec<Candidate> {
    cands.sort_by_key(|c| (c.rank, c.tiebreak));
    cands.truncate(budget);
    while cands.len() < budget {
        cands.push(filler(rng, window));
    }
    cands.sort_by_key(|c| c.at);
    cands
}

/// Extra conversation for tickets whose budget exceeds their drawn history: customer messages,
/// replies between the first and the latest public reply, internal notes.
fn filler(rng: &mut ChaCha8Rng, w: &Window<'_>) -> Candidate {
    let (created, assignee_at) = (w.created, w.assignee_at);
    let end = w.end.max(created);
    let roll = rng.random_range(0..10);
    if let (Some(fr), Some(lu)) = (w.first_response, w.last_update) {
        if roll < 3 && lu - fr > 2 * SECOND {
            let t = rng.random_range(fr + SECOND..lu);
            return Candidate {
                at: t,
                rank: 9,
                tiebreak: 0,
                by: assignee_at(t),
                what: What::Reply(ReplyKind::Update),
            };
        }
        if roll < 6 && end > fr {
            let t = rng.random_range(fr..=end);
            if let Some(by) = assignee_at(t) {
                return Candidate {
                    at: t,
                    rank: 9,
                    tiebreak: 0,
                    by: Some(by),
                    what: What::GenericNote,
                };
            }
        }
    }
    let t = rng.random_range(created..=end);
    let kind = match w.first_response {
        Some(fr) if t > fr => CustomerKind::Detail,
        _ => CustomerKind::FollowUp,
    };
    Candidate {
        at: t,
        rank: 9,
        tiebreak: 0,
        by: None,
        what: What::Customer(kind),
    }
}

fn render(
    rng: &mut ChaCha8Rng,
    team: &Team,
    what: What,
    by: Option<usize>,
    lang: Lang,
    ct: &text::CategoryText,
    slots: &mut Slots,
) -> EntryBody {
    let l = lang.idx();
    if let Some(i) = by {
        slots.agent.clone_from(&team.staff[i].name);
    } else {
        ["客服", "the support team"][l].clone_into(&mut slots.agent);
    }
    match what {
        What::Created => EntryBody::Event {
            event: TicketEvent::Created,
        },
        What::Status(_) => unreachable!("status entries are rendered by the caller"),
        What::Event(event) => EntryBody::Event { event },
        What::Reply(kind) => {
            let pool = match kind {
                ReplyKind::First => text::FIRST_REPLIES[l],
                ReplyKind::Update => text::UPDATE_REPLIES[l],
                ReplyKind::Revisit => text::REVISIT_REPLIES[l],
                ReplyKind::Ask => ct.asks[l],
                ReplyKind::Resolution => ct.resolutions[l],
                ReplyKind::Duplicate => text::DUPLICATE_REPLIES[l],
            };
            slots.hours = rng.random_range(2..25);
            let mut text = fill(pick(rng, pool), slots);
            if let ReplyKind::Ask = kind {
                let intro = ["{greet}您好,", "Hi {greet}, thanks for your patience. "][l];
                text = format!("{}{}", fill(intro, slots), text);
            }
            EntryBody::Reply { text }
        }
        What::Customer(kind) => {
            let pool = match kind {
                CustomerKind::FollowUp => text::CUSTOMER_FOLLOWUPS[l],
                CustomerKind::Detail => text::CUSTOMER_DETAILS[l],
                CustomerKind::Resume => text::CUSTOMER_RESUMES[l],
                CustomerKind::Thanks => text::CUSTOMER_THANKS[l],
            };
            EntryBody::CustomerMessage {
                text: fill(pick(rng, pool), slots),
            }
        }
        What::CategoryNote | What::GenericNote | What::EscalationNote(_) => {
            // Chinese-speaking colleagues sometimes write their notes in Chinese on English tickets.
            let note_lang = match by {
                Some(i) if lang == Lang::En && team.staff[i].speaks_zh && rng.random_bool(0.3) => {
                    Lang::Zh
                }
                _ => lang,
            };
            let nl = note_lang.idx();
            let colleague = &team.staff[rng.random_range(0..team.staff.len())];
            slots.colleague.clone_from(&colleague.name);
            let text = match what {
                What::CategoryNote => fill(pick(rng, ct.notes[nl]), slots),
                What::EscalationNote(d) => {
                    slots.dept = text::DEPARTMENT_NAMES[d][nl];
                    fill(pick(rng, text::ESCALATION_NOTES[nl]), slots)
                }
                _ => fill(pick(rng, text::GENERIC_NOTES[nl]), slots),
            };
            EntryBody::Note { text }
        }
        What::Verification { strong } => {
            let mut dims = VerificationDimension::ALL.to_vec();
            dims.shuffle(rng);
            let n = if strong {
                rng.random_range(5..=7)
            } else {
                rng.random_range(3..=5)
            };
            let checks = dims
                .into_iter()
                .take(n)
                .enumerate()
                .map(|(i, dimension)| {
                    let result = if strong && i < 5 {
                        VerificationResult::Passed
                    } else {
                        weighted(
                            rng,
                            &[
                                VerificationResult::Passed,
                                VerificationResult::Failed,
                                VerificationResult::NotAvailable,
                            ],
                            &[80, 10, 10],
                        )
                    };
                    VerificationCheck {
                        dimension,
                        result,
                        method: text::verification_method(dimension, lang).to_owned(),
                    }
                })
                .collect();
            EntryBody::Verification { checks }
        }
        What::RiskAction(action) => {
            let (pool, target) = match action {
                RiskActionKind::FreezeAccount => (text::FREEZE_REASONS[l], slots.account.clone()),
                RiskActionKind::InterceptTransaction => {
                    (text::INTERCEPT_REASONS[l], slots.order.clone())
                }
                RiskActionKind::UnfreezeAccount => {
                    (text::UNFREEZE_REASONS[l], slots.account.clone())
                }
            };
            EntryBody::RiskAction {
                action,
                target,
                reason: fill(pick(rng, pool), slots),
            }
        }
    }
}
