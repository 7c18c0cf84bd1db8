import { afterEach, describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { TicketPane } from "./TicketPane";
import { SearchBox } from "./SearchBox";
import { deskContext, eventually, mockBackend, renderInDesk, stubViewport } from "../test/helpers";
import { QueueList } from "./QueueList";
import { createQueue, type QueueModel } from "../state/queue";
import { emptyFilter } from "../lib/views";
import type { Entry, Status } from "../backend";
import { STATUS_MACHINE } from "../backend/mock";

const IMG = '<img src=x onerror="window.__xss=1">';
const SCRIPT = "<script>window.__xss=1</script>";
const w = window as { __xss?: number };

afterEach(() => {
  delete w.__xss;
});

function entry(kind: "customer_message" | "reply" | "note", text: string, at: string): Pick<Entry, "body" | "created_at"> {
  return { body: { kind, text }, created_at: at };
}

async function openTicket(mock = mockBackend({ tickets: 20 }), patch: Parameters<typeof mock.addTicket>[0] = { subject: "A ticket" }, entries: Parameters<typeof mock.addTicket>[1] = []) {
  const ticket = mock.addTicket(patch, entries);
  const ctx = await deskContext(mock);
  renderInDesk(ctx, () => <TicketPane ticketId={ticket.id} />);
  await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(ticket.key));
  return { mock, ctx, ticket };
}

describe("hostile customer text", () => {
  it("renders literally and executes nothing, in the ticket and in search", async () => {
    const now = new Date().toISOString();
    const mock = mockBackend({ tickets: 20 });
    const { ctx } = await openTicket(
      mock,
      {
        subject: `${IMG} refund`,
        description: SCRIPT,
        requester: { name: SCRIPT, contact: IMG, account_id: IMG, tier: "vip" },
        tags: [IMG],
      },
      [entry("customer_message", `${IMG}${SCRIPT}`, now), entry("reply", SCRIPT, now), entry("note", IMG, now)],
    );
    const pane = screen.getByTestId("ticket-pane");
    const texts = within(pane)
      .getAllByTestId("customer-text")
      .map((el) => el.textContent);
    expect(texts).toContain(`${IMG} refund`);
    expect(texts).toContain(SCRIPT);
    expect(texts).toContain(`${IMG}${SCRIPT}`);
    expect(texts).toContain(IMG);
    expect(pane.querySelector("img")).toBeNull();
    expect(pane.querySelector("script")).toBeNull();

    renderInDesk(ctx, () => <SearchBox onOpen={() => undefined} />);
    const input = screen.getByTestId("search-input");
    fireEvent.input(input, { target: { value: "refund" } });
    await eventually(() => expect(screen.getAllByTestId("search-hit").length).toBeGreaterThan(0));
    const hit = screen.getAllByTestId("search-hit").find((h) => h.textContent?.includes("<img"));
    expect(hit).toBeDefined();
    expect(hit!.querySelector("mark")?.textContent).toBe("refund");
    expect(document.querySelector("img")).toBeNull();
    expect(document.querySelector("script")).toBeNull();

    // And in the queue row.
    const restore = stubViewport(560);
    try {
      let queue!: QueueModel;
      renderInDesk(ctx, () => {
        queue = createQueue(mock);
        return <QueueList queue={queue} selectedId={null} onSelect={() => undefined} emptyText="" />;
      });
      await queue.reset({ ...emptyFilter(), tag: IMG }, "updated");
      const row = await eventually(() => {
        const r = screen.getAllByTestId("queue-row").find((el) => el.dataset.key);
        if (!r) throw new Error("no row yet");
        return r;
      });
      expect(row.querySelector(".row-subject")!.textContent).toBe(`${IMG} refund`);
      expect(within(row).getAllByTestId("customer-text").map((el) => el.textContent)).toContain(SCRIPT);
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
    const now = Date.now();
    const at = (s: number) => new Date(now - 100_000 + s * 1000).toISOString();
    await openTicket(undefined, { subject: "Timeline" }, [
      entry("customer_message", "help", at(1)),
      entry("reply", "on it", at(2)),
      entry("note", "checked logs", at(3)),
      { body: { kind: "event", event: { type: "priority_changed", from: "P3", to: "P1" } }, created_at: at(4) },
    ]);
    const kinds = screen.getAllByTestId("timeline-entry").map((e) => e.dataset.kind);
    expect(kinds).toEqual(["customer", "reply", "note", "event"]);
    expect(screen.getAllByTestId("timeline-entry")[3]!.textContent).toContain("Priority P3 → P1");
  });

  it("sends a reply and a note through the backend and shows them", async () => {
    const { mock, ticket } = await openTicket();
    fireEvent.input(screen.getByTestId("composer-text"), { target: { value: "Hello there" } });
    fireEvent.click(screen.getByTestId("composer-send"));
    await eventually(() => expect(mock.callsTo("reply")).toEqual([{ cmd: "reply", args: { ticketId: ticket.id, text: "Hello there" } }]));
    await eventually(() => expect(screen.getAllByTestId("timeline-entry").some((e) => e.dataset.kind === "reply" && e.textContent?.includes("Hello there"))).toBe(true));
    fireEvent.click(screen.getByTestId("composer-mode-note"));
    fireEvent.input(screen.getByTestId("composer-text"), { target: { value: "internal" } });
    fireEvent.keyDown(screen.getByTestId("composer-text"), { key: "Enter", ctrlKey: true });
    await eventually(() => expect(mock.callsTo("note")).toHaveLength(1));
    await eventually(() => expect(screen.getAllByTestId("timeline-entry").some((e) => e.dataset.kind === "note" && e.textContent?.includes("internal"))).toBe(true));
  });

  it("inserts templates in the ticket's language with placeholders filled", async () => {
    await openTicket(undefined, {
      subject: "退款未到账",
      language: "zh-CN",
      category: "funds_not_arrived",
      key: "OP-77",
      requester: { name: "李女士", contact: "x", account_id: null, tier: "standard" },
    });
    const picker = screen.getByTestId("template-picker") as HTMLSelectElement;
    const options = [...picker.options].slice(1).map((o) => o.value);
    expect(options[0]).toBe("tpl-refund-zh");
    expect(options.every((id) => id.endsWith("-zh"))).toBe(true);
    fireEvent.change(picker, { target: { value: "tpl-ack-zh" } });
    const text = (screen.getByTestId("composer-text") as HTMLTextAreaElement).value;
    expect(text).toContain("李女士，您好");
    expect(text).toContain("「退款未到账」（OP-77）");
    expect(text).toContain("Ana Lima");
    expect(text).not.toContain("{{");
  });
});

describe("status control", () => {
  it.each(STATUS_MACHINE.map(([s]) => s))("offers only the allowed targets from %s", async (status: Status) => {
    await openTicket(undefined, { subject: "Status", status, assignee: "u-ana" });
    const select = screen.getByTestId("status-select") as HTMLSelectElement;
    const offered = [...select.options].map((o) => o.value);
    const allowed = STATUS_MACHINE.find(([s]) => s === status)![1];
    expect(offered).toEqual([status, ...allowed]);
    expect(select.value).toBe(status);
  });

  it("disables targets that need an assignee on an unassigned ticket, and changes status", async () => {
    const { mock, ticket } = await openTicket(undefined, { subject: "Status", status: "triaged", assignee: null });
    const select = screen.getByTestId("status-select") as HTMLSelectElement;
    const disabled = [...select.options].filter((o) => o.disabled).map((o) => o.value);
    expect(disabled).toEqual(["assigned", "in_progress"]);
    fireEvent.change(select, { target: { value: "pending" } });
    await eventually(() => expect(screen.getByTestId("ticket-status").textContent).toBe("Pending"));
    expect(mock.callsTo("change")[0]!.args).toEqual({ mutation: { name: "ticket.set_status", args: { ticket_id: ticket.id, status: "pending", reason: null } } });
  });

  it("shows the reason when the backend refuses a change", async () => {
    const { mock } = await openTicket(undefined, { subject: "Status", status: "new", assignee: "u-ana" });
    mock.failNext("change", "illegal_transition");
    fireEvent.change(screen.getByTestId("status-select"), { target: { value: "closed" } });
    await eventually(() => expect(screen.getByTestId("ticket-error").textContent).toBe("That status change is not allowed from the ticket's current status."));
  });
});

describe("identity verification gates risk actions", () => {
  it("keeps freeze disabled on an L1 ticket until five checks pass, then freezes after confirmation", async () => {
    const { mock, ticket } = await openTicket(undefined, { subject: "Takeover", risk: "L1", created_at: new Date(Date.now() - 120_000).toISOString(), requester: { name: "W", contact: "c", account_id: "acct-42", tier: "vip" } });
    const freeze = () => screen.getByTestId("risk-freeze_account") as HTMLButtonElement;
    expect(freeze().disabled).toBe(true);
    expect(screen.getByTestId("risk-gate-freeze_account").textContent).toBe(
      "Only 0 verification checks passed; freezing the account needs 5. Run more checks first.",
    );
    expect(screen.getByTestId("l1-banner").dataset.state).toBe("running");

    const record = async (dims: string[]) => {
      for (const d of dims) fireEvent.change(screen.getByTestId(`verify-result-${d}`), { target: { value: "passed" } });
      fireEvent.click(screen.getByTestId("verification-record"));
      await eventually(() => expect(screen.getByTestId(`verify-result-${dims[0]}`)).toHaveProperty("value", ""));
    };
    await record(["sms_code", "real_name_info", "usual_device", "transaction_habits"]);
    await eventually(() => expect(screen.getByTestId("verification-summary").textContent).toBe("4/5 passed"));
    expect(freeze().disabled).toBe(true);
    await record(["transaction_password"]);
    await eventually(() => expect(freeze().disabled).toBe(false));
    // Unfreezing also needs an ID document, and the account is not frozen.
    expect((screen.getByTestId("risk-unfreeze_account") as HTMLButtonElement).disabled).toBe(true);

    fireEvent.click(freeze());
    const dialog = screen.getByTestId("confirm-dialog");
    expect((within(dialog).getByTestId("risk-target") as HTMLInputElement).value).toBe("acct-42");
    fireEvent.click(within(dialog).getByTestId("confirm-ok"));
    expect(screen.getByTestId("confirm-error").textContent).toBe("Give a reason; it is kept in the compliance record.");
    fireEvent.input(within(dialog).getByTestId("risk-reason"), { target: { value: "active takeover" } });
    fireEvent.click(within(dialog).getByTestId("confirm-ok"));
    await eventually(() => expect(screen.queryByTestId("confirm-dialog")).toBeNull());
    const freezeCall = mock.callsTo("change").find((c) => (c.args.mutation as { name: string }).name === "risk.freeze");
    expect(freezeCall!.args.mutation).toMatchObject({ args: { ticket_id: ticket.id, target: "acct-42", reason: "active takeover" } });
    await eventually(() => expect(screen.getByTestId("l1-banner").dataset.state).toBe("met"));
    expect(freeze().disabled).toBe(true);
  });
});

describe("change notices", () => {
  it("re-read the open ticket only when it changed, and hide it when revoked", async () => {
    const { mock, ctx, ticket } = await openTicket();
    const before = mock.callsTo("ticket").length;
    ctx.emit({ kind: "changes", notice: { tickets: ["t-00001"], revoked: [], everything: false } });
    await new Promise((r) => setTimeout(r, 20));
    expect(mock.callsTo("ticket")).toHaveLength(before);
    ctx.emit({ kind: "changes", notice: { tickets: [ticket.id], revoked: [], everything: false } });
    await eventually(() => expect(mock.callsTo("ticket")).toHaveLength(before + 1));
    ctx.emit({ kind: "changes", notice: { tickets: [], revoked: [ticket.id], everything: false } });
    await eventually(() => expect(screen.getByTestId("ticket-pane").textContent).toContain("no longer visible"));
  });
});
