import { describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { TicketPane } from "../TicketPane";
import { deskContext, eventually, mockBackend, renderInDesk } from "../../test/helpers";
import { BackendError, type AttachmentView, type TicketDetail } from "../../backend";
import { recorded } from "../../backend/mock";
import { errorText } from "../../lib/errors";
import type { FakeBackend } from "../../backend/mock";
import { guardFileDrops } from "./dropGuard";

const encoder = new TextEncoder();

function file(name: string, text: string, type = "application/pdf"): File {
  return new File([encoder.encode(text)], name, { type });
}

/** What the shell answers for a file it took: queued in the outbox with its bytes. */
function queuedView(ticketId: string, n: number, filename: string, size: number): AttachmentView {
  return {
    attachment_id: `01900000-0000-7000-8000-00000000a${String(n).padStart(3, "0")}`,
    entry_id: `01900000-0000-7000-8000-00000000e${String(n).padStart(3, "0")}`,
    ticket_id: ticketId,
    filename,
    mime: "application/pdf",
    size,
    sha256: "ab".repeat(32),
    state: "queued",
    sent_bytes: 0,
    reason: null,
  };
}

/** The fake shell's attachFile: answers each file queued, numbered in order. */
function acceptFiles(mock: FakeBackend): void {
  let n = 0;
  mock.on("attach_file", (args) => {
    n += 1;
    return queuedView(String(args.ticketId), n, String(args.filename), (args.body as Uint8Array).byteLength);
  });
}

async function open() {
  const detail = recorded<TicketDetail>("ticket.plain");
  const mock = mockBackend().on("ticket", detail);
  const ctx = await deskContext(mock);
  renderInDesk(ctx, () => <TicketPane ticketId={detail.ticket.id} />);
  await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(detail.ticket.key));
  return { mock, ctx, ticketId: detail.ticket.id };
}

function pick(files: File[]) {
  fireEvent.change(screen.getByTestId("attach-input"), { target: { files } });
}

const chips = () => screen.queryAllByTestId("upload-chip");
/** The `i`th chip (fails when there is none). */
function chip(i: number): HTMLElement {
  const c = chips()[i];
  if (!c) throw new Error(`no chip ${i}`);
  return c;
}
/** The arguments of the `i`th call to `cmd`. */
function argsOf(mock: FakeBackend, cmd: "attach_file" | "cancel_attachment", i: number): Record<string, unknown> {
  const call = mock.callsTo(cmd)[i];
  if (!call) throw new Error(`no call ${i} to ${cmd}`);
  return call.args;
}

describe("attachments in the composer", () => {
  it("sends each picked file's bytes to the shell, one call per file", async () => {
    const { mock, ticketId } = await open();
    acceptFiles(mock);
    const input = screen.getByTestId("attach-input") as HTMLInputElement;
    expect(input.type).toBe("file");
    expect(input.multiple).toBe(true);
    const readsBefore = mock.callsTo("ticket").length;

    pick([file("licence.pdf", "%PDF-1.7 licence"), file("statement.pdf", "%PDF-1.7 bank statement")]);

    await eventually(() => expect(mock.callsTo("attach_file")).toHaveLength(2));
    const calls = mock.callsTo("attach_file");
    expect(calls.map((c) => [c.args.ticketId, c.args.filename])).toEqual([
      [ticketId, "licence.pdf"],
      [ticketId, "statement.pdf"],
    ]);
    expect(new TextDecoder().decode(argsOf(mock, "attach_file", 0).body as Uint8Array)).toBe("%PDF-1.7 licence");
    expect(new TextDecoder().decode(argsOf(mock, "attach_file", 1).body as Uint8Array)).toBe("%PDF-1.7 bank statement");
    await eventually(() => expect(chips().map((c) => within(c).getByTestId("upload-name").textContent)).toEqual(["licence.pdf", "statement.pdf"]));
    // Offline or not, each waits in the outbox until the sync uploads it.
    await eventually(() => expect(chips().map((c) => within(c).getByTestId("upload-state").textContent)).toEqual(["Waiting to upload", "Waiting to upload"]));
    // Each attachment is an entry: the pane reads the ticket again to show it.
    await eventually(() => expect(mock.callsTo("ticket").length).toBeGreaterThanOrEqual(readsBefore + 2));
  });

  it("takes several files dropped on the composer", async () => {
    const { mock } = await open();
    acceptFiles(mock);
    const composer = screen.getByTestId("composer");
    const files = [file("scan-front.pdf", "front"), file("scan-back.pdf", "back")];
    fireEvent.dragEnter(composer, { dataTransfer: { types: ["Files"], files: [] } });
    expect(screen.getByTestId("drop-hint").textContent).toBe("Drop the files to attach them to this ticket");
    fireEvent.drop(composer, { dataTransfer: { types: ["Files"], files } });
    await eventually(() => expect(mock.callsTo("attach_file").map((c) => c.args.filename)).toEqual(["scan-front.pdf", "scan-back.pdf"]));
    expect(screen.queryByTestId("drop-hint")).toBeNull();
  });

  it("takes nothing from a file dropped outside the composer, and the window does not open it", async () => {
    const { mock } = await open();
    acceptFiles(mock);
    const unguard = guardFileDrops(window);
    try {
      const files = [file("stray.pdf", "stray")];
      const over = new Event("dragover", { bubbles: true, cancelable: true });
      Object.defineProperty(over, "dataTransfer", { value: { types: ["Files"], files, dropEffect: "copy" } });
      expect(screen.getByTestId("timeline").dispatchEvent(over)).toBe(false);
      expect((over as DragEvent).dataTransfer?.dropEffect).toBe("none");
      // fireEvent answers whether the default (opening the file) may happen.
      expect(fireEvent.drop(screen.getByTestId("timeline"), { dataTransfer: { types: ["Files"], files } })).toBe(false);
      expect(fireEvent.drop(screen.getByTestId("composer"), { dataTransfer: { types: ["Files"], files } })).toBe(false);
      await eventually(() => expect(mock.callsTo("attach_file").map((c) => c.args.filename)).toEqual(["stray.pdf"]));
      // Text dragged around the page keeps the browser's behaviour.
      expect(fireEvent.drop(screen.getByTestId("timeline"), { dataTransfer: { types: ["text/plain"], files: [] } })).toBe(true);
    } finally {
      unguard();
    }
  });

  it("moves the bar with the shell's progress events and lets go when the upload is done", async () => {
    const { mock, ctx, ticketId } = await open();
    acceptFiles(mock);
    pick([file("id-card.pdf", "x".repeat(1000))]);
    await eventually(() => expect(chips()).toHaveLength(1));
    await eventually(() => expect(within(chip(0)).getByTestId("upload-state").textContent).toBe("Waiting to upload"));
    const view = queuedView(ticketId, 1, "id-card.pdf", 1000);
    const progress = (sent: number, state: AttachmentView["state"]) =>
      ctx.emit({ kind: "attachment_progress", progress: { attachment_id: view.attachment_id, ticket_id: ticketId, sent_bytes: sent, size: 1000, state } });

    progress(400, "uploading");
    await eventually(() => expect(within(chip(0)).getByTestId("upload-state").textContent).toBe("Uploading 40 %"));
    const bar = within(chip(0)).getByTestId("upload-progress") as HTMLProgressElement;
    expect(Number(bar.getAttribute("max"))).toBe(1000);
    expect(Number(bar.getAttribute("value"))).toBe(400);
    // Another attachment's progress moves nothing here.
    ctx.emit({ kind: "attachment_progress", progress: { attachment_id: "01900000-0000-7000-8000-00000000ffff", ticket_id: ticketId, sent_bytes: 900, size: 1000, state: "uploading" } });
    progress(999, "uploading");
    await eventually(() => expect(within(chip(0)).getByTestId("upload-state").textContent).toBe("Uploading 99 %"));

    progress(1000, "uploaded");
    await eventually(() => expect(chips()).toHaveLength(0));
  });

  it("says why an upload failed, from the cache's view of it", async () => {
    const { mock, ctx, ticketId } = await open();
    acceptFiles(mock);
    pick([file("passport.pdf", "%PDF-1.7 passport")]);
    await eventually(() => expect(within(chip(0)).getByTestId("upload-state").textContent).toBe("Waiting to upload"));
    const view = queuedView(ticketId, 1, "passport.pdf", 17);
    const reason = "The server refused the file: passport.pdf is a PNG image, not a PDF document.";
    mock.on("attachments", [{ ...view, state: "failed", reason }]);
    ctx.emit({ kind: "attachment_progress", progress: { attachment_id: view.attachment_id, ticket_id: ticketId, sent_bytes: 0, size: 17, state: "failed" } });
    await eventually(() => expect(within(chip(0)).getByTestId("upload-state").textContent).toBe(`Upload failed: ${reason}`));
    expect(chip(0).dataset.phase).toBe("failed");
    expect(within(chip(0)).queryByTestId("upload-cancel")).toBeNull();
    fireEvent.click(within(chip(0)).getByTestId("upload-dismiss"));
    await eventually(() => expect(chips()).toHaveLength(0));
  });

  it("cancels an attachment the shell holds, and shows why when it cannot", async () => {
    const { mock, ticketId } = await open();
    acceptFiles(mock);
    pick([file("wrong.pdf", "oops"), file("also-wrong.pdf", "oops again")]);
    await eventually(() => expect(mock.callsTo("attach_file")).toHaveLength(2));
    await eventually(() => expect((within(chip(1)).getByTestId("upload-cancel") as HTMLButtonElement).disabled).toBe(false));

    mock.on("cancel_attachment", null);
    fireEvent.click(within(chip(0)).getByTestId("upload-cancel"));
    await eventually(() => expect(chips().map((c) => within(c).getByTestId("upload-name").textContent)).toEqual(["also-wrong.pdf"]));
    expect(argsOf(mock, "cancel_attachment", 0)).toEqual({ ticketId, attachmentId: queuedView(ticketId, 1, "", 0).attachment_id });

    const refusal = new BackendError("rejected", "it has reached the server already");
    mock.on("cancel_attachment", refusal);
    fireEvent.click(within(chip(0)).getByTestId("upload-cancel"));
    await eventually(() => expect(within(chip(0)).getByTestId("upload-error").textContent).toBe(errorText(refusal)));
    expect(argsOf(mock, "cancel_attachment", 1).attachmentId).toBe(queuedView(ticketId, 2, "", 0).attachment_id);
    expect(chips()).toHaveLength(1);
  });

  it("shows the shell's refusal on the file's chip and sends the next file", async () => {
    const { mock } = await open();
    const refusal = new BackendError("invalid", "invoice.pdf is a PNG image, not a PDF document. Rename it or attach the right file.");
    let n = 0;
    mock.on("attach_file", (args) => {
      n += 1;
      if (args.filename === "invoice.pdf") throw refusal;
      return queuedView(String(args.ticketId), n, String(args.filename), (args.body as Uint8Array).byteLength);
    });
    pick([file("invoice.pdf", "\x89PNG"), file("receipt.pdf", "%PDF-1.4")]);
    await eventually(() => expect(mock.callsTo("attach_file")).toHaveLength(2));
    const refused = await eventually(() => {
      const chip = chips().find((c) => c.dataset.phase === "refused");
      if (!chip) throw new Error("no refused chip yet");
      return chip;
    });
    expect(within(refused).getByTestId("upload-name").textContent).toBe("invoice.pdf");
    expect(within(refused).getByTestId("upload-error").textContent).toBe(errorText(refusal));
    expect(within(refused).getByTestId("upload-error").getAttribute("role")).toBe("alert");
    await eventually(() => expect(chips().find((c) => c.dataset.phase === "queued")).toBeDefined());

    fireEvent.click(within(refused).getByTestId("upload-dismiss"));
    await eventually(() => expect(chips().map((c) => within(c).getByTestId("upload-name").textContent)).toEqual(["receipt.pdf"]));
  });

  it("never shows a picked name's bidirectional overrides, and then shows the core's cleaned name", async () => {
    const { mock } = await open();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    mock.on("attach_file", async (args) => {
      await held;
      return queuedView(String(args.ticketId), 1, "_b_paid_b_ receipt gpj.pdf", (args.body as Uint8Array).byteLength);
    });
    pick([file("<b>paid<b> receipt \u202Egpj.pdf", "%PDF-1.4")]);
    await eventually(() => expect(chips()).toHaveLength(1));
    const shown = () => within(chip(0)).getByTestId("upload-name").textContent ?? "";
    expect(shown()).toBe("<b>paid<b> receipt gpj.pdf");
    expect(chip(0).querySelector("b")).toBeNull();
    release();
    await eventually(() => expect(shown()).toBe("_b_paid_b_ receipt gpj.pdf"));
  });

  it("draws the Attach button with the app's own icon, not an emoji", async () => {
    await open();
    const button = screen.getByTestId("attach-button");
    expect(button.querySelector("svg")).not.toBeNull();
    expect(button.textContent).not.toMatch(/\p{Extended_Pictographic}/u);
    expect(button.textContent?.trim()).toBe("Attach");
  });
});
