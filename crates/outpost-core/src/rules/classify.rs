//! Declarative classification: keywords, customer tier, channel and business type decide a
//! ticket's category, priority, risk level, department, tags and suggested templates.
//!
//! Rules are data (loaded from TOML/JSON by the server), evaluated in order:
//! - category and department: the first matching rule that sets one wins, so specific rules go
//!   before general ones;
//! - priority and risk: the most severe value among all matching rules wins, so a late
//!   "complaint" rule can still raise an early "login" match to P2;
//! - tags and templates accumulate (templates keep first-match order, without duplicates);
//! - `bump_priority` raises the final priority by that many levels towards P1 (bumps do not
//!   stack: the largest one applies), which is how "VIP customers get one level more" is said;
//! - a matching rule with `stop = true` ends evaluation.
//!
//! Keywords match case-insensitively on subject and description after full-width → half-width
//! folding. A keyword whose edge is an ASCII letter or digit must sit on a word boundary there
//! ("fault" does not match "default"); a trailing `*` lifts the boundary at the end ("refund*"
//! matches "refunded"). Chinese has no word boundaries and matches as a plain substring.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::Lang;
use crate::model::{Category, Channel, CustomerTier, DepartmentCode, Priority, RiskLevel};

/// An ordered list of classification rules.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub rules: Vec<ClassificationRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ClassificationRule {
    /// Stable name, reported in `Classification::matched_rules`.
    pub name: String,
    pub when: Condition,
    pub then: Actions,
    #[serde(default, skip_serializing_if = "is_false")]
    pub stop: bool,
}

/// When a rule applies. On the wire: `{"keywords_any": ["盗号", "hacked"]}`, `"always"`,
/// `{"all": [...]}`, `{"not": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    Always,
    /// At least one keyword occurs in the subject or description.
    KeywordsAny(Vec<String>),
    /// Every keyword occurs in the subject or description.
    KeywordsAll(Vec<String>),
    TierIn(Vec<CustomerTier>),
    ChannelIn(Vec<Channel>),
    /// Business type supplied by intake ("payment", "saas", "kyc"), compared case-insensitively.
    /// A ticket without a business type matches no set.
    BusinessTypeIn(Vec<String>),
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
}

/// What a matching rule contributes. Every field is optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default, deny_unknown_fields)]
pub struct Actions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentCode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Names of reply templates to suggest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<String>,
    /// Levels to raise the final priority by (towards P1).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub bump_priority: u8,
}

impl Actions {
    fn is_empty(&self) -> bool {
        self == &Actions::default()
    }
}

/// The ticket facts classification looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassifyInput<'a> {
    pub subject: &'a str,
    pub description: &'a str,
    pub tier: CustomerTier,
    pub channel: Channel,
    pub business_type: Option<&'a str>,
}

/// The result of classification; `None` fields were set by no rule and are the caller's to
/// default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Classification {
    pub category: Option<Category>,
    /// Already includes `priority_bump` when some rule set a priority.
    pub priority: Option<Priority>,
    pub risk: Option<RiskLevel>,
    pub department: Option<DepartmentCode>,
    pub tags: BTreeSet<String>,
    pub templates: Vec<String>,
    /// Names of the rules that matched, in evaluation order.
    pub matched_rules: Vec<String>,
    /// Levels of priority bump that applied (0 when none).
    pub priority_bump: u8,
}

impl Classification {
    /// The priority to give the ticket: the classified one, or `default` raised by the bump (a
    /// VIP inquiry that no rule prioritised still gets its extra level).
    pub fn priority_or(&self, default: Priority) -> Priority {
        self.priority
            .unwrap_or_else(|| bump_priority(default, self.priority_bump))
    }
}

/// Raises `priority` by `levels` towards P1, stopping at P1.
pub fn bump_priority(priority: Priority, levels: u8) -> Priority {
    let index = Priority::ALL
        .iter()
        .position(|p| *p == priority)
        .unwrap_or(0);
    Priority::ALL[index.saturating_sub(usize::from(levels))]
}

impl RuleSet {
    pub fn classify(&self, input: &ClassifyInput<'_>) -> Classification {
        let facts = Facts::new(input);
        let mut out = Classification::default();
        let mut bump = 0u8;
        for rule in &self.rules {
            if !rule.when.matches(&facts) {
                continue;
            }
            out.matched_rules.push(rule.name.clone());
            let then = &rule.then;
            if out.category.is_none() {
                out.category.clone_from(&then.category);
            }
            // P1 < P4, so the most urgent priority is the minimum.
            out.priority = out.priority.into_iter().chain(then.priority).min();
            // `None < Some(_)` and `RiskLevel::None < L3 < L2 < L1`: the most severe is the max.
            out.risk = out.risk.max(then.risk);
            if out.department.is_none() {
                out.department.clone_from(&then.department);
            }
            out.tags.extend(then.tags.iter().cloned());
            for template in &then.templates {
                if !out.templates.contains(template) {
                    out.templates.push(template.clone());
                }
            }
            bump = bump.max(then.bump_priority);
            if rule.stop {
                break;
            }
        }
        out.priority_bump = bump;
        out.priority = out.priority.map(|p| bump_priority(p, bump));
        out
    }

    /// Checks what serde cannot: empty lists, blank strings, duplicate names, rules that do
    /// nothing. Returns every problem found, in rule order.
    pub fn validate(&self) -> Result<(), Vec<RuleSetError>> {
        let mut errors = Vec::new();
        let mut names = BTreeSet::new();
        for (index, rule) in self.rules.iter().enumerate() {
            if rule.name.trim().is_empty() {
                errors.push(RuleSetError::UnnamedRule { index });
            } else if !names.insert(rule.name.as_str()) {
                errors.push(RuleSetError::DuplicateName {
                    name: rule.name.clone(),
                });
            }
            let name = || rule.name.clone();
            rule.when.validate(&name, &mut errors);
            let then = &rule.then;
            if then.is_empty() && !rule.stop {
                errors.push(RuleSetError::NoEffect { rule: name() });
            }
            if then.bump_priority > 3 {
                errors.push(RuleSetError::BumpTooLarge {
                    rule: name(),
                    by: then.bump_priority,
                });
            }
            let blank_department = then.department.as_deref().is_some_and(is_blank);
            if blank_department {
                errors.push(RuleSetError::BlankValue {
                    rule: name(),
                    field: Field::Department,
                });
            }
            if then.tags.iter().any(|t| is_blank(t)) {
                errors.push(RuleSetError::BlankValue {
                    rule: name(),
                    field: Field::Tags,
                });
            }
            if then.templates.iter().any(|t| is_blank(t)) {
                errors.push(RuleSetError::BlankValue {
                    rule: name(),
                    field: Field::Templates,
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl Condition {
    fn matches(&self, facts: &Facts) -> bool {
        match self {
            Condition::Always => true,
            Condition::KeywordsAny(words) => words.iter().any(|w| contains_keyword(&facts.text, w)),
            Condition::KeywordsAll(words) => words.iter().all(|w| contains_keyword(&facts.text, w)),
            Condition::TierIn(tiers) => tiers.contains(&facts.tier),
            Condition::ChannelIn(channels) => channels.contains(&facts.channel),
            Condition::BusinessTypeIn(types) => facts
                .business_type
                .as_deref()
                .is_some_and(|b| types.iter().any(|t| t.trim().to_lowercase() == b)),
            Condition::All(conditions) => conditions.iter().all(|c| c.matches(facts)),
            Condition::Any(conditions) => conditions.iter().any(|c| c.matches(facts)),
            Condition::Not(condition) => !condition.matches(facts),
        }
    }

    fn validate(&self, rule: &dyn Fn() -> String, errors: &mut Vec<RuleSetError>) {
        let empty = |field, errors: &mut Vec<RuleSetError>| {
            errors.push(RuleSetError::EmptyList {
                rule: rule(),
                field,
            });
        };
        match self {
            Condition::Always => {}
            Condition::KeywordsAny(words) | Condition::KeywordsAll(words) => {
                if words.is_empty() {
                    empty(Field::Keywords, errors);
                }
                // "*" alone would match everything.
                if words.iter().any(|w| is_blank(w.trim_end_matches('*'))) {
                    errors.push(RuleSetError::BlankValue {
                        rule: rule(),
                        field: Field::Keywords,
                    });
                }
            }
            Condition::TierIn(tiers) if tiers.is_empty() => empty(Field::Tiers, errors),
            Condition::ChannelIn(channels) if channels.is_empty() => empty(Field::Channels, errors),
            Condition::BusinessTypeIn(types) => {
                if types.is_empty() {
                    empty(Field::BusinessTypes, errors);
                }
                if types.iter().any(|t| is_blank(t)) {
                    errors.push(RuleSetError::BlankValue {
                        rule: rule(),
                        field: Field::BusinessTypes,
                    });
                }
            }
            Condition::TierIn(_) | Condition::ChannelIn(_) => {}
            Condition::All(conditions) | Condition::Any(conditions) => {
                if conditions.is_empty() {
                    empty(Field::Conditions, errors);
                }
                for condition in conditions {
                    condition.validate(rule, errors);
                }
            }
            Condition::Not(condition) => condition.validate(rule, errors),
        }
    }
}

/// The input, normalised once per classification.
struct Facts {
    text: String,
    tier: CustomerTier,
    channel: Channel,
    business_type: Option<String>,
}

impl Facts {
    fn new(input: &ClassifyInput<'_>) -> Facts {
        // A newline keeps a keyword from matching across the subject/description seam.
        let text = format!(
            "{}\n{}",
            normalise(input.subject),
            normalise(input.description)
        );
        Facts {
            text,
            tier: input.tier,
            channel: input.channel,
            business_type: input.business_type.map(|b| b.trim().to_lowercase()),
        }
    }
}

/// Folds full-width ASCII to half-width, lower-cases, and collapses whitespace to one space.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        let c = match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{2018}' | '\u{2019}' => '\'',
            _ => c,
        };
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// Whether `keyword` occurs in the already-normalised `text` (see the module docs).
fn contains_keyword(text: &str, keyword: &str) -> bool {
    let keyword = normalise(keyword);
    let (needle, open_end) = match keyword.strip_suffix('*') {
        Some(stem) => (stem.trim_end(), true),
        None => (keyword.as_str(), false),
    };
    let (Some(first), Some(last)) = (needle.chars().next(), needle.chars().next_back()) else {
        return false;
    };
    let mut from = 0;
    while let Some(offset) = text[from..].find(needle) {
        let start = from + offset;
        let end = start + needle.len();
        let left_ok = !is_word(first) || !text[..start].chars().next_back().is_some_and(is_word);
        let right_ok =
            open_end || !is_word(last) || !text[end..].chars().next().is_some_and(is_word);
        if left_ok && right_ok {
            return true;
        }
        from = start + first.len_utf8();
    }
    false
}

fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_false(b: &bool) -> bool {
    !*b
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero(n: &u8) -> bool {
    *n == 0
}

/// The part of a rule a validation problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Keywords,
    Tiers,
    Channels,
    BusinessTypes,
    Conditions,
    Department,
    Tags,
    Templates,
}

impl Field {
    fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Field::Keywords, Lang::En) => "keyword",
            (Field::Keywords, Lang::ZhCn) => "关键词",
            (Field::Tiers, Lang::En) => "customer tier",
            (Field::Tiers, Lang::ZhCn) => "客户等级",
            (Field::Channels, Lang::En) => "channel",
            (Field::Channels, Lang::ZhCn) => "渠道",
            (Field::BusinessTypes, Lang::En) => "business type",
            (Field::BusinessTypes, Lang::ZhCn) => "业务类型",
            (Field::Conditions, Lang::En) => "condition",
            (Field::Conditions, Lang::ZhCn) => "条件",
            (Field::Department, Lang::En) => "department",
            (Field::Department, Lang::ZhCn) => "部门",
            (Field::Tags, Lang::En) => "tag",
            (Field::Tags, Lang::ZhCn) => "标签",
            (Field::Templates, Lang::En) => "template",
            (Field::Templates, Lang::ZhCn) => "模板",
        }
    }
}

/// A problem in a rule set, for whoever edits the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSetError {
    UnnamedRule {
        index: usize,
    },
    DuplicateName {
        name: String,
    },
    EmptyList {
        rule: String,
        field: Field,
    },
    BlankValue {
        rule: String,
        field: Field,
    },
    /// The rule sets nothing and does not stop evaluation.
    NoEffect {
        rule: String,
    },
    BumpTooLarge {
        rule: String,
        by: u8,
    },
}

impl RuleSetError {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (RuleSetError::UnnamedRule { index }, Lang::En) => {
                format!("Rule #{} has no name. Give it a unique name.", index + 1)
            }
            (RuleSetError::UnnamedRule { index }, Lang::ZhCn) => {
                format!("第 {} 条规则没有名称,请为其设置唯一名称。", index + 1)
            }
            (RuleSetError::DuplicateName { name }, Lang::En) => {
                format!("More than one rule is named \"{name}\". Rename one of them.")
            }
            (RuleSetError::DuplicateName { name }, Lang::ZhCn) => {
                format!("有多条规则名为“{name}”,请重命名其中一条。")
            }
            (RuleSetError::EmptyList { rule, field }, Lang::En) => format!(
                "Rule \"{rule}\" has an empty {} list. Add at least one entry or remove the condition.",
                field.label(lang)
            ),
            (RuleSetError::EmptyList { rule, field }, Lang::ZhCn) => format!(
                "规则“{rule}”的{}列表为空,请至少添加一项或删除该条件。",
                field.label(lang)
            ),
            (RuleSetError::BlankValue { rule, field }, Lang::En) => format!(
                "Rule \"{rule}\" has a blank {}. Fill it in or remove it.",
                field.label(lang)
            ),
            (RuleSetError::BlankValue { rule, field }, Lang::ZhCn) => {
                format!("规则“{rule}”中有空白的{},请填写或删除。", field.label(lang))
            }
            (RuleSetError::NoEffect { rule }, Lang::En) => format!(
                "Rule \"{rule}\" sets nothing and does not stop evaluation. Give it an action."
            ),
            (RuleSetError::NoEffect { rule }, Lang::ZhCn) => {
                format!("规则“{rule}”既不设置任何字段也不终止匹配,请为其添加动作。")
            }
            (RuleSetError::BumpTooLarge { rule, by }, Lang::En) => format!(
                "Rule \"{rule}\" raises priority by {by} levels; there are only 4 priorities, so use 1 to 3."
            ),
            (RuleSetError::BumpTooLarge { rule, by }, Lang::ZhCn) => {
                format!("规则“{rule}”将优先级提升 {by} 级;优先级只有 4 级,请使用 1 到 3。")
            }
        }
    }
}

impl fmt::Display for RuleSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for RuleSetError {}

const SUPPORT: &str = "support";
const FINANCE: &str = "finance";
const TECH: &str = "tech";
const RISK: &str = "risk";

fn keywords(words: &[&str]) -> Condition {
    Condition::KeywordsAny(words.iter().map(|w| (*w).to_owned()).collect())
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// A rule that files the ticket under `category` with `priority` in `department`.
fn files(
    name: &str,
    category: Category,
    priority: Priority,
    department: &str,
    when: Condition,
) -> ClassificationRule {
    ClassificationRule {
        name: name.to_owned(),
        when,
        then: Actions {
            category: Some(category),
            priority: Some(priority),
            department: Some(department.to_owned()),
            ..Actions::default()
        },
        stop: false,
    }
}

impl ClassificationRule {
    fn risk(mut self, risk: RiskLevel) -> Self {
        self.then.risk = Some(risk);
        self
    }

    fn tags(mut self, tags: &[&str]) -> Self {
        self.then.tags = strings(tags);
        self
    }

    fn templates(mut self, templates: &[&str]) -> Self {
        self.then.templates = strings(templates);
        self
    }
}

impl RuleSet {
    /// Rules distilled from the seed documents. Order matters for category and department:
    /// security first, then specific account problems, then general categories, so "登录后发现
    /// 账户被盗" is a takeover and "登录时收不到验证码" a verification-code problem. A complaint
    /// about a concrete problem keeps the problem's category and gets P2 plus the `complaint` tag.
    // One line per rule head and keyword group reads better than rustfmt's one keyword per line.
    #[rustfmt::skip]
    pub fn defaults() -> RuleSet {
        use Category as C;
        use Priority::{P1, P2, P3, P4};
        use RiskLevel::{L1, L2, L3};
        let vip = ClassificationRule {
            name: "vip_priority_bump".to_owned(),
            when: Condition::TierIn(vec![CustomerTier::Vip]),
            then: Actions { tags: strings(&["vip"]), bump_priority: 1, ..Actions::default() },
            stop: false,
        };
        let rules = vec![
            vip,
            files("account_takeover", C::ACCOUNT_TAKEOVER, P1, RISK, keywords(&[
                "盗号", "被盗", "盗刷", "盗登", "被黑", "账号被人登录", "账户被他人",
                "account hacked", "hacked", "takeover", "take over", "taken over", "compromised",
                "stolen account", "unauthorized login", "unauthorised login",
                "someone else logged in",
            ]))
            .risk(L1).tags(&["security"]).templates(&["account_takeover_emergency"]),
            files("large_abnormal_transaction", C::SECURITY_ALERT, P1, RISK, Condition::Any(vec![
                keywords(&[
                    "异常交易", "可疑交易", "异常转账", "异常扣款", "不明扣款",
                    "abnormal transaction*", "suspicious transaction*", "unusual transaction*",
                    "unauthorized transaction*", "unauthorised transaction*", "fraudulent",
                ]),
                Condition::All(vec![
                    keywords(&["大额", "large", "big"]),
                    keywords(&[
                        "异常", "可疑", "陌生", "不明",
                        "abnormal", "suspicious", "unusual", "unknown", "unauthorized",
                        "unauthorised",
                    ]),
                ]),
            ]))
            .risk(L1).tags(&["security", "abnormal_transaction"]),
            files("security_alert", C::SECURITY_ALERT, P2, RISK, keywords(&[
                "异地登录", "陌生设备", "钓鱼", "诈骗", "信息泄露", "安全提醒",
                "phishing", "scam", "unknown device", "suspicious login", "security alert",
                "data leak",
            ]))
            .risk(L2).tags(&["security"]),
            files("system_outage", C::TECHNICAL_FAULT, P1, TECH, keywords(&[
                "宕机", "瘫痪", "系统崩溃", "全部无法", "大面积", "服务不可用",
                "outage", "system down", "service down", "is down", "down for everyone",
                "service unavailable",
            ]))
            .tags(&["outage"]),
            files("major_complaint", C::COMPLAINT, P1, SUPPORT, keywords(&[
                "重大投诉", "集体投诉", "批量投诉", "监管投诉", "媒体曝光", "起诉",
                "major complaint", "formal complaint", "regulator", "legal action", "lawyer",
                "class action",
            ]))
            .tags(&["complaint", "escalation"]).templates(&["complaint_acknowledgement"]),
            files("verification_code_not_received", C::VERIFICATION_CODE_NOT_RECEIVED, P3, SUPPORT, keywords(&[
                "验证码", "短信码", "动态码", "校验码", "收不到短信",
                "verification code", "sms code", "otp", "one-time code", "one time password",
                "2fa code", "security code",
            ]))
            .templates(&["verification_code_troubleshooting"]),
            files("password_reset", C::PASSWORD_RESET, P3, SUPPORT, keywords(&[
                "忘记密码", "重置密码", "找回密码", "密码错误", "修改密码",
                "forgot password", "forgot my password", "reset password", "reset my password",
                "password reset", "wrong password",
            ]))
            .templates(&["password_reset_guide"]),
            files("activation_failure", C::ACTIVATION_FAILURE, P3, SUPPORT, keywords(&[
                "激活", "激活邮件", "未激活",
                "activation*", "activate", "not activated",
            ])),
            files("account_restricted", C::ACCOUNT_RESTRICTED, P2, RISK, keywords(&[
                "冻结", "受限", "被限制", "封号", "封禁", "被封", "限制交易",
                "restricted", "restriction*", "frozen", "suspended", "account locked",
                "account blocked", "account limited", "limitation",
            ]))
            .risk(L3).templates(&["account_restricted_appeal"]),
            files("login_anomaly", C::LOGIN_ANOMALY, P3, SUPPORT, keywords(&[
                "登录", "登陆", "登不上", "无法登录", "登录异常",
                "login", "log in", "log-in", "logging in", "sign in", "signin", "sign-in",
                "logged out",
            ]))
            .templates(&["login_troubleshooting"]),
            files("transaction_failure", C::TRANSACTION_FAILURE, P3, SUPPORT, keywords(&[
                "支付失败", "交易失败", "付款失败", "扣款失败", "转账失败", "无法支付",
                "payment failed", "transaction failed", "transfer failed", "payment declined",
                "card declined", "charge failed", "can't pay", "cannot pay",
            ])),
            files("funds_not_arrived", C::FUNDS_NOT_ARRIVED, P3, FINANCE, keywords(&[
                "到账", "没收到钱", "没收到款", "退款", "提现", "钱没到",
                "not arrived", "hasn't arrived", "has not arrived", "not credited", "refund*",
                "withdrawal*", "payout*", "missing payment", "money not received",
                "payment not received",
            ]))
            .tags(&["funds"]).templates(&["funds_not_arrived_status"]),
            files("reconciliation_mismatch", C::RECONCILIATION_MISMATCH, P3, FINANCE, keywords(&[
                "对账", "账单不符", "金额不符", "金额不一致", "差额", "账目",
                "reconciliation", "reconcile*", "mismatch*", "discrepanc*",
                "statement doesn't match", "amount doesn't match",
            ]))
            .tags(&["funds"]),
            files("kyc_review", C::KYC_REVIEW, P3, RISK, keywords(&[
                "开户", "审核", "实名认证", "身份认证", "营业执照", "企业认证", "资料补正",
                "kyc", "account opening", "open an account", "onboarding",
                "identity verification", "business verification", "verification pending",
            ]))
            .tags(&["kyc"]).templates(&["kyc_documents_checklist"]),
            files("permission_change", C::PERMISSION_CHANGE, P3, SUPPORT, keywords(&[
                "权限", "子账户", "子账号", "管理员", "角色",
                "permission*", "access right*", "user role*", "admin access", "sub-account*",
                "subaccount*",
            ])),
            files("profile_change", C::PROFILE_CHANGE, P3, SUPPORT, keywords(&[
                "修改资料", "修改手机", "更换手机", "换绑", "修改邮箱", "更改信息", "修改信息",
                "修改地址",
                "change my phone", "change phone number", "update my email", "change email",
                "change my email", "update my details", "profile", "change address",
            ])),
            files("complaint", C::COMPLAINT, P2, SUPPORT, keywords(&[
                "投诉", "不满", "差评", "态度差", "太差",
                "complaint", "complain*", "dissatisfied", "unacceptable", "terrible service",
                "poor service",
            ]))
            .tags(&["complaint"]).templates(&["complaint_acknowledgement"]),
            files("technical_fault", C::TECHNICAL_FAULT, P3, TECH, keywords(&[
                "故障", "报错", "系统错误", "闪退", "崩溃", "打不开", "白屏",
                "bug", "error", "crash*", "not working", "broken", "internal server error",
                "error 500", "500 error", "502 bad gateway",
            ]))
            .tags(&["fault"]),
            files("feature_request", C::FEATURE_REQUEST, P4, SUPPORT, keywords(&[
                "建议", "希望增加", "希望能", "新功能", "功能需求", "优化建议",
                "suggestion*", "feature request*", "feature", "would be nice", "please add",
                "enhancement",
            ]))
            .templates(&["feature_request_thanks"]),
            files("kyc_business_type", C::KYC_REVIEW, P3, RISK,
                Condition::BusinessTypeIn(strings(&["kyc", "account_opening"])))
            .tags(&["kyc"]),
            files("inquiry", C::INQUIRY, P3, SUPPORT, keywords(&[
                "咨询", "请问", "如何", "怎么", "是否",
                "question", "how do i", "how to", "inquiry", "enquiry", "wondering",
            ])),
        ];
        RuleSet { rules }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input<'a>(subject: &'a str, description: &'a str) -> ClassifyInput<'a> {
        ClassifyInput {
            subject,
            description,
            tier: CustomerTier::Standard,
            channel: Channel::Email,
            business_type: None,
        }
    }

    #[test]
    fn defaults_validate() {
        assert_eq!(RuleSet::defaults().validate(), Ok(()));
        assert!(RuleSet::defaults().rules.len() >= 15);
    }

    type Case = (
        &'static str,
        &'static str,
        Category,
        Priority,
        Option<RiskLevel>,
        &'static str,
    );

    #[rustfmt::skip]
    const REALISTIC: &[Case] = {
        use Category as C;
        use Priority::*;
        use RiskLevel::{L1, L3};
        &[
            ("我的账号被盗了", "今天早上发现有人登录了我的账户并转走了钱", C::ACCOUNT_TAKEOVER, P1, Some(L1), RISK),
            ("Account hacked", "Someone changed my email and I can't log in", C::ACCOUNT_TAKEOVER, P1, Some(L1), RISK),
            ("发现一笔大额异常交易", "凌晨有一笔5万元的转账不是我操作的", C::SECURITY_ALERT, P1, Some(L1), RISK),
            ("Suspicious transactions on my wallet", "", C::SECURITY_ALERT, P1, Some(L1), RISK),
            ("无法登录", "输入密码后一直转圈", C::LOGIN_ANOMALY, P3, None, SUPPORT),
            ("Can't LOGIN since yesterday", "The page just reloads.", C::LOGIN_ANOMALY, P3, None, SUPPORT),
            ("收不到验证码", "登录时短信验证码一直收不到", C::VERIFICATION_CODE_NOT_RECEIVED, P3, None, SUPPORT),
            ("Verification code never arrives", "I try to sign in but no SMS", C::VERIFICATION_CODE_NOT_RECEIVED, P3, None, SUPPORT),
            ("提现三天还没到账", "", C::FUNDS_NOT_ARRIVED, P3, None, FINANCE),
            ("Refund not arrived", "My refund from last week is missing", C::FUNDS_NOT_ARRIVED, P3, None, FINANCE),
            ("月度对账金额不符", "系统报表与银行流水差额200元", C::RECONCILIATION_MISMATCH, P3, None, FINANCE),
            ("Reconciliation mismatch in March statement", "", C::RECONCILIATION_MISMATCH, P3, None, FINANCE),
            ("账户被冻结了", "为什么我的账户受限无法收款", C::ACCOUNT_RESTRICTED, P2, Some(L3), RISK),
            ("My account is restricted", "", C::ACCOUNT_RESTRICTED, P2, Some(L3), RISK),
            ("企业开户审核进度", "营业执照已上传一周了", C::KYC_REVIEW, P3, None, RISK),
            ("KYC still pending", "Uploaded my passport", C::KYC_REVIEW, P3, None, RISK),
            ("给财务同事开通权限", "需要查看账单的权限", C::PERMISSION_CHANGE, P3, None, SUPPORT),
            ("Need permissions for a sub-account", "", C::PERMISSION_CHANGE, P3, None, SUPPORT),
            ("投诉客服态度", "上次客服态度很差", C::COMPLAINT, P2, None, SUPPORT),
            ("Formal complaint", "I will contact the regulator", C::COMPLAINT, P1, None, SUPPORT),
            ("系统宕机", "所有商户都无法收款", C::TECHNICAL_FAULT, P1, None, TECH),
            ("Dashboard outage", "", C::TECHNICAL_FAULT, P1, None, TECH),
            ("App 闪退", "打开就崩溃", C::TECHNICAL_FAULT, P3, None, TECH),
            ("Getting error 500 on export", "", C::TECHNICAL_FAULT, P3, None, TECH),
            ("建议增加夜间模式", "", C::FEATURE_REQUEST, P4, None, SUPPORT),
            ("Feature request: dark mode", "Would be nice to have", C::FEATURE_REQUEST, P4, None, SUPPORT),
            ("忘记密码怎么办", "", C::PASSWORD_RESET, P3, None, SUPPORT),
            ("激活邮件没收到", "", C::ACTIVATION_FAILURE, P3, None, SUPPORT),
            ("请问手续费怎么算", "", C::INQUIRY, P3, None, SUPPORT),
            // Mixed language, and full-width Latin letters.
            ("ＬＯＧＩＮ 失败", "", C::LOGIN_ANOMALY, P3, None, SUPPORT),
            ("Refund 退款还没到", "", C::FUNDS_NOT_ARRIVED, P3, None, FINANCE),
            ("登录后发现 account hacked", "", C::ACCOUNT_TAKEOVER, P1, Some(L1), RISK),
            ("投诉:提现一周未到账", "", C::FUNDS_NOT_ARRIVED, P2, None, FINANCE),
        ]
    };

    #[test]
    fn defaults_classify_realistic_tickets() {
        let rules = RuleSet::defaults();
        for (subject, description, category, priority, risk, department) in REALISTIC {
            let c = rules.classify(&input(subject, description));
            let what = format!("{subject} / {description}: {c:?}");
            assert_eq!(c.category.as_ref(), Some(category), "{what}");
            assert_eq!(c.priority, Some(*priority), "{what}");
            assert_eq!(c.risk, *risk, "{what}");
            assert_eq!(c.department.as_deref(), Some(*department), "{what}");
        }
    }

    #[test]
    fn explains_what_matched_and_accumulates_tags_and_templates() {
        let c = RuleSet::defaults().classify(&input("投诉:提现一周未到账", ""));
        assert_eq!(c.matched_rules, ["funds_not_arrived", "complaint"]);
        assert_eq!(
            c.tags,
            BTreeSet::from(["complaint".to_owned(), "funds".to_owned()])
        );
        assert_eq!(
            c.templates,
            ["funds_not_arrived_status", "complaint_acknowledgement"]
        );
    }

    #[test]
    fn nothing_matches_leaves_fields_unset() {
        let c = RuleSet::defaults().classify(&input("hello", "xyz"));
        assert_eq!(c, Classification::default());
        assert_eq!(c.priority_or(Priority::P3), Priority::P3);
    }

    #[test]
    fn vip_bumps_priority_one_level() {
        let rules = RuleSet::defaults();
        let mut vip = input("无法登录", "");
        vip.tier = CustomerTier::Vip;
        let c = rules.classify(&vip);
        assert_eq!(c.priority, Some(Priority::P2));
        assert_eq!(c.priority_bump, 1);
        assert!(c.tags.contains("vip"));
        // P1 stays P1.
        let mut vip_takeover = input("账号被盗", "");
        vip_takeover.tier = CustomerTier::Vip;
        assert_eq!(rules.classify(&vip_takeover).priority, Some(Priority::P1));
        // No rule set a priority: the bump applies to the caller's default.
        let mut vip_unknown = input("hello", "");
        vip_unknown.tier = CustomerTier::Vip;
        let c = rules.classify(&vip_unknown);
        assert_eq!(c.priority, None);
        assert_eq!(c.priority_or(Priority::P3), Priority::P2);
        // Enterprise is not bumped by the defaults.
        let mut enterprise = input("无法登录", "");
        enterprise.tier = CustomerTier::Enterprise;
        assert_eq!(rules.classify(&enterprise).priority, Some(Priority::P3));
    }

    #[test]
    fn bump_priority_saturates_at_p1() {
        assert_eq!(bump_priority(Priority::P4, 1), Priority::P3);
        assert_eq!(bump_priority(Priority::P4, 3), Priority::P1);
        assert_eq!(bump_priority(Priority::P2, 200), Priority::P1);
        assert_eq!(bump_priority(Priority::P3, 0), Priority::P3);
    }

    fn sets(name: &str, when: Condition, then: Actions) -> ClassificationRule {
        ClassificationRule {
            name: name.to_owned(),
            when,
            then,
            stop: false,
        }
    }

    #[test]
    fn first_rule_wins_category_and_department_most_severe_wins_priority_and_risk() {
        let rules = RuleSet {
            rules: vec![
                sets(
                    "first",
                    keywords(&["a"]),
                    Actions {
                        category: Some(Category::INQUIRY),
                        priority: Some(Priority::P4),
                        risk: Some(RiskLevel::L3),
                        department: Some("support".into()),
                        ..Actions::default()
                    },
                ),
                sets(
                    "second",
                    keywords(&["b"]),
                    Actions {
                        category: Some(Category::COMPLAINT),
                        priority: Some(Priority::P2),
                        risk: Some(RiskLevel::L2),
                        department: Some("tech".into()),
                        ..Actions::default()
                    },
                ),
                sets(
                    "third",
                    keywords(&["c"]),
                    Actions {
                        priority: Some(Priority::P3),
                        risk: Some(RiskLevel::None),
                        ..Actions::default()
                    },
                ),
            ],
        };
        let c = rules.classify(&input("a b c", ""));
        assert_eq!(c.category, Some(Category::INQUIRY));
        assert_eq!(c.department.as_deref(), Some("support"));
        assert_eq!(c.priority, Some(Priority::P2));
        assert_eq!(c.risk, Some(RiskLevel::L2));
        assert_eq!(c.matched_rules, ["first", "second", "third"]);
        // A later rule fills a field earlier ones left unset.
        let c = rules.classify(&input("c b", ""));
        assert_eq!(c.category, Some(Category::COMPLAINT));
    }

    #[test]
    fn stop_ends_evaluation() {
        let mut stopper = sets(
            "spam",
            keywords(&["unsubscribe"]),
            Actions {
                tags: strings(&["spam"]),
                ..Actions::default()
            },
        );
        stopper.stop = true;
        let mut rules = RuleSet::defaults();
        rules.rules.insert(0, stopper);
        let c = rules.classify(&input("Unsubscribe: login offer", ""));
        assert_eq!(c.matched_rules, ["spam"]);
        assert_eq!(c.category, None);
        // Not matching, it does not stop anything.
        let c = rules.classify(&input("login problem", ""));
        assert_eq!(c.category, Some(Category::LOGIN_ANOMALY));
    }

    #[test]
    fn tier_channel_business_type_and_combinators() {
        let rules = RuleSet {
            rules: vec![
                sets(
                    "enterprise_phone",
                    Condition::All(vec![
                        Condition::TierIn(vec![CustomerTier::Enterprise]),
                        Condition::ChannelIn(vec![Channel::Phone]),
                    ]),
                    Actions {
                        tags: strings(&["ent_phone"]),
                        ..Actions::default()
                    },
                ),
                sets(
                    "saas_not_chat",
                    Condition::All(vec![
                        Condition::BusinessTypeIn(strings(&["SaaS"])),
                        Condition::Not(Box::new(Condition::ChannelIn(vec![Channel::Chat]))),
                    ]),
                    Actions {
                        tags: strings(&["saas"]),
                        ..Actions::default()
                    },
                ),
                sets(
                    "both_words",
                    Condition::KeywordsAll(strings(&["退款", "refund"])),
                    Actions {
                        tags: strings(&["both"]),
                        ..Actions::default()
                    },
                ),
            ],
        };
        let mut i = input("退款 refund", "");
        assert_eq!(rules.classify(&i).matched_rules, ["both_words"]);
        i.tier = CustomerTier::Enterprise;
        i.channel = Channel::Phone;
        i.business_type = Some(" saas ");
        assert_eq!(
            rules.classify(&i).matched_rules,
            ["enterprise_phone", "saas_not_chat", "both_words"]
        );
        i.channel = Channel::Chat;
        i.subject = "退款";
        assert!(rules.classify(&i).matched_rules.is_empty());
    }

    #[test]
    fn keyword_boundaries() {
        let text = normalise("Default settings; refunded twice, ＫＹＣ审核");
        assert!(!contains_keyword(&text, "fault"));
        assert!(!contains_keyword(&text, "refund"));
        assert!(contains_keyword(&text, "refund*"));
        assert!(contains_keyword(&text, "kyc"));
        assert!(contains_keyword(&text, "审核"));
        assert!(contains_keyword(&text, "REFUNDED   twice"));
        assert!(!contains_keyword(&text, ""));
        assert!(!contains_keyword(&text, "*"));
        // "500" in an amount is not an HTTP error.
        let amount = normalise("500元未到账");
        assert!(!contains_keyword(&amount, "error 500"));
        // A later occurrence on a boundary still matches after an earlier one inside a word.
        assert!(contains_keyword(&normalise("bank ban"), "ban"));
        // Keywords do not match across the subject/description seam.
        let rules = RuleSet {
            rules: vec![sets(
                "x",
                keywords(&["log in"]),
                Actions {
                    tags: strings(&["x"]),
                    ..Actions::default()
                },
            )],
        };
        assert!(rules.classify(&input("log", "in")).matched_rules.is_empty());
        assert_eq!(rules.classify(&input("log\t in", "")).matched_rules, ["x"]);
    }

    #[test]
    fn default_rules_round_trip_through_json() {
        let rules = RuleSet::defaults();
        let json = serde_json::to_string_pretty(&rules).expect("serialises");
        let back: RuleSet = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, rules);
    }

    #[test]
    fn config_shape_and_bad_config() {
        let json = r#"{"rules": [
            {"name": "vip", "when": {"tier_in": ["vip"]}, "then": {"bump_priority": 1}},
            {"name": "all", "when": "always", "then": {"tags": ["seen"]}, "stop": true}
        ]}"#;
        let rules: RuleSet = serde_json::from_str(json).expect("valid config");
        assert_eq!(rules.validate(), Ok(()));
        assert_eq!(rules.rules[1].when, Condition::Always);

        for bad in [
            r#"{"rules": [{"name": "x", "when": {"keyword_any": ["a"]}, "then": {}}]}"#,
            r#"{"rules": [{"name": "x", "when": "always", "then": {"category": "No pe"}}]}"#,
            r#"{"rules": [{"name": "x", "when": "always", "then": {"colour": "red"}}]}"#,
            r#"{"rules": [{"name": "x", "when": {"tier_in": ["gold"]}, "then": {}}]}"#,
            r#"{"rules": [{"when": "always", "then": {}}]}"#,
            r#"{"rules": "#,
        ] {
            assert!(serde_json::from_str::<RuleSet>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validate_reports_every_problem() {
        let json = r#"{"rules": [
            {"name": "", "when": {"keywords_any": []}, "then": {"tags": ["t"]}},
            {"name": "dup", "when": {"all": []}, "then": {"tags": [" "]}},
            {"name": "dup", "when": {"not": {"keywords_all": ["ok", "*"]}}, "then": {}},
            {"name": "big", "when": {"business_type_in": []}, "then": {"bump_priority": 4, "department": ""}}
        ]}"#;
        let rules: RuleSet = serde_json::from_str(json).expect("well-formed");
        let errors = rules.validate().expect_err("invalid");
        assert_eq!(
            errors,
            vec![
                RuleSetError::UnnamedRule { index: 0 },
                RuleSetError::EmptyList {
                    rule: String::new(),
                    field: Field::Keywords
                },
                RuleSetError::EmptyList {
                    rule: "dup".into(),
                    field: Field::Conditions
                },
                RuleSetError::BlankValue {
                    rule: "dup".into(),
                    field: Field::Tags
                },
                RuleSetError::DuplicateName { name: "dup".into() },
                RuleSetError::BlankValue {
                    rule: "dup".into(),
                    field: Field::Keywords
                },
                RuleSetError::NoEffect { rule: "dup".into() },
                RuleSetError::EmptyList {
                    rule: "big".into(),
                    field: Field::BusinessTypes
                },
                RuleSetError::BumpTooLarge {
                    rule: "big".into(),
                    by: 4
                },
                RuleSetError::BlankValue {
                    rule: "big".into(),
                    field: Field::Department
                },
            ]
        );
        assert_eq!(
            errors[4].to_string(),
            "More than one rule is named \"dup\". Rename one of them."
        );
        assert!(errors[4].message(Lang::ZhCn).contains("dup"));
    }

    proptest! {
        #[test]
        fn classify_is_deterministic_and_ignores_ascii_case(
            subject in "[a-zA-Z 登录退款被盗投诉]{0,40}",
            description in "[a-zA-Z0-9 验证码到账]{0,60}",
        ) {
            let rules = RuleSet::defaults();
            let a = rules.classify(&input(&subject, &description));
            let b = rules.classify(&input(&subject, &description));
            prop_assert_eq!(&a, &b);
            let upper = rules.classify(&input(&subject.to_ascii_uppercase(), &description.to_ascii_uppercase()));
            prop_assert_eq!(&a, &upper);
        }

        #[test]
        fn classify_never_panics(subject in any::<String>(), description in any::<String>()) {
            let _ = RuleSet::defaults().classify(&input(&subject, &description));
        }
    }
}
