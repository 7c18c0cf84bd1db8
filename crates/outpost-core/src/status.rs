//! The ticket status machine.
//!
//! Every refusal carries a reason the UI can show and translate, because "you can't do that"
//! without a why is the most common complaint about helpdesk workflows.

use serde::{Deserialize, Serialize};

use crate::model::Status;

/// Facts about a ticket that some transitions depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransitionFacts {
    pub has_assignee: bool,
}

/// Why a status change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum TransitionRefusal {
    #[error("the ticket is already {status}")]
    Unchanged { status: Status },
    #[error("a {from} ticket cannot move to {to}; {hint}", hint = hint(*from, *to))]
    NotAllowed { from: Status, to: Status },
    #[error("assign the ticket to someone before moving it to {to}")]
    NeedsAssignee { to: Status },
    #[error("only a resolved or closed ticket can be reopened; this one is {status}")]
    NotReopenable { status: Status },
}

fn hint(from: Status, to: Status) -> &'static str {
    match (from, to) {
        (Status::Resolved | Status::Closed, _) => "reopen it first",
        (_, Status::Closed) => "resolve it first",
        (Status::New, _) => "triage or assign it first",
        _ => "choose another status",
    }
}

/// Legal forward moves. Reopening is a separate event ([`reopen`]).
pub fn allowed_targets(from: Status) -> &'static [Status] {
    use Status::{Assigned, Closed, InProgress, New, Pending, Resolved, Triaged};
    match from {
        New => &[Triaged, Assigned, InProgress, Pending, Resolved, Closed],
        Triaged => &[Assigned, InProgress, Pending, Resolved, Closed],
        Assigned => &[Triaged, InProgress, Pending, Resolved],
        InProgress => &[Assigned, Pending, Resolved],
        Pending => &[InProgress, Assigned, Resolved],
        Resolved => &[Closed],
        Closed => &[],
    }
}

/// Checks a status change. `New`/`Triaged` may be closed directly (spam, duplicates); work
/// (`assigned`, `in_progress`) needs an assignee.
pub fn check_transition(
    from: Status,
    to: Status,
    facts: TransitionFacts,
) -> Result<(), TransitionRefusal> {
    if from == to {
        return Err(TransitionRefusal::Unchanged { status: from });
    }
    if !allowed_targets(from).contains(&to) {
        return Err(TransitionRefusal::NotAllowed { from, to });
    }
    if matches!(to, Status::Assigned | Status::InProgress) && !facts.has_assignee {
        return Err(TransitionRefusal::NeedsAssignee { to });
    }
    Ok(())
}

/// Reopens a resolved or closed ticket: it goes back to its assignee, or to triage when nobody
/// holds it.
pub fn reopen(from: Status, facts: TransitionFacts) -> Result<Status, TransitionRefusal> {
    match from {
        Status::Resolved | Status::Closed if facts.has_assignee => Ok(Status::Assigned),
        Status::Resolved | Status::Closed => Ok(Status::Triaged),
        status => Err(TransitionRefusal::NotReopenable { status }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASSIGNED: TransitionFacts = TransitionFacts { has_assignee: true };
    const UNASSIGNED: TransitionFacts = TransitionFacts {
        has_assignee: false,
    };

    #[test]
    fn happy_path_through_the_lifecycle() {
        use Status::*;
        let path = [
            New, Triaged, Assigned, InProgress, Pending, InProgress, Resolved, Closed,
        ];
        for pair in path.windows(2) {
            assert_eq!(
                check_transition(pair[0], pair[1], ASSIGNED),
                Ok(()),
                "{pair:?}"
            );
        }
    }

    #[test]
    fn every_refusal_has_a_reason() {
        for &from in Status::ALL {
            for &to in Status::ALL {
                if let Err(refusal) = check_transition(from, to, UNASSIGNED) {
                    let text = refusal.to_string();
                    assert!(text.len() > 10, "{from}->{to}: {text}");
                }
            }
        }
    }

    #[test]
    fn closed_is_terminal_until_reopened() {
        let err = check_transition(Status::Closed, Status::InProgress, ASSIGNED).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a closed ticket cannot move to in_progress; reopen it first"
        );
        assert_eq!(reopen(Status::Closed, ASSIGNED), Ok(Status::Assigned));
        assert_eq!(reopen(Status::Resolved, UNASSIGNED), Ok(Status::Triaged));
        assert_eq!(
            reopen(Status::Pending, ASSIGNED),
            Err(TransitionRefusal::NotReopenable {
                status: Status::Pending
            })
        );
    }

    #[test]
    fn work_needs_an_assignee() {
        assert_eq!(
            check_transition(Status::Triaged, Status::InProgress, UNASSIGNED),
            Err(TransitionRefusal::NeedsAssignee {
                to: Status::InProgress
            })
        );
        assert_eq!(
            check_transition(Status::Triaged, Status::Pending, UNASSIGNED),
            Ok(())
        );
    }

    #[test]
    fn same_status_is_refused_and_open_tickets_cannot_skip_to_closed() {
        assert_eq!(
            check_transition(Status::Pending, Status::Pending, ASSIGNED),
            Err(TransitionRefusal::Unchanged {
                status: Status::Pending
            })
        );
        let err = check_transition(Status::InProgress, Status::Closed, ASSIGNED).unwrap_err();
        assert!(err.to_string().ends_with("resolve it first"));
    }

    #[test]
    fn refusals_serialise_with_a_stable_code() {
        let json = serde_json::to_value(TransitionRefusal::NeedsAssignee {
            to: Status::Assigned,
        })
        .unwrap();
        assert_eq!(json["code"], "needs_assignee");
        assert_eq!(json["to"], "assigned");
    }
}
