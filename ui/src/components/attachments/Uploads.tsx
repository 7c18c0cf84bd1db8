// Files the agent attaches from the composer: each is read as bytes and handed to the shell
// (`attachFile`, which type-checks it with the core before storing anything), then followed by
// the shell's progress events until it has reached the server. One chip per file.
import { createSignal, For, Show } from "solid-js";
import type { AttachmentProgress, AttachmentState, AttachmentView } from "../../backend";
import { useDesk } from "../../state/app";
import { errorText } from "../../lib/errors";
import { t } from "../../i18n";
import { FileTypeIcon } from "../icons";
import { formatSize, stateText } from "./format";
import "./attachments.css";

/** A file on its way: read and sent to the shell, then uploading with the ticket's changes. */
export type Upload = {
  /** Local id of the chip (the attachment id is known only once the shell took the file). */
  key: number;
  ticketId: string;
  name: string;
  size: number;
  /** `waiting` for its turn, `adding` while the shell takes it, then the attachment's state. */
  phase: "waiting" | "adding" | "refused" | AttachmentState;
  attachmentId: string | null;
  mime: string;
  sent: number;
  error: string | null;
  cancelling: boolean;
};

let nextKey = 1;

/** The uploads of the composer: `add` files, follow progress, cancel. */
export function createUploads() {
  const desk = useDesk();
  const [uploads, setUploads] = createSignal<Upload[]>([]);
  /** Files are handed over one at a time: each may be 25 MiB of IPC. */
  let chain: Promise<void> = Promise.resolve();

  const patch = (key: number, change: Partial<Upload>) => setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...change } : u)));
  const remove = (key: number) => setUploads((list) => list.filter((u) => u.key !== key));

  const take = (upload: Upload, view: AttachmentView) => {
    if (view.state === "uploaded") {
      // Nothing left to follow: the timeline shows it from here.
      remove(upload.key);
      return;
    }
    patch(upload.key, { name: view.filename, phase: view.state, attachmentId: view.attachment_id, mime: view.mime, sent: view.sent_bytes, size: view.size, error: view.reason ?? null });
  };

  const send = async (upload: Upload, file: File, onAdded: () => void) => {
    patch(upload.key, { phase: "adding" });
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await file.arrayBuffer());
    } catch (e) {
      patch(upload.key, { phase: "refused", error: t("attachment.unreadable", { message: e instanceof Error ? e.message : String(e) }) });
      return;
    }
    try {
      const view = await desk.backend.attachFile(upload.ticketId, file.name, bytes);
      take(upload, view);
      onAdded();
    } catch (e) {
      patch(upload.key, { phase: "refused", error: errorText(e) });
    }
  };

  /** The event carries no reason: the cache's view of the attachment has it. */
  const explainFailure = async (upload: Upload) => {
    try {
      const view = (await desk.backend.attachments(upload.ticketId)).find((v) => v.attachment_id === upload.attachmentId);
      if (view?.reason) patch(upload.key, { error: view.reason });
    } catch {
      // The chip says that the upload failed; the timeline row shows the reason when it can.
    }
  };

  desk.onAttachmentProgress((p: AttachmentProgress) => {
    const upload = uploads().find((u) => u.attachmentId === p.attachment_id);
    if (!upload) return;
    if (p.state === "uploaded") remove(upload.key);
    else patch(upload.key, { phase: p.state, sent: p.sent_bytes, size: p.size });
    if (p.state === "failed") void explainFailure(upload);
  });

  return {
    uploads,
    /** Attaches every file to the ticket, in order; `onAdded` after each one the shell took. */
    add(ticketId: string, files: File[], onAdded: () => void) {
      for (const file of files) {
        const upload: Upload = {
          key: nextKey++,
          ticketId,
          // Until the shell has taken the file (and the core has cleaned its name), the chip shows
          // the picked name without bidirectional controls, so "\u202Egpj.pdf" cannot pose as a JPEG.
          name: file.name.replace(/\p{Bidi_Control}/gu, ""),
          size: file.size,
          phase: "waiting",
          attachmentId: null,
          mime: file.type,
          sent: 0,
          error: null,
          cancelling: false,
        };
        setUploads((list) => [...list, upload]);
        chain = chain.then(() => send(upload, file, onAdded));
      }
    },
    /** Withdraws an attachment the shell holds but has not pushed; a refusal stays on its chip. */
    async cancel(upload: Upload, onCancelled: () => void) {
      if (!upload.attachmentId) return;
      patch(upload.key, { cancelling: true, error: null });
      try {
        await desk.backend.cancelAttachment(upload.ticketId, upload.attachmentId);
        remove(upload.key);
        onCancelled();
      } catch (e) {
        patch(upload.key, { cancelling: false, error: errorText(e) });
      }
    },
    dismiss: remove,
  };
}

function phaseText(u: Upload, offline: boolean): string {
  switch (u.phase) {
    case "waiting":
      return t("attachment.waiting_turn");
    case "adding":
      return t("attachment.adding");
    case "refused":
      return "";
    default:
      return stateText(u.phase, u.sent, u.size, offline, u.error);
  }
}

/** The chips of a ticket's uploads: name, size, progress, cancel; a refusal in words. */
export function UploadChips(props: { uploads: Upload[]; offline: boolean; onCancel: (u: Upload) => void; onDismiss: (u: Upload) => void }) {
  return (
    <Show when={props.uploads.length > 0}>
      <ul class="upload-chips" data-testid="upload-chips" aria-label={t("attachment.chips")}>
        <For each={props.uploads}>
          {(u) => (
            <li class="upload-chip" data-testid="upload-chip" data-phase={u.phase} classList={{ refused: u.phase === "refused" || u.phase === "failed" }}>
              <FileTypeIcon mime={u.mime} />
              <span class="upload-name" data-testid="upload-name" title={u.name}>
                {u.name}
              </span>
              <span class="upload-size">{formatSize(u.size)}</span>
              <Show when={u.phase !== "refused"}>
                <span class="upload-state" data-testid="upload-state">
                  {phaseText(u, props.offline)}
                </span>
              </Show>
              <Show when={u.phase === "uploading" || u.phase === "queued"}>
                <progress
                  class="upload-progress"
                  data-testid="upload-progress"
                  max={Math.max(u.size, 1)}
                  value={u.sent}
                  aria-label={t("attachment.progress", { name: u.name })}
                />
              </Show>
              <Show when={u.error && u.phase !== "failed"}>
                <span class="error upload-error" role="alert" data-testid="upload-error">
                  {u.error}
                </span>
              </Show>
              <Show
                when={u.phase === "refused" || u.phase === "failed"}
                fallback={
                  <button
                    type="button"
                    class="icon upload-cancel"
                    data-testid="upload-cancel"
                    aria-label={t("attachment.cancel", { name: u.name })}
                    title={t("attachment.cancel", { name: u.name })}
                    disabled={!u.attachmentId || u.cancelling}
                    onClick={() => props.onCancel(u)}
                  >
                    ×
                  </button>
                }
              >
                <button
                  type="button"
                  class="icon upload-dismiss"
                  data-testid="upload-dismiss"
                  aria-label={t("attachment.dismiss", { name: u.name })}
                  title={t("attachment.dismiss", { name: u.name })}
                  onClick={() => props.onDismiss(u)}
                >
                  ×
                </button>
              </Show>
            </li>
          )}
        </For>
      </ul>
    </Show>
  );
}
