import { afterEach, describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { TicketPane } from "./TicketPane";
import { deskContext, eventually, mockBackend, renderInDesk, supervisorBackend } from "../test/helpers";
import type { Entry, Mutation } from "../backend";
import type { MockBackend } from "../backend/mock";

const IMG = '<img src=x onerror="window.__xss=1">';
const SCRIPT = "<script>window.__xss=1</script>";
const w = window as { __xss?: number };

afterEach(() => {
  delete w.__xss;
});

const at = (s: number) => new Date(Date.now() - 100_000 + s * 1000).toISOString();

async function open(mock: MockBackend, patch: Parameters<MockBackend["addTicket"]>[0], entries: Parameters<MockBackend["addTicket"]>[1] = []) {
  const ticket = mock.addTicket(patch, entries);
  const ctx = await deskContext(mock);
  renderInDesk(ctx, () => <TicketPane ticketId={ticket.id} />);
  await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(ticket.key));
  return ticket;
}

const content: Array<Pick<Entry, "body" | "created_at">> = [
  { body: { kind: "customer_message", text: `My password is hunter2 ${IMG}` }, created_at: at(1) },
  { body: { kind: "reply", text: "We reset it." }, created_at: at(2) },
  { body: { kind: "note", text: "Customer sent a password in clear." }, created_at: at(3) },
  { body: { kind: "event", event: { type: "priority_changed", from: "P3", to: "P2" } }, created_at: at(4) },
];

const sentMutations = (mock: MockBackend) => mock.callsTo("change").map((c) => c.args.mutation as Mutation);

describe("redaction", () => {
  it("asks for a reason, confirms, sends entry.redact and shows the redaction without the content", async () => {
    const mock = supervisorBackend({ tickets: 10 });
    const ticket = await open(mock, { subject: "Password", category: "password_reset" }, content);
    const buttons = screen.getAllByTestId("redact-button");
    expect(buttons).toHaveLength(3);
    fireEvent.click(buttons[0]!);
    const dialog = screen.getByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("The content will be removed from the server and every device; the audit trail keeps a record with its hash.");
    fireEvent.click(within(dialog).getByTestId("redact-confirm"));
    expect(screen.getByTestId("confirm-error").textContent).toBe("Give a reason for the redaction; it is kept in the audit trail.");
    fireEvent.input(within(dialog).getByTestId("redact-reason"), { target: { value: "   " } });
    fireEvent.click(within(dialog).getByTestId("redact-confirm"));
    expect(sentMutations(mock).filter((m) => m.name === "entry.redact")).toHaveLength(0);

    fireEvent.input(within(dialog).getByTestId("redact-reason"), { target: { value: `password in clear ${SCRIPT}` } });
    fireEvent.click(within(dialog).getByTestId("redact-confirm"));
    await eventually(() => expect(screen.queryByTestId("confirm-dialog")).toBeNull());
    const entryId = (await mock.ticket(ticket.id)).entries.find((e) => e.body.kind === "redacted")!.id;
    expect(sentMutations(mock).filter((m) => m.name === "entry.redact")).toEqual([
      { name: "entry.redact", args: { ticket_id: ticket.id, entry_id: entryId, reason: `password in clear ${SCRIPT}` } },
    ]);

    const redacted = await eventually(() => screen.getByTestId("redacted-entry"));
    expect(redacted.textContent).toMatch(/^Content redacted \(message\) by Sam Patel on .+: password in clear <script>window\.__xss=1<\/script>$/);
    expect(within(redacted).getByTestId("redact-reason-text").textContent).toBe(`password in clear ${SCRIPT}`);
    const pane = screen.getByTestId("ticket-pane");
    expect(pane.textContent).not.toContain("hunter2");
    expect(screen.getAllByTestId("redact-button")).toHaveLength(2);
    const events = screen.getAllByTestId("timeline-entry").filter((e) => e.dataset.kind === "event");
    expect(events.map((e) => e.querySelector(".entry-event")!.textContent)).toContainEqual(expect.stringMatching(/^A message was redacted \(SHA-256 [0-9a-f]{8}…\)$/));
    expect(pane.querySelector("img")).toBeNull();
    expect(pane.querySelector("script")).toBeNull();
    expect(w.__xss).toBeUndefined();
  });

  it("shows the refusal when the server side refuses", async () => {
    const mock = supervisorBackend({ tickets: 10 });
    await open(mock, { subject: "Password", category: "password_reset" }, content);
    mock.failNext("change", "rejected", "entry: is already redacted");
    fireEvent.click(screen.getAllByTestId("redact-button")[1]!);
    fireEvent.input(screen.getByTestId("redact-reason"), { target: { value: "x" } });
    fireEvent.click(screen.getByTestId("redact-confirm"));
    await eventually(() => expect(screen.getByTestId("ticket-error").textContent).toBe("entry: is already redacted"));
    expect(screen.getByTestId("confirm-error").textContent).toBe("The redaction was not made; the reason is shown above the ticket.");
  });
});

describe("viewed by", () => {
  it("lists the access events of a sensitive ticket: who, when, device (as text)", async () => {
    const mock = supervisorBackend({ tickets: 10 });
    const ticket = mock.addTicket({ subject: "Takeover", risk: "L1", category: "account_takeover" });
    mock.audit.append({
      at: at(5),
      actor: "u-ana",
      device: IMG,
      address: null,
      action: "ticket.view",
      ticket_id: ticket.id,
      before: null,
      after: null,
      detail: JSON.stringify({ mutation_id: 1, revision: 1, viewed_at: at(4), department: ticket.department }),
      department: ticket.department,
    });
    const ctx = await deskContext(mock);
    renderInDesk(ctx, () => <TicketPane ticketId={ticket.id} />);
    const section = await eventually(() => screen.getByTestId("viewed-by"));
    const rows = await eventually(() => {
      const r = within(section).getAllByTestId("viewed-by-row");
      expect(r).toHaveLength(2);
      return r;
    });
    // Newest first: this supervisor's own view (recorded by the desk when the ticket opened), then Ana's.
    expect(rows[0]!.textContent).toContain("Sam Patel");
    expect(rows[0]!.querySelector("td.mono")!.textContent).toBe("dev-mock");
    expect(rows[1]!.textContent).toContain("Ana Lima");
    expect(rows[1]!.querySelector("td.mono")!.getAttribute("title")).toBe(IMG);
    expect(mock.callsTo("audit_page").at(-1)!.args.query).toMatchObject({ ticket_id: ticket.id, action: "ticket.view" });
    // The desk records views itself; the page never sends ticket.view.
    expect(sentMutations(mock).some((m) => m.name === "ticket.view")).toBe(false);
    expect(document.querySelector("img")).toBeNull();
  });

  it("says so calmly offline", async () => {
    const mock = supervisorBackend({ tickets: 10 });
    mock.setOffline(true);
    await open(mock, { subject: "Frozen", risk: "L2", category: "login_anomaly" });
    await eventually(() =>
      expect(screen.getByTestId("viewed-by-offline").textContent).toBe("Offline — the access record is kept on the server and shows here when it can be reached."),
    );
  });

  it("is not shown for a general question", async () => {
    const mock = supervisorBackend({ tickets: 10 });
    await open(mock, { subject: "Limits?", risk: "none", category: "inquiry" });
    expect(screen.queryByTestId("viewed-by")).toBeNull();
    expect(mock.callsTo("audit_page")).toHaveLength(0);
  });
});

describe("agents", () => {
  it("see neither Redact nor Viewed by", async () => {
    const mock = mockBackend({ tickets: 10 });
    await open(mock, { subject: "Takeover", risk: "L1", category: "account_takeover" }, content);
    expect(screen.getAllByTestId("timeline-entry").length).toBeGreaterThan(3);
    expect(screen.queryByTestId("redact-button")).toBeNull();
    expect(screen.queryByTestId("viewed-by")).toBeNull();
    expect(mock.callsTo("audit_page")).toHaveLength(0);
  });
});
