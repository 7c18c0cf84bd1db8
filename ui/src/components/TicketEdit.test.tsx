import { describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { TicketPane } from "./TicketPane";
import { deskContext, eventually, mockBackend, renderInDesk } from "../test/helpers";
import { errorText } from "../lib/errors";
import type { TicketDetail } from "../backend";
import { BackendError } from "../backend";
import { recorded, type FakeBackend } from "../backend/mock";
import { en } from "../i18n/en";

/** Renders the pane; the fake answers `ticket` with `detail`, then with whatever `after` holds. */
async function open(detail: TicketDetail) {
  let current = detail;
  const mock = mockBackend().on("ticket", () => current);
  mock.on("change", recorded("change.set_status.allowed"));
  const ctx = await deskContext(mock);
  renderInDesk(ctx, () => <TicketPane ticketId={detail.ticket.id} />);
  await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(detail.ticket.key));
  return { mock, ticket: detail.ticket, answer: (next: TicketDetail) => (current = next) };
}

const sent = (mock: FakeBackend) => mock.callsTo("change").map((c) => c.args.mutation);

describe("correcting a ticket", () => {
  it("sends a corrected subject and shows the Desk's answer", async () => {
    const detail = recorded<TicketDetail>("ticket.plain");
    const { mock, ticket, answer } = await open(detail);
    fireEvent.click(screen.getByTestId("edit-subject"));
    const input = screen.getByTestId("subject-input") as HTMLInputElement;
    expect(input.value).toBe(ticket.subject);
    const after = structuredClone(detail);
    after.ticket.subject = "Refund for order 7731 not received";
    answer(after);
    fireEvent.input(input, { target: { value: "  Refund for order 7731 not received " } });
    fireEvent.click(screen.getByTestId("subject-save"));
    await eventually(() => expect(sent(mock)).toEqual([{ name: "ticket.set_subject", args: { ticket_id: ticket.id, subject: "Refund for order 7731 not received" } }]));
    await eventually(() => expect(screen.queryByTestId("subject-input")).toBeNull());
    expect(screen.getAllByTestId("customer-text")[0]!.textContent).toBe("Refund for order 7731 not received");
  });

  it("refuses an empty subject without sending, and sends nothing when unchanged", async () => {
    const { mock, ticket } = await open(recorded("ticket.plain"));
    fireEvent.click(screen.getByTestId("edit-subject"));
    fireEvent.input(screen.getByTestId("subject-input"), { target: { value: "   " } });
    fireEvent.click(screen.getByTestId("subject-save"));
    expect(screen.getByTestId("subject-error").textContent).toBe(en["ticket.subject_required"]);
    fireEvent.input(screen.getByTestId("subject-input"), { target: { value: ticket.subject } });
    fireEvent.click(screen.getByTestId("subject-save"));
    await eventually(() => expect(screen.queryByTestId("subject-input")).toBeNull());
    expect(sent(mock)).toEqual([]);
  });

  it("keeps the editor open and shows the Desk's refusal", async () => {
    const { mock } = await open(recorded("ticket.plain"));
    const refusal = new BackendError("invalid", "subject: longer than 500 characters");
    mock.on("change", refusal);
    fireEvent.click(screen.getByTestId("edit-subject"));
    fireEvent.input(screen.getByTestId("subject-input"), { target: { value: "x".repeat(600) } });
    fireEvent.click(screen.getByTestId("subject-save"));
    await eventually(() => expect(screen.getByTestId("ticket-error").textContent).toBe(errorText(refusal)));
    expect(screen.getByTestId("subject-input")).toBeTruthy();
  });

  it("sends a corrected description; Escape cancels without sending", async () => {
    const detail = recorded<TicketDetail>("ticket.plain");
    const { mock, ticket, answer } = await open(detail);
    fireEvent.click(screen.getByTestId("edit-description"));
    fireEvent.input(screen.getByTestId("description-input"), { target: { value: "discarded" } });
    fireEvent.keyDown(screen.getByTestId("description-input"), { key: "Escape" });
    expect(screen.queryByTestId("description-input")).toBeNull();
    expect(sent(mock)).toEqual([]);

    fireEvent.click(screen.getByTestId("edit-description"));
    expect((screen.getByTestId("description-input") as HTMLTextAreaElement).value).toBe(ticket.description);
    const after = structuredClone(detail);
    after.ticket.description = "Paid on 3 May, order 7731; still nothing.";
    answer(after);
    fireEvent.input(screen.getByTestId("description-input"), { target: { value: "Paid on 3 May, order 7731; still nothing." } });
    fireEvent.keyDown(screen.getByTestId("description-input"), { key: "Enter", ctrlKey: true });
    await eventually(() =>
      expect(sent(mock)).toEqual([{ name: "ticket.set_description", args: { ticket_id: ticket.id, description: "Paid on 3 May, order 7731; still nothing." } }]),
    );
    await eventually(() => expect(screen.queryByTestId("description-input")).toBeNull());
    expect(screen.getAllByTestId("customer-text").some((el) => el.textContent === "Paid on 3 May, order 7731; still nothing.")).toBe(true);
  });

  it("corrects the requester through ticket.set_requester", async () => {
    const detail = recorded<TicketDetail>("ticket.plain");
    const { mock, ticket, answer } = await open(detail);
    fireEvent.click(screen.getByTestId("edit-requester"));
    const dialog = screen.getByTestId("requester-dialog");
    expect((within(dialog).getByTestId("requester-name") as HTMLInputElement).value).toBe(ticket.requester.name);
    expect((within(dialog).getByTestId("requester-contact") as HTMLInputElement).value).toBe(ticket.requester.contact);
    fireEvent.input(within(dialog).getByTestId("requester-name"), { target: { value: "" } });
    fireEvent.click(within(dialog).getByTestId("requester-save"));
    expect(within(dialog).getByTestId("requester-error").textContent).toBe(en["ticket.requester_missing"]);
    expect(sent(mock)).toEqual([]);

    const after = structuredClone(detail);
    after.ticket.requester = { name: "Chen Jie", contact: "chen.jie@example.com", account_id: "ACC-7731", tier: "vip" };
    answer(after);
    fireEvent.input(within(dialog).getByTestId("requester-name"), { target: { value: " Chen Jie " } });
    fireEvent.input(within(dialog).getByTestId("requester-contact"), { target: { value: "chen.jie@example.com" } });
    fireEvent.input(within(dialog).getByTestId("requester-account"), { target: { value: "ACC-7731" } });
    fireEvent.change(within(dialog).getByTestId("requester-tier"), { target: { value: "vip" } });
    fireEvent.click(within(dialog).getByTestId("requester-save"));
    await eventually(() => expect(screen.queryByTestId("requester-dialog")).toBeNull());
    expect(sent(mock)).toEqual([
      { name: "ticket.set_requester", args: { ticket_id: ticket.id, requester: { name: "Chen Jie", contact: "chen.jie@example.com", account_id: "ACC-7731", tier: "vip" } } },
    ]);
    await eventually(() => expect(screen.getByTestId("requester").textContent).toContain("chen.jie@example.com"));
  });

  it("shows the Desk's refusal of a requester inside the dialog", async () => {
    const { mock } = await open(recorded("ticket.plain"));
    const refusal = new BackendError("invalid", "requester.contact: not one e-mail address");
    mock.on("change", refusal);
    fireEvent.click(screen.getByTestId("edit-requester"));
    const dialog = screen.getByTestId("requester-dialog");
    fireEvent.input(within(dialog).getByTestId("requester-contact"), { target: { value: "a@b@c" } });
    fireEvent.click(within(dialog).getByTestId("requester-save"));
    await eventually(() => expect(within(dialog).getByTestId("requester-error").textContent).toBe(errorText(refusal)));
    expect(screen.getByTestId("requester-dialog")).toBeTruthy();
  });
});
