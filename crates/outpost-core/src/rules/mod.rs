//! Rules: how a ticket is classified, who it is dispatched to, how much identity verification a
//! sensitive action needs, and whether an emergency risk action may proceed.
//!
//! Everything here is a pure function of its arguments (configuration, ticket facts, `now`), so
//! the client, the server and the tests reach the same answer. Reasons shown to people are
//! structured enums; `message(lang)` renders them and `Display` is the English rendering.

pub mod classify;
pub mod dispatch;
pub mod risk;
pub mod verification;

pub use classify::{
    bump_priority, Actions, Classification, ClassificationRule, ClassifyInput, Condition, Field,
    RuleSet, RuleSetError,
};
pub use dispatch::{
    choose, rank, AgentState, Candidate, DispatchPolicy, Exclusion, LoadWeights, ScoreReason,
};
pub use risk::{
    check_risk_action, l1_freeze_deadline, l1_freeze_met, l1_freeze_status, AccountRiskState,
    AccountStatus, L1FreezeStatus, RiskRefusal, L1_FREEZE_WITHIN,
};
pub use verification::{
    dimension_label, Requirement, RiskMinimums, SensitiveAction, VerificationDecision,
    VerificationOutcome, VerificationPolicy,
};

pub use crate::Lang;
