//! Emergency risk actions (freeze, intercept, unfreeze) and the L1 response clock.
//!
//! A risk action proceeds only when the account is in a state it makes sense for and the
//! identity verification for that very action allowed it. State is checked first: an agent
//! learns "already frozen" without running a verification for nothing.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::verification::{SensitiveAction, VerificationDecision, VerificationOutcome};
use super::Lang;
use crate::model::RiskActionKind;

/// Seeds: a first-level risk (large abnormal transaction, active takeover) has the account
/// frozen within 10 minutes.
pub const L1_FREEZE_WITHIN: TimeDelta = TimeDelta::minutes(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    #[default]
    Normal,
    Frozen,
}

/// The risk state of one customer account, as the ticket's risk actions left it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccountRiskState {
    pub status: AccountStatus,
    /// Ids of the transactions intercepted so far. Unfreezing does not release them.
    pub intercepted: BTreeSet<String>,
}

impl AccountRiskState {
    /// The state after `action` on `target`, ignoring verification: used to replay recorded
    /// history and as the first half of [`check_risk_action`].
    pub fn after(
        &self,
        action: RiskActionKind,
        target: &str,
    ) -> Result<AccountRiskState, RiskRefusal> {
        let current = self;
        let target = target.trim();
        if target.is_empty() {
            return Err(RiskRefusal::MissingTarget { action });
        }
        let mut next = current.clone();
        match action {
            RiskActionKind::FreezeAccount if current.status == AccountStatus::Frozen => {
                return Err(RiskRefusal::AlreadyFrozen);
            }
            RiskActionKind::FreezeAccount => next.status = AccountStatus::Frozen,
            RiskActionKind::UnfreezeAccount if current.status != AccountStatus::Frozen => {
                return Err(RiskRefusal::NotFrozen);
            }
            RiskActionKind::UnfreezeAccount => next.status = AccountStatus::Normal,
            // A frozen account may still have a transaction in flight, so interception stays open.
            RiskActionKind::InterceptTransaction => {
                if !next.intercepted.insert(target.to_owned()) {
                    return Err(RiskRefusal::AlreadyIntercepted {
                        transaction: target.to_owned(),
                    });
                }
            }
        }
        Ok(next)
    }
}

/// Why a risk action cannot proceed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RiskRefusal {
    /// Every risk action names its target (account or transaction) for the compliance record.
    MissingTarget {
        action: RiskActionKind,
    },
    AlreadyFrozen,
    NotFrozen,
    AlreadyIntercepted {
        transaction: String,
    },
    /// The verification presented was run for a different action.
    VerificationForOtherAction {
        verified: SensitiveAction,
        requested: SensitiveAction,
    },
    VerificationRefused {
        outcome: VerificationOutcome,
    },
}

/// Checks `action` against the account's state and the verification decision, and returns the
/// state after the action. `target` is what the risk-action entry records: the account id, or
/// the transaction id for an interception.
pub fn check_risk_action(
    action: RiskActionKind,
    target: &str,
    current: &AccountRiskState,
    decision: &VerificationDecision,
) -> Result<AccountRiskState, RiskRefusal> {
    let next = current.after(action, target)?;
    let requested = SensitiveAction::from(action);
    if decision.action != requested {
        return Err(RiskRefusal::VerificationForOtherAction {
            verified: decision.action,
            requested,
        });
    }
    if !decision.allowed {
        return Err(RiskRefusal::VerificationRefused {
            outcome: decision.reason.clone(),
        });
    }
    Ok(next)
}

/// When an L1 risk raised at `risk_raised_at` must have the account frozen.
pub fn l1_freeze_deadline(risk_raised_at: DateTime<Utc>) -> DateTime<Utc> {
    risk_raised_at
        .checked_add_signed(L1_FREEZE_WITHIN)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether a freeze at `frozen_at` met the L1 deadline (the deadline minute itself counts).
pub fn l1_freeze_met(risk_raised_at: DateTime<Utc>, frozen_at: DateTime<Utc>) -> bool {
    frozen_at <= l1_freeze_deadline(risk_raised_at)
}

/// The L1 freeze clock at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L1FreezeStatus {
    /// Frozen in time; `took` is zero if the freeze was recorded before the risk (clock skew).
    Met {
        took: TimeDelta,
    },
    Missed {
        late_by: TimeDelta,
    },
    Running {
        remaining: TimeDelta,
    },
    Overdue {
        overdue_by: TimeDelta,
    },
}

pub fn l1_freeze_status(
    risk_raised_at: DateTime<Utc>,
    frozen_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> L1FreezeStatus {
    let deadline = l1_freeze_deadline(risk_raised_at);
    match frozen_at {
        Some(at) if l1_freeze_met(risk_raised_at, at) => L1FreezeStatus::Met {
            took: (at - risk_raised_at).max(TimeDelta::zero()),
        },
        Some(at) => L1FreezeStatus::Missed {
            late_by: at - deadline,
        },
        None if now <= deadline => L1FreezeStatus::Running {
            remaining: deadline - now,
        },
        None => L1FreezeStatus::Overdue {
            overdue_by: now - deadline,
        },
    }
}

impl RiskRefusal {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (RiskRefusal::MissingTarget { action }, Lang::En) => format!(
                "Say which {} this applies to before continuing.",
                match action {
                    RiskActionKind::InterceptTransaction => "transaction",
                    _ => "account",
                }
            ),
            (RiskRefusal::MissingTarget { action }, Lang::ZhCn) => format!(
                "请先填写操作对象({})。",
                match action {
                    RiskActionKind::InterceptTransaction => "交易号",
                    _ => "账户",
                }
            ),
            (RiskRefusal::AlreadyFrozen, Lang::En) => {
                "The account is already frozen; nothing to do.".to_owned()
            }
            (RiskRefusal::AlreadyFrozen, Lang::ZhCn) => {
                "该账户已处于冻结状态,无需重复操作。".to_owned()
            }
            (RiskRefusal::NotFrozen, Lang::En) => {
                "The account is not frozen, so it cannot be unfrozen.".to_owned()
            }
            (RiskRefusal::NotFrozen, Lang::ZhCn) => "该账户未被冻结,无法解冻。".to_owned(),
            (RiskRefusal::AlreadyIntercepted { transaction }, Lang::En) => {
                format!("Transaction {transaction} is already intercepted.")
            }
            (RiskRefusal::AlreadyIntercepted { transaction }, Lang::ZhCn) => {
                format!("交易 {transaction} 已被拦截。")
            }
            (
                RiskRefusal::VerificationForOtherAction {
                    verified,
                    requested,
                },
                Lang::En,
            ) => format!(
                "The identity verification was for {}, not {}. Verify for this action.",
                verified.label(lang),
                requested.label(lang)
            ),
            (
                RiskRefusal::VerificationForOtherAction {
                    verified,
                    requested,
                },
                Lang::ZhCn,
            ) => format!(
                "此次身份核验针对的是“{}”,而非“{}”,请针对本操作重新核验。",
                verified.label(lang),
                requested.label(lang)
            ),
            (RiskRefusal::VerificationRefused { outcome }, _) => outcome.message(lang),
        }
    }
}

impl fmt::Display for RiskRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for RiskRefusal {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RiskLevel, VerificationCheck, VerificationDimension, VerificationResult};
    use crate::rules::VerificationPolicy;
    use chrono::TimeZone;

    fn verified(action: RiskActionKind, dimensions: usize) -> VerificationDecision {
        let records: Vec<_> = VerificationDimension::ALL
            .iter()
            .take(dimensions)
            .map(|d| VerificationCheck {
                dimension: *d,
                result: VerificationResult::Passed,
                method: "video call".to_owned(),
            })
            .collect();
        VerificationPolicy::default().evaluate(action.into(), RiskLevel::L1, &records)
    }

    fn frozen() -> AccountRiskState {
        AccountRiskState {
            status: AccountStatus::Frozen,
            intercepted: BTreeSet::new(),
        }
    }

    #[test]
    fn freeze_intercept_unfreeze() {
        use RiskActionKind::*;
        let normal = AccountRiskState::default();
        let state = check_risk_action(
            FreezeAccount,
            "acct-1",
            &normal,
            &verified(FreezeAccount, 5),
        )
        .expect("freeze allowed");
        assert_eq!(state.status, AccountStatus::Frozen);
        let state = check_risk_action(
            InterceptTransaction,
            "tx-9",
            &state,
            &verified(InterceptTransaction, 5),
        )
        .expect("intercept allowed on a frozen account");
        assert!(state.intercepted.contains("tx-9"));
        // Unfreezing needs the ID document, which is the 4th dimension: all 8 cover it.
        let state = check_risk_action(
            UnfreezeAccount,
            "acct-1",
            &state,
            &verified(UnfreezeAccount, 8),
        )
        .expect("unfreeze allowed");
        assert_eq!(state.status, AccountStatus::Normal);
        assert!(state.intercepted.contains("tx-9"));
    }

    #[test]
    fn refusals() {
        use RiskActionKind::*;
        let normal = AccountRiskState::default();
        assert_eq!(
            check_risk_action(
                FreezeAccount,
                "acct-1",
                &frozen(),
                &verified(FreezeAccount, 5)
            ),
            Err(RiskRefusal::AlreadyFrozen)
        );
        assert_eq!(
            check_risk_action(
                UnfreezeAccount,
                "acct-1",
                &normal,
                &verified(UnfreezeAccount, 8)
            ),
            Err(RiskRefusal::NotFrozen)
        );
        let mut intercepted = normal.clone();
        intercepted.intercepted.insert("tx-1".into());
        assert_eq!(
            check_risk_action(
                InterceptTransaction,
                " tx-1 ",
                &intercepted,
                &verified(InterceptTransaction, 5)
            ),
            Err(RiskRefusal::AlreadyIntercepted {
                transaction: "tx-1".into()
            })
        );
        assert_eq!(
            check_risk_action(FreezeAccount, "  ", &normal, &verified(FreezeAccount, 5)),
            Err(RiskRefusal::MissingTarget {
                action: FreezeAccount
            })
        );
        assert_eq!(
            check_risk_action(
                FreezeAccount,
                "acct-1",
                &normal,
                &verified(UnfreezeAccount, 8)
            ),
            Err(RiskRefusal::VerificationForOtherAction {
                verified: SensitiveAction::UnfreezeAccount,
                requested: SensitiveAction::FreezeAccount
            })
        );
        let refused = check_risk_action(
            FreezeAccount,
            "acct-1",
            &normal,
            &verified(FreezeAccount, 4),
        )
        .expect_err("four checks are not enough on L1");
        assert!(matches!(
            refused,
            RiskRefusal::VerificationRefused {
                outcome: VerificationOutcome::TooFewPassed {
                    passed: 4,
                    needed: 5,
                    ..
                }
            }
        ));
        assert_eq!(
            refused.to_string(),
            "Only 4 verification checks passed; freezing the account needs 5. Run more checks first."
        );
        // Three passes, none of them the ID document.
        let refused = check_risk_action(
            UnfreezeAccount,
            "acct-1",
            &frozen(),
            &verified(UnfreezeAccount, 3),
        )
        .expect_err("unverified unfreeze");
        assert!(matches!(
            refused,
            RiskRefusal::VerificationRefused {
                outcome: VerificationOutcome::RequiredNotPassed { .. }
            }
        ));
        assert_eq!(
            RiskRefusal::AlreadyFrozen.message(Lang::ZhCn),
            "该账户已处于冻结状态,无需重复操作。"
        );
        // The input state is never modified.
        assert_eq!(normal, AccountRiskState::default());
    }

    #[test]
    fn l1_clock() {
        let raised = Utc.with_ymd_and_hms(2026, 3, 1, 2, 0, 0).unwrap();
        let deadline = l1_freeze_deadline(raised);
        assert_eq!(
            deadline,
            Utc.with_ymd_and_hms(2026, 3, 1, 2, 10, 0).unwrap()
        );
        assert!(l1_freeze_met(raised, deadline));
        assert!(!l1_freeze_met(raised, deadline + TimeDelta::seconds(1)));
        let minutes = TimeDelta::minutes;
        assert_eq!(
            l1_freeze_status(raised, Some(raised + minutes(7)), raised + minutes(30)),
            L1FreezeStatus::Met { took: minutes(7) }
        );
        assert_eq!(
            l1_freeze_status(raised, Some(raised + minutes(12)), raised + minutes(30)),
            L1FreezeStatus::Missed {
                late_by: minutes(2)
            }
        );
        assert_eq!(
            l1_freeze_status(raised, None, raised + minutes(4)),
            L1FreezeStatus::Running {
                remaining: minutes(6)
            }
        );
        assert_eq!(
            l1_freeze_status(raised, None, raised + minutes(25)),
            L1FreezeStatus::Overdue {
                overdue_by: minutes(15)
            }
        );
        assert_eq!(
            l1_freeze_status(raised, Some(raised - minutes(1)), raised),
            L1FreezeStatus::Met {
                took: TimeDelta::zero()
            }
        );
        assert_eq!(
            l1_freeze_deadline(DateTime::<Utc>::MAX_UTC),
            DateTime::<Utc>::MAX_UTC
        );
    }
}
