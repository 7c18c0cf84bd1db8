import { afterEach, describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { TicketPane } from "./TicketPane";
import { deskContext, eventually, mockBackend, renderInDesk, supervisorBackend } from "../test/helpers";
import type { AuditPage, Directory, Entry, LocalChange, Mutation, TicketDetail } from "../backend";
import { FakeBackend, recorded, recordedError } from "../backend/mock";
import { errorText } from "../lib/errors";
import { en } from "../i18n/en";

const IMG = '<img src=x onerror="window.__xss=1">';
const SCRIPT = "<script>window.__xss=1</script>";
const w = window as { __xss?: number };

afterEach(() => {
  delete w.__xss;
});

/** Renders the pane over `detail` (the fake answers `ticket` with it, then with `later`). */
async function open(mock: FakeBackend, detail: TicketDetail, ...later: TicketDetail[]) {
  mock.on("ticket", detail, ...later);
  const ctx = await deskContext(mock);
  renderInDesk(ctx, () => <TicketPane ticketId={detail.ticket.id} />);
  await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(detail.ticket.key));
  return detail.ticket;
}

const sentMutations = (mock: FakeBackend) => mock.callsTo("change").map((c) => c.args.mutation as Mutation);
const nameOf = (id: string) => recorded<Directory>("directory").users.find((u) => u.id === id)!.name;

/** The recorded redaction: the sensitive ticket's first customer message, its entry after. */
function recordedRedaction() {
  const before = recorded<TicketDetail>("ticket.sensitive");
  const after = recorded<TicketDetail>("ticket.sensitive.after_redact");
  const change = recorded<LocalChange>("change.redact");
  const redacted = change.entries.find((e) => e.body.kind === "redacted")!;
  const original = before.entries.find((e) => e.id === redacted.id)!;
  return { before, after, change, redacted, original: original as Entry & { body: { kind: "customer_message"; text: string } } };
}

/** The Redact button of the timeline entry that shows `text`. */
function redactButtonOf(text: string): HTMLElement {
  const entry = screen.getAllByTestId("timeline-entry").find((e) => within(e).queryByText(text))!;
  return within(entry).getByTestId("redact-button");
}

describe("redaction", () => {
  it("asks for a reason, confirms, sends entry.redact and shows the Desk's redacted entry", async () => {
    const { before, after, change, redacted, original } = recordedRedaction();
    // The reason as typed below (the recording's reason with markup added): shown as text.
    const reason = `password in clear ${SCRIPT}`;
    const shown = after.entries.find((e) => e.id === redacted.id)!.body as Extract<Entry["body"], { kind: "redacted" }>;
    shown.reason = reason;
    const mock = supervisorBackend().on("change", change);
    const ticket = await open(mock, before, after);
    const redactable = before.entries.filter((e) => ["customer_message", "reply", "note", "attachment"].includes(e.body.kind));
    expect(screen.getAllByTestId("redact-button")).toHaveLength(redactable.length);
    fireEvent.click(redactButtonOf(original.body.text));
    const dialog = screen.getByTestId("confirm-dialog");
    expect(dialog.textContent).toContain(en["redact.message"]);
    fireEvent.click(within(dialog).getByTestId("redact-confirm"));
    expect(screen.getByTestId("confirm-error").textContent).toBe(en["redact.reason_required"]);
    fireEvent.input(within(dialog).getByTestId("redact-reason"), { target: { value: "   " } });
    fireEvent.click(within(dialog).getByTestId("redact-confirm"));
    expect(sentMutations(mock)).toHaveLength(0);

    fireEvent.input(within(dialog).getByTestId("redact-reason"), { target: { value: reason } });
    fireEvent.click(within(dialog).getByTestId("redact-confirm"));
    await eventually(() => expect(screen.queryByTestId("confirm-dialog")).toBeNull());
    expect(sentMutations(mock)).toEqual([{ name: "entry.redact", args: { ticket_id: ticket.id, entry_id: original.id, reason } }]);

    const entry = await eventually(() => screen.getByTestId("redacted-entry"));
    expect(entry.textContent).toMatch(new RegExp(`^Content redacted \\(message\\) by ${nameOf(shown.by!)} on .+: `));
    expect(within(entry).getByTestId("redact-reason-text").textContent).toBe(reason);
    const pane = screen.getByTestId("ticket-pane");
    expect(pane.textContent).not.toContain(original.body.text);
    expect(screen.getAllByTestId("redact-button")).toHaveLength(redactable.length - 1);
    const events = screen.getAllByTestId("timeline-entry").filter((e) => e.dataset.kind === "event");
    expect(events.map((e) => e.querySelector(".entry-event")!.textContent)).toContain(`A message was redacted (SHA-256 ${shown.removed_sha256.slice(0, 8)}…)`);
    expect(pane.querySelector("script")).toBeNull();
    expect(w.__xss).toBeUndefined();
  });

  it("shows the Desk's refusal and keeps the dialog", async () => {
    const { before, original } = recordedRedaction();
    const refusal = recordedError("change.redact.again");
    const mock = supervisorBackend().on("change", refusal);
    await open(mock, before);
    fireEvent.click(redactButtonOf(original.body.text));
    fireEvent.input(screen.getByTestId("redact-reason"), { target: { value: "x" } });
    fireEvent.click(screen.getByTestId("redact-confirm"));
    await eventually(() => expect(screen.getByTestId("ticket-error").textContent).toBe(errorText(refusal)));
    expect(screen.getByTestId("ticket-error").textContent).toContain(refusal.message);
    expect(screen.getByTestId("confirm-error").textContent).toBe(en["redact.failed"]);
  });
});

describe("viewed by", () => {
  it("lists the access events of a sensitive ticket the server answered: who, when, device (as text)", async () => {
    const page = recorded<AuditPage>("audit_page.views");
    expect(page.events).toHaveLength(2);
    // One device name as a hostile string: it is shown as text.
    page.events[1]!.device = IMG;
    const mock = supervisorBackend().on("audit_page", page);
    const detail = recorded<TicketDetail>("ticket.sensitive");
    expect(detail.sensitive).toBe(true);
    const ticket = await open(mock, detail);
    const section = await eventually(() => screen.getByTestId("viewed-by"));
    const rows = await eventually(() => {
      const r = within(section).getAllByTestId("viewed-by-row");
      expect(r).toHaveLength(2);
      return r;
    });
    // In the order the server answered (newest first).
    expect(rows[0]!.textContent).toContain(nameOf(page.events[0]!.actor));
    expect(rows[0]!.querySelector("td.mono")!.textContent).toBe(`${page.events[0]!.device!.slice(0, 8)}…`);
    expect(rows[1]!.textContent).toContain(nameOf(page.events[1]!.actor));
    expect(rows[1]!.querySelector("td.mono")!.getAttribute("title")).toBe(IMG);
    expect(rows[0]!.querySelector("time")!.getAttribute("datetime")).toBe(JSON.parse(page.events[0]!.detail).viewed_at);
    expect(mock.callsTo("audit_page").map((c) => c.args.query)).toEqual([expect.objectContaining({ ticket_id: ticket.id, action: "ticket.view", limit: 50 })]);
    // The Desk records views itself; the page never sends ticket.view.
    expect(sentMutations(mock)).toHaveLength(0);
    expect(document.querySelector("img")).toBeNull();
  });

  it("says so calmly offline", async () => {
    const mock = supervisorBackend().on("audit_page", recordedError("audit_page.offline"));
    await open(mock, recorded("ticket.sensitive"));
    await eventually(() => expect(screen.getByTestId("viewed-by-offline").textContent).toBe(en["viewed.offline"]));
    expect(screen.queryByTestId("viewed-by-error")).toBeNull();
  });

  it("is not shown for a ticket the Desk does not call sensitive", async () => {
    const mock = supervisorBackend();
    const detail = recorded<TicketDetail>("ticket.plain");
    expect(detail.sensitive).toBe(false);
    await open(mock, detail);
    expect(screen.queryByTestId("viewed-by")).toBeNull();
    expect(mock.callsTo("audit_page")).toHaveLength(0);
  });
});

describe("agents", () => {
  it("see neither Redact nor Viewed by", async () => {
    const mock = mockBackend();
    await open(mock, recorded("ticket.sensitive"));
    expect(screen.getAllByTestId("timeline-entry").length).toBeGreaterThan(3);
    expect(screen.queryByTestId("redact-button")).toBeNull();
    expect(screen.queryByTestId("viewed-by")).toBeNull();
    expect(mock.callsTo("audit_page")).toHaveLength(0);
  });
});
