import { describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { TicketPane } from "../TicketPane";
import { deskContext, eventually, mockBackend, renderInDesk } from "../../test/helpers";
import { BackendError, type AttachmentView, type Entry, type SyncStatus, type TicketDetail } from "../../backend";
import { recorded, type FakeBackend } from "../../backend/mock";
import type { CommandName } from "../../backend/commands.gen";
import { errorText } from "../../lib/errors";

const PDF = "01900000-0000-7000-8000-0000000000a1";
const PNG = "01900000-0000-7000-8000-0000000000a2";

function attachmentEntry(ticketId: string, attachmentId: string, filename: string, mime: string, size: number, at: string): Entry {
  return {
    id: attachmentId.replace("a", "e"),
    ticket_id: ticketId,
    author: null,
    body: { kind: "attachment", attachment_id: attachmentId, filename, mime, size, sha256: "cd".repeat(32) },
    created_at: at,
  };
}

function view(entry: Entry, state: AttachmentView["state"]): AttachmentView {
  if (entry.body.kind !== "attachment") throw new Error("not an attachment entry");
  const b = entry.body;
  return { attachment_id: b.attachment_id, entry_id: entry.id, ticket_id: entry.ticket_id, filename: b.filename, mime: b.mime, size: b.size, sha256: b.sha256, state, sent_bytes: 0, reason: null };
}

function withStatus(state: "online" | "offline"): SyncStatus {
  const status = recorded<SyncStatus>("sync_status.offline");
  status.connectivity = state === "online" ? { state, last_sync: "2026-12-07T10:00:00Z" } : { state, reason: "no network", retry_at: "2026-12-07T10:05:00Z" };
  return status;
}

/** The plain ticket with a customer's PDF and an agent's PNG, the cache holding them as `states`. */
async function open(states: [AttachmentView["state"], AttachmentView["state"]], connectivity: "online" | "offline") {
  const detail = recorded<TicketDetail>("ticket.plain");
  const id = detail.ticket.id;
  const pdf = attachmentEntry(id, PDF, "bank-statement.pdf", "application/pdf", 2_411_724, "2026-12-07T09:00:00Z");
  const png = attachmentEntry(id, PNG, "login-error.png", "image/png", 84_213, "2026-12-07T09:01:00Z");
  detail.entries.push(pdf, png);
  const mock = mockBackend()
    .on("ticket", detail)
    .on("sync_status", withStatus(connectivity))
    .on("attachments", [view(pdf, states[0]), view(png, states[1])]);
  const ctx = await deskContext(mock);
  renderInDesk(ctx, () => <TicketPane ticketId={id} />);
  await eventually(() => expect(rows()).toHaveLength(2));
  await eventually(() => expect(screen.getAllByTestId("attachment-state")).toHaveLength(2));
  return { mock, ctx, detail, id };
}

const rows = () => screen.queryAllByTestId("attachment-row");
/** The arguments of the first call to `cmd`. */
function firstArgs(mock: FakeBackend, cmd: CommandName): Record<string, unknown> {
  const call = mock.callsTo(cmd)[0];
  if (!call) throw new Error(`no call to ${cmd}`);
  return call.args;
}
const row = (name: string) => rows().find((r) => r.textContent?.includes(name))!;
const stateOf = (name: string) => within(row(name)).getByTestId("attachment-state").textContent;

describe("attachments in the timeline", () => {
  it("names each file with the app's type icon, its size and where its bytes are", async () => {
    const { mock, id } = await open(["remote", "uploaded"], "online");
    expect(firstArgs(mock, "attachments")).toEqual({ ticketId: id });
    const pdf = row("bank-statement.pdf");
    expect(pdf.textContent).toContain("2.3 MB");
    expect(row("login-error.png").textContent).toContain("82 KB");
    expect(within(pdf).getByRole("img").getAttribute("aria-label")).toBe("PDF document");
    expect(within(row("login-error.png")).getByRole("img").getAttribute("aria-label")).toBe("Image");
    for (const r of rows()) expect(r.textContent).not.toMatch(/\p{Extended_Pictographic}/u);
    expect(stateOf("bank-statement.pdf")).toBe("On the server");
    expect(stateOf("login-error.png")).toBe("Uploaded");
  });

  it("says a remote file is not downloaded yet while offline, and cannot fetch it", async () => {
    await open(["remote", "downloaded"], "offline");
    expect(stateOf("bank-statement.pdf")).toBe("Not downloaded yet");
    expect((within(row("bank-statement.pdf")).getByTestId("attachment-download") as HTMLButtonElement).disabled).toBe(true);
    expect(within(row("bank-statement.pdf")).getByTestId("attachment-offline").textContent).toBe("Connect to the server to download it.");
    // Nothing to save or preview before the bytes are here.
    expect(within(row("bank-statement.pdf")).queryByTestId("attachment-save")).toBeNull();
    expect(stateOf("login-error.png")).toBe("Downloaded");
  });

  it("downloads a remote file on demand, then offers Save…", async () => {
    const { mock, detail } = await open(["remote", "downloaded"], "online");
    const pdf = detail.entries.find((e) => e.id === PDF.replace("a", "e"))!;
    mock.on("fetch_attachment", view(pdf, "downloaded"));
    fireEvent.click(within(row("bank-statement.pdf")).getByTestId("attachment-download"));
    await eventually(() => expect(stateOf("bank-statement.pdf")).toBe("Downloaded"));
    expect(firstArgs(mock, "fetch_attachment")).toEqual({ ticketId: detail.ticket.id, attachmentId: PDF });
    expect(within(row("bank-statement.pdf")).queryByTestId("attachment-download")).toBeNull();

    mock.on("save_attachment", { path: "/home/agent/Documents/bank-statement.pdf", bytes: 2_411_724 });
    fireEvent.click(within(row("bank-statement.pdf")).getByTestId("attachment-save"));
    await eventually(() => expect(within(row("bank-statement.pdf")).getByTestId("attachment-saved").textContent).toBe("Saved to /home/agent/Documents/bank-statement.pdf"));
  });

  it("shows a failed download's reason on the row", async () => {
    const { mock } = await open(["remote", "downloaded"], "online");
    const refusal = new BackendError("offline", "connection refused");
    mock.on("fetch_attachment", refusal);
    fireEvent.click(within(row("bank-statement.pdf")).getByTestId("attachment-download"));
    await eventually(() => expect(within(row("bank-statement.pdf")).getByTestId("attachment-error").textContent).toBe(errorText(refusal)));
    expect(stateOf("bank-statement.pdf")).toBe("On the server");
  });

  it("offers Preview for images only and draws the shell's PNG in a dialog", async () => {
    const { mock, id } = await open(["downloaded", "downloaded"], "online");
    expect(within(row("bank-statement.pdf")).queryByTestId("attachment-preview")).toBeNull();
    expect(within(row("bank-statement.pdf")).getByTestId("attachment-save")).toBeTruthy();
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==";
    mock.on("preview_attachment", { width: 1, height: 1, png_base64: png });
    fireEvent.click(within(row("login-error.png")).getByTestId("attachment-preview"));
    const image = await eventually(() => screen.getByTestId("attachment-preview-image") as HTMLImageElement);
    expect(firstArgs(mock, "preview_attachment")).toEqual({ ticketId: id, attachmentId: PNG });
    expect(image.getAttribute("src")).toBe(`data:image/png;base64,${png}`);
    expect(image.getAttribute("alt")).toBe("login-error.png");
    expect(screen.getByTestId("attachment-preview-dialog").getAttribute("aria-label")).toBe("Preview: login-error.png");
    fireEvent.keyDown(document, { key: "Escape" });
    await eventually(() => expect(screen.queryByTestId("attachment-preview-dialog")).toBeNull());
  });

  it("follows an upload's progress on its row", async () => {
    const { ctx, id } = await open(["queued", "uploaded"], "offline");
    expect(stateOf("bank-statement.pdf")).toBe("Waiting to upload");
    ctx.emit({ kind: "attachment_progress", progress: { attachment_id: PDF, ticket_id: id, sent_bytes: 964_690, size: 2_411_724, state: "uploading" } });
    await eventually(() => expect(stateOf("bank-statement.pdf")).toBe("Uploading 40 %"));
  });

  it("shows a redacted attachment as redacted, with no name and nothing to open", async () => {
    const detail = recorded<TicketDetail>("ticket.plain");
    const id = detail.ticket.id;
    detail.entries.push({
      id: "01900000-0000-7000-8000-0000000000e9",
      ticket_id: id,
      author: null,
      body: { kind: "redacted", original: "attachment", reason: "ID scan sent to the wrong ticket", by: null, at: "2026-12-07T09:30:00Z", removed_sha256: "ef".repeat(32) },
      created_at: "2026-12-07T09:00:00Z",
    });
    const mock = mockBackend().on("ticket", detail);
    renderInDesk(await deskContext(mock), () => <TicketPane ticketId={id} />);
    const redacted = await eventually(() => screen.getByTestId("redacted-attachment"));
    expect(redacted.textContent).toContain("File removed");
    expect(redacted.querySelector("svg")).not.toBeNull();
    const entry = redacted.closest("[data-testid=timeline-entry]")!;
    expect(entry.getAttribute("data-kind")).toBe("redacted");
    expect(entry.textContent).toContain("ID scan sent to the wrong ticket");
    expect(rows()).toHaveLength(0);
    expect(entry.querySelectorAll("button:not([data-testid=redact-button])")).toHaveLength(0);
    // A timeline without attachments asks the cache nothing about them.
    expect(mock.callsTo("attachments")).toHaveLength(0);
  });

  it("draws no emoji anywhere in the timeline (a note's lock is the app's icon)", async () => {
    const detail = recorded<TicketDetail>("ticket.plain.after_note");
    renderInDesk(await deskContext(mockBackend().on("ticket", detail)), () => <TicketPane ticketId={detail.ticket.id} />);
    const note = await eventually(() => {
      const found = screen.getAllByTestId("timeline-entry").find((e) => e.dataset.kind === "note");
      if (!found) throw new Error("no note yet");
      return found;
    });
    expect(note.querySelector(".entry-author svg")).not.toBeNull();
    expect(screen.getByTestId("timeline").textContent).not.toMatch(/\p{Extended_Pictographic}/u);
  });

  it("reads in Chinese", async () => {
    const { setLang } = await import("../../i18n");
    setLang("zh-CN");
    await open(["remote", "uploading"], "offline");
    expect(stateOf("bank-statement.pdf")).toBe("尚未下载");
    expect(within(row("bank-statement.pdf")).getByTestId("attachment-download").textContent).toBe("下载");
    expect(stateOf("login-error.png")).toBe("正在上传 0%");
  });
});
