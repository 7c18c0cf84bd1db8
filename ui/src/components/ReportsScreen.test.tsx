import { describe, expect, it, vi } from "vitest";
import { createSignal } from "solid-js";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { ReportsScreen } from "./ReportsScreen";
import { deskContext, eventually, renderInDesk, supervisorBackend } from "../test/helpers";
import { FakeBackend, recorded, recordedError } from "../backend/mock";
import type { Directory, Report, ReportParams, SavedFile } from "../backend";
import { errorText } from "../lib/errors";
import { dateInput, departmentName, formatMinutes, formatRate, labelOf, SECTIONS } from "../lib/reports";
import { en } from "../i18n/en";
import { setLang } from "../i18n";
import { loadCatalogue } from "../lib/categories";
import { ownCategoriesView } from "../test/admin";

/** The recorded report of the last 30 days with a recurring issue (every section has rows). */
const full = () => recorded<Report>("report.recurring");

async function mount(mock: FakeBackend, onOpenTicket: (key: string) => void = () => undefined) {
  const ctx = await deskContext(mock);
  renderInDesk(ctx, () => <ReportsScreen onOpenTicket={onOpenTicket} />);
  await eventually(() => screen.getByTestId("report-totals"));
}

function customPeriod(from: string, to: string) {
  fireEvent.change(screen.getByTestId("report-period"), { target: { value: "custom" } });
  fireEvent.change(screen.getByTestId("report-from"), { target: { value: from } });
  fireEvent.change(screen.getByTestId("report-to"), { target: { value: to } });
}

const lastParams = (mock: FakeBackend) => mock.callsTo("report").at(-1)!.args.params as ReportParams;
const cells = (section: HTMLElement, table = 0) =>
  [...within(section).getAllByTestId("report-table")[table]!.querySelectorAll("tbody tr")].map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent));

describe("reports screen", () => {
  it("asks for the period, renders every section of the Desk's report, and exports a table as CSV", async () => {
    const report = full();
    const mock = supervisorBackend().on("report", report).on("save_file", recorded<SavedFile>("save_file.report"));
    await mount(mock);
    const today = new Date();
    const from = new Date(today.getTime() - 30 * 86_400_000);
    customPeriod(dateInput(from), dateInput(today));
    await eventually(() => expect(lastParams(mock).from).toBe(new Date(today.getFullYear(), today.getMonth(), today.getDate() - 30).toISOString()));
    expect(lastParams(mock).to).toBe(new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1).toISOString());
    expect(screen.getByTestId("report-total-created").textContent).toBe(String(report.created));
    expect(screen.getByTestId("report-total-resolved").textContent).toBe(String(report.resolved));
    expect(screen.getByTestId("report-total-attainment").textContent).toBe(formatRate(report.sla_total.overall.rate, "en"));
    for (const s of SECTIONS) {
      const section = screen.getByTestId(`report-section-${s}`);
      expect(within(section).getByTestId("report-table").querySelectorAll("tbody tr").length, s).toBeGreaterThan(0);
      expect(within(section).getByTestId(`report-export-${s}`)).toBeTruthy();
    }

    const categories = screen.getByTestId("report-section-categories");
    const top = within(categories).getAllByRole("row").filter((r) => r.dataset.top === "true");
    expect(top).toHaveLength(report.by_category.filter((c) => c.top).length);
    fireEvent.click(within(categories).getByTestId("report-export-categories"));
    const saved = await eventually(() => within(categories).getByTestId("report-saved-categories"));
    const file = recorded<SavedFile>("save_file.report");
    expect(saved.textContent).toBe(`Saved to ${file.path} (${file.bytes} bytes).`);
    const call = mock.callsTo("save_file")[0]!.args;
    expect(call.name).toBe(`outpost-report-categories-${dateInput(from)}-${dateInput(today)}.csv`);
    expect(call.content).toBe(
      '\uFEFF"Category","Count","Top 3"\r\n' +
        report.by_category.map((c) => `"${en[`category.${c.key}` as keyof typeof en]}",${c.count},${c.top ? '"top 3"' : ""}`).join("\r\n") +
        "\r\n",
    );
  });

  it("shows the Desk's department ranking and times as tables, chart and CSV", async () => {
    const report = full();
    const mock = supervisorBackend().on("report", report).on("save_file", recorded<SavedFile>("save_file.report"));
    await mount(mock);
    const section = screen.getByTestId("report-section-sla-departments");
    const rate = (r: number | null) => formatRate(r, "en");
    expect(cells(section)).toEqual(
      report.department_ranking.map((d) => [String(d.rank), departmentName(d.department), String(d.tickets), String(d.attainment.met), String(d.attainment.breached), rate(d.attainment.rate)]),
    );
    const short = (r: number | null) => String(Math.round(r! * 1000) / 10);
    expect(section.querySelector("canvas")!.getAttribute("aria-label")).toBe(
      `Department SLA ranking: ${report.department_ranking.map((d) => `${d.rank}. ${departmentName(d.department)} ${short(d.attainment.rate)} %`).join(", ")}`,
    );
    fireEvent.click(within(section).getByTestId("report-export-sla-departments"));
    await eventually(() => within(section).getByTestId("report-saved-sla-departments"));
    expect(mock.callsTo("save_file")[0]!.args.content).toBe(
      '\uFEFF"Rank","Department","Tickets","Met","Breached","Attainment (%)"\r\n' +
        report.department_ranking.map((d) => `${d.rank},"${departmentName(d.department)}",${d.tickets},${d.attainment.met},${d.attainment.breached},${short(d.attainment.rate)}`).join("\r\n") +
        "\r\n",
    );
    const times = within(screen.getByTestId("report-section-times"))
      .getAllByRole("row")
      .slice(1)
      .map((r) => r.textContent);
    const line = (label: string, s: Report["first_response"]) => `${label}${s.count}${formatMinutes(s.median_minutes)}${formatMinutes(s.p90_minutes)}`;
    expect(times).toEqual([line("First response", report.first_response), line("Resolution", report.resolution)]);
  });

  it("says what would appear when the Desk's report is empty, and refuses a reversed period", async () => {
    const empty = recorded<Report>("report.empty");
    expect(empty.created).toBe(0);
    const mock = supervisorBackend().on("report", empty);
    await mount(mock);
    for (const s of SECTIONS) {
      const section = screen.getByTestId(`report-section-${s}`);
      expect(within(section).getByTestId("report-empty").textContent, s).toBe(en[`report.empty.${s}` as keyof typeof en]);
    }
    customPeriod("2020-01-01", "2020-01-07");
    await eventually(() => expect(lastParams(mock).to).toBe(new Date(2020, 0, 8).toISOString()));
    const asked = mock.callsTo("report").length;
    fireEvent.change(screen.getByTestId("report-from"), { target: { value: "2020-01-09" } });
    await eventually(() => expect(screen.getByRole("alert").textContent).toBe(en["report.period_invalid"]));
    expect(mock.callsTo("report")).toHaveLength(asked);
  });

  it("sends the department and agent scope", async () => {
    const mock = supervisorBackend().on("report", full());
    await mount(mock);
    const agent = recorded<Directory>("directory").users.find((u) => u.role === "agent")!;
    fireEvent.click(screen.getByTestId("report-department-finance"));
    fireEvent.click(screen.getByTestId("report-department-risk"));
    fireEvent.change(screen.getByTestId("report-agent"), { target: { value: agent.id } });
    await eventually(() => expect(lastParams(mock)).toMatchObject({ departments: ["finance", "risk"], assignee: agent.id, recurring_days: 30 }));
    expect(lastParams(mock).utc_offset_minutes).toBe(-new Date(lastParams(mock).from).getTimezoneOffset());
  });

  it("shows the Desk's refusal", async () => {
    // The Desk refuses reports to anyone who is not a supervisor (recorded on an agent's desk).
    const refusal = recordedError("report.agent");
    const mock = supervisorBackend().on("report", refusal);
    const ctx = await deskContext(mock);
    renderInDesk(ctx, () => <ReportsScreen onOpenTicket={() => undefined} />);
    await eventually(() => expect(screen.getByTestId("report-error").textContent).toBe(errorText(refusal)));
    expect(errorText(refusal)).toBe(en["error.forbidden"]);
    expect(screen.queryByTestId("report-totals")).toBeNull();
  });
});

describe("freshness", () => {
  it("recomputes after local changes while shown, and when shown again after changes while hidden", async () => {
    const mock = supervisorBackend().on("report", full());
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
  it("asks for the month and shows the Desk's headline figures: totals, top 3 types, ranking, satisfaction, recurring issues", async () => {
    const report = full();
    const mock = supervisorBackend().on("report", report);
    const open = vi.fn();
    await mount(mock, open);
    fireEvent.click(screen.getByTestId("report-tab-monthly"));
    fireEvent.change(screen.getByTestId("monthly-month"), { target: { value: "2026-10" } });
    await eventually(() => expect(lastParams(mock)).toMatchObject({ from: new Date(2026, 9, 1).toISOString(), to: new Date(2026, 10, 1).toISOString() }));
    const summary = await eventually(() => screen.getByTestId("monthly-summary"));
    expect(within(summary).getByRole("heading", { level: 3 }).textContent).toBe("Monthly summary — October 2026");
    expect(within(summary).getByTestId("monthly-created").textContent).toBe(String(report.created));
    expect(within(summary).getByTestId("monthly-resolved").textContent).toBe(String(report.resolved));
    expect(within(summary).getByTestId("monthly-attainment").textContent).toBe(formatRate(report.sla_total.overall.rate, "en"));
    const items = (id: string) => within(within(summary).getByTestId(id)).getAllByRole("listitem").map((li) => li.textContent);
    expect(items("monthly-top-types")).toEqual(
      report.by_category.filter((c) => c.top).map((c) => `${labelOf("category", c.key)}${c.count} (${formatRate(c.count / report.created, "en")})`),
    );
    expect(items("monthly-ranking")).toEqual(
      report.department_ranking.map((d) => `${d.rank}. ${departmentName(d.department)}${formatRate(d.attainment.rate, "en")} · tickets: ${d.tickets}`),
    );
    const csat = within(summary).getByTestId("monthly-csat");
    expect(csat.textContent).toContain(`Average ${report.csat.average!.toFixed(2)} · responses: ${report.csat.responses} · low scores (1–2): ${report.csat.low}`);
    expect(items("monthly-csat").map((t) => t!.slice(1))).toEqual(report.csat.distribution.map(String));
    const recurring = within(summary).getByTestId("monthly-recurring");
    const issue = report.recurring[0]!;
    expect(recurring.textContent).toContain(`Recurring issues: ${report.recurring.length} · accounts: 1 · tickets: ${issue.count}`);
    expect(cells(recurring, 0)).toEqual([[String(issue.count), "1"]]);
    const keys = within(recurring).getAllByTestId("report-ticket-key");
    expect(keys.map((b) => b.textContent)).toEqual(issue.tickets);
    fireEvent.click(keys[0]!);
    expect(open).toHaveBeenCalledWith(issue.tickets[0]);

    setLang("zh-CN");
    await eventually(() => expect(within(summary).getByRole("heading", { level: 3 }).textContent).toBe("月度汇总 — 2026年10月"));
    const first = report.by_category.find((c) => c.top)!;
    expect(items("monthly-top-types")[0]).toBe(`${labelOf("category", first.key)}${first.count} 个（${formatRate(first.count / report.created, "zh-CN")}）`);
  });
});

describe("an organisation's own category in reports", () => {
  it("is named as the catalogue names it, in the table, the CSV and the monthly top types", async () => {
    const report = full();
    const top = report.by_category.find((c) => c.top)!;
    top.key = "merchant_onboarding";
    const mock = supervisorBackend().on("report", report).on("save_file", recorded<SavedFile>("save_file.report"));
    mock.on("org_settings", ownCategoriesView());
    await loadCatalogue(mock);
    try {
      await mount(mock);
      const section = screen.getByTestId("report-section-categories");
      await eventually(() => expect(cells(section).map((r) => r[0])).toContain("Merchant onboarding"));
      fireEvent.click(within(section).getByTestId("report-export-categories"));
      await eventually(() => expect(mock.callsTo("save_file")).toHaveLength(1));
      expect(String(mock.callsTo("save_file")[0]!.args.content)).toContain('"Merchant onboarding"');
      fireEvent.click(screen.getByTestId("report-tab-monthly"));
      const summary = await eventually(() => screen.getByTestId("monthly-summary"));
      await eventually(() => expect(within(within(summary).getByTestId("monthly-top-types")).getAllByRole("listitem")[0]!.textContent).toContain("Merchant onboarding"));
      setLang("zh-CN");
      await eventually(() => expect(within(within(summary).getByTestId("monthly-top-types")).getAllByRole("listitem")[0]!.textContent).toContain("商户入驻"));
    } finally {
      setLang("en");
      await loadCatalogue(supervisorBackend());
    }
  });
});
