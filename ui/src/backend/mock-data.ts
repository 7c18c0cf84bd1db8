// Deterministic demo data for the mock backend: a few hundred tickets in English and Chinese
// with timelines, SLA clocks, verification records and risk actions.
import type {
  Category,
  Channel,
  ClockKind,
  CustomerTier,
  Entry,
  Priority,
  RiskLevel,
  Status,
  Ticket,
  User,
} from "./types";
import type { Template } from "./types";

/** mulberry32: small, fast and deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const DEPARTMENTS = ["support", "finance", "tech", "risk"];

export const USERS: User[] = [
  { id: "u-ana", name: "Ana Lima", email: "ana@example.com", role: "agent", departments: ["support", "risk"], skills: ["en", "zh-CN"], active: true },
  { id: "u-wei", name: "王伟", email: "wei@example.com", role: "agent", departments: ["support", "finance"], skills: ["zh-CN"], active: true },
  { id: "u-li", name: "李娜", email: "li@example.com", role: "agent", departments: ["tech"], skills: ["zh-CN", "en"], active: true },
  { id: "u-omar", name: "Omar Haddad", email: "omar@example.com", role: "agent", departments: ["risk"], skills: ["en"], active: true },
  { id: "u-sam", name: "Sam Patel", email: "sam@example.com", role: "supervisor", departments: DEPARTMENTS, skills: ["en"], active: true },
];

type Seed = { category: Category; en: string; zh: string; enBody: string; zhBody: string };

const SEEDS: Seed[] = [
  { category: "login_anomaly", en: "Login from an unknown country", zh: "账户异地登录提醒", enBody: "I got an alert that someone logged in from abroad. It was not me.", zhBody: "收到异地登录提醒，不是我本人操作。" },
  { category: "account_takeover", en: "Account hijacked, money moved out", zh: "账户被盗登，资金异常转出", enBody: "Someone changed my phone number and transferred money out of my account.", zhBody: "有人改了我的手机号并把钱转走了，请立即冻结账户！" },
  { category: "transaction_failure", en: "Payment failed but card was charged", zh: "支付失败但已扣款", enBody: "The checkout said failed, yet my card shows the charge.", zhBody: "页面显示支付失败，但银行卡已经扣款。" },
  { category: "funds_not_arrived", en: "Refund not received", zh: "退款未到账", enBody: "The merchant refunded me a week ago, the money has not arrived.", zhBody: "商家一周前已退款，钱还没有到账。" },
  { category: "reconciliation_mismatch", en: "Settlement report does not match", zh: "对账单金额不一致", enBody: "Our daily settlement is off by 1,204.50 compared to orders.", zhBody: "今日结算金额与订单总额相差 1204.50 元。" },
  { category: "permission_change", en: "Add a new admin to our business account", zh: "企业账户新增管理员", enBody: "Please give our finance lead admin rights.", zhBody: "请为我们的财务负责人开通管理员权限。" },
  { category: "profile_change", en: "Change registered phone number", zh: "修改绑定手机号", enBody: "I lost my old SIM card and need to change the number.", zhBody: "旧手机号已停用，需要更换绑定手机。" },
  { category: "verification_code_not_received", en: "SMS code never arrives", zh: "收不到短信验证码", enBody: "I requested the code five times, nothing arrives.", zhBody: "验证码点了五次都没有收到。" },
  { category: "activation_failure", en: "Cannot activate my account", zh: "账户激活失败", enBody: "The activation link says expired.", zhBody: "激活链接提示已过期。" },
  { category: "password_reset", en: "Password reset link broken", zh: "重置密码失败", enBody: "Reset link opens a blank page.", zhBody: "点击重置密码链接后页面空白。" },
  { category: "account_restricted", en: "Account restricted without notice", zh: "账户被限制交易", enBody: "I cannot receive payments since yesterday.", zhBody: "从昨天开始无法收款，提示账户受限。" },
  { category: "kyc_review", en: "Business account opening stuck in review", zh: "企业开户审核一直未通过", enBody: "We uploaded all documents ten days ago.", zhBody: "十天前已提交全部材料，审核仍未完成。" },
  { category: "security_alert", en: "Suspicious device added", zh: "账户新增可疑设备", enBody: "A device I don't know appeared in my settings.", zhBody: "设置里出现了一个陌生设备。" },
  { category: "complaint", en: "Very unhappy with the support so far", zh: "对处理速度非常不满", enBody: "Three days and no answer. This is unacceptable.", zhBody: "三天了还没有答复，太让人失望了。" },
  { category: "inquiry", en: "Question about transfer limits", zh: "咨询转账限额", enBody: "What is the daily limit for business transfers?", zhBody: "企业账户每日转账限额是多少？" },
  { category: "technical_fault", en: "App crashes when opening statements", zh: "打开账单时应用闪退", enBody: "Version 8.2 crashes every time on Android.", zhBody: "安卓 8.2 版本每次打开账单都闪退。" },
  { category: "feature_request", en: "Please add CSV export", zh: "希望增加导出 CSV 功能", enBody: "Exporting statements as CSV would save us hours.", zhBody: "希望账单可以导出为 CSV。" },
];

const EN_NAMES = ["Emma Clarke", "Liam Novak", "Sofia Rossi", "Noah Becker", "Mia Jensen", "Lucas Martin", "Olivia Brown", "Ethan Walsh"];
const ZH_NAMES = ["王先生", "李女士", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄磊"];
const CHANNELS: Channel[] = ["web_form", "email", "phone", "chat", "wechat", "app", "api"];
const TIERS: CustomerTier[] = ["standard", "standard", "standard", "vip", "enterprise"];

/** Targets from PRODUCT.md (the mock runs them on a 24×7 calendar). */
export const TARGETS: Record<Priority, Partial<Record<ClockKind, number>>> = {
  P1: { first_response: 15 * 60, periodic_update: 60 * 60, resolution: 2 * 3600 },
  P2: { first_response: 2 * 3600, resolution: 24 * 3600 },
  P3: { first_response: 8 * 3600, resolution: 5 * 86400 },
  P4: { first_response: 2 * 86400, resolution: 10 * 86400 },
};

export type MockTicket = { ticket: Ticket; entries: Entry[]; unsent: number };

const DAY = 86400_000;

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function priorityFor(category: Category, rand: () => number): Priority {
  if (category === "account_takeover") return "P1";
  if (category === "login_anomaly" || category === "security_alert") return rand() < 0.4 ? "P1" : "P2";
  if (category === "feature_request") return "P4";
  return pick(rand, ["P2", "P3", "P3", "P3", "P4"] as const);
}

function riskFor(category: Category, rand: () => number): RiskLevel {
  if (category === "account_takeover") return "L1";
  if (category === "login_anomaly" || category === "security_alert") return rand() < 0.5 ? "L2" : "L3";
  if (category === "transaction_failure") return rand() < 0.2 ? "L3" : "none";
  return "none";
}

function departmentFor(category: Category): string {
  switch (category) {
    case "account_takeover":
    case "login_anomaly":
    case "security_alert":
    case "account_restricted":
    case "kyc_review":
      return "risk";
    case "reconciliation_mismatch":
    case "funds_not_arrived":
    case "transaction_failure":
      return "finance";
    case "technical_fault":
    case "activation_failure":
    case "feature_request":
      return "tech";
    default:
      return "support";
  }
}

/** Builds `count` tickets relative to `nowMs`. */
export function generateTickets(count: number, nowMs: number, seed = 42): MockTicket[] {
  const rand = prng(seed);
  const out: MockTicket[] = [];
  for (let i = 0; i < count; i++) {
    const s = SEEDS[i % SEEDS.length] as Seed;
    const zh = rand() < 0.5;
    const priority = priorityFor(s.category, rand);
    const risk = riskFor(s.category, rand);
    const department = departmentFor(s.category);
    const spread = priority === "P1" ? 0.15 * DAY : priority === "P2" ? 1.5 * DAY : 8 * DAY;
    const createdAt = nowMs - Math.floor(rand() * spread) - 60_000;
    const status: Status = pick(rand, ["new", "triaged", "assigned", "in_progress", "in_progress", "pending", "resolved", "closed"] as const);
    const candidates = USERS.filter((u) => u.departments.includes(department) && u.role === "agent");
    const assignee =
      status === "new" || (status === "triaged" && rand() < 0.7) ? null : (pick(rand, candidates.length ? candidates : USERS) as User).id;
    const id = `t-${String(i + 1).padStart(5, "0")}`;
    // Some tickets from the second round of seeds on come from the customer of the ticket 17
    // before them, with the same kind of problem (sometimes a third time): the recurring issues
    // a monthly report lists.
    const repeatOf = i >= SEEDS.length && (i % 10 === 0 || i % 9 === 0) ? out[i - SEEDS.length] : undefined;
    const drawnName = zh ? pick(rand, ZH_NAMES) : pick(rand, EN_NAMES);
    const name = repeatOf?.ticket.requester.name ?? drawnName;
    const entries: Entry[] = [];
    let entrySeq = 0;
    const at = (offset: number) => iso(Math.min(nowMs - 1000, createdAt + offset));
    const add = (body: Entry["body"], offset: number, author: string | null) => {
      entrySeq += 1;
      entries.push({ id: `${id}-e${entrySeq}`, ticket_id: id, author, body, created_at: at(offset) });
    };
    add({ kind: "event", event: { type: "created" } }, 0, null);
    add({ kind: "customer_message", text: zh ? s.zhBody : s.enBody }, 0, null);
    let firstResponse: string | null = null;
    const answered = status !== "new" && status !== "triaged" && rand() < 0.8;
    if (answered && assignee) {
      const offset = Math.floor(rand() * Math.min(nowMs - createdAt, 3 * 3600_000));
      add({ kind: "reply", text: zh ? "您好，我们已收到您的问题，正在处理中。" : "Hello, we have your request and are working on it." }, offset, assignee);
      firstResponse = at(offset);
    }
    if (assignee && rand() < 0.5) {
      add({ kind: "note", text: zh ? "已联系风控同事确认交易记录。" : "Asked the risk team to check the transaction log." }, 120_000, assignee);
    }
    if (status !== "new") {
      add({ kind: "event", event: { type: "status_changed", from: "new", to: status, reason: null } }, 60_000, assignee);
    }
    if (risk === "L1" || risk === "L2") {
      add(
        {
          kind: "verification",
          checks: [
            { dimension: "sms_code", result: "passed", method: zh ? "短信验证码" : "code sent to the registered number" },
            { dimension: "real_name_info", result: "passed", method: zh ? "核对实名信息" : "asked for registered name and birth date" },
            { dimension: "usual_device", result: rand() < 0.5 ? "passed" : "failed", method: zh ? "设备指纹" : "device fingerprint" },
          ],
        },
        180_000,
        assignee,
      );
    }
    if (risk === "L1" && rand() < 0.3) {
      add({ kind: "risk_action", action: "freeze_account", target: `acct-${1000 + i}`, reason: zh ? "疑似盗号" : "suspected takeover" }, 300_000, assignee);
    }
    const resolvedAt = status === "resolved" || status === "closed" ? at(Math.floor((nowMs - createdAt) * 0.8)) : null;
    const pauses = status === "pending" ? [{ start: at(Math.floor((nowMs - createdAt) * 0.5)), end: null }] : [];
    const ticket: Ticket = {
      id,
      key: i === count - 1 ? null : `OP-${1000 + i}`,
      subject: zh ? s.zh : s.en,
      description: zh ? s.zhBody : s.enBody,
      requester: {
        name,
        contact: repeatOf?.ticket.requester.contact ?? (zh ? `+86 138 0000 ${String(1000 + i).slice(-4)}` : `customer${i}@example.org`),
        account_id: repeatOf?.ticket.requester.account_id ?? `acct-${1000 + i}`,
        tier: pick(rand, TIERS),
      },
      channel: pick(rand, CHANNELS),
      language: zh ? "zh-CN" : "en",
      category: s.category,
      tags: rand() < 0.3 ? ["vip-watch"] : [],
      priority,
      risk,
      status,
      assignee,
      department,
      created_at: iso(createdAt),
      updated_at: entries[entries.length - 1]?.created_at ?? iso(createdAt),
      first_response_at: firstResponse,
      last_update_at: firstResponse,
      resolved_at: resolvedAt,
      closed_at: status === "closed" ? resolvedAt : null,
      revisit_due_at: null,
      pauses,
      csat: status === "closed" && rand() < 0.5 ? { score: 1 + Math.floor(rand() * 5), comment: null, at: resolvedAt ?? iso(nowMs) } : null,
      links: [],
      revision: 1 + i,
    };
    if (ticket.csat) {
      const at = ticket.csat.at;
      entries.push({ id: `${id}-e${(entrySeq += 1)}`, ticket_id: id, author: null, body: { kind: "event", event: { type: "csat_received", score: ticket.csat.score } }, created_at: at });
      if (ticket.csat.score <= LOW_CSAT) {
        // A low score reopens the ticket; someone has to call the customer back within 24 h.
        const to: Status = ticket.assignee ? "assigned" : "triaged";
        entries.push({ id: `${id}-e${(entrySeq += 1)}`, ticket_id: id, author: null, body: { kind: "event", event: { type: "reopened", from: ticket.status, to, reason: null } }, created_at: at });
        ticket.status = to;
        ticket.resolved_at = null;
        ticket.closed_at = null;
        ticket.revisit_due_at = iso(Date.parse(at) + REVISIT_HOURS * 3600_000);
      }
      ticket.updated_at = at;
    }
    out.push({ ticket, entries, unsent: 0 });
  }
  return out;
}

/** Scores at or below this reopen the ticket (the server's threshold). */
export const LOW_CSAT = 2;
/** A reopened ticket's satisfaction revisit is due this many hours after the score. */
export const REVISIT_HOURS = 24;

export const TEMPLATES: Template[] = [
  { id: "tpl-ack-en", name: "Acknowledge", language: "en", categories: [], body: "Hello {{customer.name}},\n\nThank you for contacting us about \"{{ticket.subject}}\" ({{ticket.key}}). We are looking into it and will update you shortly.\n\nBest regards,\n{{agent.name}}" },
  { id: "tpl-ack-zh", name: "受理确认", language: "zh-CN", categories: [], body: "{{customer.name}}，您好：\n\n您反馈的「{{ticket.subject}}」（{{ticket.key}}）我们已受理，正在处理中，会尽快回复您。\n\n{{agent.name}}" },
  { id: "tpl-freeze-en", name: "Account frozen for your safety", language: "en", categories: ["account_takeover", "login_anomaly", "security_alert"], body: "Hello {{customer.name}},\n\nWe have frozen your account as a precaution. Please do not share any codes with anyone. We will contact you to verify your identity.\n\n{{agent.name}} ({{ticket.key}})" },
  { id: "tpl-freeze-zh", name: "账户已临时冻结", language: "zh-CN", categories: ["account_takeover", "login_anomaly", "security_alert"], body: "{{customer.name}}，您好：\n\n为保障资金安全，我们已临时冻结您的账户。请勿向任何人透露验证码，我们将尽快联系您核验身份。\n\n{{agent.name}}（{{ticket.key}}）" },
  { id: "tpl-refund-en", name: "Refund timeline", language: "en", categories: ["funds_not_arrived", "transaction_failure"], body: "Hello {{customer.name}},\n\nRefunds usually arrive within 3–5 business days. We have asked the bank to trace yours.\n\n{{agent.name}}" },
  { id: "tpl-refund-zh", name: "退款到账时间", language: "zh-CN", categories: ["funds_not_arrived", "transaction_failure"], body: "{{customer.name}}，您好：\n\n退款一般在 3–5 个工作日内到账，我们已联系银行协助查询。\n\n{{agent.name}}" },
  { id: "tpl-code-zh", name: "收不到验证码", language: "zh-CN", categories: ["verification_code_not_received"], body: "{{customer.name}}，您好：请检查短信拦截设置，并在 60 秒后重试。如仍未收到，请回复本工单 {{ticket.key}}。" },
];
