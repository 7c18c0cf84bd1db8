//! Identity verification before sensitive account actions.
//!
//! The number of passed dimensions needed is the largest of: the minimum for the ticket's risk
//! level, the action's own minimum, and the number of dimensions the action requires by name.
//! Defaults follow the seeds: L1 ("active takeover, large abnormal transaction") needs at least
//! 5 passed dimensions; below that, 3 for L2 and 2 (still multi-factor) for L3 and no risk.
//! Unfreezing hands control back, so it needs 5 at any risk level, including real-name info and
//! an ID document; freezing and intercepting protect the customer and follow the risk level.
//!
//! Records are read in order and the latest definitive result for a dimension wins: a pass
//! after a failure is a successful retry (a mistyped code), a failure after a pass withdraws
//! it. `not_available` (the check could not be run) changes nothing. A dimension counts once.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::Lang;
use crate::model::{
    RiskActionKind, RiskLevel, VerificationCheck, VerificationDimension, VerificationResult,
};

/// An agent action on a customer's account that must be preceded by identity verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SensitiveAction {
    FreezeAccount,
    InterceptTransaction,
    UnfreezeAccount,
    PasswordReset,
    ProfileChange,
    PermissionChange,
    BindDevice,
}

impl SensitiveAction {
    pub const ALL: &'static [SensitiveAction] = &[
        SensitiveAction::FreezeAccount,
        SensitiveAction::InterceptTransaction,
        SensitiveAction::UnfreezeAccount,
        SensitiveAction::PasswordReset,
        SensitiveAction::ProfileChange,
        SensitiveAction::PermissionChange,
        SensitiveAction::BindDevice,
    ];

    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (SensitiveAction::FreezeAccount, Lang::En) => "freezing the account",
            (SensitiveAction::FreezeAccount, Lang::ZhCn) => "冻结账户",
            (SensitiveAction::InterceptTransaction, Lang::En) => "intercepting the transaction",
            (SensitiveAction::InterceptTransaction, Lang::ZhCn) => "拦截交易",
            (SensitiveAction::UnfreezeAccount, Lang::En) => "unfreezing the account",
            (SensitiveAction::UnfreezeAccount, Lang::ZhCn) => "解冻账户",
            (SensitiveAction::PasswordReset, Lang::En) => "resetting the password",
            (SensitiveAction::PasswordReset, Lang::ZhCn) => "重置密码",
            (SensitiveAction::ProfileChange, Lang::En) => "changing profile details",
            (SensitiveAction::ProfileChange, Lang::ZhCn) => "修改资料",
            (SensitiveAction::PermissionChange, Lang::En) => "changing permissions",
            (SensitiveAction::PermissionChange, Lang::ZhCn) => "变更权限",
            (SensitiveAction::BindDevice, Lang::En) => "binding a new device",
            (SensitiveAction::BindDevice, Lang::ZhCn) => "绑定新设备",
        }
    }
}

impl From<RiskActionKind> for SensitiveAction {
    fn from(kind: RiskActionKind) -> Self {
        match kind {
            RiskActionKind::FreezeAccount => SensitiveAction::FreezeAccount,
            RiskActionKind::InterceptTransaction => SensitiveAction::InterceptTransaction,
            RiskActionKind::UnfreezeAccount => SensitiveAction::UnfreezeAccount,
        }
    }
}

/// How a verification dimension is called in the UI.
pub fn dimension_label(dimension: VerificationDimension, lang: Lang) -> &'static str {
    use VerificationDimension as D;
    match (dimension, lang) {
        (D::SmsCode, Lang::En) => "SMS code",
        (D::SmsCode, Lang::ZhCn) => "短信验证码",
        (D::RealNameInfo, Lang::En) => "registered real-name info",
        (D::RealNameInfo, Lang::ZhCn) => "实名信息",
        (D::TransactionPassword, Lang::En) => "transaction password",
        (D::TransactionPassword, Lang::ZhCn) => "交易密码",
        (D::IdDocument, Lang::En) => "ID document",
        (D::IdDocument, Lang::ZhCn) => "身份证件",
        (D::UsualDevice, Lang::En) => "usual device",
        (D::UsualDevice, Lang::ZhCn) => "常用设备",
        (D::TransactionHabits, Lang::En) => "transaction habits",
        (D::TransactionHabits, Lang::ZhCn) => "交易习惯",
        (D::FaceLiveness, Lang::En) => "face/liveness check",
        (D::FaceLiveness, Lang::ZhCn) => "人脸活体检测",
        (D::EmailLink, Lang::En) => "e-mail link",
        (D::EmailLink, Lang::ZhCn) => "邮箱链接",
    }
}

/// An action-specific floor on top of the risk-level minimum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub action: SensitiveAction,
    pub min_passed: u8,
    /// Dimensions that must be among the passed ones.
    #[serde(default)]
    pub required_dimensions: Vec<VerificationDimension>,
}

/// Passed dimensions needed for any sensitive action on a ticket of each risk level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct RiskMinimums {
    pub none: u8,
    pub l3: u8,
    pub l2: u8,
    pub l1: u8,
}

impl RiskMinimums {
    pub fn for_risk(&self, risk: RiskLevel) -> u8 {
        match risk {
            RiskLevel::None => self.none,
            RiskLevel::L3 => self.l3,
            RiskLevel::L2 => self.l2,
            RiskLevel::L1 => self.l1,
        }
    }
}

impl Default for RiskMinimums {
    fn default() -> Self {
        RiskMinimums {
            none: 2,
            l3: 2,
            l2: 3,
            l1: 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default, deny_unknown_fields)]
pub struct VerificationPolicy {
    pub requirements: Vec<Requirement>,
    pub default_for_risk: RiskMinimums,
}

impl Default for VerificationPolicy {
    fn default() -> Self {
        use VerificationDimension as D;
        let requirement = |action, min_passed, required_dimensions: &[D]| Requirement {
            action,
            min_passed,
            required_dimensions: required_dimensions.to_vec(),
        };
        VerificationPolicy {
            requirements: vec![
                requirement(
                    SensitiveAction::UnfreezeAccount,
                    5,
                    &[D::RealNameInfo, D::IdDocument],
                ),
                requirement(SensitiveAction::PasswordReset, 2, &[D::RealNameInfo]),
                // Changing the phone or e-mail is how takeovers are made permanent.
                requirement(SensitiveAction::ProfileChange, 3, &[D::RealNameInfo]),
                // The seeds call for a second verification on permission changes.
                requirement(SensitiveAction::PermissionChange, 3, &[]),
                requirement(SensitiveAction::BindDevice, 3, &[D::SmsCode]),
            ],
            default_for_risk: RiskMinimums::default(),
        }
    }
}

/// The verdict on whether a sensitive action may proceed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerificationDecision {
    pub action: SensitiveAction,
    pub risk: RiskLevel,
    pub allowed: bool,
    pub passed: BTreeSet<VerificationDimension>,
    /// Dimensions whose latest result is a failure (repeated failures are a risk signal).
    pub failed: BTreeSet<VerificationDimension>,
    pub needed: u8,
    pub missing_required: Vec<VerificationDimension>,
    pub reason: VerificationOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VerificationOutcome {
    Allowed {
        passed: u8,
        needed: u8,
    },
    /// Named dimensions are missing; reported before the count because it says what to check.
    RequiredNotPassed {
        action: SensitiveAction,
        missing: Vec<VerificationDimension>,
    },
    TooFewPassed {
        action: SensitiveAction,
        passed: u8,
        needed: u8,
    },
}

impl VerificationPolicy {
    /// Checks what serde cannot: counts a check can reach, one requirement per action, and
    /// minimums that never fall as the risk level rises. The message says how to fix it.
    pub fn validate(&self) -> Result<(), String> {
        let dimensions = VerificationDimension::ALL.len();
        let reachable = |n: u8| usize::from(n) <= dimensions;
        let m = &self.default_for_risk;
        for (level, n) in [("none", m.none), ("L3", m.l3), ("L2", m.l2), ("L1", m.l1)] {
            if !reachable(n) {
                return Err(format!(
                    "risk level {level} asks for {n} passed checks; there are only {dimensions} \
                     kinds of check"
                ));
            }
        }
        if !(m.none <= m.l3 && m.l3 <= m.l2 && m.l2 <= m.l1) {
            return Err(
                "a higher risk level must not need fewer passed checks than a lower one \
                        (none ≤ L3 ≤ L2 ≤ L1)"
                    .into(),
            );
        }
        let mut seen = Vec::new();
        for requirement in &self.requirements {
            if seen.contains(&requirement.action) {
                return Err(format!(
                    "{} has two requirements; merge them into one",
                    requirement.action.label(Lang::En)
                ));
            }
            seen.push(requirement.action);
            if !reachable(requirement.min_passed) {
                return Err(format!(
                    "{} asks for {} passed checks; there are only {dimensions} kinds of check",
                    requirement.action.label(Lang::En),
                    requirement.min_passed
                ));
            }
            let mut named = requirement.required_dimensions.clone();
            named.sort();
            named.dedup();
            if named.len() != requirement.required_dimensions.len() {
                return Err(format!(
                    "{} names a required check twice",
                    requirement.action.label(Lang::En)
                ));
            }
        }
        Ok(())
    }

    pub fn evaluate(
        &self,
        action: SensitiveAction,
        risk: RiskLevel,
        records: &[VerificationCheck],
    ) -> VerificationDecision {
        let mut latest = BTreeMap::new();
        for check in records {
            if check.result != VerificationResult::NotAvailable {
                latest.insert(check.dimension, check.result);
            }
        }
        let with = |wanted| {
            latest
                .iter()
                .filter(|(_, result)| **result == wanted)
                .map(|(dimension, _)| *dimension)
                .collect::<BTreeSet<_>>()
        };
        let passed = with(VerificationResult::Passed);
        let failed = with(VerificationResult::Failed);

        let mut needed = self.default_for_risk.for_risk(risk);
        let mut required = BTreeSet::new();
        for requirement in self.requirements.iter().filter(|r| r.action == action) {
            needed = needed.max(requirement.min_passed);
            required.extend(requirement.required_dimensions.iter().copied());
        }
        needed = needed.max(count(required.len()));
        let missing_required: Vec<_> = required.difference(&passed).copied().collect();
        let passed_count = count(passed.len());

        let reason = if !missing_required.is_empty() {
            VerificationOutcome::RequiredNotPassed {
                action,
                missing: missing_required.clone(),
            }
        } else if passed_count < needed {
            VerificationOutcome::TooFewPassed {
                action,
                passed: passed_count,
                needed,
            }
        } else {
            VerificationOutcome::Allowed {
                passed: passed_count,
                needed,
            }
        };
        VerificationDecision {
            action,
            risk,
            allowed: matches!(reason, VerificationOutcome::Allowed { .. }),
            passed,
            failed,
            needed,
            missing_required,
            reason,
        }
    }
}

/// There are 8 dimensions, so set sizes always fit.
fn count(n: usize) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

fn dimension_list(dimensions: &[VerificationDimension], lang: Lang) -> String {
    let separator = match lang {
        Lang::En => ", ",
        Lang::ZhCn => "、",
    };
    dimensions
        .iter()
        .map(|d| dimension_label(*d, lang))
        .collect::<Vec<_>>()
        .join(separator)
}

impl VerificationOutcome {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (VerificationOutcome::Allowed { passed, needed }, Lang::En) => {
                format!("Identity verified: {passed} checks passed ({needed} needed).")
            }
            (VerificationOutcome::Allowed { passed, needed }, Lang::ZhCn) => {
                format!("身份核验通过:已通过 {passed} 项(需 {needed} 项)。")
            }
            (VerificationOutcome::RequiredNotPassed { action, missing }, Lang::En) => format!(
                "Before {} you must pass: {}.",
                action.label(lang),
                dimension_list(missing, lang)
            ),
            (VerificationOutcome::RequiredNotPassed { action, missing }, Lang::ZhCn) => format!(
                "{}前必须通过以下核验:{}。",
                action.label(lang),
                dimension_list(missing, lang)
            ),
            (
                VerificationOutcome::TooFewPassed {
                    action,
                    passed,
                    needed,
                },
                Lang::En,
            ) => format!(
                "Only {passed} verification checks passed; {} needs {needed}. Run more checks first.",
                action.label(lang)
            ),
            (
                VerificationOutcome::TooFewPassed {
                    action,
                    passed,
                    needed,
                },
                Lang::ZhCn,
            ) => format!(
                "仅通过 {passed} 项身份核验,{}需要 {needed} 项,请先完成更多核验。",
                action.label(lang)
            ),
        }
    }
}

impl fmt::Display for VerificationOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use VerificationDimension as D;
    use VerificationResult as R;

    fn check(dimension: D, result: R) -> VerificationCheck {
        VerificationCheck {
            dimension,
            result,
            method: "call-back on registered number".to_owned(),
        }
    }

    fn passes(dimensions: &[D]) -> Vec<VerificationCheck> {
        dimensions.iter().map(|d| check(*d, R::Passed)).collect()
    }

    const FIVE: [D; 5] = [
        D::SmsCode,
        D::RealNameInfo,
        D::UsualDevice,
        D::TransactionHabits,
        D::TransactionPassword,
    ];

    #[test]
    fn l1_freeze_needs_five_passed_dimensions() {
        let policy = VerificationPolicy::default();
        let four = policy.evaluate(
            SensitiveAction::FreezeAccount,
            RiskLevel::L1,
            &passes(&FIVE[..4]),
        );
        assert!(!four.allowed);
        assert_eq!(four.needed, 5);
        assert_eq!(
            four.reason,
            VerificationOutcome::TooFewPassed {
                action: SensitiveAction::FreezeAccount,
                passed: 4,
                needed: 5
            }
        );
        assert_eq!(
            four.reason.to_string(),
            "Only 4 verification checks passed; freezing the account needs 5. Run more checks first."
        );
        assert_eq!(
            four.reason.message(Lang::ZhCn),
            "仅通过 4 项身份核验,冻结账户需要 5 项,请先完成更多核验。"
        );
        let five = policy.evaluate(
            SensitiveAction::FreezeAccount,
            RiskLevel::L1,
            &passes(&FIVE),
        );
        assert!(five.allowed);
        assert_eq!(five.passed.len(), 5);
        for action in [
            SensitiveAction::InterceptTransaction,
            SensitiveAction::FreezeAccount,
        ] {
            assert!(
                !policy
                    .evaluate(action, RiskLevel::L1, &passes(&FIVE[..4]))
                    .allowed
            );
            assert!(
                policy
                    .evaluate(action, RiskLevel::L1, &passes(&FIVE))
                    .allowed
            );
        }
    }

    #[test]
    fn lower_risk_needs_fewer() {
        let policy = VerificationPolicy::default();
        let two = passes(&FIVE[..2]);
        let three = passes(&FIVE[..3]);
        let freeze = SensitiveAction::FreezeAccount;
        assert!(policy.evaluate(freeze, RiskLevel::L3, &two).allowed);
        assert!(policy.evaluate(freeze, RiskLevel::None, &two).allowed);
        assert!(!policy.evaluate(freeze, RiskLevel::L2, &two).allowed);
        assert!(policy.evaluate(freeze, RiskLevel::L2, &three).allowed);
        assert!(
            !policy
                .evaluate(freeze, RiskLevel::None, &passes(&FIVE[..1]))
                .allowed
        );
    }

    #[test]
    fn duplicates_count_once() {
        let policy = VerificationPolicy::default();
        let mut records = passes(&FIVE[..4]);
        records.extend(passes(&FIVE[..4]));
        let decision = policy.evaluate(SensitiveAction::FreezeAccount, RiskLevel::L1, &records);
        assert_eq!(decision.passed.len(), 4);
        assert!(!decision.allowed);
    }

    #[test]
    fn latest_result_wins_and_not_available_changes_nothing() {
        let policy = VerificationPolicy::default();
        let mut records = passes(&FIVE);
        records.push(check(D::SmsCode, R::Failed));
        let decision = policy.evaluate(SensitiveAction::FreezeAccount, RiskLevel::L1, &records);
        assert!(!decision.allowed);
        assert_eq!(decision.failed, BTreeSet::from([D::SmsCode]));
        // A retry that passes counts again.
        records.push(check(D::SmsCode, R::Passed));
        assert!(
            policy
                .evaluate(SensitiveAction::FreezeAccount, RiskLevel::L1, &records)
                .allowed
        );
        records.push(check(D::SmsCode, R::NotAvailable));
        records.push(check(D::FaceLiveness, R::NotAvailable));
        let decision = policy.evaluate(SensitiveAction::FreezeAccount, RiskLevel::L1, &records);
        assert!(decision.allowed);
        assert!(decision.failed.is_empty());
        assert_eq!(decision.passed.len(), 5);
    }

    #[test]
    fn unfreeze_requires_named_dimensions() {
        let policy = VerificationPolicy::default();
        let unfreeze = SensitiveAction::UnfreezeAccount;
        // Five passes but no ID document.
        let decision = policy.evaluate(unfreeze, RiskLevel::None, &passes(&FIVE));
        assert!(!decision.allowed);
        assert_eq!(decision.missing_required, [D::IdDocument]);
        assert_eq!(
            decision.reason.to_string(),
            "Before unfreezing the account you must pass: ID document."
        );
        assert_eq!(
            decision.reason.message(Lang::ZhCn),
            "解冻账户前必须通过以下核验:身份证件。"
        );
        let mut records = passes(&FIVE);
        records.push(check(D::IdDocument, R::Passed));
        assert!(policy.evaluate(unfreeze, RiskLevel::None, &records).allowed);
        // The ID document alone with the real-name info is not enough.
        let decision = policy.evaluate(
            unfreeze,
            RiskLevel::None,
            &passes(&[D::IdDocument, D::RealNameInfo]),
        );
        assert_eq!(decision.needed, 5);
        assert!(matches!(
            decision.reason,
            VerificationOutcome::TooFewPassed { passed: 2, .. }
        ));
    }

    #[test]
    fn requirement_count_raises_needed() {
        let policy = VerificationPolicy {
            requirements: vec![Requirement {
                action: SensitiveAction::BindDevice,
                min_passed: 0,
                required_dimensions: vec![D::SmsCode, D::EmailLink, D::UsualDevice],
            }],
            default_for_risk: RiskMinimums {
                none: 0,
                l3: 0,
                l2: 0,
                l1: 0,
            },
        };
        let decision = policy.evaluate(SensitiveAction::BindDevice, RiskLevel::None, &[]);
        assert_eq!(decision.needed, 3);
        assert!(!decision.allowed);
        // No requirement and no minimum: nothing to check.
        assert!(
            policy
                .evaluate(SensitiveAction::PasswordReset, RiskLevel::None, &[])
                .allowed
        );
    }

    #[test]
    fn policy_round_trips_and_rejects_unknown_fields() {
        let policy = VerificationPolicy::default();
        let json = serde_json::to_string(&policy).expect("serialises");
        assert_eq!(
            serde_json::from_str::<VerificationPolicy>(&json).expect("deserialises"),
            policy
        );
        assert!(serde_json::from_str::<VerificationPolicy>(
            r#"{"requirements": [{"action": "launch_rockets", "min_passed": 1}]}"#
        )
        .is_err());
    }

    fn arb_check() -> impl Strategy<Value = VerificationCheck> {
        (
            proptest::sample::select(D::ALL.to_vec()),
            proptest::sample::select(R::ALL.to_vec()),
        )
            .prop_map(|(d, r)| check(d, r))
    }

    proptest! {
        #[test]
        fn allowed_exactly_when_enough_latest_passes(
            records in proptest::collection::vec(arb_check(), 0..20),
            action in proptest::sample::select(SensitiveAction::ALL.to_vec()),
            risk in proptest::sample::select(RiskLevel::ALL.to_vec()),
        ) {
            let decision = VerificationPolicy::default().evaluate(action, risk, &records);
            prop_assert_eq!(
                decision.allowed,
                decision.passed.len() >= usize::from(decision.needed) && decision.missing_required.is_empty()
            );
            prop_assert!(decision.passed.is_disjoint(&decision.failed));
            prop_assert!(decision.needed >= VerificationPolicy::default().default_for_risk.for_risk(risk));
            for d in &decision.passed {
                let last = records.iter().rev().find(|c| c.dimension == *d && c.result != R::NotAvailable);
                prop_assert_eq!(last.map(|c| c.result), Some(R::Passed));
            }
        }
    }
}
