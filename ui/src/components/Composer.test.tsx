import { describe, expect, it } from "vitest";
import { fireEvent, screen } from "@solidjs/testing-library";
import { TicketPane } from "./TicketPane";
import { macroMutations } from "./Composer";
import { deskContext, eventually, mockBackend, renderInDesk } from "../test/helpers";
import { BackendError, type Template, type TicketDetail } from "../backend";
import { recorded } from "../backend/mock";
import { errorText } from "../lib/errors";

/** A recorded English template turned into a macro that sets pending, P2 and two tags. */
function macro(): Template {
  const base = recorded<Template[]>("templates").find((x) => x.language === "en")!;
  return { ...base, id: "01900000-0000-7000-8000-0000000009aa", name: "Waiting for bank", changes: { status: "pending", priority: "P2", add_tags: ["bank", "refund"] } };
}

async function open(detail: TicketDetail, templates: Template[]) {
  const mock = mockBackend().on("ticket", detail).on("templates", templates).on("change", recorded("change.set_status.allowed"));
  renderInDesk(await deskContext(mock), () => <TicketPane ticketId={detail.ticket.id} />);
  await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(detail.ticket.key));
  return mock;
}

describe("macros in the composer", () => {
  it("inserts the text and applies the field changes as ordinary changes", async () => {
    const detail = recorded<TicketDetail>("ticket.plain");
    detail.ticket.tags = ["refund"];
    const m = macro();
    const mock = await open(detail, [...recorded<Template[]>("templates"), m]);
    const picker = screen.getByTestId("template-picker") as HTMLSelectElement;
    const option = [...picker.options].find((o) => o.value === m.id)!;
    expect(option.textContent).toBe("Waiting for bank (macro: status Pending, P2, +bank, +refund)");
    expect(option.dataset.macro).toBe("true");
    fireEvent.change(picker, { target: { value: m.id } });
    expect((screen.getByTestId("composer-text") as HTMLTextAreaElement).value).toContain(detail.ticket.key!);
    const id = detail.ticket.id;
    // The tag the ticket has already is left out; the status comes last.
    await eventually(() =>
      expect(mock.callsTo("change").map((c) => c.args.mutation)).toEqual([
        { name: "ticket.set_priority", args: { ticket_id: id, priority: "P2" } },
        { name: "ticket.add_tag", args: { ticket_id: id, tag: "bank" } },
        { name: "ticket.set_status", args: { ticket_id: id, status: "pending", reason: null } },
      ]),
    );
  });

  it("stops at the Desk's refusal and shows it", async () => {
    const detail = recorded<TicketDetail>("ticket.plain");
    const m = macro();
    const mock = await open(detail, [m]);
    const refusal = new BackendError("forbidden", "agents may not change this");
    mock.on("change", refusal);
    fireEvent.change(screen.getByTestId("template-picker"), { target: { value: m.id } });
    await eventually(() => expect(screen.getByTestId("ticket-error").textContent).toBe(errorText(refusal)));
    expect(mock.callsTo("change")).toHaveLength(1);
  });

  it("a plain template changes nothing but the text", async () => {
    const detail = recorded<TicketDetail>("ticket.plain");
    const plain = recorded<Template[]>("templates").find((x) => x.language === "en")!;
    const mock = await open(detail, [plain]);
    fireEvent.change(screen.getByTestId("template-picker"), { target: { value: plain.id } });
    expect((screen.getByTestId("composer-text") as HTMLTextAreaElement).value).not.toBe("");
    await new Promise((r) => setTimeout(r, 20));
    expect(mock.callsTo("change")).toHaveLength(0);
    expect(macroMutations(plain, detail.ticket)).toEqual([]);
  });

  it("marks internal notes with the app's own icon, not an emoji", async () => {
    await open(recorded("ticket.plain"), []);
    const button = screen.getByTestId("composer-mode-note");
    expect(button.querySelector("svg")).not.toBeNull();
    expect(button.textContent).not.toMatch(/\p{Extended_Pictographic}/u);
  });
});
