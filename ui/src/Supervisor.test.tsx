import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, within } from "@solidjs/testing-library";
import { App } from "./App";
import type { AuditPage, QueueFilter, QueuePage, Report, TicketDetail } from "./backend";
import { FakeBackend, recorded } from "./backend/mock";
import { eventually, mockBackend, stubViewport, supervisorBackend } from "./test/helpers";

let restoreViewport: () => void;
beforeEach(() => {
  restoreViewport = stubViewport(560);
  localStorage.clear();
});
afterEach(() => restoreViewport());

function start(mock: FakeBackend) {
  render(() => <App backend={mock} />);
  return mock;
}

const hidden = (el: HTMLElement) => el.closest(".is-hidden") !== null;

describe("supervisor screens in the desk", () => {
  it("are not offered to agents", async () => {
    const mock = start(mockBackend());
    await eventually(() => screen.getByTestId("view-revisit"));
    expect(screen.queryByTestId("nav-audit")).toBeNull();
    expect(screen.queryByTestId("nav-reports")).toBeNull();
    expect(screen.queryByTestId("audit-screen")).toBeNull();
    expect(screen.queryByTestId("reports-screen")).toBeNull();
    expect(mock.callsTo("audit_page")).toHaveLength(0);
    expect(mock.callsTo("report")).toHaveLength(0);
  });

  it("open Audit and Reports from the sidebar, keep them while the queue is shown, and open a report's ticket in the queue", async () => {
    // The recorded report with a recurring issue: the first ticket by key, the second (not
    // synced yet) by id.
    const report = recorded<Report>("report.recurring");
    const [byKey, byId] = report.recurring[0]!.tickets;
    const detail = recorded<TicketDetail>("ticket.sensitive");
    expect(byKey).toBe(detail.ticket.key);
    const mock = start(supervisorBackend().on("report", report));
    await eventually(() => screen.getByTestId("nav-audit"));
    fireEvent.click(screen.getByTestId("nav-audit"));
    const audit = await eventually(() => screen.getByTestId("audit-screen"));
    const page = recorded<AuditPage>("audit_page.first");
    await eventually(() => expect(within(audit).getAllByTestId("audit-row")).toHaveLength(page.events.length));
    expect(hidden(screen.getByTestId("queue-list"))).toBe(true);
    expect(screen.getByTestId("nav-audit").getAttribute("aria-current")).toBe("page");

    fireEvent.click(screen.getByTestId("nav-reports"));
    const reports = await eventually(() => screen.getByTestId("reports-screen"));
    expect(hidden(audit)).toBe(true);
    expect(hidden(reports)).toBe(false);
    const keys = await eventually(() => within(screen.getByTestId("report-section-recurring")).getAllByTestId("report-ticket-key"));
    expect(keys.map((k) => k.textContent)).toEqual([byKey, byId]);
    fireEvent.click(keys[0]!);
    await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(byKey));
    expect(mock.callsTo("resolve_key").at(-1)!.args).toEqual({ key: byKey });
    expect(mock.callsTo("ticket").at(-1)!.args).toEqual({ id: detail.ticket.id });
    expect(hidden(screen.getByTestId("queue-list"))).toBe(false);
    expect(hidden(reports)).toBe(true);

    // A ticket named by its id opens without asking the Desk for a key.
    fireEvent.click(screen.getByTestId("nav-reports"));
    const resolved = mock.callsTo("resolve_key").length;
    fireEvent.click(within(screen.getByTestId("report-section-recurring")).getAllByTestId("report-ticket-key")[1]!);
    const id = byId!.toLowerCase().replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");
    await eventually(() => expect(screen.getByTestId("ticket-pane").textContent).toContain(recorded<TicketDetail>("ticket.called_again").ticket.subject));
    expect(mock.callsTo("ticket").at(-1)!.args).toEqual({ id });
    expect(mock.callsTo("resolve_key")).toHaveLength(resolved);

    // Back on the audit screen: the page loaded before is still there (no new request).
    const pages = mock.callsTo("audit_page").length;
    fireEvent.click(screen.getByTestId("nav-audit"));
    expect(hidden(audit)).toBe(false);
    expect(within(audit).getAllByTestId("audit-row")).toHaveLength(page.events.length);
    expect(mock.callsTo("audit_page")).toHaveLength(pages);
  });
});

describe("Revisit due", () => {
  it("is a saved view with the Desk's count, asks for revisit rows, and badges them", async () => {
    // Two recorded rows, with the revisit time the Desk would give tickets a low score reopened.
    const nowMs = Date.now();
    const page = recorded<QueuePage>("queue.all");
    const [due, late] = page.rows;
    due!.revisit_due_at = new Date(nowMs + 3 * 3_600_000 + 60_000).toISOString();
    late!.revisit_due_at = new Date(nowMs - 2 * 3_600_000 - 60_000).toISOString();
    const revisit = { rows: [due!, late!], next: null };
    const isRevisit = (args: Record<string, unknown>) => (args.filter as QueueFilter).revisit;
    const mock = mockBackend()
      .on("queue", (args) => (isRevisit(args) ? revisit : recorded("queue.all")))
      .on("queue_count", (args) => (isRevisit(args) ? 2 : recorded("queue_count.all")));
    start(mock);
    const view = await eventually(() => screen.getByTestId("view-revisit"));
    await eventually(() => expect(view.textContent).toBe("Revisit due2"));
    fireEvent.click(view);
    await eventually(() => expect(screen.getByTestId("queue-total").textContent).toBe("2 tickets"));
    expect(mock.callsTo("queue").at(-1)!.args.filter).toMatchObject({ revisit: true, statuses: [] });
    const rows = await eventually(() => {
      const r = screen.getAllByTestId("queue-row").filter((el) => !el.classList.contains("placeholder"));
      expect(r).toHaveLength(2);
      return r;
    });
    const badge = (key: string | null) => within(rows.find((r) => r.dataset.key === key)!).getByTestId("revisit-badge");
    expect(badge(due!.key).textContent).toBe("Revisit due in 3 h");
    expect(badge(due!.key).dataset.state).toBe("due");
    expect(badge(late!.key).textContent).toBe("Revisit overdue by 2 h");
    expect(badge(late!.key).dataset.state).toBe("overdue");
  });
});
