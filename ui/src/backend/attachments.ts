// The attachment commands (issue 16), written by hand until the command table's generated
// bindings (commands.gen.ts, ./types) carry them; then this file goes and the backends extend
// CommandBackend again. Names and shapes follow the shell's contract: snake_case DTO fields,
// camelCase arguments.
import { CommandBackend, type CommandName, type Transport } from "./commands.gen";
import type { DeskEvent, SavedFile } from "./types";

/**
 * Where an attachment's bytes are: waiting in the outbox (`queued`), going up (`uploading`),
 * in this cache (`uploaded`, `downloaded`), only on the server (`remote`), or given up
 * (`failed`, with a reason).
 */
export type AttachmentState = "queued" | "uploading" | "uploaded" | "downloaded" | "remote" | "failed";

/** One attachment of a ticket as this device has it. */
export type AttachmentView = {
  attachment_id: string;
  entry_id: string;
  ticket_id: string;
  filename: string;
  mime: string;
  size: number;
  sha256: string;
  state: AttachmentState;
  sent_bytes: number;
  /** Why it failed (`failed` only). */
  reason?: string | null;
};

/** The shell's `attachment-progress` event while an attachment uploads. */
export type AttachmentProgress = {
  attachment_id: string;
  ticket_id: string;
  sent_bytes: number;
  size: number;
  state: AttachmentState;
};

/** An image decoded and re-encoded as PNG by the shell (the page never decodes the file). */
export type ImagePreview = { width: number; height: number; png_base64: string };

/** The progress event as it arrives among the shell's events. */
export type AttachmentProgressEvent = { kind: "attachment_progress"; progress: AttachmentProgress };

/** The shell's events, attachment progress included. */
export type ShellEvent = DeskEvent | AttachmentProgressEvent;

/** The attachment commands, as the UI calls them. */
export interface AttachmentCommands {
  /** Attaches a file's bytes to a ticket (type-checked by the core first; queued like any change). */
  attachFile(ticketId: string, filename: string, bytes: Uint8Array): Promise<AttachmentView>;
  /** The ticket's attachments with where their bytes are. */
  attachments(ticketId: string): Promise<Array<AttachmentView>>;
  /** Withdraws an attachment not pushed yet; refused once it reached the server. */
  cancelAttachment(ticketId: string, attachmentId: string): Promise<void>;
  /** Downloads an attachment's bytes into the cache now (online only). */
  fetchAttachment(ticketId: string, attachmentId: string): Promise<AttachmentView>;
  /** Asks where to save (the shell's dialog) and writes the file; `null` when the user cancelled. */
  saveAttachment(ticketId: string, attachmentId: string): Promise<SavedFile | null>;
  /** An image attachment decoded by the shell and re-encoded as PNG (images only). */
  previewAttachment(ticketId: string, attachmentId: string): Promise<ImagePreview>;
}

declare module "./commands.gen" {
  // Every backend the app builds extends AttachmentCommandBackend (below).
  interface Backend extends AttachmentCommands {}
  interface CommandBackend extends AttachmentCommands {}
}

/** A transport that can also send raw bytes as a command's body (Tauri 2 `InvokeBody::Raw`). */
export interface RawTransport extends Transport {
  /** Runs `command` with `body` as its bytes and `args` beside them (headers on the wire). */
  raw<T>(command: CommandName, args: Record<string, string>, body: Uint8Array): Promise<T>;
}

/** The header a raw call's argument travels in: `ticketId` → `x-outpost-ticket-id`, value percent-encoded. */
export function rawHeaders(args: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(args)) {
    out[`x-outpost-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`] = encodeURIComponent(value);
  }
  return out;
}

/** The attachment commands' names, until the generated `CommandName` union has them. */
export const ATTACHMENT_COMMANDS = ["attach_file", "attachments", "cancel_attachment", "fetch_attachment", "save_attachment", "preview_attachment"] as const;
export type AttachmentCommandName = (typeof ATTACHMENT_COMMANDS)[number];

/** A command name for the transport (whose `CommandName` union is generated). */
const cmd = (name: AttachmentCommandName) => name as unknown as CommandName;
const ATTACH_FILE = cmd("attach_file");
const ATTACHMENTS = cmd("attachments");
const CANCEL_ATTACHMENT = cmd("cancel_attachment");
const FETCH_ATTACHMENT = cmd("fetch_attachment");
const SAVE_ATTACHMENT = cmd("save_attachment");
const PREVIEW_ATTACHMENT = cmd("preview_attachment");

/** The generated backend plus the attachment commands, over a transport that carries raw bodies. */
export class AttachmentCommandBackend extends CommandBackend {
  private readonly rawWire: RawTransport;

  constructor(transport: RawTransport) {
    super(transport);
    this.rawWire = transport;
  }

  attachFile(ticketId: string, filename: string, bytes: Uint8Array): Promise<AttachmentView> {
    return this.rawWire.raw<AttachmentView>(ATTACH_FILE, { ticketId, filename }, bytes);
  }

  attachments(ticketId: string): Promise<Array<AttachmentView>> {
    return this.rawWire.call<Array<AttachmentView>>(ATTACHMENTS, { ticketId });
  }

  async cancelAttachment(ticketId: string, attachmentId: string): Promise<void> {
    await this.rawWire.call<null>(CANCEL_ATTACHMENT, { ticketId, attachmentId });
  }

  fetchAttachment(ticketId: string, attachmentId: string): Promise<AttachmentView> {
    return this.rawWire.call<AttachmentView>(FETCH_ATTACHMENT, { ticketId, attachmentId });
  }

  saveAttachment(ticketId: string, attachmentId: string): Promise<SavedFile | null> {
    return this.rawWire.call<SavedFile | null>(SAVE_ATTACHMENT, { ticketId, attachmentId });
  }

  previewAttachment(ticketId: string, attachmentId: string): Promise<ImagePreview> {
    return this.rawWire.call<ImagePreview>(PREVIEW_ATTACHMENT, { ticketId, attachmentId });
  }
}
