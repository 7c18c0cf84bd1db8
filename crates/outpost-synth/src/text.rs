//! Phrase pools and per-category templates, in Chinese (index 0) and English (index 1).
//!
//! Templates carry `{slot}` placeholders that [`fill`] replaces with per-ticket values, so a
//! handful of sentences per category still yields thousands of distinct subjects. The phrases
//! were written for this generator; the vocabulary follows the seed documents (payment-account
//! problems, SaaS ticketing, business account opening).

use outpost_core::model::{Category, VerificationDimension};

/// Index into every `[zh, en]` pair below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Zh = 0,
    En = 1,
}

impl Lang {
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub(crate) fn idx(self) -> usize {
        self as usize
    }
}

type Pool = &'static [&'static str];

/// Everything category-specific: how customers name the problem, what agents note and answer.
pub(crate) struct CategoryText {
    /// Short noun phrase for generic replies ("the login issue").
    pub topic: [&'static str; 2],
    pub subjects: [Pool; 2],
    pub problems: [Pool; 2],
    pub details: [Pool; 2],
    pub notes: [Pool; 2],
    pub resolutions: [Pool; 2],
    /// What the agent asks for before setting the ticket to `pending`.
    pub asks: [Pool; 2],
    /// Error codes that fit the category (into [`ERROR_CODES`]).
    pub codes: &'static [usize],
}

/// (code, English message) pairs; Chinese texts quote them as-is, as real apps do.
pub(crate) const ERROR_CODES: &[(&str, &str)] = &[
    ("E1023", "Session expired, please sign in again"),
    ("E1041", "Too many sign-in attempts"),
    ("E1107", "Device not recognised"),
    ("E2007", "SMS gateway timeout"),
    ("E2031", "Verification code expired"),
    ("E2046", "Verification code requests too frequent"),
    ("E3005", "Payment declined by issuer"),
    ("E3012", "Daily limit exceeded"),
    ("E3050", "Transaction held by risk control"),
    ("E3088", "Insufficient balance"),
    ("E4004", "Account frozen"),
    ("E4102", "Identity information mismatch"),
    ("E4230", "Account restricted pending review"),
    ("E5001", "Internal server error"),
    ("E5030", "Service temporarily unavailable"),
    ("E5504", "Gateway timeout"),
    ("E6021", "Settlement pending"),
    ("E6107", "Beneficiary bank rejected the transfer"),
    ("E7003", "Uploaded document unreadable"),
    ("E7019", "Business registration number not found"),
    ("E8010", "Permission denied"),
    ("E8044", "Role change requires approval"),
    ("ERR_NETWORK", "Network connection lost"),
    ("ERR_TOKEN_INVALID", "Activation link invalid or expired"),
];

/// The synthetic data draws only built-in categories; any other reads like an enquiry.
pub(crate) fn category_text(category: &Category) -> &'static CategoryText {
    match *category {
        Category::LOGIN_ANOMALY => &LOGIN_ANOMALY,
        Category::ACCOUNT_TAKEOVER => &ACCOUNT_TAKEOVER,
        Category::TRANSACTION_FAILURE => &TRANSACTION_FAILURE,
        Category::FUNDS_NOT_ARRIVED => &FUNDS_NOT_ARRIVED,
        Category::RECONCILIATION_MISMATCH => &RECONCILIATION_MISMATCH,
        Category::PERMISSION_CHANGE => &PERMISSION_CHANGE,
        Category::PROFILE_CHANGE => &PROFILE_CHANGE,
        Category::VERIFICATION_CODE_NOT_RECEIVED => &VERIFICATION_CODE,
        Category::ACTIVATION_FAILURE => &ACTIVATION_FAILURE,
        Category::PASSWORD_RESET => &PASSWORD_RESET,
        Category::ACCOUNT_RESTRICTED => &ACCOUNT_RESTRICTED,
        Category::KYC_REVIEW => &KYC_REVIEW,
        Category::SECURITY_ALERT => &SECURITY_ALERT,
        Category::COMPLAINT => &COMPLAINT,
        Category::INQUIRY => &INQUIRY,
        Category::TECHNICAL_FAULT => &TECHNICAL_FAULT,
        Category::FEATURE_REQUEST => &FEATURE_REQUEST,
        _ => &INQUIRY,
    }
}

static LOGIN_ANOMALY: CategoryText = CategoryText {
    topic: ["登录问题", "the sign-in problem"],
    subjects: [
        &[
            "App 登录失败,提示 {code}",
            "账号登录不上去,一直提示{err_zh}",
            "{device} 上无法登录账户",
            "登录时提示“{err}”",
            "换了新手机后登录异常",
            "登录后马上被踢下线({code})",
            "网页版能登录,App 登录失败",
            "{when}开始账号无法登录",
            "登录一直转圈,{device} 版本 {ver}",
        ],
        &[
            "Can't log in to the app - error {code}",
            "Login fails on {device}",
            "\"{err}\" when signing in",
            "Locked out of my account since {when}",
            "Signed out immediately after login ({code})",
            "Web login works, mobile app doesn't",
            "Unable to sign in after switching phones",
            "Login keeps spinning on app {ver}",
        ],
    ],
    problems: [
        &[
            "我从{when}开始就登录不了账户,输入密码后提示“{err}”,错误码 {code}。",
            "用 {device} 登录 App 时一直失败,密码肯定没输错,提示 {code}。",
            "今天在{city}出差,登录时提示设备异常,需要验证,但验证完还是登录失败。",
            "App 升级到 {ver} 之后就登录不上了,卸载重装也没用。",
            "登录成功后几秒钟就被强制退出,反复好几次了,报错 {code}。",
        ],
        &[
            "Since {when} I can't sign in. After entering my password the app shows \"{err}\" ({code}).",
            "Logging in on my {device} fails every time with error {code}. The password is definitely correct.",
            "I'm travelling in {city} and the app says my device is not recognised, then the login fails even after verifying.",
            "After updating the app to {ver} I can no longer log in. Reinstalling didn't help.",
            "I get logged out a few seconds after signing in, over and over. Error {code}.",
        ],
    ],
    details: [
        &[
            "设备是 {device},系统 {os},网络换了 Wi-Fi 和 4G 都一样。",
            "电脑浏览器上可以正常登录,只有手机不行。",
            "我的账户里还有 {amount} 余额,比较着急。",
            "之前从来没有遇到过这种情况。",
        ],
        &[
            "Device is a {device} on {os}; same result on Wi-Fi and mobile data.",
            "The web version in the browser works fine, only the phone fails.",
            "There is {amount} in the account so I'm quite worried.",
            "This has never happened before.",
        ],
    ],
    notes: [
        &[
            "查登录日志:{when}有来自{city}的多次失败尝试,触发了风控锁定。",
            "客户设备指纹与常用设备不一致,已按流程做二次验证。",
            "确认是 {ver} 版本的已知问题,技术侧已在修复,先引导客户用网页版。",
            "登录风控状态已重置,观察 24 小时。",
        ],
        &[
            "Login logs: several failed attempts from {city} around {when}, risk engine locked the session.",
            "Device fingerprint doesn't match the usual devices; ran step-up verification per procedure.",
            "Known issue in app {ver}, tech is on it. Pointed the customer to the web version meanwhile.",
            "Reset the login risk flag; keep an eye on it for 24h.",
        ],
    ],
    resolutions: [
        &[
            "{greet}您好,已为您解除登录限制,请退出 App 后重新登录即可。如仍有问题请随时联系我们。",
            "{greet}您好,问题原因是新设备未完成绑定,现已处理,请在 {device} 上重新登录。",
            "{greet}您好,App 已发布修复版本,升级后即可正常登录,给您带来不便非常抱歉。",
        ],
        &[
            "Hi {greet}, we've lifted the login restriction. Please close the app and sign in again.",
            "Hi {greet}, the new device hadn't finished binding. That's fixed now; please try logging in on your {device} again.",
            "Hi {greet}, a fixed app version is out. After updating you should be able to log in normally. Sorry for the trouble.",
        ],
    ],
    asks: [
        &["请提供登录失败时的截图和您使用的设备型号。", "请确认最近是否更换过手机号或设备。"],
        &[
            "Could you send a screenshot of the error and tell us your device model?",
            "Have you changed your phone number or device recently?",
        ],
    ],
    codes: &[0, 1, 2, 13, 22],
};

static ACCOUNT_TAKEOVER: CategoryText = CategoryText {
    topic: ["账户安全问题", "the unauthorised access on your account"],
    subjects: [
        &[
            "【紧急】账户被盗,有陌生设备登录",
            "账号被盗刷 {amount},请立即冻结!",
            "密码被人改了,账户里的钱被转走",
            "收到陌生登录提醒,{city}登录的不是我",
            "账户被盗,绑定手机号被篡改",
            "紧急!{when}账户出现不是本人的转账",
        ],
        &[
            "URGENT: my account was hacked",
            "Someone transferred {amount} out of my account",
            "Unknown login from {city} - not me!",
            "Password and phone number changed without my consent",
            "Account compromised, please freeze it now",
            "Unauthorised transfer on {when}",
        ],
    ],
    problems: [
        &[
            "{when}收到短信提醒,我的账户在{city}的陌生设备上登录了,随后转出了 {amount},这不是我本人操作!",
            "我的登录密码和绑定手机号都被人改了,现在自己登不进去,账户里还有 {amount}。",
            "刚发现账户有一笔 {amount} 的转账,收款方我根本不认识,请马上冻结账户。",
            "前两天点了一个所谓“客服”发来的链接,今天账户就被盗了,资金被转走 {amount}。",
        ],
        &[
            "On {when} I got an alert that my account was accessed from a new device in {city}, then {amount} was transferred out. It wasn't me!",
            "My password and phone number were changed and I can't get back in. There is still {amount} in the account.",
            "I just saw a transfer of {amount} to someone I don't know. Please freeze the account immediately.",
            "A few days ago I clicked a link from someone claiming to be support, and today my account was drained of {amount}.",
        ],
    ],
    details: [
        &[
            "交易单号 {order},收款银行是{bank}。",
            "我已经报警了,需要平台出具交易记录。",
            "我的手机一直在身边,没有收到任何验证码。",
        ],
        &[
            "Transaction reference {order}, receiving bank {bank}.",
            "I've filed a police report and need the transaction records from you.",
            "My phone has been with me the whole time and I never received any code.",
        ],
    ],
    notes: [
        &[
            "L1 风险:异地新设备登录 + 大额转出,已在 10 分钟内冻结账户。",
            "已联系{bank}尝试拦截资金,对方要求提供报案回执。",
            "钓鱼链接域名已提交安全团队加入拦截名单。",
            "身份核验通过 5 项以上维度,准备解冻并引导客户重置密码。",
        ],
        &[
            "L1: new-device login from another region plus large outbound transfer. Account frozen within 10 minutes.",
            "Asked {bank} to recall the funds; they want the police report number.",
            "Phishing domain passed to security for blocking.",
            "Verification passed on 5+ dimensions, preparing unfreeze and forced password reset.",
        ],
    ],
    resolutions: [
        &[
            "{greet}您好,您的账户已完成安全处理:异常设备已解绑,登录密码和交易密码已强制重置,被转走的 {amount} 已通过{bank}追回。请勿点击陌生链接。",
            "{greet}您好,账户已解冻,异常交易的调查结果已通过邮件发送给您,请查收。",
        ],
        &[
            "Hi {greet}, your account is secure again: the unknown device has been removed, passwords reset, and the {amount} was recovered through {bank}. Please never click links from unverified senders.",
            "Hi {greet}, your account is unfrozen and the investigation report for the disputed transfer has been emailed to you.",
        ],
    ],
    asks: [
        &["为核实身份,请上传身份证正反面照片并完成人脸识别。", "请提供报案回执,方便我们与银行协调追回资金。"],
        &[
            "To verify your identity, please upload your ID document and complete the liveness check.",
            "Please send us the police report number so we can work with the bank on recovery.",
        ],
    ],
    codes: &[2, 10],
};

static TRANSACTION_FAILURE: CategoryText = CategoryText {
    topic: ["交易失败的问题", "the failed payment"],
    subjects: [
        &[
            "支付失败但钱被扣了 {amount}",
            "付款一直失败,提示 {code}",
            "{bank}卡支付不成功",
            "订单 {order} 支付失败",
            "转账失败:{err_zh}",
            "扫码付款失败,商家说没收到",
            "支付 {amount} 时提示超出限额",
            "交易失败,退款什么时候到?",
        ],
        &[
            "Payment failed but I was charged {amount}",
            "Payment keeps failing with {code}",
            "Card from {bank} declined",
            "Order {order} - payment failed",
            "Transfer failed: {err}",
            "QR payment failed, merchant says nothing arrived",
            "Limit error when paying {amount}",
            "Failed transaction - when do I get my refund?",
        ],
    ],
    problems: [
        &[
            "{when}用{bank}尾号 {card} 的卡支付 {amount},页面提示支付失败,但银行卡已经扣款了。",
            "订单 {order} 付款时一直提示“{err}”({code}),换了卡也不行。",
            "给朋友转账 {amount},显示交易失败,钱也没退回来。",
            "在商户那里扫码付款 {amount},手机显示失败,商户说没收到,但我的余额少了。",
        ],
        &[
            "On {when} I paid {amount} with my {bank} card ending {card}. The app said the payment failed but my card was charged.",
            "Paying order {order} keeps failing with \"{err}\" ({code}), even with a different card.",
            "I sent {amount} to a friend, the app shows it failed, and the money hasn't come back.",
            "I scanned a merchant's QR code to pay {amount}. My phone said it failed, the merchant got nothing, but my balance went down.",
        ],
    ],
    details: [
        &[
            "交易单号:{order}。",
            "银行那边说钱已经扣了,让我联系平台。",
            "我已经重试了 {count} 次,担心重复扣款。",
            "截图已附上。",
        ],
        &[
            "Transaction reference: {order}.",
            "My bank says the money left my account and told me to contact you.",
            "I retried {count} times and I'm worried about duplicate charges.",
            "Screenshot attached.",
        ],
    ],
    notes: [
        &[
            "查交易日志:{order} 在渠道侧超时,银行已扣款,平台未入账,属于掉单。",
            "已提交{bank}发起差错退款,一般 1-3 个工作日退回原卡。",
            "该笔被风控规则拦截({code}),复核后判断为正常交易,已放行。",
            "客户重复支付了 {count} 笔,多扣的部分走退款流程。",
        ],
        &[
            "Trace: {order} timed out at the channel; bank debited, we never booked it. Classic dropped order.",
            "Raised an error refund with {bank}, usually back on the card in 1-3 business days.",
            "Held by a risk rule ({code}); reviewed and released as legitimate.",
            "Customer paid {count} times, refunding the duplicates.",
        ],
    ],
    resolutions: [
        &[
            "{greet}您好,经核实订单 {order} 为渠道掉单,扣款的 {amount} 已原路退回,预计 1-3 个工作日到账。",
            "{greet}您好,该笔交易因触发单日限额失败,我们已为您调整限额,现在可以重新支付。",
            "{greet}您好,重复扣款已全部退款,退款单号已发送至您的手机,请注意查收。",
        ],
        &[
            "Hi {greet}, order {order} was dropped by the payment channel. The {amount} has been refunded to your original card and should arrive within 1-3 business days.",
            "Hi {greet}, the payment failed because of your daily limit. We've adjusted the limit so you can pay again now.",
            "Hi {greet}, all duplicate charges have been refunded; the refund references were sent to your phone.",
        ],
    ],
    asks: [
        &["请提供银行扣款短信截图和交易时间。", "请提供银行卡流水中该笔扣款的截图。"],
        &[
            "Please send a screenshot of the bank's debit notification and the time of the payment.",
            "Could you send the line from your card statement showing the charge?",
        ],
    ],
    codes: &[6, 7, 8, 9, 15, 22],
};

static FUNDS_NOT_ARRIVED: CategoryText = CategoryText {
    topic: ["资金到账问题", "the missing funds"],
    subjects: [
        &[
            "提现 {amount} 三天还没到账",
            "转账显示成功但对方没收到",
            "{bank}提现未到账,单号 {order}",
            "货款 {amount} 迟迟不到账",
            "退款一直没到账",
            "提现状态一直是处理中",
            "跨境收款 {amount} 没有入账",
        ],
        &[
            "Withdrawal of {amount} still not received",
            "Transfer shows completed but recipient has nothing",
            "Payout to {bank} missing - ref {order}",
            "Refund never arrived",
            "Withdrawal stuck in processing",
            "Incoming payment of {amount} not credited",
            "Where is my money? ({order})",
        ],
    ],
    problems: [
        &[
            "我在{when}申请提现 {amount} 到{bank}尾号 {card} 的卡,到现在还没有到账,App 里显示“处理中”。",
            "我给供应商转了 {amount},我这边显示成功,对方说没有收到,单号 {order}。",
            "上周申请的退款 {amount} 说 3 个工作日到账,现在已经超时了。",
            "海外客户给我付了 {amount},对方银行说已经汇出,我这边一直没有入账。",
        ],
        &[
            "On {when} I withdrew {amount} to my {bank} account ending {card}. It still hasn't arrived and the app just says \"processing\".",
            "I sent {amount} to a supplier. It shows as completed on my side but they haven't received it. Reference {order}.",
            "My refund of {amount} was supposed to take 3 business days. That was over a week ago.",
            "A client abroad paid me {amount}; their bank says it was sent, but nothing has been credited.",
        ],
    ],
    details: [
        &[
            "这笔钱是要发工资用的,很着急。",
            "单号:{order}。",
            "银行客服说没有查到入账记录。",
            "之前提现一般当天就到。",
        ],
        &[
            "I need this money for payroll, so it's urgent.",
            "Reference: {order}.",
            "My bank says they have no incoming record.",
            "Withdrawals normally arrive the same day.",
        ],
    ],
    notes: [
        &[
            "财务核对:{order} 已于出款日提交{bank},渠道状态为处理中,已催办。",
            "银行回执显示收款户名不一致被退回({code}),需客户更正收款信息。",
            "跨境汇款在中间行滞留,已发起查询(预计 2-5 个工作日)。",
            "出款批次延迟,同批次还有 {count} 笔,已同步财务主管。",
        ],
        &[
            "Finance check: {order} was sent to {bank} on payout day, channel still says pending. Chased.",
            "Bank returned it: account name mismatch ({code}). Customer needs to correct the payout details.",
            "Cross-border payment is sitting at an intermediary bank; trace requested (2-5 business days).",
            "Payout batch delayed, {count} other payouts in the same batch. Told the finance lead.",
        ],
    ],
    resolutions: [
        &[
            "{greet}您好,您的提现 {amount} 已于今天到账{bank}尾号 {card} 的账户,请查收。",
            "{greet}您好,经核实款项因收款信息有误被退回,已按您更正后的信息重新出款,预计 2 小时内到账。",
        ],
        &[
            "Hi {greet}, your withdrawal of {amount} was credited to your {bank} account ending {card} today.",
            "Hi {greet}, the payment bounced because of incorrect payout details. We've re-sent it with the corrected details; it should arrive within 2 hours.",
        ],
    ],
    asks: [
        &["请提供收款银行账户的户名和开户行,方便我们核对。", "请让收款方提供入账流水截图。"],
        &[
            "Please confirm the account holder name and bank branch of the receiving account.",
            "Could the recipient send a screenshot of their incoming transactions?",
        ],
    ],
    codes: &[16, 17],
};

static RECONCILIATION_MISMATCH: CategoryText = CategoryText {
    topic: ["对账差异", "the reconciliation difference"],
    subjects: [
        &[
            "{month}对账单与实际入账差 {amount}",
            "结算金额不对,少了 {amount}",
            "对账单手续费计算有误",
            "{company} 对账差异",
            "下载的对账文件与后台数据不一致",
            "T+1 结算金额对不上",
        ],
        &[
            "{month} statement is off by {amount}",
            "Settlement short by {amount}",
            "Fees on the statement look wrong",
            "Reconciliation mismatch for {company}",
            "Exported report doesn't match the dashboard",
            "Daily settlement doesn't add up",
        ],
    ],
    problems: [
        &[
            "我们是 {company},核对{month}的结算单时发现实际入账比对账单少了 {amount},涉及 {count} 笔交易。",
            "后台导出的对账文件和页面上显示的交易总额不一致,差额 {amount}。",
            "本月手续费按 0.6% 扣的,但合同约定是 0.38%,请核实。",
        ],
        &[
            "We're {company}. Reconciling the {month} settlement, the amount credited is {amount} less than the statement, across {count} transactions.",
            "The CSV export and the dashboard show different totals; the difference is {amount}.",
            "Fees this month were charged at 0.6% but our contract says 0.38%. Please check.",
        ],
    ],
    details: [
        &[
            "差异明细表已附上。",
            "我们财务月底要关账,希望本周内给出结论。",
            "商户号:{merchant}。",
        ],
        &[
            "The list of differing transactions is attached.",
            "Our finance team closes the month soon, we need an answer this week.",
            "Merchant ID: {merchant}.",
        ],
    ],
    notes: [
        &[
            "差异来自 {count} 笔跨日退款,对账单按交易日、结算按退款日,属于口径差。",
            "确认费率配置错误,已提交财务补差 {amount}。",
            "拉取了{month}全量流水比对,差额与客户反馈一致。",
        ],
        &[
            "Difference comes from {count} refunds crossing midnight: statement uses trade date, settlement uses refund date.",
            "Fee rate was misconfigured; finance will credit back {amount}.",
            "Pulled the full {month} ledger, the difference matches what the customer reported.",
        ],
    ],
    resolutions: [
        &[
            "{greet}您好,差异原因是跨日退款的统计口径不同,我们已重新出具{month}对账单,附件请查收。",
            "{greet}您好,费率配置已更正,多收的手续费 {amount} 已退回结算账户。",
        ],
        &[
            "Hi {greet}, the difference came from refunds counted on different dates. A corrected {month} statement is attached.",
            "Hi {greet}, the fee rate has been corrected and the overcharged {amount} has been credited back to your settlement account.",
        ],
    ],
    asks: [
        &["请提供差异交易的明细(交易单号、金额、时间)。"],
        &["Please send the list of differing transactions (reference, amount, date)."],
    ],
    codes: &[16],
};

static PERMISSION_CHANGE: CategoryText = CategoryText {
    topic: ["权限调整", "the permission change"],
    subjects: [
        &[
            "申请给新同事开通{role}权限",
            "离职员工权限需要回收",
            "子账号权限修改不生效",
            "{company} 管理员变更",
            "修改角色时提示 {code}",
            "需要增加审批人",
        ],
        &[
            "Grant {role} access to a new colleague",
            "Remove access for a former employee",
            "Sub-account permissions not applying",
            "Change admin for {company}",
            "Error {code} when changing a role",
            "Add a second approver",
        ],
    ],
    problems: [
        &[
            "我们公司新来的财务需要{role}权限,我在后台改了角色但对方还是看不到对账单。",
            "员工{when}已经离职,请协助回收他的全部权限并停用子账号。",
            "管理员变更,需要把主账号管理员从原法人改为现在的负责人,修改时提示“{err}”。",
        ],
        &[
            "Our new accountant needs {role} access. I changed the role in the console but they still can't see the statements.",
            "An employee left on {when}. Please help revoke all their access and disable the sub-account.",
            "We need to transfer the admin role to our new director. The console says \"{err}\".",
        ],
    ],
    details: [
        &["公司名称:{company}。", "授权书已按模板盖章。", "子账号数量 {count} 个。"],
        &[
            "Company: {company}.",
            "The signed authorisation letter is attached.",
            "We have {count} sub-accounts.",
        ],
    ],
    notes: [
        &[
            "已核对授权书与营业执照,签章一致。",
            "角色变更需二次审批,已提交主管审批。",
            "权限缓存未刷新导致不生效,已手动刷新。",
        ],
        &[
            "Checked the authorisation letter against the registration certificate, signatures match.",
            "Role change needs a second approval; sent to the supervisor.",
            "Permission cache was stale, refreshed manually.",
        ],
    ],
    resolutions: [
        &[
            "{greet}您好,{role}权限已开通,请对方重新登录后查看。",
            "{greet}您好,离职员工的子账号已停用,相关权限已全部回收。",
        ],
        &[
            "Hi {greet}, {role} access has been granted. Please ask your colleague to sign in again.",
            "Hi {greet}, the former employee's sub-account is disabled and all access revoked.",
        ],
    ],
    asks: [
        &["请上传加盖公章的授权书扫描件。"],
        &["Please upload the signed authorisation letter."],
    ],
    codes: &[20, 21],
};

static PROFILE_CHANGE: CategoryText = CategoryText {
    topic: ["信息修改", "the profile update"],
    subjects: [
        &[
            "申请修改{field}",
            "{field}修改失败,提示 {code}",
            "手机号停用了,怎么换绑?",
            "实名信息有误需要更正",
            "修改{field}一直审核中",
        ],
        &[
            "Need to update my {field}",
            "Changing {field} fails with {code}",
            "Old phone number no longer works",
            "Correct the legal name on my account",
            "{field} change stuck in review",
        ],
    ],
    problems: [
        &[
            "我原来的手机号已经停用,收不到验证码,没法自己修改{field}。",
            "账户里的{field}填错了,修改时提示“{err}”。",
            "提交修改{field}的申请已经 {count} 天了,还在审核中。",
        ],
        &[
            "My old phone number is deactivated, so I can't receive the code to change my {field} myself.",
            "My {field} is wrong on the account and updating it fails with \"{err}\".",
            "I requested a change of {field} {count} days ago and it's still under review.",
        ],
    ],
    details: [
        &["新号码尾号 {card}。", "可以配合视频核验。"],
        &[
            "The new number ends in {card}.",
            "Happy to do a video verification if needed.",
        ],
    ],
    notes: [
        &[
            "换绑需完成多因子核验,已发起人脸识别。",
            "客户提交的证件照片模糊,需重新上传。",
            "核验通过,已在后台更新{field}。",
        ],
        &[
            "Rebinding needs multi-factor verification; started the liveness check.",
            "ID photo is blurry, asked for a new upload.",
            "Verification passed, updated the {field} in the back office.",
        ],
    ],
    resolutions: [
        &["{greet}您好,您的{field}已修改成功,下次登录即可生效。"],
        &["Hi {greet}, your {field} has been updated and takes effect from your next sign-in."],
    ],
    asks: [
        &["请上传身份证正反面照片,并完成 App 内的人脸识别。"],
        &["Please upload a photo of your ID and complete the face check in the app."],
    ],
    codes: &[11, 18],
};

static VERIFICATION_CODE: CategoryText = CategoryText {
    topic: ["验证码问题", "the verification code issue"],
    subjects: [
        &[
            "收不到短信验证码",
            "验证码一直收不到,{device}",
            "OTP 验证码不发送",
            "提示“{err}”",
            "获取验证码太频繁被限制了",
            "验证码收到就过期了({code})",
            "海外手机号收不到验证码",
            "语音验证码也收不到",
        ],
        &[
            "Not receiving the SMS code",
            "OTP never arrives on my {device}",
            "Verification code not sent",
            "\"{err}\"",
            "Blocked for requesting codes too often",
            "Code expires before I can use it ({code})",
            "No SMS to my overseas number",
            "Voice code doesn't work either",
        ],
    ],
    problems: [
        &[
            "登录时需要短信验证码,点了 {count} 次获取都收不到,手机信号正常。",
            "换了新手机 {device} 后一直收不到 OTP 验证码,错误码 {code}。",
            "我人在{city},用的是国内手机号漫游,验证码一直不来。",
            "验证码收到的时候已经提示过期了,来回试了好多次。",
        ],
        &[
            "I need an SMS code to log in. I've requested it {count} times and nothing arrives; signal is fine.",
            "Since moving to a new {device} I never get the OTP, error {code}.",
            "I'm in {city} roaming with my home number and the code never comes.",
            "By the time the code arrives it has already expired. Tried many times.",
        ],
    ],
    details: [
        &[
            "短信拦截里也看了,没有。",
            "运营商是中国移动。",
            "手机号尾号 {card}。",
            "已经 {mins} 分钟了。",
        ],
        &[
            "Checked the spam/blocked messages folder, nothing there.",
            "My carrier is Vodafone.",
            "The number ends in {card}.",
            "It's been {mins} minutes.",
        ],
    ],
    notes: [
        &[
            "短信网关回执显示 {code},运营商侧延迟,已切换备用通道。",
            "号码在运营商黑名单中被拦截,已申请白名单。",
            "客户请求过于频繁触发限流,已解除。",
            "国际短信通道故障,技术已知悉。",
        ],
        &[
            "SMS gateway receipt shows {code}; carrier delay, switched to the backup route.",
            "Number was filtered by the carrier, requested whitelisting.",
            "Customer hit the rate limit by requesting too often; cleared it.",
            "International SMS route is down, tech is aware.",
        ],
    ],
    resolutions: [
        &[
            "{greet}您好,短信通道已恢复,请重新获取验证码。如仍收不到,可选择语音验证码。",
            "{greet}您好,已为您解除获取频率限制,现在可以重新获取验证码。",
        ],
        &[
            "Hi {greet}, the SMS route is working again. Please request a new code; the voice code option is there as a fallback.",
            "Hi {greet}, we've cleared the rate limit so you can request a code again.",
        ],
    ],
    asks: [
        &["请确认手机号是否正确,以及是否开启了短信拦截软件。"],
        &["Please confirm your phone number and whether any SMS filtering app is enabled."],
    ],
    codes: &[3, 4, 5],
};

static ACTIVATION_FAILURE: CategoryText = CategoryText {
    topic: ["账户激活问题", "the activation problem"],
    subjects: [
        &[
            "激活链接失效",
            "账户激活失败,提示 {code}",
            "注册后一直无法激活",
            "企业账户开通后激活不了",
            "激活邮件收不到",
        ],
        &[
            "Activation link expired",
            "Account activation fails with {code}",
            "Can't activate my new account",
            "Business account activation failing",
            "Activation email never arrived",
        ],
    ],
    problems: [
        &[
            "注册后点击邮件里的激活链接,提示“{err}”。",
            "我们 {company} 的企业账户审核通过了,但是激活时一直报错 {code}。",
            "注册邮箱一直收不到激活邮件,垃圾箱也没有。",
        ],
        &[
            "After signing up I clicked the activation link and got \"{err}\".",
            "The business account for {company} was approved but activation keeps failing with {code}.",
            "The activation email never arrived, not even in spam.",
        ],
    ],
    details: [
        &["注册邮箱:{email}。", "用的是 {device}。"],
        &["Registered email: {email}.", "I'm using a {device}."],
    ],
    notes: [
        &[
            "激活令牌已过期(有效期 24 小时),已重新下发。",
            "邮件服务商退信,邮箱域名拒收,改用短信激活。",
            "企业账户资料状态未同步,技术已修复数据。",
        ],
        &[
            "Activation token expired (24h validity), re-issued.",
            "Mail provider bounced our email; switched to SMS activation.",
            "Business account status didn't sync; tech fixed the record.",
        ],
    ],
    resolutions: [
        &["{greet}您好,新的激活链接已发送到您的邮箱,24 小时内有效。"],
        &["Hi {greet}, a new activation link has been sent to your email. It's valid for 24 hours."],
    ],
    asks: [
        &["请确认注册邮箱地址是否正确。"],
        &["Please confirm the email address you registered with."],
    ],
    codes: &[23, 13],
};

static PASSWORD_RESET: CategoryText = CategoryText {
    topic: ["密码重置", "the password reset"],
    subjects: [
        &[
            "忘记登录密码,怎么重置?",
            "交易密码输错被锁定",
            "重置密码时提示 {code}",
            "重置密码的邮件收不到",
            "密码重置后还是登录不了",
        ],
        &[
            "Forgot my password",
            "Transaction PIN locked after wrong attempts",
            "Password reset error {code}",
            "No password reset email",
            "Still can't log in after resetting password",
        ],
    ],
    problems: [
        &[
            "忘记了登录密码,按页面提示重置,到最后一步提示“{err}”。",
            "交易密码连续输错 {count} 次被锁定了,现在没法付款。",
            "点了忘记密码,邮箱一直收不到重置邮件。",
        ],
        &[
            "I forgot my password. The reset flow fails at the last step with \"{err}\".",
            "I entered the wrong transaction PIN {count} times and now it's locked, so I can't pay.",
            "I clicked \"forgot password\" but the reset email never arrives.",
        ],
    ],
    details: [
        &["手机是 {device}。", "账户绑定的手机号尾号 {card}。"],
        &["I'm on a {device}.", "The phone number on the account ends in {card}."],
    ],
    notes: [
        &["交易密码锁定 24 小时后自动解锁,客户着急,核验后手动解锁。", "重置流程在 {ver} 版本有问题,已反馈技术。"],
        &[
            "PIN lock clears itself after 24h; customer is in a hurry so unlocked manually after verification.",
            "Reset flow is broken in app {ver}, reported to tech.",
        ],
    ],
    resolutions: [
        &["{greet}您好,已为您解除锁定,请通过“忘记密码”重新设置。"],
        &["Hi {greet}, the lock is cleared. Please set a new password through \"Forgot password\"."],
    ],
    asks: [
        &["请完成身份核验后我们为您手动解锁。"],
        &["Please complete identity verification so we can unlock it manually."],
    ],
    codes: &[1, 4, 23],
};

static ACCOUNT_RESTRICTED: CategoryText = CategoryText {
    topic: ["账户受限", "the account restriction"],
    subjects: [
        &[
            "账户被限制收款",
            "账户突然被冻结,提示 {code}",
            "为什么我的账户被限制了?",
            "账户受限无法提现 {amount}",
            "收到账户受限通知",
        ],
        &[
            "Account restricted from receiving payments",
            "Account suddenly frozen ({code})",
            "Why is my account limited?",
            "Can't withdraw {amount} - account restricted",
            "Received an account restriction notice",
        ],
    ],
    problems: [
        &[
            "今天收到通知说账户受限,不能收款也不能提现,里面还有 {amount}。",
            "账户被冻结了,提示“{err}”,我没有做过任何违规操作。",
            "最近收了几笔海外货款,账户就被限制了,需要提供什么材料?",
        ],
        &[
            "I was notified today that my account is restricted: no incoming payments or withdrawals, and {amount} is stuck.",
            "My account was frozen with \"{err}\". I haven't done anything wrong.",
            "After a few international payments my account got limited. What documents do you need?",
        ],
    ],
    details: [
        &["账户号 {account}。", "这些都是正常的业务往来,有合同可以提供。"],
        &[
            "Account ID {account}.",
            "These are normal business payments; I can provide contracts.",
        ],
    ],
    notes: [
        &[
            "风控规则命中:短期内多笔大额入账,需要客户补充交易背景材料。",
            "材料审核通过,可解除限制。",
            "限制原因为实名信息过期,引导客户更新证件。",
        ],
        &[
            "Risk rule hit: several large inbound payments in a short window. Need proof of business from the customer.",
            "Documents reviewed and accepted; restriction can be lifted.",
            "Restriction due to expired ID on file; asked the customer to update it.",
        ],
    ],
    resolutions: [
        &["{greet}您好,材料审核已通过,账户限制已解除,可以正常收款和提现。"],
        &["Hi {greet}, your documents were approved and the restriction is lifted. Payments and withdrawals work again."],
    ],
    asks: [
        &["请提供近期大额交易的合同或发票。", "请上传有效期内的身份证件。"],
        &[
            "Please provide contracts or invoices for the recent large payments.",
            "Please upload a valid identity document.",
        ],
    ],
    codes: &[10, 12],
};

static KYC_REVIEW: CategoryText = CategoryText {
    topic: ["开户审核", "the account-opening review"],
    subjects: [
        &[
            "企业开户审核进度查询",
            "开户被拒,原因是什么?",
            "上传{doc}时提示 {code}",
            "{company} 开户资料补充",
            "开户审核超过 {count} 天还没结果",
            "行业分类选错了,开户被退回",
        ],
        &[
            "Status of business account application",
            "Account application rejected - why?",
            "Upload of {doc} fails with {code}",
            "Additional documents for {company}",
            "Application pending for {count} days",
            "Wrong industry category, application returned",
        ],
    ],
    problems: [
        &[
            "我们 {company} {count} 天前提交了企业开户申请,状态一直是“审核中”,想了解进度。",
            "开户申请被退回,说{doc}不清晰,但我上传的是原件扫描件。",
            "上传{doc}一直失败,提示“{err}”,文件是 PDF,不到 5MB。",
            "我们是做服务贸易的,开户时行业分类不知道怎么选,选了之后被拒了。",
        ],
        &[
            "We at {company} applied for a business account {count} days ago and it's still \"under review\".",
            "Our application was returned saying the {doc} is unclear, but it's a scan of the original.",
            "Uploading the {doc} fails with \"{err}\". It's a PDF under 5 MB.",
            "We're a services business and weren't sure which industry to pick; the application was rejected.",
        ],
    ],
    details: [
        &["注册地:{city}。", "法人本人可以配合视频认证。", "公司网站和合同都可以提供。"],
        &[
            "Registered in {city}.",
            "Our director can join a video verification.",
            "We can provide our website and client contracts.",
        ],
    ],
    notes: [
        &[
            "{doc}四角不完整,需重新上传。",
            "高风险行业,转人工复核。",
            "企业注册号在官方库中未查到({code}),请客户确认。",
            "资料齐全,复核通过。",
        ],
        &[
            "{doc} is cropped, needs a new upload.",
            "High-risk industry, sent to manual review.",
            "Registration number not found in the official registry ({code}); asked the customer to confirm.",
            "Documents complete, review passed.",
        ],
    ],
    resolutions: [
        &["{greet}您好,贵公司的开户申请已审核通过,账户已开通。", "{greet}您好,补充材料已收到并审核通过,账户可以正常使用了。"],
        &[
            "Hi {greet}, your business account application has been approved and the account is open.",
            "Hi {greet}, we received and approved the additional documents; the account is ready to use.",
        ],
    ],
    asks: [
        &["请补充上传清晰的{doc}(PDF 或 JPG,不超过 5MB)。", "请提供近 6 个月的银行流水。"],
        &[
            "Please upload a clear copy of the {doc} (PDF or JPG, max 5 MB).",
            "Please provide bank statements for the last 6 months.",
        ],
    ],
    codes: &[18, 19, 11],
};

static SECURITY_ALERT: CategoryText = CategoryText {
    topic: ["安全提醒", "the security alert"],
    subjects: [
        &[
            "收到异地登录提醒",
            "有人冒充客服给我打电话",
            "收到可疑短信,要我点链接",
            "账户安全提醒:新设备登录 {device}",
            "疑似钓鱼网站仿冒你们",
        ],
        &[
            "New sign-in alert from {city}",
            "Someone called pretending to be your support",
            "Suspicious SMS asking me to click a link",
            "Security alert: new device {device}",
            "Phishing site impersonating you",
        ],
    ],
    problems: [
        &[
            "{when}收到提醒,账户在{city}的 {device} 上登录,我不确定是不是自己的设备。",
            "有人打电话自称客服,说我的账户有风险,让我把钱转到“安全账户”,我没有转。",
            "收到一条短信说我的账户将被冻结,让我点链接验证,感觉是诈骗。",
        ],
        &[
            "On {when} I got an alert about a sign-in from {city} on a {device}. I'm not sure it was me.",
            "Someone called claiming to be your support, said my account was at risk and asked me to move money to a \"safe account\". I didn't.",
            "I got a text saying my account would be frozen unless I verified via a link. Looks like a scam.",
        ],
    ],
    details: [
        &["短信截图已附上。", "我已经改了密码。"],
        &["Screenshot of the message attached.", "I've already changed my password."],
    ],
    notes: [
        &[
            "登录设备与常用设备不符,已强制下线并提示客户修改密码。",
            "仿冒域名已上报安全团队。",
            "核查后为客户本人新设备登录,无风险。",
        ],
        &[
            "Device not in the usual set; forced sign-out and asked the customer to change the password.",
            "Reported the lookalike domain to the security team.",
            "Checked: it was the customer's own new device, no risk.",
        ],
    ],
    resolutions: [
        &["{greet}您好,感谢您的警惕。经核查您的账户资金安全,我们已强制下线可疑设备,请勿向任何人透露验证码。"],
        &["Hi {greet}, thanks for reporting this. Your funds are safe; we signed out the suspicious device. Never share your codes with anyone."],
    ],
    asks: [
        &["请确认最近是否在新设备上登录过。"],
        &["Can you confirm whether you signed in on a new device recently?"],
    ],
    codes: &[2],
};

static COMPLAINT: CategoryText = CategoryText {
    topic: ["投诉事项", "your complaint"],
    subjects: [
        &[
            "投诉:问题拖了 {count} 天没人处理",
            "对客服处理结果不满意",
            "投诉手续费乱收",
            "多次反馈无果,要求升级处理",
            "投诉:工单 {order} 一直没回复",
        ],
        &[
            "Complaint: no resolution after {count} days",
            "Unhappy with how my case was handled",
            "Complaint about unexpected fees",
            "Escalation requested - repeated contacts",
            "Complaint: no reply to my case {order}",
        ],
    ],
    problems: [
        &[
            "我的问题已经反馈了 {count} 次,每次都说在处理,到现在也没有结果,非常失望。",
            "这个月莫名其妙被扣了 {amount} 手续费,事先没有任何通知。",
            "客服电话打了半天没人接,在线客服也只会发模板话术。",
        ],
        &[
            "I've reported this {count} times and every time I'm told it's being handled. Still nothing. Very disappointed.",
            "I was charged {amount} in fees this month without any notice.",
            "Nobody answers the phone and the chat only sends canned replies.",
        ],
    ],
    details: [
        &["如果再不解决我会向监管部门投诉。", "希望有主管联系我。"],
        &[
            "If this isn't fixed I will escalate to the regulator.",
            "I'd like a supervisor to contact me.",
        ],
    ],
    notes: [
        &["客户情绪激动,已安排主管回电。", "核实手续费符合费率说明,但通知不到位,建议退还作为补偿。"],
        &[
            "Customer is upset; a supervisor will call back.",
            "Fee is per the tariff but the notice was poor; suggest refunding as a goodwill gesture.",
        ],
    ],
    resolutions: [
        &["{greet}您好,非常抱歉给您带来不好的体验。相关费用 {amount} 已退还,我们也改进了通知流程。"],
        &["Hi {greet}, we're sorry for the experience. The {amount} has been refunded and we've improved how we notify customers."],
    ],
    asks: [
        &["请提供之前的工单号或沟通记录,方便我们核实。"],
        &["Please share your earlier case numbers or messages so we can review them."],
    ],
    codes: &[],
};

static INQUIRY: CategoryText = CategoryText {
    topic: ["咨询的问题", "your question"],
    subjects: [
        &[
            "咨询:提现手续费怎么算?",
            "单日转账限额是多少?",
            "支持哪些银行卡?",
            "如何开具发票?",
            "跨境收款支持哪些币种?",
            "企业账户和个人账户有什么区别?",
            "怎么查询历史交易记录?",
        ],
        &[
            "Question about withdrawal fees",
            "What is the daily transfer limit?",
            "Which banks are supported?",
            "How do I get an invoice?",
            "Which currencies can I receive?",
            "Business vs personal account",
            "How to export my transaction history?",
        ],
    ],
    problems: [
        &[
            "想咨询一下,提现到{bank}的卡手续费是多少?",
            "我需要转 {amount},想知道单日限额是多少,能不能临时提高?",
            "请问怎么导出{month}的交易记录给会计?",
        ],
        &[
            "Quick question: what's the fee for withdrawing to a {bank} account?",
            "I need to send {amount}. What's the daily limit, and can it be raised temporarily?",
            "How can I export my {month} transactions for my accountant?",
        ],
    ],
    details: [&["谢谢。", "我是新用户。"], &["Thanks.", "I'm a new customer."]],
    notes: [
        &["标准问题,已用模板回复。"],
        &["Standard question, answered with the template."],
    ],
    resolutions: [
        &["{greet}您好,具体说明请参见帮助中心“费用与限额”一节,如还有疑问欢迎再联系我们。"],
        &["Hi {greet}, the details are in the \"Fees and limits\" section of our help centre. Let us know if anything is unclear."],
    ],
    asks: [&["请问您的账户类型是个人还是企业?"], &["Is your account personal or business?"]],
    codes: &[],
};

static TECHNICAL_FAULT: CategoryText = CategoryText {
    topic: ["系统故障", "the technical issue"],
    subjects: [
        &[
            "App 闪退,{device}",
            "页面打不开,一直报 {code}",
            "API 回调一直失败",
            "后台导出报表超时",
            "{ver} 版本更新后白屏",
            "接口返回 {code},影响我们下单",
        ],
        &[
            "App crashes on {device}",
            "Page won't load, error {code}",
            "API webhooks failing",
            "Report export times out",
            "Blank screen after updating to {ver}",
            "API returns {code}, orders blocked",
        ],
    ],
    problems: [
        &[
            "App 一打开就闪退,设备 {device},系统 {os},版本 {ver}。",
            "从{when}开始我们的系统调用你们的 API 一直返回 {code}({err}),影响了 {count} 个订单。",
            "后台导出报表一直转圈,最后提示超时。",
        ],
        &[
            "The app crashes as soon as I open it. Device {device}, {os}, app {ver}.",
            "Since {when} our integration gets {code} (\"{err}\") from your API; {count} orders are affected.",
            "Exporting the report in the dashboard spins forever and then times out.",
        ],
    ],
    details: [
        &["崩溃日志已附上。", "请求 ID:{order}。"],
        &["Crash log attached.", "Request ID: {order}."],
    ],
    notes: [
        &[
            "已复现,{ver} 在 {os} 上启动崩溃,已提缺陷单。",
            "网关在{when}有一段 5xx 高峰,与客户反馈时间吻合。",
            "修复已发布,验证通过。",
        ],
        &[
            "Reproduced: {ver} crashes at launch on {os}. Bug filed.",
            "Gateway had a 5xx spike around {when}, matches the report.",
            "Fix deployed and verified.",
        ],
    ],
    resolutions: [
        &["{greet}您好,问题已修复,请更新到最新版本后重试。"],
        &["Hi {greet}, this is fixed. Please update to the latest version and try again."],
    ],
    asks: [&["请提供出错时的请求 ID 或截图。"], &["Please send the request ID or a screenshot of the error."]],
    codes: &[13, 14, 15, 22],
};

static FEATURE_REQUEST: CategoryText = CategoryText {
    topic: ["产品建议", "your suggestion"],
    subjects: [
        &[
            "建议:支持批量转账",
            "希望增加深色模式",
            "建议对账单支持导出 Excel",
            "能否支持多个管理员?",
            "希望提现到账能有推送通知",
        ],
        &[
            "Suggestion: bulk transfers",
            "Please add dark mode",
            "Export statements to Excel",
            "Support multiple admins",
            "Push notification when a withdrawal lands",
        ],
    ],
    problems: [
        &[
            "我们每月要给 {count} 个供应商付款,一笔一笔操作太麻烦,建议支持批量转账。",
            "建议对账单能直接导出 Excel,方便财务核对。",
            "希望 App 能在提现到账时推送通知。",
        ],
        &[
            "We pay {count} suppliers every month one by one. Bulk transfers would save us hours.",
            "It would help our accountant if statements could be exported straight to Excel.",
            "It'd be great to get a push notification when a withdrawal arrives.",
        ],
    ],
    details: [&["谢谢考虑。"], &["Thanks for considering it."]],
    notes: [
        &["已记录到需求池,同类建议本月第 {count} 次。"],
        &["Logged in the product backlog; {count}th request like this this month."],
    ],
    resolutions: [
        &["{greet}您好,感谢您的建议,我们已反馈给产品团队,后续上线会通知您。"],
        &["Hi {greet}, thanks for the suggestion. We've passed it to the product team and will let you know when it ships."],
    ],
    asks: [&["方便说说您的具体使用场景吗?"], &["Could you tell us a bit more about how you'd use it?"]],
    codes: &[],
};

pub(crate) const SUBJECT_PREFIX: [Pool; 2] = [
    &["【紧急】", "求助:", "急!", "请帮忙:", "【VIP】"],
    &["URGENT: ", "Help: ", "Re: ", "Fwd: ", "[VIP] "],
];

pub(crate) const SUBJECT_SUFFIX: [Pool; 2] = [
    &["(订单号 {order})", " - {name}", "(第二次反馈)", ",在线等"],
    &[
        " - order {order}",
        " ({name})",
        " (second request)",
        " - please help",
    ],
];

pub(crate) const OPENINGS: [Pool; 2] = [
    &[
        "你好,",
        "您好,",
        "客服你好,",
        "",
        "",
        "麻烦帮忙看一下,",
        "Hi,",
    ],
    &[
        "Hi,",
        "Hello,",
        "Hi there,",
        "Dear support team,",
        "",
        "Hello support,",
    ],
];

pub(crate) const CLOSINGS: [Pool; 2] = [
    &[
        "请尽快处理,谢谢。",
        "麻烦尽快回复。",
        "在线等,挺急的。",
        "谢谢!",
        "",
        "希望今天能解决。",
        "如需材料我可以补充。",
    ],
    &[
        "Please help as soon as possible.",
        "Thanks in advance.",
        "This is urgent for us.",
        "",
        "Let me know if you need anything else from me.",
        "Appreciate a quick reply.",
    ],
];

pub(crate) const FIRST_REPLIES: [Pool; 2] = [
    &[
        "{greet}您好,已收到您关于{topic}的反馈,我是客服{agent},正在为您核实,请稍候。",
        "{greet}您好,感谢联系。{topic}我们已经在跟进,有进展会第一时间通知您。",
        "您好{greet},您的工单已受理,我们会尽快处理{topic}。",
    ],
    &[
        "Hi {greet}, thanks for reaching out about {topic}. I'm {agent} and I'm looking into it now.",
        "Hello {greet}, we've received your request and are checking {topic}. We'll update you as soon as we know more.",
        "Hi {greet}, your case is with us. I'm on {topic} and will get back to you shortly.",
    ],
];

pub(crate) const UPDATE_REPLIES: [Pool; 2] = [
    &[
        "{greet}您好,目前仍在处理中,相关同事正在核查,预计 {hours} 小时内给您答复。",
        "{greet}您好,同步一下进展:我们已联系相关部门,请再耐心等待一下。",
        "您好,问题已升级给专门团队处理,我会持续跟进。",
    ],
    &[
        "Hi {greet}, still working on this. The team is checking and we expect an answer within {hours} hours.",
        "Quick update, {greet}: we've involved the relevant team and are waiting for their findings.",
        "Hello {greet}, this has been escalated to a specialist team. I'll keep following up.",
    ],
];

pub(crate) const CUSTOMER_FOLLOWUPS: [Pool; 2] = [
    &[
        "请问处理得怎么样了?",
        "已经过去好几个小时了,还没有结果吗?",
        "我补充一下截图,见附件。",
        "刚才又试了一次,还是不行,提示 {code}。",
        "好的,我等你们消息。",
        "能不能快一点,挺着急的。",
        "还有什么需要我提供的吗?",
    ],
    &[
        "Any update on this?",
        "It's been hours and I still haven't heard back.",
        "Adding a screenshot of the error.",
        "Tried again just now, same thing: {code}.",
        "OK, I'll wait for your update.",
        "Can this be sped up please? It's urgent.",
        "Is there anything else you need from me?",
    ],
];

/// The customer adds detail after the first reply.
pub(crate) const CUSTOMER_DETAILS: [Pool; 2] = [
    &[
        "我补充一下截图,见附件。",
        "刚才又试了一次,还是不行,提示 {code}。",
        "好的,我等你们消息。",
        "还有什么需要我提供的吗?",
        "补充一下,出问题的时间大概是{when}。",
    ],
    &[
        "Adding a screenshot of the error.",
        "Tried again just now, same thing: {code}.",
        "OK, I'll wait for your update.",
        "Is there anything else you need from me?",
        "For reference, it started {when}.",
    ],
];

pub(crate) const REVISIT_REPLIES: [Pool; 2] = [
    &[
        "{greet}您好,看到您的评价,非常抱歉没能让您满意。我重新核查了{topic},今天内给您明确答复。",
        "{greet}您好,我是{agent},针对您反馈的不满意,我们已安排二次处理,稍后电话与您确认。",
    ],
    &[
        "Hi {greet}, I saw your rating and I'm sorry we let you down. I've reopened {topic} and will get back to you today.",
        "Hi {greet}, this is {agent}. Following your feedback we're taking a second look and I'll call you to confirm.",
    ],
];

pub(crate) const CUSTOMER_RESUMES: [Pool; 2] = [
    &[
        "材料已经补充好了,请查收。",
        "已按要求上传{doc}。",
        "信息已经发给你们了,请核实。",
        "截图在附件里。",
    ],
    &[
        "I've uploaded what you asked for.",
        "Here is the information you requested.",
        "The {doc} is attached now.",
        "Sent the details, please check.",
    ],
];

pub(crate) const CUSTOMER_THANKS: [Pool; 2] = [
    &[
        "好了,可以正常使用了,谢谢!",
        "收到,已经处理好了。",
        "谢谢,问题解决了。",
    ],
    &[
        "It works now, thank you!",
        "Confirmed, all good now.",
        "Thanks, that solved it.",
    ],
];

pub(crate) const GENERIC_NOTES: [Pool; 2] = [
    &[
        "已电话回访客户,客户表示理解。",
        "@{colleague} 麻烦帮忙看下这个单子。",
        "客户是老用户,注意安抚情绪。",
        "同类问题今天已收到 {count} 单,已同步主管。",
        "等待第三方回复,明天上午再跟进。",
    ],
    &[
        "Called the customer back, they're fine with the timeline.",
        "@{colleague} could you take a look at this one?",
        "Long-time customer, handle with care.",
        "{count} similar tickets today, flagged to the supervisor.",
        "Waiting on the third party, will follow up tomorrow morning.",
    ],
];

pub(crate) const ESCALATION_NOTES: [Pool; 2] = [
    &[
        "需要{dept}协助,已转交。",
        "超出一线处理权限,升级至{dept}。",
        "转{dept}同事继续跟进。",
    ],
    &[
        "Needs {dept}, handed over.",
        "Beyond first-line permissions, escalated to {dept}.",
        "Passing to {dept} to continue.",
    ],
];

pub(crate) const DUPLICATE_REPLIES: [Pool; 2] = [
    &["{greet}您好,该问题与您之前提交的工单 {other} 相同,我们会在原工单中继续跟进,本工单先关闭。"],
    &["Hi {greet}, this is the same issue as your earlier case {other}. We'll continue there and close this one."],
];

pub(crate) const PENDING_REASONS: [Pool; 2] = [
    &[
        "等待客户补充材料",
        "等待客户回复",
        "等待银行回执",
        "等待第三方渠道反馈",
    ],
    &[
        "waiting for customer",
        "waiting for customer documents",
        "waiting for bank confirmation",
        "waiting for third party",
    ],
];

pub(crate) const CSAT_GOOD: [Pool; 2] = [
    &[
        "处理很快,谢谢!",
        "客服很耐心,点赞",
        "问题解决了,满意",
        "专业、高效",
    ],
    &[
        "Quick and helpful, thanks!",
        "Great support.",
        "Solved on the first try.",
        "Very patient agent.",
    ],
];

pub(crate) const CSAT_BAD: [Pool; 2] = [
    &[
        "等了太久了",
        "问题其实没解决",
        "来回要材料太麻烦",
        "回复全是模板话术",
    ],
    &[
        "Took way too long.",
        "The problem isn't actually fixed.",
        "Had to repeat myself three times.",
        "Felt like talking to a script.",
    ],
];

pub(crate) const REOPEN_REASONS: [Pool; 2] = [
    &["满意度低于阈值,二次处理并 24 小时内回访"],
    &["low satisfaction score: second handling, revisit within 24 h"],
];

pub(crate) const FREEZE_REASONS: [Pool; 2] = [
    &[
        "疑似账户被盗:{city}新设备登录后转出 {amount},先行冻结",
        "L1 风险,大额异常交易 {amount},10 分钟内冻结账户",
    ],
    &[
        "Suspected takeover: new-device login from {city} followed by a {amount} transfer; frozen pending verification",
        "L1: large abnormal transaction of {amount}, account frozen within 10 minutes",
    ],
];

pub(crate) const INTERCEPT_REASONS: [Pool; 2] = [
    &[
        "拦截可疑交易 {order},金额 {amount}",
        "收款方命中风险名单,拦截 {amount}",
    ],
    &[
        "Intercepted suspicious transaction {order} for {amount}",
        "Payee on a risk list, held {amount}",
    ],
];

pub(crate) const UNFREEZE_REASONS: [Pool; 2] = [
    &["身份核验通过 5 项以上维度,解除冻结"],
    &["Identity verified on five or more dimensions; account unfrozen"],
];

pub(crate) fn verification_method(dim: VerificationDimension, lang: Lang) -> &'static str {
    use VerificationDimension::{
        EmailLink, FaceLiveness, IdDocument, RealNameInfo, SmsCode, TransactionHabits,
        TransactionPassword, UsualDevice,
    };
    let pair: [&str; 2] = match dim {
        SmsCode => [
            "向注册手机号发送验证码",
            "code sent to the registered phone",
        ],
        RealNameInfo => ["核对姓名与证件号后四位", "name and last ID digits matched"],
        TransactionPassword => [
            "客户在 App 内输入交易密码",
            "customer entered the transaction PIN in the app",
        ],
        IdDocument => [
            "上传身份证件并人工比对",
            "ID document uploaded and compared by hand",
        ],
        UsualDevice => [
            "比对常用设备指纹",
            "device fingerprint compared with usual devices",
        ],
        TransactionHabits => [
            "核对近三笔交易的金额与对象",
            "confirmed amounts and payees of the last three transactions",
        ],
        FaceLiveness => ["视频人脸活体检测", "video liveness check"],
        EmailLink => [
            "点击注册邮箱中的确认链接",
            "confirmation link in the registered email",
        ],
    };
    pair[lang.idx()]
}

// ---- slot vocabulary ---------------------------------------------------------------------

/// (surname, pinyin).
pub(crate) const ZH_SURNAMES: &[(&str, &str)] = &[
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("高", "gao"),
    ("林", "lin"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("许", "xu"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
    ("彭", "peng"),
    ("曾", "zeng"),
    ("肖", "xiao"),
    ("田", "tian"),
    ("董", "dong"),
    ("潘", "pan"),
    ("蒋", "jiang"),
    ("蔡", "cai"),
    ("余", "yu"),
    ("杜", "du"),
    ("叶", "ye"),
    ("程", "cheng"),
    ("苏", "su"),
    ("魏", "wei"),
    ("吕", "lv"),
    ("丁", "ding"),
    ("沈", "shen"),
    ("欧阳", "ouyang"),
];

pub(crate) const ZH_GIVEN: &[(&str, &str)] = &[
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("秀英", "xiuying"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("浩然", "haoran"),
    ("子轩", "zixuan"),
    ("欣怡", "xinyi"),
    ("梓涵", "zihan"),
    ("一诺", "yinuo"),
    ("宇航", "yuhang"),
    ("思远", "siyuan"),
    ("雨桐", "yutong"),
    ("佳怡", "jiayi"),
    ("晨曦", "chenxi"),
    ("俊杰", "junjie"),
    ("嘉豪", "jiahao"),
    ("诗涵", "shihan"),
    ("文博", "wenbo"),
    ("天佑", "tianyou"),
    ("若曦", "ruoxi"),
    ("建国", "jianguo"),
    ("海燕", "haiyan"),
    ("志强", "zhiqiang"),
    ("晓东", "xiaodong"),
    ("慧", "hui"),
];

pub(crate) const EN_FIRST: &[&str] = &[
    "Emma",
    "Olivia",
    "Ava",
    "Sophia",
    "Mia",
    "Amelia",
    "Harper",
    "Evelyn",
    "Liam",
    "Noah",
    "Oliver",
    "Elijah",
    "James",
    "William",
    "Benjamin",
    "Lucas",
    "Henry",
    "Alexander",
    "Daniel",
    "Matthew",
    "Priya",
    "Arjun",
    "Aisha",
    "Omar",
    "Mateo",
    "Sofia",
    "Lukas",
    "Hannah",
    "Chloe",
    "Ryan",
    "Nathan",
    "Grace",
    "Zoe",
    "Isaac",
    "Leo",
    "Maya",
    "Ethan",
    "Julia",
    "Marco",
    "Yuki",
    "Kenji",
    "Fatima",
    "Anna",
    "Tomás",
    "Ingrid",
    "Kwame",
    "Nadia",
    "Samuel",
];

pub(crate) const EN_LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Patel",
    "Nguyen",
    "Kim",
    "Müller",
    "Rossi",
    "Silva",
    "Kowalski",
    "O'Brien",
    "Schmidt",
    "Tanaka",
    "Khan",
    "Dubois",
    "Jensen",
    "Mensah",
    "Novak",
    "Haddad",
];

pub(crate) const MAIL_DOMAINS: &[&str] = &[
    "example.com",
    "example.net",
    "example.org",
    "mail.example.com",
    "corp.example.net",
];

pub(crate) const BANKS: [Pool; 2] = [
    &[
        "招商银行",
        "工商银行",
        "建设银行",
        "中国银行",
        "农业银行",
        "交通银行",
        "浦发银行",
        "平安银行",
        "中信银行",
        "兴业银行",
        "民生银行",
        "邮储银行",
    ],
    &[
        "Chase",
        "HSBC",
        "Barclays",
        "Citibank",
        "Wells Fargo",
        "Santander",
        "Lloyds",
        "DBS",
        "ING",
        "Deutsche Bank",
        "BNP Paribas",
        "Monzo",
    ],
];

/// (device, operating system).
pub(crate) const DEVICES: &[(&str, &str)] = &[
    ("iPhone 15", "iOS 18"),
    ("iPhone 14 Pro", "iOS 17"),
    ("iPhone 16 Pro Max", "iOS 18"),
    ("华为 Mate 60 Pro", "HarmonyOS 4"),
    ("华为 P70", "HarmonyOS 4"),
    ("小米 14", "Android 14"),
    ("Redmi K70", "Android 14"),
    ("OPPO Reno 11", "Android 14"),
    ("vivo X100", "Android 14"),
    ("荣耀 Magic6", "Android 14"),
    ("Samsung Galaxy S24", "Android 14"),
    ("Pixel 8", "Android 15"),
    ("iPad Air", "iPadOS 17"),
    ("MacBook Air", "macOS 15"),
    ("Windows 11 laptop", "Windows 11"),
];

pub(crate) const CITIES: [Pool; 2] = [
    &[
        "上海",
        "深圳",
        "杭州",
        "北京",
        "成都",
        "广州",
        "南京",
        "武汉",
        "西安",
        "新加坡",
        "香港",
        "东京",
    ],
    &[
        "London",
        "Singapore",
        "Berlin",
        "Toronto",
        "Sydney",
        "Dubai",
        "New York",
        "Lagos",
        "São Paulo",
        "Amsterdam",
        "Madrid",
        "Bangkok",
    ],
];

pub(crate) const COMPANY_PARTS_ZH: [&[&str]; 3] = [
    &[
        "云帆", "星河", "启明", "恒通", "汇智", "鼎盛", "百川", "远航", "蓝海", "嘉禾", "瑞丰",
        "新锐",
    ],
    &[
        "科技",
        "贸易",
        "信息技术",
        "网络",
        "供应链",
        "电子商务",
        "咨询",
    ],
    &["有限公司", "股份有限公司"],
];

pub(crate) const COMPANY_PARTS_EN: [&[&str]; 3] = [
    &[
        "Northwind",
        "Bluepeak",
        "Cedar",
        "Harbor",
        "Silverline",
        "Redwood",
        "Lumen",
        "Atlas",
        "Brightwater",
        "Kestrel",
        "Meridian",
        "Orchid",
    ],
    &[
        "Trading",
        "Consulting",
        "Labs",
        "Logistics",
        "Software",
        "Retail",
        "Studios",
        "Partners",
    ],
    &["Ltd", "GmbH", "LLC", "Pte Ltd", "Inc.", "BV"],
];

pub(crate) const FIELDS: [Pool; 2] = [
    &[
        "绑定手机号",
        "登录邮箱",
        "实名信息",
        "收款账户",
        "联系地址",
        "企业法人信息",
    ],
    &[
        "phone number",
        "email address",
        "legal name",
        "payout account",
        "postal address",
        "company director details",
    ],
];

pub(crate) const ROLES: [Pool; 2] = [
    &["财务管理员", "出纳", "只读成员", "审批人", "运营"],
    &[
        "finance admin",
        "cashier",
        "read-only",
        "approver",
        "operations",
    ],
];

pub(crate) const DOCS: [Pool; 2] = [
    &[
        "营业执照",
        "法人身份证",
        "银行流水",
        "公司章程",
        "地址证明",
        "授权书",
    ],
    &[
        "certificate of incorporation",
        "director's passport",
        "bank statement",
        "articles of association",
        "proof of address",
        "authorisation letter",
    ],
];

pub(crate) const DEPARTMENT_NAMES: [[&str; 2]; 4] = [
    ["客服部", "Support"],
    ["财务部", "Finance"],
    ["技术部", "Tech"],
    ["风控部", "Risk"],
];

/// Values for the `{slot}` placeholders of one ticket.
#[derive(Debug, Clone, Default)]
pub(crate) struct Slots {
    pub name: String,
    pub greet: String,
    pub amount: String,
    pub order: String,
    pub bank: &'static str,
    pub card: String,
    pub device: &'static str,
    pub os: &'static str,
    pub ver: String,
    pub code: &'static str,
    pub err: &'static str,
    pub when: String,
    pub month: String,
    pub city: &'static str,
    pub company: String,
    pub field: &'static str,
    pub role: &'static str,
    pub doc: &'static str,
    pub email: String,
    pub account: String,
    pub merchant: String,
    pub count: u32,
    pub mins: u32,
    pub hours: u32,
    pub topic: &'static str,
    pub agent: String,
    pub colleague: String,
    pub dept: &'static str,
    pub other: String,
}

/// Chinese gloss for error messages, so a Chinese subject can say what went wrong in words.
fn err_zh(code: &str) -> &'static str {
    match code {
        "E1023" => "登录已过期",
        "E1041" => "登录尝试次数过多",
        "E1107" => "设备未识别",
        "E2007" => "短信发送超时",
        "E2031" => "验证码已过期",
        "E2046" => "获取验证码过于频繁",
        "E3005" => "发卡行拒绝交易",
        "E3012" => "超出单日限额",
        "E3050" => "交易被风控拦截",
        "E3088" => "余额不足",
        "E4004" => "账户已冻结",
        "E4102" => "身份信息不一致",
        "E5001" | "E5030" | "E5504" => "系统繁忙",
        "E6107" => "收款行退回",
        _ => "系统错误",
    }
}

/// Replaces every `{slot}` in `template` with its value; unknown slots are kept verbatim so a
/// typo shows up in the data instead of vanishing.
pub(crate) fn fill(template: &str, s: &Slots) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let key = &after[..close];
        match key {
            "name" => out.push_str(&s.name),
            "greet" => out.push_str(&s.greet),
            "amount" => out.push_str(&s.amount),
            "order" => out.push_str(&s.order),
            "bank" => out.push_str(s.bank),
            "card" => out.push_str(&s.card),
            "device" => out.push_str(s.device),
            "os" => out.push_str(s.os),
            "ver" => out.push_str(&s.ver),
            "code" => out.push_str(s.code),
            "err" => out.push_str(s.err),
            "err_zh" => out.push_str(err_zh(s.code)),
            "when" => out.push_str(&s.when),
            "month" => out.push_str(&s.month),
            "city" => out.push_str(s.city),
            "company" => out.push_str(&s.company),
            "field" => out.push_str(s.field),
            "role" => out.push_str(s.role),
            "doc" => out.push_str(s.doc),
            "email" => out.push_str(&s.email),
            "account" => out.push_str(&s.account),
            "merchant" => out.push_str(&s.merchant),
            "count" => out.push_str(&s.count.to_string()),
            "mins" => out.push_str(&s.mins.to_string()),
            "hours" => out.push_str(&s.hours.to_string()),
            "topic" => out.push_str(s.topic),
            "agent" => out.push_str(&s.agent),
            "colleague" => out.push_str(&s.colleague),
            "dept" => out.push_str(s.dept),
            "other" => out.push_str(&s.other),
            _ => {
                out.push('{');
                out.push_str(key);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every placeholder used by a template must be one `fill` knows.
    #[test]
    fn templates_use_only_known_slots() {
        let slots = Slots::default();
        let mut pools: Vec<Pool> = Vec::new();
        for c in Category::BUILT_IN {
            let t = category_text(c);
            for l in 0..2 {
                pools.extend([
                    t.subjects[l],
                    t.problems[l],
                    t.details[l],
                    t.notes[l],
                    t.resolutions[l],
                    t.asks[l],
                ]);
            }
            assert!(t.codes.iter().all(|&i| i < ERROR_CODES.len()));
        }
        for pair in [
            SUBJECT_PREFIX,
            SUBJECT_SUFFIX,
            OPENINGS,
            CLOSINGS,
            FIRST_REPLIES,
            UPDATE_REPLIES,
            CUSTOMER_FOLLOWUPS,
            CUSTOMER_DETAILS,
            REVISIT_REPLIES,
            CUSTOMER_RESUMES,
            CUSTOMER_THANKS,
            GENERIC_NOTES,
            ESCALATION_NOTES,
            DUPLICATE_REPLIES,
            PENDING_REASONS,
            CSAT_GOOD,
            CSAT_BAD,
            REOPEN_REASONS,
            FREEZE_REASONS,
            INTERCEPT_REASONS,
            UNFREEZE_REASONS,
        ] {
            pools.extend(pair);
        }
        for pool in pools {
            assert!(!pool.is_empty());
            for t in pool {
                let filled = fill(t, &slots);
                assert!(!filled.contains('{'), "unknown slot in {t:?}");
            }
        }
    }

    #[test]
    fn fill_replaces_slots() {
        let slots = Slots {
            greet: "王先生".into(),
            code: "E1023",
            ..Slots::default()
        };
        assert_eq!(
            fill("{greet}您好,错误码 {code}({err_zh})", &slots),
            "王先生您好,错误码 E1023(登录已过期)"
        );
    }
}
