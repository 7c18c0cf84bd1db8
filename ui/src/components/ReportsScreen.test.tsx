import { describe, expect, it, vi } from "vitest";
import { createSignal } from "solid-js";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { ReportsScreen } from "./ReportsScreen";
import { deskContext, eventually, renderInDesk, supervisorBackend } from "../test/helpers";
import { MockBackend } from "../backend/mock";
import type { ReportParams } from "../backend";
import { SECTIONS } from "../lib/reports";
import { en } from "../i18n/en";
import { dateInput } from "../lib/reports";
import { setLang } from "../i18n";

const H = 3_600_000;
const NOW = new Date(2025, 2, 20, 12).getTime();
const iso = (ms: number) => new Date(ms).toISOString();

/** Eight closed P3 tickets in March 2025 (targets: first response 8 h, resolution 5 d) and one in February. */
function marchBackend(): MockBackend {
  const mock = new MockBackend({ signedIn: true, latency: 0, tickets: 0, user: "sam@example.com", now: () => NOW });
  const closed = (dep: string, category: "login_anomaly" | "funds_not_arrived" | "password_reset" | "complaint" | "inquiry", account: string, created: Date, fr: number, res: number, assignee: string, csat?: number) => {
    const c = created.getTime();
    mock.addTicket({
      subject: `${category} ${account}`,
      department: dep,
      category,
      requester: { name: "Customer", contact: "c@example.org", account_id: account, tier: "standard" },
      priority: "P3",
      risk: "none",
      status: "closed",
      assignee,
      channel: "email",
      tags: [],
      created_at: iso(c),
      first_response_at: iso(c + fr * H),
      last_update_at: iso(c + fr * H),
      resolved_at: iso(c + res * H),
      closed_at: iso(c + res * H),
      pauses: [],
      csat: csat ? { score: csat, comment: null, at: iso(c + res * H) } : null,
      revisit_due_at: null,
    });
  };
  const march = (d: number) => new Date(2025, 2, d, 9);
  closed("support", "login_anomaly", "acct-9", march(2), 1, 24, "u-ana", 5);
  closed("support", "login_anomaly", "acct-9", march(5), 2, 48, "u-ana");
  closed("risk", "login_anomaly", "acct-9", march(9), 10, 48, "u-omar", 1);
  closed("risk", "funds_not_arrived", "acct-7", march(3), 9, 144, "u-omar");
  closed("finance", "funds_not_arrived", "acct-7", march(6), 1, 144, "u-wei", 4);
  closed("finance", "password_reset", "acct-1", march(7), 1, 24, "u-wei");
  closed("finance", "password_reset", "acct-2", march(8), 1, 24, "u-wei");
  closed("support", "complaint", "acct-3", march(10), 1, 24, "u-ana");
  closed("support", "inquiry", "acct-4", new Date(2025, 1, 20, 9), 1, 24, "u-ana");
  return mock;
}

async function mount(mock: MockBackend, onOpenTicket: (key: string) => void = () => undefined) {
  const ctx = await deskContext(mock);
  renderInDesk(ctx, () => <ReportsScreen onOpenTicket={onOpenTicket} />);
  await eventually(() => screen.getByTestId("report-totals"));
}

function customPeriod(from: string, to: string) {
  fireEvent.change(screen.getByTestId("report-period"), { target: { value: "custom" } });
  fireEvent.change(screen.getByTestId("report-from"), { target: { value: from } });
  fireEvent.change(screen.getByTestId("report-to"), { target: { value: to } });
}

const lastParams = (mock: MockBackend) => mock.callsTo("report").at(-1)!.args.params as ReportParams;

describe("reports screen", () => {
  it("renders every section with its table, and exports a table as CSV", async () => {
    const mock = supervisorBackend({ tickets: 150 });
    await mount(mock);
    const today = new Date();
    customPeriod(dateInput(new Date(today.getTime() - 30 * 86_400_000)), dateInput(today));
    await eventually(() => expect(lastParams(mock).from).toBe(new Date(today.getFullYear(), today.getMonth(), today.getDate() - 30).toISOString()));
    await eventually(() => expect(screen.getByTestId("report-total-created").textContent).toBe("150"));
    for (const s of SECTIONS) {
      const section = screen.getByTestId(`report-section-${s}`);
      expect(within(section).getByTestId("report-table").querySelectorAll("tbody tr").length, s).toBeGreaterThan(0);
      expect(within(section).getByTestId(`report-export-${s}`)).toBeTruthy();
    }
    expect(screen.getByTestId("report-section-sla-departments").textContent).toContain(en["report.section.sla-departments"]);

    const report = await mock.report(lastParams(mock));
    const categories = screen.getByTestId("report-section-categories");
    const top = within(categories).getAllByRole("row").filter((r) => r.dataset.top === "true");
    expect(top).toHaveLength(3);
    fireEvent.click(within(categories).getByTestId("report-export-categories"));
    const saved = await eventually(() => within(categories).getByTestId("report-saved-categories"));
    const [path] = [...mock.savedFiles.keys()];
    expect(path).toBe(`/home/sam/Downloads/outpost-report-categories-${dateInput(new Date(today.getTime() - 30 * 86_400_000))}-${dateInput(today)}.csv`);
    expect(saved.textContent).toMatch(new RegExp(`^Saved to ${path!.replace(/[.()]/g, "\\$&")} \\([\\d,]+ bytes\\)\\.$`));
    const expected =
      '\uFEFF"Category","Count","Top 3"\r\n' +
      report.by_category.map((c) => `"${en[`category.${c.key}` as keyof typeof en]}",${c.count},${c.top ? '"top 3"' : ""}`).join("\r\n") +
      "\r\n";
    expect(mock.savedFiles.get(path!)).toBe(expected);
    expect(mock.callsTo("save_file")[0]!.args.name).toBe(path!.split("/").pop());
  });

  it("ranks departments by SLA attainment and exports the ranking", async () => {
    const mock = marchBackend();
    await mount(mock);
    customPeriod("2025-03-01", "2025-03-31");
    await eventually(() => expect(screen.getByTestId("report-total-created").textContent).toBe("8"));
    expect(screen.getByTestId("report-total-attainment").textContent).toBe("75.0 %");
    const section = screen.getByTestId("report-section-sla-departments");
    const cells = within(section)
      .getAllByRole("row")
      .slice(1)
      .map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent));
    expect(cells).toEqual([
      ["1", "Support", "3", "6", "0", "100.0 %"],
      ["2", "Finance", "3", "5", "1", "83.3 %"],
      ["3", "Risk", "2", "1", "3", "25.0 %"],
    ]);
    expect(section.querySelector("canvas")!.getAttribute("aria-label")).toBe("Department SLA ranking: 1. Support 100 %, 2. Finance 83.3 %, 3. Risk 25 %");
    fireEvent.click(within(section).getByTestId("report-export-sla-departments"));
    await eventually(() => within(section).getByTestId("report-saved-sla-departments"));
    expect(mock.savedFiles.get("/home/sam/Downloads/outpost-report-sla-departments-2025-03-01-2025-03-31.csv")).toBe(
      '\uFEFF"Rank","Department","Tickets","Met","Breached","Attainment (%)"\r\n1,"Support",3,6,0,100\r\n2,"Finance",3,5,1,83.3\r\n3,"Risk",2,1,3,25\r\n',
    );
    const times = within(screen.getByTestId("report-section-times")).getAllByRole("row").slice(1).map((r) => r.textContent);
    // First responses 1, 1, 1, 1, 1, 2, 9, 10 h; resolutions 24 ×4, 48 ×2, 144 ×2 h.
    expect(times).toEqual(["First response81 h 0 min9 h 18 min", "Resolution81 d 12 h6 d 0 h"]);
  });

  it("says what would appear when the period has nothing", async () => {
    const mock = marchBackend();
    await mount(mock);
    customPeriod("2020-01-01", "2020-01-07");
    await eventually(() => expect(screen.getByTestId("report-total-created").textContent).toBe("0"));
    for (const s of SECTIONS) {
      const section = screen.getByTestId(`report-section-${s}`);
      expect(within(section).getByTestId("report-empty").textContent, s).toBe(en[`report.empty.${s}` as keyof typeof en]);
    }
    customPeriod("2020-01-07", "2020-01-01");
    await eventually(() => expect(screen.getByRole("alert").textContent).toBe(en["report.period_invalid"]));
  });

  it("applies the department and agent scope", async () => {
    const mock = marchBackend();
    await mount(mock);
    fireEvent.click(screen.getByTestId("report-department-finance"));
    fireEvent.click(screen.getByTestId("report-department-risk"));
    fireEvent.change(screen.getByTestId("report-agent"), { target: { value: "u-wei" } });
    await eventually(() => expect(lastParams(mock)).toMatchObject({ departments: ["finance", "risk"], assignee: "u-wei", recurring_days: 30 }));
    expect(lastParams(mock).utc_offset_minutes).toBe(-new Date(lastParams(mock).from).getTimezoneOffset());
  });
});

describe("freshness", () => {
  it("recomputes after local changes while shown, and when shown again after changes while hidden", async () => {
    const mock = marchBackend();
    const ctx = await deskContext(mock);
    const [active, setActive] = createSignal(true);
    renderInDesk(ctx, () => <ReportsScreen onOpenTicket={() => undefined} active={active()} />);
    await eventually(() => screen.getByTestId("report-totals"));
    const calls = () => mock.callsTo("report").length;
    const before = calls();
    ctx.emit({ kind: "changes", notice: { tickets: ["t-x1"], revoked: [], everything: false } });
    await eventually(() => expect(calls()).toBe(before + 1), 3000);
    setActive(false);
    ctx.emit({ kind: "changes", notice: { tickets: ["t-x1"], revoked: [], everything: false } });
    await new Promise((r) => setTimeout(r, 1200));
    expect(calls()).toBe(before + 1);
    setActive(true);
    await eventually(() => expect(calls()).toBe(before + 2));
  });
});

describe("monthly summary", () => {
  it("shows the month's headline figures: totals, top 3 types, department ranking, satisfaction, recurring issues", async () => {
    const mock = marchBackend();
    const open = vi.fn();
    await mount(mock, open);
    fireEvent.click(screen.getByTestId("report-tab-monthly"));
    fireEvent.change(screen.getByTestId("monthly-month"), { target: { value: "2025-03" } });
    await eventually(() => expect(lastParams(mock)).toMatchObject({ from: new Date(2025, 2, 1).toISOString(), to: new Date(2025, 3, 1).toISOString() }));
    const summary = await eventually(() => {
      const el = screen.getByTestId("monthly-summary");
      expect(within(el).getByTestId("monthly-created").textContent).toBe("8");
      return el;
    });
    expect(within(summary).getByRole("heading", { level: 3 }).textContent).toBe("Monthly summary — March 2025");
    expect(within(summary).getByTestId("monthly-resolved").textContent).toBe("8");
    expect(within(summary).getByTestId("monthly-attainment").textContent).toBe("75.0 %");
    const items = (id: string) => within(within(summary).getByTestId(id)).getAllByRole("listitem").map((li) => li.textContent);
    expect(items("monthly-top-types")).toEqual(["Login anomaly3 (37.5 %)", "Funds not arrived2 (25.0 %)", "Password reset2 (25.0 %)"]);
    expect(items("monthly-ranking")).toEqual(["1. Support100.0 % · tickets: 3", "2. Finance83.3 % · tickets: 3", "3. Risk25.0 % · tickets: 2"]);
    const csat = within(summary).getByTestId("monthly-csat");
    expect(csat.textContent).toContain("Average 3.33 · responses: 3 · low scores (1–2): 1");
    expect(items("monthly-csat").map((t) => t!.slice(1))).toEqual(["1", "0", "0", "1", "1"]);
    const recurring = within(summary).getByTestId("monthly-recurring");
    expect(recurring.textContent).toContain("Recurring issues: 2 · accounts: 2 · tickets: 5");
    const frequency = within(recurring).getAllByTestId("report-table")[0]!;
    expect([...frequency.querySelectorAll("tbody tr")].map((r) => r.textContent)).toEqual(["31", "21"]);
    const keys = within(recurring).getAllByTestId("report-ticket-key").map((b) => b.textContent);
    expect(keys).toEqual(["OP-5001", "OP-5002", "OP-5003", "OP-5004", "OP-5005"]);
    fireEvent.click(within(recurring).getAllByTestId("report-ticket-key")[2]!);
    expect(open).toHaveBeenCalledWith("OP-5003");

    setLang("zh-CN");
    await eventually(() => expect(within(summary).getByRole("heading", { level: 3 }).textContent).toBe("月度汇总 — 2025年3月"));
    expect(items("monthly-top-types")[0]).toBe("登录异常3 个（37.5 %）");
  });
});
