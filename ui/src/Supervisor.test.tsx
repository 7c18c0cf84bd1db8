import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, within } from "@solidjs/testing-library";
import { App } from "./App";
import { MockBackend } from "./backend/mock";
import { eventually, stubViewport } from "./test/helpers";
import { savedViews } from "./lib/views";

let restoreViewport: () => void;
beforeEach(() => {
  restoreViewport = stubViewport(560);
  localStorage.clear();
});
afterEach(() => restoreViewport());

function start(mock: MockBackend) {
  render(() => <App backend={mock} />);
  return mock;
}

const hidden = (el: HTMLElement) => el.closest(".is-hidden") !== null;

describe("supervisor screens in the desk", () => {
  it("are not offered to agents", async () => {
    const mock = start(new MockBackend({ signedIn: true, latency: 0, tickets: 40 }));
    await eventually(() => screen.getByTestId("view-revisit"));
    expect(screen.queryByTestId("nav-audit")).toBeNull();
    expect(screen.queryByTestId("nav-reports")).toBeNull();
    expect(screen.queryByTestId("audit-screen")).toBeNull();
    expect(screen.queryByTestId("reports-screen")).toBeNull();
    expect(mock.callsTo("audit_page")).toHaveLength(0);
    expect(mock.callsTo("report")).toHaveLength(0);
  });

  it("open Audit and Reports from the sidebar, keep them while the queue is shown, and open a report's ticket in the queue", async () => {
    const mock = start(new MockBackend({ signedIn: true, latency: 0, tickets: 120, user: "sam@example.com" }));
    await eventually(() => screen.getByTestId("nav-audit"));
    fireEvent.click(screen.getByTestId("nav-audit"));
    const audit = await eventually(() => screen.getByTestId("audit-screen"));
    await eventually(() => expect(within(audit).getAllByTestId("audit-row").length).toBeGreaterThan(0));
    expect(hidden(screen.getByTestId("queue-list"))).toBe(true);
    expect(screen.getByTestId("nav-audit").getAttribute("aria-current")).toBe("page");

    fireEvent.click(screen.getByTestId("nav-reports"));
    const reports = await eventually(() => screen.getByTestId("reports-screen"));
    expect(hidden(audit)).toBe(true);
    expect(hidden(reports)).toBe(false);
    const key = await eventually(() => within(screen.getByTestId("report-section-recurring")).getAllByTestId("report-ticket-key")[0]!);
    const name = key.textContent!;
    fireEvent.click(key);
    await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(name));
    expect(hidden(screen.getByTestId("queue-list"))).toBe(false);
    expect(hidden(reports)).toBe(true);

    // Back on the audit screen: the page loaded before is still there (no new request).
    const pages = mock.callsTo("audit_page").length;
    fireEvent.click(screen.getByTestId("nav-audit"));
    expect(hidden(audit)).toBe(false);
    expect(within(audit).getAllByTestId("audit-row").length).toBeGreaterThan(0);
    expect(mock.callsTo("audit_page")).toHaveLength(pages);
  });
});

describe("Revisit due", () => {
  it("is a saved view with its live count, and its rows carry the revisit badge", async () => {
    const nowMs = Date.now();
    const mock = new MockBackend({ signedIn: true, latency: 0, tickets: 30 });
    const due = mock.addTicket({ subject: "Unhappy customer", status: "assigned", assignee: "u-ana", revisit_due_at: new Date(nowMs + 3 * 3_600_000).toISOString() });
    const late = mock.addTicket({ subject: "Very unhappy", status: "triaged", assignee: null, revisit_due_at: new Date(nowMs - 2 * 3_600_000).toISOString() });
    mock.addTicket({ subject: "Resolved again", status: "resolved", revisit_due_at: new Date(nowMs + 3_600_000).toISOString() });
    const me = (await mock.appStart()).me!;
    const expected = await mock.queueCount(savedViews(me).find((v) => v.id === "revisit")!.filter);
    start(mock);
    const view = await eventually(() => screen.getByTestId("view-revisit"));
    await eventually(() => expect(view.textContent).toBe(`Revisit due${expected}`));
    fireEvent.click(view);
    await eventually(() => expect(screen.getByTestId("queue-total").textContent).toBe(`${expected} tickets`));
    const rows = await eventually(() => {
      const r = screen.getAllByTestId("queue-row").filter((el) => !el.classList.contains("placeholder"));
      expect(r).toHaveLength(expected);
      return r;
    });
    expect(rows.every((r) => within(r).queryByTestId("revisit-badge"))).toBe(true);
    const badge = (key: string | null) => within(rows.find((r) => r.dataset.key === key)!).getByTestId("revisit-badge");
    expect(badge(due.key).textContent).toBe("Revisit due in 3 h");
    expect(badge(due.key).dataset.state).toBe("due");
    expect(badge(late.key).textContent).toBe("Revisit overdue by 2 h");
    expect(badge(late.key).dataset.state).toBe("overdue");
    expect(mock.callsTo("queue").at(-1)!.args.filter).toMatchObject({ revisit: true });
  });
});
