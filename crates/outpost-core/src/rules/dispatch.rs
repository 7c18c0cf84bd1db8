//! Dispatch: which agent gets a ticket.
//!
//! Only agents in the ticket's department who are active, on shift (when the policy asks) and
//! below the load ceiling are eligible. Eligible agents score
//! `skill_weight × matched skills − load_weight × weighted load`; the weighted load counts open
//! tickets by priority (a P1 weighs more than a P4) so nobody hoards urgent work. Ties go to the
//! agent assigned least recently (lowest `last_assigned_seq`, i.e. round robin), then to the
//! lowest user id so the answer never depends on input order.

use std::cmp::Reverse;
use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Lang;
use crate::model::{DepartmentCode, Priority, UserId};

/// What an agent looks like to dispatch at the moment of assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentState {
    pub user_id: UserId,
    pub departments: Vec<DepartmentCode>,
    pub skills: Vec<String>,
    pub on_shift: bool,
    /// Open tickets held, by priority. A priority may appear more than once; counts add up.
    pub open_load: Vec<(Priority, u32)>,
    /// Sequence number of this agent's latest assignment (0 = never); drives round robin.
    pub last_assigned_seq: u64,
    pub active: bool,
}

/// Weight of one open ticket of each priority in an agent's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadWeights {
    pub p1: u32,
    pub p2: u32,
    pub p3: u32,
    pub p4: u32,
}

impl Default for LoadWeights {
    fn default() -> Self {
        LoadWeights {
            p1: 4,
            p2: 3,
            p3: 2,
            p4: 1,
        }
    }
}

impl LoadWeights {
    pub fn weight(&self, priority: Priority) -> u32 {
        match priority {
            Priority::P1 => self.p1,
            Priority::P2 => self.p2,
            Priority::P3 => self.p3,
            Priority::P4 => self.p4,
        }
    }

    pub fn weighted_load(&self, open_load: &[(Priority, u32)]) -> u32 {
        open_load.iter().fold(0u32, |sum, (priority, count)| {
            sum.saturating_add(self.weight(*priority).saturating_mul(*count))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DispatchPolicy {
    pub load_weights: LoadWeights,
    /// Agents whose weighted load has reached this ceiling get no new tickets.
    pub max_weighted_load: Option<u32>,
    /// Points per required skill the agent has.
    pub skill_weight: u32,
    /// Points lost per unit of weighted load.
    pub load_weight: u32,
    pub require_on_shift: bool,
}

impl Default for DispatchPolicy {
    /// One matching skill is worth 10 points, about two P3 tickets or 2.5 P1 tickets of load:
    /// skills steer the choice, but a specialist with a full queue loses to a free generalist.
    fn default() -> Self {
        DispatchPolicy {
            load_weights: LoadWeights::default(),
            max_weighted_load: Some(40),
            skill_weight: 10,
            load_weight: 1,
            require_on_shift: true,
        }
    }
}

/// How one agent fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub user_id: UserId,
    /// Computed for excluded agents too, for the explanation.
    pub score: i64,
    pub reasons: Vec<ScoreReason>,
    /// Empty when the agent is eligible.
    pub excluded: Vec<Exclusion>,
}

impl Candidate {
    pub fn is_eligible(&self) -> bool {
        self.excluded.is_empty()
    }
}

/// A component of a candidate's score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScoreReason {
    Skills {
        matched: Vec<String>,
        missing: Vec<String>,
        points: i64,
    },
    Load {
        weighted: u32,
        points: i64,
    },
    /// Breaks ties: lower means assigned longer ago.
    RoundRobin {
        last_assigned_seq: u64,
    },
}

/// Why an agent cannot take the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Exclusion {
    NotInDepartment { department: DepartmentCode },
    Inactive,
    OffShift,
    AtCapacity { weighted_load: u32, max: u32 },
}

/// Every agent, eligible ones first from best to worst, then excluded ones in the same order.
pub fn rank(
    policy: &DispatchPolicy,
    ticket_department: &str,
    required_skills: &[String],
    agents: &[AgentState],
) -> Vec<Candidate> {
    let mut ranked: Vec<(Candidate, u64)> = agents
        .iter()
        .map(|agent| {
            (
                assess(policy, ticket_department, required_skills, agent),
                agent.last_assigned_seq,
            )
        })
        .collect();
    ranked.sort_by_key(|(c, seq)| (!c.is_eligible(), Reverse(c.score), *seq, c.user_id));
    ranked.into_iter().map(|(c, _)| c).collect()
}

/// The agent to assign, or `None` when nobody is eligible (`rank` says why).
pub fn choose(
    policy: &DispatchPolicy,
    ticket_department: &str,
    required_skills: &[String],
    agents: &[AgentState],
) -> Option<Uuid> {
    rank(policy, ticket_department, required_skills, agents)
        .into_iter()
        .find(Candidate::is_eligible)
        .map(|c| c.user_id)
}

fn assess(
    policy: &DispatchPolicy,
    ticket_department: &str,
    required_skills: &[String],
    agent: &AgentState,
) -> Candidate {
    let department = ticket_department.trim();
    let mut excluded = Vec::new();
    if !agent
        .departments
        .iter()
        .any(|d| d.trim().eq_ignore_ascii_case(department))
    {
        excluded.push(Exclusion::NotInDepartment {
            department: department.to_owned(),
        });
    }
    if !agent.active {
        excluded.push(Exclusion::Inactive);
    }
    if policy.require_on_shift && !agent.on_shift {
        excluded.push(Exclusion::OffShift);
    }
    let weighted = policy.load_weights.weighted_load(&agent.open_load);
    if let Some(max) = policy.max_weighted_load {
        if weighted >= max {
            excluded.push(Exclusion::AtCapacity {
                weighted_load: weighted,
                max,
            });
        }
    }

    let (matched, missing): (Vec<String>, Vec<String>) =
        required_skills.iter().cloned().partition(|skill| {
            agent
                .skills
                .iter()
                .any(|s| s.trim().eq_ignore_ascii_case(skill.trim()))
        });
    let skill_points = i64::from(policy.skill_weight) * matched.len() as i64;
    let load_points = -(i64::from(policy.load_weight) * i64::from(weighted));
    Candidate {
        user_id: agent.user_id,
        score: skill_points + load_points,
        reasons: vec![
            ScoreReason::Skills {
                matched,
                missing,
                points: skill_points,
            },
            ScoreReason::Load {
                weighted,
                points: load_points,
            },
            ScoreReason::RoundRobin {
                last_assigned_seq: agent.last_assigned_seq,
            },
        ],
        excluded,
    }
}

impl ScoreReason {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (
                ScoreReason::Skills {
                    matched, points, ..
                },
                Lang::En,
            ) if matched.is_empty() => {
                format!("No required skill ({points:+})")
            }
            (
                ScoreReason::Skills {
                    matched, points, ..
                },
                Lang::ZhCn,
            ) if matched.is_empty() => {
                format!("不具备所需技能({points:+})")
            }
            (
                ScoreReason::Skills {
                    matched, points, ..
                },
                Lang::En,
            ) => {
                format!("Has skills {} ({points:+})", matched.join(", "))
            }
            (
                ScoreReason::Skills {
                    matched, points, ..
                },
                Lang::ZhCn,
            ) => {
                format!("具备技能 {}({points:+})", matched.join("、"))
            }
            (ScoreReason::Load { weighted, points }, Lang::En) => {
                format!("Weighted open load {weighted} ({points:+})")
            }
            (ScoreReason::Load { weighted, points }, Lang::ZhCn) => {
                format!("加权在办负载 {weighted}({points:+})")
            }
            (ScoreReason::RoundRobin { last_assigned_seq }, Lang::En) => {
                format!("Last assignment #{last_assigned_seq} (earlier wins ties)")
            }
            (ScoreReason::RoundRobin { last_assigned_seq }, Lang::ZhCn) => {
                format!("上次派单序号 #{last_assigned_seq}(同分时先到者优先)")
            }
        }
    }
}

impl Exclusion {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Exclusion::NotInDepartment { department }, Lang::En) => {
                format!("Not a member of the {department} department")
            }
            (Exclusion::NotInDepartment { department }, Lang::ZhCn) => {
                format!("不属于 {department} 部门")
            }
            (Exclusion::Inactive, Lang::En) => "Account is deactivated".to_owned(),
            (Exclusion::Inactive, Lang::ZhCn) => "账号已停用".to_owned(),
            (Exclusion::OffShift, Lang::En) => "Not on shift".to_owned(),
            (Exclusion::OffShift, Lang::ZhCn) => "当前不在班".to_owned(),
            (Exclusion::AtCapacity { weighted_load, max }, Lang::En) => {
                format!("At capacity: weighted load {weighted_load} of {max}")
            }
            (Exclusion::AtCapacity { weighted_load, max }, Lang::ZhCn) => {
                format!("负载已满:加权负载 {weighted_load} / {max}")
            }
        }
    }
}

impl fmt::Display for ScoreReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl fmt::Display for Exclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn agent(n: u128, department: &str) -> AgentState {
        AgentState {
            user_id: id(n),
            departments: vec![department.to_owned()],
            skills: Vec::new(),
            on_shift: true,
            open_load: Vec::new(),
            last_assigned_seq: 0,
            active: true,
        }
    }

    fn skills(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn only_agents_in_the_department_are_eligible() {
        let agents = [agent(1, "finance"), agent(2, "support")];
        let policy = DispatchPolicy::default();
        assert_eq!(choose(&policy, "support", &[], &agents), Some(id(2)));
        assert_eq!(choose(&policy, "Finance", &[], &agents), Some(id(1)));
        let ranked = rank(&policy, "support", &[], &agents);
        assert_eq!(ranked[1].user_id, id(1));
        assert_eq!(
            ranked[1].excluded,
            [Exclusion::NotInDepartment {
                department: "support".into()
            }]
        );
    }

    #[test]
    fn lighter_weighted_load_wins() {
        let mut busy = agent(1, "support");
        busy.open_load = vec![(Priority::P1, 1)]; // 4
        let mut lighter = agent(2, "support");
        lighter.open_load = vec![(Priority::P4, 2), (Priority::P4, 1)]; // 3
        let policy = DispatchPolicy::default();
        assert_eq!(
            choose(&policy, "support", &[], &[busy, lighter]),
            Some(id(2))
        );
    }

    #[test]
    fn skills_outweigh_a_little_load() {
        let mut specialist = agent(1, "finance");
        specialist.skills = skills(&["Reconciliation", "refunds"]);
        specialist.open_load = vec![(Priority::P3, 3)]; // 6 load, 20 skill
        let generalist = agent(2, "finance");
        let required = skills(&["reconciliation", "refunds", "kyc"]);
        let policy = DispatchPolicy::default();
        let ranked = rank(&policy, "finance", &required, &[generalist, specialist]);
        assert_eq!(ranked[0].user_id, id(1));
        assert_eq!(ranked[0].score, 14);
        assert_eq!(
            ranked[0].reasons[0],
            ScoreReason::Skills {
                matched: skills(&["reconciliation", "refunds"]),
                missing: skills(&["kyc"]),
                points: 20
            }
        );
        assert_eq!(ranked[1].score, 0);
    }

    #[test]
    fn shift_activity_and_capacity_exclude() {
        let mut off = agent(1, "risk");
        off.on_shift = false;
        let mut gone = agent(2, "risk");
        gone.active = false;
        let mut full = agent(3, "risk");
        full.open_load = vec![(Priority::P1, 10)];
        let agents = [off.clone(), gone, full];
        let policy = DispatchPolicy::default();
        assert_eq!(choose(&policy, "risk", &[], &agents), None);
        let ranked = rank(&policy, "risk", &[], &agents);
        let exclusions: Vec<_> = ranked
            .iter()
            .map(|c| (c.user_id, c.excluded.clone()))
            .collect();
        assert!(exclusions.contains(&(id(1), vec![Exclusion::OffShift])));
        assert!(exclusions.contains(&(id(2), vec![Exclusion::Inactive])));
        assert!(exclusions.contains(&(
            id(3),
            vec![Exclusion::AtCapacity {
                weighted_load: 40,
                max: 40
            }]
        )));
        // Off-shift agents are fine when the policy does not require a shift.
        let relaxed = DispatchPolicy {
            require_on_shift: false,
            ..DispatchPolicy::default()
        };
        assert_eq!(choose(&relaxed, "risk", &[], &agents), Some(id(1)));
        // No ceiling: the full agent is eligible again.
        let unbounded = DispatchPolicy {
            max_weighted_load: None,
            ..DispatchPolicy::default()
        };
        assert_eq!(choose(&unbounded, "risk", &[], &agents), Some(id(3)));
    }

    #[test]
    fn nobody_available() {
        let policy = DispatchPolicy::default();
        assert_eq!(choose(&policy, "tech", &[], &[]), None);
        let ranked = rank(&policy, "tech", &[], &[agent(1, "support")]);
        assert_eq!(choose(&policy, "tech", &[], &[agent(1, "support")]), None);
        assert_eq!(ranked.len(), 1);
        assert_eq!(
            ranked[0].excluded[0].to_string(),
            "Not a member of the tech department"
        );
        assert_eq!(
            ranked[0].excluded[0].message(Lang::ZhCn),
            "不属于 tech 部门"
        );
    }

    #[test]
    fn ties_go_round_robin_then_by_id() {
        let mut a = agent(5, "support");
        a.last_assigned_seq = 9;
        let mut b = agent(7, "support");
        b.last_assigned_seq = 3;
        let mut c = agent(6, "support");
        c.last_assigned_seq = 3;
        let policy = DispatchPolicy::default();
        let order = |agents: &[AgentState]| -> Vec<Uuid> {
            rank(&policy, "support", &[], agents)
                .iter()
                .map(|c| c.user_id)
                .collect()
        };
        let expected = vec![id(6), id(7), id(5)];
        assert_eq!(order(&[a.clone(), b.clone(), c.clone()]), expected);
        assert_eq!(order(&[c, b, a]), expected);
    }

    #[test]
    fn reasons_render_in_both_languages() {
        let reason = ScoreReason::Load {
            weighted: 6,
            points: -6,
        };
        assert_eq!(reason.to_string(), "Weighted open load 6 (-6)");
        assert_eq!(reason.message(Lang::ZhCn), "加权在办负载 6(-6)");
    }

    #[test]
    fn policy_has_sensible_wire_shape() {
        let policy: DispatchPolicy =
            serde_json::from_str(r#"{"max_weighted_load": null}"#).expect("partial policy");
        assert_eq!(policy.max_weighted_load, None);
        assert_eq!(policy.load_weights, LoadWeights::default());
        assert!(serde_json::from_str::<DispatchPolicy>(r#"{"skill_weight": -1}"#).is_err());
    }

    fn arb_agent() -> impl Strategy<Value = AgentState> {
        (
            0u128..20,
            proptest::sample::subsequence(vec!["support", "finance", "tech", "risk"], 0..3),
            proptest::sample::subsequence(vec!["kyc", "refunds", "login"], 0..3),
            any::<bool>(),
            proptest::collection::vec(
                (proptest::sample::select(Priority::ALL.to_vec()), 0u32..8),
                0..4,
            ),
            0u64..5,
            any::<bool>(),
        )
            .prop_map(
                |(n, departments, skills, on_shift, open_load, seq, active)| AgentState {
                    user_id: Uuid::from_u128(n),
                    departments: departments.into_iter().map(str::to_owned).collect(),
                    skills: skills.into_iter().map(str::to_owned).collect(),
                    on_shift,
                    open_load,
                    last_assigned_seq: seq,
                    active,
                },
            )
    }

    proptest! {
        #[test]
        fn choice_is_always_eligible_and_best(
            agents in proptest::collection::vec(arb_agent(), 0..12),
            max in proptest::option::of(0u32..60),
            require_on_shift in any::<bool>(),
            department in proptest::sample::select(vec!["support", "finance", "tech", "risk"]),
        ) {
            let policy = DispatchPolicy { max_weighted_load: max, require_on_shift, ..DispatchPolicy::default() };
            let required = skills(&["kyc", "refunds"]);
            let ranked = rank(&policy, department, &required, &agents);
            prop_assert_eq!(ranked.len(), agents.len());
            match choose(&policy, department, &required, &agents) {
                Some(chosen) => {
                    let eligible: Vec<&AgentState> = agents.iter().filter(|a| {
                        a.user_id == chosen
                            && a.active
                            && a.departments.iter().any(|d| d == department)
                            && (a.on_shift || !require_on_shift)
                            && max.is_none_or(|m| policy.load_weights.weighted_load(&a.open_load) < m)
                    }).collect();
                    prop_assert!(!eligible.is_empty());
                    let best = ranked.iter().filter(|c| c.is_eligible()).map(|c| c.score).max();
                    prop_assert_eq!(Some(ranked[0].score), best);
                }
                None => prop_assert!(ranked.iter().all(|c| !c.is_eligible())),
            }
            // Input order does not matter.
            let mut reversed = agents.clone();
            reversed.reverse();
            prop_assert_eq!(
                choose(&policy, department, &required, &agents),
                choose(&policy, department, &required, &reversed)
            );
        }
    }
}
