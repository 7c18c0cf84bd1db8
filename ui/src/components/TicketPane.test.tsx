import { afterEach, describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { TicketPane } from "./TicketPane";
import { SearchBox } from "./SearchBox";
import { deskContext, eventually, mockBackend, renderInDesk, stubViewport, supervisorBackend } from "../test/helpers";
import { QueueList } from "./QueueList";
import { createQueue, type QueueModel } from "../state/queue";
import { emptyFilter } from "../lib/views";
import { errorText } from "../lib/errors";
import type { Entry, QueuePage, SearchHit, Status, Template, TicketDetail } from "../backend";
import { FakeBackend, recorded, recordedError } from "../backend/mock";
import { en } from "../i18n/en";

const IMG = '<img src=x onerror="window.__xss=1">';
const SCRIPT = "<script>window.__xss=1</script>";
const w = window as { __xss?: number };

afterEach(() => {
  delete w.__xss;
});

/** Renders the pane over `detail` (the fake answers `ticket` with it, then with `later`). */
async function openTicket(detail: TicketDetail, ...later: TicketDetail[]) {
  const mock = mockBackend().on("ticket", detail, ...later);
  const ctx = await deskContext(mock);
  renderInDesk(ctx, () => <TicketPane ticketId={detail.ticket.id} />);
  await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(detail.ticket.key));
  return { mock, ctx, ticket: detail.ticket };
}

const changesSent = (mock: FakeBackend) => mock.callsTo("change").map((c) => c.args.mutation as { name: string; args: Record<string, unknown> });

describe("hostile customer text", () => {
  it("renders literally and executes nothing, in the ticket, in search and in the queue", async () => {
    const detail = recorded<TicketDetail>("ticket.plain");
    const at = detail.ticket.created_at;
    Object.assign(detail.ticket, { subject: `${IMG} refund`, description: SCRIPT, tags: [IMG] });
    Object.assign(detail.ticket.requester, { name: SCRIPT, contact: IMG, account_id: IMG });
    const hostile = (kind: "customer_message" | "reply" | "note", text: string, n: number): Entry => ({
      id: `00000000-0000-7000-8000-00000000000${n}`,
      ticket_id: detail.ticket.id,
      author: null,
      created_at: at,
      body: { kind, text },
    });
    detail.entries = [hostile("customer_message", `${IMG}${SCRIPT}`, 1), hostile("reply", SCRIPT, 2), hostile("note", IMG, 3)];
    const { mock, ctx } = await openTicket(detail);
    const pane = screen.getByTestId("ticket-pane");
    const texts = within(pane)
      .getAllByTestId("customer-text")
      .map((el) => el.textContent);
    expect(texts).toEqual(expect.arrayContaining([`${IMG} refund`, SCRIPT, `${IMG}${SCRIPT}`, IMG]));
    expect(pane.querySelector("img")).toBeNull();
    expect(pane.querySelector("script")).toBeNull();

    const hit = recorded<SearchHit[]>("search.hits")[0]!;
    hit.subject = { text: `${IMG} refund`, ranges: [[IMG.length + 1, IMG.length + 7]] };
    mock.on("search", [hit]);
    renderInDesk(ctx, () => <SearchBox onOpen={() => undefined} />);
    fireEvent.input(screen.getByTestId("search-input"), { target: { value: "refund" } });
    const shown = await eventually(() => screen.getAllByTestId("search-hit").find((h) => h.textContent?.includes("<img"))!);
    expect(shown.querySelector("mark")?.textContent).toBe("refund");
    expect(mock.callsTo("search").at(-1)!.args).toMatchObject({ query: "refund" });

    const page = recorded<QueuePage>("queue.all");
    page.rows = [{ ...page.rows[0]!, subject: `${IMG} refund`, requester_name: SCRIPT }];
    mock.on("queue", page).on("queue_count", 1);
    const restore = stubViewport(560);
    try {
      let queue!: QueueModel;
      renderInDesk(ctx, () => {
        queue = createQueue(mock);
        return <QueueList queue={queue} selectedId={null} onSelect={() => undefined} emptyText="" />;
      });
      await queue.reset({ ...emptyFilter(), tag: IMG }, "updated");
      const row = await eventually(() => screen.getAllByTestId("queue-row").find((el) => el.dataset.key)!);
      expect(row.querySelector(".row-subject")!.textContent).toBe(`${IMG} refund`);
      expect(mock.callsTo("queue").at(-1)!.args.filter).toMatchObject({ tag: IMG });
    } finally {
      restore();
    }
    expect(document.querySelector("img")).toBeNull();
    expect(document.querySelector("script")).toBeNull();
    expect(w.__xss).toBeUndefined();
  });
});

describe("timeline", () => {
  it("marks replies, internal notes and events apart", async () => {
    const detail = recorded<TicketDetail>("ticket.sensitive");
    await openTicket(detail);
    const kinds = screen.getAllByTestId("timeline-entry").map((e) => e.dataset.kind);
    const expected = detail.entries.map((e) => ({ customer_message: "customer", reply: "reply", note: "note", event: "event" })[e.body.kind as "reply"]);
    expect(kinds).toEqual(expected);
  });

  it("sends a reply and a note through the backend and shows the Desk's answer", async () => {
    const { mock, ticket } = await openTicket(recorded("ticket.plain"));
    // The ticket as the Desk answered after each change.
    mock.on("ticket", () => recorded(mock.callsTo("note").length ? "ticket.plain.after_note" : mock.callsTo("reply").length ? "ticket.plain.after_reply" : "ticket.plain"));
    mock.on("reply", recorded("reply.plain")).on("note", recorded("note.plain"));
    fireEvent.input(screen.getByTestId("composer-text"), { target: { value: "Hello there" } });
    fireEvent.click(screen.getByTestId("composer-send"));
    await eventually(() => expect(mock.callsTo("reply")).toEqual([{ cmd: "reply", args: { ticketId: ticket.id, text: "Hello there" } }]));
    await eventually(() => expect(screen.getAllByTestId("timeline-entry").some((e) => e.dataset.kind === "reply" && e.textContent?.includes("Hello there"))).toBe(true));
    fireEvent.click(screen.getByTestId("composer-mode-note"));
    fireEvent.input(screen.getByTestId("composer-text"), { target: { value: "internal" } });
    fireEvent.keyDown(screen.getByTestId("composer-text"), { key: "Enter", ctrlKey: true });
    await eventually(() => expect(mock.callsTo("note")).toEqual([{ cmd: "note", args: { ticketId: ticket.id, text: "internal" } }]));
    await eventually(() => expect(screen.getAllByTestId("timeline-entry").some((e) => e.dataset.kind === "note" && e.textContent?.includes("internal"))).toBe(true));
  });

  it("inserts templates in the ticket's language with placeholders filled", async () => {
    const detail = recorded<TicketDetail>("ticket.plain");
    Object.assign(detail.ticket, { language: "zh-CN", category: "funds_not_arrived", subject: "退款未到账" });
    detail.ticket.requester.name = "李女士";
    await openTicket(detail);
    const zh = recorded<Template[]>("templates").filter((t) => t.language === "zh-CN");
    const picker = screen.getByTestId("template-picker") as HTMLSelectElement;
    const options = [...picker.options].slice(1).map((o) => o.value);
    // Made for the category first, then general ones; only the ticket's language.
    expect(options).toEqual([zh.find((t) => t.categories.length > 0)!.id, zh.find((t) => t.categories.length === 0)!.id]);
    fireEvent.change(picker, { target: { value: options[1] } });
    const text = (screen.getByTestId("composer-text") as HTMLTextAreaElement).value;
    expect(text).toContain("李女士，您好");
    expect(text).toContain(`「退款未到账」（${detail.ticket.key}）`);
    expect(text).toContain(recorded<{ user: { name: string } }>("me.agent").user.name);
    expect(text).not.toContain("{{");
  });
});

describe("status control", () => {
  const machine = recorded<Array<[Status, Status[]]>>("status_machine");
  it.each(machine.map(([s]) => s))("offers the Desk's allowed targets from %s", async (status) => {
    const detail = recorded<TicketDetail>("ticket.status");
    detail.ticket.status = status;
    await openTicket(detail);
    const select = screen.getByTestId("status-select") as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual([status, ...machine.find(([s]) => s === status)![1]]);
    expect(select.value).toBe(status);
  });

  it("sends the change and shows the status the Desk answered with", async () => {
    const before = recorded<TicketDetail>("ticket.status");
    const after = recorded<TicketDetail>("ticket.status.after_change");
    const { mock, ticket } = await openTicket(before, after);
    mock.on("change", recorded("change.set_status.allowed"));
    fireEvent.change(screen.getByTestId("status-select"), { target: { value: after.ticket.status } });
    await eventually(() => expect(screen.getByTestId("ticket-status").textContent).toBe(en[`status.${after.ticket.status}`]));
    expect(mock.callsTo("change")[0]!.args).toEqual({ mutation: { name: "ticket.set_status", args: { ticket_id: ticket.id, status: after.ticket.status, reason: null } } });
  });

  it("disables targets that need an assignee on an unassigned ticket", async () => {
    const detail = recorded<TicketDetail>("ticket.status");
    Object.assign(detail.ticket, { status: "triaged", assignee: null });
    await openTicket(detail);
    const select = screen.getByTestId("status-select") as HTMLSelectElement;
    expect([...select.options].filter((o) => o.disabled).map((o) => o.value)).toEqual(["assigned", "in_progress"]);
  });

  it("lets an agent raise the risk level but leaves lowering it to a supervisor", async () => {
    const detail = recorded<TicketDetail>("ticket.status");
    detail.ticket.risk = "L2";
    await openTicket(detail);
    const select = screen.getByTestId("risk-select") as HTMLSelectElement;
    expect([...select.options].filter((o) => o.disabled).map((o) => o.value)).toEqual(["none", "L3"]);
    expect(select.options[0]!.title).toBe(en["ticket.riskLowerSupervisor"]);
  });

  it("offers a supervisor every risk level", async () => {
    const detail = recorded<TicketDetail>("ticket.status");
    detail.ticket.risk = "L1";
    const mock = supervisorBackend().on("ticket", detail);
    renderInDesk(await deskContext(mock), () => <TicketPane ticketId={detail.ticket.id} />);
    await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(detail.ticket.key));
    const select = screen.getByTestId("risk-select") as HTMLSelectElement;
    expect([...select.options].filter((o) => o.disabled)).toEqual([]);
  });

  it("shows the Desk's refusal", async () => {
    const { mock } = await openTicket(recorded("ticket.status"));
    const refusal = recordedError("change.set_status.illegal");
    mock.on("change", refusal);
    const target = [...(screen.getByTestId("status-select") as HTMLSelectElement).options].at(-1)!.value;
    fireEvent.change(screen.getByTestId("status-select"), { target: { value: target } });
    await eventually(() => expect(screen.getByTestId("ticket-error").textContent).toBe(errorText(refusal)));
    expect(screen.getByTestId("ticket-error").textContent).toContain(refusal.message);
  });
});

describe("identity verification gates risk actions (the Desk decides)", () => {
  it("shows the Desk's gate, records checks, and freezes after confirmation", async () => {
    const unverified = recorded<TicketDetail>("ticket.l1.unverified");
    const { mock, ticket } = await openTicket(unverified, recorded("ticket.l1.four"), recorded("ticket.l1.five"), recorded("ticket.l1.frozen"));
    mock.on("change", recorded("change.verification.four"), recorded("change.verification.five"), recorded("change.freeze"));
    const freeze = () => screen.getByTestId("risk-freeze_account") as HTMLButtonElement;
    expect(freeze().disabled).toBe(true);
    expect(screen.getByTestId("risk-gate-freeze_account").textContent).toBe(
      "Only 0 verification checks passed; freezing the account needs 5. Run more checks first.",
    );
    // The clock runs to the deadline the Desk computed (long past in the recording).
    expect(screen.getByTestId("l1-banner").dataset.state).toBe("overdue");

    const record = async (dims: string[]) => {
      for (const d of dims) fireEvent.change(screen.getByTestId(`verify-result-${d}`), { target: { value: "passed" } });
      fireEvent.click(screen.getByTestId("verification-record"));
      await eventually(() => expect(screen.getByTestId(`verify-result-${dims[0]}`)).toHaveProperty("value", ""));
    };
    await record(["sms_code", "real_name_info", "usual_device", "transaction_habits"]);
    await eventually(() => expect(screen.getByTestId("verification-summary").textContent).toBe("4/5 passed"));
    expect(changesSent(mock)[0]).toMatchObject({ name: "verification.record", args: { ticket_id: ticket.id } });
    expect((changesSent(mock)[0]!.args.checks as Array<{ dimension: string }>).map((c) => c.dimension)).toEqual(["sms_code", "real_name_info", "usual_device", "transaction_habits"]);
    expect(freeze().disabled).toBe(true);
    await record(["transaction_password"]);
    await eventually(() => expect(freeze().disabled).toBe(false));
    // Unfreezing needs an ID document, and the account is not frozen: the Desk says so.
    expect((screen.getByTestId("risk-unfreeze_account") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId("risk-gate-unfreeze_account").textContent).toBe("Before unfreezing the account you must pass: ID document.");

    fireEvent.click(freeze());
    const dialog = screen.getByTestId("confirm-dialog");
    expect((within(dialog).getByTestId("risk-target") as HTMLInputElement).value).toBe(ticket.requester.account_id);
    fireEvent.click(within(dialog).getByTestId("confirm-ok"));
    expect(screen.getByTestId("confirm-error").textContent).toBe("Give a reason; it is kept in the compliance record.");
    fireEvent.input(within(dialog).getByTestId("risk-reason"), { target: { value: "active takeover" } });
    fireEvent.click(within(dialog).getByTestId("confirm-ok"));
    await eventually(() => expect(screen.queryByTestId("confirm-dialog")).toBeNull());
    expect(changesSent(mock).find((m) => m.name === "risk.freeze")).toMatchObject({ args: { ticket_id: ticket.id, target: ticket.requester.account_id, reason: "active takeover" } });
    await eventually(() => expect(screen.getByTestId("l1-banner").dataset.state).toBe("met"));
    expect(screen.getByTestId("l1-clock").textContent).toBe("Frozen in time (04:00 after the risk was raised)");
    expect(freeze().disabled).toBe(true);
    expect(screen.getByTestId("risk-gate-freeze_account").textContent).toBe(en["risk.refusal.already_frozen"]);
  });

  it("shows the Desk's refusal of a risk action", async () => {
    const { mock } = await openTicket(recorded("ticket.l1.frozen"));
    const refusal = recordedError("change.intercept.again");
    mock.on("change", refusal);
    fireEvent.click(screen.getByTestId("risk-intercept_transaction"));
    const dialog = screen.getByTestId("confirm-dialog");
    fireEvent.click(within(dialog).getByTestId("confirm-ok"));
    expect(screen.getByTestId("confirm-error").textContent).toBe(en["risk.refusal.missing_target"]);
    fireEvent.input(within(dialog).getByTestId("risk-target"), { target: { value: "tx-0001" } });
    fireEvent.input(within(dialog).getByTestId("risk-reason"), { target: { value: "again" } });
    fireEvent.click(within(dialog).getByTestId("confirm-ok"));
    await eventually(() => expect(screen.getByTestId("ticket-error").textContent).toBe(errorText(refusal)));
    expect(screen.getByTestId("confirm-dialog")).toBeTruthy();
  });
});

describe("change notices", () => {
  it("re-read the open ticket only when it changed, and hide it when revoked", async () => {
    const { mock, ctx, ticket } = await openTicket(recorded("ticket.plain"));
    const before = mock.callsTo("ticket").length;
    ctx.emit({ kind: "changes", notice: { tickets: ["00000000-0000-7000-8000-000000000000"], revoked: [], everything: false } });
    await new Promise((r) => setTimeout(r, 20));
    expect(mock.callsTo("ticket")).toHaveLength(before);
    ctx.emit({ kind: "changes", notice: { tickets: [ticket.id], revoked: [], everything: false } });
    await eventually(() => expect(mock.callsTo("ticket")).toHaveLength(before + 1));
    ctx.emit({ kind: "changes", notice: { tickets: [], revoked: [ticket.id], everything: false } });
    await eventually(() => expect(screen.getByTestId("ticket-pane").textContent).toContain("no longer visible"));
  });
});

describe("a ticket the desk cannot open", () => {
  it("shows the desk's error in the pane and nothing else", async () => {
    const refusal = recordedError("ticket.unknown");
    const mock = mockBackend().on("ticket", refusal);
    const ctx = await deskContext(mock);
    renderInDesk(ctx, () => <TicketPane ticketId="00000000-0000-7000-8000-0000000000ff" />);
    const pane = screen.getByTestId("ticket-pane");
    await eventually(() => expect(pane.querySelector(".error")?.textContent).toBe(errorText(refusal)));
    expect(screen.queryByTestId("ticket-key")).toBeNull();
  });
});
