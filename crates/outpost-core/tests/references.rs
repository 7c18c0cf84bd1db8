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
        category: Category::TransactionFailure,
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
