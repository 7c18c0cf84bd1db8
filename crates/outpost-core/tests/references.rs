//! `apply` checks every reference an intent makes against the directory facts it is given:
//! assignees exist, are active and (for an agent) work in the ticket's department; departments
//! exist. Without directory facts (the client's optimistic apply) nothing is checked.

use chrono::{DateTime, TimeZone, Utc};
use outpost_core::apply::{apply, ApplyContext, Directory, Rejection};
use outpost_core::error::ErrorCode;
use outpost_core::model::{
    Category, Channel, CustomerTier, Priority, Requester, RiskLevel, Role, Status, Ticket, User,
};
use outpost_core::rules::VerificationPolicy;
use outpost_core::sync::{Mutation, NewTicket};
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(1_750_000_000, 0)
        .single()
        .expect("in range")
}

fn user(role: Role, departments: &[&str], active: bool) -> User {
    User {
        id: Uuid::now_v7(),
        name: format!("{role:?} in {departments:?}"),
        email: format!("{}@acme.example", Uuid::now_v7().simple()),
        role,
        departments: departments.iter().map(|d| (*d).to_owned()).collect(),
        skills: Vec::new(),
        active,
        away: false,
        shifts: None,
    }
}

fn new_ticket(department: &str) -> Mutation {
    Mutation::CreateTicket(NewTicket {
        id: Uuid::now_v7(),
        subject: "Card payment failed".into(),
        description: String::new(),
        requester: Requester {
            name: "Li Wei".into(),
            contact: "li.wei@example.com".into(),
            account_id: None,
            tier: CustomerTier::Standard,
        },
        channel: Channel::Email,
        language: "en".into(),
        category: Category::TRANSACTION_FAILURE,
        priority: Priority::P3,
        risk: RiskLevel::None,
        department: Some(department.into()),
        tags: Default::default(),
    })
}

struct World {
    users: Vec<User>,
    departments: Vec<String>,
    policy: VerificationPolicy,
}

impl World {
    fn new(users: Vec<User>) -> World {
        World {
            users,
            departments: vec!["support".into(), "finance".into()],
            policy: VerificationPolicy::default(),
        }
    }

    fn apply(
        &self,
        actor: &User,
        ticket: Option<&Ticket>,
        mutation: &Mutation,
        checked: bool,
    ) -> Result<Ticket, Rejection> {
        let directory = Directory {
            users: &self.users,
            departments: &self.departments,
        };
        let ctx = ApplyContext {
            actor: Some(actor.id),
            device_id: Uuid::nil(),
            mutation_id: 1,
            client_time: now(),
            now: now(),
            verification: &self.policy,
            timeline: &[],
            directory: checked.then_some(&directory),
        };
        apply(ticket, mutation, &ctx).map(|a| a.ticket)
    }
}

fn assign(ticket: &Ticket, to: Uuid) -> Mutation {
    Mutation::SetAssignee {
        ticket_id: ticket.id,
        assignee: Some(to),
    }
}

#[test]
fn assignees_must_be_active_users_in_the_tickets_department() {
    let agent = user(Role::Agent, &["support"], true);
    let colleague = user(Role::Agent, &["support"], true);
    let finance = user(Role::Agent, &["finance"], true);
    let disabled = user(Role::Agent, &["support"], false);
    let supervisor = user(Role::Supervisor, &[], true);
    let world = World::new(vec![
        agent.clone(),
        colleague.clone(),
        finance.clone(),
        disabled.clone(),
        supervisor.clone(),
    ]);
    let ticket = world
        .apply(&supervisor, None, &new_ticket("support"), true)
        .expect("created");

    let refused = world.apply(&agent, Some(&ticket), &assign(&ticket, finance.id), true);
    assert_eq!(refused.map_err(|r| r.code()), Err(ErrorCode::Forbidden));
    for who in [&agent, &supervisor] {
        for missing in [Uuid::now_v7(), disabled.id] {
            let refused = world.apply(who, Some(&ticket), &assign(&ticket, missing), true);
            assert_eq!(refused.map_err(|r| r.code()), Err(ErrorCode::Invalid));
        }
    }

    let within = world
        .apply(&agent, Some(&ticket), &assign(&ticket, colleague.id), true)
        .expect("an agent assigns within the department");
    assert_eq!(
        (within.assignee, within.status),
        (Some(colleague.id), Status::Assigned)
    );
    let across = world
        .apply(
            &supervisor,
            Some(&ticket),
            &assign(&ticket, finance.id),
            true,
        )
        .expect("a supervisor assigns across departments");
    assert_eq!(across.assignee, Some(finance.id));
    let escalated = world
        .apply(&agent, Some(&ticket), &assign(&ticket, supervisor.id), true)
        .expect("anyone hands a ticket to a supervisor");
    assert_eq!(escalated.assignee, Some(supervisor.id));

    // Offline, without directory facts, the client stays permissive; the server decides.
    let offline = world
        .apply(&agent, Some(&ticket), &assign(&ticket, finance.id), false)
        .expect("unchecked");
    assert_eq!(offline.assignee, Some(finance.id));
}

#[test]
fn departments_must_exist() {
    let supervisor = user(Role::Supervisor, &[], true);
    let world = World::new(vec![supervisor.clone()]);
    let refused = world.apply(&supervisor, None, &new_ticket("nowhere"), true);
    assert_eq!(refused.map_err(|r| r.code()), Err(ErrorCode::Invalid));
    let ticket = world
        .apply(&supervisor, None, &new_ticket("support"), true)
        .expect("created");
    let to = |department: &str| Mutation::SetDepartment {
        ticket_id: ticket.id,
        department: Some(department.into()),
    };
    let refused = world.apply(&supervisor, Some(&ticket), &to("nowhere"), true);
    assert_eq!(refused.map_err(|r| r.code()), Err(ErrorCode::Invalid));
    let moved = world
        .apply(&supervisor, Some(&ticket), &to("finance"), true)
        .expect("an existing department");
    assert_eq!(moved.department.as_deref(), Some("finance"));
}

fn set_risk(ticket: &Ticket, risk: RiskLevel) -> Mutation {
    Mutation::SetRisk {
        ticket_id: ticket.id,
        risk,
    }
}

#[test]
fn only_supervisors_lower_a_tickets_risk_level() {
    let agent = user(Role::Agent, &["support"], true);
    let supervisor = user(Role::Supervisor, &[], true);
    let world = World::new(vec![agent.clone(), supervisor.clone()]);
    let ticket = world
        .apply(&supervisor, None, &new_ticket("support"), true)
        .expect("created");
    let l1 = world
        .apply(
            &agent,
            Some(&ticket),
            &set_risk(&ticket, RiskLevel::L1),
            true,
        )
        .expect("anyone may raise the risk level");
    assert_eq!(l1.risk, RiskLevel::L1);
    for lower in [RiskLevel::None, RiskLevel::L3, RiskLevel::L2] {
        let refused = world.apply(&agent, Some(&l1), &set_risk(&l1, lower), true);
        assert_eq!(
            refused.map_err(|r| r.code()),
            Err(ErrorCode::Forbidden),
            "an agent lowered L1 to {lower:?}"
        );
        let lowered = world
            .apply(&supervisor, Some(&l1), &set_risk(&l1, lower), true)
            .expect("a supervisor may lower the level");
        assert_eq!(lowered.risk, lower);
    }
    // The rule the risk select offers is the same function.
    assert_eq!(
        outpost_core::apply::settable_risks(Role::Agent, RiskLevel::L2),
        vec![RiskLevel::L2, RiskLevel::L1]
    );
    assert_eq!(
        outpost_core::apply::settable_risks(Role::Supervisor, RiskLevel::L2),
        RiskLevel::ALL.to_vec()
    );
}

#[test]
fn a_department_move_hands_the_ticket_over() {
    let agent = user(Role::Agent, &["support"], true);
    let both = user(Role::Agent, &["support", "finance"], true);
    let supervisor = user(Role::Supervisor, &[], true);
    let world = World::new(vec![agent.clone(), both.clone(), supervisor.clone()]);
    let ticket = world
        .apply(&supervisor, None, &new_ticket("support"), true)
        .expect("created");
    let move_to = |t: &Ticket| Mutation::SetDepartment {
        ticket_id: t.id,
        department: Some("finance".into()),
    };

    // An agent who holds the ticket and moves it where they do not work lets go of it.
    let held = world
        .apply(&agent, Some(&ticket), &assign(&ticket, agent.id), true)
        .expect("taken");
    let moved = world
        .apply(&agent, Some(&held), &move_to(&held), true)
        .expect("a hand-over to another department is allowed");
    assert_eq!(
        (moved.department.as_deref(), moved.assignee, moved.status),
        (Some("finance"), None, Status::Triaged)
    );

    // Someone who works in both departments, or a supervisor, keeps it.
    for keeper in [&both, &supervisor] {
        let held = world
            .apply(
                &supervisor,
                Some(&ticket),
                &assign(&ticket, keeper.id),
                true,
            )
            .expect("assigned");
        let moved = world
            .apply(&supervisor, Some(&held), &move_to(&held), true)
            .expect("moved");
        assert_eq!(
            (moved.assignee, moved.status),
            (Some(keeper.id), Status::Assigned)
        );
    }
}
